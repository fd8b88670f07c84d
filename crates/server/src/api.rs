//! The JSON API under `/api/v1`. Listings share the pages' filtering, sorting and paging
//! (`table::page`), so a page and its API answer always agree.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use evident_core::access::Role;
use evident_core::register::{RegisterSpec, validate};
use evident_store::TokenScope;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ServerError;
use crate::access::Access;
use crate::error::ApiError;
use crate::json_body::{JsonBody, MultipartBody};
use crate::pages::{controls, evidence, lists, me, name_of, policies, settings};
use crate::state::AppState;
use crate::table::{Column, ListQuery, Row, page};

type ApiResult = Result<Response, ApiError>;

fn listing(
    columns: &[Column],
    rows: &[Row],
    q: BTreeMap<String, String>,
    filters: Vec<(&'static str, &'static str)>,
) -> ApiResult {
    let q = ListQuery::parse(q)?;
    let p = page("", columns, rows, &q, filters);
    let items: Vec<Value> = p.rows.into_iter().map(|r| r.json).collect();
    Ok(
        Json(json!({"items": items, "total": p.total, "matched": p.matched, "page": q.page(), "per": q.per()}))
            .into_response(),
    )
}

pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

pub async fn readiness(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    let snap = state.snapshot().await?;
    let a = snap
        .assessment
        .as_ref()
        .ok_or(ServerError::Store(evident_store::StoreError::NoScope))?;
    let r = &a.readiness;
    let visible: Vec<String> = controls::visible(&snap, &access)
        .iter()
        .map(|c| c.code.clone())
        .collect();
    use evident_core::readiness::Status;
    Ok(Json(json!({
        "score": r.score,
        "controls": {"ready": r.count(Status::Ready), "at_risk": r.count(Status::AtRisk), "gap": r.count(Status::Gap), "not_applicable": r.count(Status::NotApplicable)},
        "criteria": r.criteria,
        "gaps": r.gaps.iter().filter(|g| g.control.as_ref().is_none_or(|c| visible.contains(c))).map(|g| json!({
            "severity": name_of(g.severity), "control": g.control, "criterion": g.criterion, "reason": g.reason, "owner": g.owner, "fix": g.fix,
        })).collect::<Vec<_>>(),
        "topic_gaps": a.topic_gaps,
        "checklist": a.checklist.iter().map(|c| json!({"item": c.item, "done": c.done, "why": c.why})).collect::<Vec<_>>(),
        "timeline": a.timeline,
        "computed_at": snap.computed_at.unix_timestamp() * 1000,
    }))
    .into_response())
}

pub async fn scope(State(state): State<AppState>) -> ApiResult {
    Ok(Json(state.ws.scope().await?.to_json()).into_response())
}

pub async fn controls(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &controls::COLUMNS,
        &controls::rows(&snap, &access),
        q,
        controls::FILTERS.to_vec(),
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
    let mut row = controls::rows(&snap, &read)
        .into_iter()
        .find(|r| r.json["code"] == code.as_str())
        .ok_or(ServerError::NotFound)?
        .json;
    let reasons = snap
        .assessment
        .as_ref()
        .and_then(|a| a.readiness.controls.iter().find(|c| c.control == code))
        .map(|c| {
            c.reasons
                .iter()
                .map(|r| json!({"severity": name_of(r.severity), "text": r.text, "fix": r.fix}))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    row["reasons"] = json!(reasons);
    Ok(row)
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

pub async fn criteria(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &lists::CRITERIA_COLUMNS,
        &lists::criteria(&snap, &access),
        q,
        vec![("status", "Coverage"), ("category", "Category")],
    )
}

pub async fn evidence(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &evidence::COLUMNS,
        &evidence::rows(&snap, &access),
        q,
        evidence::FILTERS.to_vec(),
    )
}

pub async fn evidence_item(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    let snap = state.snapshot().await?;
    let e = evidence::visible(&snap, &access)
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?;
    Ok(Json(evidence::json_of(&snap, e)).into_response())
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    MultipartBody(mp): MultipartBody,
) -> ApiResult {
    let up = controls::receive(&state, mp).await?;
    let code = up
        .fields
        .get("control")
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ServerError::invalid("control", "name the control the evidence is for"))?;
    let item = controls::store_upload(&state, &access, &code, &up).await?;
    Ok((
        StatusCode::CREATED,
        Json(evidence::json_after_write(&state, &item).await?),
    )
        .into_response())
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
    let item = evidence::withdraw_item(&state, &access, &id, &body.reason).await?;
    Ok(Json(evidence::json_after_write(&state, &item).await?).into_response())
}

pub async fn policies(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &policies::COLUMNS,
        &policies::rows(&snap.program().policies),
        q,
        vec![("status", "Status")],
    )
}

pub async fn policy(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(policies::json_of(&state.ws.policy(&id).await?)).into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    let ws = state.ws.as_actor(&access.user.email);
    ws.approve_policy(&id).await?;
    Ok(Json(policies::json_of(&ws.policy(&id).await?)).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> ApiResult {
    let ws = state.ws.as_actor(&access.user.email);
    ws.publish_policy(&id).await?;
    Ok(Json(policies::json_of(&ws.policy(&id).await?)).into_response())
}

pub async fn checks(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let snap = state.snapshot().await?;
    listing(
        &lists::CHECK_COLUMNS,
        &lists::check_rows(&snap),
        q,
        vec![("status", "Status")],
    )
}

pub async fn check(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let snap = state.snapshot().await?;
    let r = snap
        .assessment
        .as_ref()
        .and_then(|a| a.checks.get(&id))
        .ok_or(ServerError::NotFound)?;
    Ok(Json(json!({
        "id": r.id, "title": r.title, "status": name_of(r.status), "passed": r.passed, "failed": r.failed, "excluded": r.excluded,
        "failures": r.failures.iter().map(|f| json!({"record": f.record, "reason": f.reason})).collect::<Vec<_>>(),
    }))
    .into_response())
}

pub async fn audit_log(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let entries = state.ws.audit_log(0).await?;
    listing(
        &lists::AUDIT_COLUMNS,
        &lists::audit_rows(&entries, true),
        q,
        vec![("action", "Action")],
    )
}

/// A listing of items that have no columns of their own (users, tokens): search over their JSON.
fn plain_listing(items: Vec<Value>, q: BTreeMap<String, String>) -> ApiResult {
    let rows: Vec<Row> = items
        .into_iter()
        .map(|json| Row {
            cells: vec![crate::table::Cell::text(json.to_string())],
            json,
            tags: Vec::new(),
        })
        .collect();
    listing(&[crate::table::col("item", "Item")], &rows, q, vec![])
}

pub async fn users(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let users = state.ws.users().await?;
    plain_listing(users.iter().map(settings::user_json).collect(), q)
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
        Json(json!({"user": settings::user_json(&user), "password": password})),
    )
        .into_response())
}

pub async fn tokens(State(state): State<AppState>, Query(q): Query<BTreeMap<String, String>>) -> ApiResult {
    let tokens = state.ws.tokens().await?;
    plain_listing(tokens.iter().map(settings::token_json).collect(), q)
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
        Json(json!({"token": settings::token_json(&token), "secret": secret})),
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
    Ok(Json(settings::token_json(&t)).into_response())
}

async fn me_json(state: &AppState, access: &Access) -> Result<Value, ServerError> {
    let m = me::mine(state, &access.user.email).await?;
    Ok(json!({
        "email": access.user.email,
        "role": access.user.role.name(),
        "to_accept": m.to_accept.iter().map(|(id, title, v, _)| json!({"policy": id, "title": title, "version": v})).collect::<Vec<_>>(),
        "accepted": m.accepted.iter().map(|(title, v, at)| json!({"title": title, "version": v, "at": at})).collect::<Vec<_>>(),
        "tasks": m.tasks.iter().map(|(id, title, status, due)| json!({"id": id, "title": title, "status": status, "due_date": due})).collect::<Vec<_>>(),
        "training": m.training.iter().map(|(course, on)| json!({"course": course, "completed_on": on})).collect::<Vec<_>>(),
    }))
}

pub async fn me(State(state): State<AppState>, Extension(access): Extension<Access>) -> ApiResult {
    Ok(Json(me_json(&state, &access).await?).into_response())
}

#[derive(Deserialize)]
pub struct AcceptanceRequest {
    policy: String,
    version: i64,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<AcceptanceRequest>,
) -> ApiResult {
    state
        .ws
        .as_actor(&access.user.email)
        .accept_policy(&body.policy, &access.user.email, Some(body.version))
        .await?;
    Ok(Json(me_json(&state, &access).await?).into_response())
}

pub async fn records(
    spec: &'static RegisterSpec,
    path: &'static str,
    State(state): State<AppState>,
    Extension(_access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let records = state.ws.records(spec).await?;
    let columns: Vec<Column> = spec
        .fields
        .iter()
        .take(6)
        .map(|f| crate::table::col(f.name, f.name))
        .collect();
    listing(
        &columns,
        &lists::register_rows(spec, path, &records, true),
        q,
        lists::register_filters(spec),
    )
}

pub async fn record(
    spec: &'static RegisterSpec,
    State(state): State<AppState>,
    Extension(_access): Extension<Access>,
    Path(key): Path<String>,
) -> ApiResult {
    let r = state.ws.record(spec, &key).await?;
    let mut json = evident_store::record_json(spec, &r.record);
    json["key"] = json!(r.key);
    json["updated_at"] = json!(r.updated_at);
    Ok(Json(json).into_response())
}

/// Adds a record or updates the one with the same key, validated exactly as an import row.
/// A JSON value as the text the register's validation reads (the CSV import's cell), refused
/// when its JSON type is not the field's: text for text, a whole number for a number, true or
/// false for a yes/no field, a list of texts (or ;-separated text) for a list. Null or empty
/// text leaves an optional field empty.
fn cell_text(kind: evident_core::register::FieldKind, v: Value) -> Result<String, String> {
    use evident_core::register::FieldKind as K;
    match (kind, v) {
        (_, Value::Null) => Ok(String::new()),
        (K::Int { .. }, Value::Number(n)) if n.is_i64() => Ok(n.to_string()),
        (K::Int { .. }, Value::String(s)) if s.is_empty() => Ok(s),
        (K::Int { .. }, _) => Err("expected a whole number".into()),
        (K::Bool, Value::Bool(b)) => Ok(b.to_string()),
        (K::Bool, Value::String(s)) if s.is_empty() => Ok(s),
        (K::Bool, _) => Err("expected true or false".into()),
        (K::List | K::Controls | K::Evidence, Value::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                Value::String(s) => Ok(s),
                _ => Err("expected a list of texts".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(";")),
        (_, Value::String(s)) => Ok(s),
        (_, _) => Err("expected text".into()),
    }
}

pub async fn write_record(
    spec: &'static RegisterSpec,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JsonBody(body): JsonBody<serde_json::Map<String, Value>>,
) -> ApiResult {
    let mut row: HashMap<String, String> = HashMap::new();
    for (k, v) in body {
        let Some(field) = spec.fields.iter().find(|f| f.name == k) else {
            return Err(ServerError::invalid(&k, format!("{} records have no field '{k}'", spec.noun)).into());
        };
        let text = cell_text(field.kind, v).map_err(|reason| ServerError::invalid(&k, reason))?;
        row.insert(k, text);
    }
    let today = time::OffsetDateTime::now_utc().date();
    let known = state.ws.known(today).await?;
    let v = validate(spec, &[(1, row)], &known);
    if let Some(e) = v.errors.first() {
        return Err(ServerError::invalid(&e.column, &e.reason).into());
    }
    let record = v
        .records
        .into_iter()
        .next()
        .map(|(_, r)| r)
        .ok_or_else(|| ServerError::invalid("record", "nothing to write"))?;
    let key = record.key(spec);
    state
        .ws
        .as_actor(&access.user.email)
        .write_records(
            spec,
            std::slice::from_ref(&record),
            &format!("{}.write", spec.name),
            json!({"via": "api"}),
        )
        .await?;
    let r = state.ws.record(spec, &key).await?;
    let mut json = evident_store::record_json(spec, &r.record);
    json["key"] = json!(r.key);
    json["updated_at"] = json!(r.updated_at);
    Ok(Json(json).into_response())
}

#[derive(Deserialize)]
pub struct PolicyEdit {
    title: Option<String>,
    source: Option<String>,
}

/// A new draft version with the given title and/or text.
pub async fn edit_policy(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PolicyEdit>,
) -> ApiResult {
    let title = body.title.as_deref().map(str::trim);
    for (field, text) in [("title", title), ("source", body.source.as_deref())] {
        if let Some(t) = text {
            evident_core::text::storable(t).map_err(|e| ServerError::invalid(field, e))?;
        }
    }
    if title.is_some_and(str::is_empty) {
        return Err(ServerError::invalid("title", "a policy needs a title").into());
    }
    if body.source.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(ServerError::invalid("source", "the text cannot be empty").into());
    }
    if title.is_none() && body.source.is_none() {
        return Err(ServerError::invalid("source", "give a new title or text").into());
    }
    let ws = state.ws.as_actor(&access.user.email);
    ws.edit_policy(&id, title, body.source.as_deref()).await?;
    Ok(Json(policies::json_of(&ws.policy(&id).await?)).into_response())
}

pub async fn new_version(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    MultipartBody(mp): MultipartBody,
) -> ApiResult {
    let item = evidence::store_version(&state, &access, &id, mp).await?;
    Ok((
        StatusCode::CREATED,
        Json(evidence::json_after_write(&state, &item).await?),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ExclusionRequest {
    record: String,
    reason: String,
    owner: String,
    expires: String,
}

pub async fn exclude(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ExclusionRequest>,
) -> ApiResult {
    let e = lists::exclusion_of(&state, &id, &body.record, &body.reason, &body.owner, &body.expires)
        .await?
        .map_err(|(field, reason)| ServerError::invalid(field, reason))?;
    state
        .ws
        .as_actor(&access.user.email)
        .add_exclusion(&e)
        .await
        .map_err(ServerError::store_as("record"))?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"check": e.check, "record": e.record, "reason": e.reason, "owner": e.owner,
        "expires": evident_core::format_date(e.expires)}),
        ),
    )
        .into_response())
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
    Ok(Json(settings::user_json(&user)).into_response())
}
