//! `evident backup` and `evident restore`: round trips on each database, SQLite to PostgreSQL
//! and back, a backup taken while the server writes, tampered files, keys carried encrypted,
//! a restore killed halfway, and a vault in S3 listed or copied.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::*;
use super::packs::edit_entry;
use super::server::{Server, http};
use super::vault::Moto;

on_both_databases!(
    round_trip_verifies_and_keeps_every_byte,
    backup_while_the_server_writes_holds_a_prefix_of_the_writes,
    a_tampered_backup_is_refused_naming_the_part,
    restore_never_writes_over_anything,
    keys_travel_only_encrypted,
    a_killed_restore_leaves_no_usable_workspace,
);

const PASSPHRASE: &str = "correct horse battery staple";

/// Writes a backup of `env` into its temporary folder (keys, if asked, under [`PASSPHRASE`]).
fn backup(env: &Env, name: &str, extra: &[&str]) -> (PathBuf, Value) {
    let file = env.tmp.path().join(name);
    let mut args = vec!["backup", "--out", file.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = env
        .command(&args)
        .env("EVIDENT_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success(), "backup failed: {}", stderr(&out));
    (file, serde_json::from_slice(&out.stdout).unwrap())
}

/// `evident restore FILE` into `target`'s folder (its database, for PostgreSQL).
fn restore(target: &Env, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["restore", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    target
        .command(&args)
        .env_remove("EVIDENT_BACKUP_PASSPHRASE")
        .output()
        .unwrap()
}

fn restore_ok(target: &Env, file: &Path, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    args.extend(["--format", "json"]);
    let out = restore(target, file, &args);
    assert!(
        out.status.success(),
        "restore failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn add(env: &Env, name: &str, bytes: &[u8], extra: &[&str]) -> Value {
    let file = env.write_file(name, bytes);
    let mut args = vec!["evidence", "add", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// A workspace touching the kinds of rows there are: evidence with a version chain (rows that
/// name rows of their own table) and a withdrawal, owners, a scope, a vendor, and a custom
/// check rule file.
fn populated(b: Backend) -> Env {
    let env = Env::new(b);
    env.init();
    env.ok(&[
        "scope",
        "set",
        "--type",
        "2",
        "--categories",
        "security,availability",
        "--window",
        &format!("{}..{}", day(-30), day(150)),
    ]);
    let noise: Vec<u8> = (0..2_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    add(
        &env,
        "access-review.csv",
        &noise,
        &["--control", "ACC-08", "--effective", &day(-3)],
    );
    let v1 = add(
        &env,
        "policy-v1.md",
        b"# Policy v1\n",
        &["--control", "POL-01", "--title", "Security policy"],
    );
    let v2 = env.json(&[
        "evidence",
        "supersede",
        v1["id"].as_str().unwrap(),
        env.write_file("policy-v2.md", "# Policy v2 — ünïcode\n".as_bytes())
            .to_str()
            .unwrap(),
    ]);
    let v3 = env.json(&[
        "evidence",
        "supersede",
        v2["id"].as_str().unwrap(),
        env.write_file("policy-v3.md", b"# Policy v3\n").to_str().unwrap(),
    ]);
    let wrong = add(&env, "wrong.txt", b"not this one", &["--control", "CHG-01"]);
    env.json(&[
        "evidence",
        "withdraw",
        wrong["id"].as_str().unwrap(),
        "--reason",
        "Uploaded the wrong file",
    ]);
    assert_eq!(v3["supersedes"], v2["id"]);
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
    env.ok(&["controls", "set-owner", "ACC-01", "a@acme.example"]);
    env.ok(&["controls", "set-owner", "ACC-02", "b@acme.example"]);
    let folder = env.dir.join("checks");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("vendors.yaml"),
        "rules:
  - id: important-vendors-have-an-owner
    title: Important vendors have an owner
    reads: vendors
    controls: [VEN-01]
    where:
      - {field: tier, op: in, value: [critical, high]}
    assert:
      - {field: owner, op: present}
",
    )
    .unwrap();
    env.assert_verified();
    env
}

/// What a person sees of the program, which a restore must keep exactly.
fn observed(env: &Env) -> Value {
    serde_json::json!({
        "evidence": env.json(&["evidence", "list", "--all"]),
        "readiness": env.json(&["readiness"]),
        "controls": env.json(&["controls", "list"]),
        "checks": env.json(&["check", "list"]),
        "audit_log": env.json(&["audit-log"]),
    })
}

/// Evidence bytes read back through `evidence get` are the same in both (the first 12 items;
/// `verify` has re-hashed every blob against its record already).
fn same_bytes(a: &Env, b: &Env) {
    let items = a.json(&["evidence", "list", "--all"]);
    let items = items.as_array().unwrap();
    assert!(!items.is_empty());
    for item in items.iter().take(12) {
        let id = item["id"].as_str().unwrap();
        let (pa, pb) = (a.tmp.path().join("got-a"), b.tmp.path().join("got-b"));
        a.ok(&["evidence", "get", id, "--out", pa.to_str().unwrap(), "--force"]);
        b.ok(&["evidence", "get", id, "--out", pb.to_str().unwrap(), "--force"]);
        assert!(
            Command::new("cmp").arg(&pa).arg(&pb).status().unwrap().success(),
            "evidence {id} differs after the restore"
        );
    }
}

fn round_trip_verifies_and_keeps_every_byte(b: Backend) {
    let env = populated(b);
    let before = observed(&env);
    let (file, summary) = backup(&env, "backup.zip", &[]);
    assert_eq!(summary["database"], b_name(b));
    assert_eq!(summary["keys"], false);
    assert_eq!(summary["objects"], "copied");
    assert_eq!(summary["blobs"], 5);
    assert!(summary["tables"].as_u64().unwrap() > 30, "{summary}");

    // Any zip tool reads it; the parts are the ones documented.
    let names = zip_names(&file);
    for part in [
        "manifest.json",
        "manifest.sig",
        "db/evidence.jsonl",
        "db/audit_log.jsonl",
        "vault/objects.jsonl",
    ] {
        assert!(names.contains(&part.to_string()), "{part} in {names:?}");
    }
    assert!(names.contains(&"files/checks/vendors.yaml".to_string()));
    assert!(
        !names
            .iter()
            .any(|n| n.contains("_sqlx_migrations") || n.starts_with("keys"))
    );
    assert_eq!(names.iter().filter(|n| n.starts_with("vault/sha256/")).count(), 5);

    let twin = Env::new(b);
    let r = restore_ok(&twin, &file, &["--keys-from", env.dir.to_str().unwrap()]);
    assert_eq!(r["verify"]["problems"], serde_json::json!([]), "{r}");
    assert_eq!(r["rows"], summary["rows"]);
    twin.assert_verified();
    assert_eq!(observed(&twin), before, "the restored program is the same");
    same_bytes(&env, &twin);
    assert!(twin.dir.join("checks/vendors.yaml").is_file(), "custom rules come back");
    assert!(!twin.dir.join("evident-restore.incomplete").exists());
    assert_eq!(
        std::fs::read(twin.dir.join("keys/instance.pub")).unwrap(),
        std::fs::read(env.dir.join("keys/instance.pub")).unwrap()
    );

    // The copy keeps working: a new write chains onto the restored log.
    add(&twin, "after.txt", b"after the restore", &["--control", "BCP-01"]);
    twin.assert_verified();
}

fn b_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn zip_names(file: &Path) -> Vec<String> {
    let zip = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    zip.file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

/// A company moves: SQLite to PostgreSQL as it grows, and back again; each copy verifies and
/// shows the same program.
#[test]
fn sqlite_to_postgres_and_back() {
    let lite = Env::new(Backend::Sqlite);
    lite.json(&["generate", "--size", "s", "--seed", "5", "--as-of", "2026-11-20"]);
    let before = observed(&lite);
    let (file, _) = backup(&lite, "lite.zip", &["--with-keys"]);

    let pg = Env::new(Backend::Postgres);
    let url = pg.database_url().unwrap();
    let out = pg
        .command(&[
            "restore",
            file.to_str().unwrap(),
            "--database-url",
            &url,
            "--format",
            "json",
        ])
        .env_remove("EVIDENT_DATABASE_URL")
        .env("EVIDENT_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["source_database"], "sqlite");
    assert!(r["database"].as_str().unwrap().starts_with("postgres://"), "{r}");
    assert!(
        std::fs::read_to_string(pg.dir.join("evident.toml"))
            .unwrap()
            .contains(&url),
        "the restored workspace names its database"
    );
    assert!(
        !pg.dir.join("evident.db").exists(),
        "no SQLite file on the PostgreSQL side"
    );
    pg.assert_verified();
    assert_eq!(observed(&pg), before, "PostgreSQL shows the same program");

    let pg_file = pg.tmp.path().join("pg.zip");
    let summary = pg.json(&["backup", "--out", pg_file.to_str().unwrap()]);
    assert_eq!(summary["database"], "postgres");
    let back = Env::new(Backend::Sqlite);
    restore_ok(&back, &pg_file, &["--keys-from", lite.dir.to_str().unwrap()]);
    back.assert_verified();
    assert_eq!(observed(&back), before, "and SQLite again");
    same_bytes(&lite, &back);
}

/// A new workspace holding one evidence item of `mib` MiB (`disk-image.bin`, sparse to make).
fn with_large_blob(b: Backend, mib: u64) -> Env {
    let env = Env::new(b);
    env.init();
    let big = env.tmp.path().join("disk-image.bin");
    std::fs::File::create(&big).unwrap().set_len(mib << 20).unwrap();
    env.json(&["evidence", "add", big.to_str().unwrap(), "--control", "BCP-01"]);
    env
}

fn backup_while_the_server_writes_holds_a_prefix_of_the_writes(b: Backend) {
    // A large blob keeps the backup copying while the uploads go on.
    let env = with_large_blob(b, 128);
    let token = env.admin_token();
    let server = Server::start(&env, "first@bluefin.test");
    let uploaded: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (uploaded, stop, base) = (uploaded.clone(), stop.clone(), server.base.clone());
        let dir = env.tmp.path().to_path_buf();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let file = dir.join(format!("upload-{i}.txt"));
                std::fs::write(&file, format!("upload {i}\n").repeat(50 + i)).unwrap();
                let arg = format!("@{}", file.display());
                let (status, body) = http(
                    &base,
                    "POST",
                    "/api/v1/evidence",
                    Some(&token),
                    None,
                    &[("file", &arg), ("control", "ACC-01"), ("title", &format!("upload {i}"))],
                );
                assert_eq!(status, 201, "{body}");
                let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                uploaded.lock().unwrap().push(id);
                i += 1;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while uploaded.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "no upload went through");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before_backup = uploaded.lock().unwrap().len();
    let (file, summary) = backup(&env, "live.zip", &[]);
    let at_backup = uploaded.lock().unwrap().len();
    assert!(at_backup > before_backup, "uploads were answered while the backup ran");
    // Let a few more land after the backup, then stop.
    while uploaded.lock().unwrap().len() < at_backup + 3 {
        assert!(Instant::now() < deadline, "uploads stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    drop(server);
    env.assert_verified();

    let twin = Env::new(b);
    let r = restore_ok(&twin, &file, &["--keys-from", env.dir.to_str().unwrap()]);
    assert_eq!(r["verify"]["problems"], serde_json::json!([]), "{r}");
    twin.assert_verified();
    let restored: Vec<String> = twin
        .json(&["evidence", "list", "--all"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["file_name"] != "disk-image.bin")
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let all = uploaded.lock().unwrap().clone();
    let mut sorted = restored.clone();
    sorted.sort_by_key(|id| all.iter().position(|x| x == id).expect("an upload the server answered"));
    assert_eq!(
        sorted,
        all[..restored.len()],
        "the restored uploads are the first ones, none missing between"
    );
    assert!(
        restored.len() >= 3 && restored.len() < all.len(),
        "{} restored of {} uploaded",
        restored.len(),
        all.len()
    );
    assert_eq!(summary["blobs"].as_u64().unwrap() as usize, restored.len() + 1);
}

/// Copies a backup, changing one part's bytes with `edit`.
fn tampered(file: &Path, part: &str, edit: impl Fn(Vec<u8>) -> Vec<u8>) -> PathBuf {
    let out = file.with_file_name(format!("tampered-{}.zip", part.replace('/', "_")));
    edit_entry(file, part, &out, edit);
    out
}

fn refused(target: &Env, file: &Path, extra: &[&str], needles: &[&str]) {
    let out = restore(target, file, extra);
    assert_eq!(out.status.code(), Some(2), "should be refused: {}", stderr(&out));
    for n in needles {
        assert!(
            stderr(&out).contains(n),
            "the refusal should mention {n:?}: {}",
            stderr(&out)
        );
    }
    assert!(!target.dir.exists(), "a refused restore writes nothing");
}

fn a_tampered_backup_is_refused_naming_the_part(b: Backend) {
    let env = populated(b);
    let (file, _) = backup(&env, "backup.zip", &[]);
    let keys = ["--keys-from", env.dir.to_str().unwrap()];
    let twin = Env::new(b);

    let retitled = tampered(&file, "db/evidence.jsonl", |bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .replace("Security policy", "Security polica")
            .into_bytes()
    });
    refused(
        &twin,
        &retitled,
        &keys,
        &["part db/evidence.jsonl", "SHA-256", "nothing was restored"],
    );

    let blob = zip_names(&file)
        .into_iter()
        .find(|n| n.starts_with("vault/sha256/"))
        .unwrap();
    let flipped = tampered(&file, &blob, |mut bytes| {
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        bytes
    });
    refused(&twin, &flipped, &keys, &[&format!("part {blob}")]);

    // A manifest rewritten to match the altered part no longer carries the signature.
    let manifest = tampered(&file, "manifest.json", |bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .replacen("\"rows\": ", "\"rows\": 1", 1)
            .into_bytes()
    });
    refused(&twin, &manifest, &keys, &["manifest.json", "not signed"]);

    // A byte flipped in the file as stored.
    let mut raw = std::fs::read(&file).unwrap();
    let at = raw.len() / 3;
    raw[at] ^= 0x40;
    let damaged = env.tmp.path().join("damaged.zip");
    std::fs::write(&damaged, raw).unwrap();
    let out = restore(&twin, &damaged, &keys);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("part "), "names the part: {}", stderr(&out));
    assert!(!twin.dir.exists());

    // --check reads and proves the file, and writes nothing.
    let checked = restore(&twin, &file, &[&keys[..], &["--check"]].concat());
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert!(String::from_utf8_lossy(&checked.stdout).contains("every part matches the signed manifest"));
    assert!(!twin.dir.exists());
    refused(
        &twin,
        &retitled,
        &[&keys[..], &["--check"]].concat(),
        &["part db/evidence.jsonl"],
    );
    assert!(restore(&twin, &file, &keys).status.success(), "the original restores");
}

fn restore_never_writes_over_anything(b: Backend) {
    let env = populated(b);
    let (file, _) = backup(&env, "backup.zip", &[]);
    let keys = ["--keys-from", env.dir.to_str().unwrap()];
    let before = observed(&env);
    // Into the workspace itself.
    let out = restore(&env, &file, &keys);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
    assert_eq!(observed(&env), before);
    // Into a folder holding anything at all.
    let other = Env::new(b);
    std::fs::create_dir_all(&other.dir).unwrap();
    std::fs::write(other.dir.join("notes.txt"), b"mine").unwrap();
    let out = restore(&other, &file, &keys);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&other.dir).unwrap().count(), 1);
    if b == Backend::Postgres {
        // Onto a database that holds a program, from an empty folder.
        let fresh = Env::new(b);
        let out = fresh
            .command(&[
                "restore",
                file.to_str().unwrap(),
                "--keys-from",
                env.dir.to_str().unwrap(),
                "--database-url",
                &env.database_url().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
        assert!(!fresh.dir.exists());
        assert_eq!(observed(&env), before);
    }
    // An empty folder is fine.
    let empty = Env::new(b);
    std::fs::create_dir_all(&empty.dir).unwrap();
    restore_ok(&empty, &file, &keys);
    empty.assert_verified();
}

fn keys_travel_only_encrypted(b: Backend) {
    let env = populated(b);
    let out = env.run(&[
        "backup",
        "--out",
        env.tmp.path().join("k.zip").to_str().unwrap(),
        "--with-keys",
    ]);
    assert_eq!(out.status.code(), Some(2), "no passphrase, no keys: {}", stderr(&out));
    assert!(stderr(&out).contains("EVIDENT_BACKUP_PASSPHRASE"), "{}", stderr(&out));
    assert!(!env.tmp.path().join("k.zip").exists());

    let file = env.tmp.path().join("k.zip");
    let out = env
        .command(&["backup", "--out", file.to_str().unwrap(), "--with-keys"])
        .env("EVIDENT_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSPHRASE));
    assert!(!stderr(&out).contains(PASSPHRASE));

    // Neither key is in the file in any plain form.
    let bytes = std::fs::read(&file).unwrap();
    let instance_hex = std::fs::read_to_string(env.dir.join("keys/instance.key")).unwrap();
    let instance_hex = instance_hex.trim();
    let vault_key = std::fs::read_to_string(env.dir.join("keys/vault.age")).unwrap();
    let vault_key = vault_key.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap();
    let raw_seed: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&instance_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    for needle in [
        instance_hex.as_bytes(),
        vault_key.as_bytes(),
        &raw_seed,
        PASSPHRASE.as_bytes(),
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "a key is in the file in clear"
        );
    }
    assert!(zip_names(&file).contains(&"keys.age".to_string()));

    let twin = Env::new(b);
    refused(&twin, &file, &[], &["EVIDENT_BACKUP_PASSPHRASE"]);
    let wrong = twin
        .command(&["restore", file.to_str().unwrap()])
        .env("EVIDENT_BACKUP_PASSPHRASE", "not the passphrase at all")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("does not open"), "{}", stderr(&wrong));
    assert!(!twin.dir.exists());

    // A backup without keys says what it needs, and a wrong key folder is caught.
    let (keyless, _) = backup(&env, "keyless.zip", &[]);
    refused(&twin, &keyless, &[], &["--keys-from", "holds no keys"]);
    let stranger = Env::new(Backend::Sqlite);
    stranger.init();
    refused(
        &twin,
        &keyless,
        &["--keys-from", stranger.dir.to_str().unwrap()],
        &["not the one the backup was made with"],
    );

    let out = twin
        .command(&["restore", file.to_str().unwrap()])
        .env("EVIDENT_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    twin.assert_verified();
    assert_eq!(
        std::fs::read_to_string(twin.dir.join("keys/instance.key"))
            .unwrap()
            .trim(),
        instance_hex
    );
    same_bytes(&env, &twin);
}

fn a_killed_restore_leaves_no_usable_workspace(b: Backend) {
    // Large enough for the restore to be caught writing it.
    let env = with_large_blob(b, 256);
    add(&env, "small.txt", b"small", &["--control", "BCP-01"]);
    let (file, _) = backup(&env, "big.zip", &[]);

    let twin = Env::new(b);
    let mut child = twin
        .command(&[
            "restore",
            file.to_str().unwrap(),
            "--keys-from",
            env.dir.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let marker = twin.dir.join("evident-restore.incomplete");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the restore finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "the restore never started writing");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());

    // The folder is refused by every command, with the reason.
    for args in [&["verify"][..], &["evidence", "list"], &["init"]] {
        let out = twin.run(args);
        assert!(!out.status.success(), "{args:?} must not use a half-restored folder");
        assert!(
            stderr(&out).contains("restore that did not finish"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let again = restore(&twin, &file, &["--keys-from", env.dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("restore that did not finish"),
        "{}",
        stderr(&again)
    );

    // Nothing reached the database: after the folder is removed, the same database takes it.
    std::fs::remove_dir_all(&twin.dir).unwrap();
    restore_ok(&twin, &file, &["--keys-from", env.dir.to_str().unwrap()]);
    twin.assert_verified();
    same_bytes(&env, &twin);
}

/// A vault in S3: listed by default (the objects stay in the bucket), copied when asked.
#[test]
fn s3_vault_is_listed_or_copied() {
    let moto = Moto::start();
    assert!(moto.request("PUT", "/evident-backup").contains("200"), "bucket created");
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let s3 = |c: &mut Command| {
        c.env("EVIDENT_S3_ENDPOINT", &endpoint)
            .env("EVIDENT_S3_ALLOW_HTTP", "true")
            .env("EVIDENT_S3_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    };
    let run = |env: &Env, args: &[&str], bucket: Option<&str>| {
        let mut c = env.command(args);
        s3(&mut c);
        if let Some(url) = bucket {
            c.env("EVIDENT_VAULT_URL", url);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let env = Env::new(Backend::Sqlite);
    let bucket = Some("s3://evident-backup/ws1");
    run(&env, &["init"], bucket);
    for (i, name) in ["a.txt", "b.txt"].iter().enumerate() {
        let f = env.write_file(name, format!("object {i}\n").repeat(1000).as_bytes());
        run(
            &env,
            &["evidence", "add", f.to_str().unwrap(), "--control", "BCP-01"],
            bucket,
        );
    }
    let listed = env.tmp.path().join("listed.zip");
    let out = run(
        &env,
        &["backup", "--out", listed.to_str().unwrap(), "--format", "json"],
        bucket,
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["objects"], "listed");
    assert!(!zip_names(&listed).iter().any(|n| n.starts_with("vault/sha256/")));

    // Restored elsewhere, it reads the same bucket (its URL is in the backup).
    let keys = env.dir.to_str().unwrap();
    let twin = Env::new(Backend::Sqlite);
    run(&twin, &["restore", listed.to_str().unwrap(), "--keys-from", keys], None);
    assert!(
        std::fs::read_to_string(twin.dir.join("evident.toml"))
            .unwrap()
            .contains("s3://evident-backup/ws1")
    );
    run(&twin, &["verify"], None);
    assert!(twin.vault_files().is_empty());

    let copied = env.tmp.path().join("copied.zip");
    run(
        &env,
        &["backup", "--out", copied.to_str().unwrap(), "--copy-objects"],
        bucket,
    );
    assert_eq!(
        zip_names(&copied)
            .iter()
            .filter(|n| n.starts_with("vault/sha256/"))
            .count(),
        2
    );

    // A listed object gone from the bucket: the listed backup is refused, the copy is not.
    let sha = sha256sum(&env.tmp.path().join("a.txt"));
    moto.request(
        "DELETE",
        &format!("/evident-backup/ws1/sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]),
    );
    let lost = Env::new(Backend::Sqlite);
    let mut c = lost.command(&["restore", listed.to_str().unwrap(), "--keys-from", keys]);
    s3(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&sha), "{}", stderr(&out));
    assert!(!lost.dir.exists());
    // The copy restores onto local disk, whole.
    run(&lost, &["restore", copied.to_str().unwrap(), "--keys-from", keys], None);
    run(&lost, &["verify"], None);
    assert_eq!(lost.vault_files().len(), 2);
}
