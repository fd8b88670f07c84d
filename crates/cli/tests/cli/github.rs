//! The live GitHub connector against a local stand-in that speaks GitHub's REST responses,
//! and the local git collector.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::common::*;

on_both_databases!(github_connector_end_to_end, local_git_review_trail);

struct StandIn {
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// Serves scripted responses; `drop_after` stops answering (closes connections) after that
/// many requests, like a network that goes away.
fn stand_in(drop_after: Option<usize>) -> StandIn {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (b, l) = (base.clone(), log.clone());
    std::thread::spawn(move || {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
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
            let n = l.lock().unwrap().len();
            l.lock().unwrap().push(path.clone());
            if drop_after.is_some_and(|d| n >= d) {
                drop(stream);
                continue;
            }
            let count = {
                let c = seen.entry(path.clone()).or_default();
                *c += 1;
                *c
            };
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
        }
    });
    StandIn { base, log }
}

pub(crate) fn respond(base: &str, path: &str, count: usize, auth: &str) -> (u16, Vec<(String, String)>, Value) {
    if auth != "Bearer test-token" {
        return (401, vec![], json!({"message": "Bad credentials"}));
    }
    let recent = day(-2);
    let pr = |n: i64, author: &str| {
        json!({"number": n, "title": format!("Change {n}"), "user": {"login": author},
        "merged_at": format!("{recent}T10:00:00Z"), "updated_at": format!("{recent}T10:00:00Z"), "base": {"repo": {"full_name": "acme/api"}}})
    };
    let review = |n: i64, who: &str| {
        json!([{"user": {"login": who}, "state": "APPROVED", "submitted_at": format!("{recent}T09:00:00Z"),
        "pull_request_url": format!("https://api.github.com/repos/acme/api/pulls/{n}")}])
    };
    match path {
        "/orgs/acme/repos?per_page=100&type=all" => (
            200,
            vec![(
                "Link".into(),
                format!(
                    "<{base}/orgs/acme/repos?per_page=100&type=all&page=2>; rel=\"next\", <{base}/orgs/acme/repos?per_page=100&type=all&page=2>; rel=\"last\""
                ),
            )],
            json!([{"full_name": "acme/api", "default_branch": "main", "archived": false}]),
        ),
        "/orgs/acme/repos?per_page=100&type=all&page=2" => (
            200,
            vec![],
            json!([{"full_name": "acme/web", "default_branch": "trunk"}, {"full_name": "acme/old", "default_branch": "main", "archived": true}]),
        ),
        "/repos/acme/api/branches/main/protection" if count == 1 => (500, vec![], json!({"message": "Server Error"})),
        "/repos/acme/api/branches/main/protection" => (
            200,
            vec![],
            json!({
            "url": "https://api.github.com/repos/acme/api/branches/main/protection",
            "required_pull_request_reviews": {"required_approving_review_count": 1},
            "enforce_admins": {"enabled": true}, "allow_force_pushes": {"enabled": false}}),
        ),
        "/repos/acme/web/branches/trunk/protection" => (404, vec![], json!({"message": "Branch not protected"})),
        "/repos/acme/api/rules/branches/main" => (200, vec![], json!([])),
        "/repos/acme/web/rules/branches/trunk" if count == 1 => {
            let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 1;
            (
                403,
                vec![
                    ("x-ratelimit-remaining".into(), "0".into()),
                    ("x-ratelimit-reset".into(), reset.to_string()),
                ],
                json!({"message": "API rate limit exceeded"}),
            )
        }
        "/repos/acme/web/rules/branches/trunk" => (
            200,
            vec![],
            json!([{"type": "pull_request", "ruleset_id": 4,
            "parameters": {"required_approving_review_count": 2}}, {"type": "non_fast_forward", "ruleset_id": 4}]),
        ),
        "/repos/acme/api/pulls?state=closed&sort=updated&direction=desc&per_page=100" => {
            (200, vec![], json!([pr(5, "ana"), pr(6, "ben")]))
        }
        "/repos/acme/web/pulls?state=closed&sort=updated&direction=desc&per_page=100" => (200, vec![], json!([])),
        "/repos/acme/api/pulls/5/reviews?per_page=100" => (200, vec![], review(5, "cy")),
        "/repos/acme/api/pulls/6/reviews?per_page=100" => (200, vec![], review(6, "ben")),
        _ => (404, vec![], json!({"message": "Not Found"})),
    }
}

fn github_connector_end_to_end(b: Backend) {
    let env = Env::new(b);
    env.init();
    let gh = stand_in(None);
    let connect = |base: &str| {
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
    };
    env.refused(
        &[
            "connect",
            "github",
            "--org",
            "acme",
            "--token-env",
            "NO_SUCH_VAR_SET",
            "--api-url",
            &gh.base,
        ],
        &["--token-env", "NO_SUCH_VAR_SET"],
    );
    connect(&gh.base);
    // The token is sealed: not in the database, not in the audit log.
    let log = serde_json::to_string(&env.json(&["audit-log"])).unwrap();
    assert!(!log.contains("test-token"));
    if b == Backend::Sqlite {
        let db: Vec<u8> = ["evident.db", "evident.db-wal"]
            .iter()
            .flat_map(|f| std::fs::read(env.dir.join(f)).unwrap_or_default())
            .collect();
        assert!(
            !db.windows(10).any(|w| w == b"test-token"),
            "the token is not stored in clear"
        );
    }

    let collect = |extra: &[(&str, &str)]| {
        let mut c = env.command(&["collect", "github", "--format", "json"]);
        c.env("EVIDENT_HTTP_BACKOFF_MS", "10");
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = collect(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["summary"]["protections"], 2);
    assert_eq!(done["summary"]["changes"], 2);
    let requests = gh.log.lock().unwrap().clone();
    assert!(
        requests.contains(&"/orgs/acme/repos?per_page=100&type=all&page=2".to_string()),
        "followed the Link header"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|p| *p == "/repos/acme/api/branches/main/protection")
            .count(),
        2,
        "the 500 was retried"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|p| *p == "/repos/acme/web/rules/branches/trunk")
            .count(),
        2,
        "waited out the rate limit"
    );
    assert!(
        !requests.iter().any(|p| p.contains("acme/old")),
        "archived repositories are skipped"
    );

    let run = env.json(&["check", "run"]);
    let result = |id: &str| run.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(result("default-branch-requires-review")["passed"], 2);
    assert_eq!(
        result("changes-independently-approved")["failures"][0]["record"],
        "acme/api#6"
    );
    assert_eq!(result("force-pushes-blocked")["passed"], 2);
    let evidence = done["evidence"].as_str().unwrap();
    let item = env.json(&["evidence", "show", evidence]);
    assert_eq!(item["source"]["kind"], "connector");
    // Downloaded under a name that says what it is, and nothing is left in the workspace.
    assert!(
        item["file_name"].as_str().unwrap().starts_with("github-acme-"),
        "{item}"
    );
    assert_eq!(item["media_type"], "application/json");
    assert!(
        !std::fs::read_dir(&env.dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".collect-")),
        "no collection folder left behind"
    );

    // The network goes away halfway: the run fails, keeps what it fetched, changes no facts.
    let flaky = stand_in(Some(3));
    connect(&flaky.base);
    let before = env.json(&["check", "run", "--check", "changes-independently-approved"])[0]["failed"].clone();
    let out = collect(&[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed and changed no facts") && stderr.contains("kept as evidence"),
        "{stderr}"
    );
    let runs = env.json(&["collect", "runs", "github"]);
    let runs = runs.as_array().unwrap();
    assert_eq!(
        (runs[0]["status"].as_str(), runs[1]["status"].as_str()),
        (Some("succeeded"), Some("failed"))
    );
    assert!(runs[1]["evidence"].is_string() && runs[1]["error"].as_str().unwrap().contains("connection failed"));
    assert_eq!(
        env.json(&["check", "run", "--check", "changes-independently-approved"])[0]["failed"],
        before
    );

    // Incremental: the next run starts from the last success, so nothing older is fetched again.
    connect(&gh.base);
    gh.log.lock().unwrap().clear();
    let out = collect(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        again["summary"]["changes"], 0,
        "pull requests merged before the last run are not collected again"
    );
    assert!(!gh.log.lock().unwrap().iter().any(|p| p.contains("/reviews")));
    env.assert_verified();
}

fn git_in(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn local_git_review_trail(b: Backend) {
    let env = Env::new(b);
    env.init();
    let repo = env.tmp.path().join("payments");
    std::fs::create_dir_all(&repo).unwrap();
    git_in(&repo, &["init", "-q", "-b", "main"]);
    git_in(&repo, &["config", "user.email", "ana@acme.example"]);
    git_in(&repo, &["config", "user.name", "Ana Lopez"]);
    git_in(&repo, &["config", "commit.gpgsign", "false"]);
    for (i, (title, trailer)) in [
        ("Add ledger", Some("Reviewed-by: Ben Ito <ben@acme.example>")),
        ("Quick fix", None),
        ("Tune retries", Some("Approved-by: Ana Lopez <ana@acme.example>")),
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(repo.join(format!("f{i}")), title).unwrap();
        git_in(&repo, &["add", "."]);
        let mut args = vec!["commit", "-q", "-m", title];
        if let Some(t) = trailer {
            args.extend(["-m", t]);
        }
        git_in(&repo, &args);
    }
    let out = env.json(&["collect", "git", repo.to_str().unwrap()]);
    assert_eq!(
        (
            out["repository"].as_str(),
            out["commits"].as_u64(),
            out["without_review"].as_u64()
        ),
        (Some("payments"), Some(3), Some(2))
    );
    let item = env.json(&["evidence", "show", out["evidence"].as_str().unwrap()]);
    assert!(
        item["file_name"].as_str().unwrap().starts_with("git-history-payments-"),
        "{item}"
    );
    let run = env.json(&["check", "run", "--check", "commits-reviewed"]);
    let failures: Vec<String> = run[0]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(failures.len(), 2);
    assert!(
        failures.iter().any(|f| f.starts_with("'Tune retries' by Ana Lopez")),
        "a self-approval does not count: {failures:?}"
    );
    // Signing is tested only where the change policy requires it (off by default).
    assert_eq!(env.json(&["check", "run", "--check", "commits-signed"])[0]["failed"], 0);
    env.ok(&["policies", "adopt", "change-management"]);
    env.ok(&[
        "policies",
        "set-param",
        "change-management",
        "signed_commits_required",
        "true",
    ]);
    assert_eq!(env.json(&["check", "run", "--check", "commits-signed"])[0]["failed"], 3);
    assert_eq!(env.json(&["collect", "runs", "git"])[0]["status"], "succeeded");
    env.refused(
        &["collect", "git", env.tmp.path().to_str().unwrap()],
        &["not a git repository"],
    );
    env.assert_verified();
}
