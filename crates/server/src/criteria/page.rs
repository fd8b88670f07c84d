//! Criteria pages: the list, and one criterion with what an auditor looks for under it and the controls mapped to it.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Inline, Section, text};
use crate::web::html::url_encode;
use crate::web::table::{ListQuery, page};
use crate::web::{DetailPage, Layout, TablePage, name_of, render};
use evident_catalog::Catalog;

use super::{CRITERIA_COLUMNS, criteria_rows};

pub async fn criteria_list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q = ListQuery::parse(q)?;
    let p = page(
        "/criteria",
        &CRITERIA_COLUMNS,
        &criteria_rows(&snap, &access),
        &q,
        vec![("status", "Coverage"), ("category", "Category")],
    );
    render(TablePage::new(
        Layout::new(&state, &access, "Criteria", "/criteria"),
        "A criterion is covered when a ready control maps to it, partial when its controls are at risk.".into(),
        p,
        "No criteria.".into(),
    ))
}

pub async fn criterion(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let rows = criteria_rows(&snap, &access);
    let row = rows
        .iter()
        .find(|r| r.json["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(&id)))
        .ok_or(ServerError::NotFound)?;
    let fw = &Catalog::builtin().framework;
    let c = fw
        .criterion(row.json["id"].as_str().unwrap_or(""))
        .ok_or(ServerError::NotFound)?;
    let statuses = crate::controls::status_of(&snap);
    let mapped: Vec<Vec<Inline>> = snap
        .program()
        .controls
        .iter()
        .filter(|k| k.criteria.contains(&c.id))
        .map(|k| {
            let s = statuses.get(k.code.as_str()).map(|s| name_of(*s)).unwrap_or_default();
            vec![
                Inline::link(&k.code, format!("/controls/{}", url_encode(&k.code))),
                Inline::text(&k.title),
                Inline::badge(s),
            ]
        })
        .collect();
    // The points an auditor looks for under this criterion, and the applicable controls
    // (by the library template they came from) that address each.
    let in_scope = snap.assessment.as_ref().map(|a| a.scope.categories.clone());
    let applicable = evident_core::assessment::applicable_templates(&snap.program().controls, in_scope.as_ref());
    let topics: Vec<Vec<Inline>> = Catalog::builtin()
        .coverage_of(&c.id, &applicable)
        .iter()
        .map(|t| {
            let mut parts = vec![Inline::text(format!("{}:", t.title))];
            if t.covered {
                for (i, k) in t.covered_by.iter().enumerate() {
                    let sep = if i + 1 < t.covered_by.len() { "," } else { "" };
                    parts.push(Inline::link(
                        format!("{k}{sep}"),
                        format!("/controls/{}", url_encode(k)),
                    ));
                }
            } else {
                parts.push(Inline::Badge {
                    class: "gap".into(),
                    text: "not covered".into(),
                });
                parts.push(Inline::muted(format!("(would be: {})", t.missing.join(", "))));
            }
            parts
        })
        .collect();
    render(DetailPage::new(
        Layout::new(&state, &access, format!("{} {}", c.id, c.title), "/criteria"),
        row.json["status"].as_str().unwrap_or(""),
        vec![
            Section::new("", vec![Block::Para(text(&c.explanation))]),
            Section::new(
                "What an auditor looks for",
                vec![if topics.is_empty() {
                    Block::Note("No topics recorded for this criterion.".into())
                } else {
                    Block::List(topics)
                }],
            ),
            Section::new(
                "Controls mapped to it",
                vec![if mapped.is_empty() {
                    Block::Para(text("None: this criterion is uncovered."))
                } else {
                    Block::List(mapped)
                }],
            ),
        ],
    ))
}
