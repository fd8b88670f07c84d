//! The access reviews API. Each handler acts as the caller, so the store's rules decide: a
//! reviewer reaches only their own items, managing campaigns is for those who reach the area.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use evident_core::access_review::{CampaignDraft, Coverage, DecisionInput, ReviewerRule};
use serde::Deserialize;

use super::{render, today, ws};
use crate::ServerError;
use crate::access::Access;
use crate::fieldwork::off_thread;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::ApiResult;

fn ok<T: serde::Serialize>(v: T) -> ApiResult {
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    name: String,
    #[serde(default)]
    systems: Vec<String>,
    #[serde(default)]
    coverage: Option<String>,
    #[serde(default)]
    reviewers: Option<String>,
    #[serde(default)]
    reviewer: Option<String>,
    due: String,
}

/// A campaign as asked for by a form or a JSON body, checked field by field.
pub fn draft(
    name: &str,
    systems: Vec<String>,
    coverage: Option<&str>,
    rule: Option<&str>,
    reviewer: Option<&str>,
    due: &str,
) -> Result<CampaignDraft, ServerError> {
    let coverage = match coverage.filter(|c| !c.is_empty()) {
        Some(c) => Coverage::parse(c).map_err(|e| ServerError::invalid("coverage", e.to_string()))?,
        None => Coverage::All,
    };
    let rule = match rule.filter(|r| !r.is_empty()) {
        Some(r) => ReviewerRule::parse(r).map_err(|e| ServerError::invalid("reviewers", e.to_string()))?,
        None => ReviewerRule::Manager,
    };
    let due = evident_core::parse_date(due.trim()).map_err(|e| ServerError::invalid("due", e.to_string()))?;
    Ok(CampaignDraft {
        name: name.trim().to_string(),
        systems: systems
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        coverage,
        rule,
        named: reviewer.map(str::trim).filter(|r| !r.is_empty()).map(String::from),
        due,
    })
}

/// `GET /api/v1/access-reviews`.
pub async fn campaigns(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    ok(ws(&state, &access).campaigns(access.role(), today()).await?)
}

/// `POST /api/v1/access-reviews`.
pub async fn start(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(b): JsonBody<CampaignRequest>,
) -> ApiResult {
    let d = draft(
        &b.name,
        b.systems,
        b.coverage.as_deref(),
        b.reviewers.as_deref(),
        b.reviewer.as_deref(),
        &b.due,
    )?;
    let (w, role) = (ws(&state, &access), access.role());
    let c = off_thread(move |h| h.block_on(w.start_campaign(role, &d, today()))).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// `GET /api/v1/access-reviews/{id}`.
pub async fn campaign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).campaign(access.role(), &id, today()).await?)
}

/// `GET /api/v1/access-reviews/{id}/items`: every item for those who read the whole area,
/// otherwise the caller's own.
pub async fn items(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).campaign_items(access.role(), &id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[serde(default)]
    anyway: bool,
}

/// `POST /api/v1/access-reviews/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CloseRequest>,
) -> ApiResult {
    let (w, role) = (ws(&state, &access), access.role());
    ok(off_thread(move |h| h.block_on(w.close_campaign(role, &id, b.anyway, today(), &render))).await?)
}

/// `GET /api/v1/access-reviews/schedule`.
pub async fn schedule(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    ok(ws(&state, &access).review_schedule(today()).await?)
}

/// `GET /api/v1/access-reviews/inbox`.
pub async fn inbox(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let (limit, offset) = super::inbox_window(&q)?;
    ok(ws(&state, &access).inbox(today(), limit, offset).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepRequest {
    /// Items to keep; empty: every undecided item the last campaign kept at the same level.
    #[serde(default)]
    items: Vec<String>,
}

/// `POST /api/v1/access-reviews/inbox/keep`.
pub async fn keep(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(b): JsonBody<KeepRequest>,
) -> ApiResult {
    let kept = ws(&state, &access)
        .keep_unchanged(access.role(), &b.items, today())
        .await?;
    ok(serde_json::json!({ "kept": kept }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    change: String,
}

/// `POST /api/v1/review-items/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionRequest>,
) -> ApiResult {
    let input = DecisionInput {
        decision: b.decision,
        reason: b.reason,
        change: b.change,
    };
    ok(ws(&state, &access).decide(access.role(), &id, &input, today()).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    reviewer: String,
}

/// `PUT /api/v1/review-items/{id}/reviewer`.
pub async fn reassign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ReassignRequest>,
) -> ApiResult {
    ok(ws(&state, &access).reassign(access.role(), &id, &b.reviewer).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    note: String,
}

/// `POST /api/v1/review-items/{id}/confirmation`.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ConfirmRequest>,
) -> ApiResult {
    ok(ws(&state, &access)
        .confirm_revocation(access.role(), &id, &b.note)
        .await?)
}
