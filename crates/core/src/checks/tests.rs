//! The engine and a sample of checks, on small hand-made cases.
#![allow(clippy::field_reassign_with_default)] // each case builds its facts step by step

use std::collections::BTreeMap;

use time::macros::date;

use super::*;
use crate::register::Value;

fn rec(pairs: &[(&'static str, Value)]) -> Record {
    Record {
        values: pairs.iter().cloned().collect::<BTreeMap<_, _>>(),
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn person(email: &str, kind: &str, start: Date, end: Option<Date>) -> Record {
    rec(&[
        ("email", t(email)),
        ("employment_type", t(kind)),
        ("start_date", Value::Date(start)),
        ("end_date", end.map(Value::Date).unwrap_or(Value::Null)),
    ])
}

const TODAY: Date = date!(2026 - 11 - 23);

fn run_check(id: &str, facts: &Facts, exclusions: &[Exclusion]) -> CheckResult {
    run(
        by_id(id).unwrap(),
        facts,
        exclusions,
        TODAY.with_hms(12, 0, 0).unwrap().assume_utc(),
    )
}

#[test]
fn every_check_is_unique_and_linked_to_library_controls() {
    let lib = &evident_catalog::Catalog::builtin().library;
    let mut ids = std::collections::BTreeSet::new();
    for c in BUILTIN {
        assert!(ids.insert(c.id), "{} twice", c.id);
        assert!(c.controls().next().is_some(), "no control lists the check {}", c.id);
    }
    for t in &lib.controls {
        for k in &t.checks {
            assert!(by_id(k).is_some(), "{} lists the unknown check {k}", t.id);
        }
    }
}

#[test]
fn statuses_and_exclusions() {
    let mut facts = Facts::default();
    facts.people = vec![
        person("ana@x.io", "employee", date!(2022 - 01 - 01), None),
        person("ben@x.io", "employee", date!(2022 - 01 - 01), None),
        person(
            "old@x.io",
            "employee",
            date!(2020 - 01 - 01),
            Some(date!(2025 - 01 - 01)),
        ),
    ];
    facts.background_checks = vec![rec(&[("email", t("ana@x.io")), ("status", t("passed"))])];
    let r = run_check("background-checks", &facts, &[]);
    assert_eq!((r.status, r.passed, r.failed, r.excluded), (CheckStatus::Fail, 1, 1, 0));
    assert_eq!(r.failures[0].record, "ben@x.io", "the leaver is out of scope");
    assert_eq!(r.failures[0].reason, "no background check on record");

    let ex = |expires| Exclusion {
        check: "background-checks".into(),
        record: "BEN@x.io".into(),
        reason: "Hired before checks began; grandfathered".into(),
        owner: "hr@x.io".into(),
        expires,
    };
    let r = run_check("background-checks", &facts, &[ex(date!(2026 - 12 - 31))]);
    assert_eq!((r.status, r.passed, r.failed, r.excluded), (CheckStatus::Pass, 1, 0, 1));
    assert_eq!(
        r.exclusions[0].exclusion_reason,
        "Hired before checks began; grandfathered"
    );
    let r = run_check("background-checks", &facts, &[ex(date!(2026 - 11 - 22))]);
    assert_eq!(r.status, CheckStatus::Fail, "an expired exclusion no longer applies");

    let r = run_check("background-checks", &Facts::default(), &[]);
    assert_eq!(r.status, CheckStatus::NoData, "nothing to test is not a pass");

    facts.params.insert("background_check_required".into(), "false".into());
    assert_eq!(run_check("background-checks", &facts, &[]).status, CheckStatus::Pass);
}

#[test]
fn onboarding_training_reads_the_policy_window() {
    let mut facts = Facts::default();
    facts.people = vec![
        person("new@x.io", "employee", date!(2026 - 11 - 10), None),
        person("late@x.io", "employee", date!(2026 - 06 - 01), None),
        person("ok@x.io", "employee", date!(2026 - 06 - 01), None),
    ];
    let training = |e: &str, d| {
        rec(&[
            ("email", t(e)),
            ("kind", t("security_awareness")),
            ("completed_on", Value::Date(d)),
        ])
    };
    facts.training = vec![
        training("late@x.io", date!(2026 - 07 - 15)),
        training("ok@x.io", date!(2026 - 06 - 20)),
    ];
    let r = run_check("training-onboarding", &facts, &[]);
    let mut failed: Vec<&str> = r.failures.iter().map(|f| f.record.as_str()).collect();
    failed.sort();
    assert_eq!(failed, vec!["late@x.io"]);
    assert!(r.failures[0].reason.contains("after the due date 2026-07-01"));
    facts.params.insert("training_due_days_after_start".into(), "60".into());
    assert_eq!(
        run_check("training-onboarding", &facts, &[]).status,
        CheckStatus::Pass,
        "policy allows 60 days"
    );
}

#[test]
fn event_cadences() {
    let mut facts = Facts::default();
    let event = |kind: &str, d| rec(&[("id", t("E")), ("kind", t(kind)), ("date", Value::Date(d))]);
    let r = run_check("dr-test-annual", &facts, &[]);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(r.failures[0].reason.contains("none recorded"));
    facts.events = vec![
        event("dr_test", date!(2025 - 11 - 01)),
        event("access_review", date!(2026 - 09 - 01)),
    ];
    let r = run_check("dr-test-annual", &facts, &[]);
    assert!(
        r.failures[0].reason.contains("more than 12 months ago"),
        "{:?}",
        r.failures
    );
    assert_eq!(
        run_check("access-review-quarter", &facts, &[]).status,
        CheckStatus::Pass
    );
    facts.params.insert("access_review_interval_months".into(), "2".into());
    assert_eq!(
        run_check("access-review-quarter", &facts, &[]).status,
        CheckStatus::Fail
    );
}

#[test]
fn policies_and_risks() {
    let mut facts = Facts::default();
    facts.people = vec![person("ana@x.io", "employee", date!(2022 - 01 - 01), None)];
    let policy = |id: &str, published: Option<Date>, accepted: &[&str]| PolicyFact {
        id: id.into(),
        title: id.into(),
        published_version: published.map(|_| 1),
        published_on: published,
        approved_by: published.map(|_| "cli:boss".into()),
        review_interval_months: 12,
        accepted_by: accepted.iter().map(|s| s.to_string()).collect(),
    };
    facts.policies = vec![
        policy("isp", Some(date!(2025 - 10 - 01)), &["ana@x.io"]),
        policy("aup", Some(date!(2026 - 10 - 01)), &[]),
        policy("draft", None, &[]),
    ];
    let r = run_check("policies-published", &facts, &[]);
    assert_eq!(
        r.failures.iter().map(|f| f.record.as_str()).collect::<Vec<_>>(),
        vec!["draft"]
    );
    let r = run_check("policies-reviewed", &facts, &[]);
    assert_eq!(
        r.failures.iter().map(|f| f.record.as_str()).collect::<Vec<_>>(),
        vec!["isp"]
    );
    let r = run_check("policies-accepted", &facts, &[]);
    assert_eq!(r.failures[0].reason, "has not accepted the current version of: aup");

    let risk = |id: &str, treatment: &str, signed: Option<Date>, outdated: bool, review: Option<Date>| RiskFact {
        record: rec(&[("id", t(id)), ("treatment", t(treatment))]),
        signed_off: signed,
        sign_off_outdated: outdated,
        last_review: review,
    };
    facts.risks = vec![
        risk(
            "R1",
            "accept",
            Some(date!(2026 - 10 - 02)),
            false,
            Some(date!(2026 - 10 - 02)),
        ),
        risk(
            "R2",
            "accept",
            Some(date!(2026 - 01 - 02)),
            true,
            Some(date!(2026 - 09 - 30)),
        ),
        risk("R3", "mitigate", None, false, None),
    ];
    let r = run_check("risks-accepted-signed-off", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 1));
    assert!(r.failures[0].reason.contains("changed since its sign-off"));
    let r = run_check("risks-reviewed-quarter", &facts, &[]);
    assert_eq!(
        r.failures.iter().map(|f| f.record.as_str()).collect::<Vec<_>>(),
        vec!["R2", "R3"]
    );
}

fn account(system: &str, user: &str, email: Option<&str>) -> crate::facts::Account {
    crate::facts::Account {
        system: system.into(),
        external_id: user.into(),
        username: user.into(),
        email: email.map(str::to_string),
        human: true,
        mfa: Some(true),
        admin: false,
        root: false,
        created_at: None,
        last_activity: Some(ms(TODAY) - 86_400_000),
        disabled_at: None,
        active: true,
        access_keys: Vec::new(),
    }
}

fn ms(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

#[test]
fn leavers_mfa_and_keys() {
    let mut facts = Facts::default();
    facts.people = vec![
        person(
            "gone@x.io",
            "employee",
            date!(2022 - 01 - 01),
            Some(date!(2026 - 11 - 19)),
        ),
        person(
            "today@x.io",
            "employee",
            date!(2022 - 01 - 01),
            Some(date!(2026 - 11 - 22)),
        ),
        person("here@x.io", "employee", date!(2022 - 01 - 01), None),
    ];
    let mut gone_disabled = account("okta", "gone2", Some("gone@x.io"));
    gone_disabled.active = false;
    gone_disabled.disabled_at = Some(ms(date!(2026 - 11 - 20)));
    let mut no_mfa = account("aws:1", "here", Some("here@x.io"));
    no_mfa.mfa = None;
    facts.accounts = vec![
        account("okta", "gone", Some("gone@x.io")),
        gone_disabled,
        account("okta", "today", Some("today@x.io")),
        no_mfa,
    ];
    let r = run_check("leaver-accounts-disabled", &facts, &[]);
    assert_eq!(r.failures.len(), 1, "{r:?}");
    assert_eq!(r.failures[0].record, "okta/gone");
    assert_eq!(
        r.failures[0].reason,
        "gone@x.io left on 2026-11-19 but this account is still active"
    );
    assert_eq!(r.passed, 2, "disabled in time, and one still inside the 24-hour grace");
    let r = run_check("mfa-human-accounts", &facts, &[]);
    assert_eq!(
        r.failures[0].reason,
        "MFA status unknown: import the system's factor data"
    );

    let mut root = account("aws:1", "<root_account>", None);
    root.root = true;
    root.admin = true;
    root.mfa = Some(false);
    root.access_keys = vec![crate::facts::AccessKey {
        label: "access_key_1".into(),
        active: true,
        last_rotated: Some(ms(date!(2026 - 01 - 01))),
    }];
    facts.accounts = vec![root];
    assert_eq!(run_check("aws-root-mfa", &facts, &[]).failed, 1);
    assert!(
        run_check("aws-root-no-access-keys", &facts, &[]).failures[0]
            .reason
            .contains("access_key_1")
    );
    let r = run_check("access-keys-rotated", &facts, &[]);
    assert!(r.failures[0].reason.contains("more than 90 days ago"));
}

#[test]
fn finding_slas() {
    let mut facts = Facts::default();
    let f = |id: &str, sev, first: Date, fixed: Option<Date>| FindingFact {
        finding: crate::facts::Finding {
            source: "trivy".into(),
            external_id: id.into(),
            resource: "api".into(),
            title: id.into(),
            severity: sev,
            severity_raw: "X".into(),
        },
        scope: "api".into(),
        first_seen: ms(first),
        fixed_at: fixed.map(ms),
    };
    use crate::facts::Severity::*;
    // The cases below are written for a 7-day critical deadline (the template's is 14).
    facts.params.insert("vuln_sla_critical_days".into(), "7".into());
    facts.findings = vec![
        f("C-open-late", Critical, date!(2026 - 11 - 10), None),
        f("C-open-ok", Critical, date!(2026 - 11 - 20), None),
        f(
            "C-fixed-ok",
            Critical,
            date!(2026 - 10 - 01),
            Some(date!(2026 - 10 - 05)),
        ),
        f(
            "C-fixed-late",
            Critical,
            date!(2026 - 10 - 01),
            Some(date!(2026 - 10 - 20)),
        ),
        f("H-open", High, date!(2026 - 11 - 13), None),
    ];
    let r = run_check("findings-critical-sla", &facts, &[]);
    let failed: Vec<&str> = r.failures.iter().map(|o| o.record.as_str()).collect();
    assert_eq!(failed, vec!["C-open-late on api", "C-fixed-late on api"]);
    assert_eq!(run_check("findings-high-sla", &facts, &[]).status, CheckStatus::Pass);
    facts.params.insert("vuln_sla_high_days".into(), "7".into());
    assert_eq!(
        run_check("findings-high-sla", &facts, &[]).status,
        CheckStatus::Fail,
        "the policy's SLA is used"
    );
}

fn finding(id: &str, severity: crate::facts::Severity, first: Date, fixed: Option<Date>) -> FindingFact {
    FindingFact {
        finding: crate::facts::Finding {
            source: "trivy".into(),
            external_id: id.into(),
            resource: "api".into(),
            title: id.into(),
            severity,
            severity_raw: "X".into(),
        },
        scope: "api".into(),
        first_seen: ms(first),
        fixed_at: fixed.map(ms),
    }
}

#[test]
fn low_findings_have_a_deadline_too() {
    use crate::facts::Severity::*;
    let mut facts = Facts::default();
    facts.findings = vec![
        finding("L-old", Low, date!(2026 - 01 - 02), None),
        finding("L-new", Low, date!(2026 - 10 - 01), None),
        finding("L-fixed", Low, date!(2026 - 01 - 02), Some(date!(2026 - 03 - 01))),
    ];
    let r = run_check("findings-low-sla", &facts, &[]);
    assert_eq!((r.passed, r.failed), (2, 1), "{r:?}");
    assert_eq!(r.failures[0].record, "L-old on api");
    assert!(r.failures[0].reason.contains("180-day SLA"), "{}", r.failures[0].reason);
    facts.params.insert("vuln_sla_low_days".into(), "365".into());
    assert_eq!(run_check("findings-low-sla", &facts, &[]).status, CheckStatus::Pass);
}

#[test]
fn finding_deadlines_default_to_the_policy_template() {
    use crate::facts::Severity::*;
    let mut facts = Facts::default();
    // Ten days open: inside the template's 14-day critical deadline, and 25 days inside 30 for high.
    facts.findings = vec![
        finding("C", Critical, date!(2026 - 11 - 13), None),
        finding("H", High, date!(2026 - 10 - 30), None),
        finding("M", Medium, date!(2026 - 09 - 01), None),
    ];
    for id in ["findings-critical-sla", "findings-high-sla", "findings-medium-sla"] {
        assert_eq!(run_check(id, &facts, &[]).status, CheckStatus::Pass, "{id}");
    }
    let template = |key: &str| {
        evident_catalog::Catalog::builtin()
            .policies
            .iter()
            .flat_map(|p| &p.parameters)
            .find(|p| p.key == key)
            .map(|p| p.default_text())
    };
    assert_eq!(template("vuln_sla_critical_days").as_deref(), Some("14"));
    assert_eq!(template("vuln_sla_high_days").as_deref(), Some("30"));
    assert_eq!(template("vuln_sla_medium_days").as_deref(), Some("90"));
    assert_eq!(template("vuln_sla_low_days").as_deref(), Some("180"));
}

fn vendor(name: &str, tier: &str, report: Option<&str>, period_end: Option<Date>) -> Record {
    rec(&[
        ("name", t(name)),
        ("tier", t(tier)),
        (
            "soc2_report",
            report.map(|r| Value::List(vec![r.into()])).unwrap_or(Value::Null),
        ),
        ("report_period_end", period_end.map(Value::Date).unwrap_or(Value::Null)),
    ])
}

#[test]
fn high_tier_vendors_need_a_current_report_too() {
    let mut facts = Facts::default();
    facts.current_evidence = vec!["ev-1".into()];
    facts.vendors = vec![
        vendor("Cloud", "critical", Some("ev-1"), Some(date!(2026 - 06 - 30))),
        vendor("Payroll", "high", None, None),
        vendor("Chat", "medium", None, None),
    ];
    let r = run_check("vendors-critical-report", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 1), "medium vendors are not tested: {r:?}");
    assert_eq!(r.failures[0].record, "Payroll");
    assert_eq!(r.failures[0].reason, "no current SOC 2 (or equivalent) report on file");
}

#[test]
fn new_starters_and_new_versions_have_time_to_accept() {
    let mut facts = Facts::default();
    facts.people = vec![
        person("new@x.io", "employee", date!(2026 - 11 - 13), None),
        person("slow@x.io", "employee", date!(2026 - 10 - 01), None),
        person("old@x.io", "employee", date!(2022 - 01 - 01), None),
    ];
    let policy = |id: &str, published: Date, accepted: &[&str]| PolicyFact {
        id: id.into(),
        title: id.into(),
        published_version: Some(1),
        published_on: Some(published),
        approved_by: Some("cli:boss".into()),
        review_interval_months: 12,
        accepted_by: accepted.iter().map(|s| s.to_string()).collect(),
    };
    facts.policies = vec![
        policy("isp", date!(2025 - 01 - 01), &["old@x.io"]),
        // A new version, published five days ago: nobody has accepted it yet.
        policy("aup", date!(2026 - 11 - 18), &[]),
    ];
    let r = run_check("policies-accepted", &facts, &[]);
    let mut failed: Vec<&str> = r.failures.iter().map(|f| f.record.as_str()).collect();
    failed.sort();
    assert_eq!(failed, ["slow@x.io"], "{r:?}");
    assert_eq!(r.failures[0].reason, "has not accepted the current version of: isp");
    assert_eq!(
        r.passed, 2,
        "a ten-day starter and a five-day-old version are not yet due"
    );
    facts.params.insert("policy_acceptance_days".into(), "5".into());
    let r = run_check("policies-accepted", &facts, &[]);
    let mut failed: Vec<&str> = r.failures.iter().map(|f| f.record.as_str()).collect();
    failed.sort();
    assert_eq!(failed, ["new@x.io", "slow@x.io"], "a 5-day window: {r:?}");
}

#[test]
fn a_recorded_review_without_changes_counts() {
    let mut facts = Facts::default();
    let policy = |id: &str, title: &str| PolicyFact {
        id: id.into(),
        title: title.into(),
        published_version: Some(1),
        published_on: Some(date!(2025 - 10 - 01)),
        approved_by: Some("cli:boss".into()),
        review_interval_months: 12,
        accepted_by: Vec::new(),
    };
    facts.policies = vec![
        policy("access-control", "Access Control Policy"),
        policy("privacy", "Privacy Policy"),
    ];
    let event = |title: &str, controls: &[&str], d: Date| {
        rec(&[
            ("id", t("E")),
            ("kind", t("management_review")),
            ("title", t(title)),
            ("date", Value::Date(d)),
            (
                "controls",
                Value::List(controls.iter().map(|c| c.to_string()).collect()),
            ),
        ])
    };
    // Both were published more than twelve months ago: overdue without a recorded review.
    assert_eq!(run_check("policies-reviewed", &facts, &[]).failed, 2);
    // A review of one policy, recorded against the policy-review control, restarts its clock.
    facts.events = vec![
        event(
            "Reviewed the Access Control Policy, no changes",
            &["POL-02"],
            date!(2026 - 09 - 15),
        ),
        event("Privacy policy discussed", &["GOV-05"], date!(2026 - 09 - 15)),
    ];
    let r = run_check("policies-reviewed", &facts, &[]);
    let mut failed: Vec<&str> = r.failures.iter().map(|f| f.record.as_str()).collect();
    failed.sort();
    assert_eq!(failed, ["privacy"], "an event not about POL-02 is no review: {r:?}");
    // A review naming no policy covers the whole suite.
    facts
        .events
        .push(event("Annual policy review", &["pol-02"], date!(2026 - 10 - 20)));
    let r = run_check("policies-reviewed", &facts, &[]);
    assert_eq!((r.status, r.passed), (CheckStatus::Pass, 2), "{r:?}");
}

fn commit(sha: &str, signature: &str) -> crate::facts::Commit {
    crate::facts::Commit {
        repository: "payments".into(),
        sha: sha.into(),
        title: "Change".into(),
        author: "Ana".into(),
        author_email: "ana@x.io".into(),
        committed_at: ms(TODAY),
        signature: signature.into(),
        merge: false,
        reviewers: Vec::new(),
    }
}

#[test]
fn unsigned_commits_fail_only_when_the_policy_requires_signing() {
    let mut facts = Facts::default();
    facts.commits = vec![commit("aaaaaaaaaaaa", "N"), commit("bbbbbbbbbbbb", "G")];
    let r = run_check("commits-signed", &facts, &[]);
    assert_eq!((r.passed, r.failed), (2, 0), "not required by default: {r:?}");
    facts.params.insert("signed_commits_required".into(), "true".into());
    let r = run_check("commits-signed", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 1));
    assert!(r.failures[0].reason.contains("is not signed"));
}

/// Each check sits on the control whose claim it tests (issue 22's review).
#[test]
fn checks_test_the_controls_that_list_them() {
    let controls = |check: &str| -> Vec<&str> { by_id(check).unwrap().controls().collect() };
    assert_eq!(controls("commits-signed"), ["CHG-12"]);
    assert_eq!(controls("inactive-accounts"), ["ACC-16"]);
    assert_eq!(controls("contractors-have-end-date"), ["HRS-10"]);
    assert_eq!(controls("risks-signed-off"), ["RSK-01"]);
    assert_eq!(controls("vendors-reviewed"), ["VEN-03"]);
    assert_eq!(controls("accounts-belong-to-people"), ["ACC-04"]);
    assert_eq!(controls("findings-low-sla"), ["VUL-03"]);
    assert!(!controls("leaver-accounts-disabled").is_empty());
}

#[test]
fn administrators_need_a_grant_or_a_recent_review_and_grants_end() {
    let admin = |user: &str| {
        let mut a = account("aws:1", user, Some(user));
        a.admin = true;
        a
    };
    let grant = |id: &str, email: &str, from: Date, to: Date| {
        rec(&[
            ("id", t(id)),
            ("email", t(email)),
            ("system", t("aws:1")),
            ("access", t("administrator")),
            ("approved_by", t("sec@x.io")),
            ("starts_on", Value::Date(from)),
            ("ends_on", Value::Date(to)),
        ])
    };
    let mut svc = account("aws:1", "svc-ci", None);
    svc.human = false;
    svc.access_keys = vec![crate::facts::AccessKey {
        label: "access_key_1".into(),
        active: true,
        last_rotated: Some(ms(TODAY) - 40 * 86_400_000),
    }];
    let facts = Facts {
        accounts: vec![
            admin("granted@x.io"),
            admin("reviewed@x.io"),
            admin("stale@x.io"),
            admin("over@x.io"),
            svc,
        ],
        grants: vec![
            grant("AG-1", "granted@x.io", date!(2026 - 11 - 01), date!(2026 - 12 - 31)),
            grant("AG-2", "over@x.io", date!(2026 - 10 - 01), date!(2026 - 11 - 20)),
        ],
        reviewed_admins: vec![
            ("aws:1".into(), "reviewed@x.io".into(), date!(2026 - 10 - 15)),
            ("aws:1".into(), "stale@x.io".into(), date!(2026 - 05 - 15)),
        ],
        machine_identities: vec![rec(&[
            ("system", t("AWS:1")),
            ("account", t("svc-ci")),
            ("owner", t("ops@x.io")),
            ("purpose", t("deploys")),
            ("rotation_days", Value::Int(30)),
        ])],
        ..Default::default()
    };
    let r = run_check("privileged-access-granted-or-reviewed", &facts, &[]);
    let mut failed: Vec<&str> = r.failures.iter().map(|f| f.record.as_str()).collect();
    failed.sort();
    assert_eq!(failed, ["aws:1/over@x.io", "aws:1/stale@x.io"], "{r:?}");
    let stale = &r
        .failures
        .iter()
        .find(|f| f.record == "aws:1/stale@x.io")
        .unwrap()
        .reason;
    assert!(stale.contains("more than 3 months ago"), "{stale}");
    let r = run_check("access-grants-expire", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 1), "{r:?}");
    assert!(
        r.failures[0]
            .reason
            .contains("ended 2026-11-20 but aws:1/over@x.io is still an administrator")
    );
    let r = run_check("machine-identities-owned", &facts, &[]);
    assert_eq!(
        (r.passed, r.failed),
        (1, 0),
        "registered case-insensitively by system: {r:?}"
    );
    // The register's 30 days, not the policy's 90, apply to its key.
    let r = run_check("access-keys-rotated", &facts, &[]);
    assert_eq!(r.failed, 1, "{r:?}");
}

#[test]
fn joiners_of_the_last_year_need_the_identity_provider_account() {
    let mut facts = Facts {
        people: vec![
            person("new@x.io", "employee", date!(2026 - 10 - 01), None),
            person("set@x.io", "employee", date!(2026 - 09 - 01), None),
            person("old@x.io", "employee", date!(2020 - 01 - 01), None),
        ],
        accounts: vec![account("okta", "set@x.io", Some("set@x.io"))],
        ..Default::default()
    };
    let r = run_check("joiners-have-baseline-accounts", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 1), "{r:?}");
    assert!(r.failures[0].record == "new@x.io" && r.failures[0].reason.contains("no active account in okta"));
    // Without an identity provider among the imports there is no baseline to hold anyone to.
    facts.accounts.clear();
    assert_eq!(
        run_check("joiners-have-baseline-accounts", &facts, &[]).status,
        CheckStatus::NoData
    );
}

#[test]
fn movers_need_their_access_reviewed_within_the_policy_days() {
    use crate::access_review::jml::Move;
    let moved = |email: &str, on: Date| Move {
        email: email.into(),
        field: "department".into(),
        from: "Sales".into(),
        to: "Engineering".into(),
        on,
    };
    let ms = |d: Date| d.midnight().assume_utc().unix_timestamp() * 1000 + 3_600_000;
    let mut facts = Facts {
        moves: vec![
            moved("late@x.io", date!(2026 - 10 - 01)),
            moved("done@x.io", date!(2026 - 10 - 01)),
            moved("soon@x.io", date!(2026 - 11 - 20)),
        ],
        access_reviewed: [
            ("done@x.io".to_string(), vec![ms(date!(2026 - 10 - 05))]),
            // A review before the move does not cover it.
            ("late@x.io".to_string(), vec![ms(date!(2026 - 09 - 20))]),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    let r = run_check("movers-access-reviewed", &facts, &[]);
    assert_eq!((r.passed, r.failed), (2, 1), "{r:?}");
    assert!(r.failures[0].record.starts_with("late@x.io") && r.failures[0].reason.contains("by 2026-10-08"));
    // The policy's days are read: 3 days makes the review on the 4th day late.
    facts.params.insert("mover_review_days".into(), "3".into());
    let r = run_check("movers-access-reviewed", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 2), "{r:?}");
}

#[test]
fn accounts_whose_export_reports_no_use_are_not_called_unused() {
    let mut silent = account("github", "octocat", Some("o@x.io"));
    silent.last_activity = None;
    let mut never = account("okta", "n", Some("n@x.io"));
    never.last_activity = None;
    never.created_at = Some(ms(date!(2025 - 01 - 01)));
    let facts = Facts {
        accounts: vec![silent, never, account("okta", "used", Some("u@x.io"))],
        ..Default::default()
    };
    let r = run_check("inactive-accounts", &facts, &[]);
    assert_eq!((r.passed, r.failed), (1, 1), "{r:?}");
    assert!(r.failures[0].record.contains("okta") && r.failures[0].reason.contains("never used"));
}

/// Evidence stopped flowing: a connector failing, or never successful, for more than a day.
#[test]
fn connectors_failing_for_a_day_fail_the_check() {
    use crate::facts::{ConnectorFact, ConnectorState};
    let now = TODAY.with_hms(12, 0, 0).unwrap().assume_utc();
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let hour = 3_600_000;
    let c = |name: &str, configured: i64, success: Option<i64>, failing: Option<i64>| ConnectorFact {
        name: name.into(),
        configured_at: now_ms - configured * hour,
        last_success_at: success.map(|h| now_ms - h * hour),
        failing_since: failing.map(|h| now_ms - h * hour),
        failures: i64::from(failing.is_some()),
        last_error: failing.map(|_| "GitHub answered 401: Bad credentials".into()),
    };
    let cases = [
        (c("fresh", 100, Some(2), None), ConnectorState::Collecting),
        // A weekly schedule that succeeds: quiet is not failing.
        (c("weekly", 500, Some(100), None), ConnectorState::Collecting),
        (c("flaky", 100, Some(20), Some(10)), ConnectorState::Failing),
        (c("broken", 100, Some(25), Some(24)), ConnectorState::Stopped),
        (c("new", 2, None, None), ConnectorState::Waiting),
        (c("never-ran", 30, None, None), ConnectorState::Stopped),
        (c("never-worked", 30, None, Some(29)), ConnectorState::Stopped),
    ];
    for (fact, want) in &cases {
        assert_eq!(fact.state(now_ms), *want, "{}", fact.name);
    }
    let mut facts = Facts::default();
    facts.connectors = cases.iter().map(|(f, _)| f.clone()).collect();
    let r = run(by_id("connectors-collecting").unwrap(), &facts, &[], now);
    assert_eq!((r.status, r.passed, r.failed), (CheckStatus::Fail, 4, 3));
    let broken = r.failures.iter().find(|f| f.record == "connector: broken").unwrap();
    assert!(
        broken.reason.contains("evidence stopped flowing") && broken.reason.contains("Bad credentials"),
        "{}",
        broken.reason
    );
    assert_eq!(
        run(by_id("connectors-collecting").unwrap(), &Facts::default(), &[], now).status,
        CheckStatus::NoData,
        "no connector, nothing to test"
    );
}
