use time::macros::date;

use super::*;
use crate::scope::{AuditPeriod, ReportType, Scope};

fn scope() -> Scope {
    Scope {
        report_type: ReportType::Type2,
        categories: [
            evident_catalog::Category::Security,
            evident_catalog::Category::Availability,
        ]
        .into_iter()
        .collect(),
        period: AuditPeriod::Window {
            from: date!(2026 - 01 - 01),
            to: date!(2026 - 12 - 31),
        },
    }
}

fn input() -> Input {
    Input {
        organisation: "Brightwave".into(),
        scope: Some(scope()),
        components: vec![crate::oscal::SystemComponent {
            kind: "infrastructure".into(),
            name: "AWS eu-west-1".into(),
            in_scope: true,
            reason: "Hosts production".into(),
        }],
        assets: vec![
            AssetLine {
                name: "prod-db".into(),
                kind: "data_store".into(),
                classification: "restricted".into(),
                in_scope: true,
            },
            AssetLine {
                name: "laptop-1".into(),
                kind: "hardware".into(),
                classification: "internal".into(),
                in_scope: true,
            },
        ],
        departments: vec![("Engineering".into(), 12), ("Sales & Ops".into(), 3)],
        employment: vec![("employee".into(), 14), ("contractor".into(), 1)],
        policies: vec![PolicyLine {
            id: "access-control".into(),
            title: "Access control policy".into(),
            version: 2,
            published_on: date!(2026 - 02 - 01),
        }],
        events: vec![
            EventLine {
                id: "INC-1".into(),
                kind: "incident".into(),
                title: "Leaked token".into(),
                date: date!(2026 - 03 - 04),
                summary: Some("A deploy token was pushed to a public gist.".into()),
                outcome: Some("Revoked within 40 minutes.".into()),
            },
            EventLine {
                id: "INC-0".into(),
                kind: "incident".into(),
                title: "Before the window".into(),
                date: date!(2025 - 11 - 04),
                summary: None,
                outcome: None,
            },
        ],
        controls: vec![
            ControlLine {
                code: "ACC-01".into(),
                title: "Single sign-on".into(),
                criteria: vec!["CC6.1".into()],
                na_reason: None,
            },
            ControlLine {
                code: "PHY-01".into(),
                title: "Office badges".into(),
                criteria: vec!["CC6.4".into()],
                na_reason: Some("no offices; production is in the cloud".into()),
            },
        ],
        vendors: vec![
            VendorLine {
                name: "Cloudly".into(),
                service: Some("Cloud hosting".into()),
                tier: "critical".into(),
                data_categories: vec![],
                cuecs: vec!["Restrict console access".into()],
                subservice: Some("carve_out".into()),
                dependent_criteria: vec!["CC6.4".into(), "A1.2".into()],
                csocs: vec!["Data centre entry is badge-controlled".into()],
                report_period_end: Some(date!(2026 - 06 - 30)),
            },
            VendorLine {
                name: "Mailo".into(),
                service: Some("Email".into()),
                tier: "critical".into(),
                data_categories: vec![],
                cuecs: vec![],
                subservice: None,
                dependent_criteria: vec![],
                csocs: vec![],
                report_period_end: None,
            },
        ],
        changes: vec![ChangeLine {
            seq: 7,
            at: date!(2026 - 05 - 01),
            actor: "cli:ana".into(),
            action: "scope.component.add".into(),
            subject: "audit:1".into(),
            payload: serde_json::json!({"kind": "software", "name": "Billing", "in_scope": true}),
        }],
        narratives: vec![Narrative {
            part: "services".into(),
            version: 3,
            text: "Brightwave runs payroll for dentists.".into(),
            author: "ana@brightwave.example".into(),
            written_at: "2026-04-01T10:00:00Z".into(),
        }],
    }
}

fn statement<'a>(d: &'a Description, key: &str) -> &'a Statement {
    d.statements()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no statement {key}"))
}

#[test]
fn every_statement_names_its_source_and_the_nine_points_are_there() {
    let d = describe(&input());
    let points: std::collections::BTreeSet<u8> = d.parts.iter().map(|p| p.point).collect();
    assert_eq!(points.into_iter().collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    for s in d.statements() {
        assert!(!s.sources.is_empty(), "{} has no source", s.key);
        for src in &s.sources {
            assert!(src.href().starts_with('/'), "{:?}", src);
        }
    }
    assert_eq!(
        d.report.as_deref(),
        Some("SOC 2 Type 2 for the period 2026-01-01 to 2026-12-31")
    );
    let services = statement(&d, "narrative:services");
    assert_eq!(services.kind, StatementKind::Narrative);
    assert_eq!(services.text, "Brightwave runs payroll for dentists.");
    assert_eq!(statement(&d, "narrative:commitments").kind, StatementKind::Missing);
}

#[test]
fn facts_come_from_the_records() {
    let d = describe(&input());
    assert!(statement(&d, "asset:prod-db").text.contains("restricted"));
    assert_eq!(statement(&d, "asset:prod-db").sources[0].href(), "/assets/prod-db");
    // Hardware is counted, not named.
    assert!(d.statements().all(|s| s.key != "asset:laptop-1"));
    assert!(statement(&d, "assets:hardware").text.starts_with("1 hardware asset"));
    let dept = statement(&d, "department:Sales & Ops");
    assert_eq!(dept.sources[0].href(), "/people?department=Sales%20%26%20Ops");
    assert!(
        statement(&d, "people:total")
            .text
            .contains("14 employees and 1 contractor")
    );
    // Only the window's incidents, with their disposition.
    let inc = statement(&d, "event:INC-1");
    assert!(
        inc.text.contains("Disposition: Revoked within 40 minutes."),
        "{}",
        inc.text
    );
    assert!(d.statements().all(|s| s.key != "event:INC-0"));
    assert!(statement(&d, "criterion:CC6.1").text.contains("ACC-01 Single sign-on"));
    // CC6.4's only control is ruled out: not relevant, with the reason.
    assert!(d.statements().all(|s| s.key != "criterion:CC6.4"));
    assert!(statement(&d, "not-relevant:CC6.4").text.contains("no offices"));
    assert!(statement(&d, "category:confidentiality").text.contains("C1.1"));
    let cloud = statement(&d, "vendor:Cloudly");
    assert!(
        cloud.text.contains("carve-out") && cloud.text.contains("CC6.4, A1.2"),
        "{}",
        cloud.text
    );
    assert!(cloud.text.contains("badge-controlled"));
    assert_eq!(statement(&d, "vendor:Mailo").kind, StatementKind::Missing);
    assert!(
        statement(&d, "vendor-cuecs:Cloudly")
            .text
            .contains("Restrict console access")
    );
    assert_eq!(
        statement(&d, "change:7").text,
        "2026-05-01: software component 'Billing' added to the system (by cli:ana)."
    );
}

#[test]
fn drift_names_what_changed_since_approval() {
    let approved = describe(&input());
    assert!(drift(&approved, &approved).is_empty());
    let mut today = input();
    today.assets[0].classification = "confidential".into();
    today.components.push(crate::oscal::SystemComponent {
        kind: "software".into(),
        name: "Billing".into(),
        in_scope: true,
        reason: "Bills customers".into(),
    });
    today.vendors.remove(1);
    let d = drift(&approved, &describe(&today));
    let find = |key: &str| {
        d.iter()
            .find(|x| x.key == key)
            .unwrap_or_else(|| panic!("{key}: {d:?}"))
    };
    let asset = find("asset:prod-db");
    assert_eq!(asset.kind, DriftKind::Changed);
    assert_eq!(asset.approved.as_deref(), Some("prod-db (restricted)."));
    assert_eq!(asset.today.as_deref(), Some("prod-db (confidential)."));
    assert_eq!(find("component:software:Billing").kind, DriftKind::Added);
    assert_eq!(find("vendor:Mailo").kind, DriftKind::Removed);
    let mut other_period = input();
    other_period.scope = Some(Scope {
        period: AuditPeriod::Window {
            from: date!(2026 - 02 - 01),
            to: date!(2026 - 12 - 31),
        },
        ..scope()
    });
    assert_eq!(drift(&approved, &describe(&other_period))[0].key, "report");
}

#[test]
fn the_assertion_follows_the_report_type_and_the_carve_outs() {
    let d = describe(&input());
    let a = assertion::draft(&d, &scope());
    let text = a.text();
    assert!(
        text.contains("throughout the period 2026-01-01 to 2026-12-31"),
        "{text}"
    );
    assert!(text.contains("operated effectively"));
    assert!(text.contains("relies on Cloudly"));
    let type1 = Scope {
        report_type: ReportType::Type1,
        period: AuditPeriod::AsOf(date!(2026 - 06 - 30)),
        ..scope()
    };
    let t1 = assertion::draft(&d, &type1).text();
    assert!(
        t1.contains("as of 2026-06-30") && !t1.contains("operated effectively throughout"),
        "{t1}"
    );
}

#[test]
fn without_a_scope_the_description_says_what_is_missing() {
    let mut i = input();
    i.scope = None;
    let d = describe(&i);
    assert_eq!(d.report, None);
    assert_eq!(statement(&d, "scope:categories").kind, StatementKind::Missing);
    assert_eq!(statement(&d, "changes").kind, StatementKind::Missing);
}
