//! The jobs API: the jobs and the connectors' health, Run now, and a job's schedule.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::ApiResult;

pub async fn jobs(State(state): State<AppState>) -> ApiResult {
    let now = super::now_ms();
    state.ws.sync_jobs(now).await.map_err(ServerError::from)?;
    let jobs = state.ws.jobs(now).await.map_err(ServerError::from)?;
    let connectors = state.ws.connectors_health(now).await.map_err(ServerError::from)?;
    Ok(Json(json!({"jobs": jobs, "connectors": connectors})).into_response())
}

/// Claims the job as the scheduler would and starts it; answers with the job, now running.
pub async fn run(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(name): Path<String>,
) -> ApiResult {
    let job = super::start_now(&state.ws.as_actor(&access.user.email), &name)
        .await
        .map_err(ServerError::from)?;
    Ok(Json(job).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    every: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn schedule(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ScheduleRequest>,
) -> ApiResult {
    let now = super::now_ms();
    let every = evident_store::parse_every(&body.every).map_err(|e| ServerError::invalid("every", e))?;
    let next = body
        .next
        .as_deref()
        .map(|n| evident_store::parse_next(n, now).map_err(|e| ServerError::invalid("next", e)))
        .transpose()?;
    let job = state
        .ws
        .as_actor(&access.user.email)
        .set_job_schedule(&name, every, next, now)
        .await
        .map_err(ServerError::from)?;
    Ok(Json(job).into_response())
}
