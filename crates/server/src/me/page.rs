//! The page of one person's policies, tasks, training, password and sessions.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::{Layout, flash_from, render};

use super::mine;
use crate::web::markdown::SafeHtml;

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    layout: Layout,
    /// (policy id, title, version, rendered body)
    to_accept: Vec<(String, String, i64, SafeHtml)>,
    accepted: Vec<(String, i64, String)>,
    tasks: Vec<(String, String, String, String)>,
    training: Vec<(String, String)>,
    password_error: String,
    min_password: usize,
    /// Why acceptances cannot be recorded for this account, if they cannot.
    note: String,
    staff: bool,
    /// Access review items waiting for this person's decision, and how many are past due.
    reviews: usize,
    reviews_overdue: usize,
}

async fn me_page(state: &AppState, access: &Access, password_error: String) -> Result<MePage, ServerError> {
    let m = mine(state, &access.user.email).await?;
    let note = if m.staff {
        String::new()
    } else if access.role() == evident_core::access::Role::Employee {
        format!(
            "{} is not among the current staff in the people register, so no policy is waiting for you here. Ask your compliance lead to add you.",
            access.user.email
        )
    } else {
        String::new()
    };
    let waiting = state
        .ws
        .as_actor(&access.user.email)
        .inbox_campaigns(crate::fieldwork::today())
        .await?;
    Ok(MePage {
        reviews: waiting.iter().map(|c| c.undecided as usize).sum(),
        reviews_overdue: waiting.iter().filter(|c| c.overdue).map(|c| c.undecided as usize).sum(),
        layout: Layout::new(state, access, "My policies and tasks", "/me"),
        to_accept: m.to_accept,
        accepted: m.accepted,
        tasks: m.tasks,
        training: m.training,
        password_error,
        min_password: evident_store::MIN_PASSWORD_CHARS,
        note,
        staff: m.staff,
    })
}

pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut p = me_page(&state, &access, String::new()).await?;
    p.layout.flash = flash_from(&q);
    render(p)
}

#[derive(Deserialize)]
pub struct AcceptForm {
    policy: String,
    version: i64,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, ServerError> {
    // The version the person read must still be the published one.
    let accepted = state
        .ws
        .as_actor(&access.user.email)
        .accept_policy(&form.policy, &access.user.email, Some(form.version))
        .await;
    match accepted {
        Ok(_) => Ok(Redirect::to("/me?done=accepted").into_response()),
        Err(e @ (evident_store::StoreError::Conflict(_) | evident_store::StoreError::NotFound { .. })) => {
            let mut p = me_page(&state, &access, String::new()).await?;
            if p.note.is_empty() {
                p.note = e.to_string().replace("--version: ", "");
            }
            Ok((axum::http::StatusCode::CONFLICT, Html(p.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    new_password: String,
}

/// A new password needs the current one: a session left open on someone's desk must not be
/// enough to take the account over. Wrong guesses count toward the sign-in limit.
pub async fn password(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ServerError> {
    let key = format!("email:{}", access.user.email);
    let refusal = if state.ws.sign_in_limited(&key).await? {
        Some("Too many wrong passwords. Wait 15 minutes and try again.".to_string())
    } else if state
        .ws
        .check_password(&access.user.email, &form.current_password)
        .await?
        .is_none()
    {
        state.ws.record_sign_in_failure(&[&key]).await?;
        Some("The current password is not right.".to_string())
    } else {
        evident_store::check_new_password(&form.new_password).err()
    };
    if let Some(reason) = refusal {
        let p = me_page(&state, &access, reason).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response());
    }
    state
        .ws
        .as_actor(&access.user.email)
        .set_password(&access.user.email, &form.new_password)
        .await?;
    Ok(Redirect::to("/login").into_response())
}

pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    state.ws.as_actor(&access.user.email).end_sessions(&access.user).await?;
    Ok((
        [(
            axum::http::header::SET_COOKIE,
            crate::access::session_cookie(&state, "", 0),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}
