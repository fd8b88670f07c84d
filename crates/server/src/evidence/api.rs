//! The evidence API: listing, one item, upload, withdrawal, new versions.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::json_body::{JsonBody, MultipartBody};
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};

pub async fn evidence(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &super::COLUMNS,
        &super::rows(&snap, &access),
        q,
        super::FILTERS.to_vec(),
    )
}

pub async fn evidence_item(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    let e = super::visible(&snap, &access)
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?;
    Ok(Json(super::json_of(&snap, e)).into_response())
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    MultipartBody(mp): MultipartBody,
) -> ApiResult {
    let up = crate::evidence::upload::receive(&state, mp).await?;
    let code = up
        .fields
        .get("control")
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ServerError::invalid("control", "name the control the evidence is for"))?;
    let item = crate::controls::store_upload(&state, &access, &code, &up).await?;
    Ok((StatusCode::CREATED, Json(super::json_after_write(&state, &item).await?)).into_response())
}

#[derive(Deserialize)]
pub struct Withdrawal {
    reason: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Withdrawal>,
) -> ApiResult {
    let item = super::withdraw_item(&state, &access, &id, &body.reason).await?;
    Ok(Json(super::json_after_write(&state, &item).await?).into_response())
}

/// One link of a relink request.
#[derive(Deserialize)]
pub struct LinkRequest {
    control: String,
    #[serde(default)]
    requirement: Option<String>,
}

#[derive(Deserialize)]
pub struct RelinkRequest {
    controls: Vec<LinkRequest>,
    reason: String,
}

/// `POST /api/v1/evidence/{id}/relink`: the item linked to exactly these controls, as a new
/// version of its record over the same bytes.
pub async fn relink(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RelinkRequest>,
) -> ApiResult {
    let links = body
        .controls
        .into_iter()
        .map(|l| evident_store::LinkTo {
            control: l.control,
            requirement: l.requirement,
        })
        .collect();
    let item = super::relink_to(&state, &access, &id, links, &body.reason).await?;
    Ok(Json(super::json_after_write(&state, &item).await?).into_response())
}

pub async fn new_version(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    MultipartBody(mp): MultipartBody,
) -> ApiResult {
    let item = super::store_version(&state, &access, &id, mp).await?;
    Ok((StatusCode::CREATED, Json(super::json_after_write(&state, &item).await?)).into_response())
}
