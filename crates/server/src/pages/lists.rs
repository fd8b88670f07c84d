//! The remaining listings and their detail pages: the registers (people, risks with their heat
//! map, vendors, assets, events, tasks), criteria, checks, the audit log and the scope.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use evident_catalog::Catalog;
use evident_core::access::Reach;
use evident_core::register::{FieldKind, RegisterSpec, Value};
use evident_core::registers::{ASSETS, BACKGROUND_CHECKS, EVENTS, PEOPLE, RISKS, TASKS, TRAINING, VENDORS};
use evident_store::{StoredRecord, record_json};
use serde_json::json;

use super::evidence::Detail;
use super::{Layout, TablePage, name_of, render};
use crate::ServerError;
use crate::access::Access;
use crate::html::{esc, when};
use crate::state::{AppState, Snapshot};
use crate::table::{Cell, Column, ListQuery, Row, col, page};

/// The registers the interface lists, with the page path and title of each.
pub const REGISTERS: [(&RegisterSpec, &str, &str); 8] = [
    (&PEOPLE, "people", "People"),
    (&TRAINING, "training", "Training"),
    (&BACKGROUND_CHECKS, "background-checks", "Background checks"),
    (&RISKS, "risks", "Risks"),
    (&VENDORS, "vendors", "Vendors"),
    (&ASSETS, "assets", "Assets"),
    (&EVENTS, "events", "Events"),
    (&TASKS, "tasks", "Tasks"),
];

/// The access area of a register's pages.
pub fn access_area(path: &str) -> evident_core::access::Area {
    use evident_core::access::Area;
    match path {
        // Training and screening records are personal data, like the people register.
        "people" | "training" | "background-checks" => Area::People,
        "risks" => Area::Risks,
        "vendors" => Area::Vendors,
        "assets" => Area::Assets,
        "events" => Area::Events,
        _ => Area::Tasks,
    }
}

pub fn register(path: &str) -> Option<&'static RegisterSpec> {
    REGISTERS.iter().find(|(_, p, _)| *p == path).map(|(s, _, _)| *s)
}

/// Columns shown for a register: the first six fields (its identity and headline facts).
fn columns(spec: &RegisterSpec) -> Vec<Column> {
    spec.fields.iter().take(6).map(|f| col(f.name, f.name)).collect()
}

/// Listing rows; `with_json` adds each record's API form (the pages do without it).
pub fn register_rows(spec: &RegisterSpec, path: &str, records: &[StoredRecord], with_json: bool) -> Vec<Row> {
    let shown: Vec<_> = spec.fields.iter().take(6).collect();
    records
        .iter()
        .map(|r| {
            let cells = shown
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let v = r.record.get(f.name);
                    let text = v.to_text();
                    match (&f.kind, v) {
                        _ if i == 0 => Cell::link(text, format!("/{path}/{}", crate::html::url_encode(&r.key))),
                        (FieldKind::Enum(_), Value::Text(_)) => Cell::badge(text),
                        (FieldKind::Int { .. }, _) => Cell::num(text),
                        _ => Cell::text(text),
                    }
                })
                .collect();
            let tags = spec
                .fields
                .iter()
                .filter(|f| matches!(f.kind, FieldKind::Enum(_)))
                .map(|f| (f.name, r.record.get(f.name).to_text()))
                .collect();
            let json = if with_json {
                let mut json = record_json(spec, &r.record);
                if let Some(m) = json.as_object_mut() {
                    m.insert("key".into(), json!(r.key));
                    m.insert("updated_at".into(), json!(r.updated_at));
                }
                json
            } else {
                serde_json::Value::Null
            };
            Row { cells, json, tags }
        })
        .collect()
}

pub fn register_filters(spec: &RegisterSpec) -> Vec<(&'static str, &'static str)> {
    spec.fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Enum(_)))
        .map(|f| (f.name, f.name))
        .collect()
}

/// The 5×5 matrix of inherent likelihood × impact, counts in each cell.
fn heat_map(records: &[StoredRecord]) -> String {
    let mut counts = [[0usize; 5]; 5];
    for r in records {
        let get = |k: &str| match r.record.get(k) {
            Value::Int(n) if (1..=5).contains(n) => Some(*n as usize),
            _ => None,
        };
        if let (Some(l), Some(i)) = (get("likelihood"), get("impact")) {
            counts[l - 1][i - 1] += 1;
        }
    }
    let mut h = String::from(
        "<section class=\"card\"><h2>Heat map</h2><div class=\"table-wrap\"><table class=\"heatmap\" id=\"heatmap\">\
         <caption>Risks by inherent likelihood (rows) and impact (columns)</caption>\
         <thead><tr><th scope=\"col\">Likelihood \\ Impact</th>",
    );
    for i in 1..=5 {
        h.push_str(&format!("<th scope=\"col\">{i}</th>"));
    }
    h.push_str("</tr></thead><tbody>");
    for l in (1..=5).rev() {
        h.push_str(&format!("<tr><th scope=\"row\">{l}</th>"));
        for i in 1..=5 {
            // Severity band of the cell: its score on a 1–25 scale, in five steps.
            let band = ((l * i) as f64 / 5.0).ceil().clamp(1.0, 5.0) as usize;
            let n = counts[l - 1][i - 1];
            h.push_str(&format!(
                "<td class=\"h{band}\"><a href=\"/risks?likelihood={l}&amp;impact={i}\" aria-label=\"{n} risks with likelihood {l} and impact {i}\">{n}</a></td>"
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div></section>");
    h
}

pub async fn register_list(
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let (spec, title) = REGISTERS
        .iter()
        .find(|(_, p, _)| *p == path)
        .map(|(s, _, t)| (*s, *t))
        .ok_or(ServerError::NotFound)?;
    let mut records = state.ws.records(spec).await?;
    let mut q = ListQuery::parse(q)?;
    let extra = if spec.name == "risks" {
        heat_map(&records)
    } else {
        String::new()
    };
    // The heat map's cells link to the risks in them.
    if let Some((l, i)) = q.filters.remove("likelihood").zip(q.filters.remove("impact")) {
        let is = |r: &StoredRecord, k: &str, want: &str| r.record.get(k).to_text() == want;
        records.retain(|r| is(r, "likelihood", &l) && is(r, "impact", &i));
    }
    let rows = register_rows(spec, path, &records, false);
    let p = page(&format!("/{path}"), &columns(spec), &rows, &q, register_filters(spec));
    render(TablePage {
        layout: Layout::new(&state, &access, title, &format!("/{path}")),
        intro: String::new(),
        extra,
        page: p,
        empty: format!(
            "No {} yet: add one here, or import a file with `evident import {} FILE.csv`.",
            spec.name, spec.name
        ),
        action_href: if access.may_write(access_area(path)) {
            format!("/{path}/new")
        } else {
            String::new()
        },
        action_label: format!("Add a {}", spec.noun),
    })
}

pub async fn register_item(
    path: &'static str,
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let spec = register(path).ok_or(ServerError::NotFound)?;
    let r = state.ws.record(spec, &key).await?;
    let mut facts = String::from("<dl class=\"facts\">");
    for f in spec.fields {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            esc(&f.name.replace('_', " ")),
            esc(&r.record.get(f.name).to_text())
        ));
    }
    facts.push_str(&format!("<dt>Last changed</dt><dd>{}</dd></dl>", when(r.updated_at)));
    if access.may_write(access_area(path)) {
        facts.push_str(&format!(
            "<p><a class=\"button\" href=\"/{path}/{}/edit\">Edit</a></p>",
            crate::html::url_encode(&r.key)
        ));
    }
    let mut sections = vec![(String::new(), facts)];
    if spec.name == "risks" {
        let reviews = state.ws.risk_reviews(&key).await?;
        let list: String = reviews
            .iter()
            .map(|v| {
                format!(
                    "<li>{} · {} · {}×{}: {}</li>",
                    when(v.at),
                    esc(&v.actor),
                    v.likelihood,
                    v.impact,
                    esc(&v.note)
                )
            })
            .collect();
        sections.push((
            "Reviews".into(),
            if list.is_empty() {
                "<p class=\"muted\">No reviews yet.</p>".into()
            } else {
                format!("<ul>{list}</ul>")
            },
        ));
    }
    let mut layout = Layout::new(&state, &access, format!("{} {}", spec.noun, r.key), &format!("/{path}"));
    layout.flash = super::flash_from(&q);
    render(Detail::new(layout, "", sections))
}

fn criteria_rows(snap: &Snapshot, access: &Access) -> Vec<Row> {
    let fw = &Catalog::builtin().framework;
    let coverage: BTreeMap<&str, (String, Vec<String>)> = snap
        .assessment
        .as_ref()
        .map(|a| {
            a.readiness
                .criteria
                .iter()
                .map(|c| (c.id.as_str(), (name_of(c.status), c.controls.clone())))
                .collect()
        })
        .unwrap_or_default();
    fw.criteria
        .iter()
        .filter(|c| access.reach != Reach::InScope || coverage.contains_key(c.id.as_str()))
        .map(|c| {
            let (status, controls) = coverage
                .get(c.id.as_str())
                .cloned()
                .unwrap_or_else(|| ("out_of_scope".into(), Vec::new()));
            let category = name_of(c.category);
            Row {
                cells: vec![
                    Cell::link(&c.id, format!("/criteria/{}", c.id)),
                    Cell::text(&c.title),
                    Cell::text(category.replace('_', " ")),
                    Cell::badge(&status),
                    Cell::num(controls.len()),
                ],
                json: json!({"id": c.id, "title": c.title, "category": category, "status": status, "controls": controls}),
                tags: vec![("status", status), ("category", category)],
            }
        })
        .collect()
}

pub const CRITERIA_COLUMNS: [Column; 5] = [
    col("id", "Criterion"),
    col("title", "Title"),
    col("category", "Category"),
    col("status", "Coverage"),
    col("controls", "Controls"),
];

pub fn criteria(snap: &Snapshot, access: &Access) -> Vec<Row> {
    criteria_rows(snap, access)
}

pub async fn criteria_list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q = ListQuery::parse(q)?;
    let p = page(
        "/criteria",
        &CRITERIA_COLUMNS,
        &criteria_rows(&snap, &access),
        &q,
        vec![("status", "Coverage"), ("category", "Category")],
    );
    render(TablePage::new(
        Layout::new(&state, &access, "Criteria", "/criteria"),
        "A criterion is covered when a ready control maps to it, partial when its controls are at risk.".into(),
        p,
        "No criteria.".into(),
    ))
}

pub async fn criterion(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let rows = criteria_rows(&snap, &access);
    let row = rows
        .iter()
        .find(|r| r.json["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(&id)))
        .ok_or(ServerError::NotFound)?;
    let fw = &Catalog::builtin().framework;
    let c = fw
        .criterion(row.json["id"].as_str().unwrap_or(""))
        .ok_or(ServerError::NotFound)?;
    let statuses = super::controls::status_of(&snap);
    let mapped: String = snap
        .program()
        .controls
        .iter()
        .filter(|k| k.criteria.contains(&c.id))
        .map(|k| {
            let s = statuses.get(k.code.as_str()).map(|s| name_of(*s)).unwrap_or_default();
            format!(
                "<li><a href=\"/controls/{0}\">{0}</a> {1} <span class=\"badge {2}\">{3}</span></li>",
                esc(&k.code),
                esc(&k.title),
                esc(&s),
                esc(&s.replace('_', " "))
            )
        })
        .collect();
    // The points an auditor looks for under this criterion, and the applicable controls
    // (by the library template they came from) that address each.
    let in_scope = snap.assessment.as_ref().map(|a| a.scope.categories.clone());
    let applicable = evident_core::assessment::applicable_templates(&snap.program().controls, in_scope.as_ref());
    let topics: String = Catalog::builtin()
        .coverage_of(&c.id, &applicable)
        .iter()
        .map(|t| {
            let by = if t.covered {
                t.covered_by
                    .iter()
                    .map(|k| format!("<a href=\"/controls/{0}\">{0}</a>", esc(k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                format!(
                    "<span class=\"badge gap\">not covered</span> <span class=\"muted\">(would be: {})</span>",
                    esc(&t.missing.join(", "))
                )
            };
            format!("<li>{}: {by}</li>", esc(t.title))
        })
        .collect();
    render(Detail::new(
        Layout::new(&state, &access, format!("{} {}", c.id, c.title), "/criteria"),
        row.json["status"].as_str().unwrap_or(""),
        vec![
            (String::new(), format!("<p>{}</p>", esc(&c.explanation))),
            (
                "What an auditor looks for".into(),
                if topics.is_empty() {
                    "<p class=\"muted\">No topics recorded for this criterion.</p>".into()
                } else {
                    format!("<ul>{topics}</ul>")
                },
            ),
            (
                "Controls mapped to it".into(),
                if mapped.is_empty() {
                    "<p>None: this criterion is uncovered.</p>".into()
                } else {
                    format!("<ul>{mapped}</ul>")
                },
            ),
        ],
    ))
}

pub fn check_rows(snap: &Snapshot) -> Vec<Row> {
    snap.assessment
        .as_ref()
        .map(|a| {
            a.checks
                .values()
                .map(|r| {
                    let status = name_of(r.status);
                    Row {
                        cells: vec![
                            Cell::link(&r.id, format!("/checks/{}", r.id)),
                            Cell::text(&r.title),
                            Cell::badge(&status),
                            Cell::num(r.passed),
                            Cell::num(r.failed),
                            Cell::num(r.excluded),
                        ],
                        json: json!({"id": r.id, "title": r.title, "status": status, "passed": r.passed,
                                     "failed": r.failed, "excluded": r.excluded}),
                        tags: vec![("status", status)],
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

pub const CHECK_COLUMNS: [Column; 6] = [
    col("id", "Check"),
    col("title", "Title"),
    col("status", "Status"),
    col("passed", "Passed"),
    col("failed", "Failed"),
    col("excluded", "Excluded"),
];

pub async fn checks_list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q = ListQuery::parse(q)?;
    let p = page(
        "/checks",
        &CHECK_COLUMNS,
        &check_rows(&snap),
        &q,
        vec![("status", "Status")],
    );
    render(TablePage::new(
        Layout::new(&state, &access, "Checks", "/checks"),
        "Automated tests over the facts collected from your systems, run live for this page.".into(),
        p,
        "No checks have data yet: set the audit scope and import or collect facts.".into(),
    ))
}

pub async fn check(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    render(check_page(&state, &access, &id, None).await?)
}

/// A refused exclusion form: what was typed, and the field at fault with the reason.
type Refusal<'a> = (&'a ExclusionForm, &'a str, String);

async fn check_page(
    state: &AppState,
    access: &Access,
    id: &str,
    refused: Option<Refusal<'_>>,
) -> Result<Detail, ServerError> {
    let snap = state.snapshot().await?;
    let r = snap
        .assessment
        .as_ref()
        .and_then(|a| a.checks.get(id))
        .ok_or(ServerError::NotFound)?;
    let failing: String = r
        .failures
        .iter()
        .take(500)
        .map(|f| {
            format!(
                "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
                esc(&f.record),
                esc(&f.reason)
            )
        })
        .collect();
    let excluded: String = r
        .exclusions
        .iter()
        .map(|x| {
            format!(
                "<li><span class=\"mono\">{}</span>: {} <span class=\"muted\">excluded by {} until {}: {}</span></li>",
                esc(&x.record),
                esc(&x.reason),
                esc(&x.owner),
                x.expires,
                esc(&x.exclusion_reason)
            )
        })
        .collect();
    let mut sections = vec![(
        String::new(),
        format!(
            "<p>{} passed, {} failed, {} excluded.</p>",
            r.passed, r.failed, r.excluded
        ),
    )];
    sections.push((
        format!("Failing records ({})", r.failures.len()),
        if failing.is_empty() {
            "<p>None.</p>".into()
        } else {
            format!(
                "<div class=\"table-wrap\"><table class=\"data\"><thead><tr><th>Record</th><th>Why</th></tr></thead><tbody>{failing}</tbody></table></div>{}",
                if r.failures.len() > 500 { "<p class=\"small muted\">The first 500 are shown; the API and `evident check show` list all.</p>" } else { "" }
            )
        },
    ));
    if !excluded.is_empty() {
        sections.push(("Exclusions".into(), format!("<ul>{excluded}</ul>")));
    }
    if access.may_write(evident_core::access::Area::Checks) {
        let csrf = esc(access.csrf.as_deref().unwrap_or(""));
        let value = |f: &str| match refused {
            Some((form, _, _)) => esc(match f {
                "record" => &form.record,
                "reason" => &form.reason,
                "owner" => &form.owner,
                _ => &form.expires,
            }),
            None => String::new(),
        };
        let field = |name: &str, label: &str, kind: &str| {
            let (class, error) = match refused {
                Some((_, at, ref reason)) if at == name => (
                    " invalid",
                    format!("<span class=\"error\" id=\"x-{name}-error\">{}</span>", esc(reason)),
                ),
                _ => ("", String::new()),
            };
            format!(
                "<div class=\"field{class}\"><label for=\"x-{name}\">{label}</label><input type=\"{kind}\" id=\"x-{name}\" name=\"{name}\" value=\"{}\" required>{error}</div>",
                value(name)
            )
        };
        sections.push((
            "Set a failing record aside".into(),
            format!(
                "<p class=\"small muted\">An exclusion is an accepted exception: it needs a reason, an owner and an end date, and the auditor sees it.</p>\
                 <form class=\"stack\" method=\"post\" action=\"/checks/{id}/exclusions\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{}{}{}{}\
                 <button type=\"submit\">Add exclusion</button></form>",
                field("record", "Record", "text"),
                field("reason", "Reason", "text"),
                field("owner", "Owner's email", "email"),
                field("expires", "Until", "date"),
                id = esc(&r.id),
            ),
        ));
    }
    Ok(Detail::new(
        Layout::new(state, access, r.title.clone(), "/checks"),
        name_of(r.status),
        sections,
    ))
}

/// Listing rows, newest first; `with_json` adds each entry's API form.
pub fn audit_rows(entries: &[evident_core::ledger::Entry], with_json: bool) -> Vec<Row> {
    entries
        .iter()
        .rev()
        .map(|e| Row {
            cells: vec![
                Cell::num(e.seq),
                Cell::text(when(e.at)),
                Cell::text(&e.actor),
                Cell::text(&e.action),
                Cell::text(&e.subject),
                Cell::text(&e.hash[..16]),
            ],
            json: if with_json {
                json!({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
                       "payload_hash": e.payload_hash, "prev_hash": e.prev_hash, "hash": e.hash})
            } else {
                serde_json::Value::Null
            },
            tags: vec![("action", e.action.clone())],
        })
        .collect()
}

pub const AUDIT_COLUMNS: [Column; 6] = [
    col("seq", "#"),
    col("at", "When (UTC)"),
    col("actor", "Who"),
    col("action", "Action"),
    col("subject", "Subject"),
    col("hash", "Hash"),
];

pub async fn audit_log(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let entries = state.ws.audit_log(0).await?;
    let q = ListQuery::parse(q)?;
    let p = page(
        "/audit-log",
        &AUDIT_COLUMNS,
        &audit_rows(&entries, false),
        &q,
        vec![("action", "Action")],
    );
    render(TablePage::new(
        Layout::new(&state, &access, "Audit log", "/audit-log"),
        "Every write, hash-chained: each entry commits to the one before. `evident verify` checks the chain and the signed checkpoints.".into(),
        p,
        "Nothing recorded yet.".into(),
    ))
}

pub async fn scope(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let record = state.ws.scope().await?;
    let mut sections = Vec::new();
    match &record.scope {
        None => sections.push((
            String::new(),
            "<p>No audit scope yet. Set it with <code>evident scope set</code>.</p>".to_string(),
        )),
        Some(s) => {
            let cats: Vec<String> = s.categories.iter().map(|c| name_of(c).replace('_', " ")).collect();
            let period = match s.period {
                evident_core::AuditPeriod::AsOf(d) => format!("as of {d}"),
                evident_core::AuditPeriod::Window { from, to } => format!("observation window {from} to {to}"),
            };
            let approval = match &record.approval {
                Some((by, at, outdated)) => format!(
                    "signed off by {} on {}{}",
                    esc(by),
                    when(*at),
                    if *outdated {
                        " (outdated: the scope changed since)"
                    } else {
                        ""
                    }
                ),
                None => "not signed off by management yet".into(),
            };
            sections.push((
                String::new(),
                format!(
                    "<dl class=\"facts\"><dt>Report</dt><dd>SOC 2 Type {}</dd><dt>Categories</dt><dd>{}</dd><dt>Period</dt><dd>{}</dd><dt>Approval</dt><dd>{}</dd></dl>",
                    s.report_type.number(),
                    esc(&cats.join(", ")),
                    esc(&period),
                    approval
                ),
            ));
        }
    }
    let comps: String = record
        .components
        .iter()
        .map(|c| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&name_of(c.kind)),
                esc(&c.name),
                if c.in_scope { "in scope" } else { "out of scope" },
                esc(&c.reason)
            )
        })
        .collect();
    sections.push((
        "System description: components".into(),
        if comps.is_empty() {
            "<p class=\"muted\">No components recorded: add them with <code>evident scope add</code>.</p>".into()
        } else {
            format!("<div class=\"table-wrap\"><table class=\"data\"><thead><tr><th>Kind</th><th>Name</th><th>Scope</th><th>Why</th></tr></thead><tbody>{comps}</tbody></table></div>")
        },
    ));
    render(Detail::new(
        Layout::new(&state, &access, "Audit scope", "/scope"),
        "",
        sections,
    ))
}

#[derive(serde::Deserialize)]
pub struct ExclusionForm {
    record: String,
    reason: String,
    owner: String,
    expires: String,
}

pub async fn exclude(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ExclusionForm>,
) -> Result<Response, ServerError> {
    let checked = exclusion_of(&state, &id, &form.record, &form.reason, &form.owner, &form.expires).await?;
    let refused = match checked {
        // The store refuses a record the check does not test: shown on the record field.
        Ok(e) => match state.ws.as_actor(&access.user.email).add_exclusion(&e).await {
            Ok(()) => return Ok(axum::response::Redirect::to(&format!("/checks/{id}")).into_response()),
            Err(evident_store::StoreError::Invalid(reason)) => ("record", reason),
            Err(other) => return Err(other.into()),
        },
        Err(refused) => refused,
    };
    let page = check_page(&state, &access, &id, Some((&form, refused.0, refused.1))).await?;
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        axum::response::Html(askama::Template::render(&page)?),
    )
        .into_response())
}

/// An exclusion checked as the CLI checks it; the outer error is for an unknown check, the
/// inner one names the field at fault.
#[allow(clippy::type_complexity)]
pub async fn exclusion_of(
    state: &AppState,
    id: &str,
    record: &str,
    reason: &str,
    owner: &str,
    expires: &str,
) -> Result<Result<evident_core::checks::Exclusion, (&'static str, String)>, ServerError> {
    let snap = state.snapshot().await?;
    if !snap.assessment.as_ref().is_some_and(|a| a.checks.contains_key(id)) {
        return Err(ServerError::NotFound);
    }
    Ok(
        (|| -> Result<evident_core::checks::Exclusion, (&'static str, String)> {
            let text = |field: &'static str, v: &str| {
                let v = v.trim();
                evident_core::text::storable(v).map_err(|e| (field, e.to_string()))?;
                if v.is_empty() {
                    Err((field, "cannot be empty".to_string()))
                } else {
                    Ok(v.to_string())
                }
            };
            let record = text("record", record)?;
            let reason = text("reason", reason)?;
            let owner = evident_core::parse_email(owner).map_err(|e| ("owner", e.to_string()))?;
            let expires = evident_core::parse_date(expires.trim()).map_err(|e| ("expires", e.to_string()))?;
            if expires < time::OffsetDateTime::now_utc().date() {
                return Err((
                    "expires",
                    format!("{} is already past", evident_core::format_date(expires)),
                ));
            }
            Ok(evident_core::checks::Exclusion {
                check: id.to_string(),
                record,
                reason,
                owner,
                expires,
            })
        })(),
    )
}
