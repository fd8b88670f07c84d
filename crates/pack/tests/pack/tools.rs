//! The standard-tool recipe (`docs/verify-pack.sh`: unzip, sha256sum, openssl, python3) passes
//! a good pack and fails every tampered one, and `docs/pack-format.md` quotes it verbatim.

use std::path::{Path, PathBuf};
use std::process::Command;

use evident_pack::fingerprint;

use crate::fixture::{good_pack, instance_key};
use crate::tamper::{cases, listing};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The tools the recipe needs, or the first one missing.
pub fn tools_present() -> Result<(), String> {
    for (tool, arg) in [
        ("unzip", "-v"),
        ("sha256sum", "--version"),
        ("openssl", "version"),
        ("python3", "--version"),
    ] {
        let ran = Command::new(tool).arg(arg).output();
        if !ran.is_ok_and(|o| o.status.success()) {
            return Err(tool.to_string());
        }
    }
    Ok(())
}

/// Runs the recipe on `pack` (with the expected fingerprint and the TSA's CA when given):
/// exit code, stdout, stderr.
pub fn run_script(
    pack: &Path,
    fingerprint: Option<&str>,
    tsa_ca: Option<&Path>,
    tmp: &Path,
    cwd: &Path,
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new("bash");
    cmd.arg(docs().join("verify-pack.sh"))
        .arg(pack)
        .env("TMPDIR", tmp)
        .current_dir(cwd);
    if fingerprint.is_some() || tsa_ca.is_some() {
        cmd.arg(fingerprint.unwrap_or_default());
    }
    if let Some(ca) = tsa_ca {
        cmd.arg(ca);
    }
    let out = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_doc_quotes_the_script_verbatim() {
    let doc = std::fs::read_to_string(docs().join("pack-format.md")).unwrap();
    let script = std::fs::read_to_string(docs().join("verify-pack.sh")).unwrap();
    assert!(
        doc.contains(&format!("```bash\n{script}```\n")),
        "docs/pack-format.md must quote docs/verify-pack.sh verbatim"
    );
}

#[test]
fn the_standard_tool_recipe_passes_a_good_pack_and_fails_each_tampered_one() {
    if let Err(tool) = tools_present() {
        eprintln!("skipping: {tool} is not installed, so the standard-tool recipe cannot run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (good_path, good) = good_pack(dir.path());
    let tmp = dir.path().join("tmp");
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::create_dir(&cwd).unwrap();
    let fp = fingerprint(&instance_key().verifying_key());

    for expected in [None, Some(fp.as_str())] {
        let (code, out, err) = run_script(&good_path, expected, None, &tmp, &cwd);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.ends_with("pack verified\n"), "{out}");
    }

    let before = listing(dir.path());
    let mut written = Vec::new();
    for (i, case) in cases(&good).into_iter().enumerate() {
        let pack = dir.path().join(format!("tampered-{i}.zip"));
        std::fs::write(&pack, &case.bytes).unwrap();
        written.push(pack.clone());
        let (code, out, err) = run_script(&pack, case.fingerprint.as_deref(), None, &tmp, &cwd);
        assert_eq!(code, Some(1), "{}: {out}{err}", case.name);
        let last = out.lines().last().unwrap_or_default();
        assert!(last.starts_with("FAIL "), "{}: {out}{err}", case.name);
    }
    // The script cleaned its temporary folders and extracted nothing elsewhere.
    let mut expected = before;
    expected.extend(written);
    expected.sort();
    assert_eq!(listing(dir.path()), expected);
    assert!(!Path::new("/tmp/evident-pack-x").exists());
}
