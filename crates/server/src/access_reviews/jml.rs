//! Joiners, movers and leavers: the reconciliation's findings and a person's timeline, as a
//! page and in the API (the people area: what it shows is about everyone's employment).

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Json, Response};
use evident_core::access_review::jml::{Finding, JmlKind, Moment};

use super::{today, ws};
use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::api::ApiResult;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, render};

fn person_href(email: &str) -> String {
    format!("/jml/people/{}", url_encode(email))
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "joiner" => "joiner",
        "mover" => "mover",
        "leaver" => "leaver",
        "contractor_past_end" => "contractor past end",
        _ => "orphan account",
    }
}

/// `kind` and `as_of` from a query, checked.
fn filters(q: &BTreeMap<String, String>) -> Result<(Option<JmlKind>, time::Date), ServerError> {
    let kind = q
        .get("kind")
        .filter(|k| !k.is_empty())
        .map(|k| JmlKind::parse(k).map_err(|e| ServerError::invalid("kind", e.to_string())))
        .transpose()?;
    let as_of = q
        .get("as_of")
        .filter(|d| !d.is_empty())
        .map(|d| evident_core::parse_date(d).map_err(|e| ServerError::invalid("as_of", e.to_string())))
        .transpose()?
        .unwrap_or_else(today);
    Ok((kind, as_of))
}

async fn findings(
    state: &AppState,
    access: &Access,
    q: &BTreeMap<String, String>,
) -> Result<Vec<Finding>, ServerError> {
    let (kind, as_of) = filters(q)?;
    let records = ws(state, access).jml_records(as_of).await?;
    Ok(records
        .findings()
        .into_iter()
        .filter(|f| kind.is_none_or(|k| f.kind == k.as_str()))
        .collect())
}

async fn timeline(state: &AppState, access: &Access, email: &str) -> Result<Vec<Moment>, ServerError> {
    let records = ws(state, access).jml_records(today()).await?;
    if records.person(email).is_none() {
        return Err(evident_store::StoreError::NotFound {
            kind: "person",
            id: email.to_string(),
        }
        .into());
    }
    Ok(records.timeline(email))
}

/// `GET /api/v1/jml?kind=&as_of=`.
pub async fn list_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    Ok(Json(findings(&state, &access, &q).await?).into_response())
}

/// `GET /api/v1/jml/people/{person}`.
pub async fn person_api(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
) -> ApiResult {
    Ok(Json(timeline(&state, &access, &email).await?).into_response())
}

/// `/jml`: the findings, by kind.
pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let found = findings(&state, &access, &q).await?;
    let layout = Layout::new(&state, &access, "Joiners, movers and leavers", "/jml");
    let all = if q.get("kind").is_some_and(|k| !k.is_empty()) {
        let mut q2 = q.clone();
        q2.remove("kind");
        findings(&state, &access, &q2).await?
    } else {
        found.clone()
    };
    let counts = evident_core::access_review::jml::counts(&all);
    let mut summary = vec![Inline::text(if all.is_empty() {
        "Every person's accounts agree with the people register.".to_string()
    } else {
        format!("{} finding(s): ", all.len())
    })];
    for (k, n) in &counts {
        summary.push(Inline::link(format!("{n} {}", kind_label(k)), format!("/jml?kind={k}")));
    }
    let mut filter = blocks::Form::post("/jml", &None, "Show");
    filter.get = true;
    filter.inline = true;
    let mut kinds = vec![(String::new(), "every kind".to_string())];
    kinds.extend(
        JmlKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), kind_label(k.as_str()).to_string())),
    );
    filter.fields = vec![
        Field::new("jml-kind", "kind", "Kind", Input::Select(kinds)).value(q.get("kind").cloned().unwrap_or_default()),
        Field::new("jml-as-of", "as_of", "As of", Input::Date).value(q.get("as_of").cloned().unwrap_or_default()),
    ];
    filter.hint = Some(
        "Leavers' accounts must be off within the access-control policy's hours; movers' access reviewed within its days (an access review campaign deciding on their accounts); joiners of the last year need the identity provider account and security training. A later date shows what will be late by then."
            .into(),
    );
    let rows = found
        .iter()
        .map(|f| {
            vec![
                vec![Inline::Badge {
                    class: "gap".into(),
                    text: kind_label(&f.kind).into(),
                }],
                match &f.person {
                    Some(p) => vec![Inline::link(p, person_href(p))],
                    None => vec![Inline::muted("nobody")],
                },
                match &f.account {
                    Some(a) => vec![Inline::mono(a)],
                    None => Vec::new(),
                },
                vec![Inline::mono(&f.since)],
                text(&f.reason),
            ]
        })
        .collect();
    let sections = vec![
        Section::new("", vec![Block::Para(summary), Block::Form(filter)]),
        Section::new(
            format!("Findings ({})", found.len()),
            vec![Block::Table(Table {
                id: "jml".into(),
                head: ["Kind", "Person", "Account", "Since", "What is wrong"]
                    .map(String::from)
                    .to_vec(),
                rows,
            })],
        )
        .anchored("findings"),
    ];
    render(DetailPage::new(layout, "", sections))
}

/// `/jml/people/{email}`: one person's timeline.
pub async fn person_page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
) -> Result<Response, ServerError> {
    let moments = timeline(&state, &access, &email).await?;
    let layout = Layout::new(&state, &access, format!("Access timeline: {email}"), "/jml");
    let problems = moments.iter().filter(|m| m.problem).count();
    let rows = moments
        .iter()
        .map(|m| {
            let mut what = Vec::new();
            if m.problem {
                what.push(Inline::Badge {
                    class: "gap".into(),
                    text: "finding".into(),
                });
            }
            what.push(Inline::text(&m.what));
            vec![vec![Inline::mono(&m.date)], what]
        })
        .collect();
    let sections = vec![Section::new(
        "",
        vec![
            Block::Para(vec![
                Inline::text(if problems == 0 {
                    "Nothing late or missing.".to_string()
                } else {
                    format!("{problems} finding(s). ")
                }),
                Inline::link("Every finding", "/jml"),
            ]),
            Block::Table(Table {
                id: "timeline".into(),
                head: ["Date", "What happened"].map(String::from).to_vec(),
                rows,
            }),
        ],
    )];
    Ok(render(DetailPage::new(layout, "", sections))?.into_response())
}
