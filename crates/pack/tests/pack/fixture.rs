//! A synthetic instance: a key, evidence files on disk, the audit chain that recorded them
//! (interleaved with entries about other records) and a signed checkpoint.

use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey};
use evident_ledger::{Checkpoint, Entry, checkpoint_message, next_entry, sha256_hex};
use evident_pack::{
    ControlLink, Finished, PackItem, PackSubject, PackWriter, Period, Source, SubjectKind, TimestampQuery,
};
use serde_json::json;

use crate::tsa::TestTsa;

pub const ID_POLICY: &str = "01JAAAAAAAAAAAAAAAAAAAAAA1";
pub const ID_REPORT: &str = "01JAAAAAAAAAAAAAAAAAAAAAA2";
pub const ID_REPORT_V2: &str = "01JAAAAAAAAAAAAAAAAAAAAAA3";
/// An item outside the pack: its entry is in the segment with its payload omitted.
pub const ID_OTHER: &str = "01JAAAAAAAAAAAAAAAAAAAAAA9";
pub const ID_OLD: &str = "01J00000000000000000000000";

pub fn instance_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

pub fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[10; 32])
}

pub struct Instance {
    pub items: Vec<(PackItem, PathBuf)>,
    pub log: Vec<Entry>,
    pub checkpoint: Checkpoint,
}

fn item(id: &str, file_name: &str, media_type: &str, bytes: &[u8], dir: &Path) -> (PackItem, PathBuf) {
    let folder = dir.join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(file_name);
    std::fs::write(&path, bytes).unwrap();
    let item = PackItem {
        id: id.into(),
        version: 1,
        title: format!("{file_name} for the access review"),
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        media_type: media_type.into(),
        file_name: file_name.into(),
        source: Source {
            kind: "person".into(),
            reference: "ana@acme.example".into(),
        },
        captured_at: 1_740_821_400_000,
        effective_date: Some("2025-03-01".into()),
        period: None,
        supersedes: None,
        created_by: "cli:ana".into(),
        controls: vec![ControlLink {
            control: "ACC-01".into(),
            control_id: "01JCONTROLACC01AAAAAAAAAAA".into(),
            requirement: Some("quarterly-review".into()),
        }],
        requests: vec!["REQ-3".into()],
    };
    (item, path)
}

/// The payload `evident-store` logs for an item (`crates/store/src/evidence.rs`, `payload`).
pub fn payload(item: &PackItem) -> String {
    let mut links: Vec<&ControlLink> = item.controls.iter().collect();
    links.sort_by(|a, b| a.control_id.cmp(&b.control_id));
    let links: Vec<_> = links
        .iter()
        .map(|l| json!({"control_id": l.control_id, "requirement": l.requirement}))
        .collect();
    json!({
        "id": item.id, "title": item.title, "sha256": item.sha256, "size": item.size,
        "media_type": item.media_type, "file_name": item.file_name,
        "source_kind": item.source.kind, "source_ref": item.source.reference,
        "captured_at": item.captured_at, "effective_date": item.effective_date,
        "period_from": item.period.as_ref().map(|p| &p.from), "period_to": item.period.as_ref().map(|p| &p.to),
        "supersedes": item.supersedes, "created_by": item.created_by, "controls": links,
    })
    .to_string()
}

pub fn instance(dir: &Path) -> Instance {
    let policy_text = "Access is reviewed every quarter by the system owner.\n".repeat(4000);
    let policy = item(
        ID_POLICY,
        "access review.txt",
        "text/plain",
        policy_text.as_bytes(),
        dir,
    );
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let mut report = item(ID_REPORT, "report.pdf", "application/pdf", &pdf, dir);
    report.0.source = Source {
        kind: "connector".into(),
        reference: "github:acme/api run 01JRUN".into(),
    };
    report.0.effective_date = None;
    report.0.period = Some(Period {
        from: "2025-01-01".into(),
        to: "2025-03-31".into(),
    });
    // Same file name as the other report: the layout keeps both.
    let mut v2 = item(ID_REPORT_V2, "report.pdf", "application/pdf", &pdf[..40_000], dir);
    v2.0.version = 2;
    v2.0.supersedes = Some(ID_OLD.into());
    v2.0.requests = vec![];

    let mut log: Vec<Entry> = Vec::new();
    let mut push = |at: i64, action: &str, subject: &str, payload: &str| {
        let prev = log.last().map(|e| (e.seq, e.hash.as_str()));
        let e = next_entry(prev, at, "cli:ana", action, subject, payload);
        log.push(e);
    };
    push(
        1_740_000_000_000,
        "control.owner.set",
        "control:01JCONTROLACC01AAAAAAAAAAA",
        r#"{"owner":"ana"}"#,
    );
    push(
        1_740_821_400_000,
        "evidence.add",
        &format!("evidence:{ID_POLICY}"),
        &payload(&policy.0),
    );
    push(
        1_740_821_500_000,
        "evidence.add",
        &format!("evidence:{ID_OTHER}"),
        r#"{"id":"secret"}"#,
    );
    push(
        1_740_821_600_000,
        "evidence.add",
        &format!("evidence:{ID_REPORT}"),
        &payload(&report.0),
    );
    push(
        1_740_821_700_000,
        "user.add",
        "user:bo",
        r#"{"email":"bo@acme.example"}"#,
    );
    push(
        1_740_821_800_000,
        "evidence.supersede",
        &format!("evidence:{ID_REPORT_V2}"),
        &payload(&v2.0),
    );
    push(
        1_740_821_900_000,
        "control.owner.set",
        "control:01JCONTROLACC02AAAAAAAAAAA",
        r#"{"owner":"bo"}"#,
    );
    let head = log.last().unwrap();
    let checkpoint = Checkpoint {
        seq: head.seq,
        at: head.at,
        hash: head.hash.clone(),
        signature: hex::encode(
            instance_key()
                .sign(&checkpoint_message(head.seq, &head.hash))
                .to_bytes(),
        ),
    };
    Instance {
        items: vec![policy, report, v2],
        log,
        checkpoint,
    }
}

pub fn subject() -> PackSubject {
    PackSubject {
        kind: SubjectKind::Control,
        refs: vec!["ACC-01".into()],
        period: Some(Period {
            from: "2025-01-01".into(),
            to: "2025-06-30".into(),
        }),
        title: "ACC-01 evidence for 2025-01-01 to 2025-06-30".into(),
    }
}

/// Writes the instance's pack to `out`, streaming each file from disk.
pub fn write_pack(inst: &Instance, out: &Path) -> Finished<File> {
    let mut w = PackWriter::new(File::create(out).unwrap(), subject());
    for (item, path) in &inst.items {
        w.add_evidence(item.clone(), File::open(path).unwrap()).unwrap();
    }
    w.finish(&inst.log, &inst.checkpoint, &instance_key()).unwrap()
}

/// Writes the instance's pack to `out` with a token from `tsa` over its manifest, asked for
/// and accepted as Evident does.
pub fn write_timestamped_pack(inst: &Instance, out: &Path, tsa: &TestTsa) -> Finished<File> {
    let mut w = PackWriter::new(File::create(out).unwrap(), subject());
    for (item, path) in &inst.items {
        w.add_evidence(item.clone(), File::open(path).unwrap()).unwrap();
    }
    let sealed = w.seal(&inst.log, &inst.checkpoint, &instance_key()).unwrap();
    let query = TimestampQuery::new(sealed.manifest_bytes(), 0x5eed_7e57);
    let (token, _) = query.accept(&tsa.reply(query.der()), sealed.manifest_bytes()).unwrap();
    sealed.finish(Some(&token)).unwrap()
}

/// A good pack time-stamped by `tsa` in `dir`, and its bytes.
pub fn timestamped_pack(dir: &Path, tsa: &TestTsa) -> (PathBuf, Vec<u8>) {
    let inst = instance(&dir.join("files"));
    let path = dir.join("timestamped.zip");
    write_timestamped_pack(&inst, &path, tsa);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// The named entry of a pack.
pub fn entry(pack: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(pack)).unwrap();
    let mut bytes = Vec::new();
    zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
    bytes
}

/// A good pack in `dir`, and its bytes.
pub fn good_pack(dir: &Path) -> (PathBuf, Vec<u8>) {
    let inst = instance(&dir.join("files"));
    let path = dir.join("good.zip");
    write_pack(&inst, &path);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// Rebuilds a zip entry by entry: `edit` returns the new bytes of an entry, or `None` to drop
/// it; `extra` entries are appended as given.
pub fn rewrite(
    pack: &[u8],
    mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, &[u8])],
) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(Cursor::new(pack)).unwrap();
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = edit(&name, bytes) {
            zout.start_file(name, opts).unwrap();
            zout.write_all(&bytes).unwrap();
        }
    }
    for (name, bytes) in extra {
        zout.start_file(*name, opts).unwrap();
        zout.write_all(bytes).unwrap();
    }
    zout.finish().unwrap().into_inner()
}
