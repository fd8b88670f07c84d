//! Every way of tampering with a pack, each caught with a precise reason by the library and
//! by `evident-verify`.

use std::path::Path;
use std::process::Command;

use ed25519_dalek::Signer;
use evident_ledger::{ChainProblem, sha256_hex};
use evident_pack::{PackError, fingerprint, public_key_pem, verify};

use crate::fixture::{ID_POLICY, ID_REPORT, good_pack, instance_key, other_key, rewrite};

pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// Passed as the expected fingerprint, when the case needs one.
    pub fingerprint: Option<String>,
    /// The text the failure must contain.
    pub reason: String,
    pub is: fn(&PackError) -> bool,
}

fn edit_text(from: &str, to: &str) -> impl Fn(Vec<u8>) -> Vec<u8> {
    let (from, to) = (from.to_string(), to.to_string());
    move |b| {
        let s = String::from_utf8(b).unwrap();
        assert!(s.contains(&from), "{from:?} not found");
        s.replacen(&from, &to, 1).into_bytes()
    }
}

fn only(target: &'static str, f: impl Fn(Vec<u8>) -> Vec<u8>) -> impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>> {
    move |name, bytes| Some(if name == target { f(bytes) } else { bytes })
}

pub fn cases(good: &[u8]) -> Vec<Case> {
    let report = format!("evidence/{ID_REPORT}/report.pdf");
    let policy = format!("evidence/{ID_POLICY}/access review.txt");
    let added = format!("evidence/{ID_POLICY}/extra.txt");
    let report_path: &'static str = Box::leak(report.clone().into_boxed_str());
    let policy_path: &'static str = Box::leak(policy.clone().into_boxed_str());
    let manifest = {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(good)).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name("manifest.json").unwrap(), &mut s).unwrap();
        s
    };
    let good_fp = fingerprint(&instance_key().verifying_key());

    // An attacker who re-signs everything with their own key: consistent, but not the
    // instance's key, which only the expected fingerprint reveals first.
    let other = other_key().verifying_key();
    let other_pem = public_key_pem(&other);
    let resigned_manifest = manifest
        .replace(
            &hex::encode(instance_key().verifying_key().as_bytes()),
            &hex::encode(other.as_bytes()),
        )
        .replace(&good_fp, &fingerprint(&other))
        .replace(
            &sha256_hex(public_key_pem(&instance_key().verifying_key()).as_bytes()),
            &sha256_hex(other_pem.as_bytes()),
        );
    let resigned_sig = other_key().sign(resigned_manifest.as_bytes()).to_bytes().to_vec();
    let resigned = rewrite(
        good,
        |name, bytes| {
            Some(match name {
                "manifest.json" => resigned_manifest.clone().into_bytes(),
                "manifest.sig" => resigned_sig.clone(),
                "instance.pem" => other_pem.clone().into_bytes(),
                "SHA256SUMS" => {
                    let text = String::from_utf8(bytes).unwrap();
                    text.replace(
                        &sha256_hex(public_key_pem(&instance_key().verifying_key()).as_bytes()),
                        &sha256_hex(other_pem.as_bytes()),
                    )
                    .into_bytes()
                }
                _ => bytes,
            })
        },
        &[],
    );

    let mut truncated = good.to_vec();
    truncated.truncate(good.len() - 300);

    vec![
        Case {
            name: "byte flipped in an evidence file",
            bytes: rewrite(
                good,
                only(report_path, |mut b| {
                    b[100] ^= 0x01;
                    b
                }),
                &[],
            ),
            fingerprint: None,
            reason: format!("{report}: sha256 is"),
            is: |e| matches!(e, PackError::HashMismatch { .. }),
        },
        Case {
            name: "evidence file removed",
            bytes: rewrite(good, |name, b| (name != policy_path).then_some(b), &[]),
            fingerprint: None,
            reason: format!("{policy}: missing from the zip"),
            is: |e| matches!(e, PackError::Missing(_)),
        },
        Case {
            name: "file added",
            bytes: rewrite(good, |_, b| Some(b), &[(added.as_str(), b"planted")]),
            fingerprint: None,
            reason: format!("{added}: in the zip but not listed in the manifest (added)"),
            is: |e| matches!(e, PackError::Added(_)),
        },
        Case {
            name: "manifest field edited",
            bytes: rewrite(
                good,
                only(
                    "manifest.json",
                    edit_text("\"title\": \"report.pdf for", "\"title\": \"Report.pdf for"),
                ),
                &[],
            ),
            fingerprint: None,
            reason: "manifest.sig: not a valid signature of manifest.json".into(),
            is: |e| matches!(e, PackError::BadManifestSignature { .. }),
        },
        Case {
            name: "signature from another key",
            bytes: rewrite(
                good,
                |name, b| {
                    Some(if name == "manifest.sig" {
                        other_key().sign(manifest.as_bytes()).to_bytes().to_vec()
                    } else {
                        b
                    })
                },
                &[],
            ),
            fingerprint: None,
            reason: "manifest.sig: not a valid signature of manifest.json".into(),
            is: |e| matches!(e, PackError::BadManifestSignature { .. }),
        },
        Case {
            name: "pack re-signed with another key",
            bytes: resigned,
            fingerprint: Some(good_fp.clone()),
            reason: format!(
                "the pack's key has fingerprint {}, expected {good_fp}",
                fingerprint(&other)
            ),
            is: |e| matches!(e, PackError::FingerprintMismatch { .. }),
        },
        Case {
            name: "audit entry edited",
            bytes: rewrite(
                good,
                only(
                    "audit/entries.jsonl",
                    edit_text(
                        r#"{"seq":5,"at":1740821700000,"actor":"cli:ana""#,
                        r#"{"seq":5,"at":1740821700000,"actor":"cli:mallory""#,
                    ),
                ),
                &[],
            ),
            fingerprint: None,
            reason: "audit-log entry 5: its fields no longer match its hash".into(),
            is: |e| matches!(e, PackError::Chain(ChainProblem::EntryAltered { seq: 5 })),
        },
        Case {
            name: "audit payload of a pack item edited",
            bytes: rewrite(
                good,
                only(
                    "audit/entries.jsonl",
                    edit_text(r#"\"size\":50009"#, r#"\"size\":50010"#),
                ),
                &[],
            ),
            fingerprint: None,
            reason: "audit-log entry 4: its payload was altered".into(),
            is: |e| matches!(e, PackError::Chain(ChainProblem::PayloadAltered { seq: 4 })),
        },
        Case {
            name: "audit entry dropped",
            bytes: rewrite(
                good,
                only("audit/entries.jsonl", |b| {
                    let s = String::from_utf8(b).unwrap();
                    s.lines()
                        .filter(|l| !l.starts_with(r#"{"seq":5,"#))
                        .map(|l| format!("{l}\n"))
                        .collect::<String>()
                        .into_bytes()
                }),
                &[],
            ),
            fingerprint: None,
            reason: "audit-log entry 5 is missing (the next one present is 6)".into(),
            is: |e| matches!(e, PackError::Chain(ChainProblem::Gap { expected: 5, found: 6 })),
        },
        Case {
            name: "truncated zip",
            bytes: truncated,
            fingerprint: None,
            reason: "not a readable zip archive".into(),
            is: |e| matches!(e, PackError::Unreadable(_)),
        },
        Case {
            name: "zip entry ../x",
            bytes: rewrite(good, |_, b| Some(b), &[("../x", b"escaped")]),
            fingerprint: None,
            reason: r#"zip entry "../x": unsafe name"#.into(),
            is: |e| matches!(e, PackError::UnsafeName { .. }),
        },
        Case {
            name: "zip entry with an absolute path",
            bytes: rewrite(good, |_, b| Some(b), &[("/tmp/evident-pack-x", b"escaped")]),
            fingerprint: None,
            reason: r#"zip entry "/tmp/evident-pack-x": unsafe name (absolute path)"#.into(),
            is: |e| matches!(e, PackError::UnsafeName { .. }),
        },
        Case {
            name: "zip entry with a backslash",
            bytes: rewrite(good, |_, b| Some(b), &[("..\\x", b"escaped")]),
            fingerprint: None,
            reason: r#"unsafe name (contains a backslash)"#.into(),
            is: |e| matches!(e, PackError::UnsafeName { .. }),
        },
    ]
}

/// Everything under `dir`, for "nothing was written" checks.
pub fn listing(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_library_names_each_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = good_pack(dir.path());
    for case in cases(&good) {
        let failure = verify(std::io::Cursor::new(&case.bytes), case.fingerprint.as_deref()).expect_err(case.name);
        let text = failure.error.to_string();
        assert!((case.is)(&failure.error), "{}: wrong failure: {text}", case.name);
        assert!(
            text.contains(&case.reason),
            "{}: {text:?} lacks {:?}",
            case.name,
            case.reason
        );
    }
}

#[test]
fn the_binary_names_each_tampering_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = good_pack(dir.path());
    // The binary runs in a folder inside `dir`, so `../x` would land in `dir`.
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let before = listing(dir.path());
    let mut written = Vec::new();
    for (i, case) in cases(&good).into_iter().enumerate() {
        let pack = dir.path().join(format!("tampered-{i}.zip"));
        std::fs::write(&pack, &case.bytes).unwrap();
        written.push(pack.clone());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_evident-verify"));
        cmd.arg(&pack).current_dir(&cwd);
        if let Some(fp) = &case.fingerprint {
            cmd.args(["--fingerprint", fp]);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{}: {stdout}", case.name);
        let last = stdout.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("FAIL ") && last.contains(&case.reason),
            "{}: {stdout}",
            case.name
        );
        assert!(
            stdout
                .lines()
                .rev()
                .skip(1)
                .all(|l| l.starts_with("ok   ") || l.starts_with("skip ")),
            "{stdout}"
        );
    }
    let mut expected = before;
    expected.extend(written);
    expected.sort();
    assert_eq!(listing(dir.path()), expected, "the verifier wrote files");
    assert!(!Path::new("/tmp/evident-pack-x").exists());
}
