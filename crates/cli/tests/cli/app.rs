//! In-process tests of the router: a `TestApp` over a temporary workspace (a real SQLite file
//! or a fresh PostgreSQL database) calls `evident_server::app` directly, with no socket and no
//! child process, so a page or API behaviour is tested in milliseconds. The end-to-end tests
//! in `server.rs` still go through the real binary.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use serde_json::Value;
use tower::ServiceExt;

use super::common::{Backend, Env};

pub struct TestApp {
    pub env: Env,
    pub token: String,
    rt: tokio::runtime::Runtime,
    router: axum::Router,
}

pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

impl TestApp {
    /// A workspace with a scope and an admin's API token (write scope), served in-process.
    pub fn new(b: Backend) -> TestApp {
        let env = Env::new(b);
        env.init();
        env.scope_type2("2026-01-01..2026-06-30");
        let token = env.admin_token();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let router = Self::open(&env, &rt);
        TestApp { env, token, rt, router }
    }

    /// The same workspace served anew, e.g. after its evident.toml changed.
    pub fn reopen(self) -> TestApp {
        let router = Self::open(&self.env, &self.rt);
        TestApp { router, ..self }
    }

    fn open(env: &Env, rt: &tokio::runtime::Runtime) -> axum::Router {
        let ws = rt
            .block_on(evident_store::Workspace::open(&env.dir, "test:in-process"))
            .expect("open the workspace");
        evident_server::app(evident_server::AppState::new(ws, true))
    }

    /// One request through the router, as the API's client (bearer token) from loopback.
    pub fn call(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Answer {
        self.call_as(&self.token, method, path, content_type, body)
    }

    /// One request with another caller's token.
    pub fn call_as(&self, token: &str, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(t) = content_type {
            req = req.header(header::CONTENT_TYPE, t);
        }
        let mut req = req.body(Body::from(body.to_vec())).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        self.rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let content_type = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap().to_vec();
            Answer {
                status,
                content_type,
                body,
            }
        })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None, b"")
    }

    pub fn get_as(&self, token: &str, path: &str) -> Answer {
        self.call_as(token, "GET", path, None, b"")
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.call("POST", path, Some("application/json"), body.to_string().as_bytes())
    }
}

/// The API and the CLI read the same program: controls, readiness and an evidence item agree.
fn router_answers_what_the_cli_says(b: Backend) {
    let app = TestApp::new(b);
    let file = app.env.write_file("sso-apps.csv", b"app,owner\nslack,it\n");
    let added = app.env.json(&[
        "evidence",
        "add",
        file.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--effective",
        "2026-02-01",
    ]);
    let id = added["id"].as_str().unwrap();

    let item = app.get(&format!("/api/v1/evidence/{id}"));
    assert_eq!(item.status, 200);
    let mut cli = app.env.json(&["evidence", "show", id]);
    cli.as_object_mut().unwrap().remove("versions");
    assert_eq!(item.json(), cli, "one shape for an item");
    assert_eq!(item.json()["attests_to"], "2026-02-01");

    let controls = app.get("/api/v1/controls");
    assert_eq!(controls.status, 200);
    assert!(controls.content_type.starts_with("application/json"));
    let cli_controls = app.env.json(&["controls", "list"]);
    let count = |v: &Value| {
        v.get("items")
            .and_then(Value::as_array)
            .or(v.as_array())
            .map(Vec::len)
            .unwrap_or(0)
    };
    assert!(count(&controls.json()) > 0);
    assert_eq!(controls.json()["total"].as_u64(), Some(count(&cli_controls) as u64));

    assert_eq!(app.get("/api/v1/evidence/01HZZZZZZZZZZZZZZZZZZZZZZZ").status, 404);

    // Readiness names the points an auditor looks for that nothing applicable covers, as the
    // CLI does.
    assert_eq!(app.get("/api/v1/readiness").json()["topic_gaps"], serde_json::json!([]));
    let topic = app.env.json(&["catalog", "show", "CC6.1"])["topics"][0].clone();
    for c in topic["covered_by"].as_array().unwrap() {
        app.env.ok(&[
            "controls",
            "not-applicable",
            c.as_str().unwrap(),
            "--reason",
            "test: ruled out",
        ]);
    }
    // Every gap says its fix in words and as an action an entry point can offer; no command lines.
    let readiness = app.get("/api/v1/readiness").json();
    for g in readiness["gaps"].as_array().unwrap() {
        let fix = g["fix"].as_str().unwrap();
        assert!(!fix.contains("evident "), "a command line in the API: {fix}");
        assert!(g["action"]["kind"].is_string(), "{g}");
    }
    let control = app.get("/api/v1/controls/ACC-01").json();
    for r in control["reasons"].as_array().unwrap() {
        assert!(r["action"]["kind"].is_string(), "{r}");
    }
    let gaps = app.get("/api/v1/readiness").json()["topic_gaps"].clone();
    assert_eq!(gaps, app.env.json(&["readiness"])["topic_gaps"]);
    assert!(
        gaps.as_array().unwrap().iter().any(|g| g["topic"] == topic["id"]),
        "{gaps}"
    );
}

/// Bad input through the router is refused with a 4xx naming the field, and changes nothing.
fn router_refuses_bad_input(b: Backend) {
    let app = TestApp::new(b);
    let before = app.env.json(&["evidence", "list", "--all"]);
    // A withdrawal without a reason, and one with the wrong media type.
    let none = app.post_json(
        "/api/v1/evidence/01HZZZZZZZZZZZZZZZZZZZZZZZ/withdraw",
        &serde_json::json!({}),
    );
    assert!(matches!(none.status, 404 | 422), "{}", none.status);
    let wrong = app.call("POST", "/api/v1/users", Some("text/plain"), b"x");
    assert_eq!(wrong.status, 415);
    assert!(wrong.json()["error"].as_str().unwrap().contains("application/json"));
    let broken = app.call("POST", "/api/v1/users", Some("application/json"), b"{not json");
    assert_eq!(broken.status, 400);
    assert_eq!(broken.json()["field"], "body");
    let upload = app.call("POST", "/api/v1/evidence", Some("application/json"), b"{}");
    assert_eq!(upload.status, 415, "an upload is multipart");
    // Paging parameters that are not numbers.
    for q in ["per=null", "per=-1", "page=abc", "per=0", "per=101", "dir=up", "dir="] {
        let a = app.get(&format!("/api/v1/controls?{q}"));
        assert_eq!(a.status, 400, "{q}: {}", String::from_utf8_lossy(&a.body));
        assert!(a.json()["field"].as_str().is_some(), "{q}: names the field");
    }
    assert_eq!(app.env.json(&["evidence", "list", "--all"]), before);
    // An employee's account needs a person record: a role change to employee for someone
    // outside the people register is refused naming the field, and changes nothing.
    app.env
        .json(&["users", "add", "guest@bluefin.test", "--role", "viewer"]);
    let change = app.call(
        "PUT",
        "/api/v1/users/guest@bluefin.test",
        Some("application/json"),
        br#"{"role": "employee"}"#,
    );
    assert_eq!(change.status, 422, "{}", String::from_utf8_lossy(&change.body));
    assert_eq!(change.json()["field"], "role");
    let users = app.env.json(&["users", "list"]).to_string();
    assert!(users.contains("viewer"), "{users}");
}

/// Only staff are asked to accept policies: an administrator who is not in the people register
/// sees nothing to accept; once on the staff, the published policy waits for them, and the
/// policy lists them among those still to accept until they do.
fn only_staff_are_asked_to_accept_policies(b: Backend) {
    let app = TestApp::new(b);
    let env = &app.env;
    env.ok(&["policies", "adopt", "access-control"]);
    env.ok(&["policies", "approve", "access-control"]);
    env.ok(&["policies", "publish", "access-control"]);
    let me = app.get("/api/v1/me").json();
    assert_eq!(me["staff"], false, "{me}");
    assert_eq!(
        me["to_accept"],
        serde_json::json!([]),
        "nothing is asked of a non-staff account"
    );
    let hr = env.write_file(
        "hr.csv",
        b"email,name,employment_type,start_date\nadmin@bluefin.test,Ada Admin,employee,2024-01-01\n",
    );
    env.ok(&["import", "people", hr.to_str().unwrap()]);
    let me = app.get("/api/v1/me").json();
    assert_eq!(me["staff"], true, "{me}");
    assert_eq!(me["to_accept"][0]["policy"], "access-control", "{me}");
    let policy = app.get("/api/v1/policies/access-control").json();
    assert_eq!(policy["acceptance"], serde_json::json!({"accepted": 0, "required": 1}));
    let version = me["to_accept"][0]["version"].as_i64().unwrap();
    let accepted = app.post_json(
        "/api/v1/me/acceptances",
        &serde_json::json!({"policy": "access-control", "version": version}),
    );
    assert_eq!(accepted.status, 200, "{}", String::from_utf8_lossy(&accepted.body));
    assert_eq!(accepted.json()["to_accept"], serde_json::json!([]));
    let policy = app.get("/api/v1/policies/access-control").json();
    assert_eq!(policy["acceptance"], serde_json::json!({"accepted": 1, "required": 1}));
}

/// A register lists what its spec names, derived figures included: risks sort by their
/// inherent score (likelihood × impact).
fn registers_list_the_columns_their_spec_names(b: Backend) {
    let app = TestApp::new(b);
    let risks = app.env.write_file(
        "risks.csv",
        b"id,title,likelihood,impact,treatment\nR-1,Laptop theft,2,3,mitigate\nR-2,Phishing,4,4,mitigate\nR-3,Vendor outage,1,5,accept\n",
    );
    app.env.ok(&["import", "risks", risks.to_str().unwrap()]);
    let listed = app.get("/api/v1/risks?sort=score&dir=desc").json();
    let order: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["R-2", "R-1", "R-3"], "16, 6, 5");
}

on_both_databases!(
    router_answers_what_the_cli_says,
    router_refuses_bad_input,
    only_staff_are_asked_to_accept_policies,
    registers_list_the_columns_their_spec_names
);
