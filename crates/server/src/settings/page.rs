//! The settings page and its forms.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Field, Form as FormBlock, Inline, Input, Section, Table, text};
use crate::web::html::{url_encode, when};
use crate::web::{DetailPage, Layout, flash_from, name_of, render};
use evident_core::access::{ROLES, Role};
use evident_store::TokenScope;

#[derive(Default)]
struct FormState {
    email: String,
    role: String,
    name: String,
    employment_type: String,
    start_date: String,
    error_field: &'static str,
    error: String,
    /// A secret to show once (a new user's password, a new token).
    secret: Option<(String, String)>,
}

async fn settings_page(state: &AppState, access: &Access, f: FormState) -> Result<DetailPage, ServerError> {
    let role_options = || -> Vec<(String, String)> {
        ROLES
            .iter()
            .map(|r| (r.name().to_string(), r.label().to_string()))
            .collect()
    };
    let users = state.ws.users().await?;
    let user_rows = users
        .iter()
        .map(|x| {
            let target = url_encode(&x.email);
            let actions = if x.email == access.user.email {
                vec![Inline::muted("you")]
            } else {
                let mut role = FormBlock::post(format!("/settings/users/{target}/role"), &access.csrf, "Change role");
                role.inline = true;
                role.fields = vec![Field {
                    label_hidden: true,
                    ..Field::new(
                        format!("role-{target}"),
                        "role",
                        format!("Role of {}", x.email),
                        Input::Select(role_options()),
                    )
                    .value(x.role.name())
                }];
                let disabled = x.disabled_at.is_some();
                let mut toggle = FormBlock::post(
                    format!(
                        "/settings/users/{target}/{}",
                        if disabled { "enable" } else { "disable" }
                    ),
                    &access.csrf,
                    if disabled { "Enable" } else { "Disable" },
                );
                toggle.inline = true;
                toggle.submit_class = if disabled { "" } else { "danger" };
                let mut forms = vec![Inline::Form(Box::new(role)), Inline::Form(Box::new(toggle))];
                if x.totp_enabled {
                    let mut reset = FormBlock::post(
                        format!("/settings/users/{target}/reset-totp"),
                        &access.csrf,
                        "Reset second factor",
                    );
                    reset.inline = true;
                    reset.confirm =
                        Some("Remove this person's second factor? They set up a new one at their next sign-in.".into());
                    forms.push(Inline::Form(Box::new(reset)));
                }
                forms
            };
            vec![
                text(&x.email),
                text(x.role.label()),
                text(if x.totp_enabled { "TOTP" } else { "none" }),
                text(when(x.created_at)),
                text(if x.disabled_at.is_some() { "disabled" } else { "active" }),
                actions,
            ]
        })
        .collect();
    let error = |field: &str| (f.error_field == field).then(|| f.error.clone());
    let mut add_user = FormBlock::post("/settings/users", &access.csrf, "Add user");
    add_user.submit_class = "primary";
    add_user.fields = vec![
        Field::new("new-email", "email", "Email", Input::Email)
            .required()
            .value(&f.email)
            .error(error("email")),
        // The least privilege unless a role was chosen: an employee sees only their own items.
        Field::new("new-role", "role", "Role", Input::Select(role_options()))
            .value(if f.role.is_empty() { "employee" } else { f.role.as_str() })
            .error(error("role")),
        Field::new("new-name", "name", "Full name (a new employee)", Input::Text)
            .value(&f.name)
            .error(error("name")),
        Field::new(
            "new-employment",
            "employment_type",
            "Employment type (a new employee)",
            Input::Select(
                evident_core::registers::EMPLOYMENT_TYPES
                    .iter()
                    .map(|t| (t.to_string(), evident_core::register::label_of(t)))
                    .collect(),
            ),
        )
        .value(if f.employment_type.is_empty() {
            "employee"
        } else {
            f.employment_type.as_str()
        })
        .error(error("employment_type")),
        Field::new(
            "new-start",
            "start_date",
            "First working day (a new employee)",
            Input::Date,
        )
        .value(&f.start_date)
        .error(error("start_date")),
    ];
    add_user.hint = Some(
        "An employee's account is tied to their record in the people register. For someone not in it yet, give their name, type and first day: the record is created with the account. Other roles need only the email.".into(),
    );
    let tokens = state.ws.tokens().await?;
    let token_rows = tokens
        .iter()
        .map(|x| {
            let revoke = if x.revoked_at.is_none() {
                let mut form = FormBlock::post(
                    format!("/settings/tokens/{}/revoke", url_encode(&x.id)),
                    &access.csrf,
                    "Revoke",
                );
                form.inline = true;
                form.submit_class = "danger";
                form.confirm = Some("Revoke this token? Scripts using it stop working.".into());
                vec![Inline::Form(Box::new(form))]
            } else {
                Vec::new()
            };
            vec![
                text(&x.name),
                text(&x.user),
                text(name_of(x.scope)),
                text(when(x.created_at)),
                text(match x.revoked_at {
                    Some(at) => format!("revoked {}", when(at)),
                    None => "active".into(),
                }),
                revoke,
            ]
        })
        .collect();
    let mut create_token = FormBlock::post("/settings/tokens", &access.csrf, "Create token");
    create_token.fields = vec![
        Field::new("token-name", "name", "What uses it", Input::Text)
            .required()
            .error(error("name")),
        Field::new(
            "token-scope",
            "scope",
            "Scope",
            Input::Select(vec![("read".into(), "read".into()), ("write".into(), "write".into())]),
        ),
    ];
    create_token.hint = Some("The token acts as you, never with more than your role allows.".into());
    let mut sections = Vec::new();
    if let Some((label, secret)) = &f.secret {
        sections.push(Section::new(label.clone(), vec![Block::Secret(secret.clone())]));
    }
    sections.push(Section::new(
        "Users",
        vec![
            Block::Table(Table {
                id: "users".into(),
                head: ["Email", "Role", "Second factor", "Since", "State", "Actions"]
                    .map(String::from)
                    .to_vec(),
                rows: user_rows,
            }),
            Block::Heading("Add a user".into()),
            Block::Form(add_user),
        ],
    ));
    sections.push(Section::new(
        "API tokens",
        vec![
            Block::Table(Table {
                id: "tokens".into(),
                head: ["Name", "User", "Scope", "Created", "State", ""]
                    .map(String::from)
                    .to_vec(),
                rows: token_rows,
            }),
            Block::Heading("Create a token".into()),
            Block::Form(create_token),
        ],
    ));
    Ok(DetailPage::new(
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
    #[serde(default)]
    name: String,
    #[serde(default)]
    employment_type: String,
    #[serde(default)]
    start_date: String,
}

/// The person record the form describes, for an employee who is not in the people register
/// yet and whose name was given; the field at fault otherwise.
async fn new_person(
    state: &AppState,
    form: &UserForm,
) -> Result<Option<evident_core::register::Record>, (&'static str, String)> {
    use evident_core::registers::PEOPLE;
    if form.name.trim().is_empty() {
        return Ok(None);
    }
    let today = crate::fieldwork::today();
    let start = if form.start_date.trim().is_empty() {
        evident_core::format_date(today)
    } else {
        form.start_date.trim().to_string()
    };
    let row: std::collections::HashMap<String, String> = [
        ("email", form.email.trim().to_string()),
        ("name", form.name.trim().to_string()),
        ("employment_type", form.employment_type.trim().to_string()),
        ("start_date", start),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let known = state.ws.known(today).await.map_err(|e| ("email", e.to_string()))?;
    let v = evident_core::register::validate(&PEOPLE, &[(1, row)], &known);
    if let Some(e) = v.errors.first() {
        let field = match e.column.as_str() {
            "name" => "name",
            "employment_type" => "employment_type",
            "start_date" => "start_date",
            _ => "email",
        };
        return Err((field, e.reason.clone()));
    }
    Ok(v.records.into_iter().next().map(|(_, r)| r))
}

pub async fn add_user(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<UserForm>,
) -> Result<Response, ServerError> {
    let mut f = FormState {
        email: form.email.clone(),
        role: form.role.clone(),
        name: form.name.clone(),
        employment_type: form.employment_type.clone(),
        start_date: form.start_date.clone(),
        ..FormState::default()
    };
    let person = match Role::parse(&form.role) {
        Ok(Role::Employee) => new_person(&state, &form).await,
        _ => Ok(None),
    };
    let result = match (Role::parse(&form.role), person) {
        (Err(e), _) => Err(("role", e)),
        (_, Err(refused)) => Err(refused),
        (Ok(role), Ok(person)) => match state
            .ws
            .as_actor(&access.user.email)
            .add_user_with_person(&form.email, role, person.as_ref())
            .await
        {
            Ok(r) => Ok(r),
            Err(e @ (evident_store::StoreError::Invalid(_) | evident_store::StoreError::Conflict(_))) => {
                Err(("email", e.to_string()))
            }
            Err(evident_store::StoreError::Field { reason, .. }) => Err((
                "email",
                format!(
                    "{reason}. Or give their name, type and first day below: the record is created with the account."
                ),
            )),
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
