//! The audit log API.

use std::collections::BTreeMap;

use axum::extract::{Query, State};

use crate::state::AppState;
use crate::web::api::{ApiResult, listing};

pub async fn audit_log(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let entries = state.ws.audit_log(0).await?;
    listing(
        &super::AUDIT_COLUMNS,
        &super::audit_rows(&entries, true),
        q,
        vec![("action", "Action")],
    )
}
