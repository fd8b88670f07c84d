use std::path::Path;

use evident_catalog::{Catalog, Category};
use evident_store::Workspace;
use serde::Serialize;
use serde_json::json;

use super::controls::{criterion_id, summaries};
use crate::args::CatalogCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

#[derive(Serialize)]
struct CriterionRow<'a> {
    id: &'a str,
    category: Category,
    series: &'a str,
    title: &'a str,
    coso_principle: Option<u8>,
}

pub async fn run(dir: &Path, command: CatalogCommand, format: Format) -> Result<(), CliError> {
    let fw = &Catalog::builtin().framework;
    match command {
        CatalogCommand::Criteria { category } => {
            let category = category
                .as_deref()
                .map(Category::parse)
                .transpose()
                .map_err(|e| usage(format!("--category: {e}")))?;
            let rows: Vec<CriterionRow> = fw
                .criteria
                .iter()
                .filter(|c| category.is_none_or(|k| c.category == k))
                .map(|c| CriterionRow {
                    id: &c.id,
                    category: c.category,
                    series: &c.series,
                    title: &c.title,
                    coso_principle: c.coso_principle,
                })
                .collect();
            match format {
                Format::Json => output::json(&rows),
                Format::Table => {
                    let mut t = Table::new(&["ID", "CATEGORY", "SERIES", "COSO", "TITLE"]);
                    for r in &rows {
                        t.row(vec![
                            r.id.into(),
                            r.category.to_string(),
                            r.series.into(),
                            r.coso_principle.map(|p| p.to_string()).unwrap_or_default(),
                            r.title.into(),
                        ]);
                    }
                    t.print()?;
                    println!("\n{} criteria", rows.len());
                    Ok(())
                }
            }
        }
        CatalogCommand::Show { id } => {
            let id = criterion_id(&id)?;
            let c = fw.criterion(&id).expect("checked above");
            let series = fw.series(&c.series).map(|s| s.name.as_str()).unwrap_or_default();
            // The workspace's own controls when there is a workspace, else the starter library.
            let (source, controls) = if Workspace::config_path(dir).is_file() {
                let ws = super::open(dir).await?;
                let mapped: Vec<_> = summaries(&ws)
                    .await?
                    .into_iter()
                    .filter(|s| s.criteria.contains(&id))
                    .map(|s| json!({"id": s.id, "template": s.template, "title": s.title, "owner": s.owner, "applicable": s.applicability.applicable}))
                    .collect();
                ("workspace", mapped)
            } else {
                let mapped = Catalog::builtin()
                    .library
                    .mapped_to(&id)
                    .map(|t| json!({"id": t.id, "title": t.title, "owner": null, "applicable": true}))
                    .collect();
                ("library", mapped)
            };
            // What an auditor looks for under this criterion, and which applicable controls
            // address each point (workspace controls by their library template).
            let applicable: std::collections::BTreeSet<&str> = controls
                .iter()
                .filter(|m| m["applicable"] != false)
                .filter_map(|m| m["template"].as_str().or(m["id"].as_str()))
                .collect();
            let topics: Vec<_> = Catalog::builtin()
                .coverage_of(&id, &applicable)
                .into_iter()
                .map(|t| json!({"id": t.topic, "title": t.title, "covered": t.covered, "covered_by": t.covered_by, "not_applicable": t.missing}))
                .collect();
            match format {
                Format::Json => output::json(&json!({
                    "topics": topics,
                    "id": c.id,
                    "category": c.category,
                    "series": c.series,
                    "series_name": series,
                    "coso_principle": c.coso_principle,
                    "points_of_focus": c.points_of_focus,
                    "title": c.title,
                    "explanation": c.explanation,
                    "controls_source": source,
                    "controls": controls,
                })),
                Format::Table => {
                    println!("{}  {}", c.id, c.title);
                    let coso = c
                        .coso_principle
                        .map(|p| format!(", COSO principle {p}"))
                        .unwrap_or_default();
                    println!("{} · {} {series}{coso}", c.category, c.series);
                    println!("\n{}\n", c.explanation.trim());
                    let label = if source == "workspace" {
                        "Controls mapped"
                    } else {
                        "Library controls mapped"
                    };
                    if !topics.is_empty() {
                        println!("What an auditor looks for:");
                        for t in &topics {
                            let by: Vec<&str> = t["covered_by"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|v| v.as_str())
                                .collect();
                            let how = if by.is_empty() {
                                "NOT COVERED".to_string()
                            } else {
                                by.join(", ")
                            };
                            println!("  - {} [{how}]", t["title"].as_str().unwrap_or(""));
                        }
                        println!();
                    }
                    println!("{label} ({}):", controls.len());
                    for m in &controls {
                        let na = if m["applicable"] == false {
                            "  (not applicable)"
                        } else {
                            ""
                        };
                        println!(
                            "  {:<7} {}{na}",
                            m["id"].as_str().unwrap_or(""),
                            m["title"].as_str().unwrap_or("")
                        );
                    }
                    Ok(())
                }
            }
        }
    }
}
