//! The check engine through the binary: results per record, exclusions, history, policy
//! parameters as thresholds.

use super::common::*;

on_both_databases!(
    checks_fail_by_record_and_exclusions_show,
    check_history_replays_runs,
    checks_read_policy_parameters,
    custom_rules_from_the_workspace,
    exclusions_must_name_a_record_the_check_tests,
);

const HR: &str = "email,name,employment_type,start_date,manager_email
ana@acme.example,Ana,employee,2022-01-10,
ben@acme.example,Ben,employee,2023-03-01,ana@acme.example
";

fn setup(b: Backend) -> Env {
    let env = Env::new(b);
    env.init();
    let hr = env.write_file("hr.csv", HR.as_bytes());
    env.ok(&["import", "people", hr.to_str().unwrap()]);
    let checks = env.write_file(
        "bc.csv",
        b"email,status,completed_on,provider,notes\nana@acme.example,passed,2022-01-03,Checkr,\n",
    );
    env.ok(&["import", "background-checks", checks.to_str().unwrap()]);
    env
}

fn checks_fail_by_record_and_exclusions_show(b: Backend) {
    let env = setup(b);
    let list = env.json(&["check", "list"]);
    assert!(list.as_array().unwrap().len() >= 28);

    let run = env.json(&["check", "run"]);
    let bc = result(&run, "background-checks");
    assert_eq!(
        (bc["status"].as_str(), bc["passed"].as_u64(), bc["failed"].as_u64()),
        (Some("fail"), Some(1), Some(1))
    );
    assert_eq!(
        bc["failures"],
        serde_json::json!([{"record": "ben@acme.example", "passed": false, "reason": "no background check on record"}])
    );
    assert_eq!(
        result(&run, "vendors-owned")["status"],
        "no_data",
        "nothing to test is not a pass"
    );
    assert_eq!(result(&run, "access-review-quarter")["status"], "fail");

    env.refused(
        &[
            "check",
            "exclude",
            "background-checks",
            "--record",
            "ben@acme.example",
            "--reason",
            "x",
            "--owner",
            "hr@acme.example",
            "--expires",
            &day(-1),
        ],
        &["--expires", "already past"],
    );
    env.refused(
        &[
            "check",
            "exclude",
            "no-such-check",
            "--record",
            "r",
            "--reason",
            "x",
            "--owner",
            "hr@acme.example",
            "--expires",
            &day(9),
        ],
        &["unknown check 'no-such-check'"],
    );
    env.refused(
        &[
            "check",
            "exclude",
            "background-checks",
            "--record",
            "r",
            "--reason",
            " ",
            "--owner",
            "hr@acme.example",
            "--expires",
            &day(9),
        ],
        &["--reason"],
    );
    env.refused(
        &[
            "check",
            "exclude",
            "background-checks",
            "--record",
            "r",
            "--reason",
            "x",
            "--owner",
            "hr",
            "--expires",
            &day(9),
        ],
        &["--owner"],
    );
    env.ok(&[
        "check",
        "exclude",
        "background-checks",
        "--record",
        "ben@acme.example",
        "--reason",
        "Hired before screening began; re-check booked",
        "--owner",
        "hr@acme.example",
        "--expires",
        &day(30),
    ]);
    let run = env.json(&["check", "run", "--check", "background-checks"]);
    assert_eq!(run.as_array().unwrap().len(), 1);
    let bc = result(&run, "background-checks");
    assert_eq!(
        (bc["status"].as_str(), bc["excluded"].as_u64()),
        (Some("pass"), Some(1))
    );
    assert_eq!(bc["exclusions"][0]["record"], "ben@acme.example");
    assert_eq!(
        bc["exclusions"][0]["exclusion_reason"],
        "Hired before screening began; re-check booked"
    );
    assert_eq!(bc["exclusions"][0]["owner"], "hr@acme.example");
    assert_eq!(bc["exclusions"][0]["expires"], day(30));
    let ex = env.json(&["check", "exclusions"]);
    assert_eq!(ex[0]["live"], true);

    env.ok(&[
        "events",
        "add",
        "--id",
        "AR-1",
        "--kind",
        "access_review",
        "--title",
        "Q4 access review",
        "--date",
        &day(-5),
    ]);
    assert_eq!(
        result(
            &env.json(&["check", "run", "--check", "access-review-quarter"]),
            "access-review-quarter"
        )["status"],
        "pass"
    );
    env.refused(&["check", "run", "--check", "nope"], &["unknown check 'nope'"]);
    let actions = env.audit_actions();
    assert!(actions.contains(&"checks.run".to_string()) && actions.contains(&"checks.exclude".to_string()));
    env.assert_verified();
}

fn check_history_replays_runs(b: Backend) {
    let env = setup(b);
    env.ok(&["check", "run"]);
    let bc = env.write_file(
        "bc2.csv",
        b"email,status,completed_on,provider,notes\nben@acme.example,passed,2023-02-20,Checkr,\n",
    );
    env.ok(&["import", "background-checks", bc.to_str().unwrap()]);
    env.ok(&["check", "run", "--check", "background-checks"]);
    let h = env.json(&[
        "check",
        "history",
        "background-checks",
        "--from",
        &day(-1),
        "--to",
        &day(0),
    ]);
    let runs = h.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["failed"].as_u64()),
        (Some("fail"), Some(1))
    );
    assert_eq!(runs[0]["failures"][0]["record"], "ben@acme.example");
    assert_eq!(
        (runs[1]["status"].as_str(), runs[1]["passed"].as_u64()),
        (Some("pass"), Some(2))
    );
    assert_eq!(
        env.json(&[
            "check",
            "history",
            "background-checks",
            "--from",
            &day(1),
            "--to",
            &day(2)
        ]),
        serde_json::json!([])
    );
    env.refused(
        &[
            "check",
            "history",
            "background-checks",
            "--from",
            &day(0),
            "--to",
            &day(-3),
        ],
        &["--to", "before --from"],
    );
}

fn checks_read_policy_parameters(b: Backend) {
    let env = setup(b);
    env.ok(&[
        "events",
        "add",
        "--id",
        "AR-1",
        "--kind",
        "access_review",
        "--title",
        "Access review",
        "--date",
        &day(-70),
    ]);
    // Without a policy, the default interval (3 months) applies.
    assert_eq!(
        result(
            &env.json(&["check", "run", "--check", "access-review-quarter"]),
            "access-review-quarter"
        )["status"],
        "pass"
    );
    env.ok(&["policies", "adopt", "access-control"]);
    env.ok(&[
        "policies",
        "set-param",
        "access-control",
        "access_review_interval_months",
        "2",
    ]);
    let r = env.json(&["check", "run", "--check", "access-review-quarter"]);
    let r = result(&r, "access-review-quarter");
    assert_eq!(r["status"], "fail");
    assert!(
        r["failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("more than 2 months ago"),
        "{r}"
    );
}

fn custom_rules_from_the_workspace(b: Backend) {
    let env = setup(b);
    env.ok(&[
        "vendors",
        "add",
        "--name",
        "AWS",
        "--tier",
        "critical",
        "--owner",
        "sam@acme.example",
        "--data-categories",
        "customer data",
    ]);
    env.ok(&[
        "vendors",
        "add",
        "--name",
        "Slack",
        "--tier",
        "high",
        "--data-categories",
        "chat",
    ]);
    env.ok(&["vendors", "add", "--name", "Lunch Co", "--tier", "low"]);
    let folder = env.dir.join("checks");
    std::fs::create_dir_all(&folder).unwrap();
    let rule = "rules:
  - id: important-vendors-hold-customer-data-knowingly
    title: Important vendors have an owner and declare customer data
    reads: vendors
    controls: [VEN-01]
    where:
      - {field: tier, op: in, value: [critical, high]}
    assert:
      - {field: owner, op: present}
      - {field: data_categories, op: contains, value: customer data}
";
    std::fs::write(folder.join("vendors.yaml"), rule).unwrap();
    let list = env.json(&["check", "list"]);
    let custom = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "workspace")
        .unwrap();
    assert_eq!(custom["id"], "important-vendors-hold-customer-data-knowingly");
    let run = env.json(&[
        "check",
        "run",
        "--check",
        "important-vendors-hold-customer-data-knowingly",
    ]);
    let r = result(&run, "important-vendors-hold-customer-data-knowingly");
    assert_eq!((r["passed"].as_u64(), r["failed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(r["failures"][0]["record"], "Slack");
    assert!(r["failures"][0]["reason"].as_str().unwrap().contains("owner is absent"));
    env.ok(&[
        "check",
        "exclude",
        "important-vendors-hold-customer-data-knowingly",
        "--record",
        "Slack",
        "--reason",
        "Owner being hired",
        "--owner",
        "ana@acme.example",
        "--expires",
        &day(10),
    ]);
    let all = env.json(&["check", "run"]);
    assert_eq!(
        result(&all, "important-vendors-hold-customer-data-knowingly")["status"],
        "pass",
        "custom rules run with the rest"
    );

    std::fs::write(folder.join("broken.json"), r#"{"id": "x-rule", "title": "X", "reads": "vendors", "assert": [{"field": "colour", "op": "eq", "value": "red"}]}"#).unwrap();
    let broken = folder.join("broken.json");
    env.refused(
        &["check", "run"],
        &[&broken.display().to_string(), "unknown field 'colour' for vendors"],
    );
    std::fs::write(&broken, r#"{"id": "x-rule", "title": "X", "reads": "vendors", "assert": [{"field": "tier", "op": "like", "value": "c"}]}"#).unwrap();
    env.refused(&["check", "list"], &["unknown operator 'like'"]);
}

fn exclusions_must_name_a_record_the_check_tests(b: Backend) {
    let env = setup(b);
    let expires = day(30);
    let exclude = |record: &'static str| {
        vec![
            "check",
            "exclude",
            "background-checks",
            "--record",
            record,
            "--reason",
            "Agreed with HR",
            "--owner",
            "hr@acme.example",
            "--expires",
            expires.as_str(),
        ]
    };
    let log = env.audit_actions();
    // A typo, and a record of another check: nothing this check reports, so nothing to set aside.
    for record in ["bne@acme.example", "okta/ben@acme.example"] {
        env.refused(
            &exclude(record),
            &[
                &format!("record '{record}'"),
                "check 'background-checks'",
                "tests no such record",
            ],
        );
    }
    assert_eq!(env.json(&["check", "exclusions"]), serde_json::json!([]));
    assert_eq!(env.audit_actions(), log, "nothing logged");
    // The records it tests are accepted, before any run was kept: Ben fails today (named in
    // another case), Ana passes today and may fail before the exclusion ends.
    env.ok(&exclude("BEN@acme.example"));
    env.ok(&exclude("ana@acme.example"));
    let run = env.json(&["check", "run", "--check", "background-checks"]);
    let bc = result(&run, "background-checks");
    assert_eq!(
        (bc["status"].as_str(), bc["passed"].as_u64(), bc["excluded"].as_u64()),
        (Some("pass"), Some(1), Some(1))
    );
    env.assert_verified();
}
