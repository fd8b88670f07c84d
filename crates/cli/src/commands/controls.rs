use std::path::Path;

use evident_catalog::Catalog;
use evident_core::control::ControlView;
use evident_core::parse_email;
use evident_store::{ControlSummary, Workspace, applicability_of};
use serde_json::json;

use super::required_text;
use crate::args::ControlsCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// Controls as JSON views (`evident_core::control::ControlView`, the API's shape), with their
/// readiness when an audit scope is set.
async fn views(ws: &Workspace, codes: Option<&[String]>) -> Result<Vec<ControlView>, CliError> {
    let in_scope = ws.scope_categories().await?;
    let assessment = match in_scope {
        Some(_) => Some(ws.assess(super::today(), time::OffsetDateTime::now_utc()).await?),
        None => None,
    };
    let controls = ws.controls().await?;
    Ok(controls
        .iter()
        .filter(|c| codes.is_none_or(|k| k.contains(&c.code)))
        .map(|c| {
            let status = assessment
                .as_ref()
                .and_then(|a| a.readiness.controls.iter().find(|s| s.control == c.code));
            ControlView::of(c, &applicability_of(c, in_scope.as_ref()), status)
        })
        .collect())
}

/// All controls with their applicability under the current scope.
pub async fn summaries(ws: &Workspace) -> Result<Vec<ControlSummary>, CliError> {
    Ok(ws.control_summaries().await?)
}

pub fn criterion_id(given: &str) -> Result<String, CliError> {
    let fw = &Catalog::builtin().framework;
    fw.criterion(given).map(|c| c.id.clone()).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown criterion id '{given}' (criteria look like CC6.1, A1.2, C1.1, PI1.3, P4.2; see `evident catalog criteria`)"
        ))
    })
}

pub async fn run(dir: &Path, command: ControlsCommand, format: Format) -> Result<(), CliError> {
    let ws = super::open(dir).await?;
    match command {
        ControlsCommand::List { area, criterion, only } => {
            let library = &Catalog::builtin().library;
            if let Some(a) = area.as_ref().filter(|a| !library.areas.iter().any(|x| x.id == **a)) {
                let allowed: Vec<&str> = library.areas.iter().map(|x| x.id.as_str()).collect();
                return Err(usage(format!(
                    "--area: unknown area '{a}' (allowed: {})",
                    allowed.join(", ")
                )));
            }
            let criterion = criterion.as_deref().map(criterion_id).transpose()?;
            let rows: Vec<ControlSummary> = summaries(&ws)
                .await?
                .into_iter()
                .filter(|c| area.as_ref().is_none_or(|a| c.area == *a))
                .filter(|c| criterion.as_ref().is_none_or(|k| c.criteria.contains(k)))
                .filter(|c| match only.as_deref() {
                    Some("applicable") => c.applicability.applicable,
                    Some("not-applicable") => !c.applicability.applicable,
                    _ => true,
                })
                .collect();
            match format {
                Format::Json => {
                    let codes: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
                    output::json(&views(&ws, Some(&codes)).await?)
                }
                Format::Table => {
                    let mut t = Table::new(&["ID", "TITLE", "CRITERIA", "OWNER", "FREQUENCY", "APPLICABLE"]);
                    for c in &rows {
                        t.row(vec![
                            c.id.clone(),
                            c.title.clone(),
                            c.criteria.join(","),
                            c.owner.clone().unwrap_or_else(|| format!("({})", c.owner_role)),
                            c.frequency.clone(),
                            if c.applicability.applicable {
                                "yes".into()
                            } else {
                                "no".into()
                            },
                        ]);
                    }
                    t.print()?;
                    let na = rows.iter().filter(|c| !c.applicability.applicable).count();
                    println!(
                        "\n{} controls, {} applicable, {na} not applicable",
                        rows.len(),
                        rows.len() - na
                    );
                    Ok(())
                }
            }
        }
        ControlsCommand::Show { id } => show(&ws, &id, format).await,
        ControlsCommand::SetOwner { id, email } => {
            let email = parse_email(&email).map_err(|e| usage(format!("EMAIL: {e}")))?;
            ws.set_control_owner(&id, Some(&email)).await?;
            done(
                &ws,
                &id,
                format,
                &format!("{} is now owned by {email}", id.to_uppercase()),
            )
            .await
        }
        ControlsCommand::NotApplicable { id, reason } => {
            let reason = required_text("--reason", &reason)?;
            ws.set_control_not_applicable(&id, Some(&reason)).await?;
            done(
                &ws,
                &id,
                format,
                &format!("{} marked not applicable: {reason}", id.to_uppercase()),
            )
            .await
        }
        ControlsCommand::Applicable { id } => {
            let control = ws.control(&id).await?;
            if control.na_reason.is_none() {
                return Err(usage(format!(
                    "{}: no not-applicable ruling to withdraw; nothing was changed",
                    control.code
                )));
            }
            ws.set_control_not_applicable(&id, None).await?;
            done(
                &ws,
                &id,
                format,
                &format!("{}: not-applicable ruling withdrawn", control.code),
            )
            .await
        }
        ControlsCommand::Adopt { ids, all_new } => {
            if ids.is_empty() && !all_new {
                return Err(usage("name the library controls to adopt, or give --all-new"));
            }
            let adopted = ws.adopt_controls(&ids).await.map_err(|e| match e {
                evident_store::StoreError::Field { reason, .. } => usage(format!("ID: {reason}")),
                other => other.into(),
            })?;
            match format {
                Format::Json => output::json(&json!({"adopted": adopted})),
                Format::Table => {
                    if adopted.is_empty() {
                        println!("Every library control is already adopted; nothing was changed.");
                    } else {
                        println!("Adopted {}: {}", adopted.len(), adopted.join(", "));
                    }
                    Ok(())
                }
            }
        }
    }
}

/// After a write: the control as it now stands (JSON), or one sentence.
async fn done(ws: &Workspace, id: &str, format: Format, sentence: &str) -> Result<(), CliError> {
    match format {
        Format::Json => show(ws, id, format).await,
        Format::Table => {
            println!("{sentence}");
            Ok(())
        }
    }
}

async fn show(ws: &Workspace, id: &str, format: Format) -> Result<(), CliError> {
    let control = ws.control(id).await?;
    let in_scope = ws.scope_categories().await?;
    let applicability = applicability_of(&control, in_scope.as_ref());
    let fw = &Catalog::builtin().framework;
    match format {
        Format::Json => {
            let code = [control.code.clone()];
            output::json(&views(ws, Some(&code)).await?.pop())
        }
        Format::Table => {
            println!("{}  {}", control.code, control.title);
            println!();
            println!("{}", control.description.trim());
            println!();
            println!("Area:        {}", control.area);
            println!(
                "Owner:       {}",
                control.owner_email.as_deref().unwrap_or("(none assigned)")
            );
            println!("Owner role:  {}", control.owner_role);
            println!("Frequency:   {}", control.frequency);
            println!("Nature:      {}, {}", control.nature.kind, control.nature.execution);
            match &applicability.na_reason {
                None => println!("Applicable:  yes"),
                Some(r) => println!("Applicable:  no ({r})"),
            }
            println!("\nCriteria:");
            for k in &control.criteria {
                println!(
                    "  {k:<7} {}",
                    fw.criterion(k).map(|c| c.title.as_str()).unwrap_or("(unknown)")
                );
            }
            println!("\nEvidence needed:");
            for e in &control.evidence {
                println!("  {:<30} {} (refresh: {})", e.key, e.title, e.refresh);
            }
            if let Some(t) = &control.testing {
                println!("\nHow an auditor tests it:\n  {}", t.trim());
            }
            Ok(())
        }
    }
}
