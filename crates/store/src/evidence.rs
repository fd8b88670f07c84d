//! Evidence items: immutable records over vault blobs. A correction is a new version that
//! supersedes the old; a withdrawal is a tombstone with a reason. Nothing is updated in place.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::vault::{StoredBlob, VaultError};
use crate::{StoreError, Workspace};

/// An item with whatever superseded or withdrew it, in one place for every query.
macro_rules! select_evidence {
    () => {
        "SELECT e.id, e.title, e.sha256, e.size, e.media_type, e.file_name, e.source_kind, e.source_ref, \
         e.captured_at, e.effective_date, e.period_from, e.period_to, e.supersedes, e.created_by, \
         (SELECT n.id FROM evidence n WHERE n.supersedes = e.id) AS superseded_by, \
         w.reason AS withdrawn_reason, w.actor AS withdrawn_by, w.at AS withdrawn_at \
         FROM evidence e LEFT JOIN evidence_withdrawals w ON w.evidence_id = e.id"
    };
}
macro_rules! evidence_json_columns {
    () => {
        "e.id, e.title, e.sha256, e.size, e.media_type, e.file_name, e.source_kind, e.source_ref, e.captured_at, \
         e.effective_date, e.period_from, e.period_to, e.supersedes, e.created_by, \
         (SELECT n.id FROM evidence n WHERE n.supersedes = e.id), w.reason, w.actor, w.at"
    };
}
const ALL_EVIDENCE_SQLITE: &str = concat!(
    "SELECT json_group_array(json_array(",
    evidence_json_columns!(),
    ")) AS rows FROM evidence e LEFT JOIN evidence_withdrawals w ON w.evidence_id = e.id"
);
const ALL_EVIDENCE_POSTGRES: &str = concat!(
    "SELECT json_agg(json_build_array(",
    evidence_json_columns!(),
    "))::text AS rows FROM evidence e LEFT JOIN evidence_withdrawals w ON w.evidence_id = e.id"
);
const ALL_LINKS_SQLITE: &str = "SELECT json_group_array(json_array(l.evidence_id, l.control_id, c.code, \
     l.requirement_key)) AS rows FROM evidence_controls l JOIN controls c ON c.id = l.control_id";
const ALL_LINKS_POSTGRES: &str = "SELECT json_agg(json_build_array(l.evidence_id, l.control_id, c.code, \
     l.requirement_key))::text AS rows FROM evidence_controls l JOIN controls c ON c.id = l.control_id";

/// One row of the JSON library read, in `evidence_json_columns!` order.
#[derive(serde::Deserialize)]
struct EvidenceJson(
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

impl From<EvidenceJson> for EvidenceItem {
    fn from(r: EvidenceJson) -> EvidenceItem {
        let withdrawn = match (r.15, r.16, r.17) {
            (Some(reason), Some(actor), Some(at)) => Some(Withdrawal { reason, actor, at }),
            _ => None,
        };
        EvidenceItem {
            id: r.0,
            title: r.1,
            sha256: r.2,
            size: r.3,
            media_type: r.4,
            file_name: r.5,
            source_kind: r.6,
            source_ref: r.7,
            captured_at: r.8,
            effective_date: r.9,
            period_from: r.10,
            period_to: r.11,
            supersedes: r.12,
            superseded_by: r.14,
            created_by: r.13,
            controls: Vec::new(),
            withdrawn,
        }
    }
}
const EVIDENCE_BY_ID: &str = concat!(select_evidence!(), " WHERE e.id = $1");
const LINKS_OF: &str = "SELECT l.evidence_id, l.control_id, c.code, l.requirement_key FROM evidence_controls l \
     JOIN controls c ON c.id = l.control_id WHERE l.evidence_id = $1 ORDER BY c.code";
const INSERT_BLOB: &str =
    "INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING";
const INSERT_EVIDENCE: &str = "INSERT INTO evidence (id, title, sha256, size, media_type, file_name, source_kind, \
     source_ref, captured_at, effective_date, period_from, period_to, supersedes, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
const INSERT_LINK: &str =
    "INSERT INTO evidence_controls (evidence_id, control_id, requirement_key) VALUES ($1, $2, $3)";
const INSERT_WITHDRAWAL: &str =
    "INSERT INTO evidence_withdrawals (evidence_id, reason, actor, at) VALUES ($1, $2, $3, $4)";
const SELECT_CONTROL_ID: &str = "SELECT id FROM controls WHERE code = $1";

/// A link from an item to a control (and, optionally, the requirement it answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceLink {
    #[serde(skip)]
    pub control_id: String,
    pub control: String,
    pub requirement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub reason: String,
    pub actor: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceItem {
    pub id: String,
    pub title: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub file_name: String,
    /// person, import or connector.
    pub source_kind: String,
    pub source_ref: String,
    pub captured_at: i64,
    pub effective_date: Option<String>,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub created_by: String,
    pub controls: Vec<EvidenceLink>,
    pub withdrawn: Option<Withdrawal>,
}

impl EvidenceItem {
    /// The record as first written: what the audit log commits to, and what `verify`
    /// recomputes from the rows.
    pub(crate) fn payload(&self) -> Value {
        let mut links: Vec<&EvidenceLink> = self.controls.iter().collect();
        links.sort_by(|a, b| a.control_id.cmp(&b.control_id));
        let links: Vec<Value> = links
            .iter()
            .map(|l| json!({"control_id": l.control_id, "requirement": l.requirement}))
            .collect();
        json!({
            "id": self.id,
            "title": self.title,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "file_name": self.file_name,
            "source_kind": self.source_kind,
            "source_ref": self.source_ref,
            "captured_at": self.captured_at,
            "effective_date": self.effective_date,
            "period_from": self.period_from,
            "period_to": self.period_to,
            "supersedes": self.supersedes,
            "created_by": self.created_by,
            "controls": links,
        })
    }

    pub fn is_current(&self) -> bool {
        self.withdrawn.is_none() && self.superseded_by.is_none()
    }

    /// The day this item attests to (`evident_core::attestation::attests_to`).
    pub fn attests_to(&self) -> time::Date {
        evident_core::attestation::attests_to(
            self.period_to.as_deref(),
            self.effective_date.as_deref(),
            self.captured_at,
        )
    }
}

/// Where an item's bytes are.
#[derive(Debug)]
pub enum EvidenceFile<'a> {
    /// A file on disk; the item takes its name.
    Path(&'a Path),
    /// Bytes received over the network into an unnamed temporary file (nothing is left on disk
    /// if the process dies), with the name the person's file had.
    Received { file: std::fs::File, name: String },
}

/// The name an item is stored and downloaded under: the last path component, without control
/// characters, at most 200 characters; "evidence" when nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "evidence".into()
    } else {
        cleaned.to_string()
    }
}

/// What a person or importer hands in; the caller has already validated dates against today.
#[derive(Debug)]
pub struct NewEvidence<'a> {
    pub file: EvidenceFile<'a>,
    pub title: String,
    pub media_type: String,
    /// (control code, requirement key)
    pub controls: Vec<(String, Option<String>)>,
    pub effective_date: Option<String>,
    pub period: Option<(String, String)>,
    pub source_kind: &'a str,
    pub source_ref: String,
}

fn item_from_row(row: &AnyRow) -> Result<EvidenceItem, StoreError> {
    let withdrawn = match row.try_get::<Option<String>, _>("withdrawn_reason")? {
        Some(reason) => Some(Withdrawal {
            reason,
            actor: row.try_get("withdrawn_by")?,
            at: row.try_get("withdrawn_at")?,
        }),
        None => None,
    };
    Ok(EvidenceItem {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        media_type: row.try_get("media_type")?,
        file_name: row.try_get("file_name")?,
        source_kind: row.try_get("source_kind")?,
        source_ref: row.try_get("source_ref")?,
        captured_at: row.try_get("captured_at")?,
        effective_date: row.try_get("effective_date")?,
        period_from: row.try_get("period_from")?,
        period_to: row.try_get("period_to")?,
        supersedes: row.try_get("supersedes")?,
        superseded_by: row.try_get("superseded_by")?,
        created_by: row.try_get("created_by")?,
        controls: Vec::new(),
        withdrawn,
    })
}

fn link_from_row(row: &AnyRow) -> Result<(String, EvidenceLink), StoreError> {
    Ok((
        row.try_get("evidence_id")?,
        EvidenceLink {
            control_id: row.try_get("control_id")?,
            control: row.try_get("code")?,
            requirement: row.try_get("requirement_key")?,
        },
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Workspace {
    pub async fn evidence(&self) -> Result<Vec<EvidenceItem>, StoreError> {
        // The whole library as two JSON arrays built by the database (see `bulk`).
        let rows: Vec<EvidenceJson> = self
            .json_rows(ALL_EVIDENCE_SQLITE, ALL_EVIDENCE_POSTGRES, "evidence")
            .await?;
        let mut items: Vec<EvidenceItem> = rows.into_iter().map(EvidenceItem::from).collect();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        let index: HashMap<String, usize> = items.iter().enumerate().map(|(i, e)| (e.id.clone(), i)).collect();
        let mut links: Vec<(String, String, String, Option<String>)> = self
            .json_rows(ALL_LINKS_SQLITE, ALL_LINKS_POSTGRES, "evidence links")
            .await?;
        links.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
        for (id, control_id, control, requirement) in links {
            if let Some(&i) = index.get(&id) {
                items[i].controls.push(EvidenceLink {
                    control_id,
                    control,
                    requirement,
                });
            }
        }
        Ok(items)
    }

    pub async fn evidence_item(&self, id: &str) -> Result<EvidenceItem, StoreError> {
        let id = id.trim().to_ascii_uppercase();
        let row = sqlx::query(EVIDENCE_BY_ID)
            .bind(&id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "evidence item",
                id: id.clone(),
            })?;
        let mut item = item_from_row(&row)?;
        for row in sqlx::query(LINKS_OF).bind(&id).fetch_all(&self.db.pool).await? {
            item.controls.push(link_from_row(&row)?.1);
        }
        Ok(item)
    }

    /// Stores the file in the vault, then records the item (and, for a new version, the
    /// item it supersedes) in one transaction with its audit-log entry. The blob is durable
    /// before the record exists, so a recorded item always has its bytes.
    pub async fn add_evidence(
        &self,
        new: NewEvidence<'_>,
        supersedes: Option<&str>,
    ) -> Result<EvidenceItem, EvidenceError> {
        for (field, text) in [("title", new.title.as_str()), ("source", new.source_ref.as_str())] {
            crate::error::storable(field, text)?;
        }
        let mut control_ids = Vec::new();
        for (code, _) in &new.controls {
            let row = sqlx::query(SELECT_CONTROL_ID)
                .bind(code)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(StoreError::from)?;
            let row = row.ok_or_else(|| StoreError::NotFound {
                kind: "control",
                id: code.clone(),
            })?;
            control_ids.push(row.try_get::<String, _>("id").map_err(StoreError::from)?);
        }
        let (StoredBlob { sha256, size, .. }, file_name) = match new.file {
            EvidenceFile::Path(path) => (
                self.vault.put_file(path).await?,
                clean_file_name(&path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()),
            ),
            EvidenceFile::Received { file, name } => {
                let name = clean_file_name(&name);
                (self.vault.put_open_file(file, Path::new(&name)).await?, name)
            }
        };
        let now = now_ms();
        let item = EvidenceItem {
            id: ulid::Ulid::new().to_string(),
            title: new.title,
            sha256,
            size: size as i64,
            media_type: new.media_type,
            file_name,
            source_kind: new.source_kind.to_string(),
            source_ref: new.source_ref,
            captured_at: now,
            effective_date: new.effective_date,
            period_from: new.period.as_ref().map(|p| p.0.clone()),
            period_to: new.period.as_ref().map(|p| p.1.clone()),
            supersedes: supersedes.map(str::to_string),
            superseded_by: None,
            created_by: self.actor.clone(),
            controls: new
                .controls
                .iter()
                .zip(&control_ids)
                .map(|((code, req), id)| EvidenceLink {
                    control_id: id.clone(),
                    control: code.clone(),
                    requirement: req.clone(),
                })
                .collect(),
            withdrawn: None,
        };
        let mut tx = self.begin_write().await?;
        if let Some(old) = supersedes {
            self.check_supersedable(&mut tx, old).await?;
        }
        sqlx::query(INSERT_BLOB)
            .bind(&item.sha256)
            .bind(item.size)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        sqlx::query(INSERT_EVIDENCE)
            .bind(&item.id)
            .bind(&item.title)
            .bind(&item.sha256)
            .bind(item.size)
            .bind(&item.media_type)
            .bind(&item.file_name)
            .bind(&item.source_kind)
            .bind(&item.source_ref)
            .bind(item.captured_at)
            .bind(&item.effective_date)
            .bind(&item.period_from)
            .bind(&item.period_to)
            .bind(&item.supersedes)
            .bind(&item.created_by)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        for link in &item.controls {
            sqlx::query(INSERT_LINK)
                .bind(&item.id)
                .bind(&link.control_id)
                .bind(&link.requirement)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        let action = if supersedes.is_some() {
            "evidence.supersede"
        } else {
            "evidence.add"
        };
        self.log(&mut tx, action, &format!("evidence:{}", item.id), item.payload())
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.checkpoint().await?;
        Ok(item)
    }

    /// A version can be superseded once, and never after it was withdrawn.
    async fn check_supersedable(&self, tx: &mut Transaction<'static, Any>, id: &str) -> Result<(), StoreError> {
        let row = sqlx::query(EVIDENCE_BY_ID)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "evidence item",
                id: id.to_string(),
            })?;
        let old = item_from_row(&row)?;
        if old.withdrawn.is_some() {
            return Err(StoreError::Conflict(format!(
                "{id} was withdrawn; add the evidence as a new item instead"
            )));
        }
        if let Some(newer) = old.superseded_by {
            return Err(StoreError::Conflict(format!(
                "{id} is already superseded by {newer}; supersede that version"
            )));
        }
        Ok(())
    }

    /// Records a tombstone: the item stays (auditors see it and why it was withdrawn).
    pub async fn withdraw_evidence(&self, id: &str, reason: &str) -> Result<EvidenceItem, StoreError> {
        crate::error::storable("reason", reason)?;
        let item = self.evidence_item(id).await?;
        if let Some(w) = &item.withdrawn {
            return Err(StoreError::Conflict(format!(
                "{} was already withdrawn ({})",
                item.id, w.reason
            )));
        }
        let at = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_WITHDRAWAL)
            .bind(&item.id)
            .bind(reason)
            .bind(&self.actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let payload = withdrawal_payload(
            &item.id,
            &Withdrawal {
                reason: reason.into(),
                actor: self.actor.clone(),
                at,
            },
        );
        self.log(&mut tx, "evidence.withdraw", &format!("evidence:{}", item.id), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        self.evidence_item(&item.id).await
    }
}

pub(crate) fn withdrawal_payload(id: &str, w: &Withdrawal) -> Value {
    json!({"evidence_id": id, "reason": w.reason, "actor": w.actor, "at": w.at})
}
