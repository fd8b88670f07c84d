//! Register pages: each listing (the risks with their heat map) and a record's page.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Inline, Section, text};
use crate::web::html::{url_encode, when};
use crate::web::table::{ListQuery, page};
use crate::web::{DetailPage, Layout, TablePage, render};
use evident_core::register::Value;
use evident_store::StoredRecord;

use super::{REGISTERS, access_area, columns, register, register_filters, register_rows};

/// The 5×5 matrix of inherent likelihood × impact, counts in each cell.
fn heat_map(records: &[StoredRecord]) -> Section {
    let mut cells = [[0usize; 5]; 5];
    for r in records {
        let get = |k: &str| match r.record.get(k) {
            Value::Int(n) if (1..=5).contains(n) => Some(*n as usize),
            _ => None,
        };
        if let (Some(l), Some(i)) = (get("likelihood"), get("impact")) {
            cells[l - 1][i - 1] += 1;
        }
    }
    Section::new("Heat map", vec![Block::HeatMap(crate::web::blocks::HeatMap { cells })])
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
    let (mut records, narrowed) = super::readable(&state, &access, spec).await?;
    let flash = crate::web::flash_from(&q);
    let mut q = ListQuery::parse(q)?;
    let extra = if spec.name == "risks" {
        vec![heat_map(&records)]
    } else {
        Vec::new()
    };
    // The heat map's cells link to the risks in them.
    if let Some((l, i)) = q.filters.remove("likelihood").zip(q.filters.remove("impact")) {
        let is = |r: &StoredRecord, k: &str, want: &str| r.record.get(k).to_text() == want;
        records.retain(|r| is(r, "likelihood", &l) && is(r, "impact", &i));
    }
    let derived = state
        .ws
        .derived_columns(spec, &records, crate::fieldwork::today())
        .await?;
    let rows = register_rows(spec, path, &records, false, &derived);
    let p = page(&format!("/{path}"), &columns(spec), &rows, &q, register_filters(spec));
    let mut layout = Layout::new(&state, &access, title, &format!("/{path}"));
    layout.flash = flash;
    render(TablePage {
        layout,
        intro: narrowed.map(String::from).unwrap_or_default(),
        extra,
        page: p,
        empty: format!("No {} yet.", spec.name),
        action_href: if access.may_write(access_area(path)) {
            format!("/{path}/new")
        } else {
            String::new()
        },
        action_label: format!("Add {}", with_article(spec.noun)),
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
    let r = super::readable_one(&state, &access, spec, &key).await?;
    let mut facts: Vec<(String, Vec<Inline>)> = spec
        .fields
        .iter()
        .map(|f| (f.name.replace('_', " "), text(r.record.get(f.name).to_text())))
        .collect();
    facts.push(("Last changed".into(), text(when(r.updated_at))));
    let mut blocks = vec![Block::Facts(facts)];
    if access.may_write(access_area(path)) {
        blocks.push(Block::Para(vec![Inline::Button {
            text: "Edit".into(),
            href: format!("/{path}/{}/edit", url_encode(&r.key)),
            download: false,
        }]));
    }
    let mut sections = vec![Section::new("", blocks)];
    if spec.name == "risks" {
        let reviews = state.ws.risk_reviews(&key).await?;
        let list: Vec<Vec<Inline>> = reviews
            .iter()
            .map(|v| {
                text(format!(
                    "{} · {} · {}×{}: {}",
                    when(v.at),
                    v.actor,
                    v.likelihood,
                    v.impact,
                    v.note
                ))
            })
            .collect();
        sections.push(Section::new(
            "Reviews",
            vec![if list.is_empty() {
                Block::Note("No reviews yet.".into())
            } else {
                Block::List(list)
            }],
        ));
    }
    let mut layout = Layout::new(&state, &access, format!("{} {}", spec.noun, r.key), &format!("/{path}"));
    layout.flash = crate::web::flash_from(&q);
    render(DetailPage::new(layout, "", sections))
}

/// "a risk", "an event", "an asset".
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}
