//! The gaps page and its downloads.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{COLUMNS, FILTERS, rows};
use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Inline, Section};
use crate::web::table::{ListQuery, page, select};
use crate::web::{Layout, TablePage, render};

pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let query_string = crate::web::html::keep_query(&q, &["q", "owner", "severity", "category", "sort", "dir"]);
    let q = ListQuery::parse(q)?;
    let all = rows(&snap, &access);
    let p = page("/gaps", &COLUMNS, &all, &q, FILTERS.to_vec());
    let mut t = TablePage::new(
        Layout::new(&state, &access, "Gaps", "/gaps"),
        "Everything that stands between the program and the audit, most severe first: who owns it, what closes it, and the day it is due so there is time before the window starts. Filter by owner (\u{201c}none\u{201d} for the unowned), severity or category.".into(),
        p,
        if snap.assessment.is_some() {
            "No gaps: every control in scope is ready.".into()
        } else {
            "No audit scope is set yet, so there is nothing to measure gaps against.".into()
        },
    );
    t.extra = vec![Section::new(
        "",
        vec![Block::Para(vec![
            Inline::text("Download this view:"),
            Inline::Button {
                text: "CSV".into(),
                href: format!("/gaps/download.csv{query_string}"),
                download: true,
            },
            Inline::Button {
                text: "Excel".into(),
                href: format!("/gaps/download.xlsx{query_string}"),
                download: true,
            },
        ])],
    )];
    render(t)
}

/// `/gaps/download.csv` and `.xlsx`: the view the query selects, every row of it.
pub async fn download(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let xlsx = match file.as_str() {
        "download.csv" => false,
        "download.xlsx" => true,
        _ => return Err(ServerError::NotFound),
    };
    let snap = state.snapshot().await?;
    let q = ListQuery::parse(q)?;
    let all = rows(&snap, &access);
    let chosen = select(&COLUMNS, all.iter().collect(), &q, &FILTERS);
    let sheet = evident_report::Sheet {
        name: "Gaps".into(),
        headers: evident_core::readiness::GAP_HEADERS.map(String::from).to_vec(),
        rows: chosen
            .iter()
            .map(|r| {
                r.json
                    .as_array()
                    .map(|cells| {
                        cells
                            .iter()
                            .map(|c| c.as_str().unwrap_or_default().to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect(),
        widths: vec![18.0, 10.0, 10.0, 60.0, 28.0, 60.0, 12.0],
    };
    let mut bytes = Vec::new();
    let written = if xlsx {
        evident_report::write_xlsx(std::slice::from_ref(&sheet), &mut bytes)
    } else {
        evident_report::write_csv(&sheet, &mut bytes)
    };
    written.map_err(|e| ServerError::Internal(format!("gaps download: {e}")))?;
    let (media, name) = if xlsx {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "evident-gaps.xlsx",
        )
    } else {
        ("text/csv; charset=utf-8", "evident-gaps.csv")
    };
    Ok((
        [
            (header::CONTENT_TYPE, media.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
