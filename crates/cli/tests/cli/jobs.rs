//! Jobs: `evident jobs list|run|schedule|runs` and `evident collect all` on both databases, and
//! two `evident serve` instances on one PostgreSQL database running each scheduled job exactly
//! once, one of them killed (SIGKILL) in the middle of a job that the other then takes over.
//! GitHub is stood in by a local server answering GitHub's responses, slowly when asked to.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Backend, Env};
use crate::github::respond;
use crate::security::{Web, add_user};
use crate::server::{Server, http};

on_both_databases!(jobs_from_the_command_line, jobs_page_and_run_now);

/// The GitHub stand-in of the connector test, waiting `delay` before each answer.
struct SlowGithub {
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

fn slow_github(delay: Duration) -> SlowGithub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (b, l) = (base.clone(), log.clone());
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let (b, l, seen) = (b.clone(), l.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                let mut auth = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if h.to_ascii_lowercase().starts_with("authorization:") {
                        auth = h.split_once(':').unwrap().1.trim().to_string();
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
                l.lock().unwrap().push(path.clone());
                let count = {
                    let mut s = seen.lock().unwrap();
                    let c = s.entry(path.clone()).or_default();
                    *c += 1;
                    *c
                };
                std::thread::sleep(delay);
                let (status, headers, body) = respond(&b, &path, count, &auth);
                let body = body.to_string();
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                let _ = stream.write_all(out.as_bytes());
            });
        }
    });
    SlowGithub { base, log }
}

fn connect(env: &Env, base: &str) {
    let out = env
        .command(&[
            "connect",
            "github",
            "--org",
            "acme",
            "--token-env",
            "GH_TOKEN",
            "--api-url",
            base,
        ])
        .env("GH_TOKEN", "test-token")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn job<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {list}"))
}

fn instant_ms(text: &Value) -> i64 {
    let t = time::OffsetDateTime::parse(
        text.as_str().expect("an instant"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn jobs_from_the_command_line(b: Backend) {
    let mut env = Env::new(b);
    env.vars.push(("EVIDENT_HTTP_BACKOFF_MS".into(), "10".into()));
    env.init();
    // Without a connector: the daily check run and the access-review start, first due in a day.
    let list = env.json(&["jobs", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    for name in ["checks:daily", "access-reviews:due"] {
        let j = job(&list, name);
        assert_eq!(j["schedule"], "every day");
        assert!(instant_ms(&j["next_run"]) > now_ms() + 86_000_000, "{j}");
        assert!(j["last_run"].is_null() && j["lease_holder"].is_null());
    }
    // A configured connector brings its collection, due at once, every 6 hours.
    let gh = slow_github(Duration::ZERO);
    connect(&env, &gh.base);
    let list = env.json(&["jobs", "list"]);
    let collect = job(&list, "collect:github");
    assert_eq!(collect["schedule"], "every 6 hours");
    assert!(instant_ms(&collect["next_run"]) <= now_ms());

    let ran = env.json(&["jobs", "run", "collect:github"]);
    assert_eq!(ran["status"], "succeeded", "{ran}");
    assert_eq!(ran["summary"]["collected"]["protections"], 2, "{ran}");
    let list = env.json(&["jobs", "list"]);
    let collect = job(&list, "collect:github");
    assert_eq!(collect["result"], "succeeded");
    assert!(collect["lease_holder"].is_null(), "the lease is cleared: {collect}");
    let next = instant_ms(&collect["next_run"]) - instant_ms(&collect["last_run"]);
    assert!((6 * 3_600_000 - 60_000..=6 * 3_600_000).contains(&next), "{collect}");
    // The collection is recorded as the connector's run too, and its responses kept as evidence.
    let runs = env.json(&["collect", "runs", "github"]);
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["evidence"], ran["summary"]["evidence"]);

    // Schedules: refused with the flag and the reason, then changed and audit-logged.
    env.refused(
        &["jobs", "schedule", "collect:github", "--every", "10s"],
        &["--every", "one minute"],
    );
    env.refused(
        &["jobs", "schedule", "collect:github", "--every", "6h", "--next", "soon"],
        &["--next", "2027-01-04T02:00:00Z"],
    );
    env.refused(
        &["jobs", "schedule", "collect:nothing", "--every", "6h"],
        &["unknown job"],
    );
    env.refused(&["jobs", "run", "collect:nothing"], &["unknown job"]);
    let set = env.json(&["jobs", "schedule", "collect:github", "--every", "2h"]);
    assert_eq!(set["schedule"], "every 2 hours");
    let next = instant_ms(&set["next_run"]) - instant_ms(&collect["last_run"]);
    assert!(
        (2 * 3_600_000 - 60_000..=2 * 3_600_000).contains(&next),
        "two hours after the last run began: {set}"
    );
    let log = env.json(&["audit-log"]);
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "job.schedule")
        .expect("the schedule change is audit-logged");
    assert_eq!(entry["subject"], "job:collect:github");

    // The daily check run, run by hand: results kept like `evident check run`'s.
    let checks = env.json(&["jobs", "run", "checks:daily"]);
    assert_eq!(checks["status"], "succeeded");
    assert!(checks["summary"]["checks"].as_i64().unwrap() > 40, "{checks}");
    let today = crate::common::day(0);
    let history = env.json(&[
        "check",
        "history",
        "connectors-collecting",
        "--from",
        &today,
        "--to",
        &today,
    ]);
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["status"], "pass", "GitHub collected just now: {history}");

    // For cron: every configured connector once.
    let all = env.json(&["collect", "all"]);
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["status"], "succeeded", "{all}");
    assert_eq!(env.json(&["collect", "runs", "github"]).as_array().unwrap().len(), 2);

    // A failing source: the run is recorded as failed with its reason, retried a minute later.
    connect(&env, "http://127.0.0.1:9");
    let out = env.run(&["jobs", "run", "collect:github"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("collect:github failed") && stderr.contains("connection failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("test-token"), "no secret in messages");
    let list = env.json(&["jobs", "list"]);
    let collect = job(&list, "collect:github");
    assert_eq!(
        (collect["result"].as_str(), collect["failures"].as_i64()),
        (Some("failed"), Some(1))
    );
    let wait = instant_ms(&collect["next_run"]) - instant_ms(&collect["last_run"]);
    assert!((59_000..=61_000).contains(&wait), "retried after a minute: {collect}");
    let out = env.run(&["collect", "all", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "cron sees the failure");
    let runs = env.json(&["jobs", "runs", "collect:github"]);
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed", "succeeded", "succeeded"]);
    assert!(runs[0]["instance"].as_str().unwrap().contains('/'), "{runs}");
    let everything = serde_json::to_string(&env.json(&["audit-log"])).unwrap();
    assert!(!everything.contains("test-token"), "no secret in the audit log");

    // A job someone else is running is refused by name, and nothing starts.
    let slow = slow_github(Duration::from_millis(400));
    connect(&env, &slow.base);
    let mut first = env.command(&["jobs", "run", "collect:github"]).spawn().unwrap();
    let started = Instant::now();
    let holder = loop {
        let list = env.json(&["jobs", "list"]);
        if let Some(h) = job(&list, "collect:github")["lease_holder"].as_str() {
            break h.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first run never claimed the job"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(holder.contains(&format!("/{}/", first.id())), "{holder}");
    let out = env.run(&["jobs", "run", "collect:github"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("collect:github is running now on {holder}")),
        "{stderr}"
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(
        env.json(&["jobs", "runs", "collect:github"]).as_array().unwrap().len(),
        5,
        "the refused run left no trace"
    );
    assert!(!slow.log.lock().unwrap().is_empty());
    env.assert_verified();
}

fn add_settings(dir: &std::path::Path, text: &str) {
    let path = dir.join("evident.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{config}\n{text}\n")).unwrap();
}

fn second_folder(env: &Env) -> std::path::PathBuf {
    let b = env.tmp.path().join("instance-b");
    std::fs::create_dir_all(&b).unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(env.dir.join("evident.toml"))
        .arg(env.dir.join("keys"))
        .arg(&b)
        .status()
        .unwrap();
    assert!(status.success(), "copy the configuration and keys");
    b
}

/// Waits until `done` holds for the job list, or fails saying what it waited for.
fn wait_for(env: &Env, what: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let list = env.json(&["jobs", "list"]);
        if done(&list) {
            return list;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "waited {secs} s for {what}: {list}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn runs_of(env: &Env, name: &str) -> Vec<Value> {
    env.json(&["jobs", "runs", name]).as_array().unwrap().clone()
}

#[test]
fn two_servers_run_each_job_once_and_take_over_a_dead_ones() {
    let mut env = Env::new(Backend::Postgres);
    env.vars.push(("EVIDENT_HTTP_BACKOFF_MS".into(), "10".into()));
    env.init();
    // One vault for both, as a bucket would be (the instances test uses S3; a shared folder here).
    let vault = env.dir.join("vault").display().to_string();
    env.vars.push(("EVIDENT_VAULT_DIR".into(), vault));
    // Slow enough that a collection takes seconds: the other instance polls many times meanwhile.
    let gh = slow_github(Duration::from_millis(300));
    connect(&env, &gh.base);
    add_settings(&env.dir, "[server]\njobs_poll_ms = 100\njobs_lease_secs = 2\n");
    for name in ["checks:daily", "access-reviews:due"] {
        env.json(&["jobs", "schedule", name, "--every", "1h", "--next", "now"]);
    }
    let b_dir = second_folder(&env);
    let a = Server::start(&env, "first@bluefin.test");
    let b = Server::start_in(&env, &b_dir, "first@bluefin.test");
    let names = ["access-reviews:due", "checks:daily", "collect:github"];
    wait_for(&env, "every job to run once", 90, |list| {
        names
            .iter()
            .all(|n| job(list, n)["last_run"].is_string() && job(list, n)["lease_holder"].is_null())
    });
    // Many more polls by both: nobody runs a job again before its schedule.
    std::thread::sleep(Duration::from_secs(2));
    let list = env.json(&["jobs", "list"]);
    let pids = [a.child.id(), b.child.id()];
    for name in names {
        let runs = runs_of(&env, name);
        assert_eq!(runs.len(), 1, "{name} ran exactly once: {runs:?}");
        assert_eq!(runs[0]["status"], "succeeded", "{name}: {runs:?}");
        assert_eq!(runs[0]["cause"], "schedule");
        let instance = runs[0]["instance"].as_str().unwrap();
        assert!(
            pids.iter().any(|p| instance.contains(&format!("/{p}/"))),
            "{name} ran on one of the servers: {instance}"
        );
        assert!(
            instant_ms(&job(&list, name)["next_run"]) > now_ms() + 3_000_000,
            "{name} is next due in an hour"
        );
    }
    let repo_lists = |log: &[String]| log.iter().filter(|p| p.starts_with("/orgs/acme/repos")).count();
    assert_eq!(
        repo_lists(&gh.log.lock().unwrap()),
        2,
        "one collection: two pages of repositories"
    );
    assert_eq!(env.json(&["collect", "runs", "github"]).as_array().unwrap().len(), 1);

    // B goes; A takes the next collection and is killed in the middle of it. B, started again,
    // takes the job over once A's lease has expired, and the dead run is recorded as abandoned.
    drop(b);
    env.json(&["jobs", "schedule", "collect:github", "--every", "1h", "--next", "now"]);
    let list = wait_for(&env, "A to claim the collection", 30, |list| {
        job(list, "collect:github")["lease_holder"].is_string()
    });
    let holder = job(&list, "collect:github")["lease_holder"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(holder.contains(&format!("/{}/", a.child.id())), "{holder}");
    let mut a = a;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let killed_at = Instant::now();
    let b = Server::start_in(&env, &b_dir, "first@bluefin.test");
    let list = wait_for(&env, "B to finish the collection A left", 60, |list| {
        job(list, "collect:github")["lease_holder"].is_null()
            && runs_of(&env, "collect:github")
                .first()
                .is_some_and(|r| r["status"] == "succeeded")
            && runs_of(&env, "collect:github").len() == 3
    });
    assert!(
        killed_at.elapsed() >= Duration::from_millis(1500),
        "not taken over before the lease expired"
    );
    let runs = runs_of(&env, "collect:github");
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "abandoned", "succeeded"], "{runs:?}");
    assert!(
        runs[0]["instance"]
            .as_str()
            .unwrap()
            .contains(&format!("/{}/", b.child.id()))
    );
    assert!(runs[1]["error"].as_str().unwrap().contains("lease expired"), "{runs:?}");
    assert_eq!(job(&list, "collect:github")["result"], "succeeded");
    drop(b);
    env.assert_verified();
}

/// The page: every reader sees the jobs and the connections; only an administrator runs one
/// now (claimed like the scheduler's) or changes a schedule, with the session's CSRF token.
fn jobs_page_and_run_now(b: Backend) {
    let mut env = Env::new(b);
    env.vars.push(("EVIDENT_HTTP_BACKOFF_MS".into(), "10".into()));
    env.init();
    let gh = slow_github(Duration::ZERO);
    connect(&env, &gh.base);
    // The scheduler off, so only Run now collects.
    add_settings(&env.dir, "[server]\nrequire_totp = []\nrun_jobs = false\n");
    let server = Server::start(&env, "first@bluefin.test");
    let sign_in = |email: &str, role: &str| {
        let one_time = add_user(&env, email, role);
        let web = Web::new(&env, &server, role);
        let (status, to, page) = web.post("/login", &[("email", email), ("password", &one_time)]);
        assert_eq!(status, 303, "{page}");
        assert!(to.starts_with("/login/password"), "{to}");
        let chosen = format!("a long passphrase for {role}");
        let (status, _, page) = web.post("/login/password", &[("new_password", &chosen), ("confirm", &chosen)]);
        assert_eq!(status, 303, "{page}");
        web
    };
    let admin = sign_in("admin2@bluefin.test", "admin");
    let lead = sign_in("lead@bluefin.test", "compliance_manager");
    let auditor = sign_in("auditor@bluefin.test", "auditor");

    let (status, _, page) = admin.get("/jobs");
    assert_eq!(status, 200, "{page}");
    for text in [
        "Collect from GitHub",
        "collect:github",
        "checks:daily",
        "Run now",
        "Connections",
        "never",
    ] {
        assert!(page.contains(text), "the page shows {text}: {page}");
    }
    let (status, _, page) = lead.get("/jobs");
    assert_eq!(status, 200);
    assert!(page.contains("collect:github") && !page.contains("Run now"), "{page}");
    assert!(page.contains("href=\"/jobs\""), "in the lead's navigation");
    assert_eq!(auditor.get("/jobs").0, 404, "not the auditor's business");
    let csrf = lead.csrf("/jobs");
    let (status, _, _) = lead.post("/jobs/collect:github/run", &[("csrf", &csrf)]);
    assert_eq!(status, 404, "only an administrator runs a job");
    let (status, _, _) = admin.post("/jobs/collect:github/run", &[("csrf", "forged")]);
    assert_eq!(status, 403, "the CSRF token is required");
    assert!(runs_of(&env, "collect:github").is_empty(), "nothing ran");

    let csrf = admin.csrf("/jobs");
    let (status, to, page) = admin.post("/jobs/collect:github/run", &[("csrf", &csrf)]);
    assert_eq!((status, to.as_str()), (303, "/jobs?done=job-started"), "{page}");
    wait_for(&env, "the collection to finish", 60, |list| {
        job(list, "collect:github")["result"] == "succeeded"
    });
    let (_, _, page) = admin.get("/jobs");
    for text in [
        "succeeded",
        "collecting",
        "2 branch protections",
        "2 merged changes",
        "responses kept",
    ] {
        assert!(page.contains(text), "after the run the page shows {text}: {page}");
    }
    let runs = runs_of(&env, "collect:github");
    assert_eq!((runs.len(), runs[0]["cause"].as_str()), (1, Some("manual")));

    // Schedules from the page: refused in words, then set and audit-logged in the admin's name.
    let (status, _, page) = admin.post("/jobs/collect:github/schedule", &[("csrf", &csrf), ("every", "10s")]);
    assert_eq!(status, 422);
    assert!(page.contains("one minute"), "{page}");
    let (status, to, _) = admin.post("/jobs/collect:github/schedule", &[("csrf", &csrf), ("every", "2h")]);
    assert_eq!((status, to.as_str()), (303, "/jobs?done=saved"));
    let list = env.json(&["jobs", "list"]);
    assert_eq!(job(&list, "collect:github")["schedule"], "every 2 hours");
    let log = env.json(&["audit-log"]);
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "job.schedule")
        .unwrap();
    assert_eq!(entry["actor"], "admin2@bluefin.test");

    // The API says the same: the jobs and each connector's health.
    let token = env.json(&[
        "tokens",
        "create",
        "--user",
        "lead@bluefin.test",
        "--name",
        "jobs",
        "--scope",
        "read",
    ])["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = http(&server.base, "GET", "/api/v1/jobs", Some(&token), None, &[]);
    assert_eq!(status, 200, "{body}");
    let overview: Value = serde_json::from_str(&body).unwrap();
    let github = &overview["connectors"][0];
    assert_eq!(
        (github["name"].as_str(), github["state"].as_str()),
        (Some("github"), Some("collecting"))
    );
    assert_eq!(github["collected"]["changes"], 2);
    assert!(
        github["last_error"].is_null() && github["evidence"].is_string(),
        "{github}"
    );
    assert!(!body.contains("test-token"), "no secret in the answer");
    let (status, _) = http(
        &server.base,
        "POST",
        "/api/v1/jobs/collect:github/run",
        Some(&token),
        None,
        &[],
    );
    assert_eq!(status, 404, "a read token never runs a job");
    assert!(!gh.log.lock().unwrap().is_empty());
}
