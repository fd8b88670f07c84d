//! The description API: the description with its approval, drift and assertion; narratives;
//! approval; the assertion's signature.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;

use crate::access::Access;
use crate::fieldwork::{today, ws};
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::ApiResult;

/// `GET /api/v1/description`.
pub async fn description(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.ws.description_state(today()).await?).into_response())
}

#[derive(Deserialize)]
pub struct NarrativeRequest {
    text: String,
}

/// `PUT /api/v1/description/narratives/{part}`: a new version of one narrative part.
pub async fn narrative(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(part): Path<String>,
    JsonBody(body): JsonBody<NarrativeRequest>,
) -> ApiResult {
    Ok(Json(ws(&state, &access).set_narrative(&part, &body.text).await?).into_response())
}

/// `GET /api/v1/description/narratives/{part}`: every version, newest first.
pub async fn history(State(state): State<AppState>, Path(part): Path<String>) -> ApiResult {
    // A part that does not exist is not found, like any other unknown address.
    if !evident_core::description::is_narrative(&part) {
        return Err(crate::ServerError::NotFound.into());
    }
    Ok(Json(state.ws.narrative_history(&part).await?).into_response())
}

/// `POST /api/v1/description/approvals`.
pub async fn approve(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    Ok(Json(ws(&state, &access).approve_description(today()).await?).into_response())
}

#[derive(Deserialize)]
pub struct AssertionRequest {
    name: String,
    title: String,
}

/// `POST /api/v1/description/assertion`: management signs over the approved description.
pub async fn sign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<AssertionRequest>,
) -> ApiResult {
    let signed = ws(&state, &access)
        .sign_assertion(today(), &body.name, &body.title)
        .await?;
    Ok(Json(signed).into_response())
}
