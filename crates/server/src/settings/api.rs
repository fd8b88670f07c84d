//! The users and tokens API.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};
use crate::web::table::Row;
use evident_core::access::Role;
use evident_store::TokenScope;

/// A listing of items that have no columns of their own (users, tokens): search over their JSON.
fn plain_listing(items: Vec<Value>, q: BTreeMap<String, String>) -> ApiResult {
    let rows: Vec<Row> = items
        .into_iter()
        .map(|json| Row {
            cells: vec![crate::web::table::Cell::text(json.to_string())],
            json,
            tags: Vec::new(),
        })
        .collect();
    listing(&[crate::web::table::col("item", "Item")], &rows, q, vec![])
}

pub async fn users(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let users = state.ws.users().await?;
    plain_listing(users.iter().map(super::user_json).collect(), q)
}

#[derive(Deserialize)]
pub struct UserRequest {
    email: String,
    role: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<UserRequest>,
) -> ApiResult {
    let role = Role::parse(&body.role).map_err(|e| ServerError::invalid("role", e))?;
    let (user, password) = state
        .ws
        .as_actor(&access.user.email)
        .add_user(&body.email, role)
        .await
        .map_err(ServerError::store_as("email"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": super::user_json(&user), "password": password})),
    )
        .into_response())
}

pub async fn tokens(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let tokens = state.ws.tokens().await?;
    plain_listing(tokens.iter().map(super::token_json).collect(), q)
}

#[derive(Deserialize)]
pub struct TokenRequest {
    name: String,
    scope: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<TokenRequest>,
) -> ApiResult {
    let scope = TokenScope::parse(&body.scope).map_err(|e| ServerError::invalid("scope", e))?;
    let (token, secret) = state
        .ws
        .as_actor(&access.user.email)
        .create_token(&access.user.email, &body.name, scope, None)
        .await
        .map_err(ServerError::store_as("name"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": super::token_json(&token), "secret": secret})),
    )
        .into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    state.ws.as_actor(&access.user.email).revoke_token(&id).await?;
    let t = state
        .ws
        .tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(ServerError::NotFound)?;
    Ok(Json(super::token_json(&t)).into_response())
}

#[derive(Deserialize)]
pub struct UserChange {
    role: Option<String>,
    disabled: Option<bool>,
}

pub async fn change_user(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(email): Path<String>,
    JsonBody(body): JsonBody<UserChange>,
) -> ApiResult {
    if access.user.email.eq_ignore_ascii_case(email.trim()) {
        return Err(ServerError::Conflict(
            "you cannot change your own role or access; ask another administrator".into(),
        )
        .into());
    }
    let ws = state.ws.as_actor(&access.user.email);
    let mut user = ws.user(&email).await?;
    if let Some(r) = &body.role {
        let role = Role::parse(r).map_err(|e| ServerError::invalid("role", e))?;
        user = ws.set_user_role(&email, role).await?;
    }
    if let Some(d) = body.disabled {
        user = ws.set_user_disabled(&email, d).await?;
    }
    Ok(Json(super::user_json(&user)).into_response())
}
