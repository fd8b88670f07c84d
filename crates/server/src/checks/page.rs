//! Check pages: the list, one check with its failing records and exclusions, and the exclusion form.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Field, Form as FormBlock, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::table::{ListQuery, page};
use crate::web::{DetailPage, Layout, TablePage, name_of, render};

use super::{CHECK_COLUMNS, check_rows, exclusion_of};

pub async fn checks_list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q = ListQuery::parse(q)?;
    let p = page(
        "/checks",
        &CHECK_COLUMNS,
        &check_rows(&snap),
        &q,
        vec![("status", "Status")],
    );
    render(TablePage::new(
        Layout::new(&state, &access, "Checks", "/checks"),
        "Automated tests over the facts collected from your systems, run live for this page.".into(),
        p,
        "No checks have data yet: set the audit scope and import or collect facts.".into(),
    ))
}

/// `?record=R` (from a failing row's "Set aside") fills the exclusion form's record.
pub async fn check(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let chosen = q.get("record").map(|r| ExclusionForm {
        record: r.clone(),
        reason: String::new(),
        owner: String::new(),
        expires: String::new(),
    });
    render(check_page(&state, &access, &id, chosen.as_ref().map(|f| (f, "", String::new()))).await?)
}

/// A refused exclusion form: what was typed, and the field at fault with the reason.
type Refusal<'a> = (&'a ExclusionForm, &'a str, String);

async fn check_page(
    state: &AppState,
    access: &Access,
    id: &str,
    refused: Option<Refusal<'_>>,
) -> Result<DetailPage, ServerError> {
    let snap = state.snapshot().await?;
    let r = snap
        .assessment
        .as_ref()
        .and_then(|a| a.checks.get(id))
        .ok_or(ServerError::NotFound)?;
    let may_exclude = access.may_write(evident_core::access::Area::Checks);
    let failing: Vec<Vec<Vec<Inline>>> = r
        .failures
        .iter()
        .take(500)
        .map(|f| {
            let mut row = vec![vec![Inline::mono(&f.record)], text(&f.reason)];
            if may_exclude {
                row.push(vec![Inline::link(
                    "Set aside",
                    format!(
                        "/checks/{}?record={}#set-aside",
                        url_encode(&r.id),
                        url_encode(&f.record)
                    ),
                )]);
            }
            row
        })
        .collect();
    let excluded: Vec<Vec<Inline>> = r
        .exclusions
        .iter()
        .map(|x| {
            vec![
                Inline::mono(format!("{}:", x.record)),
                Inline::text(&x.reason),
                Inline::muted(format!(
                    "excluded by {} until {}: {}",
                    x.owner, x.expires, x.exclusion_reason
                )),
            ]
        })
        .collect();
    let mut sections = vec![Section::new(
        "",
        vec![Block::Para(text(format!(
            "{} passed, {} failed, {} excluded.",
            r.passed, r.failed, r.excluded
        )))],
    )];
    let mut failing_blocks = if failing.is_empty() {
        vec![Block::Para(text("None."))]
    } else {
        vec![Block::Table(Table {
            id: "failing".into(),
            head: if may_exclude {
                vec!["Record".into(), "Why".into(), String::new()]
            } else {
                vec!["Record".into(), "Why".into()]
            },
            rows: failing,
        })]
    };
    if r.failures.len() > 500 {
        failing_blocks.push(Block::Note("The first 500 are shown; the API lists them all.".into()));
    }
    sections.push(Section::new(
        format!("Failing records ({})", r.failures.len()),
        failing_blocks,
    ));
    if !excluded.is_empty() {
        sections.push(Section::new("Exclusions", vec![Block::List(excluded)]));
    }
    if may_exclude {
        let field = |name: &str, label: &str, input: Input| {
            let value = match refused {
                Some((form, _, _)) => match name {
                    "record" => form.record.clone(),
                    "reason" => form.reason.clone(),
                    "owner" => form.owner.clone(),
                    _ => form.expires.clone(),
                },
                None => String::new(),
            };
            let error = match refused {
                Some((_, at, ref reason)) if at == name => Some(reason.clone()),
                _ => None,
            };
            Field::new(format!("x-{name}"), name, label, input)
                .required()
                .value(value)
                .error(error)
        };
        let mut form = FormBlock::post(
            format!("/checks/{}/exclusions", url_encode(&r.id)),
            &access.csrf,
            "Add exclusion",
        );
        form.intro = Some(
            "An exclusion is an accepted exception: it needs a reason, an owner and an end date, and the auditor sees it."
                .into(),
        );
        form.fields = vec![
            field("record", "Record", Input::Text),
            field("reason", "Reason", Input::Text),
            field("owner", "Owner's email", Input::Email),
            field("expires", "Until", Input::Date),
        ];
        sections.push(Section::new("Set a failing record aside", vec![Block::Form(form)]).anchored("set-aside"));
    }
    Ok(DetailPage::new(
        Layout::new(state, access, r.title.clone(), "/checks"),
        name_of(r.status),
        sections,
    ))
}

#[derive(serde::Deserialize)]
pub struct ExclusionForm {
    record: String,
    reason: String,
    owner: String,
    expires: String,
}

pub async fn exclude(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ExclusionForm>,
) -> Result<Response, ServerError> {
    let checked = exclusion_of(&state, &id, &form.record, &form.reason, &form.owner, &form.expires).await?;
    let refused = match checked {
        // The store refuses a record the check does not test: shown on the record field.
        Ok(e) => match state.ws.as_actor(&access.user.email).add_exclusion(&e).await {
            Ok(()) => return Ok(axum::response::Redirect::to(&format!("/checks/{id}")).into_response()),
            Err(evident_store::StoreError::Invalid(reason)) => ("record", reason),
            Err(other) => return Err(other.into()),
        },
        Err(refused) => refused,
    };
    let page = check_page(&state, &access, &id, Some((&form, refused.0, refused.1))).await?;
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        axum::response::Html(askama::Template::render(&page)?),
    )
        .into_response())
}
