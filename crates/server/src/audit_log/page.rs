//! The audit log page.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::table::{ListQuery, page};
use crate::web::{Layout, TablePage, render};

use super::{AUDIT_COLUMNS, audit_rows};

pub async fn audit_log(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let entries = state.ws.audit_log(0).await?;
    let q = ListQuery::parse(q)?;
    let p = page(
        "/audit-log",
        &AUDIT_COLUMNS,
        &audit_rows(&entries, false),
        &q,
        vec![("action", "Action")],
    );
    render(TablePage::new(
        Layout::new(&state, &access, "Audit log", "/audit-log"),
        "Every write, hash-chained: each entry commits to the one before, and signed checkpoints pin the chain so it cannot be cut short or rewritten.".into(),
        p,
        "Nothing recorded yet.".into(),
    ))
}
