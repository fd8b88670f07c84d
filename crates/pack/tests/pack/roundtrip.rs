//! A pack built from a synthetic chain verifies, is byte-identical when built twice, lays its
//! files out as documented, and the writer refuses inputs that would make a false pack.

use std::fs::File;
use std::io::{Cursor, Read};
use std::process::Command;

use evident_pack::{Outcome, PackError, PackWriter, fingerprint, verify, verify_path};

use crate::fixture::{
    ID_OTHER, ID_POLICY, ID_REPORT, ID_REPORT_V2, good_pack, instance, instance_key, other_key, subject, write_pack,
};

#[test]
fn a_pack_verifies_and_says_what_it_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = good_pack(dir.path());
    let fp = fingerprint(&instance_key().verifying_key());
    let report = verify_path(&path, Some(&fp)).unwrap();
    // With the fingerprint given, only the absent timestamp is skipped (and said so).
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.outcome == Outcome::Ok || c.what.starts_with("manifest.tsr: none")),
        "{:?}",
        report.checks
    );
    assert!(report.timestamp.is_none());
    let text: Vec<&str> = report.checks.iter().map(|c| c.what.as_str()).collect();
    for expected in [
        "manifest.sig: manifest signed by the pack's key",
        "audit entries 2 to 7 link entry to entry (6 entries, 3 payloads omitted, none of a pack item)",
        "audit segment ends at the checkpoint at entry 7",
        &format!("evidence {ID_REPORT_V2}: evidence.supersede entry 6 recorded this file"),
    ] {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {text:#?}"
        );
    }
    let m = &report.manifest;
    assert_eq!(m.instance_key.fingerprint, fp);
    let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("evidence/{ID_POLICY}/access review.txt"),
            format!("evidence/{ID_REPORT}/report.pdf"),
            format!("evidence/{ID_REPORT_V2}/report.pdf"),
        ]
    );
    assert_eq!(m.files[0].captured_at, "2025-03-01T09:30:00.000Z");
    assert_eq!((m.audit.first_seq, m.audit.last_seq), (2, 7));

    // Without an expected fingerprint the key is reported, not compared.
    let report = verify_path(&path, None).unwrap();
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.outcome == Outcome::Skipped && c.what.contains(&fp))
    );
}

#[test]
fn the_segment_hides_other_records_but_keeps_their_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = good_pack(dir.path());
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name("audit/entries.jsonl")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6);
    let other = lines
        .iter()
        .find(|l| l["subject"] == format!("evidence:{ID_OTHER}"))
        .unwrap();
    assert!(other["payload"].is_null() && other["payload_hash"].as_str().unwrap().len() == 64);
    assert!(!text.contains("secret") && !text.contains("bo@acme.example"));
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let inst = instance(&dir.path().join("files"));
    let a = write_pack(&inst, &dir.path().join("a.zip"));
    let b = write_pack(&inst, &dir.path().join("b.zip"));
    assert_eq!(a.manifest_sha256, b.manifest_sha256);
    let (a, b) = (
        std::fs::read(dir.path().join("a.zip")).unwrap(),
        std::fs::read(dir.path().join("b.zip")).unwrap(),
    );
    assert_eq!(a, b);

    // Compressible files are deflated, already-compressed media stored, times from records.
    let mut zip = zip::ZipArchive::new(Cursor::new(a)).unwrap();
    let txt = zip.by_name(&format!("evidence/{ID_POLICY}/access review.txt")).unwrap();
    assert_eq!(txt.compression(), zip::CompressionMethod::Deflated);
    assert!(txt.compressed_size() * 10 < txt.size());
    let mtime = txt.last_modified().unwrap();
    assert_eq!(
        (mtime.year(), mtime.month(), mtime.day(), mtime.hour()),
        (2025, 3, 1, 9)
    );
    drop(txt);
    let pdf = zip.by_name(&format!("evidence/{ID_REPORT}/report.pdf")).unwrap();
    assert_eq!(pdf.compression(), zip::CompressionMethod::Stored);
}

#[test]
fn the_writer_refuses_what_would_make_a_false_pack() {
    let dir = tempfile::tempdir().unwrap();
    let inst = instance(&dir.path().join("files"));
    let (policy, policy_path) = &inst.items[0];
    let (report, report_path) = &inst.items[1];

    // Bytes that are not the recorded file.
    let mut w = PackWriter::new(Cursor::new(Vec::new()), subject());
    let err = w.add_evidence(policy.clone(), &b"something else"[..]).unwrap_err();
    assert!(matches!(err, PackError::ContentMismatch { .. }), "{err}");

    // Out of order.
    let mut w = PackWriter::new(Cursor::new(Vec::new()), subject());
    w.add_evidence(report.clone(), File::open(report_path).unwrap())
        .unwrap();
    let err = w
        .add_evidence(policy.clone(), File::open(policy_path).unwrap())
        .unwrap_err();
    assert!(matches!(err, PackError::OutOfOrder { .. }), "{err}");

    // A key that did not sign the checkpoint.
    let mut w = PackWriter::new(Cursor::new(Vec::new()), subject());
    w.add_evidence(policy.clone(), File::open(policy_path).unwrap())
        .unwrap();
    let err = w.finish(&inst.log, &inst.checkpoint, &other_key()).unwrap_err();
    assert!(err.to_string().contains("not signed by this key"), "{err}");

    // A record that differs from what the audit log recorded.
    let mut edited = policy.clone();
    edited.title = "Another title".into();
    let mut w = PackWriter::new(Cursor::new(Vec::new()), subject());
    w.add_evidence(edited, File::open(policy_path).unwrap()).unwrap();
    let err = w.finish(&inst.log, &inst.checkpoint, &instance_key()).unwrap_err();
    assert!(err.to_string().contains("audit-log entry 2 recorded title"), "{err}");

    // An item the log never recorded.
    let mut unknown = policy.clone();
    unknown.id = "01JAAAAAAAAAAAAAAAAAAAAAA0".into();
    let mut w = PackWriter::new(Cursor::new(Vec::new()), subject());
    w.add_evidence(unknown, File::open(policy_path).unwrap()).unwrap();
    w.add_evidence(policy.clone(), File::open(policy_path).unwrap())
        .unwrap();
    let err = w.finish(&inst.log, &inst.checkpoint, &instance_key()).unwrap_err();
    assert!(matches!(err, PackError::NotRecorded { .. }), "{err}");
}

#[test]
fn the_binary_passes_a_good_pack_and_refuses_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = good_pack(dir.path());
    assert!(verify(Cursor::new(bytes), None).is_ok());
    let fp = fingerprint(&instance_key().verifying_key());
    let bin = env!("CARGO_BIN_EXE_evident-verify");
    let out = Command::new(bin)
        .arg(&path)
        .args(["--fingerprint", &fp])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.lines().all(|l| l.starts_with("ok   ")
            || l.starts_with("pack verified: ")
            || l.starts_with("skip manifest.tsr: none")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("ok   key fingerprint {fp} is the expected one")),
        "{stdout}"
    );

    for args in [
        vec![],
        vec!["--fingerprint"],
        vec!["a.zip", "b.zip"],
        vec!["a.zip", "--fingerprint", "xyz"],
        vec!["--bogus"],
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = Command::new(bin).arg(dir.path().join("absent.zip")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}
