//! The audit scope page: report type, categories, period, sign-off and the system's components,
//! each set from the page by those who may change the scope.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_catalog::{Catalog, Category};
use evident_core::access::Area;
use evident_core::{AuditPeriod, ComponentKind};
use evident_store::{ComponentRecord, ScopeRecord};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::fieldwork::{refusal, refused, ws};
use crate::state::AppState;
use crate::web::blocks::{Block, Check, Field, Form as PageForm, Inline, Input, Section, Table, text};
use crate::web::html::when;
use crate::web::{DetailPage, Layout, flash_from, name_of, render};

use super::ScopeInput as ScopeForm;

/// What the component form was given.
#[derive(Default, Deserialize)]
pub struct ComponentForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    in_scope: String,
    #[serde(default)]
    reason: String,
}

/// Which form a refusal belongs to, with what was sent and the field at fault.
enum Refused<'a> {
    Scope(&'a ScopeForm, &'a str, String),
    Component(&'a ComponentForm, &'a str, String),
}

pub async fn scope(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = build(&state, &access, None).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn build(state: &AppState, access: &Access, refused: Option<Refused<'_>>) -> Result<DetailPage, ServerError> {
    let record = state.ws.scope().await?;
    let writer = access.may_write(Area::Scope);
    let mut sections = Vec::new();
    match &record.scope {
        None => sections.push(Section::new(
            "",
            vec![Block::Para(vec![Inline::text(if writer {
                "No audit scope yet. Choose the report, the categories and the period below; readiness is measured against them."
            } else {
                "No audit scope yet: an administrator or the compliance manager sets it."
            })])],
        )),
        Some(s) => {
            let fw = &Catalog::builtin().framework;
            let cats: Vec<&str> = s
                .categories
                .iter()
                .map(|c| fw.category(*c).map(|k| k.name.as_str()).unwrap_or(c.as_str()))
                .collect();
            let period = match s.period {
                AuditPeriod::AsOf(d) => format!("as of {d}"),
                AuditPeriod::Window { from, to } => format!("observation window {from} to {to}"),
            };
            let approval = match &record.approval {
                Some((by, at, outdated)) => format!(
                    "signed off by {by} on {}{}",
                    when(*at),
                    if *outdated {
                        " (outdated: the scope changed since)"
                    } else {
                        ""
                    }
                ),
                None => "not signed off by management yet".into(),
            };
            let mut blocks = vec![Block::Facts(vec![
                ("Report".into(), text(format!("SOC 2 Type {}", s.report_type.number()))),
                ("Categories".into(), text(cats.join(", "))),
                ("Period".into(), text(period)),
                ("Approval".into(), text(approval.clone())),
            ])];
            let signed_and_current = matches!(record.approval, Some((_, _, false)));
            if writer && !signed_and_current {
                let mut f = PageForm::post("/scope/approve", &access.csrf, "Sign off this scope");
                f.submit_class = "primary";
                f.intro = Some(
                    "Management's sign-off: the audit log names you and the day. Any later change to the scope or its components marks it outdated.".into(),
                );
                blocks.push(Block::Form(f));
            }
            sections.push(Section::new("", blocks).anchored("scope"));
        }
    }
    if writer {
        sections.push(scope_form(access, &record, refused.as_ref()));
    }
    sections.push(components(access, &record, writer, refused.as_ref()));
    Ok(DetailPage::new(
        Layout::new(state, access, "Audit scope", "/scope"),
        "",
        sections,
    ))
}

fn scope_form(access: &Access, record: &ScopeRecord, refused: Option<&Refused<'_>>) -> Section {
    let current = ScopeForm::of(record);
    let (given, bad) = match refused {
        Some(Refused::Scope(form, field, why)) => (*form, Some((*field, why.clone()))),
        _ => (&current, None),
    };
    let error = |f: &str| bad.as_ref().filter(|(b, _)| *b == f).map(|(_, why)| why.clone());
    let fw = &Catalog::builtin().framework;
    let boxes = Category::ALL
        .iter()
        .map(|c| Check {
            value: c.as_str().into(),
            label: fw
                .category(*c)
                .map(|k| k.name.clone())
                .unwrap_or_else(|| c.as_str().into()),
            checked: *c == Category::Security || given.categories.iter().any(|g| g == c.as_str()),
            locked: *c == Category::Security,
        })
        .collect();
    let mut f = PageForm::post(
        "/scope",
        &access.csrf,
        if record.scope.is_some() {
            "Change the scope"
        } else {
            "Set the scope"
        },
    );
    f.submit_class = if record.scope.is_some() { "" } else { "primary" };
    let mut report = Field::new(
        "scope-type",
        "type",
        "Report",
        Input::Select(vec![
            ("2".into(), "Type 2: design and operation over a window".into()),
            ("1".into(), "Type 1: design on one date".into()),
        ]),
    );
    report.value = given.report_type.clone();
    report.error = error("type");
    let mut cats = Field::new(
        "scope-categories",
        "categories",
        "Trust Services categories",
        Input::Checks(boxes),
    );
    cats.error = error("categories");
    let mut from = Field::new("scope-from", "window_from", "Window: first day (Type 2)", Input::Date);
    from.value = given.window_from.clone();
    from.error = error("window");
    let mut to = Field::new("scope-to", "window_to", "Window: last day (Type 2)", Input::Date);
    to.value = given.window_to.clone();
    let mut as_of = Field::new("scope-as-of", "as_of", "Audit date (Type 1)", Input::Date);
    as_of.value = given.as_of.clone();
    as_of.error = error("as_of");
    f.fields = vec![report, cats, from, to, as_of];
    f.hint =
        Some("A Type 2 window usually runs 3 to 12 months. Security (the common criteria) is always in scope.".into());
    Section::new(
        if record.scope.is_some() {
            "Change the scope"
        } else {
            "Set the scope"
        },
        vec![Block::Form(f)],
    )
    .anchored("set-scope")
}

fn components(access: &Access, record: &ScopeRecord, writer: bool, refused: Option<&Refused<'_>>) -> Section {
    let rows: Vec<Vec<Vec<Inline>>> = record
        .components
        .iter()
        .map(|c| {
            let mut row = vec![
                text(name_of(c.kind)),
                text(&c.name),
                text(if c.in_scope { "in scope" } else { "out of scope" }),
                text(&c.reason),
            ];
            if writer {
                let mut f = PageForm::post("/scope/components/remove", &access.csrf, "Remove");
                f.inline = true;
                f.confirm = Some(format!("Remove the {} component '{}'?", c.kind, c.name));
                let mut kind = Field::new("", "kind", "", Input::Hidden);
                kind.value = c.kind.as_str().into();
                let mut name = Field::new("", "name", "", Input::Hidden);
                name.value = c.name.clone();
                f.fields = vec![kind, name];
                row.push(vec![Inline::Form(Box::new(f))]);
            }
            row
        })
        .collect();
    let mut head = ["Kind", "Name", "Scope", "Why"].map(String::from).to_vec();
    if writer {
        head.push("Change".into());
    }
    let mut blocks = vec![if rows.is_empty() {
        Block::Para(vec![Inline::muted(
            "No components recorded yet: the infrastructure, software, people, procedures and data the report covers (and what it leaves out, with why).",
        )])
    } else {
        Block::Table(Table {
            id: "components".into(),
            head,
            rows,
        })
    }];
    if writer {
        let blank = ComponentForm {
            in_scope: "yes".into(),
            ..ComponentForm::default()
        };
        let (given, bad) = match refused {
            Some(Refused::Component(form, field, why)) => (*form, Some((*field, why.clone()))),
            _ => (&blank, None),
        };
        let error = |f: &str| bad.as_ref().filter(|(b, _)| *b == f).map(|(_, why)| why.clone());
        let mut f = PageForm::post("/scope/components", &access.csrf, "Add the component");
        let mut kind = Field::new(
            "component-kind",
            "kind",
            "Kind",
            Input::Select(
                ComponentKind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_string(), evident_core::register::label_of(k.as_str())))
                    .collect(),
            ),
        );
        kind.value = given.kind.clone();
        kind.error = error("kind");
        let mut name = Field::new("component-name", "name", "Name", Input::Text);
        name.value = given.name.clone();
        name.required = true;
        name.error = error("name");
        let mut side = Field::new(
            "component-scope",
            "in_scope",
            "In the audit?",
            Input::Select(vec![
                ("yes".into(), "In scope".into()),
                ("no".into(), "Out of scope".into()),
            ]),
        );
        side.value = given.in_scope.clone();
        let mut reason = Field::new("component-reason", "reason", "Why", Input::Text);
        reason.value = given.reason.clone();
        reason.required = true;
        reason.error = error("reason");
        f.fields = vec![kind, name, side, reason];
        blocks.push(Block::Heading("Add a component".into()));
        blocks.push(Block::Form(f));
    }
    Section::new("System description: components", blocks).anchored("components")
}

/// Shows the page again with the refusal beside the field, or goes where `done` says.
async fn after<'a>(
    state: &AppState,
    access: &Access,
    done: Result<String, ServerError>,
    form: impl FnOnce(&str, String) -> Option<Refused<'a>>,
) -> Result<Response, ServerError> {
    match done {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            let field = match &e {
                ServerError::Invalid { field, .. } => field.clone(),
                ServerError::Store(evident_store::StoreError::Field { field, .. }) => field.to_string(),
                _ => String::new(),
            };
            let (status, message) = refusal(e)?;
            let page = build(state, access, form(&field, message.clone())).await?;
            refused(page, status, message)
        }
    }
}

/// `POST /scope`: sets the report type, categories and period.
pub async fn set(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ServerError> {
    let mut form = ScopeForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "type" => form.report_type = v,
            "categories" => form.categories.push(v),
            "as_of" => form.as_of = v,
            "window_from" => form.window_from = v,
            "window_to" => form.window_to = v,
            _ => {}
        }
    }
    let done = match form.scope() {
        Ok(scope) => ws(&state, &access)
            .set_scope(&scope)
            .await
            .map(|_| "/scope?done=saved".to_string())
            .map_err(ServerError::from),
        Err(e) => Err(e),
    };
    after(&state, &access, done, |field, why| {
        Some(Refused::Scope(
            &form,
            static_field(field, &["type", "categories", "as_of", "window"]),
            why,
        ))
    })
    .await
}

/// `POST /scope/approve`: management's sign-off of the scope as it stands.
pub async fn approve(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let done = ws(&state, &access)
        .approve_scope()
        .await
        .map(|_| "/scope?done=scope-approved".to_string())
        .map_err(ServerError::from);
    after(&state, &access, done, |_, _| None).await
}

/// `POST /scope/components`: one component of the system, in or out of scope, with why.
pub async fn add_component(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<ComponentForm>,
) -> Result<Response, ServerError> {
    let done = match (
        ComponentKind::parse(&form.kind),
        matches!(form.in_scope.as_str(), "yes" | "no"),
    ) {
        (Err(e), _) => Err(ServerError::invalid("kind", e.to_string())),
        (_, false) => Err(ServerError::invalid("in_scope", "choose in scope or out of scope")),
        (Ok(kind), true) => ws(&state, &access)
            .add_component(&ComponentRecord {
                kind,
                name: form.name.clone(),
                in_scope: form.in_scope == "yes",
                reason: form.reason.clone(),
            })
            .await
            .map(|_| "/scope?done=saved#components".to_string())
            .map_err(ServerError::from),
    };
    after(&state, &access, done, |field, why| {
        Some(Refused::Component(
            &form,
            static_field(field, &["kind", "name", "in_scope", "reason"]),
            why,
        ))
    })
    .await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

/// `POST /scope/components/remove`.
pub async fn remove_component(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, ServerError> {
    let kind = ComponentKind::parse(&form.kind).map_err(|e| ServerError::invalid("kind", e.to_string()))?;
    let done = ws(&state, &access)
        .remove_component(kind, form.name.trim())
        .await
        .map(|_| "/scope?done=saved#components".to_string())
        .map_err(ServerError::from);
    after(&state, &access, done, |_, _| None).await
}

/// The field name as one of the form's own (a refusal may name something else, e.g. "scope").
fn static_field(field: &str, known: &[&'static str]) -> &'static str {
    known.iter().find(|k| **k == field).copied().unwrap_or("")
}
