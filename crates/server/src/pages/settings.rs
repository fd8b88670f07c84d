//! Settings (administrators only): users and their roles, API tokens.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::{ROLES, Role};
use evident_store::TokenScope;
use serde::Deserialize;
use serde_json::json;

use super::evidence::Detail;
use super::{Layout, flash_from, render};
use crate::ServerError;
use crate::access::Access;
use crate::html::{esc, when};
use crate::state::AppState;

pub fn user_json(u: &evident_store::User) -> serde_json::Value {
    json!({"email": u.email, "role": u.role.name(), "totp_enabled": u.totp_enabled,
           "created_at": u.created_at, "disabled_at": u.disabled_at})
}

pub fn token_json(t: &evident_store::ApiToken) -> serde_json::Value {
    json!({"id": t.id, "user": t.user, "name": t.name, "scope": t.scope, "created_at": t.created_at,
           "expires_at": t.expires_at, "revoked_at": t.revoked_at})
}

#[derive(Default)]
struct FormState {
    email: String,
    role: String,
    error_field: &'static str,
    error: String,
    /// A secret to show once (a new user's password, a new token).
    secret: Option<(String, String)>,
}

async fn settings_page(state: &AppState, access: &Access, f: FormState) -> Result<Detail, ServerError> {
    let csrf = esc(access.csrf.as_deref().unwrap_or(""));
    let users = state.ws.users().await?;
    let mut u = String::from(
        "<div class=\"table-wrap\"><table class=\"data\" id=\"users\"><thead><tr><th>Email</th><th>Role</th><th>Second factor</th><th>Since</th><th>State</th><th>Actions</th></tr></thead><tbody>",
    );
    for x in &users {
        let target = crate::html::url_encode(&x.email);
        let roles: String = ROLES
            .iter()
            .map(|r| {
                format!(
                    "<option value=\"{}\"{}>{}</option>",
                    r.name(),
                    if *r == x.role { " selected" } else { "" },
                    r.label()
                )
            })
            .collect();
        let myself = x.email == access.user.email;
        let actions = if myself {
            "<span class=\"small muted\">you</span>".to_string()
        } else {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/settings/users/{target}/role\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <label class=\"visually-hidden\" for=\"role-{target}\">Role of {email}</label><select id=\"role-{target}\" name=\"role\">{roles}</select> <button type=\"submit\">Change role</button></form> \
                 <form class=\"inline\" method=\"post\" action=\"/settings/users/{target}/{toggle}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"{class}\">{verb}</button></form> \
                 {reset}",
                email = esc(&x.email),
                toggle = if x.disabled_at.is_some() { "enable" } else { "disable" },
                class = if x.disabled_at.is_some() { "" } else { "danger" },
                verb = if x.disabled_at.is_some() { "Enable" } else { "Disable" },
                reset = if x.totp_enabled {
                    format!(
                        "<form class=\"inline\" method=\"post\" action=\"/settings/users/{target}/reset-totp\" data-confirm=\"Remove this person's second factor? They set up a new one at their next sign-in.\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Reset second factor</button></form>"
                    )
                } else {
                    String::new()
                }
            )
        };
        u.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>",
            esc(&x.email),
            x.role.label(),
            if x.totp_enabled { "TOTP" } else { "none" },
            when(x.created_at),
            if x.disabled_at.is_some() { "disabled" } else { "active" }
        ));
    }
    u.push_str("</tbody></table></div>");
    let options: String = ROLES
        .iter()
        .map(|r| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                r.name(),
                if f.role == r.name() { " selected" } else { "" },
                r.label()
            )
        })
        .collect();
    let err = |field: &str| {
        if f.error_field == field {
            format!("<span class=\"error\" id=\"{field}-error\">{}</span>", esc(&f.error))
        } else {
            String::new()
        }
    };
    let invalid = |field: &str| if f.error_field == field { " invalid" } else { "" };
    u.push_str(&format!(
        "<h3>Add a user</h3><form class=\"stack\" method=\"post\" action=\"/settings/users\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"field{}\"><label for=\"new-email\">Email</label><input type=\"email\" id=\"new-email\" name=\"email\" value=\"{}\" required>{}</div>\
         <div class=\"field{}\"><label for=\"new-role\">Role</label><select id=\"new-role\" name=\"role\">{options}</select>{}</div>\
         <button class=\"primary\" type=\"submit\">Add user</button></form>",
        invalid("email"),
        esc(&f.email),
        err("email"),
        invalid("role"),
        err("role"),
    ));
    let tokens = state.ws.tokens().await?;
    let mut t = String::from(
        "<div class=\"table-wrap\"><table class=\"data\" id=\"tokens\"><thead><tr><th>Name</th><th>User</th><th>Scope</th><th>Created</th><th>State</th><th></th></tr></thead><tbody>",
    );
    for x in &tokens {
        let revoke = if x.revoked_at.is_none() {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/settings/tokens/{}/revoke\" data-confirm=\"Revoke this token? Scripts using it stop working.\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button class=\"danger\" type=\"submit\">Revoke</button></form>",
                esc(&x.id)
            )
        } else {
            String::new()
        };
        t.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{revoke}</td></tr>",
            esc(&x.name),
            esc(&x.user),
            crate::pages::name_of(x.scope),
            when(x.created_at),
            match x.revoked_at {
                Some(at) => format!("revoked {}", when(at)),
                None => "active".into(),
            }
        ));
    }
    t.push_str("</tbody></table></div>");
    t.push_str(&format!(
        "<h3>Create a token</h3><form class=\"stack\" method=\"post\" action=\"/settings/tokens\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"field{}\"><label for=\"token-name\">What uses it</label><input type=\"text\" id=\"token-name\" name=\"name\" required>{}</div>\
         <div class=\"field\"><label for=\"token-scope\">Scope</label><select id=\"token-scope\" name=\"scope\"><option value=\"read\">read</option><option value=\"write\">write</option></select></div>\
         <p class=\"small muted\">The token acts as you, never with more than your role allows.</p>\
         <button type=\"submit\">Create token</button></form>",
        invalid("name"),
        err("name"),
    ));
    let mut sections = Vec::new();
    if let Some((label, secret)) = &f.secret {
        sections.push((
            label.clone(),
            format!(
                "<p>Shown once; it is stored only as a hash.</p><p class=\"mono\" id=\"secret\">{}</p>",
                esc(secret)
            ),
        ));
    }
    sections.push(("Users".into(), u));
    sections.push(("API tokens".into(), t));
    Ok(Detail::new(
        Layout::new(state, access, "Settings", "/settings"),
        "",
        sections,
    ))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut p = settings_page(&state, &access, FormState::default()).await?;
    p.layout.flash = flash_from(&q);
    render(p)
}

#[derive(Deserialize)]
pub struct UserForm {
    email: String,
    role: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<UserForm>,
) -> Result<Response, ServerError> {
    let mut f = FormState {
        email: form.email.clone(),
        role: form.role.clone(),
        ..FormState::default()
    };
    let result = match Role::parse(&form.role) {
        Err(e) => Err(("role", e)),
        Ok(role) => match state.ws.as_actor(&access.user.email).add_user(&form.email, role).await {
            Ok(r) => Ok(r),
            Err(e @ (evident_store::StoreError::Invalid(_) | evident_store::StoreError::Conflict(_))) => {
                Err(("email", e.to_string()))
            }
            Err(e) => return Err(e.into()),
        },
    };
    match result {
        Ok((user, password)) => {
            f = FormState {
                secret: Some((format!("One-time password for {}", user.email), password)),
                ..FormState::default()
            };
            let mut p = settings_page(&state, &access, f).await?;
            p.layout.flash = Some(format!("Added {} as {}.", user.email, user.role.label()));
            render(p)
        }
        Err((field, reason)) => {
            f.error_field = field;
            f.error = reason;
            let p = settings_page(&state, &access, f).await?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(askama::Template::render(&p)?),
            )
                .into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    scope: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<TokenForm>,
) -> Result<Response, ServerError> {
    let scope = TokenScope::parse(&form.scope).map_err(|e| ServerError::invalid("scope", e))?;
    match state
        .ws
        .as_actor(&access.user.email)
        .create_token(&access.user.email, &form.name, scope, None)
        .await
    {
        Ok((token, secret)) => {
            let f = FormState {
                secret: Some((format!("Token \"{}\"", token.name), secret)),
                ..FormState::default()
            };
            render(settings_page(&state, &access, f).await?)
        }
        Err(evident_store::StoreError::Invalid(reason)) => {
            let f = FormState {
                error_field: "name",
                error: reason,
                ..FormState::default()
            };
            let p = settings_page(&state, &access, f).await?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(askama::Template::render(&p)?),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    state.ws.as_actor(&access.user.email).revoke_token(&id).await?;
    Ok(Redirect::to("/settings?done=revoked").into_response())
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

/// Administrators change others, never themselves (so an instance cannot lose its last admin
/// by a slip of the mouse).
fn not_self(access: &Access, email: &str) -> Result<(), ServerError> {
    if access.user.email.eq_ignore_ascii_case(email.trim()) {
        return Err(ServerError::Conflict(
            "you cannot change your own role or access here; ask another administrator".into(),
        ));
    }
    Ok(())
}

pub async fn set_role(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, ServerError> {
    not_self(&access, &email)?;
    let role = Role::parse(&form.role).map_err(|e| ServerError::invalid("role", e))?;
    state
        .ws
        .as_actor(&access.user.email)
        .set_user_role(&email, role)
        .await?;
    Ok(Redirect::to("/settings?done=saved").into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
) -> Result<Response, ServerError> {
    not_self(&access, &email)?;
    state
        .ws
        .as_actor(&access.user.email)
        .set_user_disabled(&email, true)
        .await?;
    Ok(Redirect::to("/settings?done=saved").into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
) -> Result<Response, ServerError> {
    state
        .ws
        .as_actor(&access.user.email)
        .set_user_disabled(&email, false)
        .await?;
    Ok(Redirect::to("/settings?done=saved").into_response())
}

pub async fn reset_totp(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
) -> Result<Response, ServerError> {
    not_self(&access, &email)?;
    state.ws.as_actor(&access.user.email).reset_totp(&email).await?;
    Ok(Redirect::to("/settings?done=saved").into_response())
}
