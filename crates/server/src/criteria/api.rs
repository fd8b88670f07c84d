//! The criteria API.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Query, State};

use crate::access::Access;
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};

pub async fn criteria(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &super::CRITERIA_COLUMNS,
        &super::criteria(&snap, &access),
        q,
        vec![("status", "Coverage"), ("category", "Category")],
    )
}
