//! `verify`: proves the workspace's history and evidence are as they were written — the
//! audit chain and its signed checkpoints, every evidence record against the entry that
//! recorded it, and every blob against its hash.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::VerifyingKey;
use evident_core::ledger::{Entry, verify_chain};
use serde::Serialize;
use serde_json::Value;

use crate::evidence::withdrawal_payload;
use crate::{StoreError, Workspace};

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub audit_entries: usize,
    pub checkpoints: usize,
    pub pinned_head: Option<i64>,
    pub evidence_items: usize,
    pub blobs: usize,
    pub blob_bytes: u64,
    /// Hex ed25519 public key the checkpoints were checked with; compare it with a copy kept
    /// elsewhere to rule out a replaced key.
    pub instance_public_key: String,
    /// SHA-256 of the public key's 32 bytes: what an evidence pack names its signer by.
    pub instance_key_fingerprint: String,
    /// Everything found wrong, most fundamental first. Empty means verified.
    pub problems: Vec<String>,
}

/// Whether an entry recorded exactly this record (the chain check has already proven the
/// entry's own text unaltered).
fn recorded_as(entry: &Entry, record: &Value) -> bool {
    serde_json::from_str::<Value>(&entry.payload).is_ok_and(|p| p == *record)
}

impl Workspace {
    pub fn instance_public_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    pub async fn verify(&self) -> Result<VerifyReport, StoreError> {
        let entries = self.audit_log(i64::MIN).await?;
        let checkpoints = self.checkpoints().await?;
        let pinned = self.pinned_head()?;
        let key = self.instance_public_key();
        let chain = verify_chain(&entries, &checkpoints, pinned.as_ref(), &key);
        let mut problems: Vec<String> = chain.problems.iter().map(ToString::to_string).collect();

        // Evidence records against the entries that recorded them.
        let mut recorded: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for e in &entries {
            if e.action.starts_with("evidence.") {
                recorded.entry(e.subject.as_str()).or_default().push(e);
            }
        }
        let items = self.evidence().await?;
        let mut present = BTreeSet::new();
        for item in &items {
            let subject = format!("evidence:{}", item.id);
            present.insert(subject.clone());
            let logged = recorded.get(subject.as_str()).map(Vec::as_slice).unwrap_or_default();
            match logged
                .iter()
                .find(|e| e.action == "evidence.add" || e.action == "evidence.supersede")
            {
                None => problems.push(format!(
                    "evidence {}: no audit-log entry records it (written outside Evident)",
                    item.id
                )),
                Some(e) if !recorded_as(e, &crate::evidence::payload(item)) => problems.push(format!(
                    "evidence {}: its database record differs from what audit-log entry {} recorded (edited)",
                    item.id, e.seq
                )),
                Some(_) => {}
            }
            let withdrawal = logged.iter().find(|e| e.action == "evidence.withdraw");
            match (&item.withdrawn, withdrawal) {
                (Some(w), Some(e)) if !recorded_as(e, &withdrawal_payload(&item.id, w)) => problems.push(format!(
                    "evidence {}: its withdrawal differs from what audit-log entry {} recorded (edited)",
                    item.id, e.seq
                )),
                (Some(_), None) => problems.push(format!("evidence {}: withdrawn without an audit-log entry", item.id)),
                (None, Some(e)) => problems.push(format!(
                    "evidence {}: audit-log entry {} withdrew it, but the withdrawal is gone (deleted)",
                    item.id, e.seq
                )),
                _ => {}
            }
        }
        for (subject, logged) in &recorded {
            if !present.contains(*subject) {
                let seq = logged.first().map(|e| e.seq).unwrap_or_default();
                problems.push(format!(
                    "{}: recorded by audit-log entry {seq} but missing from the database (deleted)",
                    subject.replace(':', " ")
                ));
            }
        }

        // Every blob, decrypted and re-hashed.
        let mut sizes: BTreeMap<&str, i64> = BTreeMap::new();
        for item in &items {
            sizes.insert(item.sha256.as_str(), item.size);
        }
        let mut blob_bytes = 0;
        for (sha256, size) in &sizes {
            match self.vault.check(sha256).await {
                Ok(n) if n as i64 == *size => blob_bytes += n,
                Ok(n) => problems.push(format!("blob {sha256}: holds {n} bytes, its evidence says {size}")),
                Err(e) => problems.push(e.to_string()),
            }
        }

        Ok(VerifyReport {
            audit_entries: chain.entries,
            checkpoints: chain.checkpoints,
            pinned_head: pinned.map(|p| p.seq),
            evidence_items: items.len(),
            blobs: sizes.len(),
            blob_bytes,
            instance_public_key: hex::encode(key.as_bytes()),
            instance_key_fingerprint: evident_pack::fingerprint(&key),
            problems,
        })
    }
}
