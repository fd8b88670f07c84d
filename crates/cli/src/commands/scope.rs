use std::path::Path;

use evident_core::{
    AuditPeriod, ComponentKind, ReportType, Scope, format_date, parse_categories, parse_date, parse_window,
};
use evident_store::{ComponentRecord, ScopeRecord, Workspace};
use serde_json::Value;

use super::controls::summaries;
use crate::args::{ComponentCommand, ScopeCommand, ScopeSetArgs};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table, warn};

pub fn scope_json(record: &ScopeRecord) -> Value {
    record.to_json()
}

pub fn describe_scope(scope: &Scope) -> String {
    let categories: Vec<&str> = scope.categories.iter().map(|c| c.as_str()).collect();
    let period = match scope.period {
        AuditPeriod::AsOf(d) => format!("as of {}", format_date(d)),
        AuditPeriod::Window { from, to } => format!("window {} to {}", format_date(from), format_date(to)),
    };
    format!(
        "Type {}, {}, {period}",
        scope.report_type.number(),
        categories.join(", ")
    )
}

fn component_kind(given: &str) -> Result<ComponentKind, CliError> {
    ComponentKind::parse(given).map_err(|e| usage(format!("--kind: {e}")))
}

fn print_components(record: &ScopeRecord) -> Result<(), CliError> {
    if record.components.is_empty() {
        println!("No system components described yet (evident scope component add --kind ... --name ...).");
        return Ok(());
    }
    let mut t = Table::new(&["KIND", "NAME", "IN SCOPE", "REASON"]);
    for c in &record.components {
        t.row(vec![
            c.kind.to_string(),
            c.name.clone(),
            if c.in_scope { "yes" } else { "no" }.into(),
            c.reason.clone(),
        ]);
    }
    t.print()
}

pub async fn run(dir: &Path, command: ScopeCommand, format: Format) -> Result<(), CliError> {
    let ws = super::open(dir).await?;
    match command {
        ScopeCommand::Show => show(&ws, format).await,
        ScopeCommand::Approve => {
            ws.approve_scope().await?;
            match format {
                Format::Json => show(&ws, format).await,
                Format::Table => {
                    println!("Scope approved by {}.", ws.actor);
                    Ok(())
                }
            }
        }
        ScopeCommand::Set(args) => {
            let scope = build_scope(&args)?;
            ws.set_scope(&scope).await?;
            match format {
                Format::Json => show(&ws, format).await,
                Format::Table => {
                    let controls = summaries(&ws).await?;
                    let na = controls.iter().filter(|c| !c.applicability.applicable).count();
                    println!("Scope set: {}.", describe_scope(&scope));
                    println!(
                        "{} controls apply; {na} do not (their criteria are all outside the scope, or ruled out by hand).",
                        controls.len() - na
                    );
                    Ok(())
                }
            }
        }
        ScopeCommand::Component(ComponentCommand::Add {
            kind,
            name,
            in_scope,
            out_of_scope,
            reason,
        }) => {
            let kind = component_kind(&kind)?;
            let name = name.trim().to_string();
            debug_assert!(
                in_scope != out_of_scope,
                "clap makes the two flags exclusive and one required"
            );
            ws.add_component(&ComponentRecord {
                kind,
                name: name.clone(),
                in_scope,
                reason,
            })
            .await
            .map_err(CliError::with_flags)?;
            match format {
                Format::Json => show(&ws, format).await,
                Format::Table => {
                    let side = if in_scope { "in scope" } else { "out of scope" };
                    println!("Added {kind} component '{name}' ({side}).");
                    Ok(())
                }
            }
        }
        ScopeCommand::Component(ComponentCommand::Remove { kind, name }) => {
            let kind = component_kind(&kind)?;
            ws.remove_component(kind, name.trim()).await?;
            match format {
                Format::Json => show(&ws, format).await,
                Format::Table => {
                    println!("Removed {kind} component '{}'.", name.trim());
                    Ok(())
                }
            }
        }
        ScopeCommand::Component(ComponentCommand::List) => {
            let record = ws.scope().await?;
            match format {
                Format::Json => output::json(&scope_json(&record)["components"]),
                Format::Table => print_components(&record),
            }
        }
    }
}

fn build_scope(args: &ScopeSetArgs) -> Result<Scope, CliError> {
    let report_type = ReportType::parse(&args.report_type).map_err(usage)?;
    let (categories, mut warnings) = parse_categories(&args.categories).map_err(usage)?;
    let as_of = args
        .as_of
        .as_deref()
        .map(|d| parse_date(d).map_err(|e| usage(format!("--as-of: {e}"))))
        .transpose()?;
    let window = args.window.as_deref().map(parse_window).transpose().map_err(usage)?;
    let (scope, more) = Scope::new(report_type, categories, as_of, window).map_err(usage)?;
    warnings.extend(more);
    for w in warnings {
        warn(w);
    }
    Ok(scope)
}

async fn show(ws: &Workspace, format: Format) -> Result<(), CliError> {
    let record = ws.scope().await?;
    match format {
        Format::Json => output::json(&scope_json(&record)),
        Format::Table => {
            match &record.scope {
                Some(s) => println!("Scope: {}.", describe_scope(s)),
                None => println!(
                    "No scope set yet. Set it with, e.g.:\n  evident scope set --type 2 --categories security,availability --window 2027-01-01..2027-06-30"
                ),
            }
            println!();
            print_components(&record)
        }
    }
}
