//! Checks: their listing rows, and exclusions (accepted exceptions) checked as the CLI checks them.

pub mod api;
pub mod page;

use serde_json::json;

use crate::ServerError;
use crate::state::{AppState, Snapshot};
use crate::web::name_of;
use crate::web::table::{Cell, Column, Row, col};

pub fn check_rows(snap: &Snapshot) -> Vec<Row> {
    snap.assessment
        .as_ref()
        .map(|a| {
            a.checks
                .values()
                .map(|r| {
                    let status = name_of(r.status);
                    Row {
                        cells: vec![
                            Cell::code_link(&r.id, format!("/checks/{}", r.id)),
                            Cell::text(&r.title),
                            Cell::badge(&status),
                            Cell::num(r.passed),
                            Cell::num(r.failed),
                            Cell::num(r.excluded),
                        ],
                        json: json!({"id": r.id, "title": r.title, "status": status, "passed": r.passed,
                                     "failed": r.failed, "excluded": r.excluded}),
                        tags: vec![("status", status)],
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

pub const CHECK_COLUMNS: [Column; 6] = [
    col("id", "Check"),
    col("title", "Title"),
    col("status", "Status"),
    col("passed", "Passed"),
    col("failed", "Failed"),
    col("excluded", "Excluded"),
];

/// An exclusion checked as the CLI checks it; the outer error is for an unknown check, the
/// inner one names the field at fault.
#[allow(clippy::type_complexity)]
pub async fn exclusion_of(
    state: &AppState,
    id: &str,
    record: &str,
    reason: &str,
    owner: &str,
    expires: &str,
) -> Result<Result<evident_core::checks::Exclusion, (&'static str, String)>, ServerError> {
    let snap = state.snapshot().await?;
    if !snap.assessment.as_ref().is_some_and(|a| a.checks.contains_key(id)) {
        return Err(ServerError::NotFound);
    }
    Ok(
        (|| -> Result<evident_core::checks::Exclusion, (&'static str, String)> {
            let text = |field: &'static str, v: &str| {
                let v = v.trim();
                evident_core::text::storable(v).map_err(|e| (field, e.to_string()))?;
                if v.is_empty() {
                    Err((field, "cannot be empty".to_string()))
                } else {
                    Ok(v.to_string())
                }
            };
            let record = text("record", record)?;
            let reason = text("reason", reason)?;
            let owner = evident_core::parse_email(owner).map_err(|e| ("owner", e.to_string()))?;
            let expires = evident_core::parse_date(expires.trim()).map_err(|e| ("expires", e.to_string()))?;
            if expires < time::OffsetDateTime::now_utc().date() {
                return Err((
                    "expires",
                    format!("{} is already past", evident_core::format_date(expires)),
                ));
            }
            Ok(evident_core::checks::Exclusion {
                check: id.to_string(),
                record,
                reason,
                owner,
                expires,
            })
        })(),
    )
}
