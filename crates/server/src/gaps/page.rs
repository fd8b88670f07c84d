//! The gaps page and its downloads.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

use super::{COLUMNS, FILTERS, controls_reach, rows};
use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Form, Inline, Section};
use crate::web::table::{ListQuery, page, select};
use crate::web::{Layout, TablePage, render};
use evident_core::access::Area;

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
    let mut downloads = vec![
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
    ];
    if snap.assessment.is_some() {
        downloads.extend([
            Inline::text("Whole program:"),
            Inline::Button {
                text: "Control matrix (Excel)".into(),
                href: "/gaps/controls.xlsx".into(),
                download: true,
            },
        ]);
        if controls_reach(&access).reach == evident_core::access::Reach::All {
            downloads.push(Inline::Button {
                text: "Readiness report (PDF)".into(),
                href: "/gaps/readiness.pdf".into(),
                download: true,
            });
        }
    }
    let mut blocks = vec![Block::Para(downloads)];
    if snap.assessment.is_some() && access.may_write(Area::Tasks) {
        blocks.push(Block::Form(Form::step(
            "/gaps/plan",
            &access.csrf,
            "Create the remediation plan",
            "One task per gap in the tasks register, titled with what to do, owned by the control's owner and due by the date above. Planning again updates the same tasks and keeps the status and owner people gave them.",
        )));
    }
    t.extra = vec![Section::new("", blocks)];
    render(t)
}

/// `/gaps/download.csv` and `.xlsx`: the view the query selects, every row of it;
/// `/gaps/controls.xlsx`: the control matrix of the controls the caller may see.
pub async fn download(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let (sheets, xlsx, name) = match file.as_str() {
        "download.csv" | "download.xlsx" => {
            let q = ListQuery::parse(q)?;
            let all = rows(&snap, &access);
            let chosen = select(&COLUMNS, all.iter().collect(), &q, &FILTERS);
            let cells = chosen
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
                .collect();
            let xlsx = file.ends_with(".xlsx");
            let name = if xlsx { "evident-gaps.xlsx" } else { "evident-gaps.csv" };
            (vec![evident_report::gap_rows(cells)], xlsx, name)
        }
        // The readiness report is the company's own view of itself: not for the auditor.
        "readiness.pdf" if controls_reach(&access).reach == evident_core::access::Reach::All => {
            let a = snap.assessment.as_ref().ok_or(ServerError::NotFound)?;
            let doc = evident_report::readiness::doc(
                &a.scope,
                &a.readiness,
                &a.checklist,
                &a.timeline,
                &state.ws.organisation,
                crate::fieldwork::today(),
            );
            let pdf = tokio::task::spawn_blocking(move || evident_report::readiness_pdf(&doc))
                .await
                .map_err(|e| ServerError::Internal(format!("readiness report: {e}")))?
                .map_err(|e| ServerError::Internal(format!("readiness report: {e}")))?;
            return Ok((
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"evident-readiness.pdf\"".to_string(),
                    ),
                ],
                pdf,
            )
                .into_response());
        }
        "controls.xlsx" => {
            let a = snap.assessment.as_ref().ok_or(ServerError::NotFound)?;
            let controls = crate::controls::visible(&snap, &controls_reach(&access));
            let sheets = evident_report::control_matrix(&a.readiness, &controls, &a.program.evidence);
            (sheets.into(), true, "evident-control-matrix.xlsx")
        }
        _ => return Err(ServerError::NotFound),
    };
    let mut bytes = Vec::new();
    let written = if xlsx {
        evident_report::write_xlsx(&sheets, &mut bytes)
    } else {
        evident_report::write_csv(&sheets[0], &mut bytes)
    };
    written.map_err(|e| ServerError::Internal(format!("{file}: {e}")))?;
    let media = if xlsx {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv; charset=utf-8"
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

/// `POST /gaps/plan`: one task per gap the snapshot holds (the rule is core's, the write the
/// store's), then the tasks register with what changed.
pub async fn plan(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let written = super::plan(&state, &access).await?;
    Ok(Redirect::to(&format!("/tasks?done=planned-{}-{}", written.created, written.updated)).into_response())
}
