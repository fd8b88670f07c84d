//! Evidence items: immutable records over vault blobs. A correction is a new version that
//! supersedes the old; a withdrawal is a tombstone with a reason. Nothing is updated in place.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::vault::{StoredBlob, VaultError};
use crate::{StoreError, Workspace};
pub use evident_core::evidence::{EvidenceItem, EvidenceLink, SourceKind, Withdrawal, clean_file_name};

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

impl TryFrom<EvidenceJson> for EvidenceItem {
    type Error = StoreError;

    fn try_from(r: EvidenceJson) -> Result<EvidenceItem, StoreError> {
        let withdrawn = match (r.15, r.16, r.17) {
            (Some(reason), Some(by), Some(at)) => Some(Withdrawal { reason, by, at }),
            _ => None,
        };
        Ok(EvidenceItem {
            id: r.0,
            title: r.1,
            sha256: r.2,
            size: r.3,
            media_type: r.4,
            file_name: r.5,
            source_kind: SourceKind::parse(&r.6)
                .ok_or_else(|| StoreError::Invalid(format!("unknown evidence source kind '{}'", r.6)))?,
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
        })
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

/// The record as first written: what the audit log commits to, and what `verify` recomputes
/// from the rows.
pub(crate) fn payload(item: &EvidenceItem) -> Value {
    let links = links_payload(&item.controls);
    json!({
        "id": item.id,
        "title": item.title,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "file_name": item.file_name,
        "source_kind": item.source_kind,
        "source_ref": item.source_ref,
        "captured_at": item.captured_at,
        "effective_date": item.effective_date,
        "period_from": item.period_from,
        "period_to": item.period_to,
        "supersedes": item.supersedes,
        "created_by": item.created_by,
        "controls": links,
    })
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

/// What a person, an importer or a connector hands in, as given: `Workspace::add_evidence`
/// checks all of it against the program and today before the vault sees a byte.
#[derive(Debug)]
pub struct NewEvidence<'a> {
    pub file: EvidenceFile<'a>,
    /// Blank or absent: the file's name (or, for a new version, the old title).
    pub title: Option<String>,
    /// Absent: by the file's name (`evident_core::evidence::media_type_of`).
    pub media_type: Option<String>,
    /// The controls it is evidence for. Empty for a new version: the old item's links.
    pub controls: Vec<LinkTo>,
    /// `YYYY-MM-DD`; with `period`, the period wins.
    pub effective_date: Option<String>,
    /// `FROM..TO`.
    pub period: Option<String>,
    pub source_kind: SourceKind,
    pub source_ref: String,
    /// The current version this one replaces.
    pub supersedes: Option<String>,
}

/// A control an item is evidence for, as people name it (`ACC-04`), and the requirement key it
/// answers, if one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTo {
    pub control: String,
    pub requirement: Option<String>,
}

impl LinkTo {
    pub fn control(code: impl Into<String>) -> LinkTo {
        LinkTo {
            control: code.into(),
            requirement: None,
        }
    }
}

impl<'a> NewEvidence<'a> {
    /// An item with no title, media type, dates or predecessor given: each defaults by rule.
    pub fn new(file: EvidenceFile<'a>, source_kind: SourceKind, source_ref: impl Into<String>) -> Self {
        NewEvidence {
            file,
            title: None,
            media_type: None,
            controls: Vec::new(),
            effective_date: None,
            period: None,
            source_kind,
            source_ref: source_ref.into(),
            supersedes: None,
        }
    }
}

fn field(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Field {
        field,
        reason: reason.into(),
    }
}

/// The links an item asks for, each to a known control and (when named) one of its
/// requirements; a control named twice is linked once. One rule for uploads and relinks.
fn resolve_links(controls: &[evident_core::Control], wanted: Vec<LinkTo>) -> Result<Vec<EvidenceLink>, StoreError> {
    let mut links: Vec<EvidenceLink> = Vec::new();
    for LinkTo {
        control: code,
        requirement,
    } in wanted
    {
        let control = controls
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| field("controls", format!("unknown control '{}'", code.trim())))?;
        let requirement = requirement.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        if let Some(r) = &requirement
            && !control.evidence.iter().any(|q| q.key == *r)
        {
            let keys: Vec<&str> = control.evidence.iter().map(|e| e.key.as_str()).collect();
            return Err(field(
                "requirement",
                format!(
                    "{} has no evidence requirement '{r}' (allowed: {})",
                    control.code,
                    keys.join(", ")
                ),
            ));
        }
        if links.iter().any(|l| l.control == control.code) {
            continue;
        }
        links.push(EvidenceLink {
            control_id: control.id.clone(),
            control: control.code.clone(),
            requirement,
        });
    }
    if links.is_empty() {
        return Err(field("controls", "name at least one control the item is evidence for"));
    }
    Ok(links)
}

/// The links as the audit log records them (sorted by control row, as `payload` does).
pub(crate) fn links_payload(links: &[EvidenceLink]) -> Vec<Value> {
    let mut links: Vec<&EvidenceLink> = links.iter().collect();
    links.sort_by(|a, b| a.control_id.cmp(&b.control_id));
    links
        .iter()
        .map(|l| json!({"control_id": l.control_id, "requirement": l.requirement}))
        .collect()
}

fn item_from_row(row: &AnyRow) -> Result<EvidenceItem, StoreError> {
    let withdrawn = match row.try_get::<Option<String>, _>("withdrawn_reason")? {
        Some(reason) => Some(Withdrawal {
            reason,
            by: row.try_get("withdrawn_by")?,
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
        source_kind: {
            let k: String = row.try_get("source_kind")?;
            SourceKind::parse(&k).ok_or_else(|| StoreError::Invalid(format!("unknown evidence source kind '{k}'")))?
        },
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
            control_id: evident_core::RowId::new(row.try_get::<String, _>("control_id")?),
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
        let mut items = rows
            .into_iter()
            .map(EvidenceItem::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| a.id.cmp(&b.id));
        let index: HashMap<String, usize> = items.iter().enumerate().map(|(i, e)| (e.id.clone(), i)).collect();
        let mut links: Vec<(String, String, String, Option<String>)> = self
            .json_rows(ALL_LINKS_SQLITE, ALL_LINKS_POSTGRES, "evidence links")
            .await?;
        links.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
        for (id, control_id, control, requirement) in links {
            if let Some(&i) = index.get(&id) {
                items[i].controls.push(EvidenceLink {
                    control_id: evident_core::RowId::new(control_id),
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

    /// The one way evidence enters the program. Checks the dates against `today` (none in the
    /// future, a period in order, an undated item attests to today), the title, the media type,
    /// the controls and requirements, the size and the version it supersedes; then stores the
    /// file in the vault and records the item (and the supersession) in one transaction with
    /// its audit-log entry. The blob is durable before the record exists, so a recorded item
    /// always has its bytes.
    /// The controls `wanted` names, read one by one: a write on a large program must not read
    /// every control.
    async fn named_controls(&self, wanted: &[LinkTo]) -> Result<Vec<evident_core::Control>, StoreError> {
        let mut named = Vec::new();
        for l in wanted {
            named.extend(self.stored_control(l.control.trim()).await?);
        }
        Ok(named)
    }

    pub async fn add_evidence(&self, new: NewEvidence<'_>, today: time::Date) -> Result<EvidenceItem, EvidenceError> {
        let item = self.prepare_evidence(new, today).await?;
        self.record_evidence_grouped(item.clone()).await?;
        Ok(item)
    }

    /// Everything [`Self::add_evidence`] does before its transaction: the checks, and the
    /// file stored in the vault. Nothing is recorded until [`Self::record_evidence_in`] runs in
    /// the caller's transaction, so a record and the evidence it rests on commit together; a
    /// blob whose record never commits is unreferenced, never a record without bytes.
    pub(crate) async fn prepare_evidence(
        &self,
        new: NewEvidence<'_>,
        today: time::Date,
    ) -> Result<EvidenceItem, EvidenceError> {
        let (effective_date, period) =
            evident_core::attestation::attestation(new.effective_date.as_deref(), new.period.as_deref(), today)
                .map_err(|e| field(e.field, e.reason))?;
        crate::error::storable("source", &new.source_ref)?;
        let old = match new.supersedes.as_deref() {
            Some(id) => {
                let old = self.evidence_item(id).await?;
                old.check_supersedable().map_err(StoreError::Conflict)?;
                Some(old)
            }
            None => None,
        };
        let file_name = clean_file_name(&match &new.file {
            EvidenceFile::Path(path) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            EvidenceFile::Received { name, .. } => name.clone(),
        });
        let title = match new.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => t.to_string(),
            None => old
                .as_ref()
                .map(|o| o.title.clone())
                .unwrap_or_else(|| file_name.clone()),
        };
        evident_core::text::storable(&title).map_err(|e| field("title", e.to_string()))?;
        if title.chars().count() > 300 {
            return Err(field("title", "longer than 300 characters").into());
        }
        let media_type = match new.media_type.as_deref() {
            Some(m) => evident_core::evidence::parse_media_type(m).map_err(|e| field("media_type", e))?,
            None => evident_core::evidence::media_type_of(&file_name),
        };
        let wanted: Vec<LinkTo> = match (&old, new.controls.is_empty()) {
            (Some(old), true) => old
                .controls
                .iter()
                .map(|l| LinkTo {
                    control: l.control.clone(),
                    requirement: l.requirement.clone(),
                })
                .collect(),
            (None, true) => return Err(field("controls", "name at least one control the item is evidence for").into()),
            (_, false) => new.controls,
        };
        let links = resolve_links(&self.named_controls(&wanted).await?, wanted)?;
        let size = match &new.file {
            EvidenceFile::Path(path) => {
                let meta = std::fs::metadata(path).map_err(|e| field("file", format!("{}: {e}", path.display())))?;
                if meta.is_dir() {
                    return Err(field("file", format!("{} is a directory; give a file", path.display())).into());
                }
                if !meta.is_file() {
                    return Err(field("file", format!("{} is not a regular file", path.display())).into());
                }
                std::fs::File::open(path).map_err(|e| field("file", format!("{}: {e}", path.display())))?;
                meta.len()
            }
            EvidenceFile::Received { file, .. } => file.metadata().map_err(StoreError::io(&file_name))?.len(),
        };
        if size == 0 {
            return Err(field("file", format!("{file_name} is empty")).into());
        }
        if size > self.vault.max_bytes {
            return Err(field(
                "file",
                format!(
                    "{file_name} is {size} bytes, over the limit of {} bytes (max_evidence_bytes)",
                    self.vault.max_bytes
                ),
            )
            .into());
        }
        let StoredBlob { sha256, size, .. } = match new.file {
            EvidenceFile::Path(path) => self.vault.put_file(path).await?,
            EvidenceFile::Received { file, .. } => self.vault.put_open_file(file, Path::new(&file_name)).await?,
        };
        let now = now_ms();
        let supersedes = old.map(|o| o.id);
        let item = EvidenceItem {
            id: ulid::Ulid::new().to_string(),
            title,
            sha256,
            size: size as i64,
            media_type,
            file_name,
            source_kind: new.source_kind,
            source_ref: new.source_ref,
            captured_at: now,
            effective_date,
            period_from: period.as_ref().map(|p| p.0.clone()),
            period_to: period.as_ref().map(|p| p.1.clone()),
            supersedes: supersedes.clone(),
            superseded_by: None,
            created_by: self.actor.clone(),
            controls: links,
            withdrawn: None,
        };
        Ok(item)
    }

    /// Records a prepared item, its links and its audit-log entry in `tx`.
    pub(crate) async fn record_evidence_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        item: &EvidenceItem,
    ) -> Result<(), StoreError> {
        let now = item.captured_at;
        let supersedes = item.supersedes.as_deref();
        if let Some(old) = supersedes {
            self.check_supersedable(tx, old).await?;
        }
        sqlx::query(INSERT_BLOB)
            .bind(&item.sha256)
            .bind(item.size)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::from)?;
        sqlx::query(INSERT_EVIDENCE)
            .bind(&item.id)
            .bind(&item.title)
            .bind(&item.sha256)
            .bind(item.size)
            .bind(&item.media_type)
            .bind(&item.file_name)
            .bind(item.source_kind.as_str())
            .bind(&item.source_ref)
            .bind(item.captured_at)
            .bind(&item.effective_date)
            .bind(&item.period_from)
            .bind(&item.period_to)
            .bind(&item.supersedes)
            .bind(&item.created_by)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::from)?;
        for link in &item.controls {
            sqlx::query(INSERT_LINK)
                .bind(&item.id)
                .bind(link.control_id.as_str())
                .bind(&link.requirement)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::from)?;
        }
        let action = if supersedes.is_some() {
            "evidence.supersede"
        } else {
            "evidence.add"
        };
        self.log(
            tx,
            action,
            &format!("evidence:{}", item.id),
            crate::evidence::payload(item),
        )
        .await?;
        Ok(())
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
        item_from_row(&row)?
            .check_supersedable()
            .map_err(StoreError::Conflict)?;
        Ok(())
    }

    /// Moves an item to other controls or requirements without withdrawing it or touching its
    /// bytes: a new version of the record over the same blob, with the new links, superseding
    /// the old one (so every earlier pack and audit-log entry still verifies), and an entry that
    /// says why. The item keeps the day it attests to, so a move never makes it look fresher.
    pub async fn relink_evidence(
        &self,
        id: &str,
        wanted: Vec<LinkTo>,
        reason: &str,
    ) -> Result<EvidenceItem, StoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(field("reason", "say why the item is relinked"));
        }
        crate::error::storable("reason", reason)?;
        let old = self.evidence_item(id).await?;
        old.check_supersedable().map_err(StoreError::Conflict)?;
        let links = resolve_links(&self.named_controls(&wanted).await?, wanted)?;
        let (before, after) = (links_payload(&old.controls), links_payload(&links));
        if before == after {
            return Err(field(
                "controls",
                "the item is already linked exactly so; nothing was changed",
            ));
        }
        let effective_date = match (&old.effective_date, &old.period_to) {
            (None, None) => Some(evident_core::format_date(old.attests_to())),
            (e, _) => e.clone(),
        };
        let item = EvidenceItem {
            id: ulid::Ulid::new().to_string(),
            captured_at: now_ms(),
            effective_date,
            supersedes: Some(old.id.clone()),
            superseded_by: None,
            created_by: self.actor.clone(),
            controls: links,
            withdrawn: None,
            ..old.clone()
        };
        let mut tx = self.begin_write().await?;
        // Checks again under the writer's lock: a withdrawal or new version since the read wins.
        self.record_evidence_in(&mut tx, &item).await?;
        let payload = json!({
            "evidence_id": item.id,
            "supersedes": old.id,
            "from": before,
            "controls": after,
            "reason": reason,
        });
        self.log(&mut tx, "evidence.relink", &format!("evidence:{}", item.id), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(item)
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
                by: self.actor.clone(),
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
    // "actor" is the key entries have always carried; verify recomputes it.
    json!({"evidence_id": id, "reason": w.reason, "actor": w.by, "at": w.at})
}
