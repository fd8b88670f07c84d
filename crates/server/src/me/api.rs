//! The caller's own items, and policy acceptance.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::ApiResult;

async fn me_json(state: &AppState, access: &Access) -> Result<Value, ServerError> {
    let m = super::mine(state, &access.user.email).await?;
    Ok(json!({
        "email": access.user.email,
        "staff": m.staff,
        "role": access.user.role.name(),
        "to_accept": m.to_accept.iter().map(|(id, title, v, _)| json!({"policy": id, "title": title, "version": v})).collect::<Vec<_>>(),
        "accepted": m.accepted.iter().map(|(title, v, at)| json!({"title": title, "version": v, "at": at})).collect::<Vec<_>>(),
        "tasks": m.tasks.iter().map(|(id, title, status, due)| json!({"id": id, "title": title, "status": status, "due_date": due})).collect::<Vec<_>>(),
        "training": m.training.iter().map(|(course, on)| json!({"course": course, "completed_on": on})).collect::<Vec<_>>(),
    }))
}

pub async fn me(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    Ok(Json(me_json(&state, &access).await?).into_response())
}

#[derive(Deserialize)]
pub struct AcceptanceRequest {
    policy: String,
    version: i64,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<AcceptanceRequest>,
) -> ApiResult {
    state
        .ws
        .as_actor(&access.user.email)
        .accept_policy(&body.policy, &access.user.email, Some(body.version))
        .await?;
    Ok(Json(me_json(&state, &access).await?).into_response())
}
