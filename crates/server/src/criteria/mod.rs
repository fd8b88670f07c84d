//! Criteria: each with its coverage by the program's controls.

pub mod api;
pub mod page;

use std::collections::BTreeMap;

use evident_core::access::Reach;
use serde_json::json;

use crate::access::Access;
use crate::state::Snapshot;
use crate::web::name_of;
use crate::web::table::{Cell, Column, Row, col};
use evident_catalog::Catalog;

fn criteria_rows(snap: &Snapshot, access: &Access) -> Vec<Row> {
    let fw = &Catalog::builtin().framework;
    let coverage: BTreeMap<&str, (String, Vec<String>)> = snap
        .assessment
        .as_ref()
        .map(|a| {
            a.readiness
                .criteria
                .iter()
                .map(|c| (c.id.as_str(), (name_of(c.status), c.controls.clone())))
                .collect()
        })
        .unwrap_or_default();
    fw.criteria
        .iter()
        .filter(|c| access.reach != Reach::InScope || coverage.contains_key(c.id.as_str()))
        .map(|c| {
            let (status, controls) = coverage
                .get(c.id.as_str())
                .cloned()
                .unwrap_or_else(|| ("out_of_scope".into(), Vec::new()));
            let category = name_of(c.category);
            Row {
                cells: vec![
                    Cell::code_link(&c.id, format!("/criteria/{}", c.id)),
                    Cell::text(&c.title),
                    Cell::text(category.replace('_', " ")),
                    Cell::badge(&status),
                    Cell::num(controls.len()),
                ],
                json: json!({"id": c.id, "title": c.title, "category": category, "status": status, "controls": controls}),
                tags: vec![("status", status), ("category", category)],
            }
        })
        .collect()
}

pub const CRITERIA_COLUMNS: [Column; 5] = [
    col("id", "Criterion"),
    col("title", "Title"),
    col("category", "Category"),
    col("status", "Coverage"),
    col("controls", "Controls"),
];

pub fn criteria(snap: &Snapshot, access: &Access) -> Vec<Row> {
    criteria_rows(snap, access)
}
