//! Controls' pages: the list with filters, the detail (mapping, owner, status and why, evidence,
//! checks with failing records, history), evidence upload and owner assignment.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Reach;
use evident_core::readiness::Status;
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::table::{ListQuery, page};
use crate::web::{Layout, TablePage, flash_from, name_of, render};

use super::{COLUMNS, FILTERS, may_write, rows, status_name, store_upload, visible};
use crate::evidence::upload::receive;

pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q_flash = q.clone();
    let q = ListQuery::parse(q)?;
    let p = page("/controls", &COLUMNS, &rows(&snap, &access), &q, FILTERS.to_vec());
    let mut t = TablePage::new(
        Layout::new(&state, &access, "Controls", "/controls"),
        "Every control of the program, its owner and its readiness. Filter by status to see what needs work.".into(),
        p,
        "No controls yet.".into(),
    );
    t.layout.flash = flash_from(&q_flash);
    if snap.program().controls.is_empty()
        && access.may_write(evident_core::access::Area::Controls)
        && access.reach == Reach::All
    {
        let f = crate::web::blocks::Form::step(
            "/controls/library/adopt",
            &access.csrf,
            "Adopt the control library",
            "Evident's controls, each mapped to the criteria it serves, with its evidence requirements and owner role. Rule out what does not apply afterwards, with a reason.",
        );
        t.extra = vec![crate::web::blocks::Section::new(
            "",
            vec![crate::web::blocks::Block::Form(f)],
        )];
    }
    render(t)
}

/// `POST /controls/library/adopt`: every library control not yet adopted.
pub async fn adopt(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    if access.reach != Reach::All {
        return Err(ServerError::NotFound);
    }
    let adopted = state.ws.as_actor(&access.user.email).adopt_controls(&[]).await?;
    Ok(Redirect::to(&format!("/controls?done=adopted-{}", adopted.len())).into_response())
}

/// (id, title, requirement, attests, captured, sha256, its first 12 characters)
type EvidenceView = (String, String, String, String, String, String, String);

/// (id, title, status, failing (record, reason), how many more fail)
type CheckView = (String, String, String, Vec<(String, String)>, usize);

#[derive(Template)]
#[template(path = "control.html")]
struct ControlPage {
    layout: Layout,
    code: String,
    title: String,
    description: String,
    status: String,
    owner: String,
    owner_value: String,
    area: String,
    frequency: String,
    criteria: Vec<String>,
    na_reason: String,
    /// (severity, what is wrong, the fix in words, the fix's link label, its address)
    reasons: Vec<(String, String, String, String, String)>,
    requirements: Vec<(String, String, String)>,
    /// The requirement a fix link asked to upload for: (key, title).
    wanted: Option<(String, String)>,
    evidence: Vec<EvidenceView>,
    /// (id, title, status, failing (record, reason), more)
    checks: Vec<CheckView>,
    history: Vec<(String, String, String)>,
    can_upload: bool,
    can_assign: bool,
    upload_error: String,
    upload_title: String,
    max_upload: String,
}

async fn control_page(
    state: &AppState,
    access: &Access,
    code: &str,
    upload_error: String,
    upload_title: String,
) -> Result<ControlPage, ServerError> {
    let snap = state.snapshot().await?;
    let code = code.to_uppercase();
    let read_access = Access {
        reach: evident_core::access::reach(
            access.role(),
            evident_core::access::Area::Controls,
            evident_core::access::Action::Read,
        ),
        ..access.clone()
    };
    let c = visible(&snap, &read_access)
        .into_iter()
        .find(|c| c.code == code)
        .ok_or(ServerError::NotFound)?
        .clone();
    let status = snap
        .assessment
        .as_ref()
        .and_then(|a| a.readiness.controls.iter().find(|s| s.control == code));
    let write_access = Access {
        reach: evident_core::access::reach(
            access.role(),
            evident_core::access::Area::Evidence,
            evident_core::access::Action::Write,
        ),
        ..access.clone()
    };
    let mut current: Vec<&evident_store::EvidenceItem> =
        snap.program().evidence.iter().filter(|e| e.is_current()).collect();
    current.sort_by_key(|e| std::cmp::Reverse(e.captured_at));
    let evidence = current
        .into_iter()
        .flat_map(|e| {
            e.controls.iter().filter(|l| l.control == code).map(move |l| {
                (
                    e.id.clone(),
                    e.title.clone(),
                    l.requirement.clone().unwrap_or_default(),
                    evident_core::format_date(e.attests_to()),
                    crate::web::html::when(e.captured_at),
                    e.sha256.clone(),
                    e.sha256.chars().take(12).collect::<String>(),
                )
            })
        })
        .collect();
    let checks = snap
        .assessment
        .as_ref()
        .map(|a| {
            // The checks the content says test this control (`checks:` on its template).
            let tested_by: &[String] = snap
                .program()
                .controls
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.checks())
                .unwrap_or_default();
            a.checks
                .values()
                .filter(|r| tested_by.contains(&r.id))
                .map(|r| {
                    let failing: Vec<(String, String)> = r
                        .failures
                        .iter()
                        .take(20)
                        .map(|f| (f.record.clone(), f.reason.clone()))
                        .collect();
                    (
                        r.id.clone(),
                        r.title.clone(),
                        name_of(r.status),
                        failing,
                        r.failures.len().saturating_sub(20),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let history = state
        .ws
        .audit_about(&format!("control:{code}"))
        .await?
        .into_iter()
        .map(|e| (crate::web::html::when(e.at), e.actor, e.action))
        .collect();
    Ok(ControlPage {
        layout: Layout::new(state, access, format!("{code} {}", c.title), "/controls"),
        status: status
            .map(|s| status_name(s.status))
            .unwrap_or_else(|| "unassessed".into()),
        reasons: status
            .map(|s| {
                s.reasons
                    .iter()
                    .map(|r| {
                        let (label, href) = crate::web::fix::target(&r.action);
                        (
                            name_of(r.severity).replace('_', " "),
                            r.text.clone(),
                            r.fix.clone(),
                            label,
                            href,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        requirements: c
            .evidence
            .iter()
            .map(|q| {
                (
                    q.key.clone(),
                    q.title.clone(),
                    format!("refresh: {}", name_of(q.refresh).replace('_', " ")),
                )
            })
            .collect(),
        wanted: None,
        evidence,
        checks,
        history,
        can_upload: may_write(&write_access, &c),
        can_assign: access.may_write(evident_core::access::Area::Controls)
            && evident_core::access::reach(
                access.role(),
                evident_core::access::Area::Controls,
                evident_core::access::Action::Write,
            ) == Reach::All,
        owner: c.owner_email.clone().unwrap_or_else(|| "nobody yet".into()),
        owner_value: c.owner_email.clone().unwrap_or_default(),
        area: c.area.clone(),
        frequency: c.frequency.to_string(),
        criteria: c.criteria.clone(),
        na_reason: c.na_reason.clone().unwrap_or_default(),
        description: c.description.clone(),
        title: c.title.clone(),
        code,
        upload_error,
        upload_title,
        max_upload: crate::web::html::human_bytes(state.ws.config.server.max_upload_bytes),
    })
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut p = control_page(&state, &access, &code, String::new(), String::new()).await?;
    p.layout.flash = flash_from(&q);
    if q.get("done").is_some_and(|d| d == "uploaded") {
        let snap = state.snapshot().await?;
        if let (Some(flash), Some(a)) = (&mut p.layout.flash, &snap.assessment) {
            flash.push(' ');
            flash.push_str(&upload_impact(a, &code.to_uppercase(), &q));
        }
    }
    // Arriving from a fix: the requirement it named is chosen on the upload form.
    p.wanted = q.get("requirement").and_then(|k| {
        p.requirements
            .iter()
            .find(|(key, _, _)| key == k)
            .map(|(key, title, _)| (key.clone(), title.clone()))
    });
    render(p)
}

/// What an upload changed, in words: the control's status and the score, before and after
/// (the before-values travel in the redirect; only known words and numbers are read back).
fn upload_impact(a: &evident_store::Assessment, code: &str, q: &BTreeMap<String, String>) -> String {
    let now = a.readiness.controls.iter().find(|s| s.control == code);
    let was = q.get("was").and_then(|w| {
        [Status::Ready, Status::AtRisk, Status::Gap, Status::NotApplicable]
            .into_iter()
            .find(|s| s.as_str() == w)
    });
    let mut out = match (was, now) {
        (Some(w), Some(n)) if w != n.status => {
            format!("{code} is now {} (it was {}).", n.status.label(), w.label())
        }
        (_, Some(n)) if n.status == Status::Ready => format!("{code} is ready."),
        (_, Some(n)) => match n.reasons.first() {
            Some(r) => format!(
                "{code} is still {}: {}.",
                n.status.label(),
                r.text.trim_end_matches('.')
            ),
            None => format!("{code} is {}.", n.status.label()),
        },
        _ => String::new(),
    };
    if let Some(score) = q.get("score").and_then(|s| s.parse::<u32>().ok()).filter(|s| *s <= 100) {
        if score != a.readiness.score {
            out.push_str(&format!(" Readiness score {score} → {}.", a.readiness.score));
        } else {
            out.push_str(&format!(" Readiness score unchanged at {}.", a.readiness.score));
        }
    }
    out.trim().to_string()
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    mp: Multipart,
) -> Result<Response, ServerError> {
    let code = code.to_uppercase();
    // Where things stood before, so the page after can say what the upload changed.
    let before = {
        let snap = state.snapshot().await?;
        snap.assessment.as_ref().map(|a| {
            let status = a
                .readiness
                .controls
                .iter()
                .find(|s| s.control == code)
                .map(|s| s.status.as_str())
                .unwrap_or("");
            format!("&was={status}&score={}", a.readiness.score)
        })
    };
    let result = match receive(&state, mp).await {
        Ok(up) => store_upload(&state, &access, &code, &up)
            .await
            .map(|_| ())
            .map_err(|e| (e, up.fields.get("title").cloned())),
        Err(r) => Err((r.error, r.fields.get("title").cloned())),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/controls/{code}?done=uploaded{}#evidence",
            before.unwrap_or_default()
        ))
        .into_response()),
        Err((ServerError::Invalid { reason, .. }, title)) => {
            let p = control_page(&state, &access, &code, reason, title.unwrap_or_default()).await?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                axum::response::Html(p.render()?),
            )
                .into_response())
        }
        Err((e, _)) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct OwnerForm {
    owner: String,
}

pub async fn set_owner(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    Form(form): Form<OwnerForm>,
) -> Result<Response, ServerError> {
    if access.reach != Reach::All {
        return Err(ServerError::NotFound);
    }
    let code = code.to_uppercase();
    let owner = form.owner.trim();
    let owner = (!owner.is_empty()).then_some(owner);
    if let Some(o) = owner {
        evident_core::parse_email(o).map_err(|e| ServerError::invalid("owner", e))?;
    }
    state
        .ws
        .as_actor(&access.user.email)
        .set_control_owner(&code, owner)
        .await?;
    Ok(Redirect::to(&format!("/controls/{code}?done=saved")).into_response())
}
