//! The fieldwork API. Each handler acts as the caller (`as_actor`) with the caller's role, so
//! the store's rules decide: an auditor reaches only engagements they are bound to, a control
//! owner only requests assigned to them or about their controls.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use evident_catalog::PopulationKind;
use evident_core::fieldwork::TestResult;
use evident_core::fieldwork::requests::{RequestDraft, RequestStep};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::{ApiResult, period_param};

use super::{off_thread, today, ws};

fn created<T: serde::Serialize>(v: T) -> ApiResult {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn ok<T: serde::Serialize>(v: T) -> ApiResult {
    Ok(Json(v).into_response())
}

/// `GET /api/v1/engagements`.
pub async fn engagements(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    ok(ws(&state, &access).engagements(access.role()).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementRequest {
    name: String,
    firm: String,
    /// START..END of a report period the scope named; the current one when absent.
    #[serde(default)]
    period: Option<String>,
}

/// `POST /api/v1/engagements`.
pub async fn create_engagement(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<EngagementRequest>,
) -> ApiResult {
    let period = period_param(body.period.as_deref().filter(|p| !p.trim().is_empty()))?;
    created(
        ws(&state, &access)
            .create_engagement(access.role(), &body.name, &body.firm, period)
            .await?,
    )
}

/// `GET /api/v1/engagements/{id}`.
pub async fn engagement(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).engagement(access.role(), &id).await?)
}

/// `GET /api/v1/engagements/{id}/requests?status=&due_by=&mine=`.
pub async fn requests(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let filter = super::request_filter(&q)?;
    ok(ws(&state, &access)
        .requests(access.role(), &id, &filter, today())
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    reference: String,
    request: String,
    #[serde(default)]
    criteria: Vec<String>,
    #[serde(default)]
    controls: Vec<String>,
    #[serde(default)]
    due: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
}

/// `POST /api/v1/engagements/{id}/requests`.
pub async fn add_request(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewRequest>,
) -> ApiResult {
    let draft = RequestDraft {
        reference: body.reference,
        body: body.request,
        criteria: body.criteria,
        controls: body.controls,
        due: body.due.filter(|d| !d.trim().is_empty()),
        assignee: body.assignee.filter(|a| !a.trim().is_empty()),
        extra: Default::default(),
    };
    created(
        ws(&state, &access)
            .add_request(access.role(), &id, draft, today())
            .await?,
    )
}

/// `GET /api/v1/requests/{id}`.
pub async fn request(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).request(access.role(), &id, today()).await?.1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// `submit`, `accept` or `return`.
    step: String,
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/requests/{id}/steps`.
pub async fn step(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepRequest>,
) -> ApiResult {
    let step = RequestStep::parse(&body.step).map_err(|e| ServerError::invalid("step", e.to_string()))?;
    ok(ws(&state, &access)
        .request_step(access.role(), &id, step, &body.comment, today())
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    text: String,
}

/// `POST /api/v1/requests/{id}/comments`.
pub async fn comment(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommentRequest>,
) -> ApiResult {
    ok(ws(&state, &access)
        .comment_request(access.role(), &id, &body.text, today())
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    evidence: String,
}

/// `POST /api/v1/requests/{id}/evidence`.
pub async fn link(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LinkRequest>,
) -> ApiResult {
    ok(ws(&state, &access)
        .link_request_evidence(access.role(), &id, &body.evidence, today())
        .await?)
}

/// `GET /api/v1/engagements/{id}/populations`.
pub async fn populations(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).population_runs(access.role(), Some(&id)).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationRequest {
    kind: String,
}

/// `POST /api/v1/engagements/{id}/populations`.
pub async fn run_population(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PopulationRequest>,
) -> ApiResult {
    let kind = PopulationKind::parse(&body.kind).map_err(|e| ServerError::invalid("kind", e.to_string()))?;
    created(
        ws(&state, &access)
            .run_population(access.role(), Some(&id), kind, None, today())
            .await?,
    )
}

/// `GET /api/v1/engagements/{id}/samples`.
pub async fn samples(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).samples(access.role(), &id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    control: String,
    /// The population run to draw from.
    population: String,
    seed: String,
    #[serde(default)]
    size: Option<usize>,
}

/// `POST /api/v1/engagements/{id}/samples`.
pub async fn draw(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SampleRequest>,
) -> ApiResult {
    let (ws, role) = (ws(&state, &access), access.role());
    created(
        off_thread(move |h| {
            h.block_on(ws.draw_sample(role, &id, &body.control, &body.population, &body.seed, body.size))
        })
        .await?,
    )
}

/// `GET /api/v1/samples/{id}`.
pub async fn sample(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    ok(ws(&state, &access).sample(access.role(), &id).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    more: usize,
}

/// `POST /api/v1/samples/{id}/extension`.
pub async fn extend(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ExtendRequest>,
) -> ApiResult {
    let (ws, role) = (ws(&state, &access), access.role());
    ok(off_thread(move |h| h.block_on(ws.extend_sample(role, &id, body.more))).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultRequest {
    item: String,
    /// `no_exception` or `exception`.
    result: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/samples/{id}/results`.
pub async fn result(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ResultRequest>,
) -> ApiResult {
    let result = TestResult::parse(&body.result).map_err(|e| ServerError::invalid("result", e.to_string()))?;
    ok(ws(&state, &access)
        .record_result(access.role(), &id, &body.item, result, &body.note)
        .await?)
}

/// `GET /api/v1/samples/{id}/items/{item}/packet`.
pub async fn packet(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path((id, item)): Path<(String, String)>,
) -> ApiResult {
    let (ws, role) = (ws(&state, &access), access.role());
    ok(off_thread(move |h| h.block_on(ws.sample_packet(role, &id, &item))).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementChange {
    /// planned, fieldwork, reporting or closed (forward only).
    #[serde(default)]
    status: Option<String>,
    /// An auditor user's email to bind to the engagement.
    #[serde(default)]
    add_auditor: Option<String>,
    /// An auditor user's email to unbind.
    #[serde(default)]
    remove_auditor: Option<String>,
}

/// `PATCH /api/v1/engagements/{id}`: move the status forward, bind or unbind an auditor.
pub async fn change_engagement(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EngagementChange>,
) -> ApiResult {
    let ws = ws(&state, &access);
    let role = access.role();
    if body.status.is_none() && body.add_auditor.is_none() && body.remove_auditor.is_none() {
        return Err(ServerError::invalid(
            "status",
            "nothing to change: give status, add_auditor or remove_auditor",
        )
        .into());
    }
    let mut e = ws.engagement(role, &id).await?;
    if let Some(status) = &body.status {
        let status = evident_core::fieldwork::EngagementStatus::parse(status)
            .map_err(|er| ServerError::invalid("status", er.to_string()))?;
        e = ws.set_engagement_status(role, &e.id, status).await?;
    }
    if let Some(email) = &body.add_auditor {
        e = ws.bind_auditor(role, &e.id, email, true).await?;
    }
    if let Some(email) = &body.remove_auditor {
        e = ws.bind_auditor(role, &e.id, email, false).await?;
    }
    ok(e)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssigneeChange {
    /// The user who answers the request; null or empty to unassign. Required: a missing
    /// field is not taken as "unassign".
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
}

/// A field that is present, even as null (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `PUT /api/v1/requests/{id}/assignee`.
pub async fn assign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssigneeChange>,
) -> ApiResult {
    let who = body
        .assignee
        .ok_or_else(|| ServerError::invalid("assignee", "give the assignee's email, or null to unassign"))?;
    let who = who.as_deref().map(str::trim).filter(|a| !a.is_empty());
    ok(ws(&state, &access)
        .assign_request(access.role(), &id, who, today())
        .await?)
}

/// `PUT /api/v1/engagements/{id}/sizes`: the engagement's sample-size table, whole.
pub async fn set_sizes(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<evident_core::fieldwork::SizeTable>,
) -> ApiResult {
    ok(ws(&state, &access)
        .set_engagement_sizes(access.role(), &id, body)
        .await?)
}
