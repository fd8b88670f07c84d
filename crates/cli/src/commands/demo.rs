//! A demonstration program: a made-up company with its scope chosen and owners assigned, so a
//! first-time visitor sees a working program instead of an empty one.

use std::path::Path;

use evident_catalog::{Catalog, OwnerRole};
use evident_core::registers::PEOPLE;
use evident_core::{ComponentKind, ReportType, Scope, add_months, parse_categories};
use evident_store::{ComponentRecord, InitOptions, Workspace};
use serde_json::json;
use time::OffsetDateTime;

use super::controls::summaries;
use super::scope::{describe_scope, scope_json};
use crate::error::CliError;
use crate::output::{self, Format, Table};

pub const DEFAULT_DIR: &str = "evident-demo";

const COMPONENTS: &[(ComponentKind, &str, bool, &str)] = &[
    (
        ComponentKind::Infrastructure,
        "AWS production account (eu-west-1)",
        true,
        "Hosts the customer-facing service and its data",
    ),
    (
        ComponentKind::Software,
        "Acme Cloud web application and API",
        true,
        "The service the report describes",
    ),
    (
        ComponentKind::People,
        "Engineering, IT, support and security staff",
        true,
        "Build, run and support the service",
    ),
    (
        ComponentKind::Procedures,
        "Change, incident and access management",
        true,
        "Govern how the service is changed and operated",
    ),
    (
        ComponentKind::Data,
        "Customer account and usage data",
        true,
        "Processed on behalf of customers",
    ),
    (
        ComponentKind::Software,
        "Marketing website",
        false,
        "Static site with no customer data, hosted separately",
    ),
];

const DEMO_PEOPLE: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "dana.okafor@acme.example",
        "Dana Okafor",
        "Head of Security",
        "lee.tanaka@acme.example",
        "2023-02-01",
        "",
    ),
    ("lee.tanaka@acme.example", "Lee Tanaka", "CTO", "", "2021-06-01", ""),
    (
        "sam.rivera@acme.example",
        "Sam Rivera",
        "Infrastructure Lead",
        "lee.tanaka@acme.example",
        "2022-03-14",
        "",
    ),
    (
        "priya.nair@acme.example",
        "Priya Nair",
        "IT Manager",
        "lee.tanaka@acme.example",
        "2022-09-05",
        "",
    ),
    (
        "jo.mensah@acme.example",
        "Jo Mensah",
        "People Lead",
        "lee.tanaka@acme.example",
        "2023-01-09",
        "",
    ),
    (
        "alex.kim@acme.example",
        "Alex Kim",
        "Software Engineer",
        "lee.tanaka@acme.example",
        "2024-04-02",
        "2026-09-30",
    ),
];

fn demo_owner(role: OwnerRole) -> Option<&'static str> {
    match role {
        OwnerRole::Security | OwnerRole::Compliance => Some("dana.okafor@acme.example"),
        OwnerRole::Engineering => Some("lee.tanaka@acme.example"),
        OwnerRole::Infrastructure => Some("sam.rivera@acme.example"),
        OwnerRole::It => Some("priya.nair@acme.example"),
        OwnerRole::Hr => Some("jo.mensah@acme.example"),
        // Left unassigned on purpose: a real program has gaps to find.
        _ => None,
    }
}

async fn create(dir: &Path) -> Result<Workspace, CliError> {
    let ws = Workspace::init(
        dir,
        InitOptions {
            organisation: "Acme Cloud (demo)".into(),
        },
        &super::actor(),
    )
    .await?;
    let today = OffsetDateTime::now_utc().date();
    let from = add_months(today.replace_day(1).expect("day 1 exists"), 3);
    let to = add_months(from, 6).previous_day().expect("a real date");
    let (categories, _) = parse_categories("security,availability,confidentiality").expect("known categories");
    let (scope, _) = Scope::new(ReportType::Type2, categories, None, Some((from, to))).expect("a valid window");
    ws.set_scope(&scope).await?;
    for (kind, name, in_scope, reason) in COMPONENTS {
        ws.add_component(&ComponentRecord {
            kind: *kind,
            name: (*name).into(),
            in_scope: *in_scope,
            reason: (*reason).into(),
        })
        .await?;
    }
    for c in ws.controls().await? {
        if let Some(owner) = demo_owner(c.owner_role) {
            ws.set_control_owner(&c.code, Some(owner)).await?;
        }
    }
    // A small company: people, the policy suite (some published), the risk library.
    let mut people = Vec::new();
    for (email, name, title, manager, start, end) in DEMO_PEOPLE {
        let row: std::collections::HashMap<String, String> = [
            ("email", *email),
            ("name", *name),
            ("title", *title),
            ("manager_email", *manager),
            ("employment_type", "employee"),
            ("start_date", *start),
            ("end_date", *end),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        people.push((0, row));
    }
    let known = ws.known(today).await?;
    let valid = evident_core::register::validate(&PEOPLE, &people, &known);
    debug_assert!(valid.errors.is_empty(), "{:?}", valid.errors);
    let records: Vec<_> = valid.records.into_iter().map(|(_, r)| r).collect();
    ws.write_records(&PEOPLE, &records, "people.import", json!({"source": "demo"}))
        .await?;
    ws.set_role("security_officer", "Dana Okafor (Head of Security)")
        .await?;
    ws.set_role("cto", "Lee Tanaka (CTO)").await?;
    let templates: Vec<_> = evident_store::policy_templates().iter().collect();
    ws.adopt_policies(&templates).await?;
    for p in [
        "information-security",
        "acceptable-use",
        "access-control",
        "vulnerability-management",
    ] {
        ws.approve_policy(p).await?;
        ws.publish_policy(p).await?;
    }
    for email in [
        "dana.okafor@acme.example",
        "lee.tanaka@acme.example",
        "sam.rivera@acme.example",
    ] {
        ws.accept_policy("information-security", email, None).await?;
    }
    let risks: Vec<_> = evident_catalog::Catalog::builtin()
        .risks
        .iter()
        .map(super::risks::template_record)
        .collect();
    ws.write_records(
        &evident_core::registers::RISKS,
        &risks,
        "risks.adopt",
        json!({"source": "demo"}),
    )
    .await?;
    ws.sign_off_risk("RL-01").await?;
    add_demo_evidence(&ws, today).await?;
    Ok(ws)
}

/// (file, title, control, days before today it attests to, contents)
const DEMO_EVIDENCE: &[(&str, &str, &str, i64, &str)] = &[
    (
        "access-review-q3.csv",
        "Q3 user access review",
        "ACC-08",
        40,
        "system,user,decision,reviewer\naws-prod,alex.kim@acme.example,remove,sam.rivera@acme.example\n",
    ),
    (
        "idp-mfa-policy.json",
        "Identity provider MFA enforcement setting",
        "ACC-02",
        200,
        "{\"policy\": \"MFA required\", \"scope\": \"all users\"}\n",
    ),
    (
        "restore-test-2026-10.md",
        "October restore test",
        "BCP-03",
        25,
        "# Restore test\nRestored prod-db snapshot in 41 minutes.\n",
    ),
];

async fn add_demo_evidence(ws: &Workspace, today: time::Date) -> Result<(), CliError> {
    let dir = ws.dir.join("demo-files");
    std::fs::create_dir_all(&dir)?;
    for (file, title, control, days_ago, contents) in DEMO_EVIDENCE {
        let path = dir.join(file);
        std::fs::write(&path, contents)?;
        let new = evident_store::NewEvidence {
            file: &path,
            title: title.to_string(),
            media_type: mime_guess::from_path(&path)
                .first_or_octet_stream()
                .essence_str()
                .to_string(),
            controls: vec![(control.to_string(), None)],
            effective_date: Some(evident_core::format_date(today - time::Duration::days(*days_ago))),
            period: None,
            source_kind: "person",
            source_ref: ws.actor.clone(),
        };
        ws.add_evidence(new, None).await?;
    }
    Ok(())
}

pub async fn run(dir: &Path, format: Format) -> Result<(), CliError> {
    let fresh = !Workspace::config_path(dir).is_file();
    let ws = if fresh {
        create(dir).await?
    } else {
        super::open(dir).await?
    };
    let record = ws.scope().await?;
    let controls = summaries(&ws).await?;
    let fw = &Catalog::builtin().framework;
    let in_scope = record.scope.as_ref().map(|s| s.categories.clone()).unwrap_or_default();
    let applicable: Vec<_> = controls.iter().filter(|c| c.applicability.applicable).collect();
    let unowned = applicable.iter().filter(|c| c.owner.is_none()).count();

    let mut categories = Vec::new();
    for cat in &in_scope {
        let criteria: Vec<_> = fw.criteria.iter().filter(|c| c.category == *cat).collect();
        let mapped = criteria
            .iter()
            .filter(|k| applicable.iter().any(|c| c.criteria.contains(&k.id)))
            .count();
        categories.push(json!({"category": cat, "criteria": criteria.len(), "with_controls": mapped}));
    }

    let people = ws.records(&PEOPLE).await?.len();
    let policies = ws.policies().await?;
    let published = policies.iter().filter(|p| p.published().is_some()).count();
    let risks = ws.records(&evident_core::registers::RISKS).await?.len();
    let evidence = ws.evidence().await?.len();
    match format {
        Format::Json => output::json(&json!({
            "workspace": ws.dir,
            "organisation": ws.organisation,
            "created": fresh,
            "scope": scope_json(&record),
            "controls": {"total": controls.len(), "applicable": applicable.len(), "without_owner": unowned},
            "categories": categories,
            "people": people,
            "policies": {"total": policies.len(), "published": published},
            "risks": risks,
            "evidence": evidence,
        })),
        Format::Table => {
            let verb = if fresh { "Created" } else { "Opened" };
            println!(
                "{verb} the demo workspace {} ({}).\n",
                ws.dir.display(),
                ws.organisation
            );
            if let Some(s) = &record.scope {
                println!("Scope: {}.", describe_scope(s));
            }
            println!(
                "Controls: {} in the program, {} apply to this scope, {} of those have no owner yet.\n",
                controls.len(),
                applicable.len(),
                unowned
            );
            println!(
                "Registers: {people} people, {} policies ({published} published), {risks} risks, {evidence} evidence items.\n",
                policies.len()
            );
            let mut t = Table::new(&["CATEGORY", "CRITERIA", "WITH A CONTROL"]);
            for c in &categories {
                t.row(vec![
                    c["category"].as_str().unwrap_or_default().into(),
                    c["criteria"].to_string(),
                    c["with_controls"].to_string(),
                ]);
            }
            t.print()?;
            println!("\nTry:");
            let w = ws.dir.display();
            println!("  evident --workspace {w} scope show");
            println!("  evident --workspace {w} controls list --only applicable");
            println!("  evident --workspace {w} catalog show CC6.1");
            println!("  evident --workspace {w} controls show ACC-07");
            println!("  evident --workspace {w} policies list");
            println!("  evident --workspace {w} risks list");
            println!("  evident --workspace {w} verify");
            Ok(())
        }
    }
}
