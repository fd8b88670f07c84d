//! The audit log as listing rows, newest first.

pub mod api;
pub mod page;

use serde_json::json;

use crate::web::html::when;
use crate::web::table::{Cell, Column, Row, col};

/// Listing rows, newest first; `with_json` adds each entry's API form.
pub fn audit_rows(entries: &[evident_core::ledger::Entry], with_json: bool) -> Vec<Row> {
    entries
        .iter()
        .rev()
        .map(|e| Row {
            cells: vec![
                Cell::num(e.seq),
                Cell::text(when(e.at)),
                Cell::text(&e.actor),
                Cell::text(&e.action),
                Cell::text(&e.subject),
                Cell::text(&e.hash[..16]),
            ],
            json: if with_json {
                json!({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
                       "payload_hash": e.payload_hash, "prev_hash": e.prev_hash, "hash": e.hash})
            } else {
                serde_json::Value::Null
            },
            tags: vec![("action", e.action.clone())],
        })
        .collect()
}

pub const AUDIT_COLUMNS: [Column; 6] = [
    col("seq", "#"),
    col("at", "When (UTC)"),
    col("actor", "Who"),
    col("action", "Action"),
    col("subject", "Subject"),
    col("hash", "Hash"),
];
