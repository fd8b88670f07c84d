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
    let mut q = q;
    // Daily check runs are hidden unless asked for: they would bury what people did.
    let with_runs = q.remove("runs").is_some_and(|v| v == "shown");
    let mut entries = state.ws.audit_log(0).await?;
    if !with_runs {
        entries.retain(|e| !super::is_routine(&e.action));
    }
    let q = ListQuery::parse(q)?;
    let base = if with_runs {
        "/audit-log?runs=shown"
    } else {
        "/audit-log"
    };
    let p = page(
        base,
        &AUDIT_COLUMNS,
        &audit_rows(&entries, false),
        &q,
        vec![("action", "Action")],
    );
    let mut t = TablePage::new(
        Layout::new(&state, &access, "Audit log", "/audit-log"),
        format!(
            "Every write, hash-chained: each entry commits to the one before, and signed checkpoints pin the chain so it cannot be cut short or rewritten.{}",
            if with_runs { "" } else { " Daily check runs are hidden." }
        ),
        p,
        "Nothing recorded yet.".into(),
    );
    (t.action_href, t.action_label) = if with_runs {
        ("/audit-log".into(), "Hide check runs".into())
    } else {
        ("/audit-log?runs=shown".into(), "Show check runs".into())
    };
    render(t)
}
