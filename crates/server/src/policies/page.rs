//! Policy pages: the list, a policy with its versions and acceptances, editing, approval and publication.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::table::{ListQuery, page};
use crate::web::{Layout, TablePage, flash_from, render};

use super::{COLUMNS, rows};

pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q_flash = q.clone();
    let q = ListQuery::parse(q)?;
    let p = page(
        "/policies",
        &COLUMNS,
        &rows(
            &snap.program().policies,
            &super::acceptance_counts(&state, &snap.program().policies).await?,
        ),
        &q,
        vec![("status", "Status")],
    );
    let mut t = TablePage::new(
        Layout::new(&state, &access, "Policies", "/policies"),
        "Each edit is a new version; a version is approved, then published for staff to accept.".into(),
        p,
        "No policies yet.".into(),
    );
    t.layout.flash = crate::web::flash_from(&q_flash);
    if snap.program().policies.is_empty() && access.may_write(evident_core::access::Area::Policies) {
        let f = crate::web::blocks::Form::step(
            "/policies/templates/adopt",
            &access.csrf,
            "Adopt the policy templates",
            "Evident's policy templates, as drafts in your name: edit each to fit, approve it, then publish it for staff to accept.",
        );
        t.extra = vec![crate::web::blocks::Section::new(
            "",
            vec![crate::web::blocks::Block::Form(f)],
        )];
    }
    render(t)
}

/// `POST /policies/templates/adopt`: every template not yet adopted, as drafts.
pub async fn adopt(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let templates: Vec<_> = evident_store::policy_templates().iter().collect();
    let adopted = state.ws.as_actor(&access.user.email).adopt_policies(&templates).await?;
    Ok(axum::response::Redirect::to(&format!("/policies?done=adopted-{}", adopted.len())).into_response())
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    id: String,
    title: String,
    status: String,
    version: i64,
    versions: usize,
    published: String,
    owner_role: String,
    controls: Vec<String>,
    sha256: String,
    trail: Vec<(String, String)>,
    body: crate::web::markdown::SafeHtml,
    can_write: bool,
    accepted: Vec<(String, i64, String)>,
    /// Staff who have not accepted the version in force.
    missing: Vec<String>,
    staff: usize,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let p = state.ws.policy(&id).await?;
    let latest = p.latest().ok_or(ServerError::NotFound)?;
    let mut trail = vec![(
        "Drafted".to_string(),
        format!("{} by {}", crate::web::html::when(latest.created_at), latest.created_by),
    )];
    if let (Some(at), Some(by)) = (latest.approved_at, &latest.approved_by) {
        trail.push(("Approved".into(), format!("{} by {by}", crate::web::html::when(at))));
    }
    if let (Some(at), Some(by)) = (latest.published_at, &latest.published_by) {
        trail.push(("Published".into(), format!("{} by {by}", crate::web::html::when(at))));
    }
    // Who accepted the version in force, and which of today's staff still have to: personal
    // data, so for those who read the people register (and the auditor).
    let sees_people =
        access.may_read(evident_core::access::Area::People) || access.role() == evident_core::access::Role::Auditor;
    let (accepted, missing, staff) = match (sees_people, p.published()) {
        (true, Some(v)) => {
            let all = state.ws.acceptances(&p).await?;
            let staff = state.ws.staff_on(time::OffsetDateTime::now_utc().date()).await?;
            let current: Vec<_> = all.into_iter().filter(|a| a.version == v.version).collect();
            let missing: Vec<String> = staff
                .iter()
                .filter(|e| !current.iter().any(|a| &a.email == *e))
                .cloned()
                .collect();
            let accepted = current
                .into_iter()
                .map(|a| (a.email, a.version, crate::web::html::when(a.accepted_at)))
                .collect();
            (accepted, missing, staff.len())
        }
        _ => (Vec::new(), Vec::new(), 0),
    };
    let mut layout = Layout::new(&state, &access, p.title.clone(), "/policies");
    layout.flash = flash_from(&q);
    render(PolicyPage {
        layout,
        status: latest.status.to_string(),
        version: latest.version,
        versions: p.versions.len(),
        published: p.published().map(|v| v.version.to_string()).unwrap_or_default(),
        owner_role: p.owner_role.replace('_', " "),
        controls: p.controls.clone(),
        sha256: latest.body_sha256.clone(),
        trail,
        body: crate::web::markdown::render(&latest.body),
        can_write: access.may_write(evident_core::access::Area::Policies),
        accepted,
        missing,
        staff,
        id: p.id.clone(),
        title: p.title.clone(),
    })
}

#[derive(Template)]
#[template(path = "policy_edit.html")]
struct EditPage {
    layout: Layout,
    id: String,
    title: String,
    source: String,
    title_error: String,
    source_error: String,
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    if !access.may_write(evident_core::access::Area::Policies) {
        return Err(ServerError::NotFound);
    }
    let p = state.ws.policy(&id).await?;
    render(EditPage {
        layout: Layout::new(&state, &access, format!("Edit {}", p.title), "/policies"),
        id: p.id,
        title: p.title,
        source: p.source,
        title_error: String::new(),
        source_error: String::new(),
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    title: String,
    source: String,
}

pub async fn edit(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, ServerError> {
    let p = state.ws.policy(&id).await?;
    let problem = |text: &str, empty: &str| match evident_core::text::storable(text) {
        Err(e) => format!("The text {e}."),
        Ok(()) if text.trim().is_empty() => empty.to_string(),
        Ok(()) => String::new(),
    };
    let (title_error, source_error) = (
        problem(&form.title, "A policy needs a title."),
        problem(&form.source, "The text cannot be empty."),
    );
    if !title_error.is_empty() || !source_error.is_empty() {
        let page = EditPage {
            layout: Layout::new(&state, &access, format!("Edit {}", p.title), "/policies"),
            id: p.id,
            title: form.title,
            source: form.source,
            title_error,
            source_error,
        };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    state
        .ws
        .as_actor(&access.user.email)
        .edit_policy(&p.id, Some(form.title.trim()), Some(&form.source))
        .await?;
    Ok(Redirect::to(&format!("/policies/{}?done=saved", p.id)).into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    state.ws.as_actor(&access.user.email).approve_policy(&id).await?;
    Ok(Redirect::to(&format!("/policies/{id}?done=approved")).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    state.ws.as_actor(&access.user.email).publish_policy(&id).await?;
    Ok(Redirect::to(&format!("/policies/{id}?done=published")).into_response())
}
