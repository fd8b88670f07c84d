//! The audit scope page: report type, categories, period, sign-off and the system's components.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Inline, Section, Table, text};
use crate::web::html::when;
use crate::web::{DetailPage, Layout, name_of, render};

pub async fn scope(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let record = state.ws.scope().await?;
    let mut sections = Vec::new();
    match &record.scope {
        None => sections.push(Section::new(
            "",
            vec![Block::Para(vec![
                Inline::text("No audit scope yet. Set it with"),
                Inline::Code("evident scope set".into()),
                Inline::text("."),
            ])],
        )),
        Some(s) => {
            let cats: Vec<String> = s.categories.iter().map(|c| name_of(c).replace('_', " ")).collect();
            let period = match s.period {
                evident_core::AuditPeriod::AsOf(d) => format!("as of {d}"),
                evident_core::AuditPeriod::Window { from, to } => format!("observation window {from} to {to}"),
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
            sections.push(Section::new(
                "",
                vec![Block::Facts(vec![
                    ("Report".into(), text(format!("SOC 2 Type {}", s.report_type.number()))),
                    ("Categories".into(), text(cats.join(", "))),
                    ("Period".into(), text(period)),
                    ("Approval".into(), text(approval)),
                ])],
            ));
        }
    }
    let comps: Vec<Vec<Vec<Inline>>> = record
        .components
        .iter()
        .map(|c| {
            vec![
                text(name_of(c.kind)),
                text(&c.name),
                text(if c.in_scope { "in scope" } else { "out of scope" }),
                text(&c.reason),
            ]
        })
        .collect();
    sections.push(Section::new(
        "System description: components",
        vec![if comps.is_empty() {
            Block::Para(vec![
                Inline::muted("No components recorded: add them with"),
                Inline::Code("evident scope add".into()),
                Inline::muted("."),
            ])
        } else {
            Block::Table(Table {
                id: "components".into(),
                head: ["Kind", "Name", "Scope", "Why"].map(String::from).to_vec(),
                rows: comps,
            })
        }],
    ));
    render(DetailPage::new(
        Layout::new(&state, &access, "Audit scope", "/scope"),
        "",
        sections,
    ))
}
