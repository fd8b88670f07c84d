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
    min_password: usize,
}

impl LoginPage {
    fn new(state: &AppState, step: &'static str) -> LoginPage {
        LoginPage {
            title: match step {
                "password" => "Sign in",
                "totp" => "Second factor",
                "new_password" => "Choose your password",
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
            min_password: evident_store::MIN_PASSWORD_CHARS,
        }
    }
    /// `next`, ready for a form's query string.
    fn next_query(&self) -> String {
        crate::web::html::url_encode(&self.next)
    }
    fn respond(self, status: axum::http::StatusCode) -> Result<Response, ServerError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only paths on this site: `?next=https://evil.example` must not send anyone away. Browsers
/// drop tabs and newlines from URLs and read `\\` as `/`, so `/\t/evil.example` is off-site to
/// them: only printable ASCII is taken, and the path must still be on this site after
/// percent-decoding (as often as it decodes). Anything else goes to the home page.
pub fn safe_next(next: Option<&str>) -> String {
    let home = || "/".to_string();
    let Some(n) = next else { return home() };
    if !n.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return home();
    }
    let mut decoded = n.to_string();
    for _ in 0..4 {
        if !on_this_site(&decoded) {
            return home();
        }
        let next = percent_decode(&decoded);
        if next == decoded {
            return n.to_string();
        }
        decoded = next;
    }
    home()
}

fn on_this_site(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.chars().any(char::is_control)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
    let client = state.client_ip(peer.ip(), &headers);
    let keys = [format!("email:{email}"), format!("ip:{client}")];
    let mut page = LoginPage::new(&state, "password");
    page.email = form.email.clone();
    page.next = safe_next(form.next.as_deref());
    let mut limited = false;
    for k in &keys {
        limited |= state.ws.sign_in_limited(k).await?;
    }
    if limited {
        tracing::warn!(client = %client, "sign-in rate limited");
        page.error = "Too many failed attempts. Wait 15 minutes and try again.".into();
        return page.respond(axum::http::StatusCode::TOO_MANY_REQUESTS);
    }
    let Some(user) = state.ws.check_password(&email, &form.password).await? else {
        state
            .ws
            .record_sign_in_failure(&keys.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        tracing::info!(client = %client, "sign-in failed");
        page.error = "That email and password do not match an active account.".into();
        return page.respond(axum::http::StatusCode::UNAUTHORIZED);
    };
    for k in &keys {
        state.ws.clear_sign_in_failures(k).await?;
    }
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
            format!("{step}?next={}", crate::web::html::url_encode(&page.next)),
        )
    } else if user.password_one_time {
        (
            SessionStage::ChangePassword,
            PENDING_MS,
            format!("/login/password?next={}", crate::web::html::url_encode(&page.next)),
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
    pending_at(state, headers, SessionStage::Password).await
}

async fn pending_at(
    state: &AppState,
    headers: &HeaderMap,
    stage: SessionStage,
) -> Result<Option<(String, evident_store::Session)>, ServerError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .ws
        .session(&token)
        .await?
        .filter(|s| s.stage == stage)
        .map(|s| (token, s)))
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub async fn totp_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, ServerError> {
    if pending(&state, &headers).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    let mut page = LoginPage::new(&state, "totp");
    page.next = safe_next(q.next.as_deref());
    page.respond(axum::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// Upgrades the pending session to a full one, under a fresh cookie (the session id changes
/// when privilege does); someone signed in with a one-time password chooses their own first.
async fn finish(state: &AppState, old: &str, user: &User, next: Option<&str>) -> Result<Response, ServerError> {
    let ws = state.ws.as_actor(&user.email);
    ws.end_session(old).await?;
    if user.password_one_time {
        let token = ws
            .create_session(user, SessionStage::ChangePassword, PENDING_MS)
            .await?;
        return Ok((
            [(header::SET_COOKIE, session_cookie(state, &token, PENDING_MS / 1000))],
            Redirect::to(&format!(
                "/login/password?next={}",
                crate::web::html::url_encode(&safe_next(next))
            )),
        )
            .into_response());
    }
    signed_in(state, user, next).await
}

/// Records the sign-in and answers with a new full session's cookie, on to `next`.
async fn signed_in(state: &AppState, user: &User, next: Option<&str>) -> Result<Response, ServerError> {
    let ws = state.ws.as_actor(&user.email);
    ws.complete_session(user).await?;
    let token = ws.create_session(user, SessionStage::Full, session_ms(state)).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(state, &token, session_ms(state) / 1000),
        )],
        // With nowhere asked for, each role lands on its home (an employee on their own page).
        Redirect::to(&match next {
            None | Some("/") => evident_core::access::home(user.role).to_string(),
            Some(_) => safe_next(next),
        }),
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
    let step = if state.ws.sign_in_limited(&key).await? {
        None
    } else {
        secret.and_then(|s| totp::verify(&s, &form.code, now_s()))
    };
    let refusal = match step {
        None => Some("That code is not the current one. Check your device's clock and try again."),
        // A code works once: one seen on the wire or over a shoulder cannot sign anyone in.
        Some(step) if !state.ws.spend_totp_step(&session.user, step).await? => {
            Some("That code was already used. Wait for the next code and enter it.")
        }
        Some(_) => None,
    };
    if let Some(message) = refusal {
        state.ws.record_sign_in_failure(&[&key]).await?;
        let mut page = LoginPage::new(&state, "totp");
        page.next = safe_next(q.next.as_deref());
        page.error = message.into();
        return page.respond(axum::http::StatusCode::UNAUTHORIZED);
    }
    state.ws.clear_sign_in_failures(&key).await?;
    finish(&state, &token, &session.user, q.next.as_deref()).await
}

/// The secret offered for enrolment: derived from the pending session, so it needs no storage
/// until the person proves they hold it, and a new sign-in offers a new one.
fn enrolment_secret(session_csrf: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(session_csrf.as_bytes()).expect("any key length");
    mac.update(b"evident totp enrolment");
    mac.finalize().into_bytes()[..20].to_vec()
}

pub async fn enroll_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, ServerError> {
    let Some((_, session)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    // Enrolment is for a first factor only: a password alone must never replace one.
    if session.user.totp_enabled {
        return Ok(Redirect::to("/login/totp").into_response());
    }
    let mut page = LoginPage::new(&state, "enroll");
    page.next = safe_next(q.next.as_deref());
    enrolment_page(&mut page, &state, &session);
    page.respond(axum::http::StatusCode::OK)
}

fn enrolment_page(page: &mut LoginPage, state: &AppState, session: &evident_store::Session) {
    let secret = totp::base32(&enrolment_secret(&session.csrf));
    let issuer = crate::web::html::url_encode(&format!("Evident {}", state.ws.organisation));
    page.uri = format!(
        "otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        crate::web::html::url_encode(&session.user.email)
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
    if session.user.totp_enabled {
        return Ok(Redirect::to("/login/totp").into_response());
    }
    let secret = enrolment_secret(&session.csrf);
    let Some(step) = totp::verify(&secret, &form.code, now_s()) else {
        let mut page = LoginPage::new(&state, "enroll");
        page.next = safe_next(q.next.as_deref());
        enrolment_page(&mut page, &state, &session);
        page.error = "That code does not match the key. Enter the code your app shows now.".into();
        return page.respond(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    };
    match state
        .ws
        .as_actor(&session.user.email)
        .enable_totp(&session.user, &secret, step)
        .await
    {
        Ok(()) => {}
        // Another sign-in enrolled a factor first: this one must now be given.
        Err(evident_store::StoreError::Conflict(_)) => return Ok(Redirect::to("/login/totp").into_response()),
        Err(e) => return Err(e.into()),
    }
    finish(&state, &token, &session.user, q.next.as_deref()).await
}

pub async fn new_password_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, ServerError> {
    if pending_at(&state, &headers, SessionStage::ChangePassword)
        .await?
        .is_none()
    {
        return Ok(Redirect::to("/login").into_response());
    }
    let mut page = LoginPage::new(&state, "new_password");
    page.next = safe_next(q.next.as_deref());
    page.respond(axum::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    new_password: String,
    confirm: String,
}

/// The one-time password is replaced by one the person chose; then they are signed in.
pub async fn new_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, ServerError> {
    check_origin(&headers)?;
    let Some((_, session)) = pending_at(&state, &headers, SessionStage::ChangePassword).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let user = &session.user;
    let refusal = if form.new_password != form.confirm {
        Some("The two passwords differ. Type the same password twice.".to_string())
    } else if let Err(reason) = evident_store::check_new_password(&form.new_password) {
        Some(format!("Choose another password: {reason}."))
    } else if state
        .ws
        .check_password(&user.email, &form.new_password)
        .await?
        .is_some()
    {
        Some("Choose a password of your own, not the one you were given.".to_string())
    } else {
        None
    };
    if let Some(message) = refusal {
        let mut page = LoginPage::new(&state, "new_password");
        page.next = safe_next(q.next.as_deref());
        page.error = message;
        return page.respond(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Ends every session of the user, this pending one included.
    let ws = state.ws.as_actor(&user.email);
    ws.set_password(&user.email, &form.new_password).await?;
    signed_in(&state, &ws.user(&user.email).await?, q.next.as_deref()).await
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

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_leads_only_to_paths_on_this_site() {
        for hostile in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie:x=1",
            "/%2f/evil.example",
            "/%252f%252fevil.example",
            "/%5cevil.example",
            "/\\evil.example",
            "//evil.example",
            "https://evil.example",
            "evil.example",
            "/ caf\u{e9}",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        for fine in [
            "/",
            "/controls?status=gap",
            "/evidence?q=access%20review",
            "/policies/p-1#top",
        ] {
            assert_eq!(safe_next(Some(fine)), fine);
        }
        assert_eq!(safe_next(None), "/");
    }
}
