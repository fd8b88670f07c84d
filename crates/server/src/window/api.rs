//! The window API: the whole window as JSON, and management's responses to exceptions.

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
use crate::web::api::{ApiResult, period_param};

/// `GET /api/v1/window`: as of `as_of`, for `period`, judged with `tolerable_rate` and
/// `pervasive_share` when given.
pub async fn window(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let snap = state.snapshot().await?;
    let w = super::requested(&state, &snap, &q)
        .await?
        .ok_or(evident_store::StoreError::NoScope)
        .map_err(ServerError::from)?;
    Ok(Json(&*w).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    text: String,
    /// START..END of an earlier period; the scope's own when absent.
    #[serde(default)]
    period: Option<String>,
}

/// `POST /api/v1/window/exceptions/{id}/responses`.
pub async fn respond(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ResponseRequest>,
) -> ApiResult {
    let period = period_param(body.period.as_deref().filter(|p| !p.trim().is_empty()))?;
    let today = time::OffsetDateTime::now_utc().date();
    let r = state
        .ws
        .as_actor(&access.user.email)
        .respond_to_exception(period, &id, &body.text, today)
        .await
        .map_err(|e| match e {
            evident_store::StoreError::Field {
                field: "response",
                reason,
            } => ServerError::invalid("text", reason),
            // The id names what the response is about: an unknown one is bad input, named.
            evident_store::StoreError::NotFound { kind, id } => {
                ServerError::invalid("id", format!("unknown {kind} '{id}' in this period"))
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(json!({"exception": id, "response": r}))).into_response())
}
