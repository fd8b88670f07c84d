//! The controls API: listing, one control with why it stands where it does, owner changes.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};

pub async fn controls(
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

async fn control_json(state: &AppState, access: &Access, code: &str) -> Result<Value, ServerError> {
    let snap = state.snapshot().await?;
    let code = code.to_uppercase();
    let read = Access {
        reach: evident_core::access::reach(
            access.role(),
            evident_core::access::Area::Controls,
            evident_core::access::Action::Read,
        ),
        ..access.clone()
    };
    Ok(super::rows(&snap, &read)
        .into_iter()
        .find(|r| r.json["code"] == code.as_str())
        .ok_or(ServerError::NotFound)?
        .json)
}

pub async fn control(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
) -> ApiResult {
    Ok(Json(control_json(&state, &access, &code).await?).into_response())
}

#[derive(Deserialize)]
pub struct OwnerChange {
    owner: Option<String>,
}

pub async fn set_owner(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<OwnerChange>,
) -> ApiResult {
    if access.reach != evident_core::access::Reach::All {
        return Err(ServerError::NotFound.into());
    }
    let owner = body.owner.as_deref().map(str::trim).filter(|o| !o.is_empty());
    if let Some(o) = owner {
        evident_core::parse_email(o).map_err(|e| ServerError::invalid("owner", e))?;
    }
    state
        .ws
        .as_actor(&access.user.email)
        .set_control_owner(&code.to_uppercase(), owner)
        .await?;
    Ok(Json(control_json(&state, &access, &code).await?).into_response())
}
