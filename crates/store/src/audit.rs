//! Appending to the audit log inside the same transaction as the write it records, and
//! signing checkpoints of its head.

use std::path::PathBuf;

use ed25519_dalek::Signer;
use evident_core::ledger::{Checkpoint, Entry, checkpoint_message, next_entry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::bulk::{Cell, insert_rows};
use crate::clock::now_ms;
use crate::files::{remove_temporaries, write_atomically};
use crate::{Backend, StoreError, Workspace};

/// A checkpoint is also signed every this many entries, whatever the command.
pub const CHECKPOINT_EVERY: i64 = 100;
const HEAD_FILE: &str = "audit-head.json";

const AUDIT_COLUMNS: &[&str] = &[
    "seq",
    "at",
    "actor",
    "action",
    "subject",
    "payload",
    "payload_hash",
    "prev_hash",
    "hash",
];
const SELECT_HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const INSERT_ENTRY: &str = "INSERT INTO audit_log (seq, at, actor, action, subject, payload, payload_hash, \
     prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const INSERT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints (seq, at, hash, signature) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (seq) DO NOTHING";
const SELECT_LAST_CHECKPOINT: &str = "SELECT seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1";
const SELECT_ABOUT: &str = "SELECT seq, at, actor, action, subject, payload, payload_hash, prev_hash, hash \
     FROM audit_log WHERE subject = $1 ORDER BY seq DESC LIMIT 200";
const SELECT_ENTRIES: &str = "SELECT seq, at, actor, action, subject, payload, payload_hash, prev_hash, hash \
     FROM audit_log WHERE at >= $1 ORDER BY seq";
const SELECT_CHECKPOINTS: &str = "SELECT seq, at, hash, signature FROM audit_checkpoints ORDER BY seq";
// One writer at a time, so sequence numbers and links never race.
const SELECT_ACTIONS: &str = "SELECT action, subject FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq";
const SQLITE_BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
const POSTGRES_WRITE_LOCK: &str = "SELECT pg_advisory_xact_lock(7400114)";

/// The head pinned outside the database: a signed checkpoint in the workspace folder.
#[derive(Debug, Serialize, Deserialize)]
struct PinnedHead {
    seq: i64,
    at: i64,
    hash: String,
    signature: String,
}

pub(crate) fn entry_from_row(row: &AnyRow) -> Result<Entry, StoreError> {
    Ok(Entry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        payload: row.try_get("payload")?,
        payload_hash: row.try_get("payload_hash")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl Workspace {
    /// A transaction that holds the single-writer lock.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        match self.db.backend {
            Backend::Sqlite => Ok(self.db.pool.begin_with(SQLITE_BEGIN_WRITE).await?),
            Backend::Postgres => {
                let mut tx = self.db.pool.begin().await?;
                sqlx::query(POSTGRES_WRITE_LOCK).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }

    /// The end of an audited write: records it in the log, commits both, signs the new head.
    pub(crate) async fn commit_logged(
        &self,
        mut tx: Transaction<'static, Any>,
        action: &str,
        subject: &str,
        payload: Value,
    ) -> Result<(), StoreError> {
        self.log(&mut tx, action, subject, payload).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Appends an entry recording a write made in `tx`; commits or rolls back with it.
    pub(crate) async fn log(
        &self,
        tx: &mut Transaction<'static, Any>,
        action: &str,
        subject: &str,
        payload: Value,
    ) -> Result<Entry, StoreError> {
        let head = sqlx::query(SELECT_HEAD).fetch_optional(&mut **tx).await?;
        let head = match head {
            Some(r) => Some((r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?)),
            None => None,
        };
        // serde_json's map is ordered by key, so this text is canonical.
        let payload = payload.to_string();
        let entry = next_entry(
            head.as_ref().map(|(s, h)| (*s, h.as_str())),
            now_ms(),
            &self.actor,
            action,
            subject,
            &payload,
        );
        sqlx::query(INSERT_ENTRY)
            .bind(entry.seq)
            .bind(entry.at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.subject)
            .bind(&entry.payload)
            .bind(&entry.payload_hash)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(&mut **tx)
            .await?;
        if entry.seq % CHECKPOINT_EVERY == 0 {
            let c = self.sign(entry.seq, &entry.hash);
            insert_checkpoint(tx, &c).await?;
        }
        Ok(entry)
    }

    /// Appends many entries at once (a bulk load), chained and checkpointed exactly as
    /// `log` would have done one by one.
    pub(crate) async fn log_many(
        &self,
        tx: &mut Transaction<'static, Any>,
        entries: Vec<(String, String, Value)>,
    ) -> Result<(), StoreError> {
        let head = sqlx::query(SELECT_HEAD).fetch_optional(&mut **tx).await?;
        let mut prev = match head {
            Some(r) => Some((r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?)),
            None => None,
        };
        let at = now_ms();
        let mut rows = Vec::with_capacity(entries.len());
        let mut checkpoints = Vec::new();
        for (action, subject, payload) in entries {
            let e = next_entry(
                prev.as_ref().map(|(s, h)| (*s, h.as_str())),
                at,
                &self.actor,
                &action,
                &subject,
                &payload.to_string(),
            );
            if e.seq % CHECKPOINT_EVERY == 0 {
                checkpoints.push(self.sign(e.seq, &e.hash));
            }
            prev = Some((e.seq, e.hash.clone()));
            rows.push(vec![
                Cell::from(e.seq),
                e.at.into(),
                e.actor.into(),
                e.action.into(),
                e.subject.into(),
                e.payload.into(),
                e.payload_hash.into(),
                e.prev_hash.into(),
                e.hash.into(),
            ]);
        }
        insert_rows(tx, "audit_log", AUDIT_COLUMNS, rows).await?;
        for c in &checkpoints {
            insert_checkpoint(tx, c).await?;
        }
        Ok(())
    }

    fn sign(&self, seq: i64, hash: &str) -> Checkpoint {
        let signature = self.signing_key.sign(&checkpoint_message(seq, hash));
        Checkpoint {
            seq,
            at: now_ms(),
            hash: hash.to_string(),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    fn head_file(&self) -> PathBuf {
        self.dir.join(HEAD_FILE)
    }

    /// Signs the current head unless it is already signed, and pins it outside the database.
    /// Called at the end of every command that wrote anything, after its commit: the write is
    /// durable by then, so a failure here must not turn it into a reported failure (a client
    /// would retry and store it twice). It is logged instead; the next write, or `evident
    /// verify`, signs the head again.
    pub async fn checkpoint(&self) -> Result<Option<i64>, StoreError> {
        match self.sign_head().await {
            Ok(seq) => Ok(seq),
            Err(e) => {
                tracing::warn!(error = %e, "the audit log's head could not be signed; the next write will sign it");
                Ok(None)
            }
        }
    }

    /// Signs and pins the head under the single-writer lock, so concurrent writers (other
    /// processes, other servers) pin heads in the order they were made and never share a
    /// temporary file.
    pub(crate) async fn sign_head(&self) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(SELECT_HEAD).fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let seq: i64 = row.try_get("seq")?;
        let last: Option<i64> = sqlx::query(SELECT_LAST_CHECKPOINT)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("seq"))
            .transpose()?;
        let c = self.sign(seq, &row.try_get::<String, _>("hash")?);
        if last != Some(seq) {
            insert_checkpoint(&mut tx, &c).await?;
        }
        let pinned = PinnedHead {
            seq: c.seq,
            at: c.at,
            hash: c.hash,
            signature: c.signature,
        };
        // The entry it signs is already committed, so a pinned head never names an entry that
        // a failed commit below could take back. Every pin is made under this lock, so a
        // temporary file beside the head is one a killed writer left.
        remove_temporaries(&self.head_file());
        write_atomically(
            &self.head_file(),
            serde_json::to_string_pretty(&pinned).expect("serialises").as_bytes(),
        )?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    pub(crate) fn pinned_head(&self) -> Result<Option<Checkpoint>, StoreError> {
        let path = self.head_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::Io { path, source: e }),
        };
        let p: PinnedHead = serde_json::from_str(&text)
            .map_err(|e| StoreError::Config(format!("{}: not a pinned audit head: {e}", path.display())))?;
        Ok(Some(Checkpoint {
            seq: p.seq,
            at: p.at,
            hash: p.hash,
            signature: p.signature,
        }))
    }

    /// The sequence number of the latest audit entry: every write moves it, so it says
    /// whether anything changed since a value was computed.
    pub async fn audit_head(&self) -> Result<i64, StoreError> {
        let head = sqlx::query(SELECT_HEAD).fetch_optional(&self.db.pool).await?;
        Ok(match head {
            Some(r) => r.try_get("seq")?,
            None => 0,
        })
    }

    /// The actions and subjects of the entries after `after` up to `upto` (sequence numbers),
    /// oldest first: what changed since a value computed at `after`.
    pub async fn audit_actions(&self, after: i64, upto: i64) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query(SELECT_ACTIONS)
            .bind(after)
            .bind(upto)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("action")?, r.try_get("subject")?)))
            .collect()
    }

    /// Audit-log entries at or after `since_ms`, oldest first.
    pub async fn audit_log(&self, since_ms: i64) -> Result<Vec<Entry>, StoreError> {
        sqlx::query(SELECT_ENTRIES)
            .bind(since_ms)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    /// The latest 200 entries about one subject (`control:ACC-01`, `evidence:<id>`), newest first.
    pub async fn audit_about(&self, subject: &str) -> Result<Vec<Entry>, StoreError> {
        sqlx::query(SELECT_ABOUT)
            .bind(subject)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    pub(crate) async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        sqlx::query(SELECT_CHECKPOINTS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Checkpoint {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    hash: r.try_get("hash")?,
                    signature: r.try_get("signature")?,
                })
            })
            .collect()
    }
}

async fn insert_checkpoint(tx: &mut Transaction<'static, Any>, c: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query(INSERT_CHECKPOINT)
        .bind(c.seq)
        .bind(c.at)
        .bind(&c.hash)
        .bind(&c.signature)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
