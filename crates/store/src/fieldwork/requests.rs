//! The request list: imported or typed in, answered with evidence, accepted or returned, with a
//! thread of comments; every step audit-logged.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::access::Role;
use evident_core::fieldwork::requests::{
    RawRequest, RequestDraft, RequestStatus, RequestStep, check_request, next_status, read_list,
};
use evident_core::fieldwork::{Act, CommentView, EngagementView, Known, LinkedEvidence, RequestView, check_text};
use evident_core::format_date;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::engagements::ensure_open;
use super::{allow, field, instant};
use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const SELECT: &str = "SELECT id, engagement_id, reference, body, criteria, controls, due_date, assignee, status, \
     extra FROM requests WHERE engagement_id = $1 ORDER BY ref_key";
const SELECT_ONE: &str = "SELECT engagement_id FROM requests WHERE id = $1";
const SELECT_LINKS: &str = "SELECT l.request_id, e.id, e.title, e.effective_date, e.period_from, e.period_to \
     FROM request_evidence l JOIN requests r ON r.id = l.request_id JOIN evidence e ON e.id = l.evidence_id \
     WHERE r.engagement_id = $1 ORDER BY l.linked_at, e.id";
const SELECT_THREAD: &str = "SELECT c.request_id, c.step, c.body, c.author, c.created_at FROM request_comments c \
     JOIN requests r ON r.id = c.request_id WHERE r.engagement_id = $1 ORDER BY c.created_at, c.id";
const SELECT_REFS: &str = "SELECT id, ref_key FROM requests WHERE engagement_id = $1";
const SELECT_BY_REF: &str = "SELECT id FROM requests WHERE engagement_id = $1 AND ref_key = $2";
const INSERT: &str = "INSERT INTO requests (id, engagement_id, reference, ref_key, body, criteria, controls, due_date, \
     assignee, status, extra, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $11)";
const UPDATE: &str = "UPDATE requests SET reference = $1, body = $2, criteria = $3, controls = $4, due_date = $5, \
     assignee = COALESCE($6, assignee), extra = $7, updated_at = $8 WHERE id = $9";
const SET_STATUS: &str = "UPDATE requests SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4";
const SET_ASSIGNEE: &str = "UPDATE requests SET assignee = $1, updated_at = $2 WHERE id = $3";
const LINK: &str = "INSERT INTO request_evidence (request_id, evidence_id, linked_at, linked_by) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (request_id, evidence_id) DO NOTHING";
const COMMENT: &str =
    "INSERT INTO request_comments (id, request_id, step, body, author, created_at) VALUES ($1, $2, $3, $4, $5, $6)";

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    /// Due on or before this day (`YYYY-MM-DD`).
    pub due_by: Option<String>,
    /// Only those assigned to the caller or about controls the caller owns.
    pub mine: bool,
}

impl RequestFilter {
    /// Whether a request passes the status and due-date parts (`mine` needs the caller's
    /// controls and is the store's to apply).
    pub fn keeps(&self, r: &RequestView) -> bool {
        self.status.is_none_or(|s| s == r.status)
            && self
                .due_by
                .as_deref()
                .is_none_or(|by| r.due.as_deref().is_some_and(|d| d <= by))
    }
}

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn base_view(r: &AnyRow, today: &str) -> Result<RequestView, StoreError> {
    let status: String = r.try_get("status")?;
    let status =
        RequestStatus::parse(&status).map_err(|_| StoreError::Invalid(format!("stored request status '{status}'")))?;
    let due: Option<String> = r.try_get("due_date")?;
    Ok(RequestView {
        id: r.try_get("id")?,
        engagement: r.try_get("engagement_id")?,
        reference: r.try_get("reference")?,
        body: r.try_get("body")?,
        criteria: list(&r.try_get::<String, _>("criteria")?),
        controls: list(&r.try_get::<String, _>("controls")?),
        overdue: due.as_deref().is_some_and(|d| d < today)
            && matches!(status, RequestStatus::Open | RequestStatus::Returned),
        due,
        assignee: r.try_get("assignee")?,
        status,
        extra: serde_json::from_str(&r.try_get::<String, _>("extra")?).unwrap_or_default(),
        evidence: Vec::new(),
        thread: Vec::new(),
    })
}

impl Workspace {
    /// What a request list may name: the framework's criteria, adopted controls, users.
    async fn request_known(&self) -> Result<Known, StoreError> {
        let catalog = evident_catalog::Catalog::builtin();
        Ok(Known {
            criteria: catalog.framework.criteria.iter().map(|c| c.id.clone()).collect(),
            controls: self.control_facts().await?.into_iter().map(|c| c.code).collect(),
            users: self
                .users()
                .await?
                .into_iter()
                .map(|u| u.email.to_lowercase())
                .collect(),
        })
    }

    /// Controls the caller owns (for a control owner's view of requests).
    async fn owned_controls(&self) -> Result<BTreeSet<String>, StoreError> {
        Ok(self
            .control_facts()
            .await?
            .into_iter()
            .filter(|c| c.owner.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(&self.actor)))
            .map(|c| c.code)
            .collect())
    }

    /// The requests of an engagement the caller may see, with their evidence and threads.
    pub async fn requests(
        &self,
        role: Role,
        engagement: &str,
        filter: &RequestFilter,
        today: time::Date,
    ) -> Result<Vec<RequestView>, StoreError> {
        let e = self.engagement(role, engagement).await?;
        self.engagement_requests(role, &e, filter, None, today).await
    }

    /// The requests of an engagement already found visible (only the one with id `only`, when
    /// given), as the caller may see them.
    async fn engagement_requests(
        &self,
        role: Role,
        e: &EngagementView,
        filter: &RequestFilter,
        only: Option<&str>,
        today: time::Date,
    ) -> Result<Vec<RequestView>, StoreError> {
        let today_s = format_date(today);
        let owned = if role == Role::ControlOwner || filter.mine {
            Some(self.owned_controls().await?)
        } else {
            None
        };
        let period = (e.period_start.as_str(), e.period_end.as_str());
        let mut links: BTreeMap<String, Vec<LinkedEvidence>> = BTreeMap::new();
        for r in sqlx::query(SELECT_LINKS).bind(&e.id).fetch_all(&self.db.pool).await? {
            let from: Option<String> = r.try_get("period_from")?;
            let to: Option<String> = r.try_get("period_to")?;
            let day: Option<String> = r.try_get("effective_date")?;
            links
                .entry(r.try_get("request_id")?)
                .or_default()
                .push(LinkedEvidence::new(
                    r.try_get("id")?,
                    r.try_get("title")?,
                    (from.as_deref(), to.as_deref(), day.as_deref()),
                    period,
                ));
        }
        let mut threads: BTreeMap<String, Vec<CommentView>> = BTreeMap::new();
        for r in sqlx::query(SELECT_THREAD).bind(&e.id).fetch_all(&self.db.pool).await? {
            threads.entry(r.try_get("request_id")?).or_default().push(CommentView {
                step: r.try_get("step")?,
                body: r.try_get("body")?,
                author: r.try_get("author")?,
                at: instant(r.try_get("created_at")?),
            });
        }
        let mut out = Vec::new();
        for r in sqlx::query(SELECT).bind(&e.id).fetch_all(&self.db.pool).await? {
            if only.is_some_and(|id| r.try_get::<String, _>("id").is_ok_and(|r| r != id)) {
                continue;
            }
            let mut v = base_view(&r, &today_s)?;
            if let Some(owned) = &owned {
                let assigned = v
                    .assignee
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&self.actor));
                if !assigned && !v.controls.iter().any(|c| owned.contains(c)) {
                    continue;
                }
            }
            if !filter.keeps(&v) {
                continue;
            }
            v.evidence = links.remove(&v.id).unwrap_or_default();
            v.thread = threads.remove(&v.id).unwrap_or_default();
            out.push(v);
        }
        Ok(out)
    }

    /// One request the caller may see, with its engagement.
    pub async fn request(
        &self,
        role: Role,
        id: &str,
        today: time::Date,
    ) -> Result<(EngagementView, RequestView), StoreError> {
        let not_found = || StoreError::NotFound {
            kind: "request",
            id: id.to_string(),
        };
        let engagement: String = sqlx::query(SELECT_ONE)
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(not_found)?
            .try_get("engagement_id")?;
        let e = self.engagement(role, &engagement).await.map_err(|_| not_found())?;
        let r = self
            .engagement_requests(role, &e, &RequestFilter::default(), Some(id), today)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(not_found)?;
        Ok((e, r))
    }

    /// Imports a firm's request list into an engagement: new references are added, known ones
    /// updated (text, references, due date, extra columns; status and thread kept). Any bad row
    /// refuses the whole list, naming the file, row and field of each.
    pub async fn import_requests(
        &self,
        role: Role,
        engagement: &str,
        source: &str,
        rows: &[Vec<String>],
    ) -> Result<(usize, usize), StoreError> {
        allow(role, Act::AddRequests)?;
        let e = self.open_engagement(role, engagement).await?;
        let drafts = read_list(rows, &self.request_known().await?).map_err(|errors| {
            let shown: Vec<String> = errors
                .iter()
                .take(50)
                .map(|er| format!("{source}: row {}, {}: {}", er.row, er.field, er.reason))
                .collect();
            let more = errors.len().saturating_sub(50);
            StoreError::Invalid(format!(
                "{}{}\nnothing was imported",
                shown.join("\n"),
                if more > 0 {
                    format!("\n… and {more} more")
                } else {
                    String::new()
                }
            ))
        })?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let (mut added, mut updated) = (0, 0);
        // Read inside the write lock, once: which references the engagement already holds.
        let mut existing: BTreeMap<String, String> = BTreeMap::new();
        for r in sqlx::query(SELECT_REFS).bind(&e.id).fetch_all(&mut *tx).await? {
            existing.insert(r.try_get("ref_key")?, r.try_get("id")?);
        }
        for d in &drafts {
            match existing.get(&d.reference.to_lowercase()) {
                Some(id) => {
                    sqlx::query(UPDATE)
                        .bind(&d.reference)
                        .bind(&d.body)
                        .bind(json!(d.criteria).to_string())
                        .bind(json!(d.controls).to_string())
                        .bind(&d.due)
                        .bind(&d.assignee)
                        .bind(json!(d.extra).to_string())
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    updated += 1;
                }
                None => {
                    insert(&mut tx, &e.id, d, now).await?;
                    added += 1;
                }
            }
        }
        self.commit_logged(
            tx,
            "requests.import",
            &format!("engagement:{}", e.id),
            json!({"source": source, "added": added, "updated": updated, "requests": drafts}),
        )
        .await?;
        Ok((added, updated))
    }

    /// Adds one request typed in by hand.
    pub async fn add_request(
        &self,
        role: Role,
        engagement: &str,
        mut draft: RequestDraft,
        today: time::Date,
    ) -> Result<RequestView, StoreError> {
        allow(role, Act::AddRequests)?;
        let e = self.open_engagement(role, engagement).await?;
        // The same rule as a row of an imported list.
        let criteria = draft.criteria.join(" ");
        let controls = draft.controls.join(" ");
        let raw = RawRequest {
            reference: &draft.reference,
            body: &draft.body,
            criteria: &criteria,
            controls: &controls,
            due: draft.due.as_deref().unwrap_or(""),
            assignee: draft.assignee.as_deref().unwrap_or(""),
        };
        let (mut checked, refused) = check_request(&raw, &self.request_known().await?);
        if let Some((field, reason)) = refused.into_iter().next() {
            return Err(StoreError::Invalid(format!("{field}: {reason}")));
        }
        checked.extra = std::mem::take(&mut draft.extra);
        let draft = checked;
        let key = draft.reference.to_lowercase();
        let mut tx = self.begin_write().await?;
        if sqlx::query(SELECT_BY_REF)
            .bind(&e.id)
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "request '{}' already exists in engagement '{}'",
                draft.reference, e.name
            )));
        }
        let id = insert(&mut tx, &e.id, &draft, now_ms()).await?;
        self.commit_logged(
            tx,
            "requests.add",
            &format!("request:{id}"),
            json!({"engagement": e.id, "request": draft}),
        )
        .await?;
        Ok(self.request(role, &id, today).await?.1)
    }

    /// Assigns a request to a user (or clears it).
    pub async fn assign_request(
        &self,
        role: Role,
        id: &str,
        email: Option<&str>,
        today: time::Date,
    ) -> Result<RequestView, StoreError> {
        allow(role, Act::Manage)?;
        let (e, r) = self.request(role, id, today).await?;
        ensure_open(&e)?;
        let email = match email {
            Some(m) => Some(self.user(m).await?.email.to_lowercase()),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_ASSIGNEE)
            .bind(&email)
            .bind(now_ms())
            .bind(&r.id)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "requests.assign",
            &format!("request:{}", r.id),
            json!({"assignee": email}),
        )
        .await?;
        Ok(self.request(role, id, today).await?.1)
    }

    /// Links an evidence item to a request (the team answering it).
    pub async fn link_request_evidence(
        &self,
        role: Role,
        id: &str,
        evidence: &str,
        today: time::Date,
    ) -> Result<RequestView, StoreError> {
        allow(role, Act::Answer)?;
        let (e, r) = self.request(role, id, today).await?;
        ensure_open(&e)?;
        if r.status == RequestStatus::Accepted {
            return Err(StoreError::Conflict(format!(
                "request '{}' is already accepted",
                r.reference
            )));
        }
        let item = self.evidence_item(evidence).await?;
        if item.withdrawn.is_some() {
            return Err(StoreError::Conflict(format!("evidence {} was withdrawn", item.id)));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(LINK)
            .bind(&r.id)
            .bind(&item.id)
            .bind(now_ms())
            .bind(&self.actor)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "requests.evidence.link",
            &format!("request:{}", r.id),
            json!({"evidence": item.id, "sha256": item.sha256}),
        )
        .await?;
        Ok(self.request(role, id, today).await?.1)
    }

    /// Submits, accepts or returns a request; the comment goes on its thread.
    pub async fn request_step(
        &self,
        role: Role,
        id: &str,
        step: RequestStep,
        comment: &str,
        today: time::Date,
    ) -> Result<RequestView, StoreError> {
        allow(role, if step.by_auditor() { Act::Review } else { Act::Answer })?;
        let comment = check_text("comment", comment, false).map_err(field)?;
        let (e, r) = self.request(role, id, today).await?;
        ensure_open(&e)?;
        let to = next_status(r.status, step, &comment, r.evidence.len()).map_err(field)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // Guarded by the status read, so two reviewers racing cannot both move it.
        let moved = sqlx::query(SET_STATUS)
            .bind(to.as_str())
            .bind(now)
            .bind(&r.id)
            .bind(r.status.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved != 1 {
            return Err(StoreError::Conflict(format!(
                "request '{}' changed while you were looking at it; reload it",
                r.reference
            )));
        }
        sqlx::query(COMMENT)
            .bind(ulid::Ulid::new().to_string())
            .bind(&r.id)
            .bind(step.as_str())
            .bind(&comment)
            .bind(&self.actor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            &format!("requests.{}", step.as_str()),
            &format!("request:{}", r.id),
            json!({"from": r.status.as_str(), "to": to.as_str(), "comment": comment,
                   "evidence": r.evidence.iter().map(|e| e.id.clone()).collect::<Vec<_>>()}),
        )
        .await?;
        Ok(self.request(role, id, today).await?.1)
    }

    /// Adds a comment to a request's thread.
    pub async fn comment_request(
        &self,
        role: Role,
        id: &str,
        body: &str,
        today: time::Date,
    ) -> Result<RequestView, StoreError> {
        allow(role, Act::Comment)?;
        let body = check_text("comment", body, true).map_err(field)?;
        let (e, r) = self.request(role, id, today).await?;
        ensure_open(&e)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(COMMENT)
            .bind(ulid::Ulid::new().to_string())
            .bind(&r.id)
            .bind(None::<String>)
            .bind(&body)
            .bind(&self.actor)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "requests.comment",
            &format!("request:{}", r.id),
            json!({"comment": body}),
        )
        .await?;
        Ok(self.request(role, id, today).await?.1)
    }
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    engagement: &str,
    d: &RequestDraft,
    now: i64,
) -> Result<String, StoreError> {
    let id = ulid::Ulid::new().to_string();
    sqlx::query(INSERT)
        .bind(&id)
        .bind(engagement)
        .bind(&d.reference)
        .bind(d.reference.to_lowercase())
        .bind(&d.body)
        .bind(json!(d.criteria).to_string())
        .bind(json!(d.controls).to_string())
        .bind(&d.due)
        .bind(&d.assignee)
        .bind(json!(d.extra).to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}
