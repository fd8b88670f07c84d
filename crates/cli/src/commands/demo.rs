//! A demonstration program: a made-up company with its scope chosen and owners assigned, so a
//! first-time visitor sees a working program instead of an empty one.

use std::path::Path;

use evident_catalog::{Catalog, OwnerRole};
use evident_core::{ComponentKind, ReportType, Scope, add_months, parse_categories};
use evident_store::{ComponentRecord, InitOptions, Workspace};
use serde_json::json;
use time::OffsetDateTime;

use super::controls::summaries;
use super::scope::{describe_scope, scope_json};
use crate::error::CliError;
use crate::output::{self, Format, Table};

pub const DEFAULT_DIR: &str = "evident-demo";

const COMPONENTS: &[(ComponentKind, &str, bool, &str)] = &[
    (
        ComponentKind::Infrastructure,
        "AWS production account (eu-west-1)",
        true,
        "Hosts the customer-facing service and its data",
    ),
    (
        ComponentKind::Software,
        "Acme Cloud web application and API",
        true,
        "The service the report describes",
    ),
    (
        ComponentKind::People,
        "Engineering, IT, support and security staff",
        true,
        "Build, run and support the service",
    ),
    (
        ComponentKind::Procedures,
        "Change, incident and access management",
        true,
        "Govern how the service is changed and operated",
    ),
    (
        ComponentKind::Data,
        "Customer account and usage data",
        true,
        "Processed on behalf of customers",
    ),
    (
        ComponentKind::Software,
        "Marketing website",
        false,
        "Static site with no customer data, hosted separately",
    ),
];

fn demo_owner(role: OwnerRole) -> Option<&'static str> {
    match role {
        OwnerRole::Security | OwnerRole::Compliance => Some("dana.okafor@acme.example"),
        OwnerRole::Engineering => Some("lee.tanaka@acme.example"),
        OwnerRole::Infrastructure => Some("sam.rivera@acme.example"),
        OwnerRole::It => Some("priya.nair@acme.example"),
        OwnerRole::Hr => Some("jo.mensah@acme.example"),
        // Left unassigned on purpose: a real program has gaps to find.
        _ => None,
    }
}

async fn create(dir: &Path) -> Result<Workspace, CliError> {
    let ws = Workspace::init(
        dir,
        InitOptions {
            organisation: "Acme Cloud (demo)".into(),
        },
        &super::actor(),
    )
    .await?;
    let today = OffsetDateTime::now_utc().date();
    let from = add_months(today.replace_day(1).expect("day 1 exists"), 1);
    let to = add_months(from, 6).previous_day().expect("a real date");
    let (categories, _) = parse_categories("security,availability,confidentiality").expect("known categories");
    let (scope, _) = Scope::new(ReportType::Type2, categories, None, Some((from, to))).expect("a valid window");
    ws.set_scope(&scope).await?;
    for (kind, name, in_scope, reason) in COMPONENTS {
        ws.add_component(&ComponentRecord {
            kind: *kind,
            name: (*name).into(),
            in_scope: *in_scope,
            reason: (*reason).into(),
        })
        .await?;
    }
    for c in ws.controls().await? {
        if let Some(owner) = demo_owner(c.owner_role) {
            ws.set_control_owner(&c.code, Some(owner)).await?;
        }
    }
    Ok(ws)
}

pub async fn run(dir: &Path, format: Format) -> Result<(), CliError> {
    let fresh = !Workspace::config_path(dir).is_file();
    let ws = if fresh {
        create(dir).await?
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

    match format {
        Format::Json => output::json(&json!({
            "workspace": ws.dir,
            "organisation": ws.organisation,
            "created": fresh,
            "scope": scope_json(&record),
            "controls": {"total": controls.len(), "applicable": applicable.len(), "without_owner": unowned},
            "categories": categories,
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
            let mut t = Table::new(&["CATEGORY", "CRITERIA", "WITH A CONTROL"]);
            for c in &categories {
                t.row(vec![
                    c["category"].as_str().unwrap_or_default().into(),
                    c["criteria"].to_string(),
                    c["with_controls"].to_string(),
                ]);
            }
            t.print()?;
            println!("\nTry:");
            let w = ws.dir.display();
            println!("  evident --workspace {w} scope show");
            println!("  evident --workspace {w} controls list --only applicable");
            println!("  evident --workspace {w} catalog show CC6.1");
            println!("  evident --workspace {w} controls show ACC-07");
            Ok(())
        }
    }
}
