//! `evident serve` end to end: the role matrix over every API route, the OpenAPI document
//! (validated, snapshotted, and each route answering as documented), the CLI's users and
//! tokens, and the browser tests (web-tests/browser.mjs in Debian's Chromium).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::common::{Backend, Env};

on_both_databases!(
    role_matrix_and_documented_answers,
    browser,
    users_and_tokens_from_the_command_line,
    single_sign_on,
    uploads_are_checked_before_anything_is_stored,
    upload_dates_follow_the_one_rule,
    text_that_cannot_be_stored_and_unknown_records_are_refused,
    fieldwork_boundaries_between_engagements_and_roles
);

/// A running `evident serve` on a free port, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    admin_password: Option<String>,
}

impl Server {
    pub fn start(env: &Env, admin: &str) -> Server {
        Server::start_in(env, &env.dir, admin)
    }

    /// A server on `env`'s database with its workspace folder at `dir`.
    pub fn start_in(env: &Env, dir: &Path, admin: &str) -> Server {
        let mut child = env
            .command_in(dir, &["serve", "--bind", "127.0.0.1:0", "--admin", admin])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start evident serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut admin_password = None;
        let base = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(p) = line.split("One-time password").nth(1) {
                admin_password = p.rsplit(' ').next().map(str::to_string);
            }
            if let Some(url) = line.split(" at ").nth(1).filter(|u| u.starts_with("http://")) {
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            admin_password,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP exchange through curl: (status, body).
pub fn http(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    files: &[(&str, &str)],
) -> (u16, String) {
    let mut c = Command::new("curl");
    c.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method]);
    if let Some(t) = token {
        c.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    if let Some(b) = body {
        c.args(["-H", "Content-Type: application/json", "--data-binary"])
            .arg(b.to_string());
    }
    for (k, v) in files {
        c.arg("-F").arg(format!("{k}={v}"));
    }
    c.arg(format!("{base}{path}"));
    let out = c.output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn get_json(base: &str, path: &str, token: &str) -> Value {
    let (status, body) = http(base, "GET", path, Some(token), None, &[]);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
}

const ROLES: [&str; 6] = [
    "admin",
    "compliance_manager",
    "control_owner",
    "employee",
    "auditor",
    "viewer",
];

fn email(role: &str) -> String {
    format!("{}@bluefin.test", role.replace('_', "."))
}

/// The employee who signs in is a person in the generated people register (acceptances are
/// recorded against people).
fn employee_email(env: &Env) -> String {
    let people = env.json(&["people", "list"]);
    people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["end_date"].is_null() && p["employment_type"] == "employee")
        .or_else(|| people.as_array().unwrap().first())
        .and_then(|p| p["email"].as_str())
        .expect("a person")
        .to_string()
}

/// The program a test serves: the small generated company, a user and a write token per role,
/// and a control owned by the control owner.
pub(crate) struct Fixture {
    employee: String,
    passwords: Vec<(String, String)>,
    tokens: Vec<(String, String)>,
    pub(crate) control: String,
}

pub(crate) fn fixture(env: &Env) -> Fixture {
    env.json(&["generate", "--size", "s", "--seed", "7"]);
    let mut passwords = Vec::new();
    let mut tokens = Vec::new();
    let employee = employee_email(env);
    for role in ROLES {
        let address = if role == "employee" {
            employee.clone()
        } else {
            email(role)
        };
        let added = env.json(&["users", "add", &address, "--role", role]);
        passwords.push((role.to_string(), added["password"].as_str().unwrap().to_string()));
        let t = env.json(&[
            "tokens",
            "create",
            "--user",
            &address,
            "--name",
            "role matrix",
            "--scope",
            "write",
        ]);
        tokens.push((role.to_string(), t["secret"].as_str().unwrap().to_string()));
    }
    // A control with a missing-evidence gap (so applicable, so in the auditor's scope), owned
    // by the owner.
    let controls = env.json(&["controls", "list", "--only", "applicable"]);
    let control = controls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["severity"] == "missing_evidence")
        })
        .expect("a control missing evidence")["code"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&["controls", "set-owner", &control, &email("control_owner")]);
    Fixture {
        employee,
        passwords,
        tokens,
        control,
    }
}

pub(crate) fn token<'a>(f: &'a Fixture, role: &str) -> &'a str {
    &f.tokens.iter().find(|(r, _)| r == role).unwrap().1
}

/// Who may call each API route: one letter per role in ROLES order (y = allowed, n = 404).
/// Written out here, independently of the server's table, so a change to either shows.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/readiness", "yyynyy"),
    ("POST", "/api/v1/readiness/plan", "yynnnn"),
    ("GET", "/api/v1/scope", "yyynyy"),
    ("PUT", "/api/v1/scope", "yynnnn"),
    ("POST", "/api/v1/scope/approval", "yynnnn"),
    ("GET", "/api/v1/oscal/{kind}", "yyynyy"),
    ("GET", "/api/v1/description", "yyynyy"),
    ("PUT", "/api/v1/description/narratives/{part}", "yynnnn"),
    ("GET", "/api/v1/description/narratives/{part}", "yyynyy"),
    ("POST", "/api/v1/description/approvals", "yynnnn"),
    ("POST", "/api/v1/description/assertion", "yynnnn"),
    ("GET", "/api/v1/window", "yyynyy"),
    ("POST", "/api/v1/window/exceptions/{id}/responses", "yynnnn"),
    ("GET", "/api/v1/access-reviews", "yyyyyy"),
    ("POST", "/api/v1/access-reviews", "yyyynn"),
    ("GET", "/api/v1/access-reviews/schedule", "yyyyyy"),
    ("GET", "/api/v1/access-reviews/inbox", "yyyyyy"),
    ("POST", "/api/v1/access-reviews/inbox/keep", "yyyynn"),
    ("GET", "/api/v1/access-reviews/{id}", "yyyyyy"),
    ("GET", "/api/v1/access-reviews/{id}/items", "yyyyyy"),
    ("POST", "/api/v1/access-reviews/{id}/close", "yyyynn"),
    ("POST", "/api/v1/review-items/{id}/decision", "yyyynn"),
    ("PUT", "/api/v1/review-items/{id}/reviewer", "yyyynn"),
    ("POST", "/api/v1/review-items/{id}/confirmation", "yyyynn"),
    ("GET", "/api/v1/jml", "yynnyn"),
    ("GET", "/api/v1/jml/people/{person}", "yynnyn"),
    ("GET", "/api/v1/engagements", "yyynyy"),
    ("POST", "/api/v1/engagements", "yyynyn"),
    ("GET", "/api/v1/engagements/{id}", "yyynyy"),
    ("PATCH", "/api/v1/engagements/{id}", "yyynyn"),
    ("GET", "/api/v1/engagements/{id}/requests", "yyynyy"),
    ("POST", "/api/v1/engagements/{id}/requests", "yyynyn"),
    ("GET", "/api/v1/engagements/{id}/populations", "yyynyy"),
    ("POST", "/api/v1/engagements/{id}/populations", "yyynyn"),
    ("GET", "/api/v1/engagements/{id}/samples", "yyynyy"),
    ("POST", "/api/v1/engagements/{id}/samples", "yyynyn"),
    ("POST", "/api/v1/engagements/{id}/requests/import", "yyynyn"),
    ("GET", "/api/v1/engagements/{id}/requests/export", "yyynyy"),
    ("GET", "/api/v1/engagements/{id}/workbook", "yyynyy"),
    ("PUT", "/api/v1/engagements/{id}/sizes", "yyynyn"),
    ("PUT", "/api/v1/requests/{id}/assignee", "yyynyn"),
    ("GET", "/api/v1/populations/{id}/file", "yyynyy"),
    ("GET", "/api/v1/engagements/{id}/pack", "yyynyy"),
    ("GET", "/api/v1/requests/{id}/pack", "yyynyy"),
    ("GET", "/api/v1/samples/{id}/pack", "yyynyy"),
    ("GET", "/api/v1/requests/{id}", "yyynyy"),
    ("POST", "/api/v1/requests/{id}/steps", "yyynyn"),
    ("POST", "/api/v1/requests/{id}/comments", "yyynyn"),
    ("POST", "/api/v1/requests/{id}/evidence", "yyynyn"),
    ("GET", "/api/v1/samples/{id}", "yyynyy"),
    ("POST", "/api/v1/samples/{id}/extension", "yyynyn"),
    ("POST", "/api/v1/samples/{id}/results", "yyynyn"),
    ("GET", "/api/v1/samples/{id}/items/{item}/packet", "yyynyy"),
    ("GET", "/api/v1/controls", "yyynyy"),
    ("GET", "/api/v1/controls/{code}", "yyynyy"),
    ("PUT", "/api/v1/controls/{code}/owner", "yynnnn"),
    ("GET", "/api/v1/controls/{code}/pack", "yyynyy"),
    ("GET", "/api/v1/criteria", "yyynyy"),
    ("GET", "/api/v1/evidence", "yyynyy"),
    ("POST", "/api/v1/evidence", "yyynnn"),
    ("GET", "/api/v1/evidence/{id}", "yyynyy"),
    ("GET", "/api/v1/evidence/{id}/content", "yyynyy"),
    ("POST", "/api/v1/evidence/{id}/withdraw", "yyynnn"),
    ("POST", "/api/v1/evidence/{id}/relink", "yyynnn"),
    ("POST", "/api/v1/evidence/{id}/versions", "yyynnn"),
    ("GET", "/api/v1/policies", "yyynyy"),
    ("GET", "/api/v1/policies/{id}", "yyynyy"),
    ("PUT", "/api/v1/policies/{id}", "yynnnn"),
    ("POST", "/api/v1/policies/{id}/approve", "yynnnn"),
    ("POST", "/api/v1/policies/{id}/publish", "yynnnn"),
    ("GET", "/api/v1/checks", "yyynyy"),
    ("GET", "/api/v1/checks/{id}", "yyynyy"),
    ("POST", "/api/v1/checks/{id}/exclusions", "yynnnn"),
    ("GET", "/api/v1/jobs", "yyynny"),
    ("POST", "/api/v1/jobs/{name}/run", "ynnnnn"),
    ("PUT", "/api/v1/jobs/{name}", "ynnnnn"),
    ("GET", "/api/v1/audit-log", "yynnyn"),
    ("GET", "/api/v1/users", "ynnnnn"),
    ("POST", "/api/v1/users", "ynnnnn"),
    ("PUT", "/api/v1/users/{email}", "ynnnnn"),
    ("GET", "/api/v1/tokens", "ynnnnn"),
    ("POST", "/api/v1/tokens", "ynnnnn"),
    ("POST", "/api/v1/tokens/{id}/revoke", "ynnnnn"),
    ("GET", "/api/v1/me", "yyyyyy"),
    ("POST", "/api/v1/me/acceptances", "yyyyyy"),
    ("GET", "/api/v1/people", "yynnyn"),
    ("POST", "/api/v1/people", "yynnnn"),
    ("GET", "/api/v1/people/{key}", "yynnyn"),
    ("GET", "/api/v1/training", "yynnyn"),
    ("POST", "/api/v1/training", "yynnnn"),
    ("GET", "/api/v1/training/{key}", "yynnyn"),
    ("GET", "/api/v1/background-checks", "yynnyn"),
    ("POST", "/api/v1/background-checks", "yynnnn"),
    ("GET", "/api/v1/background-checks/{key}", "yynnyn"),
    ("GET", "/api/v1/risks", "yyynyy"),
    ("POST", "/api/v1/risks", "yynnnn"),
    ("GET", "/api/v1/risks/{key}", "yyynyy"),
    ("GET", "/api/v1/vendors", "yyynyy"),
    ("POST", "/api/v1/vendors", "yynnnn"),
    ("GET", "/api/v1/vendors/{key}", "yyynyy"),
    ("GET", "/api/v1/assets", "yyynyy"),
    ("POST", "/api/v1/assets", "yynnnn"),
    ("GET", "/api/v1/assets/{key}", "yyynyy"),
    ("GET", "/api/v1/events", "yyynyy"),
    ("POST", "/api/v1/events", "yynnnn"),
    ("GET", "/api/v1/events/{key}", "yyynyy"),
    ("GET", "/api/v1/machine-identities", "yyynyy"),
    ("POST", "/api/v1/machine-identities", "yynnnn"),
    ("GET", "/api/v1/machine-identities/{key}", "yyynyy"),
    ("GET", "/api/v1/access-grants", "yyynyy"),
    ("POST", "/api/v1/access-grants", "yynnnn"),
    ("GET", "/api/v1/access-grants/{key}", "yyynyy"),
    ("GET", "/api/v1/tasks", "yyynny"),
    ("POST", "/api/v1/tasks", "yynnnn"),
    ("GET", "/api/v1/tasks/{key}", "yyynny"),
];

fn snapshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/openapi.snapshot.json")
}

/// The required fields of a documented response schema (following one $ref, and Page<>'s items).
fn check_shape(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    for field in resolved["required"].as_array().into_iter().flatten() {
        let f = field.as_str().unwrap();
        assert!(
            value.get(f).is_some(),
            "{what}: the answer lacks the documented field '{f}': {value}"
        );
    }
    if let (Some(items), Some(list)) = (
        resolved["properties"]["items"]["items"].as_object(),
        value["items"].as_array(),
    ) && let Some(first) = list.first()
    {
        check_shape(doc, &Value::Object(items.clone()), first, what);
    }
}

fn role_matrix_and_documented_answers(b: Backend) {
    let env = Env::new(b);
    let f = fixture(&env);
    let server = Server::start(&env, "first@bluefin.test");
    role_matrix_at(&env, &f, &server.base);
}

/// Every documented route as every role, against the server (or servers) at `base`.
pub(crate) fn role_matrix_at(env: &Env, f: &Fixture, base: &str) {
    let base = base.to_string();
    let admin = token(f, "admin");
    let doc: Value = serde_json::from_str(&http(&base, "GET", "/api/v1/openapi.json", None, None, &[]).1).unwrap();

    // The document and the route table agree, and the matrix names every documented route.
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut listed: Vec<(String, String)> = MATRIX.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    listed.sort();
    assert_eq!(
        documented, listed,
        "the role matrix must list exactly the documented routes"
    );

    // Subjects for the path parameters.
    let sample = std::env::temp_dir().join(format!("evident-matrix-{}.txt", std::process::id()));
    std::fs::write(&sample, "evidence for the role matrix\n").unwrap();
    let file_arg = format!("@{}", sample.display());
    // A firm's request list, imported again by each role allowed (the reference is updated).
    let list = env.dir.join("matrix-list.csv");
    std::fs::write(&list, "PBC #,Request\nM-2,Every leaver of the period\n").unwrap();
    let list_arg = format!("@{}", list.display());
    let (status, body) = http(
        &base,
        "POST",
        "/api/v1/evidence",
        Some(admin),
        None,
        &[("file", &file_arg), ("control", &f.control), ("title", "matrix sample")],
    );
    assert_eq!(status, 201, "admin upload: {body}");
    let evidence_id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let policy = get_json(&base, "/api/v1/policies", admin)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let check = get_json(&base, "/api/v1/checks", admin)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let spare = env.json(&[
        "tokens",
        "create",
        "--user",
        &email("viewer"),
        "--name",
        "to revoke",
        "--scope",
        "read",
    ]);
    let token_id = spare["token"]["id"].as_str().unwrap().to_string();
    let (status, body) = http(
        &base,
        "POST",
        "/api/v1/tasks",
        Some(admin),
        Some(&json!({"id": "T-1", "title": "Matrix task", "status": "open", "owner": email("employee")})),
        &[],
    );
    assert_eq!(status, 200, "a task through the API: {body}");
    env.json(&["users", "add", "spare@bluefin.test", "--role", "viewer"]);

    // An engagement the fixture's auditor is bound to, a request assigned to the owner, a
    // population and a sample, so every fieldwork route has a subject each role may reach.
    let engagement = env.json(&["audit", "create", "--name", "Matrix", "--firm", "Firm LLP"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.json(&["audit", "auditor", "Matrix", &email("auditor")]);
    // Keys of records, for the register routes.
    let keys: Vec<(String, String)> = [
        "people",
        "training",
        "background-checks",
        "risks",
        "vendors",
        "assets",
        "events",
        "tasks",
        "machine-identities",
        "access-grants",
    ]
    .iter()
    .map(|r| {
        // A record every reader may open: the auditor reads only what their engagement needs.
        let (_, answer) = http(
            &base,
            "GET",
            &format!("/api/v1/{r}"),
            Some(token(f, "auditor")),
            None,
            &[],
        );
        let auditor_list: Value = serde_json::from_str(&answer).unwrap_or_default();
        let list = if auditor_list["items"][0]["key"].is_string() {
            auditor_list
        } else {
            get_json(&base, &format!("/api/v1/{r}"), admin)
        };
        let key = list["items"][0]["key"]
            .as_str()
            .unwrap_or_else(|| panic!("no {r} to try"));
        (
            r.to_string(),
            key.replace('%', "%25").replace(' ', "%20").replace('/', "%2F"),
        )
    })
    .collect();
    let request = env.json(&[
        "requests",
        "add",
        "Matrix",
        "--ref",
        "M-1",
        "--request",
        "Every merged change",
        "--assignee",
        &email("control_owner"),
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let population = env.json(&["populations", "run", "changes", "--engagement", "Matrix"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let drawn = env.json(&[
        "samples",
        "draw",
        "Matrix",
        "--control",
        "CHG-01",
        "--population",
        &population,
        "--seed",
        "matrix",
    ]);
    let sample_id = drawn["id"].as_str().unwrap().to_string();
    // A campaign the fixture's employee reviews in (named), so every access-review route has a
    // subject each role may reach.
    let campaign = env.json(&[
        "access-reviews",
        "start",
        "--name",
        "Matrix",
        "--system",
        "okta",
        "--reviewers",
        "named",
        "--reviewer",
        &f.employee,
        "--due",
        "2099-12-31",
    ]);
    let campaign_id = campaign["id"].as_str().unwrap().to_string();
    let review_item = env.json(&["access-reviews", "show", &campaign_id])["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = drawn["items"][0]["item"]
        .as_str()
        .unwrap()
        .replace('%', "%25")
        .replace('#', "%23")
        .replace('/', "%2F");

    let mut failures = Vec::new();
    for (method, path, allowed) in MATRIX {
        let register = path.trim_start_matches("/api/v1/").split('/').next().unwrap();
        let concrete = path
            .replace("{code}", &f.control)
            .replace("{email}", "spare@bluefin.test")
            .replace("{person}", &f.employee)
            .replace("{kind}", "system-security-plan")
            .replace("{part}", "services")
            .replace("{name}", "checks:daily")
            .replace(
                "{key}",
                keys.iter()
                    .find(|(r, _)| r == register)
                    .map(|(_, k)| k.as_str())
                    .unwrap_or(""),
            )
            .replace(
                "{id}",
                match register {
                    "evidence" => &evidence_id,
                    "policies" => &policy,
                    "checks" => &check,
                    "engagements" => &engagement,
                    "requests" => &request,
                    "samples" => &sample_id,
                    "populations" => &population,
                    "access-reviews" => &campaign_id,
                    "review-items" => &review_item,
                    _ => &token_id,
                },
            )
            .replace("{item}", &item);
        let op = &doc["paths"][path][method.to_lowercase()];
        for (i, role) in ROLES.iter().enumerate() {
            let want = allowed.as_bytes()[i] == b'y';
            let t = token(f, role);
            let (body, files): (Option<Value>, Vec<(&str, &str)>) = match (*method, *path) {
                ("GET", _) => (None, vec![]),
                ("POST", "/api/v1/evidence") => {
                    (None, vec![("file", file_arg.as_str()), ("control", f.control.as_str())])
                }
                ("POST", "/api/v1/evidence/{id}/versions") => (None, vec![("file", file_arg.as_str())]),
                ("POST", "/api/v1/engagements/{id}/requests/import") => (None, vec![("file", list_arg.as_str())]),
                ("PUT", _) => (Some(json!({"owner": email("control_owner")})), vec![]),
                _ => (Some(json!({})), vec![]),
            };
            let (status, answer) = http(&base, method, &concrete, Some(t), body.as_ref(), &files);
            let got = status != 404;
            if got != want {
                failures.push(format!(
                    "{role} {method} {concrete}: {status} (expected {})",
                    if want { "allowed" } else { "404" }
                ));
                continue;
            }
            // Each answer is one the document lists for the operation.
            if op["responses"].get(status.to_string()).is_none() {
                failures.push(format!(
                    "{role} {method} {concrete}: {status} is not documented: {answer}"
                ));
            }
            if status == 200
                && *method == "GET"
                && !["/content", "/pack", "/export", "/workbook", "/file"]
                    .iter()
                    .any(|end| path.ends_with(end))
            {
                let v: Value =
                    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{method} {concrete}: not JSON ({e})"));
                check_shape(
                    &doc,
                    &op["responses"]["200"]["content"]["application/json"]["schema"],
                    &v,
                    &format!("{role} {method} {concrete}"),
                );
            }
        }
    }
    assert!(failures.is_empty(), "role matrix:\n{}", failures.join("\n"));

    // The write routes do what they document.
    let before = get_json(&base, &format!("/api/v1/policies/{policy}"), admin)["latest_version"]
        .as_i64()
        .unwrap();
    let (status, body) = http(
        &base,
        "PUT",
        &format!("/api/v1/policies/{policy}"),
        Some(admin),
        Some(&json!({"source": "# Rewritten\n\nBy the API.\n"})),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    let edited: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            edited["latest_version"].as_i64().unwrap(),
            edited["status"].as_str().unwrap()
        ),
        (before + 1, "draft")
    );
    let (status, body) = http(
        &base,
        "POST",
        &format!("/api/v1/checks/{check}/exclusions"),
        Some(admin),
        Some(&json!({"record": "r", "reason": "why", "owner": "o@bluefin.test", "expires": "2020-01-01"})),
        &[],
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["field"], "expires");
    let (status, body) = http(
        &base,
        "PUT",
        "/api/v1/users/spare@bluefin.test",
        Some(admin),
        Some(&json!({"role": "auditor"})),
        &[],
    );
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()["role"].clone()),
        (200, json!("auditor")),
        "{body}"
    );
    assert_eq!(
        http(
            &base,
            "PUT",
            &format!("/api/v1/users/{}", email("admin")),
            Some(admin),
            Some(&json!({"role": "viewer"})),
            &[]
        )
        .0,
        409
    );

    // Without a token, or with a revoked one, nothing is answered.
    assert_eq!(http(&base, "GET", "/api/v1/controls", None, None, &[]).0, 401);
    assert_eq!(
        http(&base, "GET", "/api/v1/controls", Some("evd_not_a_token"), None, &[]).0,
        401
    );
    // A read-only token cannot write, even for an administrator.
    let read = env.json(&[
        "tokens",
        "create",
        "--user",
        &email("admin"),
        "--name",
        "read only",
        "--scope",
        "read",
    ]);
    let read = read["secret"].as_str().unwrap();
    assert_eq!(http(&base, "GET", "/api/v1/controls", Some(read), None, &[]).0, 200);
    assert_eq!(
        http(&base, "POST", "/api/v1/risks", Some(read), Some(&json!({})), &[]).0,
        404
    );
    // Bad input names the field and changes nothing.
    let (status, body) = http(
        &base,
        "POST",
        "/api/v1/risks",
        Some(admin),
        Some(&json!({"id": "R-900", "title": "t", "likelihood": 9, "impact": 2, "treatment": "mitigate"})),
        &[],
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["field"], "likelihood");
    assert_eq!(http(&base, "GET", "/api/v1/risks/R-900", Some(admin), None, &[]).0, 404);
    // The auditor sees only in-scope evidence; an item on an out-of-scope control is hidden.
    let auditor = token(f, "auditor");
    let all = get_json(&base, "/api/v1/evidence?per=100", admin)["total"]
        .as_u64()
        .unwrap();
    let seen = get_json(&base, "/api/v1/evidence?per=100", auditor)["total"]
        .as_u64()
        .unwrap();
    assert!(seen <= all);
    let _ = std::fs::remove_file(&sample);

    // The document is valid OpenAPI 3.1 and matches the snapshot kept in the repository.
    let spec_file = env.tmp.path().join("openapi.json");
    std::fs::write(&spec_file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let v = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&spec_file)
        .output()
        .expect("python3");
    assert!(
        v.status.success(),
        "the OpenAPI document does not validate (needs `pip install openapi-spec-validator`): {}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(snapshot_path(), &pretty).unwrap();
    }
    let kept = std::fs::read_to_string(snapshot_path()).unwrap_or_default();
    assert!(
        kept == pretty,
        "the OpenAPI document changed; review it and run with UPDATE_SNAPSHOTS=1 to accept ({})",
        snapshot_path().display()
    );
}

fn users_and_tokens_from_the_command_line(b: Backend) {
    let env = Env::new(b);
    env.init();
    let added = env.json(&["users", "add", "Lead@Bluefin.test", "--role", "compliance-manager"]);
    assert_eq!(added["user"]["email"], "lead@bluefin.test");
    assert_eq!(added["user"]["role"], "compliance_manager");
    assert!(added["password"].as_str().unwrap().len() >= 20);
    env.refused(
        &["users", "add", "lead@bluefin.test", "--role", "viewer"],
        &["already exists"],
    );
    env.refused(
        &["users", "add", "someone@bluefin.test", "--role", "root"],
        &["--role", "unknown role 'root'"],
    );
    env.refused(
        &["users", "add", "not-an-email", "--role", "viewer"],
        &["EMAIL", "not an email"],
    );
    let reset = env.json(&["users", "reset-password", "lead@bluefin.test"]);
    assert_ne!(reset["password"], added["password"]);
    env.refused(&["users", "reset-password", "nobody@bluefin.test"], &["unknown user"]);
    let t = env.json(&[
        "tokens",
        "create",
        "--user",
        "lead@bluefin.test",
        "--name",
        "ci",
        "--scope",
        "write",
    ]);
    assert!(t["secret"].as_str().unwrap().starts_with("evd_"));
    env.refused(
        &[
            "tokens",
            "create",
            "--user",
            "lead@bluefin.test",
            "--name",
            "x",
            "--scope",
            "admin",
        ],
        &["--scope"],
    );
    let id = t["token"]["id"].as_str().unwrap();
    env.ok(&["tokens", "revoke", id]);
    env.refused(&["tokens", "revoke", id], &["already revoked"]);
    let listed = env.json(&["tokens", "list"]);
    assert!(listed[0]["revoked_at"].is_string());
    // Secrets are stored only as hashes: neither the password nor the token is in the database.
    let log = env.json(&["audit-log"]);
    let text = log.to_string();
    assert!(!text.contains(t["secret"].as_str().unwrap()) && !text.contains(reset["password"].as_str().unwrap()));
    assert!(text.contains("users.add") && text.contains("tokens.revoke"));
}

fn browser(b: Backend) {
    let env = Env::new(b);
    let f = fixture(&env);
    let server = Server::start(&env, "first@bluefin.test");
    let admin = token(&f, "admin");
    let policy = get_json(&server.base, "/api/v1/policies", admin)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let password = |role: &str| f.passwords.iter().find(|(r, _)| r == role).unwrap().1.clone();
    // The auditor's engagement: a request about the owner's control, answered with an export
    // of the period and one from long before it, submitted; a population of merged changes.
    let id_of = |v: Value| v["id"].as_str().unwrap().to_string();
    // Another control of the owner's (the fixture's keeps its missing-evidence gap for the
    // dashboard's checks).
    let controls = env.json(&["controls", "list", "--only", "applicable"]);
    let audited = controls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .find(|c| *c != f.control)
        .unwrap();
    env.ok(&["controls", "set-owner", &audited, &email("control_owner")]);
    let engagement = id_of(env.json(&["audit", "create", "--name", "Browser audit", "--firm", "Ledger & Co"]));
    env.json(&["audit", "auditor", "Browser audit", &email("auditor")]);
    let export = env.dir.join("access-review-export.txt");
    std::fs::write(&export, "Access review export for the browser walk\n").unwrap();
    let old = env.dir.join("old-access-review.txt");
    std::fs::write(&old, "An access review from long ago\n").unwrap();
    let current = id_of(env.json(&["evidence", "add", export.to_str().unwrap(), "--control", &audited]));
    let stale = id_of(env.json(&[
        "evidence",
        "add",
        old.to_str().unwrap(),
        "--control",
        &audited,
        "--effective",
        "2020-01-15",
    ]));
    let request = id_of(env.json(&[
        "requests",
        "add",
        "Browser audit",
        "--ref",
        "BR-1",
        "--request",
        "The latest access review with the reviewer's sign-off",
        "--controls",
        &audited,
        "--assignee",
        &email("control_owner"),
    ]));
    env.json(&["requests", "link", &request, &current]);
    env.json(&["requests", "link", &request, &stale]);
    env.json(&[
        "requests",
        "submit",
        &request,
        "--comment",
        "Exported from the identity provider",
    ]);
    env.json(&["populations", "run", "changes", "--engagement", "Browser audit"]);
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-tests");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "browser tests need `npm ci` in {} (and Debian's chromium)",
        web.display()
    );
    let shots = std::env::var("EVIDENT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"))
        .join(match b {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        });
    let out = Command::new("node")
        .arg(web.join("browser.mjs"))
        .env("BASE_URL", &server.base)
        .env("ADMIN_EMAIL", email("admin"))
        .env("ADMIN_PASSWORD", password("admin"))
        .env("EMPLOYEE_EMAIL", &f.employee)
        .env("EMPLOYEE_PASSWORD", password("employee"))
        .env("AUDITOR_EMAIL", email("auditor"))
        .env("AUDITOR_PASSWORD", password("auditor"))
        .env("OWNER_EMAIL", email("control_owner"))
        .env("OWNER_PASSWORD", password("control_owner"))
        .env("CONTROL", &f.control)
        .env("POLICY", &policy)
        .env("ENGAGEMENT", &engagement)
        .env("REQUEST", &request)
        .env("SAMPLE_CONTROL", "CHG-01")
        .env("SCREENSHOTS", &shots)
        .output()
        .expect("node");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser tests failed:\n{log}");
    assert!(log.contains("all browser checks passed"), "{log}");
    assert!(shots.join("02-dashboard.png").is_file());
    let _ = server.admin_password;
}

/// A stand-in OpenID Connect provider speaking the documented protocol: discovery, an
/// authorization endpoint that signs in `email` at once, a token endpoint issuing an RS256 ID
/// token for the nonce it was given, and its keys.
pub(crate) struct Provider {
    pub(crate) base: String,
}

pub(crate) fn provider(email: &'static str, client_id: &'static str) -> Provider {
    use base64::Engine;
    use std::io::{Read, Write};
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = base.clone();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/fixtures");
    let key =
        ring::signature::RsaKeyPair::from_der(&std::fs::read(fixtures.join("oidc-test-key.der")).unwrap()).unwrap();
    let jwks = std::fs::read_to_string(fixtures.join("oidc-test-jwks.json")).unwrap();
    std::thread::spawn(move || {
        // code → nonce, from the authorization request to the token request.
        let mut codes: Vec<(String, String)> = Vec::new();
        for stream in listener.incoming() {
            let mut s = stream.unwrap();
            let mut buf = vec![0u8; 65536];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let target = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let body = req.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
            let param = |text: &str, k: &str| {
                text.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| {
                        let mut out = Vec::new();
                        let bytes = v.as_bytes();
                        let mut i = 0;
                        while i < bytes.len() {
                            if bytes[i] == b'%' && i + 2 < bytes.len() {
                                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                                i += 3;
                            } else {
                                out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                                i += 1;
                            }
                        }
                        String::from_utf8(out).unwrap()
                    })
                    .unwrap_or_default()
            };
            let (status, headers, payload) = match path {
                "/.well-known/openid-configuration" => (
                    "200 OK",
                    "Content-Type: application/json\r\n".to_string(),
                    json!({"issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"),
                           "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
                           "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"]})
                    .to_string(),
                ),
                "/jwks" => ("200 OK", "Content-Type: application/json\r\n".to_string(), jwks.clone()),
                "/authorize" => {
                    assert_eq!(param(query, "code_challenge_method"), "S256", "PKCE is used");
                    assert_eq!(param(query, "client_id"), client_id);
                    let code = format!("code-{}", codes.len());
                    codes.push((code.clone(), param(query, "nonce")));
                    let back = format!(
                        "{}?code={code}&state={}",
                        param(query, "redirect_uri"),
                        param(query, "state")
                    );
                    ("302 Found", format!("Location: {back}\r\n"), String::new())
                }
                "/token" => {
                    assert!(!param(&body, "code_verifier").is_empty(), "the PKCE verifier is sent");
                    let nonce = codes
                        .iter()
                        .find(|(c, _)| *c == param(&body, "code"))
                        .map(|(_, n)| n.clone());
                    match nonce {
                        None => (
                            "400 Bad Request",
                            "Content-Type: application/json\r\n".into(),
                            r#"{"error":"invalid_grant"}"#.into(),
                        ),
                        Some(nonce) => {
                            let now = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .unwrap()
                                .as_secs();
                            let header = b64(json!({"alg": "RS256", "kid": "test-1", "typ": "JWT"})
                                .to_string()
                                .as_bytes());
                            let claims = b64(json!({"iss": issuer, "aud": client_id, "sub": "u-1", "email": email,
                                                    "email_verified": true, "nonce": nonce, "iat": now, "exp": now + 300})
                                .to_string()
                                .as_bytes());
                            let signing_input = format!("{header}.{claims}");
                            let mut sig = vec![0u8; key.public().modulus_len()];
                            key.sign(
                                &ring::signature::RSA_PKCS1_SHA256,
                                &ring::rand::SystemRandom::new(),
                                signing_input.as_bytes(),
                                &mut sig,
                            )
                            .unwrap();
                            let id_token = format!("{signing_input}.{}", b64(&sig));
                            (
                                "200 OK",
                                "Content-Type: application/json\r\n".into(),
                                json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}).to_string(),
                            )
                        }
                    }
                }
                _ => ("404 Not Found", String::new(), String::new()),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
        }
    });
    Provider { base }
}

/// One request with a cookie jar, not following redirects: (status, Location, body).
pub(crate) fn browse(jar: &Path, url: &str) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-s", "-i", "-b"])
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .arg(url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let location = text
        .lines()
        .find(|l| l.to_lowercase().starts_with("location:"))
        .map(|l| l[9..].trim().to_string())
        .unwrap_or_default();
    (status, location, text)
}

fn single_sign_on(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.json(&["users", "add", "sso.lead@bluefin.test", "--role", "compliance_manager"]);
    let idp = provider("sso.lead@bluefin.test", "evident-test");
    let stranger = provider("stranger@bluefin.test", "evident-test");
    let config = std::fs::read_to_string(env.dir.join("evident.toml")).unwrap();
    let with_sso = |issuer: &str| {
        format!(
            "{config}\n[server.oidc]\nissuer = \"{issuer}\"\nclient_id = \"evident-test\"\nredirect_url = \"http://127.0.0.1/login/oidc/callback\"\nlabel = \"Sign in with Test IdP\"\n"
        )
    };
    for (idp, welcome) in [(&idp, true), (&stranger, false)] {
        std::fs::write(env.dir.join("evident.toml"), with_sso(&idp.base)).unwrap();
        let server = Server::start(&env, "first@bluefin.test");
        let jar = env.tmp.path().join(format!("jar-{welcome}"));
        let (_, _, login) = browse(&jar, &format!("{}/login", server.base));
        assert!(
            login.contains("Sign in with Test IdP"),
            "the sign-in page offers single sign-on"
        );
        let (status, to_idp, _) = browse(&jar, &format!("{}/login/oidc", server.base));
        assert_eq!(status, 303);
        assert!(to_idp.starts_with(&format!("{}/authorize?", idp.base)), "{to_idp}");
        let (status, back, _) = browse(&jar, &to_idp);
        assert_eq!(status, 302);
        // The registered redirect names the server's host as the provider knows it; call ours.
        let callback = back.replacen("http://127.0.0.1", &server.base, 1);
        let (status, next, page) = browse(&jar, &callback);
        if welcome {
            assert_eq!(status, 303, "{page}");
            assert_eq!(next, "/");
            let (status, _, dash) = browse(&jar, &format!("{}/", server.base));
            assert_eq!(status, 200);
            assert!(
                dash.contains("sso.lead@bluefin.test"),
                "signed in as the provider's person"
            );
            // The state is single-use: replaying the callback is refused.
            let (status, _, replay) = browse(&env.tmp.path().join("other-jar"), &callback);
            assert_eq!(status, 401);
            assert!(replay.contains("not started here"), "{replay}");
        } else {
            assert_eq!(status, 401, "{page}");
            assert!(
                page.contains("stranger@bluefin.test has no active account here"),
                "{page}"
            );
            let (status, to, _) = browse(&jar, &format!("{}/", server.base));
            assert_eq!((status, to.as_str()), (303, "/login?next=/"));
        }
    }
    let log = env.json(&["audit-log"]).to_string();
    assert!(log.contains("auth.sign_in"), "the sign-in is in the audit log");
}

fn uploads_are_checked_before_anything_is_stored(b: Backend) {
    let env = Env::new(b);
    env.init();
    let config = std::fs::read_to_string(env.dir.join("evident.toml")).unwrap();
    std::fs::write(
        env.dir.join("evident.toml"),
        format!("{config}\n[server]\nmax_upload_bytes = 1000\n"),
    )
    .unwrap();
    env.json(&["users", "add", "admin@bluefin.test", "--role", "admin"]);
    let t = env.json(&[
        "tokens",
        "create",
        "--user",
        "admin@bluefin.test",
        "--name",
        "uploads",
        "--scope",
        "write",
    ]);
    let t = t["secret"].as_str().unwrap();
    let server = Server::start(&env, "first@bluefin.test");
    let big = env.tmp.path().join("big.pdf");
    std::fs::write(&big, vec![b'x'; 5000]).unwrap();
    let exe = env.tmp.path().join("tool.exe");
    std::fs::write(&exe, b"MZ").unwrap();
    let before = env.json(&["evidence", "list", "--all"]);
    for (file, needle) in [(&big, "larger than the limit"), (&exe, "not accepted")] {
        let arg = format!("@{}", file.display());
        let (status, body) = http(
            &server.base,
            "POST",
            "/api/v1/evidence",
            Some(t),
            None,
            &[("file", &arg), ("control", "ACC-01")],
        );
        assert_eq!(status, 422, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["field"], "file");
        assert!(v["error"].as_str().unwrap().contains(needle), "{body}");
    }
    let (status, body) = http(
        &server.base,
        "POST",
        "/api/v1/evidence",
        Some(t),
        None,
        &[("title", "no file"), ("control", "ACC-01")],
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        env.json(&["evidence", "list", "--all"]),
        before,
        "a refused upload changes nothing"
    );
    assert_eq!(
        std::fs::read_dir(env.dir.join("tmp")).map(|d| d.count()).unwrap_or(0),
        0,
        "no temporary file is left"
    );
    // An accepted one is in the vault, byte for byte.
    let small = env.tmp.path().join("ok.txt");
    std::fs::write(&small, b"a small piece of evidence\n").unwrap();
    let arg = format!("@{}", small.display());
    let (status, body) = http(
        &server.base,
        "POST",
        "/api/v1/evidence",
        Some(t),
        None,
        &[("file", &arg), ("control", "ACC-01"), ("title", "small")],
    );
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, content) = http(
        &server.base,
        "GET",
        &format!("/api/v1/evidence/{id}/content"),
        Some(t),
        None,
        &[],
    );
    assert_eq!((status, content.as_str()), (200, "a small piece of evidence\n"));
}

fn text_that_cannot_be_stored_and_unknown_records_are_refused(b: Backend) {
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
        "2027-01-31",
    ]);
    let hr = env.write_file(
        "hr.csv",
        b"email,name,employment_type,start_date\nana@acme.example,Ana,employee,2022-01-10\nben@acme.example,Ben,employee,2023-03-01\n",
    );
    env.ok(&["import", "people", hr.to_str().unwrap()]);
    let bc = env.write_file(
        "bc.csv",
        b"email,status,completed_on,provider,notes\nana@acme.example,passed,2022-01-03,Checkr,\n",
    );
    env.ok(&["import", "background-checks", bc.to_str().unwrap()]);
    env.json(&["policies", "adopt", "--all"]);
    env.json(&["users", "add", "admin@bluefin.test", "--role", "admin"]);
    let t = env.json(&[
        "tokens",
        "create",
        "--user",
        "admin@bluefin.test",
        "--name",
        "hardening",
        "--scope",
        "write",
    ]);
    let t = t["secret"].as_str().unwrap();
    let server = Server::start(&env, "first@bluefin.test");
    let base = &server.base;
    let refused = |method: &str, path: &str, body: Value, field: &str, needles: &[&str]| {
        let (status, answer) = http(base, method, path, Some(t), Some(&body), &[]);
        assert_eq!(status, 422, "{method} {path}: {answer}");
        let v: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(v["field"], field, "{answer}");
        for n in needles {
            assert!(v["error"].as_str().unwrap().contains(n), "{method} {path}: {answer}");
        }
    };
    let (people, log) = (env.json(&["people", "list"]), env.audit_actions());

    // Register records go through the same validation as an import row.
    refused(
        "POST",
        "/api/v1/people",
        json!({"email": "nul@acme.example", "name": "Nu\u{0}ll", "employment_type": "employee", "start_date": "2024-01-01"}),
        "name",
        &["NUL character (U+0000) at character 3"],
    );
    // Exclusions: the store refuses what the check does not test, for the API and the web form.
    let path = "/api/v1/checks/background-checks/exclusions";
    let exclusion = |record: &str| json!({"record": record, "reason": "Agreed with HR", "owner": "hr@acme.example", "expires": "2099-01-01"});
    refused(
        "POST",
        path,
        exclusion("nobody@acme.example"),
        "record",
        &[
            "record 'nobody@acme.example'",
            "check 'background-checks' tests no such record",
        ],
    );
    refused(
        "POST",
        path,
        exclusion("ben@acme.example\u{0}"),
        "record",
        &["NUL character"],
    );
    let policy = get_json(base, "/api/v1/policies", t)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    refused(
        "PUT",
        &format!("/api/v1/policies/{policy}"),
        json!({"source": "# Access\n\nText\u{0}"}),
        "source",
        &["NUL character"],
    );
    assert_eq!(
        (env.json(&["people", "list"]), env.audit_actions()),
        (people, log),
        "nothing stored, nothing logged"
    );
    // A NUL that reaches the database by a path without the check is bad input, never a
    // failure: SQLite finds no such policy, PostgreSQL refuses the text (SQLSTATE 22021).
    let (status, answer) = http(base, "GET", "/api/v1/policies/x%00y", Some(t), None, &[]);
    let expected = match b {
        Backend::Sqlite => 404,
        Backend::Postgres => 422,
    };
    assert_eq!(status, expected, "{answer}");

    let (status, answer) = http(base, "POST", path, Some(t), Some(&exclusion("ben@acme.example")), &[]);
    assert_eq!(status, 201, "a record the check reports: {answer}");
    assert_eq!(env.json(&["check", "exclusions"])[0]["record"], "ben@acme.example");
}

/// The API and the web form date an upload by the rule the CLI uses: never in the future (422
/// naming the field, nothing stored), a period in order, and an undated upload attests to the
/// day it arrived, so readiness ages it like any other item.
fn upload_dates_follow_the_one_rule(b: Backend) {
    let env = Env::new(b);
    env.init();
    let t = env.admin_token();
    let t = t.as_str();
    let server = Server::start(&env, "first@bluefin.test");
    let file = env.tmp.path().join("review.txt");
    std::fs::write(&file, b"quarterly review\n").unwrap();
    let arg = format!("@{}", file.display());
    let before = env.json(&["evidence", "list", "--all"]);
    for (field, value, named) in [
        ("effective_date", "2999-01-01", "effective_date"),
        ("period", "2026-03-31..2026-01-01", "period"),
        ("period", "2026-01-01..2999-01-01", "period"),
    ] {
        let (status, body) = http(
            &server.base,
            "POST",
            "/api/v1/evidence",
            Some(t),
            None,
            &[("file", &arg), ("control", "ACC-01"), (field, value)],
        );
        assert_eq!(status, 422, "{field}={value}: {body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["field"], named, "{body}");
    }
    assert_eq!(env.json(&["evidence", "list", "--all"]), before, "nothing stored");
    let (status, body) = http(
        &server.base,
        "POST",
        "/api/v1/evidence",
        Some(t),
        None,
        &[("file", &arg), ("control", "ACC-01")],
    );
    assert_eq!(status, 201, "{body}");
    let item: Value = serde_json::from_str(&body).unwrap();
    let today = env.json(&["evidence", "show", item["id"].as_str().unwrap()])["captured_at"]
        .as_str()
        .unwrap()[..10]
        .to_string();
    assert_eq!(
        item["effective_date"],
        today.as_str(),
        "an undated upload attests to its day: {body}"
    );
    let (status, body) = http(
        &server.base,
        "POST",
        "/api/v1/evidence",
        Some(t),
        None,
        &[
            ("file", &arg),
            ("control", "ACC-01"),
            ("period", "2026-01-01..2026-03-31"),
        ],
    );
    assert_eq!(status, 201, "{body}");
    let item: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (item["period"]["from"].as_str(), item["period"]["to"].as_str()),
        (Some("2026-01-01"), Some("2026-03-31"))
    );
    assert_eq!(item["attests_to"], "2026-03-31", "a period attests to its end");

    // One shape for an item whatever asks: the CLI's JSON and the API's answer agree field for
    // field (the CLI adds the version chain).
    let id = item["id"].as_str().unwrap();
    let mut cli = env.json(&["evidence", "show", id]);
    cli.as_object_mut().unwrap().remove("versions");
    let (status, body) = http(
        &server.base,
        "GET",
        &format!("/api/v1/evidence/{id}"),
        Some(t),
        None,
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), cli);

    // One media-type rule and one requirement rule for the CLI and the API.
    let csv = env.tmp.path().join("users.csv");
    std::fs::write(&csv, b"email\nana@bluefin.test\n").unwrap();
    let by_cli = env.json(&["evidence", "add", csv.to_str().unwrap(), "--control", "ACC-01"]);
    let (status, body) = http(
        &server.base,
        "POST",
        "/api/v1/evidence",
        Some(t),
        None,
        &[("file", &format!("@{}", csv.display())), ("control", "ACC-01")],
    );
    assert_eq!(status, 201, "{body}");
    let by_api: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(by_cli["media_type"], "text/csv");
    assert_eq!(by_api["media_type"], by_cli["media_type"]);
    assert_eq!(by_api["file_name"], "users.csv");
    let before = env.json(&["evidence", "list", "--all"]);
    let (status, body) = http(
        &server.base,
        "POST",
        "/api/v1/evidence",
        Some(t),
        None,
        &[
            ("file", &arg),
            ("control", "ACC-01"),
            ("requirement", "no-such-requirement"),
        ],
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["field"], "requirement");
    let out = env.run(&[
        "evidence",
        "add",
        file.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--requirement",
        "no-such-requirement",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--requirement: ACC-01 has no evidence requirement"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.json(&["evidence", "list", "--all"]), before, "nothing stored");
}

/// An auditor sees and acts only in the engagements they are bound to; a control owner only on
/// requests assigned to them or about their controls; each role takes only its own steps.
fn fieldwork_boundaries_between_engagements_and_roles(b: Backend) {
    let env = Env::new(b);
    let f = fixture(&env);
    let server = Server::start(&env, "first@bluefin.test");
    let base = server.base.clone();
    let id_of = |v: Value| v["id"].as_str().unwrap().to_string();
    let mine = id_of(env.json(&["audit", "create", "--name", "Ours", "--firm", "Firm LLP"]));
    let theirs = id_of(env.json(&["audit", "create", "--name", "Theirs", "--firm", "Other LLP"]));
    env.json(&["audit", "auditor", "Ours", &email("auditor")]);
    let add = |eng: &str, reference: &str, assignee: &str| {
        id_of(env.json(&[
            "requests",
            "add",
            eng,
            "--ref",
            reference,
            "--request",
            "Every leaver",
            "--assignee",
            assignee,
        ]))
    };
    let ours = add("Ours", "1", &email("control_owner"));
    let other_owner = add("Ours", "2", &email("compliance_manager"));
    let foreign = add("Theirs", "1", &email("control_owner"));
    let evidence = env.json(&["evidence", "list"])[0]["id"].as_str().unwrap().to_string();

    let auditor = token(&f, "auditor");
    let owner = token(&f, "control_owner");
    let manager = token(&f, "compliance_manager");
    let call =
        |method: &str, path: &str, t: &str, body: Option<Value>| http(&base, method, path, Some(t), body.as_ref(), &[]);

    // The auditor's list holds only their engagement; the other one does not exist for them.
    let list: Value = serde_json::from_str(&call("GET", "/api/v1/engagements", auditor, None).1).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ours"]);
    for path in [
        format!("/api/v1/engagements/{theirs}"),
        format!("/api/v1/engagements/{theirs}/requests"),
        format!("/api/v1/requests/{foreign}"),
        // Packs of another engagement do not exist for them either.
        format!("/api/v1/engagements/{theirs}/pack"),
        format!("/api/v1/engagements/{theirs}/workbook"),
        format!("/api/v1/requests/{foreign}/pack"),
    ] {
        assert_eq!(call("GET", &path, auditor, None).0, 404, "{path}");
    }
    let (status, _) = call(
        "POST",
        &format!("/api/v1/requests/{foreign}/comments"),
        auditor,
        Some(json!({"text": "peeking"})),
    );
    assert_eq!(status, 404);
    assert_eq!(
        call("GET", &format!("/api/v1/engagements/{mine}"), auditor, None).0,
        200
    );
    // Only a manager moves an engagement or binds its auditors; an auditor cannot bind themselves
    // to another engagement.
    let (status, _) = call(
        "PATCH",
        &format!("/api/v1/engagements/{theirs}"),
        auditor,
        Some(json!({"add_auditor": email("auditor")})),
    );
    assert_eq!(status, 404);
    let (status, _) = call(
        "PATCH",
        &format!("/api/v1/engagements/{mine}"),
        auditor,
        Some(json!({"status": "closed"})),
    );
    assert_eq!(status, 403);
    let (status, body) = call(
        "PATCH",
        &format!("/api/v1/engagements/{mine}"),
        manager,
        Some(json!({"status": "fieldwork"})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        "PATCH",
        &format!("/api/v1/engagements/{mine}"),
        manager,
        Some(json!({"status": "planned"})),
    );
    assert_eq!(status, 422, "engagements only move forward: {body}");
    let (status, body) = call(
        "PATCH",
        &format!("/api/v1/engagements/{theirs}"),
        manager,
        Some(json!({"add_auditor": email("viewer")})),
    );
    assert_eq!(status, 422, "a viewer is not an auditor: {body}");

    // The owner sees only the request assigned to them.
    let reqs: Value =
        serde_json::from_str(&call("GET", &format!("/api/v1/engagements/{mine}/requests"), owner, None).1).unwrap();
    let refs: Vec<&str> = reqs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["1"]);
    assert_eq!(
        call("GET", &format!("/api/v1/requests/{other_owner}"), owner, None).0,
        404
    );

    // Each role takes only its own steps: the owner answers, the auditor reviews, the manager
    // does not review, the auditor does not produce populations or answer.
    let (status, body) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/evidence"),
        owner,
        Some(json!({"evidence": evidence})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/steps"),
        owner,
        Some(json!({"step": "accept"})),
    );
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/steps"),
        owner,
        Some(json!({"step": "submit"})),
    );
    assert_eq!(status, 200);
    let (status, _) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/steps"),
        manager,
        Some(json!({"step": "accept"})),
    );
    assert_eq!(status, 403);
    let (status, body) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/steps"),
        auditor,
        Some(json!({"step": "return"})),
    );
    assert_eq!(status, 422, "a return says why: {body}");
    let (status, body) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/steps"),
        auditor,
        Some(json!({"step": "return", "comment": "dates missing"})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        "POST",
        &format!("/api/v1/requests/{ours}/evidence"),
        auditor,
        Some(json!({"evidence": evidence})),
    );
    assert_eq!(status, 403, "an auditor does not answer requests");
    let (status, _) = call(
        "POST",
        &format!("/api/v1/engagements/{mine}/populations"),
        auditor,
        Some(json!({"kind": "changes"})),
    );
    assert_eq!(status, 403, "an auditor does not produce evidence");
    let (status, body) = call(
        "POST",
        &format!("/api/v1/engagements/{mine}/populations"),
        manager,
        Some(json!({"kind": "changes"})),
    );
    assert_eq!(status, 201, "{body}");
    let population = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = call(
        "POST",
        &format!("/api/v1/engagements/{mine}/samples"),
        auditor,
        Some(json!({"control": "CHG-01", "population": population, "seed": "s1", "size": 3})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, _) = call(
        "POST",
        &format!("/api/v1/engagements/{theirs}/samples"),
        auditor,
        Some(json!({"control": "CHG-01", "population": population, "seed": "s1", "size": 3})),
    );
    assert_eq!(status, 404, "not their engagement");

    // Registers: the auditor reads the people employed during the engagement's period (and
    // the systems in scope), not every record; a leaver of long ago does not exist for them.
    let (status, body) = call(
        "POST",
        "/api/v1/people",
        manager,
        Some(
            json!({"email": "gone@bluefin.test", "name": "Long Gone", "employment_type": "employee",
                    "start_date": "2018-01-02", "end_date": "2019-06-28"}),
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(call("GET", "/api/v1/people/gone@bluefin.test", manager, None).0, 200);
    assert_eq!(call("GET", "/api/v1/people/gone@bluefin.test", auditor, None).0, 404);
    let engagement: Value =
        serde_json::from_str(&call("GET", &format!("/api/v1/engagements/{mine}"), auditor, None).1).unwrap();
    let (from, to) = (
        engagement["period_start"].as_str().unwrap().to_string(),
        engagement["period_end"].as_str().unwrap().to_string(),
    );
    // (the first page, how many in all)
    let items = |path: &str, t: &str| -> (Vec<Value>, u64) {
        let (status, body) = call("GET", path, t, None);
        assert_eq!(status, 200, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        (v["items"].as_array().unwrap().clone(), v["total"].as_u64().unwrap())
    };
    let (everyone, all_people) = items("/api/v1/people?per=100", manager);
    let (seen, _) = items("/api/v1/people?per=100", auditor);
    assert!(all_people <= 100, "the whole register on one page");
    let employed = |p: &Value| {
        p["start_date"].as_str().unwrap() <= to.as_str()
            && p["end_date"]
                .as_str()
                .is_none_or(|e| e.is_empty() || e >= from.as_str())
    };
    assert!(seen.iter().all(employed), "the auditor reads only people of the period");
    assert_eq!(seen.len(), everyone.iter().filter(|p| employed(p)).count());
    assert!(seen.len() < everyone.len());
    let (assets, in_scope) = items("/api/v1/assets?per=100", auditor);
    assert!(
        assets.iter().all(|a| a["in_scope"] == json!(true)),
        "only in-scope systems"
    );
    assert!(in_scope < items("/api/v1/assets?per=100", manager).1);

    // The list in and out through the API: imported (a bad row refused, named, nothing
    // stored), assigned, exported; the sizes set; the population's file and the workbook.
    let list = env.dir.join("firm-list.csv");
    std::fs::write(&list, "PBC #,Request,Due Date\n9,Every new hire,2026-13-40\n").unwrap();
    let list_arg = format!("@{}", list.display());
    let (status, body) = http(
        &base,
        "POST",
        &format!("/api/v1/engagements/{mine}/requests/import"),
        Some(auditor),
        None,
        &[("file", &list_arg)],
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("firm-list.csv") && body.contains("row 2"), "{body}");
    std::fs::write(&list, "PBC #,Request,Due Date\n9,Every new hire,2026-12-15\n").unwrap();
    let (status, body) = http(
        &base,
        "POST",
        &format!("/api/v1/engagements/{mine}/requests/import"),
        Some(owner),
        None,
        &[("file", &list_arg)],
    );
    assert_eq!(status, 403, "a control owner does not import the firm's list: {body}");
    let (status, body) = http(
        &base,
        "POST",
        &format!("/api/v1/engagements/{mine}/requests/import"),
        Some(auditor),
        None,
        &[("file", &list_arg)],
    );
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()["added"].clone()),
        (201, json!(1)),
        "{body}"
    );
    let listed: Value =
        serde_json::from_str(&call("GET", &format!("/api/v1/engagements/{mine}/requests"), manager, None).1).unwrap();
    let nine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == "9")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let assignee = json!({"assignee": email("control_owner")});
    let (status, _) = call(
        "PUT",
        &format!("/api/v1/requests/{nine}/assignee"),
        auditor,
        Some(assignee.clone()),
    );
    assert_eq!(status, 403, "the auditor does not assign the team's work");
    let (status, body) = call(
        "PUT",
        &format!("/api/v1/requests/{nine}/assignee"),
        manager,
        Some(assignee),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["assignee"],
        email("control_owner").as_str()
    );
    let (status, export) = call(
        "GET",
        &format!("/api/v1/engagements/{mine}/requests/export"),
        auditor,
        None,
    );
    assert_eq!(status, 200);
    assert!(export.len() > 1000, "an XLSX workbook");
    assert_eq!(
        call(
            "GET",
            &format!("/api/v1/engagements/{theirs}/requests/export"),
            auditor,
            None
        )
        .0,
        404
    );
    let mut sizes = engagement["sizes"].clone();
    sizes["weekly"] = json!(7);
    let (status, _) = call(
        "PUT",
        &format!("/api/v1/engagements/{mine}/sizes"),
        auditor,
        Some(sizes.clone()),
    );
    assert_eq!(status, 403);
    let (status, body) = call(
        "PUT",
        &format!("/api/v1/engagements/{mine}/sizes"),
        manager,
        Some(sizes),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["sizes"]["weekly"], 7);
    let (status, file) = call("GET", &format!("/api/v1/populations/{population}/file"), auditor, None);
    assert_eq!(status, 200);
    // The header's SHA-256 is of the data lines, as `grep -v '^#' FILE | sha256sum` computes it.
    let data: String = file.split_inclusive('\n').filter(|l| !l.starts_with('#')).collect();
    let stated = file
        .lines()
        .find_map(|l| l.strip_prefix("# SHA-256"))
        .map(|v| v.trim().to_string())
        .expect("a SHA-256 line");
    let computed: String = ring::digest::digest(&ring::digest::SHA256, data.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(computed, stated);
    assert!(data.lines().count() > 1, "a header row and its items");
    assert_eq!(
        call("GET", &format!("/api/v1/engagements/{mine}/workbook"), auditor, None).0,
        200
    );

    // An auditor's control packs are of their engagement's period: by default that period, and
    // a period outside it is refused naming the field.
    let (status, body) = call(
        "GET",
        &format!("/api/v1/controls/{}/pack?period=2019-01-01..2019-12-31", f.control),
        auditor,
        None,
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"field\":\"period\"") && body.contains(&from), "{body}");
    let (status, _) = call("GET", &format!("/api/v1/controls/{}/pack", f.control), auditor, None);
    assert!(
        status == 200 || status == 409,
        "the engagement's period by default: {status}"
    );
    let (status, _) = call(
        "GET",
        &format!("/api/v1/controls/{}/pack?period={from}..{to}", f.control),
        auditor,
        None,
    );
    assert!(status == 200 || status == 409, "{status}");

    let actions = env.audit_actions();
    assert!(actions.iter().any(|a| a == "requests.return"));
    assert!(actions.iter().any(|a| a == "sample.draw"));
}
