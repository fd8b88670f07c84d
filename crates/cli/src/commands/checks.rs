use std::path::Path;

use evident_core::checks::{self, BUILTIN, CheckResult, CheckStatus, Exclusion};
use evident_core::{format_date, parse_date, parse_email};
use serde_json::json;

use super::{instant, open, required_text, today};
use crate::args::CheckCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

fn check_id(id: &str) -> Result<&'static checks::CheckDef, CliError> {
    checks::by_id(id).ok_or_else(|| usage(format!("unknown check '{id}' (see `evident check list`)")))
}

fn day_ms(d: time::Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

pub async fn run(dir: &Path, command: CheckCommand, format: Format) -> Result<(), CliError> {
    match command {
        CheckCommand::List => {
            let rows: Vec<_> = BUILTIN
                .iter()
                .map(|c| json!({"id": c.id, "title": c.title, "reads": c.reads, "controls": c.controls}))
                .collect();
            match format {
                Format::Json => output::json(&rows),
                Format::Table => {
                    let mut t = Table::new(&["ID", "TITLE", "READS", "CONTROLS"]);
                    for c in BUILTIN {
                        t.row(vec![c.id.into(), c.title.into(), c.reads.into(), c.controls.join(",")]);
                    }
                    t.print()?;
                    println!("\n{} checks", BUILTIN.len());
                    Ok(())
                }
            }
        }
        CheckCommand::Run { check } => {
            let chosen: Vec<&checks::CheckDef> = match &check {
                Some(id) => vec![check_id(id)?],
                None => BUILTIN.iter().collect(),
            };
            let ws = open(dir).await?;
            let facts = ws.facts().await?;
            let exclusions = ws.exclusions().await?;
            let now = time::OffsetDateTime::now_utc();
            let results: Vec<CheckResult> = chosen
                .iter()
                .map(|c| checks::run(c, &facts, &exclusions, now))
                .collect();
            let run_id = ws.save_run(&results).await?;
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
            let c = check_id(&id)?;
            let from_d = parse_date(&from).map_err(|e| usage(format!("--from: {e}")))?;
            let to_d = parse_date(&to).map_err(|e| usage(format!("--to: {e}")))?;
            if to_d < from_d {
                return Err(usage(format!("--to: {to} is before --from {from}")));
            }
            let ws = open(dir).await?;
            let runs = ws
                .check_history(c.id, day_ms(from_d), day_ms(to_d) + 86_400_000)
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
            let c = check_id(&id)?;
            let reason = required_text("--reason", &reason)?;
            let record = required_text("--record", &record)?;
            let owner = parse_email(&owner).map_err(|e| usage(format!("--owner: {e}")))?;
            let expires = parse_date(&expires).map_err(|e| usage(format!("--expires: {e}")))?;
            if expires < today() {
                return Err(usage(format!("--expires: {} is already past", format_date(expires))));
            }
            let ws = open(dir).await?;
            let e = Exclusion {
                check: c.id.to_string(),
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
