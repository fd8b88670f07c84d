//! The checks API: listing, one check with its failures, exclusions.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};

use crate::web::name_of;

pub async fn checks(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &super::CHECK_COLUMNS,
        &super::check_rows(&snap),
        q,
        vec![("status", "Status")],
    )
}

pub async fn check(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let snap = state.snapshot().await?;
    let r = snap
        .assessment
        .as_ref()
        .and_then(|a| a.checks.get(&id))
        .ok_or(ServerError::NotFound)?;
    Ok(Json(json!({
        "id": r.id, "title": r.title, "status": name_of(r.status), "passed": r.passed, "failed": r.failed, "excluded": r.excluded,
        "failures": r.failures.iter().map(|f| json!({"record": f.record, "reason": f.reason})).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct ExclusionRequest {
    record: String,
    reason: String,
    owner: String,
    expires: String,
}

pub async fn exclude(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ExclusionRequest>,
) -> ApiResult {
    let e = super::exclusion_of(&state, &id, &body.record, &body.reason, &body.owner, &body.expires)
        .await?
        .map_err(|(field, reason)| ServerError::invalid(field, reason))?;
    state
        .ws
        .as_actor(&access.user.email)
        .add_exclusion(&e)
        .await
        .map_err(ServerError::store_as("record"))?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"check": e.check, "record": e.record, "reason": e.reason, "owner": e.owner,
        "expires": evident_core::format_date(e.expires)}),
        ),
    )
        .into_response())
}
