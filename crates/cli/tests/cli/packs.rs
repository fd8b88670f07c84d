//! Evidence packs through the real binary and the router: made from a workspace, checked where
//! no workspace exists (by `evident pack verify`, the standalone `evident-verify` and the
//! standard-tool recipe in docs/verify-pack.sh), byte-identical when remade, and refused or
//! caught when the input or the pack is wrong; time-stamped by a stand-in RFC 3161 authority
//! when one is configured, and not made at all when it fails.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;

use super::app::TestApp;
use super::common::{BIN, Backend, Env};
use super::tsa::{Answer, KeyKind, TestTsa, openssl_present, serve};

on_both_databases!(
    packs_verify_anywhere_and_are_remade_identically,
    packs_refuse_bad_input_and_leave_nothing,
    packs_download_from_the_api_for_visible_controls,
    packs_are_time_stamped_by_the_configured_authority,
    packs_are_not_made_when_the_authority_fails,
    packs_download_time_stamped_from_the_api
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
        .env_remove("EVIDENT_TSA_URL")
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
    edit_entry(pack, entry, out, |mut bytes| {
        bytes[0] ^= 0x01;
        bytes
    });
}

/// A copy of `pack` (any zip) with the named entry's bytes replaced by `edit` of them.
pub(super) fn edit_entry(pack: &Path, entry: &str, out: &Path, edit: impl Fn(Vec<u8>) -> Vec<u8>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(pack).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name == entry {
            bytes = edit(bytes);
        }
        w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap();
}

/// The named entry of the pack at `pack`, if it has one.
fn entry_of(pack: &Path, name: &str) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(pack).unwrap()).unwrap();
    let mut f = archive.by_name(name).ok()?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).unwrap();
    Some(bytes)
}

/// The workspace's evident.toml as `init` wrote it, with `[packs] tsa_url` set to `url`.
fn use_tsa(env: &Env, original: &str, url: Option<&str>) {
    let text = match url {
        Some(u) => format!("{original}\n[packs]\ntsa_url = \"{u}\"\n"),
        None => original.to_string(),
    };
    std::fs::write(env.dir.join("evident.toml"), text).unwrap();
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
    assert!(made["pack"]["timestamp"].is_null(), "no authority configured: {made}");
    assert!(entry_of(&out, "manifest.tsr").is_none(), "and no token in the pack");
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

/// A workspace with one evidence item for ACC-01, and its evidence.toml as `init` wrote it.
fn workspace_with_evidence(b: Backend) -> (Env, String) {
    let env = Env::new(b);
    env.init();
    let a = env.write_file("access-review.csv", b"account,decision\nana,keep\nbo,revoke\n");
    env.json(&["evidence", "add", a.to_str().unwrap(), "--control", "ACC-01"]);
    let config = std::fs::read_to_string(env.dir.join("evident.toml")).unwrap();
    (env, config)
}

fn packs_are_time_stamped_by_the_configured_authority(b: Backend) {
    if !openssl_present() {
        eprintln!("skipping: openssl is not installed, so the stand-in TSA cannot run");
        return;
    }
    let (env, config) = workspace_with_evidence(b);
    let tsa = Arc::new(TestTsa::new(KeyKind::Rsa));
    let served = serve(tsa.clone(), Answer::Grant);
    use_tsa(&env, &config, Some(&served.url));
    let out = env.tmp.path().join("stamped.zip");
    let made = env.json(&["pack", "create", "--control", "ACC-01", "--out", out.to_str().unwrap()]);
    assert_eq!(served.hits(), 1, "one query per pack");
    let t = &made["pack"]["timestamp"];
    assert_eq!(t["tsa_fingerprint"], tsa.fingerprint().as_str(), "{made}");
    assert_eq!(t["tsa_subject"], "CN=Evident Test TSA,O=Evident Tests");
    assert_eq!(t["hash"], "sha256");
    let table = env.ok_stdout(&["pack", "create", "--control", "ACC-01", "--out", out.to_str().unwrap()]);
    assert!(
        table.contains("time-stamped:") && table.contains(&tsa.fingerprint()),
        "{table}"
    );

    // Checked where no workspace exists, with the TSA's CA certificate beside the pack.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(&out, elsewhere.path().join("pack.zip")).unwrap();
    std::fs::copy(&tsa.ca, elsewhere.path().join("tsa-ca.pem")).unwrap();
    let fp = tsa.fingerprint();
    let checked = run_in(elsewhere.path(), Path::new(BIN), &["pack", "verify", "pack.zip"]);
    assert!(checked.status.success(), "{}", text(&checked));
    for needle in [
        "ok   manifest.tsr: manifest.json time-stamped at",
        &fp,
        "Time-stamped at",
    ] {
        assert!(text(&checked).contains(needle), "{needle}: {}", text(&checked));
    }
    let json: Value = serde_json::from_slice(
        &run_in(
            elsewhere.path(),
            Path::new(BIN),
            &["pack", "verify", "pack.zip", "--format", "json"],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(json["timestamp"]["tsa_fingerprint"], fp.as_str(), "{json}");
    let standalone_ok = run_in(elsewhere.path(), &standalone(), &["pack.zip"]);
    assert!(standalone_ok.status.success(), "{}", text(&standalone_ok));
    assert!(text(&standalone_ok).contains(&format!("certificate sha256 {fp}")));
    let tools = run_in(
        elsewhere.path(),
        Path::new("bash"),
        &[recipe().to_str().unwrap(), "pack.zip", "", "tsa-ca.pem"],
    );
    assert!(tools.status.success(), "the standard-tool recipe: {}", text(&tools));
    assert!(
        text(&tools).contains("ok   the TSA's certificate chains to tsa-ca.pem"),
        "{}",
        text(&tools)
    );
    // The documented openssl step, by hand on the extracted files.
    let unpacked = tempfile::tempdir().unwrap();
    for name in ["manifest.json", "manifest.tsr"] {
        std::fs::write(unpacked.path().join(name), entry_of(&out, name).unwrap()).unwrap();
    }
    let by_hand = Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-data",
            "manifest.json",
            "-in",
            "manifest.tsr",
            "-token_in",
            "-CAfile",
        ])
        .arg(&tsa.ca)
        .arg("-untrusted")
        .arg(&tsa.cert)
        .current_dir(unpacked.path())
        .output()
        .unwrap();
    assert!(by_hand.status.success(), "{}", text(&by_hand));
    assert!(text(&by_hand).contains("Verification: OK"));

    // Made again: the same manifest, a new token.
    assert_eq!(served.hits(), 2);
    let again = env.tmp.path().join("again.zip");
    env.json(&[
        "pack",
        "create",
        "--control",
        "ACC-01",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(entry_of(&out, "manifest.json"), entry_of(&again, "manifest.json"));
    assert_ne!(entry_of(&out, "manifest.tsr"), entry_of(&again, "manifest.tsr"));

    // A flipped byte in the token, a genuine token for other data and an edited manifest are
    // caught by `evident pack verify`, `evident-verify` and the recipe, each naming why.
    let token_for_other = tsa.token_for(b"another manifest\n", true);
    type Edit = Box<dyn Fn(Vec<u8>) -> Vec<u8>>;
    let cases: [(&str, &str, Edit, &str); 3] = [
        (
            "flipped-token.zip",
            "manifest.tsr",
            Box::new(|mut b: Vec<u8>| {
                *b.last_mut().unwrap() ^= 0x01;
                b
            }),
            "its signature does not verify with the certificate it carries",
        ),
        (
            "other-token.zip",
            "manifest.tsr",
            Box::new(move |_| token_for_other.clone()),
            "a token for other data, or manifest.json was changed after it was time-stamped",
        ),
        (
            "edited-manifest.zip",
            "manifest.json",
            Box::new(|b: Vec<u8>| {
                String::from_utf8(b)
                    .unwrap()
                    .replacen("ACC-01 evidence", "ACC-02 evidence", 1)
                    .into_bytes()
            }),
            "manifest.sig: not a valid signature of manifest.json",
        ),
    ];
    for (file, entry, edit, reason) in cases {
        edit_entry(&out, entry, &elsewhere.path().join(file), edit);
        for (program, args, code) in [
            (PathBuf::from(BIN), vec!["pack", "verify", file], 3),
            (standalone(), vec![file], 1),
        ] {
            let o = run_in(elsewhere.path(), &program, &args);
            assert_eq!(o.status.code(), Some(code), "{program:?} {file}: {}", text(&o));
            assert!(text(&o).contains(reason), "{program:?} {file} names why: {}", text(&o));
        }
        let o = run_in(
            elsewhere.path(),
            Path::new("bash"),
            &[recipe().to_str().unwrap(), file, "", "tsa-ca.pem"],
        );
        assert_eq!(o.status.code(), Some(1), "the recipe, {file}: {}", text(&o));
        assert!(text(&o).contains("FAIL manifest."), "the recipe, {file}: {}", text(&o));
    }
    assert_eq!(served.hits(), 3, "one query per pack made");
    env.assert_verified();
}

fn packs_are_not_made_when_the_authority_fails(b: Backend) {
    if !openssl_present() {
        eprintln!("skipping: openssl is not installed, so the stand-in TSA cannot run");
        return;
    }
    let (env, config) = workspace_with_evidence(b);
    let tsa = Arc::new(TestTsa::new(KeyKind::P256));
    let folder = env.tmp.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let out = folder.join("p.zip");
    let create = ["pack", "create", "--control", "ACC-01", "--out", out.to_str().unwrap()];
    let nothing_left = |why: &str| {
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0, "{why}: a file was left");
        assert!(!env.audit_actions().contains(&"pack.create".to_string()), "{why}");
    };

    let nobody = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/tsa", l.local_addr().unwrap())
    };
    let failures = [
        (
            Some(Answer::ServerError),
            vec!["it answered HTTP 500 Internal Server Error"],
        ),
        (
            Some(Answer::Refuse),
            vec![
                "status Rejection, not granted",
                "badAlg: unrecognized or unsupported algorithm",
            ],
        ),
        (Some(Answer::Garbage), vec!["not a DER RFC 3161 TimeStampResp"]),
        (None, vec!["no answer"]),
    ];
    for (answer, needles) in failures {
        let served = answer.map(|a| serve(tsa.clone(), a));
        let url = served.as_ref().map_or(nobody.clone(), |s| s.url.clone());
        use_tsa(&env, &config, Some(&url));
        let o = env.run(&create);
        assert_eq!(o.status.code(), Some(1), "{answer:?}: {}", text(&o));
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.contains(&format!(
                "the time-stamping authority {url} did not time-stamp the pack"
            )),
            "{answer:?} names the authority: {said}"
        );
        for n in needles.iter().chain(&["no pack was made"]) {
            assert!(said.contains(n), "{answer:?}: {n:?} not in {said}");
        }
        if let Some(s) = &served {
            assert_eq!(s.hits(), 1, "{answer:?}");
        }
        nothing_left(&format!("{answer:?}"));
    }

    // A setting that cannot name an authority is refused when the workspace opens, by any
    // command, before anything is done.
    use_tsa(&env, &config, Some("ftp://127.0.0.1/tsa"));
    for args in [&create[..], &["audit-log"]] {
        let o = env.run(args);
        assert!(!o.status.success());
        assert!(
            text(&o).contains("packs.tsa_url \"ftp://127.0.0.1/tsa\": must be an http:// or https:// URL"),
            "{args:?}: {}",
            text(&o)
        );
    }
    use_tsa(&env, &config, None);
    nothing_left("a bad setting");

    // No authority: no token and not a single request, whether none is configured or
    // EVIDENT_TSA_URL empties the file's; EVIDENT_TSA_URL alone names one.
    let served = serve(tsa.clone(), Answer::Grant);
    use_tsa(&env, &config, Some(&served.url));
    let off = env.command(&create).env("EVIDENT_TSA_URL", "").output().unwrap();
    assert!(off.status.success(), "{}", text(&off));
    assert!(entry_of(&out, "manifest.tsr").is_none());
    use_tsa(&env, &config, None);
    env.json(&create);
    assert!(entry_of(&out, "manifest.tsr").is_none());
    assert_eq!(served.hits(), 0, "no request without an authority configured");
    let on = env
        .command(&create)
        .env("EVIDENT_TSA_URL", &served.url)
        .output()
        .unwrap();
    assert!(on.status.success(), "{}", text(&on));
    assert!(entry_of(&out, "manifest.tsr").is_some());
    assert_eq!(served.hits(), 1);
}

fn packs_download_time_stamped_from_the_api(b: Backend) {
    if !openssl_present() {
        eprintln!("skipping: openssl is not installed, so the stand-in TSA cannot run");
        return;
    }
    let app = TestApp::new(b);
    app.env.json(&["controls", "adopt", "--all-new"]);
    let a = app.env.write_file("list.csv", b"app\nslack\n");
    app.env
        .json(&["evidence", "add", a.to_str().unwrap(), "--control", "ACC-01"]);
    let config = std::fs::read_to_string(app.env.dir.join("evident.toml")).unwrap();
    let tsa = Arc::new(TestTsa::new(KeyKind::P384));

    let granting = serve(tsa.clone(), Answer::Grant);
    use_tsa(&app.env, &config, Some(&granting.url));
    let app = app.reopen();
    let answer = app.get("/api/v1/controls/ACC-01/pack");
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let report = evident_pack::verify(std::io::Cursor::new(&answer.body), None).expect("the download verifies");
    let t = report.timestamp.expect("the download is time-stamped");
    assert_eq!(t.tsa_fingerprint, tsa.fingerprint());
    assert_eq!(granting.hits(), 1);

    // The authority failing: 502 naming it, and no download logged.
    let failing = serve(tsa.clone(), Answer::ServerError);
    use_tsa(&app.env, &config, Some(&failing.url));
    let app = app.reopen();
    let downloads = |app: &TestApp| app.env.audit_actions().iter().filter(|a| *a == "pack.download").count();
    let before = downloads(&app);
    let answer = app.get("/api/v1/controls/ACC-01/pack");
    assert_eq!(answer.status, 502, "{}", String::from_utf8_lossy(&answer.body));
    let said = answer.json().to_string();
    assert!(said.contains(&failing.url) && said.contains("HTTP 500"), "{said}");
    assert_eq!(downloads(&app), before);
}
