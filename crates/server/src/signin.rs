//! Signing in: password, then the second factor (or its enrolment when the role requires one
//! and the person has none yet), then a full session. Sign-out ends the session.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use evident_store::{SessionStage, User};
use hmac::{Hmac, Mac};
use serde::Deserialize;

use crate::ServerError;
use crate::access::{SESSION_COOKIE, cookie, session_cookie};
use crate::state::AppState;
use crate::totp;

/// A half-finished sign-in lasts this long.
const PENDING_MS: i64 = 10 * 60 * 1000;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    title: &'static str,
    org: String,
    step: &'static str,
    error: String,
    email: String,
    next: String,
    secret: String,
    uri: String,
    /// The single sign-on button's words, when a provider is configured.
    oidc: Option<String>,
}

impl LoginPage {
    fn new(state: &AppState, step: &'static str) -> LoginPage {
        LoginPage {
            title: match step {
                "password" => "Sign in",
                "totp" => "Second factor",
                _ => "Set up a second factor",
            },
            org: state.ws.organisation.clone(),
            step,
            error: String::new(),
            email: String::new(),
            next: "/".into(),
            secret: String::new(),
            uri: String::new(),
            oidc: state
                .ws
                .config
                .server
                .oidc
                .as_ref()
                .map(|o| o.label.clone().unwrap_or_else(|| "Sign in with single sign-on".into())),
        }
    }
    fn respond(self, status: axum::http::StatusCode) -> Result<Response, ServerError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only paths on this site: `?next=https://evil.example` must not send anyone away.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

/// The sign-in page with a message (single sign-on refusals).
pub fn login_error(state: &AppState, message: &str) -> Result<Response, ServerError> {
    let mut page = LoginPage::new(state, "password");
    page.error = message.to_string();
    page.respond(axum::http::StatusCode::UNAUTHORIZED)
}

pub async fn login_form(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Result<Response, ServerError> {
    let mut page = LoginPage::new(&state, "password");
    page.next = safe_next(q.next.as_deref());
    page.respond(axum::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn requires_totp(state: &AppState, user: &User) -> bool {
    state
        .ws
        .config
        .server
        .require_totp
        .iter()
        .any(|r| r == user.role.name())
}

fn check_origin(headers: &HeaderMap) -> Result<(), ServerError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    match origin {
        Some(o) if o.split_once("://").map(|(_, r)| r.trim_end_matches('/')) != Some(host) => Err(ServerError::Csrf),
        _ => Ok(()),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ServerError> {
    check_origin(&headers)?;
    let email = form.email.trim().to_lowercase();
    let keys = [format!("email:{email}"), format!("ip:{}", peer.ip())];
    let mut page = LoginPage::new(&state, "password");
    page.email = form.email.clone();
    page.next = safe_next(form.next.as_deref());
    if keys.iter().any(|k| state.limited(k)) {
        tracing::warn!(peer = %peer.ip(), "sign-in rate limited");
        page.error = "Too many failed attempts. Wait 15 minutes and try again.".into();
        return page.respond(axum::http::StatusCode::TOO_MANY_REQUESTS);
    }
    let Some(user) = state.ws.check_password(&email, &form.password).await? else {
        keys.iter().for_each(|k| state.record_failure(k));
        tracing::info!(peer = %peer.ip(), "sign-in failed");
        page.error = "That email and password do not match an active account.".into();
        return page.respond(axum::http::StatusCode::UNAUTHORIZED);
    };
    keys.iter().for_each(|k| state.clear_failures(k));
    // People whose role has no dashboard start on their own page.
    if page.next == "/"
        && evident_core::access::reach(
            user.role,
            evident_core::access::Area::Dashboard,
            evident_core::access::Action::Read,
        ) == evident_core::access::Reach::None
    {
        page.next = "/me".into();
    }
    let second_factor = user.totp_enabled || requires_totp(&state, &user);
    let (stage, lifetime, to) = if second_factor {
        let step = if user.totp_enabled {
            "/login/totp"
        } else {
            "/login/enroll"
        };
        (
            SessionStage::Password,
            PENDING_MS,
            format!("{step}?next={}", crate::html::url_encode(&page.next)),
        )
    } else {
        (SessionStage::Full, session_ms(&state), page.next.clone())
    };
    let token = state
        .ws
        .as_actor(&user.email)
        .create_session(&user, stage, lifetime)
        .await?;
    Ok((
        [(header::SET_COOKIE, session_cookie(&state, &token, lifetime / 1000))],
        Redirect::to(&to),
    )
        .into_response())
}

pub fn session_ms(state: &AppState) -> i64 {
    i64::from(state.ws.config.server.session_hours.max(1)) * 3_600_000
}

/// The pending session of someone who gave their password but not yet their second factor.
async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, evident_store::Session)>, ServerError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .ws
        .session(&token)
        .await?
        .filter(|s| s.stage == SessionStage::Password)
        .map(|s| (token, s)))
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub async fn totp_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    if pending(&state, &headers).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    LoginPage::new(&state, "totp").respond(axum::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// Upgrades the pending session to a full one, under a fresh cookie (the session id changes
/// when privilege does).
async fn finish(state: &AppState, old: &str, user: &User, next: Option<&str>) -> Result<Response, ServerError> {
    let ws = state.ws.as_actor(&user.email);
    ws.complete_session(old, user).await?;
    ws.end_session(old).await?;
    let token = ws.create_session(user, SessionStage::Full, session_ms(state)).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(state, &token, session_ms(state) / 1000),
        )],
        Redirect::to(&safe_next(next)),
    )
        .into_response())
}

pub async fn totp(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    Form(form): Form<CodeForm>,
) -> Result<Response, ServerError> {
    check_origin(&headers)?;
    let Some((token, session)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let key = format!("totp:{}", session.user.email);
    let secret = state.ws.totp_secret(&session.user).await?;
    let ok = !state.limited(&key) && secret.is_some_and(|s| totp::verify(&s, &form.code, now_s()));
    if !ok {
        state.record_failure(&key);
        let mut page = LoginPage::new(&state, "totp");
        page.error = "That code is not the current one. Check your device's clock and try again.".into();
        return page.respond(axum::http::StatusCode::UNAUTHORIZED);
    }
    state.clear_failures(&key);
    finish(&state, &token, &session.user, q.next.as_deref()).await
}

/// The secret offered for enrolment: derived from the pending session, so it needs no storage
/// until the person proves they hold it, and a new sign-in offers a new one.
fn enrolment_secret(session_csrf: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(session_csrf.as_bytes()).expect("any key length");
    mac.update(b"evident totp enrolment");
    mac.finalize().into_bytes()[..20].to_vec()
}

pub async fn enroll_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    let Some((_, session)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let mut page = LoginPage::new(&state, "enroll");
    enrolment_page(&mut page, &state, &session);
    page.respond(axum::http::StatusCode::OK)
}

fn enrolment_page(page: &mut LoginPage, state: &AppState, session: &evident_store::Session) {
    let secret = totp::base32(&enrolment_secret(&session.csrf));
    let issuer = crate::html::url_encode(&format!("Evident {}", state.ws.organisation));
    page.uri = format!(
        "otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        crate::html::url_encode(&session.user.email)
    );
    page.secret = secret;
}

pub async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    Form(form): Form<CodeForm>,
) -> Result<Response, ServerError> {
    check_origin(&headers)?;
    let Some((token, session)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let secret = enrolment_secret(&session.csrf);
    if !totp::verify(&secret, &form.code, now_s()) {
        let mut page = LoginPage::new(&state, "enroll");
        enrolment_page(&mut page, &state, &session);
        page.error = "That code does not match the key. Enter the code your app shows now.".into();
        return page.respond(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
    state
        .ws
        .as_actor(&session.user.email)
        .enable_totp(&session.user, &secret)
        .await?;
    finish(&state, &token, &session.user, q.next.as_deref()).await
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ServerError> {
    check_origin(&headers)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.ws.end_session(&token).await?;
    }
    Ok((
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
        Redirect::to("/login"),
    )
        .into_response())
}
