//! A demonstration program: the small generated company (`evident generate --size s`), so a
//! first-time visitor sees a working program, with its gaps, instead of an empty one.

use std::path::Path;

use evident_catalog::Catalog;
use evident_core::readiness::Status;
use evident_core::registers::PEOPLE;
use evident_store::Workspace;
use serde_json::json;

use super::controls::summaries;
use super::scope::{describe_scope, scope_json};
use crate::error::CliError;
use crate::output::{self, Format, Table};

pub const DEFAULT_DIR: &str = "evident-demo";

pub async fn run(dir: &Path, format: Format, serve: Option<std::net::SocketAddr>) -> Result<(), CliError> {
    let fresh = !Workspace::config_path(dir).is_file();
    let ws = if fresh {
        let now = time::OffsetDateTime::now_utc();
        super::generate::build(dir, evident_core::generate::Size::S, 1, now)
            .await?
            .0
    } else {
        super::open(dir).await?
    };
    let record = ws.scope().await?;
    let controls = summaries(&ws).await?;
    let fw = &Catalog::builtin().framework;
    let in_scope = record.scope.as_ref().map(|s| s.categories.clone()).unwrap_or_default();
    let applicable: Vec<_> = controls.iter().filter(|c| c.applicability.applicable).collect();
    let unowned = applicable.iter().filter(|c| c.owner.is_none()).count();

    let mut categories = Vec::new();
    for cat in &in_scope {
        let criteria: Vec<_> = fw.criteria.iter().filter(|c| c.category == *cat).collect();
        let mapped = criteria
            .iter()
            .filter(|k| applicable.iter().any(|c| c.criteria.contains(&k.id)))
            .count();
        categories.push(json!({"category": cat, "criteria": criteria.len(), "with_controls": mapped}));
    }

    let people = ws.records(&PEOPLE).await?.len();
    let policies = ws.policies().await?;
    let published = policies.iter().filter(|p| p.published().is_some()).count();
    let risks = ws.records(&evident_core::registers::RISKS).await?.len();
    let evidence = ws.evidence().await?.len();
    let a = super::readiness::assess(&ws).await?;
    let r = &a.readiness;
    let readiness = json!({
        "score": r.score,
        "ready": r.count(Status::Ready),
        "at_risk": r.count(Status::AtRisk),
        "gap": r.count(Status::Gap),
        "gaps": r.gaps.len(),
    });
    let printed = match format {
        Format::Json => output::json(&json!({
            "workspace": ws.dir,
            "organisation": ws.organisation,
            "created": fresh,
            "scope": scope_json(&record),
            "controls": {"total": controls.len(), "applicable": applicable.len(), "without_owner": unowned},
            "categories": categories,
            "people": people,
            "policies": {"total": policies.len(), "published": published},
            "risks": risks,
            "evidence": evidence,
            "readiness": readiness,
        })),
        Format::Table => {
            let verb = if fresh { "Created" } else { "Opened" };
            println!(
                "{verb} the demo workspace {} ({}).\n",
                ws.dir.display(),
                ws.organisation
            );
            if let Some(s) = &record.scope {
                println!("Scope: {}.", describe_scope(s));
            }
            println!(
                "Controls: {} in the program, {} apply to this scope, {} of those have no owner yet.\n",
                controls.len(),
                applicable.len(),
                unowned
            );
            println!(
                "Registers: {people} people, {} policies ({published} published), {risks} risks, {evidence} evidence items.\n",
                policies.len()
            );
            let mut t = Table::new(&["CATEGORY", "CRITERIA", "WITH A CONTROL"]);
            for c in &categories {
                t.row(vec![
                    c["category"].as_str().unwrap_or_default().into(),
                    c["criteria"].to_string(),
                    c["with_controls"].to_string(),
                ]);
            }
            t.print()?;
            println!(
                "\nReadiness: score {} of 100; {} controls ready, {} at risk, {} with gaps ({} gaps in all). Most severe:",
                r.score,
                readiness["ready"],
                readiness["at_risk"],
                readiness["gap"],
                r.gaps.len()
            );
            for g in r.gaps.iter().take(5) {
                let severity = super::readiness::severity_name(g.severity).replace('_', " ");
                match &g.control {
                    Some(c) => println!("  - [{severity}] {c}: {}", g.reason),
                    // Criterion gaps name their criterion in the reason.
                    None => println!("  - [{severity}] {}", g.reason),
                }
            }
            println!("\nTry:");
            let w = ws.dir.display();
            println!("  evident --workspace {w} scope show");
            println!("  evident --workspace {w} controls list --only applicable");
            println!("  evident --workspace {w} catalog show CC6.1");
            println!("  evident --workspace {w} controls show ACC-07");
            println!("  evident --workspace {w} policies list");
            println!("  evident --workspace {w} risks list");
            println!("  evident --workspace {w} readiness");
            println!("  evident --workspace {w} report readiness --out readiness.pdf");
            println!("  evident --workspace {w} check run");
            println!("  evident --workspace {w} verify");
            Ok(())
        }
    };
    printed?;
    match serve {
        Some(bind) => super::serve::run_server(ws, bind, "admin@evident.local", true).await,
        None => Ok(()),
    }
}
