//! The registers API: listing, one record, and writes validated exactly as an import row.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::{Value, json};

use crate::ServerError;
use crate::access::Access;
use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::web::api::{ApiResult, listing};
use evident_core::register::{RegisterSpec, validate};

pub async fn records(
    spec: &'static RegisterSpec,
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult {
    let (records, _) = super::readable(&state, &access, spec).await?;
    listing(
        &super::columns(spec),
        &super::register_rows(spec, path, &records, true, &Default::default()),
        q,
        super::register_filters(spec),
    )
}

pub async fn record(
    spec: &'static RegisterSpec,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(key): Path<String>,
) -> ApiResult {
    let r = super::readable_one(&state, &access, spec, &key).await?;
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
