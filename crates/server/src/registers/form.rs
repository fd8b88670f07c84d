//! Adding and editing register records through a form built from the register's spec: the same
//! validation as a CSV import row, each problem shown next to its field with what was typed kept.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::register::{FieldKind, RegisterSpec, validate};
use serde_json::json;

use super::register;
use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::{Layout, render};

pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub input: &'static str,
    pub options: Vec<String>,
    pub value: String,
    pub hint: String,
    pub error: String,
    pub required: bool,
    pub readonly: bool,
}

#[derive(Template)]
#[template(path = "record_form.html")]
struct RecordForm {
    layout: Layout,
    action: String,
    back: String,
    fields: Vec<FieldView>,
    form_error: String,
}

fn views(
    spec: &RegisterSpec,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    key_fixed: bool,
) -> Vec<FieldView> {
    spec.fields
        .iter()
        .map(|f| {
            let (input, options, hint) = match &f.kind {
                FieldKind::Date { .. } => ("date", Vec::new(), String::new()),
                FieldKind::Int { min, max } => ("number", Vec::new(), format!("{min} to {max}")),
                FieldKind::Email | FieldKind::Person => ("email", Vec::new(), String::new()),
                FieldKind::Enum(allowed) => ("text", allowed.iter().map(|a| a.to_string()).collect(), String::new()),
                FieldKind::Bool => ("text", vec!["true".into(), "false".into()], String::new()),
                FieldKind::List | FieldKind::Controls | FieldKind::Evidence => {
                    ("text", Vec::new(), "separate several with ;".into())
                }
                _ => ("text", Vec::new(), String::new()),
            };
            let help = [f.help.to_string(), hint]
                .into_iter()
                .filter(|h| !h.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            FieldView {
                name: f.name,
                label: {
                    let l = f.name.replace('_', " ");
                    format!("{}{}", l[..1].to_uppercase(), &l[1..])
                },
                input,
                options,
                value: values.get(f.name).cloned().unwrap_or_default(),
                hint: help,
                error: errors.get(f.name).cloned().unwrap_or_default(),
                required: f.required,
                readonly: key_fixed && spec.key.contains(&f.name),
            }
        })
        .collect()
}

fn spec_of(path: &str) -> Result<&'static RegisterSpec, ServerError> {
    register(path).ok_or(ServerError::NotFound)
}

pub async fn new_form(
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let spec = spec_of(path)?;
    render(RecordForm {
        layout: Layout::new(&state, &access, format!("New {}", spec.noun), &format!("/{path}")),
        action: format!("/{path}/new"),
        back: format!("/{path}"),
        fields: views(spec, &BTreeMap::new(), &BTreeMap::new(), false),
        form_error: String::new(),
    })
}

pub async fn edit_form(
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(key): Path<String>,
) -> Result<Response, ServerError> {
    let spec = spec_of(path)?;
    let r = state.ws.record(spec, &key).await?;
    let values = spec
        .fields
        .iter()
        .map(|f| (f.name.to_string(), r.record.get(f.name).to_text()))
        .collect();
    render(RecordForm {
        layout: Layout::new(
            &state,
            &access,
            format!("Edit {} {}", spec.noun, r.key),
            &format!("/{path}"),
        ),
        action: format!("/{path}/{}/edit", crate::web::html::url_encode(&r.key)),
        back: format!("/{path}/{}", crate::web::html::url_encode(&r.key)),
        fields: views(spec, &values, &BTreeMap::new(), true),
        form_error: String::new(),
    })
}

/// Validates and writes one record; on a problem, the form again with the reasons.
async fn save(
    path: &'static str,
    state: &AppState,
    access: &Access,
    existing: Option<String>,
    mut form: HashMap<String, String>,
) -> Result<Response, ServerError> {
    let spec = spec_of(path)?;
    form.remove("csrf");
    let values: BTreeMap<String, String> = spec
        .fields
        .iter()
        .map(|f| (f.name.to_string(), form.get(f.name).cloned().unwrap_or_default()))
        .collect();
    let row: HashMap<String, String> = values.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).collect();
    let known = state.ws.known(time::OffsetDateTime::now_utc().date()).await?;
    let v = validate(spec, &[(1, row)], &known);
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut form_error = String::new();
    for e in &v.errors {
        if spec.fields.iter().any(|f| f.name == e.column) {
            errors.entry(e.column.clone()).or_insert_with(|| e.reason.clone());
        } else {
            form_error = format!("{}: {}", e.column.replace('+', " and "), e.reason);
        }
    }
    let record = v.records.into_iter().next().map(|(_, r)| r);
    if let Some(r) = &record {
        let key = r.key(spec);
        match &existing {
            None if state.ws.record(spec, &key).await.is_ok() => {
                form_error = format!("a {} with {} '{key}' already exists", spec.noun, spec.key.join(" and "));
            }
            Some(old) if *old != key => form_error = "the identifying fields cannot change".into(),
            _ => {}
        }
    }
    let (Some(record), true, true) = (record, errors.is_empty(), form_error.is_empty()) else {
        let page = RecordForm {
            layout: Layout::new(
                state,
                access,
                format!("{} {}", if existing.is_some() { "Edit" } else { "New" }, spec.noun),
                &format!("/{path}"),
            ),
            action: match &existing {
                Some(k) => format!("/{path}/{}/edit", crate::web::html::url_encode(k)),
                None => format!("/{path}/new"),
            },
            back: format!("/{path}"),
            fields: views(spec, &values, &errors, existing.is_some()),
            form_error,
        };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let key = record.key(spec);
    let action = format!("{}.{}", spec.name, if existing.is_some() { "update" } else { "add" });
    state
        .ws
        .as_actor(&access.user.email)
        .write_records(spec, std::slice::from_ref(&record), &action, json!({"via": "web"}))
        .await?;
    Ok(Redirect::to(&format!("/{path}/{}?done=saved", crate::web::html::url_encode(&key))).into_response())
}

pub async fn create(
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ServerError> {
    save(path, &state, &access, None, form).await
}

pub async fn update(
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(key): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ServerError> {
    let spec = spec_of(path)?;
    let r = state.ws.record(spec, &key).await?;
    save(path, &state, &access, Some(r.key), form).await
}
