//! The scope API.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;

use crate::state::AppState;
use crate::web::api::ApiResult;

pub async fn scope(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.ws.scope().await?.to_json()).into_response())
}

/// `GET /api/v1/oscal/{kind}`: one OSCAL document of the program, as `evident oscal export`
/// writes it; an unknown kind is not found.
pub async fn oscal(State(state): State<AppState>, Path(kind): Path<String>) -> ApiResult {
    let (_, doc) = crate::frameworks::oscal_document(&state, &kind).await?;
    Ok(Json(doc).into_response())
}
