//! The scope API.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;

use crate::access::Access;
use crate::fieldwork::ws;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::ApiResult;

/// `PUT /api/v1/scope`: the shape `GET` answers with (type, categories, as_of or window).
#[derive(Deserialize)]
pub struct ScopeRequest {
    #[serde(rename = "type")]
    report_type: u8,
    categories: Vec<String>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    window: Option<WindowRequest>,
}

#[derive(Deserialize)]
pub struct WindowRequest {
    from: String,
    to: String,
}

/// Sets the report type, categories and period (the rule is the page's, `ScopeInput`).
pub async fn set(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<ScopeRequest>,
) -> ApiResult {
    let input = super::ScopeInput {
        report_type: body.report_type.to_string(),
        categories: body.categories,
        as_of: body.as_of.unwrap_or_default(),
        window_from: body.window.as_ref().map(|w| w.from.clone()).unwrap_or_default(),
        window_to: body.window.map(|w| w.to).unwrap_or_default(),
    };
    let w = ws(&state, &access);
    w.set_scope(&input.scope()?).await?;
    Ok(Json(w.scope().await?.to_json()).into_response())
}

/// `POST /api/v1/scope/approval`: management's sign-off of the scope as it stands.
pub async fn approve(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    let w = ws(&state, &access);
    w.approve_scope().await?;
    Ok(Json(w.scope().await?.to_json()).into_response())
}

pub async fn scope(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.ws.scope().await?.to_json()).into_response())
}

/// `GET /api/v1/oscal/{kind}`: one OSCAL document of the program, as `evident oscal export`
/// writes it; an unknown kind is not found.
pub async fn oscal(State(state): State<AppState>, Path(kind): Path<String>) -> ApiResult {
    let (_, doc) = crate::frameworks::oscal_document(&state, &kind).await?;
    Ok(Json(doc).into_response())
}
