//! The one place that decides who may do what. Every route is registered with its [`Area`];
//! [`guard`] identifies the caller (session cookie or API token), asks
//! `evident_core::access::reach`, and answers 404 when the answer is no, so a route a role
//! may not use looks exactly like one that does not exist.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use evident_core::access::{Action, Area, Reach, Role, reach};
use evident_store::{SessionStage, TokenScope, User};

use crate::error::{ApiError, ServerError};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "evident_session";

/// Who is calling and how much of the route's area they reach.
#[derive(Clone, Debug)]
pub struct Access {
    pub user: User,
    pub reach: Reach,
    /// The session's CSRF token (absent for API tokens, which forms never carry).
    pub csrf: Option<String>,
}

impl Access {
    pub fn role(&self) -> Role {
        self.user.role
    }
    /// Whether this caller may write in `area` at all (to show or hide buttons).
    pub fn may_write(&self, area: Area) -> bool {
        reach(self.user.role, area, Action::Write) != Reach::None
    }
    pub fn may_read(&self, area: Area) -> bool {
        reach(self.user.role, area, Action::Read) != Reach::None
    }
    /// The caller as another area sees them: a page in one area that shows or changes what
    /// another area governs (the gaps of controls, evidence moved onto controls) follows that
    /// area's reach, not its own route's.
    pub fn as_in(&self, area: Area, action: Action) -> Access {
        Access {
            reach: reach(self.user.role, area, action),
            ..self.clone()
        }
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn session_cookie(state: &AppState, value: &str, max_age_s: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if state.secure_cookies { "; Secure" } else { "" }
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn is_api(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
}

/// Unsafe methods from a browser must carry the session's CSRF token (form field or header)
/// and, when the browser says where it came from, come from here.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let area = *req
        .extensions()
        .get::<Area>()
        .expect("every guarded route names its area");
    let api = is_api(&req);
    let action = match *req.method() {
        Method::GET | Method::HEAD => Action::Read,
        _ => Action::Write,
    };
    let deny = |e: ServerError| -> Response {
        if api {
            ApiError(e).into_response()
        } else {
            e.into_response()
        }
    };

    // API tokens: only under /api/v1, never for pages.
    let (user, csrf, token_scope) = if let Some(secret) = bearer(req.headers()).filter(|_| api) {
        match state.ws.token_user(secret).await {
            Ok(Some((user, scope))) => (user, None, Some(scope)),
            Ok(None) => return deny(ServerError::Unauthenticated),
            Err(e) => return deny(e.into()),
        }
    } else {
        let session = match cookie(req.headers(), SESSION_COOKIE) {
            Some(c) => state.ws.session(&c).await,
            None => Ok(None),
        };
        match session {
            Ok(Some(s)) if s.stage == SessionStage::Full => (s.user, Some(s.csrf), None),
            Ok(Some(s)) if !api => {
                let step = match s.stage {
                    SessionStage::ChangePassword => "/login/password",
                    _ if s.user.totp_enabled => "/login/totp",
                    _ => "/login/enroll",
                };
                return Redirect::to(step).into_response();
            }
            Ok(_) if api => return deny(ServerError::Unauthenticated),
            Ok(_) => {
                let back = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                return Redirect::to(&format!("/login?next={}", crate::web::html::url_encode(back))).into_response();
            }
            Err(e) => return deny(e.into()),
        }
    };

    let mut r = reach(user.role, area, action);
    if token_scope == Some(TokenScope::Read) && action == Action::Write {
        r = Reach::None;
    }
    if r == Reach::None {
        return deny(ServerError::NotFound);
    }
    if action == Action::Write
        && let Some(want) = csrf.as_deref()
    {
        if !same_origin(req.headers()) {
            return deny(ServerError::Csrf);
        }
        req = match csrf_token_matches(req, want).await {
            Ok(req) => req,
            Err(e) => return deny(e),
        };
    }
    req.extensions_mut().insert(Access { user, reach: r, csrf });
    next.run(req).await
}

/// The session's CSRF token must come with every write made with a session cookie: as the
/// `X-CSRF-Token` header (htmx, scripts), a `csrf` query parameter (multipart uploads, whose
/// bodies are streamed, not buffered) or a `csrf` field of a url-encoded form.
async fn csrf_token_matches(req: Request, want: &str) -> Result<Request, ServerError> {
    let given_header = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
    if given_header.is_some() {
        return if given_header == Some(want) {
            Ok(req)
        } else {
            Err(ServerError::Csrf)
        };
    }
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "csrf")
            .map(|(_, v)| v.to_string())
    });
    if let Some(q) = from_query {
        return if q == want { Ok(req) } else { Err(ServerError::Csrf) };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ServerError::Csrf);
    }
    let (parts, body) = req.into_parts();
    // Url-encoded forms (policy text is the largest) are read whole to find their CSRF field.
    let bytes = axum::body::to_bytes(body, crate::routes::FORM_LIMIT)
        .await
        .map_err(|_| ServerError::invalid("form", "the form is larger than 2 MiB"))?;
    let field = form_field(&bytes, "csrf");
    if field.as_deref() != Some(want) {
        return Err(ServerError::Csrf);
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.replace('+', " "))
}
