//! `manifest.json`: what the pack is of, every file with its hash and its evidence record,
//! the instance key, and the audit segment with its signed checkpoint. Field order is the
//! declaration order here, so the same values always serialise to the same bytes.

use serde::{Deserialize, Serialize};

use crate::layout::{AUDIT_ENTRIES, INSTANCE_PEM};

/// The format this crate writes and reads.
pub const FORMAT: &str = "evident-pack-v1";

/// What a pack was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// One control's evidence (`refs`: its code).
    Control,
    /// Several controls (`refs`: their codes).
    Controls,
    /// Everything over a period (`period`).
    Period,
    /// An auditor's request (`refs`: its id).
    Request,
    /// A drawn sample (`refs`: its id).
    Sample,
    /// A whole engagement (`refs`: its id).
    Engagement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackSubject {
    pub kind: SubjectKind,
    /// Codes or ids of what the pack is of (see [`SubjectKind`]).
    pub refs: Vec<String>,
    pub period: Option<Period>,
    /// One line for a person, e.g. "ACC-01 evidence for 2025-01-01 to 2025-06-30".
    pub title: String,
}

/// Inclusive `YYYY-MM-DD` dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// A control an item serves, with the requirement it answers when it answers one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlLink {
    /// The control's code, e.g. `ACC-04`.
    pub control: String,
    /// The control's internal id, as the audit-log payload records it.
    pub control_id: String,
    pub requirement: Option<String>,
}

/// Where an item came from: `person` (an upload; `ref` is who), `import` (`ref` is the
/// import kind and file) or `connector` (`ref` is the connector run and its target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

/// One evidence item handed to [`crate::PackWriter::add_evidence`]: its record as Evident
/// keeps it. `sha256` and `size` are what the record says; the writer checks the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackItem {
    pub id: String,
    /// 1 for an original item, n for the n-th version in its supersede chain.
    pub version: u32,
    pub title: String,
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    pub file_name: String,
    pub source: Source,
    /// Unix milliseconds.
    pub captured_at: i64,
    pub effective_date: Option<String>,
    pub period: Option<Period>,
    pub supersedes: Option<String>,
    pub created_by: String,
    pub controls: Vec<ControlLink>,
    /// Ids of the auditor's requests this item answers.
    pub requests: Vec<String>,
}

/// One evidence file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// `evidence/<evidence_id>/<file name, sanitised>`.
    pub path: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    pub evidence_id: String,
    pub version: u32,
    pub title: String,
    /// The name the file had when it was added.
    pub file_name: String,
    /// RFC 3339 (UTC), from `captured_at_ms`.
    pub captured_at: String,
    pub captured_at_ms: i64,
    pub effective_date: Option<String>,
    pub period: Option<Period>,
    pub controls: Vec<ControlLink>,
    pub requests: Vec<String>,
    pub source: Source,
    pub created_by: String,
    pub supersedes: Option<String>,
    /// `seq` of the audit-log entry that recorded the item.
    pub recorded_by: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceKey {
    pub algorithm: String,
    /// The 32-byte Ed25519 public key, lowercase hex.
    pub public_key: String,
    /// Lowercase hex SHA-256 of the 32 public-key bytes.
    pub fingerprint: String,
    /// The same key as PEM SubjectPublicKeyInfo.
    pub pem: String,
    pub pem_sha256: String,
}

/// The checkpoint the segment ends at: `signature` is hex Ed25519 over
/// `evident-checkpoint-v1\n{seq}\n{hash}\n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointRecord {
    pub seq: i64,
    pub at: i64,
    pub hash: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// Path of the entries file (`audit/entries.jsonl`).
    pub entries: String,
    pub entries_sha256: String,
    pub entries_size: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub count: u64,
    /// How many entries are about other records and carry no payload.
    pub payloads_omitted: u64,
    pub checkpoint: CheckpointRecord,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// What the pack is of.
    pub of: PackSubject,
    pub instance_key: InstanceKey,
    /// Sorted by `path`.
    pub files: Vec<FileEntry>,
    pub audit: AuditSection,
}

/// One line of `audit/entries.jsonl`. `payload` is the exact text whose SHA-256 is
/// `payload_hash`, or `null` when the entry is about a record outside the pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLine {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub payload: Option<String>,
    pub payload_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditLine {
    /// The ledger's view of the line, for hashing (the entry hash covers `payload_hash`, not
    /// the payload, which is why an omitted payload still links).
    pub fn to_entry(&self) -> evident_ledger::Entry {
        evident_ledger::Entry {
            seq: self.seq,
            at: self.at,
            actor: self.actor.clone(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            payload: self.payload.clone().unwrap_or_default(),
            payload_hash: self.payload_hash.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

impl Manifest {
    /// The exact bytes of `manifest.json` (pretty JSON, trailing newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a manifest always serialises");
        out.push(b'\n');
        out
    }

    /// Every file whose hash the manifest states, as `(path, sha256, size)`, sorted by path:
    /// the evidence files, the audit entries and the PEM key. `size` is `None` for the PEM,
    /// whose bytes follow from the key.
    pub fn listed_files(&self) -> Vec<(&str, &str, Option<u64>)> {
        let mut out: Vec<(&str, &str, Option<u64>)> = self
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str(), Some(f.size)))
            .collect();
        out.push((AUDIT_ENTRIES, &self.audit.entries_sha256, Some(self.audit.entries_size)));
        out.push((INSTANCE_PEM, &self.instance_key.pem_sha256, None));
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// `SHA256SUMS`: one `<hex>  <path>` line per listed file, in `sha256sum` text format. It
    /// follows entirely from the manifest, so the signature covers it.
    pub fn sha256sums(&self) -> String {
        self.listed_files()
            .iter()
            .map(|(path, sha, _)| format!("{sha}  {path}\n"))
            .collect()
    }
}
