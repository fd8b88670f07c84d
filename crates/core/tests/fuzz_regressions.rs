//! Inputs that once made a pure importer in core panic (see `scripts/fuzz`), fed back exactly:
//! each must now be refused with a reason, or read without harm.

use evident_core::checks::{Facts, rules, run_rule};
use evident_core::facts::Account;
use time::macros::datetime;

fn rule(op: &str, value: &str) -> String {
    format!("id: big\ntitle: t\nreads: accounts\nassert:\n  - {{field: last_activity, op: {op}, value: {value}}}\n")
}

#[test]
fn check_rule_day_counts_beyond_the_calendar_are_refused() {
    // Counting this many days back from today left the calendar: run_rule panicked.
    for (op, value) in [
        ("within_days", "9223372036854775807"),
        ("older_than_days", "3000000"),
        ("within_days", "-3000000"),
        ("within_days", "1.5"),
        ("older_than_days", "18446744073709551615"),
    ] {
        let err = rules::parse("checks/x.yaml", &rule(op, value), &[], &[]).unwrap_err();
        assert_eq!(
            err,
            format!(
                "checks/x.yaml: rule 'big': assert: operator '{op}' on 'last_activity' takes a whole number of days from 0 to 36500"
            ),
            "{op} {value}"
        );
    }
    let err = rules::parse("checks/x.yaml", &rule("gt", "2.5"), &[], &[]).unwrap_err();
    assert!(
        err.contains("operator 'gt' on 'last_activity' has a missing or wrong kind of value"),
        "{err}"
    );

    let longest = rules::parse("checks/x.yaml", &rule("older_than_days", "36500"), &[], &[]).unwrap();
    let facts = Facts {
        accounts: vec![Account {
            system: "okta".into(),
            external_id: "u1".into(),
            username: "ana".into(),
            email: None,
            human: true,
            mfa: None,
            admin: false,
            root: false,
            created_at: None,
            last_activity: Some(0),
            disabled_at: None,
            active: true,
            access_keys: Vec::new(),
        }],
        ..Default::default()
    };
    let result = run_rule(&longest[0], &facts, &[], datetime!(2026-11-23 12:00 UTC));
    assert_eq!(
        (result.passed, result.failed),
        (0, 1),
        "1970 is within the last century"
    );
}
