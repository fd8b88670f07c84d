use std::path::Path;

use evident_core::checks::rules::Rule;
use evident_core::checks::{self, BUILTIN, CheckStatus, Exclusion};
use evident_core::{format_date, parse_date, parse_email};
use serde_json::json;

use super::{instant, open, required_text, today};
use crate::args::CheckCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// A built-in check or one of the workspace's rules.
enum AnyCheck<'a> {
    Builtin(&'static checks::CheckDef),
    Rule(&'a Rule),
}

impl AnyCheck<'_> {
    fn id(&self) -> &str {
        match self {
            AnyCheck::Builtin(c) => c.id,
            AnyCheck::Rule(r) => &r.id,
        }
    }
}

fn find<'a>(id: &str, rules: &'a [Rule]) -> Result<AnyCheck<'a>, CliError> {
    if let Some(c) = checks::by_id(id) {
        return Ok(AnyCheck::Builtin(c));
    }
    rules
        .iter()
        .find(|r| r.id == id)
        .map(AnyCheck::Rule)
        .ok_or_else(|| usage(format!("unknown check '{id}' (see `evident check list`)")))
}

pub async fn run(dir: &Path, command: CheckCommand, format: Format) -> Result<(), CliError> {
    let rules = if evident_store::Workspace::config_path(dir).is_file() {
        evident_store::load_rules(dir)?
    } else {
        Vec::new()
    };
    match command {
        CheckCommand::List => {
            let mut rows: Vec<_> = BUILTIN
                .iter()
                .map(|c| json!({"id": c.id, "title": c.title, "reads": c.reads, "controls": c.controls().collect::<Vec<_>>(), "source": "built-in"}))
                .collect();
            rows.extend(rules.iter().map(|r| json!({"id": r.id, "title": r.title, "reads": r.reads, "controls": r.controls, "source": "workspace"})));
            match format {
                Format::Json => output::json(&rows),
                Format::Table => {
                    let mut t = Table::new(&["ID", "TITLE", "READS", "CONTROLS"]);
                    for r in &rows {
                        let controls: Vec<&str> = r["controls"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.as_str())
                            .collect();
                        t.row(vec![
                            r["id"].as_str().unwrap_or("").into(),
                            r["title"].as_str().unwrap_or("").into(),
                            r["reads"].as_str().unwrap_or("").into(),
                            controls.join(","),
                        ]);
                    }
                    t.print()?;
                    println!(
                        "\n{} checks ({} from the workspace's checks/ folder)",
                        rows.len(),
                        rules.len()
                    );
                    Ok(())
                }
            }
        }
        CheckCommand::Run { check } => {
            let only = match &check {
                Some(id) => Some(find(id, &rules)?.id().to_string()),
                None => None,
            };
            let ws = open(dir).await?;
            let (run_id, results) = ws
                .run_checks_and_keep(only.as_deref(), time::OffsetDateTime::now_utc())
                .await
                .map_err(CliError::with_flags)?;
            match format {
                Format::Json => output::json(&results),
                Format::Table => {
                    let mut t = Table::new(&["CHECK", "STATUS", "PASSED", "FAILED", "EXCLUDED", "FIRST FAILURE"]);
                    for r in &results {
                        let first = r
                            .failures
                            .first()
                            .map(|f| format!("{}: {}", f.record, f.reason))
                            .unwrap_or_default();
                        t.row(vec![
                            r.id.clone(),
                            r.status.as_str().into(),
                            r.passed.to_string(),
                            r.failed.to_string(),
                            r.excluded.to_string(),
                            first,
                        ]);
                    }
                    t.print()?;
                    let failing = results.iter().filter(|r| r.status == CheckStatus::Fail).count();
                    let no_data = results.iter().filter(|r| r.status == CheckStatus::NoData).count();
                    println!(
                        "\nRun {run_id}: {} checks, {failing} failing, {no_data} with nothing to test yet.",
                        results.len()
                    );
                    Ok(())
                }
            }
        }
        CheckCommand::History { id, from, to } => {
            let c = find(&id, &rules)?;
            let from_d = parse_date(&from).map_err(|e| usage(format!("--from: {e}")))?;
            let to_d = parse_date(&to).map_err(|e| usage(format!("--to: {e}")))?;
            if to_d < from_d {
                return Err(usage(format!("--to: {to} is before --from {from}")));
            }
            let ws = open(dir).await?;
            let runs = ws
                .check_history(
                    c.id(),
                    evident_core::day_start_ms(from_d),
                    evident_core::day_start_ms(to_d) + 86_400_000,
                )
                .await?;
            match format {
                Format::Json => output::json(
                    &runs
                        .iter()
                        .map(|r| {
                            json!({
                                "run_id": r.run_id, "at": instant(r.at), "status": r.status,
                                "passed": r.passed, "failed": r.failed, "excluded": r.excluded, "failures": r.failures,
                            })
                        })
                        .collect::<Vec<_>>(),
                ),
                Format::Table => {
                    let mut t = Table::new(&["AT", "STATUS", "PASSED", "FAILED", "EXCLUDED"]);
                    for r in &runs {
                        t.row(vec![
                            instant(r.at),
                            r.status.clone(),
                            r.passed.to_string(),
                            r.failed.to_string(),
                            r.excluded.to_string(),
                        ]);
                    }
                    t.print()
                }
            }
        }
        CheckCommand::Exclude {
            id,
            record,
            reason,
            owner,
            expires,
        } => {
            let check = find(&id, &rules)?.id().to_string();
            let reason = required_text("--reason", &reason)?;
            let record = required_text("--record", &record)?;
            let owner = parse_email(&owner).map_err(|e| usage(format!("--owner: {e}")))?;
            let expires = parse_date(&expires).map_err(|e| usage(format!("--expires: {e}")))?;
            if expires < today() {
                return Err(usage(format!("--expires: {} is already past", format_date(expires))));
            }
            let ws = open(dir).await?;
            let e = Exclusion {
                check,
                record,
                reason,
                owner,
                expires,
            };
            ws.add_exclusion(&e).await?;
            match format {
                Format::Json => output::json(&e),
                Format::Table => {
                    println!(
                        "{} on {} excluded until {}: {}",
                        e.record,
                        e.check,
                        format_date(e.expires),
                        e.reason
                    );
                    Ok(())
                }
            }
        }
        CheckCommand::Exclusions => {
            let ws = open(dir).await?;
            let today = today();
            let all = ws.exclusions().await?;
            match format {
                Format::Json => output::json(
                    &all.iter()
                        .map(|e| {
                            json!({
                                "check": e.check, "record": e.record, "reason": e.reason, "owner": e.owner,
                                "expires": format_date(e.expires), "live": e.expires >= today,
                            })
                        })
                        .collect::<Vec<_>>(),
                ),
                Format::Table => {
                    let mut t = Table::new(&["CHECK", "RECORD", "OWNER", "EXPIRES", "REASON"]);
                    for e in &all {
                        let exp = if e.expires >= today {
                            format_date(e.expires)
                        } else {
                            format!("{} (expired)", format_date(e.expires))
                        };
                        t.row(vec![
                            e.check.clone(),
                            e.record.clone(),
                            e.owner.clone(),
                            exp,
                            e.reason.clone(),
                        ]);
                    }
                    t.print()
                }
            }
        }
    }
}
