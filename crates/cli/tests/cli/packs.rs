//! Evidence packs through the real binary and the router: made from a workspace, checked where
//! no workspace exists (by `evident pack verify`, the standalone `evident-verify` and the
//! standard-tool recipe in docs/verify-pack.sh), byte-identical when remade, and refused or
//! caught when the input or the pack is wrong.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::app::TestApp;
use super::common::{BIN, Backend, Env};

on_both_databases!(
    packs_verify_anywhere_and_are_remade_identically,
    packs_refuse_bad_input_and_leave_nothing,
    packs_download_from_the_api_for_visible_controls
);

/// The standalone verifier, built beside `evident` by the workspace build.
fn standalone() -> PathBuf {
    Path::new(BIN).with_file_name("evident-verify")
}

fn recipe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/verify-pack.sh")
}

/// Runs `program args` in `cwd` (a folder with no workspace), with no Evident settings.
fn run_in(cwd: &Path, program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_remove("EVIDENT_HOME")
        .env_remove("EVIDENT_DATABASE_URL")
        .output()
        .expect("run")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A copy of `pack` with the named entry's first byte flipped.
fn flip_byte(pack: &Path, entry: &str, out: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(pack).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name == entry {
            bytes[0] ^= 0x01;
        }
        w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap();
}

fn packs_verify_anywhere_and_are_remade_identically(b: Backend) {
    let env = Env::new(b);
    env.init();
    let a = env.write_file("access-review.csv", b"account,decision\nana,keep\nbo,revoke\n");
    let first = env.json(&[
        "evidence",
        "add",
        a.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--effective",
        "2026-03-31",
    ]);
    let p = env.write_file("mfa-report.pdf", b"%PDF-1.4 pretend report\n");
    env.json(&[
        "evidence",
        "add",
        p.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--control",
        "CHG-01",
    ]);
    let out = env.tmp.path().join("acc-01.zip");
    let made = env.json(&["pack", "create", "--control", "acc-01", "--out", out.to_str().unwrap()]);
    assert_eq!(made["pack"]["items"], 2, "{made}");
    let manifest_hash = made["pack"]["manifest_sha256"].as_str().unwrap().to_string();
    let fingerprint = made["pack"]["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(
        env.json(&["verify"])["instance_key_fingerprint"],
        fingerprint.as_str(),
        "`evident verify` prints the fingerprint packs are signed with"
    );
    assert!(
        env.audit_actions().contains(&"pack.create".to_string()),
        "making a pack is audit-logged"
    );
    let logged = env.json(&["audit-log"]);
    assert!(
        logged.to_string().contains(&format!("pack:{manifest_hash}")),
        "{logged}"
    );

    // On a machine that never had the workspace: a folder with only the pack in it.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("pack.zip");
    std::fs::copy(&out, &copy).unwrap();
    let checked = run_in(
        elsewhere.path(),
        Path::new(BIN),
        &["pack", "verify", "pack.zip", "--fingerprint", &fingerprint],
    );
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(text(&checked).contains("Verified"), "{}", text(&checked));
    let standalone_ok = run_in(
        elsewhere.path(),
        &standalone(),
        &["pack.zip", "--fingerprint", &fingerprint],
    );
    assert!(standalone_ok.status.success(), "{}", text(&standalone_ok));
    let tools = run_in(
        elsewhere.path(),
        Path::new("bash"),
        &[recipe().to_str().unwrap(), "pack.zip"],
    );
    assert!(tools.status.success(), "the standard-tool recipe: {}", text(&tools));
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        1,
        "verifying wrote nothing beside the pack"
    );

    // Later writes do not change a pack of the same items: byte-identical.
    env.json(&[
        "evidence",
        "add",
        a.to_str().unwrap(),
        "--control",
        "CHG-01",
        "--title",
        "other",
    ]);
    let again = env.tmp.path().join("again.zip");
    env.json(&[
        "pack",
        "create",
        "--control",
        "ACC-01",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());

    // A byte flipped in an evidence file, and a pack tied to another key, are caught by all three.
    let id = first["id"].as_str().unwrap();
    let entry = format!("evidence/{id}/access-review.csv");
    flip_byte(&out, &entry, &elsewhere.path().join("flipped.zip"));
    for (program, args) in [
        (PathBuf::from(BIN), vec!["pack", "verify", "flipped.zip"]),
        (standalone(), vec!["flipped.zip"]),
        (PathBuf::from("bash"), vec![recipe().to_str().unwrap(), "flipped.zip"]),
    ] {
        let o = run_in(elsewhere.path(), &program, &args);
        assert!(!o.status.success(), "{program:?} accepted a flipped byte");
        assert!(
            text(&o).contains("access-review.csv"),
            "{program:?} names the file: {}",
            text(&o)
        );
    }
    let wrong = "0".repeat(64);
    let o = run_in(
        elsewhere.path(),
        Path::new(BIN),
        &["pack", "verify", "pack.zip", "--fingerprint", &wrong],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("fingerprint"), "{}", text(&o));
    env.assert_verified();
}

fn packs_refuse_bad_input_and_leave_nothing(b: Backend) {
    let env = Env::new(b);
    env.init();
    let a = env.write_file("list.csv", b"app\nslack\n");
    env.json(&[
        "evidence",
        "add",
        a.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--effective",
        "2026-03-31",
    ]);
    let folder = env.tmp.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let out = folder.join("p.zip");
    let o = out.to_str().unwrap();
    env.refused(
        &["pack", "create", "--control", "NOPE-99", "--out", o],
        &["unknown control 'NOPE-99'"],
    );
    env.refused(
        &[
            "pack",
            "create",
            "--control",
            "ACC-01",
            "--period",
            "2025-01-01..2025-06-30",
            "--out",
            o,
        ],
        &["no evidence to pack", "nothing was written"],
    );
    env.refused(
        &["pack", "create", "--period", "2026-06-30..2026-01-01", "--out", o],
        &["--period", "ends"],
    );
    let missing = env.tmp.path().join("no-such-folder/p.zip");
    env.refused(
        &["pack", "create", "--out", missing.to_str().unwrap()],
        &["--out", "not a folder"],
    );
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "nothing was written");
    assert!(!env.audit_actions().contains(&"pack.create".to_string()));

    // Over a period, the items that speak to a day in it.
    let made = env.json(&[
        "pack",
        "create",
        "--control",
        "ACC-01",
        "--period",
        "2026-01-01..2026-06-30",
        "--out",
        o,
    ]);
    assert_eq!(made["pack"]["items"], 1);
    assert!(
        made["pack"]["title"]
            .as_str()
            .unwrap()
            .contains("2026-01-01 to 2026-06-30")
    );

    // Killed while writing a large pack: either the whole pack is there and verifies, or
    // nothing is, never a part under the pack's name or a stray temporary file.
    let big = env.tmp.path().join("big.log");
    let mut f = std::fs::File::create(&big).unwrap();
    let line = b"2026-03-01T00:00:00Z deploy ok commit 0123456789abcdef\n".repeat(1 << 14);
    for _ in 0..40 {
        f.write_all(&line).unwrap();
    }
    drop(f);
    env.json(&["evidence", "add", big.to_str().unwrap(), "--control", "CHG-01"]);
    let killed = folder.join("killed.zip");
    let mut child = env
        .command(&[
            "pack",
            "create",
            "--control",
            "CHG-01",
            "--out",
            killed.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let left: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in &left {
        assert!(name == "p.zip" || name == "killed.zip", "left behind: {left:?}");
    }
    if killed.exists() {
        let o = run_in(&folder, Path::new(BIN), &["pack", "verify", "killed.zip"]);
        assert!(o.status.success(), "a pack under its name is whole: {}", text(&o));
    }
}

fn packs_download_from_the_api_for_visible_controls(b: Backend) {
    let app = TestApp::new(b);
    let env = &app.env;
    env.json(&["controls", "adopt", "--all-new"]);
    let a = env.write_file("list.csv", b"app\nslack\n");
    env.json(&[
        "evidence",
        "add",
        a.to_str().unwrap(),
        "--control",
        "ACC-01",
        "--effective",
        "2026-03-31",
    ]);
    let answer = app.get("/api/v1/controls/ACC-01/pack");
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.content_type, "application/zip");
    let report = evident_pack::verify(std::io::Cursor::new(&answer.body), None).expect("the download verifies");
    assert_eq!(report.manifest.files.len(), 1);
    let logged = env.json(&["audit-log"]).to_string();
    assert!(logged.contains("pack.download"), "downloads are audit-logged");
    assert!(
        logged.contains(&format!("pack:{}", report.manifest_sha256)),
        "with the manifest's hash"
    );
    assert!(logged.contains("admin@bluefin.test"), "and who downloaded it");

    // Bad input: 4xx naming the field; no evidence: 409; an unknown control: 404.
    let bad = app.get("/api/v1/controls/ACC-01/pack?period=2026-13-01..2026-14-01");
    assert_eq!(bad.status, 422, "{}", String::from_utf8_lossy(&bad.body));
    assert_eq!(bad.json()["field"], "period");
    assert_eq!(app.get("/api/v1/controls/ACC-01/pack?per=3").status, 422);
    assert_eq!(app.get("/api/v1/controls/CHG-01/pack").status, 409);
    assert_eq!(app.get("/api/v1/controls/NOPE-99/pack").status, 404);

    // An auditor gets packs of controls in the audit's scope only.
    env.json(&["controls", "not-applicable", "ACC-01", "--reason", "test: ruled out"]);
    env.json(&["users", "add", "auditor@bluefin.test", "--role", "auditor"]);
    let token: Value = env.json(&[
        "tokens",
        "create",
        "--user",
        "auditor@bluefin.test",
        "--name",
        "fieldwork",
        "--scope",
        "read",
    ]);
    let auditor = token["secret"].as_str().unwrap();
    assert_eq!(app.get_as(auditor, "/api/v1/controls/ACC-01/pack").status, 404);
    assert_eq!(
        app.get("/api/v1/controls/ACC-01/pack").status,
        200,
        "the admin still may"
    );
}
