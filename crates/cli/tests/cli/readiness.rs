//! Readiness through the binary: scope required, statuses move with evidence and owners, the
//! score recomputes from its documented formula, and the plan is idempotent.

use serde_json::Value;

use super::common::*;

on_both_databases!(
    readiness_tells_the_truth_and_plans,
    failing_checks_get_a_grace_period,
    csv_reports,
    scope_and_topics_follow_the_content,
    evidence_writes_patch_readiness_like_a_full_assessment
);

/// A Security-only audit leaves every privacy and processing-integrity control out, with its
/// reason; the catalog and readiness speak of the points an auditor looks for (coverage topics).
fn scope_and_topics_follow_the_content(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.scope_type2("2026-01-01..2026-06-30");
    let controls = env.json(&["controls", "list"]);
    let category_controls: Vec<&Value> = controls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| matches!(c["area"].as_str(), Some("privacy" | "processing")))
        .collect();
    assert!(!category_controls.is_empty());
    for c in &category_controls {
        assert_eq!(c["applicable"], false, "{c}");
        assert!(
            c["not_applicable_reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{c}"
        );
    }

    // Every in-scope criterion's topics are covered by the library in a Security-only scope.
    let shown = env.json(&["catalog", "show", "CC6.1"]);
    let topics = shown["topics"].as_array().unwrap();
    assert!(topics.len() >= 3, "{shown}");
    assert!(topics.iter().all(|t| t["covered"] == true), "{shown}");
    assert_eq!(env.json(&["readiness"])["topic_gaps"], serde_json::json!([]));

    // Ruling out every control of a topic makes readiness name that topic, not the criterion.
    let topic = &topics[0];
    for c in topic["covered_by"].as_array().unwrap() {
        env.ok(&[
            "controls",
            "not-applicable",
            c.as_str().unwrap(),
            "--reason",
            "test: ruled out",
        ]);
    }
    let gaps = env.json(&["readiness"])["topic_gaps"].clone();
    assert!(
        gaps.as_array()
            .unwrap()
            .iter()
            .any(|g| g["criterion"] == "CC6.1" && g["topic"] == topic["id"]),
        "{gaps}"
    );
    let shown = env.json(&["catalog", "show", "CC6.1"]);
    assert_eq!(shown["topics"][0]["covered"], false, "{shown}");
}

fn score_from(criteria: &Value) -> u64 {
    let list = criteria.as_array().unwrap();
    let credit: f64 = list
        .iter()
        .map(|c| match c["status"].as_str().unwrap() {
            "covered" => 1.0,
            "partial" => 0.5,
            _ => 0.0,
        })
        .sum();
    (100.0 * credit / list.len() as f64).round() as u64
}

fn readiness_tells_the_truth_and_plans(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.refused(&["readiness"], &["no audit scope set yet", "evident scope set"]);
    env.ok(&[
        "scope",
        "set",
        "--type",
        "1",
        "--categories",
        "security",
        "--as-of",
        &day(120),
    ]);

    let before = env.json(&["readiness"]);
    assert_eq!(
        before["criteria"].as_array().unwrap().len(),
        33,
        "the security criteria"
    );
    assert_eq!(before["score"].as_u64(), Some(score_from(&before["criteria"])));
    let counts = &before["controls"];
    let total: u64 = ["ready", "at_risk", "gap", "not_applicable"]
        .iter()
        .map(|k| counts[*k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, library_controls());
    let gaps = before["gaps"].as_array().unwrap();
    assert_eq!(gaps[0]["severity"], "uncovered_criterion", "the worst gaps come first");

    // PHY-02 has no linked check or policy: an owner and current evidence make it ready.
    let phy = env.json(&["controls", "show", "PHY-02"]);
    let status = |r: &Value| {
        r["control_status"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == "PHY-02")
            .unwrap()
            .clone()
    };
    let reasons: Vec<String> = status(&before)["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["severity"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons.contains(&"missing_evidence".to_string()) && reasons.contains(&"missing_owner".to_string()),
        "{reasons:?}"
    );
    env.ok(&["controls", "set-owner", "PHY-02", "facilities@acme.example"]);
    for req in phy["evidence_requirements"].as_array().unwrap() {
        let key = req["key"].as_str().unwrap();
        let f = env.write_file(&format!("{key}.pdf"), key.as_bytes());
        env.ok(&[
            "evidence",
            "add",
            f.to_str().unwrap(),
            "--control",
            "PHY-02",
            "--requirement",
            key,
            "--effective",
            &day(-1),
        ]);
    }
    let after = env.json(&["readiness"]);
    assert_eq!(status(&after)["status"], "ready", "{}", status(&after));
    assert_eq!(
        after["controls"]["ready"].as_u64(),
        Some(counts["ready"].as_u64().unwrap() + 1)
    );
    let covered: Vec<&str> = after["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "covered")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for k in phy["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .filter(|k| k.starts_with("CC"))
    {
        assert!(covered.contains(&k), "{k} is covered by the ready PHY-02");
    }
    assert_eq!(after["score"].as_u64(), Some(score_from(&after["criteria"])));
    assert!(after["score"].as_u64() > before["score"].as_u64());

    // The checklist and the timeline are computed from the same data.
    let items = after["checklist"].as_array().unwrap();
    assert_eq!(items.len(), 11);
    assert_eq!(items[0]["item"], "Scope signed by management");
    assert_eq!(items[0]["done"], false);
    env.ok(&["scope", "approve"]);
    let approved = env.json(&["readiness"]);
    assert_eq!(approved["checklist"][0]["done"], true);
    assert!(approved["checklist"][0]["why"].as_str().unwrap().contains("cli:tester"));
    env.ok(&[
        "scope",
        "component",
        "add",
        "--kind",
        "data",
        "--name",
        "Card data",
        "--out-of-scope",
        "--reason",
        "Stripe holds it",
    ]);
    let changed = env.json(&["readiness"]);
    assert_eq!(
        changed["checklist"][0]["done"], false,
        "a change after sign-off needs a new one"
    );
    env.ok(&[
        "events",
        "add",
        "--id",
        "TT-1",
        "--kind",
        "tabletop_exercise",
        "--title",
        "Tabletop",
        "--date",
        &day(-3),
    ]);
    let with_tabletop = env.json(&["readiness"]);
    let tabletop = with_tabletop["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == "An incident-response tabletop done")
        .unwrap();
    assert_eq!(tabletop["done"], true);
    let phases: Vec<&str> = with_tabletop["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        [
            "kickoff",
            "gap assessment",
            "remediation",
            "readiness review",
            "audit date",
            "fieldwork and report"
        ]
    );
    assert_eq!(with_tabletop["timeline"][4]["start"], day(120));
    let current: Vec<&Value> = with_tabletop["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["phase"], "gap assessment");

    // The plan: one task per gap, due before the audit date, idempotent, people's progress kept.
    let planned = env.json(&["readiness", "--plan"]);
    let created = planned["plan"]["created"].as_u64().unwrap();
    assert_eq!(created as usize, planned["gaps"].as_array().unwrap().len());
    let again = env.json(&["readiness", "--plan"]);
    assert_eq!(
        (again["plan"]["created"].as_u64(), again["plan"]["unchanged"].as_u64()),
        (Some(0), Some(created))
    );
    let tasks = env.json(&["tasks", "list"]);
    let first = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["control"] == "ACC-01")
        .unwrap();
    assert!(first["due_date"].as_str().unwrap() < day(120).as_str());
    let id = first["id"].as_str().unwrap();
    env.ok(&["tasks", "update", id, "--status", "in_progress"]);
    let third = env.json(&["readiness", "--plan"]);
    assert_eq!(third["plan"]["created"], 0);
    assert_eq!(
        env.json(&["tasks", "show", id])["status"],
        "in_progress",
        "re-planning keeps a person's progress"
    );
    env.assert_verified();
}

fn failing_checks_get_a_grace_period(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.ok(&[
        "scope",
        "set",
        "--type",
        "1",
        "--categories",
        "security",
        "--as-of",
        &day(120),
    ]);
    let hr = env.write_file(
        "hr.csv",
        b"email,name,employment_type,start_date\nana@acme.example,Ana,employee,2022-01-10\n",
    );
    env.ok(&["import", "people", hr.to_str().unwrap()]);
    let reason_of = |r: &Value| -> Value {
        let hrs = r["control_status"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == "HRS-01")
            .unwrap()
            .clone();
        hrs["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["subject"] == "background-checks")
            .unwrap()
            .clone()
    };
    // Never failed before: inside the grace period.
    let fresh = reason_of(&env.json(&["readiness"]));
    assert_eq!(fresh["severity"], "failing_check_in_grace");
    assert!(
        fresh["text"]
            .as_str()
            .unwrap()
            .contains(&format!("grace until {}", day(7))),
        "{fresh}"
    );
    // A kept run shows it failing for ten days: past the grace, a gap.
    let ten_days_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(10)).unix_timestamp() * 1000;
    env.sql(&[&format!(
        "INSERT INTO check_runs (id, run_id, check_id, at, status, passed, failed, excluded, actor) \
         VALUES ('01OLDRUN', '01OLD', 'background-checks', {ten_days_ago}, 'fail', 0, 1, 0, 'cli:tester')"
    )])
    .unwrap();
    env.ok(&["check", "run"]);
    let old = reason_of(&env.json(&["readiness"]));
    assert_eq!(old["severity"], "failing_check");
    assert!(
        old["text"].as_str().unwrap().contains(&format!("since {}", day(-10))),
        "{old}"
    );
}

fn csv_reports(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.refused(
        &[
            "report",
            "gaps",
            "--out",
            env.tmp.path().join("g.csv").to_str().unwrap(),
        ],
        &["no audit scope set yet"],
    );
    env.ok(&[
        "scope",
        "set",
        "--type",
        "1",
        "--categories",
        "security",
        "--as-of",
        &day(90),
    ]);
    let f = env.write_file("review.csv", b"user,decision");
    let item = env.json(&[
        "evidence",
        "add",
        f.to_str().unwrap(),
        "--control",
        "ACC-08",
        "--effective",
        &day(-2),
    ]);

    let matrix = env.tmp.path().join("matrix.csv");
    env.ok(&["report", "controls", "--out", matrix.to_str().unwrap()]);
    let mut reader = csv::Reader::from_path(&matrix).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "Control",
            "Title",
            "Criteria",
            "Owner",
            "Frequency",
            "Nature",
            "Status",
            "Why",
            "Current evidence"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), library_controls(), "one row per control");
    let acc08 = rows.iter().find(|r| &r[0] == "ACC-08").unwrap();
    assert!(acc08[8].contains(item["id"].as_str().unwrap()) && acc08[8].contains(item["sha256"].as_str().unwrap()));
    assert!(acc08[8].contains(&day(-2)));
    let na = rows.iter().filter(|r| &r[6] == "not applicable").count();
    assert_eq!(
        na as u64,
        env.json(&["readiness"])["controls"]["not_applicable"].as_u64().unwrap()
    );

    let gaps = env.tmp.path().join("gaps.csv");
    env.ok(&["report", "gaps", "--format", "csv", "--out", gaps.to_str().unwrap()]);
    let lines = csv::Reader::from_path(&gaps).unwrap().records().count();
    assert_eq!(lines, env.json(&["readiness"])["gaps"].as_array().unwrap().len());

    let nowhere = env.tmp.path().join("missing-dir/gaps.csv");
    env.refused(
        &["report", "gaps", "--out", nowhere.to_str().unwrap()],
        &["--out", "cannot write"],
    );
    assert!(!nowhere.parent().unwrap().exists());
    env.refused(&["controls", "list", "--format", "csv"], &["that is a report format"]);
}

/// What the server does after evidence writes: readiness brought up to date from only the items
/// their audit-log entries name (each read again, with the version it supersedes) is exactly
/// the readiness computed from scratch, after a new item, a new version, a withdrawal and a
/// relink together.
fn evidence_writes_patch_readiness_like_a_full_assessment(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.scope_type2(&format!("{}..{}", day(-30), day(150)));
    let first = env.write_file("first.pdf", b"first");
    let kept = env.json(&[
        "evidence",
        "add",
        first.to_str().unwrap(),
        "--control",
        "PHY-02",
        "--effective",
        &day(-3),
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ws = rt
        .block_on(evident_store::Workspace::open(&env.dir, "test:in-process"))
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let mut before = rt.block_on(ws.assess(now.date(), now)).unwrap();
    before.keep_only_evidence_reader_facts();
    let head = rt.block_on(ws.audit_head()).unwrap();

    let second = env.write_file("second.csv", b"user,decision");
    let added = env.json(&[
        "evidence",
        "add",
        second.to_str().unwrap(),
        "--control",
        "ACC-08",
        "--effective",
        &day(-1),
    ]);
    let third = env.write_file("third.pdf", b"third");
    env.ok(&[
        "evidence",
        "supersede",
        kept["id"].as_str().unwrap(),
        third.to_str().unwrap(),
    ]);
    let relinked = added["id"].as_str().unwrap();
    rt.block_on(ws.relink_evidence(
        relinked,
        vec![
            evident_store::LinkTo::control("PHY-02"),
            evident_store::LinkTo::control("ACC-08"),
        ],
        "also shows the badge log",
    ))
    .unwrap();
    let fourth = env.write_file("fourth.txt", b"fourth");
    let withdrawn = env.json(&["evidence", "add", fourth.to_str().unwrap(), "--control", "ACC-08"]);
    env.ok(&[
        "evidence",
        "withdraw",
        withdrawn["id"].as_str().unwrap(),
        "--reason",
        "wrong file",
    ]);

    let changed: Vec<String> = rt
        .block_on(ws.audit_actions(head, i64::MAX))
        .unwrap()
        .into_iter()
        .filter_map(|(_, subject)| subject.strip_prefix("evidence:").map(str::to_string))
        .collect();
    assert!(
        !changed.contains(&kept["id"].as_str().unwrap().to_string()),
        "the superseded version is not named by any entry, so the patch must find it itself"
    );
    let patched = rt
        .block_on(ws.reassess_after_evidence(&before, Some(&changed), now))
        .unwrap();
    let full = rt.block_on(ws.assess(now.date(), now)).unwrap();
    assert!(
        patched.program.evidence.len() >= before.program.evidence.len() + 3,
        "a new item, a new version and an item withdrawn since"
    );
    assert_eq!(patched.program.evidence, full.program.evidence);
    assert_eq!(patched.readiness, full.readiness);
    assert_eq!(patched.checks, full.checks);
    assert_ne!(before.readiness, full.readiness, "the writes changed readiness");
}
