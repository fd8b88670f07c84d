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
    if evident_core::oscal::file_name(&kind).is_none() {
        return Err(crate::ServerError::NotFound.into());
    }
    let now = time::OffsetDateTime::now_utc();
    let records = state.ws.oscal_records(now.date(), now).await?;
    let doc = evident_core::oscal::document(&kind, &records).ok_or(crate::ServerError::NotFound)?;
    Ok(Json(doc).into_response())
}
