//! The policies API.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};

pub async fn policies(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let snap = state.snapshot().await?;
    let policies = &snap.program().policies;
    let counts = super::acceptance_counts(&state, policies).await?;
    listing(
        &super::COLUMNS,
        &super::rows(policies, &counts),
        q,
        vec![("status", "Status")],
    )
}

pub async fn policy(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(super::detail_json(&state, &id).await?).into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    let ws = state.ws.as_actor(&access.user.email);
    ws.approve_policy(&id).await?;
    Ok(Json(super::detail_json(&state, &id).await?).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    let ws = state.ws.as_actor(&access.user.email);
    ws.publish_policy(&id).await?;
    Ok(Json(super::detail_json(&state, &id).await?).into_response())
}

#[derive(Deserialize)]
pub struct PolicyEdit {
    title: Option<String>,
    source: Option<String>,
}

/// A new draft version with the given title and/or text.
pub async fn edit_policy(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PolicyEdit>,
) -> ApiResult {
    let title = body.title.as_deref().map(str::trim);
    for (field, text) in [("title", title), ("source", body.source.as_deref())] {
        if let Some(t) = text {
            evident_core::text::storable(t).map_err(|e| ServerError::invalid(field, e))?;
        }
    }
    if title.is_some_and(str::is_empty) {
        return Err(ServerError::invalid("title", "a policy needs a title").into());
    }
    if body.source.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(ServerError::invalid("source", "the text cannot be empty").into());
    }
    if title.is_none() && body.source.is_none() {
        return Err(ServerError::invalid("source", "give a new title or text").into());
    }
    let ws = state.ws.as_actor(&access.user.email);
    ws.edit_policy(&id, title, body.source.as_deref()).await?;
    Ok(Json(super::detail_json(&state, &id).await?).into_response())
}
