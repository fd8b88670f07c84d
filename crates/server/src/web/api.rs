//! What every API handler shares: the result type and the listing answer (the pages'
//! filtering, sorting and paging, so a page and its API answer always agree), and the document.

use std::collections::BTreeMap;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::table::{Column, ListQuery, Row, page};
use crate::ServerError;
use crate::error::ApiError;

pub type ApiResult = Result<Response, ApiError>;

pub fn listing(
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

/// A `period` given as `START..END`, refused (422, naming `period`) when it is not one.
pub fn period_param(text: Option<&str>) -> Result<Option<(time::Date, time::Date)>, ServerError> {
    text.map(|p| evident_core::scope::parse_period(p).map_err(|e| ServerError::invalid("period", e)))
        .transpose()
}
