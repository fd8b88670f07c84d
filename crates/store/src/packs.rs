//! Evidence packs: the chosen items' files decrypted from the vault into a signed zip
//! (`evident_pack`), with the audit-log segment that recorded them up to a signed checkpoint,
//! and an RFC 3161 timestamp of the manifest when a time-stamping authority is configured.
//! What goes in is decided in core (`evidence::pack_items`); the format is `evident_pack`'s.

use std::collections::{BTreeSet, HashMap};
use std::io::{Seek, Write};

use evident_core::evidence::{EvidenceItem, pack_items, version_of};
use evident_core::ledger::Checkpoint;
use evident_pack::{ControlLink, PackItem, PackSubject, PackWriter, Period, Source, SubjectKind, Timestamp};
use sqlx::Row;

use crate::audit::entry_from_row;
use crate::{StoreError, Workspace};

const SELECT_RECORDINGS: &str =
    "SELECT seq, subject FROM audit_log WHERE action IN ('evidence.add', 'evidence.supersede')";
const SELECT_SEGMENT: &str = "SELECT seq, at, actor, action, subject, payload, payload_hash, prev_hash, hash \
     FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq";

/// What a pack is of: some controls (all when empty), over a period or as they stand now; or
/// the items fieldwork chose for a request or a sample (`selection`).
#[derive(Debug, Clone, Default)]
pub struct PackRequest {
    pub controls: Vec<String>,
    pub period: Option<(time::Date, time::Date)>,
    pub selection: Option<PackSelection>,
}

/// Named items for a pack of one request or one sample: the subject its manifest states and
/// each evidence id with the requests it answers.
#[derive(Debug, Clone)]
pub struct PackSelection {
    pub kind: SubjectKind,
    pub refs: Vec<String>,
    pub title: String,
    pub evidence: Vec<(String, Vec<String>)>,
}

/// A pack written: what it holds and the hash that names it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PackWritten {
    pub title: String,
    pub items: usize,
    pub evidence_bytes: u64,
    /// SHA-256 of the pack's `manifest.json`.
    pub manifest_sha256: String,
    /// SHA-256 of the instance's public key, to compare with one obtained out of band.
    pub fingerprint: String,
    /// The audit-log entry the pack's signed checkpoint pins.
    pub checkpoint_seq: i64,
    /// The time-stamping authority's timestamp of the manifest, when one is configured.
    pub timestamp: Option<Timestamp>,
}

impl PackRequest {
    fn subject(&self) -> PackSubject {
        let period = self.period.map(|(f, t)| Period {
            from: evident_core::format_date(f),
            to: evident_core::format_date(t),
        });
        if let Some(sel) = &self.selection {
            return PackSubject {
                kind: sel.kind,
                refs: sel.refs.clone(),
                period,
                title: sel.title.clone(),
            };
        }
        let (kind, what) = match self.controls.as_slice() {
            [] if self.period.is_some() => (SubjectKind::Period, "All evidence".to_string()),
            [] => (SubjectKind::Controls, "All current evidence".to_string()),
            [one] => (SubjectKind::Control, format!("{one} evidence")),
            many => (SubjectKind::Controls, format!("Evidence for {}", many.join(", "))),
        };
        let title = match &period {
            Some(p) => format!("{what} for {} to {}", p.from, p.to),
            None => what,
        };
        PackSubject {
            kind,
            refs: self.controls.clone(),
            period,
            title,
        }
    }
}

fn pack_item(e: &EvidenceItem, by_id: &HashMap<&str, &EvidenceItem>) -> PackItem {
    PackItem {
        id: e.id.clone(),
        version: version_of(e, by_id),
        title: e.title.clone(),
        sha256: e.sha256.clone(),
        size: e.size.max(0) as u64,
        media_type: e.media_type.clone(),
        file_name: e.file_name.clone(),
        source: Source {
            kind: e.source_kind.as_str().to_string(),
            reference: e.source_ref.clone(),
        },
        captured_at: e.captured_at,
        effective_date: e.effective_date.clone(),
        period: match (&e.period_from, &e.period_to) {
            (Some(from), Some(to)) => Some(Period {
                from: from.clone(),
                to: to.clone(),
            }),
            _ => None,
        },
        supersedes: e.supersedes.clone(),
        created_by: e.created_by.clone(),
        controls: e
            .controls
            .iter()
            .map(|l| ControlLink {
                control: l.control.clone(),
                control_id: l.control_id.to_string(),
                requirement: l.requirement.clone(),
            })
            .collect(),
        requests: Vec::new(),
    }
}

impl Workspace {
    /// Writes the pack `request` asks for into `out`. The same items always give the same
    /// bytes: the checkpoint is the first one signed after the last item was recorded, so
    /// later writes do not change it. Refused (nothing written) when no item matches. With
    /// `packs.tsa_url` set, the authority time-stamps the manifest (`manifest.tsr`, the one
    /// part that differs each time); if it fails, so does the pack.
    pub async fn write_pack<W: Write + Seek + Send>(
        &self,
        request: &PackRequest,
        out: W,
    ) -> Result<(PackWritten, W), StoreError> {
        let controls = self.stored_controls().await?;
        let mut codes = Vec::new();
        for c in &request.controls {
            let found = controls
                .iter()
                .find(|k| k.code.eq_ignore_ascii_case(c.trim()))
                .ok_or_else(|| StoreError::NotFound {
                    kind: "control",
                    id: c.trim().to_string(),
                })?;
            if !codes.contains(&found.code) {
                codes.push(found.code.clone());
            }
        }
        let request = PackRequest {
            controls: codes,
            period: request.period,
            selection: request.selection.clone(),
        };
        let all = self.evidence().await?;
        let by_id: HashMap<&str, &EvidenceItem> = all.iter().map(|e| (e.id.as_str(), e)).collect();
        // A selection's items in id order (the same items give the same bytes), each once.
        let answers: HashMap<&str, BTreeSet<&str>> =
            request
                .selection
                .iter()
                .flat_map(|s| &s.evidence)
                .fold(HashMap::new(), |mut m, (id, requests)| {
                    m.entry(id.as_str())
                        .or_insert_with(BTreeSet::new)
                        .extend(requests.iter().map(String::as_str));
                    m
                });
        let chosen: Vec<&EvidenceItem> = match &request.selection {
            Some(_) => {
                let ids: BTreeSet<&str> = answers.keys().copied().collect();
                ids.into_iter().filter_map(|id| by_id.get(id).copied()).collect()
            }
            None => pack_items(&all, &request.controls, request.period),
        };
        if chosen.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{}: no evidence to pack; nothing was written",
                request.subject().title
            )));
        }
        let (segment, checkpoint) = self.pack_segment(&chosen).await?;
        let subject = request.subject();
        let title = subject.title.clone();
        let mut pack = PackWriter::new(out, subject);
        let mut bytes = 0u64;
        for e in &chosen {
            let mut item = pack_item(e, &by_id);
            item.requests = answers
                .get(e.id.as_str())
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            let mut entry = pack.begin_evidence(item).map_err(pack_error)?;
            bytes += self
                .vault
                .read_into(&e.sha256, &mut entry, std::path::Path::new(&e.file_name))
                .await
                .map_err(|source| StoreError::Invalid(format!("evidence {}: {source}", e.id)))?;
            entry.finish().map_err(pack_error)?;
        }
        let sealed = pack
            .seal(&segment, &checkpoint, &self.signing_key)
            .map_err(pack_error)?;
        let token = match &self.config.packs.tsa_url {
            Some(url) => Some(crate::tsa::stamp(url, sealed.manifest_bytes()).await?),
            None => None,
        };
        let done = sealed.finish(token.as_deref()).map_err(pack_error)?;
        Ok((
            PackWritten {
                title,
                items: chosen.len(),
                evidence_bytes: bytes,
                manifest_sha256: done.manifest_sha256,
                fingerprint: done.fingerprint,
                checkpoint_seq: checkpoint.seq,
                timestamp: done.timestamp,
            },
            done.out,
        ))
    }

    /// The audit-log entries from the first that recorded one of `items` up to the first
    /// checkpoint at or after the last of them, and that checkpoint.
    async fn pack_segment(
        &self,
        items: &[&EvidenceItem],
    ) -> Result<(Vec<evident_core::ledger::Entry>, Checkpoint), StoreError> {
        let subjects: BTreeSet<String> = items.iter().map(|e| format!("evidence:{}", e.id)).collect();
        let mut seqs = Vec::new();
        for row in sqlx::query(SELECT_RECORDINGS).fetch_all(&self.db.pool).await? {
            let subject: String = row.try_get("subject")?;
            if subjects.contains(&subject) {
                seqs.push(row.try_get::<i64, _>("seq")?);
            }
        }
        let (Some(&first), Some(&last)) = (seqs.iter().min(), seqs.iter().max()) else {
            return Err(StoreError::Conflict(
                "the audit log holds no record of these items; run `evident verify`".into(),
            ));
        };
        let after = |cps: Vec<Checkpoint>| cps.into_iter().find(|c| c.seq >= last);
        let checkpoint = match after(self.checkpoints().await?) {
            Some(c) => c,
            None => {
                self.sign_head().await?;
                after(self.checkpoints().await?)
                    .ok_or_else(|| StoreError::Conflict("the audit log's head could not be signed".into()))?
            }
        };
        let segment = sqlx::query(SELECT_SEGMENT)
            .bind(first)
            .bind(checkpoint.seq)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((segment, checkpoint))
    }
}

fn pack_error(e: evident_pack::PackError) -> StoreError {
    StoreError::Conflict(format!("the pack could not be made: {e}"))
}

impl Workspace {
    /// Records that a pack left: who (the workspace's actor), how (`pack.create` from the
    /// command line, `pack.download` from the web or the API), what it holds and the hash
    /// that names it. Logged after the pack's checkpoint, so it never changes the pack.
    pub async fn log_pack(&self, action: &str, written: &PackWritten, destination: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.log(
            &mut tx,
            action,
            &format!("pack:{}", written.manifest_sha256),
            serde_json::json!({
                "title": written.title,
                "items": written.items,
                "evidence_bytes": written.evidence_bytes,
                "manifest_sha256": written.manifest_sha256,
                "checkpoint_seq": written.checkpoint_seq,
                "to": destination,
            }),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }
}
