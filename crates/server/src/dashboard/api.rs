//! Readiness as JSON: the score, counts, criteria, gaps, topic gaps, checklist and timeline.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::json;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::name_of;

pub async fn readiness(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    let snap = state.snapshot().await?;
    let a = snap
        .assessment
        .as_ref()
        .ok_or(ServerError::Store(evident_store::StoreError::NoScope))?;
    let r = &a.readiness;
    let visible: Vec<String> = crate::controls::visible(&snap, &crate::gaps::controls_reach(&access))
        .iter()
        .map(|c| c.code.clone())
        .collect();
    use evident_core::readiness::Status;
    Ok(Json(json!({
        "score": r.score,
        "controls": {"ready": r.count(Status::Ready), "at_risk": r.count(Status::AtRisk), "gap": r.count(Status::Gap), "not_applicable": r.count(Status::NotApplicable)},
        "criteria": r.criteria,
        "gaps": r.gaps.iter().filter(|g| g.control.as_ref().is_none_or(|c| visible.contains(c))).map(|g| json!({
            "severity": name_of(g.severity), "control": g.control, "criterion": g.criterion, "reason": g.reason, "owner": g.owner, "fix": g.fix, "action": g.action,
        })).collect::<Vec<_>>(),
        "topic_gaps": a.topic_gaps,
        "checklist": a.checklist.iter().map(|c| json!({"item": c.item, "done": c.done, "why": c.why})).collect::<Vec<_>>(),
        "timeline": a.timeline,
        "computed_at": snap.computed_at.unix_timestamp() * 1000,
    }))
    .into_response())
}

/// `POST /api/v1/readiness/plan`: one task per gap in the tasks register (the web's
/// "Create the remediation plan").
pub async fn plan(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    let written = crate::gaps::plan(&state, &access).await?;
    Ok(
        Json(json!({"created": written.created, "updated": written.updated, "unchanged": written.unchanged}))
            .into_response(),
    )
}
