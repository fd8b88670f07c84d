//! What a person does in the browser instead of at a command line: set and sign off the scope,
//! describe the system's components, make the remediation plan, download the control matrix,
//! read registers with their cross-register columns, move evidence to the right control, and
//! add an employee with their person record. Each through the real server, on both databases,
//! with the roles that may not.

use serde_json::Value;

use crate::common::{Backend, Env};
use crate::security::{Web, add_user, first_sign_in};
use crate::server::Server;

on_both_databases!(
    the_scope_is_set_and_signed_off_from_the_page,
    the_remediation_plan_and_the_matrix_come_from_the_gaps_page,
    registers_show_what_other_records_say,
    evidence_moves_to_another_control_without_losing_its_record,
    an_employee_is_added_with_their_person_record
);

/// A signed-in compliance manager (and the server), on a workspace `init` made.
fn lead(env: &Env) -> (Server, Web) {
    let one_time = add_user(env, "lead@bluefin.test", "compliance_manager");
    let server = Server::start(env, "first@bluefin.test");
    let web = Web::new(env, &server, "lead");
    first_sign_in(&web, "lead@bluefin.test", &one_time, "the lead's own passphrase", true);
    (server, web)
}

/// A signed-in user with a role that needs no second factor.
fn signed_in(env: &Env, server: &Server, email: &str, role: &str) -> Web {
    let one_time = add_user(env, email, role);
    let web = Web::new(env, server, role);
    first_sign_in(&web, email, &one_time, "a passphrase of their own", false);
    web
}

fn scope_set(env: &Env) {
    env.scope_type2("2026-01-01..2026-12-31");
}

fn the_scope_is_set_and_signed_off_from_the_page(b: Backend) {
    let env = Env::new(b);
    env.init();
    let (server, web) = lead(&env);
    let (status, _, page) = web.get("/scope");
    assert_eq!(status, 200);
    assert!(
        page.contains("Set the scope") && !page.contains("evident scope"),
        "{page}"
    );
    let csrf = web.csrf("/scope");

    // Refusals name the field, keep what was typed and change nothing.
    let (status, _, page) = web.post(
        "/scope",
        &[
            ("csrf", &csrf),
            ("type", "2"),
            ("categories", "availability"),
            ("window_from", "2026-06-01"),
            ("window_to", "2026-01-01"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("before it starts") && page.contains("value=\"2026-06-01\""),
        "{page}"
    );
    let (status, _, page) = web.post("/scope", &[("csrf", &csrf), ("type", "1"), ("categories", "security")]);
    assert_eq!(status, 422);
    assert!(page.contains("needs the date"), "{page}");
    assert!(env.json(&["scope", "show"])["type"].is_null(), "nothing was set");

    let (status, to, page) = web.post(
        "/scope",
        &[
            ("csrf", &csrf),
            ("type", "2"),
            ("categories", "availability"),
            ("window_from", "2026-01-01"),
            ("window_to", "2026-12-31"),
        ],
    );
    assert_eq!((status, to.as_str()), (303, "/scope?done=saved"), "{page}");
    let scope = env.json(&["scope", "show"]);
    assert_eq!(scope["categories"], serde_json::json!(["security", "availability"]));
    assert_eq!(scope["window"]["from"], "2026-01-01");

    let (status, _, _) = web.post("/scope/approve", &[("csrf", &csrf)]);
    assert_eq!(status, 303);
    let approval = &env.json(&["scope", "show"])["approval"];
    assert_eq!(approval["by"], "lead@bluefin.test");
    assert_eq!(approval["outdated"], false);

    // Components: a blank name is refused by field; added; a second of the same name refused.
    let add = |name: &str| {
        web.post(
            "/scope/components",
            &[
                ("csrf", &csrf),
                ("kind", "software"),
                ("name", name),
                ("in_scope", "yes"),
                ("reason", "the product"),
            ],
        )
    };
    let (status, _, page) = add("  ");
    assert_eq!(status, 422);
    assert!(page.contains("a component needs a name"), "{page}");
    assert_eq!(add("Billing API").0, 303);
    let (status, _, page) = add("Billing API");
    assert_eq!(status, 422);
    assert!(page.contains("already in the system description"), "{page}");
    let scope = env.json(&["scope", "show"]);
    assert_eq!(scope["components"][0]["name"], "Billing API");
    assert_eq!(
        scope["approval"]["outdated"], true,
        "a change after sign-off marks it outdated"
    );
    let (status, _, _) = web.post(
        "/scope/components/remove",
        &[("csrf", &csrf), ("kind", "software"), ("name", "Billing API")],
    );
    assert_eq!(status, 303);
    assert!(
        env.json(&["scope", "show"])["components"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A viewer reads the scope but has no form and cannot post.
    let viewer = signed_in(&env, &server, "viewer@bluefin.test", "viewer");
    let (status, _, page) = viewer.get("/scope");
    assert_eq!(status, 200);
    assert!(!page.contains("Change the scope") && !page.contains("Sign off this scope"));
    let vcsrf = viewer.csrf("/me");
    let (status, _, _) = viewer.post(
        "/scope",
        &[
            ("csrf", &vcsrf),
            ("type", "1"),
            ("categories", "security"),
            ("as_of", "2026-03-01"),
        ],
    );
    assert_eq!(status, 404);
    assert_eq!(env.json(&["scope", "show"])["type"], 2, "unchanged");

    // The same through the API, with the lead's token: the shape GET answers with goes back in.
    let token = env.json(&[
        "tokens",
        "create",
        "--user",
        "lead@bluefin.test",
        "--name",
        "scope",
        "--scope",
        "write",
    ])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |body: Value| crate::server::http(&server.base, "PUT", "/api/v1/scope", Some(&token), Some(&body), &[]);
    let (status, body) = put(
        serde_json::json!({"type": 1, "categories": ["security"], "window": {"from": "2026-01-01", "to": "2026-06-30"}}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["field"],
        "as_of",
        "{body}"
    );
    let (status, body) =
        put(serde_json::json!({"type": 1, "categories": ["security", "privacy"], "as_of": "2026-03-31"}));
    assert_eq!(status, 200, "{body}");
    let answered: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answered["type"].as_i64(), answered["as_of"].as_str()),
        (Some(1), Some("2026-03-31"))
    );
    let (status, body) = crate::server::http(&server.base, "POST", "/api/v1/scope/approval", Some(&token), None, &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["approval"]["outdated"],
        false
    );

    let actions = env.audit_actions();
    for a in [
        "scope.set",
        "scope.approve",
        "scope.component.add",
        "scope.component.remove",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    env.ok(&["verify"]);
}

fn the_remediation_plan_and_the_matrix_come_from_the_gaps_page(b: Backend) {
    let env = Env::new(b);
    env.init();
    scope_set(&env);
    let (server, web) = lead(&env);
    let (_, _, page) = web.get("/gaps");
    assert!(page.contains("Create the remediation plan"), "{page}");
    let csrf = web.csrf("/gaps");
    let gaps = env.json(&["readiness"])["gaps"].as_array().unwrap().len();
    assert!(gaps > 0);
    let (status, to, _) = web.post("/gaps/plan", &[("csrf", &csrf)]);
    assert_eq!(
        (status, to.as_str()),
        (303, format!("/tasks?done=planned-{gaps}-0").as_str())
    );
    let tasks = env.json(&["tasks", "list"]);
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), gaps, "one task per gap");
    assert!(
        tasks.iter().all(|t| !t["title"].as_str().unwrap().contains("evident ")),
        "titles are sentences, not commands"
    );
    let (_, _, page) = web.get(&to);
    assert!(page.contains("task(s) added"), "{page}");

    // A person's progress is kept when the plan is made again.
    let first = tasks[0]["id"].as_str().unwrap().to_string();
    env.ok(&["tasks", "update", &first, "--status", "in_progress"]);
    let (status, to, _) = web.post("/gaps/plan", &[("csrf", &csrf)]);
    assert_eq!(status, 303, "{to}");
    let again = env.json(&["tasks", "list"]);
    let kept = again
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == first.as_str())
        .unwrap();
    assert_eq!(kept["status"], "in_progress");
    assert!(env.audit_actions().iter().any(|a| a == "readiness.plan"));
    // The API plans the same way: nothing new to add now.
    let token = env.json(&[
        "tokens",
        "create",
        "--user",
        "lead@bluefin.test",
        "--name",
        "plan",
        "--scope",
        "write",
    ])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = crate::server::http(&server.base, "POST", "/api/v1/readiness/plan", Some(&token), None, &[]);
    assert_eq!(status, 200, "{body}");
    let planned: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (planned["created"].as_u64(), planned["unchanged"].as_u64()),
        (Some(0), Some(gaps as u64))
    );

    // The control matrix, for every control the caller reads.
    let out = env.tmp.path().join("matrix.xlsx");
    let (status, _, _) = web.curl(&["-o", out.to_str().unwrap()], "/gaps/controls.xlsx");
    assert_eq!(status, 0, "curl -o prints nothing");
    // `curl -i` writes the answer's head too: the file follows the blank line.
    let bytes = std::fs::read(&out).unwrap();
    let body = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&bytes[..body]).to_lowercase();
    assert!(
        head.contains("spreadsheetml") && head.contains("evident-control-matrix.xlsx"),
        "{head}"
    );
    assert!(bytes[body..].starts_with(b"PK"), "an xlsx (zip) file");

    // Roles that may not write tasks cannot plan.
    let owner = signed_in(&env, &server, "owner@bluefin.test", "control_owner");
    let (_, _, page) = owner.get("/gaps");
    assert!(!page.contains("Create the remediation plan"));
    let ocsrf = owner.csrf("/me");
    assert_eq!(owner.post("/gaps/plan", &[("csrf", &ocsrf)]).0, 404);
}

fn registers_show_what_other_records_say(b: Backend) {
    let env = Env::new(b);
    env.init();
    scope_set(&env);
    let people = env.write_file(
        "people.csv",
        b"email,name,employment_type,start_date\nann@bluefin.test,Ann Lee,employee,2024-01-10\nbob@bluefin.test,Bob Roe,employee,2024-02-01\n",
    );
    env.ok(&["import", "people", people.to_str().unwrap()]);
    let training = env.write_file(
        "training.csv",
        b"email,course,kind,completed_on\nann@bluefin.test,Security basics,security_awareness,2024-01-20\n",
    );
    env.ok(&["import", "training", training.to_str().unwrap()]);
    let risks = env.write_file(
        "risks.csv",
        b"id,title,likelihood,impact,treatment\nR-1,Laptop lost,3,3,mitigate\nR-2,Vendor breach,2,4,transfer\n",
    );
    env.ok(&["import", "risks", risks.to_str().unwrap()]);
    env.ok(&["risks", "sign-off", "R-1"]);
    let (_server, web) = lead(&env);

    let (_, _, page) = web.get("/people");
    for header in ["Policies accepted", "Security training", "Background check"] {
        assert!(page.contains(header), "{header}: {page}");
    }
    assert!(
        page.contains("2024-01-20 (overdue)"),
        "Ann trained more than a year ago"
    );
    assert!(
        page.contains("none on record"),
        "Bob has no training and nobody a check"
    );
    assert!(page.contains(" of "), "x of y policies");

    let (_, _, page) = web.get("/risks");
    assert!(page.contains("Sign-off") && page.contains("signed off ") && page.contains("not signed off"));
}

fn evidence_moves_to_another_control_without_losing_its_record(b: Backend) {
    let env = Env::new(b);
    env.init();
    scope_set(&env);
    let file = env.write_file("review.csv", b"account,decision\nann,keep\n");
    let item = env.json(&[
        "evidence",
        "add",
        file.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--title",
        "Q3 access review",
        "--effective",
        "2026-01-15",
    ]);
    let old = item["id"].as_str().unwrap().to_string();
    let (server, web) = lead(&env);
    let (_, _, page) = web.get(&format!("/evidence/{old}"));
    assert!(page.contains("Link it elsewhere"), "{page}");
    let csrf = web.csrf(&format!("/evidence/{old}"));
    let path = format!("/evidence/{old}/relink");

    // Refused: no reason; an unknown target.
    let (status, _, _) = web.post(
        &path,
        &[("csrf", &csrf), ("from", "ACC-01"), ("to", "ACC-08|"), ("reason", " ")],
    );
    assert_eq!(status, 422);
    let (status, _, _) = web.post(
        &path,
        &[("csrf", &csrf), ("from", "ACC-01"), ("to", "NOPE-1|"), ("reason", "x")],
    );
    assert_eq!(status, 422);
    assert_eq!(
        env.json(&["evidence", "list"]).as_array().unwrap().len(),
        1,
        "nothing written"
    );

    let (status, to, page) = web.post(
        &path,
        &[
            ("csrf", &csrf),
            ("from", "ACC-01"),
            ("to", "ACC-08|"),
            ("reason", "uploaded to the wrong control"),
        ],
    );
    assert_eq!(status, 303, "{page}");
    let new = to
        .trim_start_matches("/evidence/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let list = env.json(&["evidence", "list", "--all"]);
    let find = |id: &str| -> Value { list.as_array().unwrap().iter().find(|e| e["id"] == id).unwrap().clone() };
    let (was, now) = (find(&old), find(&new));
    assert_eq!(now["sha256"], was["sha256"], "the same bytes");
    assert_eq!(now["controls"][0]["control"], "ACC-08");
    assert_eq!(now["supersedes"], old.as_str());
    assert_eq!(was["superseded_by"], new.as_str());
    assert_eq!(now["attests_to"], "2026-01-15", "it keeps the day it attests to");
    assert!(env.audit_actions().iter().any(|a| a == "evidence.relink"));
    env.ok(&["verify"]);
    // A pack of the new control verifies.
    let pack = env.tmp.path().join("acc08.zip");
    env.ok(&["pack", "create", "--control", "ACC-08", "--out", pack.to_str().unwrap()]);
    env.ok(&["pack", "verify", pack.to_str().unwrap()]);

    // The API links exactly as asked; a requirement the control lacks is refused by name.
    let token = env.json(&[
        "tokens",
        "create",
        "--user",
        "lead@bluefin.test",
        "--name",
        "relink",
        "--scope",
        "write",
    ])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let relink = |body: Value| {
        crate::server::http(
            &server.base,
            "POST",
            &format!("/api/v1/evidence/{new}/relink"),
            Some(&token),
            Some(&body),
            &[],
        )
    };
    let (status, body) =
        relink(serde_json::json!({"controls": [{"control": "ACC-08", "requirement": "nope"}], "reason": "x"}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["field"], "requirement");
    let (status, body) = relink(
        serde_json::json!({"controls": [{"control": "ACC-08"}, {"control": "ACC-01"}], "reason": "serves both"}),
    );
    assert_eq!(status, 200, "{body}");
    let third: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(third["controls"].as_array().unwrap().len(), 2);
    assert_eq!(third["supersedes"], new.as_str());
    let new = third["id"].as_str().unwrap().to_string();
    env.ok(&["verify"]);

    // An owner moves only their own evidence, and only onto their own controls.
    let owner = signed_in(&env, &server, "owner@bluefin.test", "control_owner");
    env.ok(&["controls", "set-owner", "ACC-08", "owner@bluefin.test"]);
    env.ok(&["controls", "set-owner", "ACC-01", "owner@bluefin.test"]);
    let ocsrf = owner.csrf("/me");
    let (status, _, _) = owner.post(
        &format!("/evidence/{new}/relink"),
        &[
            ("csrf", &ocsrf),
            ("from", "ACC-08"),
            ("to", "ACC-02|"),
            ("reason", "mine now"),
        ],
    );
    assert_eq!(status, 422, "ACC-02 is not theirs");
    let (status, to, _) = owner.post(
        &format!("/evidence/{new}/relink"),
        &[
            ("csrf", &ocsrf),
            ("from", "ACC-01"),
            ("to", "ACC-08|"),
            ("reason", "only ACC-08"),
        ],
    );
    assert_eq!(status, 303, "both controls are theirs: {to}");
}

fn an_employee_is_added_with_their_person_record(b: Backend) {
    let env = Env::new(b);
    env.init();
    let boss = add_user(&env, "boss@bluefin.test", "admin");
    let server = Server::start(&env, "first@bluefin.test");
    let admin = Web::new(&env, &server, "admin");
    first_sign_in(&admin, "boss@bluefin.test", &boss, "the admin's own passphrase", true);
    let csrf = admin.csrf("/settings");

    // Not in the register and no name: refused, nothing written.
    let (status, _, page) = admin.post(
        "/settings/users",
        &[("csrf", &csrf), ("email", "new@bluefin.test"), ("role", "employee")],
    );
    assert_eq!(status, 422);
    assert!(page.contains("not in the people register"), "{page}");
    // A bad first day is refused by its field.
    let (status, _, page) = admin.post(
        "/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "new@bluefin.test"),
            ("role", "employee"),
            ("name", "Nia Wu"),
            ("employment_type", "employee"),
            ("start_date", "someday"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(env.json(&["people", "list"]).as_array().unwrap().is_empty());

    let (status, _, page) = admin.post(
        "/settings/users",
        &[
            ("csrf", &csrf),
            ("email", "new@bluefin.test"),
            ("role", "employee"),
            ("name", "Nia Wu"),
            ("employment_type", "contractor"),
            ("start_date", ""),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("One-time password for new@bluefin.test"));
    let people = env.json(&["people", "list"]);
    let nia = &people.as_array().unwrap()[0];
    assert_eq!(
        (nia["email"].as_str(), nia["name"].as_str()),
        (Some("new@bluefin.test"), Some("Nia Wu"))
    );
    assert_eq!(nia["employment_type"], "contractor");
    let actions = env.audit_actions();
    assert!(actions.iter().any(|a| a == "people.add") && actions.iter().any(|a| a == "users.add"));
}
