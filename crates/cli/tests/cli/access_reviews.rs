//! Access review campaigns end to end through the binary and the API: a campaign frozen over
//! an Okta export, decided by two reviewers (a self-review refused, another reviewer's item not
//! found, an employee deciding for their reports), a removal shown by the next import, and the
//! campaign closed into evidence that the checks and the window count.

use serde_json::{Value, json};

use super::common::*;
use super::server::{Server, http};

on_both_databases!(
    a_campaign_runs_from_frozen_list_to_evidence,
    joiners_movers_and_leavers_are_reconciled_with_the_accounts,
    machine_identities_and_privileged_grants_are_checked,
    github_exports_and_a_privileged_review,
);

fn okta(users: &[(&str, &str, &str)]) -> String {
    let list: Vec<Value> = users
        .iter()
        .map(|(id, login, status)| {
            json!({"id": id, "status": status, "created": "2024-01-10T00:00:00.000Z",
                   "lastLogin": format!("{}T08:00:00.000Z", day(-2)),
                   "profile": {"login": login, "email": login}})
        })
        .collect();
    Value::Array(list).to_string()
}

fn call(base: &str, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let (status, text) = http(base, method, path, Some(token), body.as_ref(), &[]);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn item_of<'a>(items: &'a Value, login: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["username"] == login)
        .unwrap_or_else(|| panic!("no item for {login}: {items}"))
}

/// A workspace with a Type II window over the given days from today, and Cleo (CEO), Tom (CTO,
/// reporting to her) and Dev (reporting to Tom) in the people register, plus `more` rows.
fn company(b: Backend, (from, to): (i64, i64), more: &[&str]) -> Env {
    let env = Env::new(b);
    env.init();
    env.scope_type2(&format!("{}..{}", day(from), day(to)));
    let mut hr = "email,name,employment_type,start_date,manager_email\n\
                  ceo@acme.example,Cleo,employee,2020-01-10,\n\
                  cto@acme.example,Tom,employee,2021-01-10,ceo@acme.example\n\
                  dev@acme.example,Dev,employee,2022-01-10,cto@acme.example\n"
        .to_string();
    for row in more {
        hr.push_str(row);
        hr.push('\n');
    }
    env.ok(&[
        "import",
        "people",
        env.write_file("hr.csv", hr.as_bytes()).to_str().unwrap(),
    ]);
    env
}

fn a_campaign_runs_from_frozen_list_to_evidence(b: Backend) {
    let env = company(
        b,
        (-40, 140),
        &["ops@acme.example,Ops,employee,2022-01-10,cto@acme.example"],
    );
    let assets = "name,kind,owner,classification,in_scope\nOkta,software,lead@acme.example,restricted,true\n";
    env.ok(&[
        "import",
        "assets",
        env.write_file("assets.csv", assets.as_bytes()).to_str().unwrap(),
    ]);

    // Nothing imported yet: a campaign says so and changes nothing.
    let future = day(14);
    env.refused(
        &[
            "access-reviews",
            "start",
            "--name",
            "Q4",
            "--system",
            "okta",
            "--due",
            &future,
        ],
        &["--system", "no accounts have been imported for 'okta'"],
    );
    let users = [
        ("00u1", "ceo@acme.example", "ACTIVE"),
        ("00u2", "cto@acme.example", "ACTIVE"),
        ("00u3", "dev@acme.example", "ACTIVE"),
        ("00u4", "ops@acme.example", "ACTIVE"),
        ("00u5", "ghost@acme.example", "ACTIVE"),
    ];
    env.ok(&[
        "import",
        "okta-users",
        env.write_file("okta.json", okta(&users).as_bytes()).to_str().unwrap(),
    ]);
    env.refused(
        &[
            "access-reviews",
            "start",
            "--name",
            "Q4",
            "--system",
            "jira",
            "--due",
            &future,
        ],
        &[
            "no accounts have been imported for 'jira'",
            "systems with accounts: okta",
        ],
    );
    env.refused(
        &[
            "access-reviews",
            "start",
            "--name",
            "Q4",
            "--system",
            "okta",
            "--due",
            &day(-1),
        ],
        &["--due", "in the past"],
    );
    assert_eq!(env.json(&["access-reviews", "list"]), json!([]));

    let c = env.json(&[
        "access-reviews",
        "start",
        "--name",
        "Q4 Okta",
        "--system",
        "okta",
        "--due",
        &future,
    ]);
    let campaign = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["progress"]["items"], 5);
    let shown = env.json(&["access-reviews", "show", &campaign]);
    let items = &shown["items"];
    // Managers review their reports; the top of the line and the orphan go to the system's owner.
    for (login, reviewer) in [
        ("dev@acme.example", "cto@acme.example"),
        ("ops@acme.example", "cto@acme.example"),
        ("cto@acme.example", "ceo@acme.example"),
        ("ceo@acme.example", "lead@acme.example"),
        ("ghost@acme.example", "lead@acme.example"),
    ] {
        assert_eq!(item_of(items, login)["reviewer"], reviewer, "{login}");
    }
    assert!(
        item_of(items, "ghost@acme.example")["note"]
            .as_str()
            .unwrap()
            .contains("system's owner")
    );
    // The frozen list is an evidence item naming the import each account came from.
    let frozen = env.json(&["evidence", "show", c["frozen_evidence"].as_str().unwrap()]);
    assert!(
        frozen["title"].as_str().unwrap().contains("5 accounts frozen"),
        "{frozen}"
    );
    assert!(
        frozen["controls"].to_string().contains("ACC-08"),
        "the frozen list is evidence for ACC-08: {frozen}"
    );

    // Reviewers sign in: Tom (an employee) reviews his reports, Cleo reviews Tom, the lead the rest.
    let mut tokens = std::collections::BTreeMap::new();
    for (who, role) in [
        ("cto@acme.example", "employee"),
        ("ceo@acme.example", "control_owner"),
        ("lead@acme.example", "compliance_manager"),
    ] {
        env.json(&["users", "add", who, "--role", role]);
        let t = env.json(&[
            "tokens", "create", "--user", who, "--name", "reviews", "--scope", "write",
        ]);
        tokens.insert(who, t["secret"].as_str().unwrap().to_string());
    }
    let server = Server::start(&env, "admin@acme.example");
    let base = server.base.clone();
    let (tom, cleo, lead) = (
        tokens["cto@acme.example"].as_str(),
        tokens["ceo@acme.example"].as_str(),
        tokens["lead@acme.example"].as_str(),
    );
    let (status, inbox) = call(&base, "GET", "/api/v1/access-reviews/inbox", tom, None);
    assert_eq!(status, 200);
    assert_eq!(
        (inbox["total"].as_i64(), inbox["undecided"].as_i64()),
        (Some(2), Some(2)),
        "{inbox}"
    );
    let mut mine: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["username"].as_str().unwrap())
        .collect();
    mine.sort();
    assert_eq!(mine, ["dev@acme.example", "ops@acme.example"]);
    // An employee sees only the campaign's items that are theirs.
    let (status, seen) = call(
        &base,
        "GET",
        &format!("/api/v1/access-reviews/{campaign}/items"),
        tom,
        None,
    );
    assert_eq!((status, seen.as_array().unwrap().len()), (200, 2));

    let id = |login: &str| item_of(items, login)["id"].as_str().unwrap().to_string();
    let decide = |token: &str, login: &str, body: Value| {
        call(
            &base,
            "POST",
            &format!("/api/v1/review-items/{}/decision", id(login)),
            token,
            Some(body),
        )
    };
    // Another reviewer's item (here Tom's own account, Cleo's to decide) is not found.
    let (status, _) = decide(tom, "cto@acme.example", json!({"decision": "keep"}));
    assert_eq!(status, 404);
    let (status, e) = decide(tom, "dev@acme.example", json!({"decision": "revoke"}));
    assert_eq!((status, e["field"].as_str()), (422, Some("reason")), "{e}");
    let (status, decided) = decide(
        tom,
        "dev@acme.example",
        json!({"decision": "revoke", "reason": "moved to sales"}),
    );
    assert_eq!(status, 200, "{decided}");
    let task = decided["task"].as_str().unwrap().to_string();
    let (status, again) = decide(tom, "dev@acme.example", json!({"decision": "keep"}));
    assert_eq!(status, 409, "a decision is final: {again}");
    // Undecided first: Ops waits above the decided Dev.
    let (_, inbox) = call(&base, "GET", "/api/v1/access-reviews/inbox", tom, None);
    let items_of = &inbox["items"];
    assert_eq!(items_of[0]["username"], "ops@acme.example", "{inbox}");
    assert_eq!(
        (items_of[1]["decision"].as_str(), items_of[1]["task"].as_str()),
        (Some("revoke"), Some(task.as_str()))
    );
    assert_eq!(inbox["campaigns"][0]["undecided"], 1, "{inbox}");
    // A page at a time: the second of two pages of one, and limits out of range refused.
    let (status, page) = call(&base, "GET", "/api/v1/access-reviews/inbox?limit=1&offset=1", tom, None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        (
            page["items"][0]["username"].as_str(),
            page["items"].as_array().map(Vec::len),
            page["next_offset"].as_i64()
        ),
        (Some("dev@acme.example"), Some(1), None),
        "{page}"
    );
    let (_, first) = call(&base, "GET", "/api/v1/access-reviews/inbox?limit=1", tom, None);
    assert_eq!(first["next_offset"], 1, "{first}");
    let (status, e) = call(&base, "GET", "/api/v1/access-reviews/inbox?limit=0", tom, None);
    assert_eq!((status, e["field"].as_str()), (422, Some("limit")), "{e}");
    let (status, e) = call(&base, "GET", "/api/v1/access-reviews/inbox?offset=x", tom, None);
    assert_eq!((status, e["field"].as_str()), (400, Some("offset")), "{e}");
    assert_eq!(decide(tom, "ops@acme.example", json!({"decision": "keep"})).0, 200);
    assert_eq!(decide(cleo, "cto@acme.example", json!({"decision": "keep"})).0, 200);
    // Nobody reviews their own account: giving Cleo's to Cleo is refused, naming why.
    let (status, e) = call(
        &base,
        "PUT",
        &format!("/api/v1/review-items/{}/reviewer", id("ceo@acme.example")),
        lead,
        Some(json!({"reviewer": "ceo@acme.example"})),
    );
    assert_eq!(status, 422, "{e}");
    assert!(e["error"].as_str().unwrap().contains("holds this account"), "{e}");
    // An employee cannot manage a campaign.
    let (status, _) = call(
        &base,
        "POST",
        &format!("/api/v1/access-reviews/{campaign}/close"),
        tom,
        Some(json!({})),
    );
    assert_eq!(status, 403);
    assert_eq!(decide(lead, "ceo@acme.example", json!({"decision": "keep"})).0, 200);
    let (status, _) = decide(
        lead,
        "ghost@acme.example",
        json!({"decision": "change", "reason": "shared account", "change": "read-only"}),
    );
    assert_eq!(status, 200);

    // Not complete yet: closing is refused with the counts, unless told to close anyway.
    let (status, e) = call(
        &base,
        "POST",
        &format!("/api/v1/access-reviews/{campaign}/close"),
        lead,
        Some(json!({})),
    );
    assert_eq!(status, 409, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("2 revocations are not yet seen"),
        "{e}"
    );
    let task_row = env.json(&["tasks", "show", &task]);
    assert_eq!(
        (task_row["owner"].as_str(), task_row["status"].as_str()),
        (Some("lead@acme.example"), Some("open"))
    );

    // The next export: Dev is gone and the shared account disabled. The removals are seen, with
    // the import as proof, and their tasks are done; the frozen list keeps Dev.
    let next = [
        users[0],
        users[1],
        users[3],
        ("00u5", "ghost@acme.example", "SUSPENDED"),
    ];
    let imported = env.json(&[
        "import",
        "okta-users",
        env.write_file("okta2.json", okta(&next).as_bytes()).to_str().unwrap(),
    ]);
    assert_eq!(imported["revocations_seen"], 2, "{imported}");
    assert_eq!(env.json(&["tasks", "show", &task])["status"], "done");
    let (_, items) = call(
        &base,
        "GET",
        &format!("/api/v1/access-reviews/{campaign}/items"),
        lead,
        None,
    );
    assert_eq!(items.as_array().unwrap().len(), 5);
    let dev = item_of(&items, "dev@acme.example");
    assert!(
        dev["carried_out_at"].is_string() && dev["time_to_revoke"].is_string(),
        "{dev}"
    );

    let (status, closed) = call(
        &base,
        "POST",
        &format!("/api/v1/access-reviews/{campaign}/close"),
        lead,
        Some(json!({})),
    );
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closing"]["open"], json!([]));
    let pdf_id = closed["closing"]["pdf_evidence"].as_str().unwrap();
    let csv_id = closed["closing"]["csv_evidence"].as_str().unwrap();
    let (status, csv) = http(
        &base,
        "GET",
        &format!("/api/v1/evidence/{csv_id}/content"),
        Some(lead),
        None,
        &[],
    );
    assert_eq!(status, 200);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("okta,dev@acme.example,") && l.contains("revoke") && l.contains("moved to sales")),
        "{csv}"
    );
    let pdf = env.dir.join("summary.pdf");
    let out = std::process::Command::new("curl")
        .args(["-s", "-o"])
        .arg(&pdf)
        .arg("-H")
        .arg(format!("Authorization: Bearer {lead}"))
        .arg(format!("{base}/api/v1/evidence/{pdf_id}/content"))
        .status()
        .unwrap();
    assert!(out.success());
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for needle in [
        "Access review: Q4 Okta",
        "lead@acme.example closed this review",
        "moved to sales",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    // A closed campaign takes no more decisions.
    let (status, _) = call(
        &base,
        "POST",
        &format!("/api/v1/access-reviews/{campaign}/close"),
        lead,
        Some(json!({})),
    );
    assert_eq!(status, 409);
    drop(server);

    // The closing is an access-review event the check and the window count.
    let events = env.json(&["events", "list"]);
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "access_review")
        .unwrap_or_else(|| panic!("no access-review event: {events}"));
    assert_eq!(event["date"], day(0));
    let run = env.json(&["check", "run", "--check", "access-review-quarter"]);
    assert_eq!(result(&run, "access-review-quarter")["status"], "pass", "{run}");
    let window = env.json(&["window"]);
    let acc08 = window["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ACC-08")
        .expect("ACC-08 in the window");
    let today = day(0);
    let current = acc08["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["start"].as_str().unwrap() <= today.as_str() && today.as_str() <= p["end"].as_str().unwrap())
        .unwrap_or_else(|| panic!("a period of ACC-08 holding today: {acc08}"));
    assert_eq!(current["status"], "met", "{current}");
    assert!(
        current["evidence"].to_string().contains("Access review: Q4 Okta"),
        "the review attests to the period: {current}"
    );
    let actions = env.audit_actions();
    for a in ["access_review.start", "access_review.decide", "access_review.close"] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    env.assert_verified();
}

fn kinds_of(findings: &Value, who: &str) -> Vec<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["person"] == who || f["account"] == who)
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

fn joiners_movers_and_leavers_are_reconciled_with_the_accounts(b: Backend) {
    let env = Env::new(b);
    env.init();
    let hr = format!(
        "email,name,employment_type,start_date,end_date,department,manager_email\n\
         lead@acme.example,Lee,employee,2020-01-10,,Security,\n\
         mover@acme.example,Mo,employee,2021-01-10,,Engineering,lead@acme.example\n\
         leaver@acme.example,Lia,employee,2021-01-10,{},Engineering,lead@acme.example\n\
         temp@acme.example,Tim,contractor,2025-01-10,{},Engineering,lead@acme.example\n\
         new@acme.example,Nia,employee,{},,Engineering,lead@acme.example\n",
        day(-5),
        day(-3),
        day(-60)
    );
    env.ok(&[
        "import",
        "people",
        env.write_file("hr.csv", hr.as_bytes()).to_str().unwrap(),
    ]);
    let training = "email,course,kind,completed_on\n\
                    lead@acme.example,Awareness,security_awareness,2020-01-20\n\
                    mover@acme.example,Awareness,security_awareness,2021-01-20\n";
    env.ok(&[
        "import",
        "training",
        env.write_file("training.csv", training.as_bytes()).to_str().unwrap(),
    ]);
    let users = [
        ("00u1", "lead@acme.example", "ACTIVE"),
        ("00u2", "mover@acme.example", "ACTIVE"),
        ("00u3", "leaver@acme.example", "ACTIVE"),
        ("00u4", "temp@acme.example", "ACTIVE"),
        ("00u5", "stranger@acme.example", "ACTIVE"),
    ];
    env.ok(&[
        "import",
        "okta-users",
        env.write_file("okta.json", okta(&users).as_bytes()).to_str().unwrap(),
    ]);
    // Mo moves to Sales today.
    env.ok(&["people", "update", "mover@acme.example", "--department", "Sales"]);

    let now = env.json(&["jml", "list"]);
    assert_eq!(kinds_of(&now, "leaver@acme.example"), ["leaver"], "{now}");
    assert_eq!(kinds_of(&now, "temp@acme.example"), ["contractor_past_end"], "{now}");
    assert_eq!(kinds_of(&now, "okta/stranger@acme.example"), ["orphan"], "{now}");
    // Nia joined 60 days ago: no Okta account, no training.
    assert_eq!(kinds_of(&now, "new@acme.example"), ["joiner", "joiner"], "{now}");
    assert!(
        kinds_of(&now, "mover@acme.example").is_empty(),
        "the move is not late yet: {now}"
    );
    // In 40 days, Mo's move will be late unless reviewed.
    let later = env.json(&["jml", "list", "--as-of", &day(40), "--kind", "mover"]);
    let reason = later[0]["reason"].as_str().unwrap_or_default();
    assert!(
        later.as_array().unwrap().len() == 1 && reason.contains("from 'Engineering' to 'Sales'"),
        "{later}"
    );
    env.refused(&["jml", "list", "--kind", "visitor"], &["--kind", "visitor"]);
    // The check sees the same move, replayed from the audit log, not late yet.
    let run = env.json(&["check", "run", "--check", "movers-access-reviewed"]);
    let mover = result(&run, "movers-access-reviewed");
    assert_eq!(
        (mover["passed"].as_i64(), mover["failed"].as_i64()),
        (Some(1), Some(0)),
        "{run}"
    );

    // A campaign deciding on Mo's account is the review the move needed.
    let c = env.json(&[
        "access-reviews",
        "start",
        "--name",
        "Mover check",
        "--system",
        "okta",
        "--due",
        &day(7),
    ]);
    let shown = env.json(&["access-reviews", "show", c["id"].as_str().unwrap()]);
    let mo = item_of(&shown["items"], "mover@acme.example");
    assert_eq!(mo["reviewer"], "lead@acme.example");
    let out = env
        .command(&["access-reviews", "decide", mo["id"].as_str().unwrap(), "keep"])
        .env("EVIDENT_ACTOR", "lead@acme.example")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let later = env.json(&["jml", "list", "--as-of", &day(40), "--kind", "mover"]);
    assert_eq!(later, json!([]), "reviewed within the policy's days");

    // The timeline tells Mo's story in order, Lia's with the finding.
    let mo = env.json(&["jml", "person", "mover@acme.example"]);
    let lines: Vec<&str> = mo
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["what"].as_str().unwrap())
        .collect();
    assert!(lines[0].contains("Mo started"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("department changed from 'Engineering' to 'Sales'")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("'Mover check': okta/mover@acme.example kept by lead@acme.example")),
        "{lines:?}"
    );
    let lia = env.json(&["jml", "person", "leaver@acme.example"]);
    assert!(
        lia.as_array()
            .unwrap()
            .iter()
            .any(|m| m["problem"] == true && m["what"].as_str().unwrap().contains("still active")),
        "{lia}"
    );
    env.refused(
        &["jml", "person", "nobody@acme.example"],
        &["not in the people register"],
    );

    // The same through the API, for the roles that read people.
    let server = Server::start(&env, "admin@acme.example");
    let admin = env.admin_token();
    let (status, list) = call(&server.base, "GET", "/api/v1/jml?kind=orphan", &admin, None);
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)), "{list}");
    let (status, e) = call(&server.base, "GET", "/api/v1/jml?as_of=tomorrow", &admin, None);
    assert_eq!((status, e["field"].as_str()), (422, Some("as_of")), "{e}");
    let (status, _) = call(
        &server.base,
        "GET",
        "/api/v1/jml/people/nobody@acme.example",
        &admin,
        None,
    );
    assert_eq!(status, 404);
}

fn failing(run: &Value, check: &str) -> Vec<String> {
    result(run, check)["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["record"].as_str().unwrap().to_string())
        .collect()
}

fn machine_identities_and_privileged_grants_are_checked(b: Backend) {
    let env = Env::new(b);
    env.json(&["generate", "--size", "s", "--seed", "7"]);
    let run = env.json(&["check", "run"]);
    // The generated company left one service account out of the register, and one grant ended
    // while its administrator kept the access.
    let unowned = failing(&run, "machine-identities-owned");
    assert_eq!(unowned.len(), 1, "{unowned:?}");
    let overstayed = failing(&run, "access-grants-expire");
    assert_eq!(overstayed.len(), 1, "{overstayed:?}");
    let uncovered = failing(&run, "privileged-access-granted-or-reviewed");
    assert!(!uncovered.is_empty());

    // Registering the service account with its owner passes it.
    let (system, account) = unowned[0].split_once('/').unwrap();
    let lead = env.json(&["people", "list"])[0]["email"].as_str().unwrap().to_string();
    let csv = format!("system,account,owner,purpose,rotation_days\n{system},{account},{lead},nightly exports,30\n");
    env.ok(&[
        "import",
        "machine-identities",
        env.write_file("mi.csv", csv.as_bytes()).to_str().unwrap(),
    ]);
    let run = env.json(&["check", "run", "--check", "machine-identities-owned"]);
    assert_eq!(result(&run, "machine-identities-owned")["status"], "pass", "{run}");

    // A grant approved by the person it elevates is refused, naming the row and field.
    // An administrator signed in by email (source-code logins are usernames).
    let target = uncovered
        .iter()
        .find(|r| r.split_once('/').unwrap().1.contains('@'))
        .expect("an uncovered administrator with an email login")
        .clone();
    let (asystem, email) = target.split_once('/').unwrap();
    let bad = format!(
        "id,email,system,access,reason,approved_by,starts_on,ends_on\nAG-99,{email},{asystem},administrator,incident,{email},{},{}\n",
        day(-1),
        day(10)
    );
    let out = env.run(&[
        "import",
        "access-grants",
        env.write_file("bad.csv", bad.as_bytes()).to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("approved_by") && said.contains("nobody approves their own elevation"),
        "{said}"
    );
    let good = bad.replace(&format!("incident,{email}"), &format!("incident,{lead}"));
    env.ok(&[
        "import",
        "access-grants",
        env.write_file("good.csv", good.as_bytes()).to_str().unwrap(),
    ]);
    let run = env.json(&["check", "run", "--check", "privileged-access-granted-or-reviewed"]);
    assert!(
        !failing(&run, "privileged-access-granted-or-reviewed").contains(&target),
        "{run}"
    );
}

/// The period of `control` in the window that holds today.
fn current_period(window: &Value, control: &str) -> Value {
    let today = day(0);
    window["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == control)
        .unwrap_or_else(|| panic!("{control} in the window"))["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["start"].as_str().unwrap() <= today.as_str() && today.as_str() <= p["end"].as_str().unwrap())
        .unwrap_or_else(|| panic!("a period of {control} holding today: {window}"))
        .clone()
}

fn github_exports_and_a_privileged_review(b: Backend) {
    let env = company(b, (-10, 170), &[]);
    let members = json!([
        {"login": "tom-cto", "id": 11, "type": "User"},
        {"login": "devdev", "id": 12, "type": "User"},
        {"login": "cleo", "id": 13, "type": "User"}
    ]);
    let owners = json!([{"login": "tom-cto", "id": 11, "type": "User"}]);
    let apps = json!({"total_count": 1, "installations": [
        {"id": 501, "app_slug": "release-bot", "permissions": {"contents": "write", "administration": "write"},
         "created_at": "2025-03-01T00:00:00Z", "suspended_at": null}]});
    let tokens = json!([{"id": 1, "owner": {"login": "devdev"}, "token_id": 777, "token_name": "ci",
        "token_expired": false, "token_expires_at": null, "access_granted_at": "2024-01-05T00:00:00Z",
        "token_last_used_at": format!("{}T09:00:00Z", day(-1))}]);
    let saml = json!({"data": {"organization": {"samlIdentityProvider": {"externalIdentities": {"edges": [
        {"node": {"samlIdentity": {"nameId": "cto@acme.example"}, "user": {"login": "tom-cto"}}},
        {"node": {"samlIdentity": {"nameId": "dev@acme.example"}, "user": {"login": "devdev"}}},
        {"node": {"samlIdentity": {"nameId": "ceo@acme.example"}, "user": {"login": "cleo"}}}
    ]}}}}});
    let path = |name: &str, v: &Value| {
        env.write_file(name, v.to_string().as_bytes())
            .to_str()
            .unwrap()
            .to_string()
    };
    let (m, o, a, t, sm) = (
        path("members.json", &members),
        path("owners.json", &owners),
        path("apps.json", &apps),
        path("tokens.json", &tokens),
        path("saml.json", &saml),
    );
    // A file that is none of GitHub's exports is refused by name, and nothing is stored.
    let odd = path("odd.json", &json!({"hello": "world"}));
    env.refused(
        &["import", "github-members", &m, "--with", &odd],
        &["odd.json", "not a GitHub export"],
    );
    env.refused(
        &[
            "access-reviews",
            "start",
            "--name",
            "x",
            "--system",
            "github",
            "--due",
            &day(7),
        ],
        &["no accounts have been imported for 'github'"],
    );
    env.ok(&[
        "import",
        "github-members",
        &m,
        "--with",
        &o,
        "--with",
        &a,
        "--with",
        &t,
        "--with",
        &sm,
    ]);
    let run = env.json(&["check", "run"]);
    // The installed app is a machine identity nobody owns yet; the year-old token is overdue.
    assert_eq!(
        failing(&run, "machine-identities-owned"),
        ["github/app/release-bot"],
        "{run}"
    );
    let keys = failing(&run, "access-keys-rotated");
    assert!(
        keys.len() == 1 && keys[0].contains("devdev") && keys[0].contains("'ci'"),
        "{keys:?}"
    );
    // Logins map to people through the SAML identities: nobody is an orphan.
    assert!(failing(&run, "accounts-belong-to-people").is_empty(), "{run}");

    // A review of administrators only: the owner and the app, reviewed by the manager (Cleo)
    // and the campaign owner.
    let c = env.json(&[
        "access-reviews",
        "start",
        "--name",
        "Owners",
        "--system",
        "github",
        "--coverage",
        "privileged",
        "--due",
        &day(7),
    ]);
    let id = c["id"].as_str().unwrap().to_string();
    let shown = env.json(&["access-reviews", "show", &id]);
    let mut held: Vec<&str> = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["username"].as_str().unwrap())
        .collect();
    held.sort();
    assert_eq!(held, ["app/release-bot", "tom-cto"], "{shown}");
    let tom = item_of(&shown["items"], "tom-cto");
    assert_eq!(tom["reviewer"], "ceo@acme.example");
    let as_cleo = |args: &[&str]| {
        let out = env
            .command(args)
            .env("EVIDENT_ACTOR", "ceo@acme.example")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null)
    };
    as_cleo(&["access-reviews", "decide", tom["id"].as_str().unwrap(), "keep"]);
    env.ok(&["access-reviews", "close", &id, "--anyway"]);
    let events = env.json(&["events", "list"]);
    assert_eq!(events[0]["kind"], "privileged_access_review", "{events}");
    // It attests the privileged review (ACC-10), not the review of every user (ACC-08).
    let window = env.json(&["window"]);
    assert_eq!(current_period(&window, "ACC-10")["status"], "met", "{window}");
    assert_ne!(current_period(&window, "ACC-08")["status"], "met", "{window}");

    // The schedule (for cron): every account was never reviewed, so one campaign over all of
    // them starts, due in the lead's days; once it runs, nothing more is due.
    let started = env.json(&["access-reviews", "start-due", "--lead", "10"]);
    assert_eq!(started.as_array().map(Vec::len), Some(1), "{started}");
    assert_eq!(
        (started[0]["coverage"].as_str(), started[0]["due"].as_str()),
        (Some("all"), Some(day(10).as_str()))
    );
    assert_eq!(env.json(&["access-reviews", "start-due"]), json!([]));
    // Tom's owner account was kept at the same level last time: one click keeps it again, in
    // one transaction with its audit entry; a second click finds nothing left.
    let kept = as_cleo(&["--format", "json", "access-reviews", "keep-unchanged"]);
    assert_eq!(kept["kept"], 1, "{kept}");
    let all = env.json(&["access-reviews", "show", started[0]["id"].as_str().unwrap()]);
    let again = item_of(&all["items"], "tom-cto");
    assert_eq!(
        (again["decision"].as_str(), again["decided_by"].as_str()),
        (Some("keep"), Some("ceo@acme.example"))
    );
    assert_eq!(
        as_cleo(&["--format", "json", "access-reviews", "keep-unchanged"])["kept"],
        0
    );
    env.refused(&["access-reviews", "start-due", "--lead", "400"], &["--lead", "400"]);
    env.assert_verified();
}
