//! The scope API.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;

use crate::state::AppState;
use crate::web::api::ApiResult;

pub async fn scope(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.ws.scope().await?.to_json()).into_response())
}
