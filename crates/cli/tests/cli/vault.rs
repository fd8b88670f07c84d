//! The evidence vault and the audit log: round trips, versions, freshness, bad input,
//! tamper detection, durability under kill -9, and the S3 backend.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::*;

on_both_databases!(
    evidence_round_trip_is_byte_identical_and_encrypted,
    identical_bytes_are_stored_once,
    supersede_and_withdraw_keep_history,
    freshness_follows_the_requirement_cadence,
    bad_evidence_input_stores_and_logs_nothing,
    every_write_is_in_the_audit_log,
    database_refuses_to_rewrite_history,
    tampered_blob_is_caught,
    deleted_blob_is_caught,
    edited_evidence_row_is_caught,
    deleted_evidence_row_is_caught,
    edited_audit_entry_is_caught,
    deleted_audit_entry_is_caught,
    reordered_audit_entries_are_caught,
    truncated_audit_log_is_caught,
    kill_during_large_add_leaves_nothing_half_done,
);

fn add(env: &Env, file: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["evidence", "add", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.json(&args)
}

fn evidence_round_trip_is_byte_identical_and_encrypted(b: Backend) {
    let env = Env::new(b);
    env.init();
    let plaintext: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let file = env.write_file("access-review-q3.csv", &plaintext);
    let item = add(
        &env,
        &file,
        &[
            "--control",
            "ACC-08",
            "--title",
            "Q3 access review",
            "--effective",
            &day(-3),
        ],
    );
    assert_eq!(item["sha256"], sha256sum(&file), "the printed hash is sha256sum's");
    assert_eq!(item["size"], 3_000_000);
    assert_eq!(item["media_type"], "text/csv");
    assert_eq!(item["title"], "Q3 access review");
    assert_eq!(item["controls"][0]["control"], "ACC-08");
    assert_eq!(item["source"]["kind"], "person");
    let id = item["id"].as_str().unwrap();

    let out = env.tmp.path().join("back.csv");
    env.ok(&["evidence", "get", id, "--out", out.to_str().unwrap()]);
    let cmp = Command::new("cmp").arg(&file).arg(&out).status().expect("cmp");
    assert!(cmp.success(), "get returns the bytes that were added");
    env.refused(
        &["evidence", "get", id, "--out", out.to_str().unwrap()],
        &["--out", "exists", "--force"],
    );
    env.ok(&["evidence", "get", id, "--out", out.to_str().unwrap(), "--force"]);

    let blobs = env.vault_files();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert!(blobs[0].ends_with(format!(
        "sha256/{}/{}/{}",
        &id_hash(&item)[..2],
        &id_hash(&item)[2..4],
        id_hash(&item)
    )));
    let stored = std::fs::read(&blobs[0]).unwrap();
    assert!(stored.starts_with(b"age-encryption.org/v1\n"), "blobs are age files");
    assert!(
        !stored.windows(64).any(|w| w == &plaintext[1000..1064]),
        "no plaintext on disk"
    );

    let listed = env.json(&["evidence", "list", "--control", "acc-08"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(
        env.json(&["evidence", "list", "--control", "ACC-01"]),
        serde_json::json!([])
    );
    let shown = env.json(&["evidence", "show", id]);
    assert_eq!(shown["sha256"], item["sha256"]);
    assert_eq!(shown["status"], "current");
    env.assert_verified();
}

fn id_hash(item: &Value) -> String {
    item["sha256"].as_str().unwrap().to_string()
}

fn identical_bytes_are_stored_once(b: Backend) {
    let env = Env::new(b);
    env.init();
    let a = env.write_file("a.pdf", b"%PDF-1.7 the same policy document");
    let c = env.write_file("copy.pdf", b"%PDF-1.7 the same policy document");
    let first = add(&env, &a, &["--control", "POL-01"]);
    let second = add(&env, &c, &["--control", "POL-02"]);
    assert_ne!(first["id"], second["id"], "two items");
    assert_eq!(first["sha256"], second["sha256"]);
    assert_eq!(env.vault_files().len(), 1, "one blob");
    assert!(
        !env.dir
            .join("vault/staging")
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        "nothing left staged"
    );
    env.assert_verified();
}

fn supersede_and_withdraw_keep_history(b: Backend) {
    let env = Env::new(b);
    env.init();
    let v1 = add(
        &env,
        &env.write_file("policy-v1.md", b"# Policy v1"),
        &["--control", "POL-01", "--title", "Security policy"],
    );
    let id1 = v1["id"].as_str().unwrap();
    let v2 = env.json(&[
        "evidence",
        "supersede",
        id1,
        env.write_file("policy-v2.md", b"# Policy v2").to_str().unwrap(),
    ]);
    let id2 = v2["id"].as_str().unwrap();
    assert_eq!(v2["supersedes"], id1);
    assert_eq!(v2["title"], "Security policy", "a new version keeps the title");
    assert_eq!(v2["controls"], v1["controls"], "and the links");

    let old = env.json(&["evidence", "show", id1]);
    assert_eq!(old["status"], "superseded");
    assert_eq!(old["superseded_by"], id2);
    assert_eq!(old["versions"].as_array().unwrap().len(), 2);
    let current: Vec<Value> = env.json(&["evidence", "list"]).as_array().unwrap().clone();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], id2);
    env.refused(
        &[
            "evidence",
            "supersede",
            id1,
            env.write_file("v3.md", b"v3").to_str().unwrap(),
        ],
        &["already superseded", id2],
    );

    env.refused(
        &["evidence", "withdraw", id2, "--reason", "  "],
        &["--reason", "cannot be empty"],
    );
    let w = env.json(&["evidence", "withdraw", id2, "--reason", "Uploaded the wrong file"]);
    assert_eq!(w["status"], "withdrawn");
    assert_eq!(w["withdrawn"]["reason"], "Uploaded the wrong file");
    assert_eq!(w["withdrawn"]["by"], "cli:tester");
    assert_eq!(env.json(&["evidence", "list"]), serde_json::json!([]));
    let all = env.json(&["evidence", "list", "--all"]);
    assert_eq!(
        all.as_array().unwrap().len(),
        2,
        "withdrawn and superseded items stay visible"
    );
    env.refused(
        &["evidence", "withdraw", id2, "--reason", "again"],
        &["already withdrawn"],
    );
    env.refused(
        &[
            "evidence",
            "supersede",
            id2,
            env.write_file("v4.md", b"v4").to_str().unwrap(),
        ],
        &["was withdrawn"],
    );
    // The bytes of a withdrawn item stay retrievable for the record.
    let out = env.tmp.path().join("withdrawn.md");
    env.ok(&["evidence", "get", id2, "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"# Policy v2");
    env.assert_verified();
}

fn freshness_follows_the_requirement_cadence(b: Backend) {
    let env = Env::new(b);
    env.init();
    let f = env.write_file("idp-log.json", b"{\"events\": []}");
    // ACC-07: offboarding-tickets is per event; idp-deactivation-log is quarterly (92 days).
    let old = add(
        &env,
        &f,
        &[
            "--control",
            "ACC-07",
            "--requirement",
            "idp-deactivation-log",
            "--effective",
            &day(-200),
        ],
    );
    assert_eq!(old["refresh"], "quarterly");
    assert_eq!(old["valid_until"], day(-200 + 92));
    assert_eq!(old["freshness"], "stale");
    let soon = add(
        &env,
        &f,
        &[
            "--control",
            "ACC-07",
            "--requirement",
            "idp-deactivation-log",
            "--effective",
            &day(-80),
        ],
    );
    assert_eq!(soon["freshness"], "expiring_soon");
    let fresh = add(
        &env,
        &f,
        &[
            "--control",
            "ACC-07",
            "--requirement",
            "idp-deactivation-log",
            "--period",
            &format!("{}..{}", day(-30), day(-1)),
        ],
    );
    assert_eq!(fresh["freshness"], "current");
    assert_eq!(fresh["valid_until"], day(-1 + 92), "a period counts from its end");
    let ticket = add(
        &env,
        &f,
        &[
            "--control",
            "ACC-07",
            "--requirement",
            "offboarding-tickets",
            "--effective",
            &day(-400),
        ],
    );
    assert_eq!(ticket["freshness"], "per_event");
    assert!(ticket["valid_until"].is_null());
    // Without a requirement, the most demanding cadence of the control governs.
    let loose = add(&env, &f, &["--control", "ACC-07", "--effective", &day(-100)]);
    assert_eq!(loose["refresh"], "quarterly");

    let stale = env.json(&["evidence", "list", "--stale"]);
    let stale_ids: Vec<&str> = stale
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        stale_ids,
        vec![old["id"].as_str().unwrap(), loose["id"].as_str().unwrap()]
    );
    env.refused(
        &[
            "evidence",
            "add",
            f.to_str().unwrap(),
            "--control",
            "ACC-07",
            "--requirement",
            "nope",
        ],
        &["--requirement", "'nope'", "offboarding-tickets"],
    );
}

fn bad_evidence_input_stores_and_logs_nothing(b: Backend) {
    let env = Env::new(b);
    env.init();
    let good = env.write_file("ok.txt", b"fine");
    let good = good.to_str().unwrap();
    let before = env.audit_actions();
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec!["/nonexistent/x.pdf".into(), "--control".into(), "ACC-01".into()],
            vec!["FILE", "/nonexistent/x.pdf"],
        ),
        (
            vec![
                env.tmp.path().to_str().unwrap().into(),
                "--control".into(),
                "ACC-01".into(),
            ],
            vec!["FILE", "is a directory"],
        ),
        (
            vec![good.into(), "--control".into(), "ZZZ-01".into()],
            vec!["unknown control 'ZZZ-01'"],
        ),
        (
            vec![
                good.into(),
                "--control".into(),
                "ACC-01".into(),
                "--control".into(),
                "NOPE-9".into(),
            ],
            vec!["unknown control 'NOPE-9'"],
        ),
        (
            vec![
                good.into(),
                "--control".into(),
                "ACC-01".into(),
                "--effective".into(),
                day(2),
            ],
            vec!["--effective", "in the future"],
        ),
        (
            vec![
                good.into(),
                "--control".into(),
                "ACC-01".into(),
                "--effective".into(),
                "2026-02-30".into(),
            ],
            vec!["--effective", "YYYY-MM-DD"],
        ),
        (
            vec![
                good.into(),
                "--control".into(),
                "ACC-01".into(),
                "--period".into(),
                format!("{}..{}", day(-1), day(-9)),
            ],
            vec!["--period", "before it starts"],
        ),
        (
            vec![
                good.into(),
                "--control".into(),
                "ACC-01".into(),
                "--period".into(),
                format!("{}..{}", day(-9), day(5)),
            ],
            vec!["--period", "in the future"],
        ),
        (
            vec![
                good.into(),
                "--control".into(),
                "ACC-01".into(),
                "--title".into(),
                " ".into(),
            ],
            vec!["--title"],
        ),
        (vec![good.into()], vec!["--control"]),
    ];
    for (args, needles) in cases {
        let mut all = vec!["evidence", "add"];
        all.extend(args.iter().map(String::as_str));
        env.refused(&all, &needles);
    }
    // Over the size limit (set low here; 5 GiB by default).
    let big = env.write_file("big.bin", &[7u8; 4096]);
    let out = env
        .command(&["evidence", "add", big.to_str().unwrap(), "--control", "ACC-01"])
        .env("EVIDENT_MAX_EVIDENCE_BYTES", "1024")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit of 1024 bytes"));
    // Unreadable (permissions do not stop root, so only where they apply).
    let secret = env.write_file("secret.txt", b"x");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::File::open(&secret).is_err() {
            env.refused(
                &["evidence", "add", secret.to_str().unwrap(), "--control", "ACC-01"],
                &["FILE", "ermission denied"],
            );
        }
    }
    assert_eq!(env.json(&["evidence", "list", "--all"]), serde_json::json!([]));
    assert_eq!(env.audit_actions(), before, "nothing logged as stored");
    assert!(
        env.vault_files().is_empty(),
        "nothing in the vault: {:?}",
        env.vault_files()
    );
    env.assert_verified();
}

fn every_write_is_in_the_audit_log(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.scope_type2("2027-01-01..2027-06-30");
    env.ok(&[
        "scope",
        "component",
        "add",
        "--kind",
        "data",
        "--name",
        "Customer data",
        "--in-scope",
        "--reason",
        "Core",
    ]);
    env.ok(&[
        "scope",
        "component",
        "remove",
        "--kind",
        "data",
        "--name",
        "Customer data",
    ]);
    env.ok(&["controls", "set-owner", "ACC-01", "it@acme.example"]);
    env.ok(&["controls", "not-applicable", "PHY-01", "--reason", "Remote"]);
    env.ok(&["controls", "applicable", "PHY-01"]);
    let item = add(&env, &env.write_file("e.txt", b"e"), &["--control", "ACC-01"]);
    let id = item["id"].as_str().unwrap();
    let v2 = env.json(&[
        "evidence",
        "supersede",
        id,
        env.write_file("e2.txt", b"e2").to_str().unwrap(),
    ]);
    env.ok(&["evidence", "withdraw", v2["id"].as_str().unwrap(), "--reason", "Wrong"]);

    let log = env.json(&["audit-log"]);
    let entries = log.as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "workspace.init",
            "scope.set",
            "scope.component.add",
            "scope.component.remove",
            "control.owner.set",
            "control.not_applicable.set",
            "control.not_applicable.clear",
            "evidence.add",
            "evidence.supersede",
            "evidence.withdraw",
        ]
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
        assert_eq!(e["actor"], "cli:tester");
        if i > 0 {
            assert_eq!(
                e["prev_hash"],
                entries[i - 1]["hash"],
                "entry {} links to the one before",
                i + 1
            );
        }
    }
    assert_eq!(entries[4]["subject"], "control:ACC-01");
    assert_eq!(entries[4]["payload"]["owner"], "it@acme.example");
    assert_eq!(entries[7]["subject"], format!("evidence:{id}"));
    assert_eq!(entries[7]["payload"]["sha256"], item["sha256"]);

    // A checkpoint per command, and the head pinned outside the database.
    let report = env.json(&["verify"]);
    assert_eq!(report["problems"], serde_json::json!([]));
    assert_eq!(report["checkpoints"], 10);
    assert_eq!(report["pinned_head"], 10);
    assert!(env.dir.join("audit-head.json").is_file());

    assert_eq!(env.json(&["audit-log", "--since", &day(1)]), serde_json::json!([]));
    assert_eq!(
        env.json(&["audit-log", "--since", &day(0)]).as_array().unwrap().len(),
        10
    );
    env.refused(&["audit-log", "--since", "yesterday"], &["--since", "YYYY-MM-DD"]);
}

fn database_refuses_to_rewrite_history(b: Backend) {
    let env = Env::new(b);
    env.init();
    add(&env, &env.write_file("e.txt", b"e"), &["--control", "ACC-01"]);
    for stmt in [
        "UPDATE evidence SET title = 'x'",
        "DELETE FROM evidence",
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
    ] {
        let err = env.sql(&[stmt]).expect_err(stmt);
        assert!(err.contains("append-only"), "{stmt}: {err}");
    }
    env.assert_verified();
}

/// A workspace with two evidence items and a dozen audit entries.
fn populated(b: Backend) -> (Env, Value) {
    let env = Env::new(b);
    env.init();
    env.ok(&["controls", "set-owner", "ACC-01", "a@acme.example"]);
    let item = add(
        &env,
        &env.write_file("review.csv", &vec![b'r'; 200_000]),
        &["--control", "ACC-08"],
    );
    add(&env, &env.write_file("other.txt", b"other"), &["--control", "CHG-01"]);
    env.ok(&["controls", "set-owner", "ACC-02", "b@acme.example"]);
    env.assert_verified();
    (env, item)
}

fn tampered_blob_is_caught(b: Backend) {
    let (env, item) = populated(b);
    let sha = item["sha256"].as_str().unwrap();
    let blob = env.vault_files().into_iter().find(|p| p.ends_with(sha)).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&blob, bytes).unwrap();
    env.assert_caught(&["blob", sha]);
}

fn deleted_blob_is_caught(b: Backend) {
    let (env, item) = populated(b);
    let sha = item["sha256"].as_str().unwrap();
    std::fs::remove_file(env.vault_files().into_iter().find(|p| p.ends_with(sha)).unwrap()).unwrap();
    env.assert_caught(&["blob", sha, "missing"]);
}

fn edited_evidence_row_is_caught(b: Backend) {
    let (env, item) = populated(b);
    env.unprotect("evidence");
    let id = item["id"].as_str().unwrap();
    env.sql(&[&format!(
        "UPDATE evidence SET effective_date = '2020-01-01' WHERE id = '{id}'"
    )])
    .unwrap();
    env.assert_caught(&["evidence", id, "differs", "edited"]);
}

fn deleted_evidence_row_is_caught(b: Backend) {
    let (env, item) = populated(b);
    env.unprotect("evidence");
    env.unprotect("evidence_controls");
    let id = item["id"].as_str().unwrap();
    env.sql(&[
        &format!("DELETE FROM evidence_controls WHERE evidence_id = '{id}'"),
        &format!("DELETE FROM evidence WHERE id = '{id}'"),
    ])
    .unwrap();
    env.assert_caught(&["evidence", id, "missing from the database"]);
}

fn edited_audit_entry_is_caught(b: Backend) {
    let (env, _) = populated(b);
    env.unprotect("audit_log");
    env.sql(&["UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 2"])
        .unwrap();
    env.assert_caught(&["audit-log entry 2", "edited"]);
}

fn deleted_audit_entry_is_caught(b: Backend) {
    let (env, _) = populated(b);
    env.unprotect("audit_log");
    env.sql(&["DELETE FROM audit_log WHERE seq = 3"]).unwrap();
    env.assert_caught(&["audit-log entry 3 is missing"]);
}

fn reordered_audit_entries_are_caught(b: Backend) {
    let (env, _) = populated(b);
    env.unprotect("audit_log");
    env.sql(&[
        "UPDATE audit_log SET seq = -2 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -2",
    ])
    .unwrap();
    env.assert_caught(&["audit-log entry 2"]);
}

fn truncated_audit_log_is_caught(b: Backend) {
    let (env, _) = populated(b);
    env.unprotect("audit_log");
    // Remove the last entry and every trace of it in the database: only the signed head
    // pinned outside the database still knows.
    env.sql(&[
        "DELETE FROM audit_log WHERE seq = 5",
        "DELETE FROM audit_checkpoints WHERE seq = 5",
    ])
    .unwrap();
    env.assert_caught(&["ends at entry 4", "pins entry 5", "deleted"]);
}

fn kill_during_large_add_leaves_nothing_half_done(b: Backend) {
    let env = Env::new(b);
    env.init();
    // A sparse file: large to read, instant to make.
    let big = env.tmp.path().join("disk-image.bin");
    std::fs::File::create(&big).unwrap().set_len(1 << 30).unwrap();
    let before = env.audit_actions();
    let mut child = env
        .command(&["evidence", "add", big.to_str().unwrap(), "--control", "BCP-01"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the upload is under way (the file it stages is unnamed: found through the
    // process's open files), then pull the plug.
    let vault = env.dir.join("vault");
    let fds = format!("/proc/{}/fd", child.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let staged: u64 = std::fs::read_dir(&fds)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p.starts_with(&vault)))
            .filter_map(|fd| std::fs::metadata(fd.path()).ok())
            .map(|m| m.len())
            .sum();
        if staged > 16 << 20 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the add finished before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "the add never started writing");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed by SIGKILL");

    assert_eq!(
        env.json(&["evidence", "list", "--all"]),
        serde_json::json!([]),
        "no half-item is visible"
    );
    assert_eq!(env.audit_actions(), before, "nothing was logged");
    assert_eq!(
        env.vault_files(),
        Vec::<std::path::PathBuf>::new(),
        "no blob reached its address and nothing staged is left"
    );
    env.assert_verified();
    // The workspace keeps working.
    let item = add(&env, &env.write_file("after.txt", b"after"), &["--control", "BCP-01"]);
    assert_eq!(item["size"], 5);
    env.assert_verified();
}

// --- S3 ----------------------------------------------------------------------------------------

const MOTO_AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

/// moto's S3 server on a free loopback port, stopped on drop.
pub(crate) struct Moto {
    child: std::process::Child,
    pub(crate) port: u16,
}

impl Moto {
    pub(crate) fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server is needed for the S3 test: pip install 'moto[server]' (.ci/run does)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, port }
    }

    /// A bare HTTP request; returns the status line. moto does not check signatures, but
    /// object reads need a credential to be named.
    pub(crate) fn request(&self, method: &str, path: &str) -> String {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {MOTO_AUTH}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut response = Vec::new();
        s.read_to_end(&mut response).unwrap();
        String::from_utf8_lossy(&response)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn s3_vault_round_trip_and_tamper_detection() {
    let moto = Moto::start();
    assert!(moto.request("PUT", "/evident-test").contains("200"), "bucket created");
    let env = Env::new(Backend::Sqlite);
    let s3 = |c: &mut Command| {
        c.env("EVIDENT_VAULT_URL", "s3://evident-test/ws1")
            .env("EVIDENT_S3_ENDPOINT", format!("http://127.0.0.1:{}", moto.port))
            .env("EVIDENT_S3_ALLOW_HTTP", "true")
            .env("EVIDENT_S3_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    };
    let run = |args: &[&str]| {
        let mut c = env.command(args);
        s3(&mut c);
        c.output().unwrap()
    };
    assert!(run(&["init"]).status.success());
    // 20 MB: several multipart parts.
    let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
    let file = env.write_file("backup-report.bin", &data);
    let out = run(&[
        "evidence",
        "add",
        file.to_str().unwrap(),
        "--control",
        "BCP-01",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let item: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sha = item["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha, sha256sum(&file));
    assert!(
        env.vault_files().is_empty(),
        "nothing on local disk: the bucket holds the blob"
    );

    let back = env.tmp.path().join("back.bin");
    assert!(
        run(&[
            "evidence",
            "get",
            item["id"].as_str().unwrap(),
            "--out",
            back.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(Command::new("cmp").arg(&file).arg(&back).status().unwrap().success());
    let listing = moto.request(
        "GET",
        &format!("/evident-test/ws1/sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]),
    );
    assert!(
        listing.contains("200"),
        "the blob sits at its content address: {listing}"
    );

    let verified = run(&["verify"]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    moto.request(
        "DELETE",
        &format!("/evident-test/ws1/sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]),
    );
    let verified = run(&["verify"]);
    assert_eq!(verified.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&verified.stderr).contains(&format!("blob {sha} is missing")));
}

/// What the README promises: the standard `age` tool opens any blob with the workspace key.
#[test]
fn blobs_decrypt_with_the_standard_age_tool() {
    let env = Env::new(Backend::Sqlite);
    env.init();
    let file = env.write_file("minutes.txt", b"Board minutes: security review approved.\n");
    let item = add(&env, &file, &["--control", "GOV-01"]);
    let blob = env.vault_files().pop().unwrap();
    let out = Command::new("age")
        .args(["-d", "-i"])
        .arg(env.dir.join("keys/vault.age"))
        .arg(&blob)
        .output()
        .expect("the age tool is needed for this test: apt-get install age (.ci/run does)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"Board minutes: security review approved.\n");
    assert_eq!(item["sha256"], sha256sum(&file));
}

/// The vault key can live outside the workspace, in the environment.
#[test]
fn vault_key_from_the_environment() {
    let env = Env::new(Backend::Sqlite);
    env.init();
    let item = add(&env, &env.write_file("x.txt", b"kept safe"), &["--control", "GOV-01"]);
    let key_file = env.dir.join("keys/vault.age");
    let key = std::fs::read_to_string(&key_file).unwrap();
    let secret = key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    std::fs::remove_file(&key_file).unwrap();

    let out = env.run(&[
        "evidence",
        "get",
        item["id"].as_str().unwrap(),
        "--out",
        "/dev/null",
        "--force",
    ]);
    assert!(!out.status.success(), "without the key nothing can be read");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("vault key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!key_file.exists(), "a workspace holding blobs never gets a fresh key");

    let back = env.tmp.path().join("back.txt");
    let out = env
        .command(&[
            "evidence",
            "get",
            item["id"].as_str().unwrap(),
            "--out",
            back.to_str().unwrap(),
        ])
        .env("EVIDENT_VAULT_KEY", &secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&back).unwrap(), b"kept safe");
}
