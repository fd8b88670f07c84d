//! `evident jobs`: the scheduled jobs the server runs, one run now, a schedule changed.

use std::path::Path;

use evident_server::jobs;
use serde_json::{Value, json};

use super::{instant, open};
use crate::args::JobsCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

fn result_words(j: &evident_store::JobView) -> String {
    match &j.last_run {
        Some(r) => match &r.error {
            Some(e) => format!("failed: {e}"),
            None => format!("{}: {}", r.status, jobs::summary_words(&r.summary)),
        },
        None => String::new(),
    }
}

fn job_row(j: &evident_store::JobView) -> Value {
    json!({
        "name": j.name,
        "title": j.title,
        "schedule": j.schedule,
        "schedule_secs": j.schedule_secs,
        "last_run": j.last_run.as_ref().map(|r| instant(r.finished_at)),
        "result": j.last_run.as_ref().map(|r| r.status.clone()),
        "error": j.last_run.as_ref().and_then(|r| r.error.clone()),
        "summary": j.last_run.as_ref().map(|r| r.summary.clone()),
        "failures": j.failures,
        "next_run": instant(j.next_run_at),
        "lease_holder": j.lease_holder,
        "lease_until": j.lease_until.map(instant),
    })
}

pub async fn run(dir: &Path, command: JobsCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let now = jobs::now_ms();
    match command {
        JobsCommand::List => {
            ws.sync_jobs(now).await?;
            let list = ws.jobs(now).await?;
            match format {
                Format::Json => output::json(&list.iter().map(job_row).collect::<Vec<_>>()),
                Format::Table => {
                    let mut t = Table::new(&["JOB", "SCHEDULE", "LAST RUN", "RESULT", "NEXT RUN", "RUNNING ON"]);
                    for j in &list {
                        t.row(vec![
                            j.name.clone(),
                            j.schedule.clone(),
                            j.last_run
                                .as_ref()
                                .map(|r| instant(r.finished_at))
                                .unwrap_or_else(|| "never".into()),
                            result_words(j),
                            instant(j.next_run_at),
                            j.lease_holder.clone().unwrap_or_default(),
                        ]);
                    }
                    t.print()
                }
            }
        }
        JobsCommand::Run { name } => {
            let (claim, outcome) = jobs::run_now(&ws, &name, None).await?;
            match outcome {
                Ok(summary) => match format {
                    Format::Json => output::json(&json!({"job": name, "run": claim.run_id, "status": "succeeded",
                        "summary": summary})),
                    Format::Table => {
                        println!(
                            "{name}: succeeded (run {}): {}",
                            claim.run_id,
                            jobs::summary_words(&summary)
                        );
                        Ok(())
                    }
                },
                Err(e) => Err(CliError::Failed(format!(
                    "{name} failed (run {}, recorded): {e}",
                    claim.run_id
                ))),
            }
        }
        JobsCommand::Schedule { name, every, next } => {
            let secs = evident_store::parse_every(&every).map_err(|e| usage(format!("--every: {e}")))?;
            let next = next
                .as_deref()
                .map(|n| evident_store::parse_next(n, now).map_err(|e| usage(format!("--next: {e}"))))
                .transpose()?;
            ws.sync_jobs(now).await?;
            let job = ws
                .set_job_schedule(&name, secs, next, now)
                .await
                .map_err(CliError::with_flags)?;
            match format {
                Format::Json => output::json(&job_row(&job)),
                Format::Table => {
                    println!("{name}: {}, next {}", job.schedule, instant(job.next_run_at));
                    Ok(())
                }
            }
        }
        JobsCommand::Runs { name, limit } => {
            if !(1..=1000).contains(&limit) {
                return Err(usage(format!("--limit: {limit} is not between 1 and 1000")));
            }
            ws.job(&name, now).await?;
            let runs = ws.job_runs(&name, limit).await?;
            match format {
                Format::Json => output::json(
                    &runs
                        .iter()
                        .map(|r| {
                            json!({"id": r.id, "instance": r.instance, "cause": r.cause,
                                "started_at": instant(r.started_at), "finished_at": r.finished_at.map(instant),
                                "status": r.status, "error": r.error, "summary": r.summary})
                        })
                        .collect::<Vec<_>>(),
                ),
                Format::Table => {
                    let mut t = Table::new(&["STARTED", "INSTANCE", "CAUSE", "STATUS", "ERROR"]);
                    for r in &runs {
                        t.row(vec![
                            instant(r.started_at),
                            r.instance.clone(),
                            r.cause.clone(),
                            r.status.clone(),
                            r.error.clone().unwrap_or_default(),
                        ]);
                    }
                    t.print()
                }
            }
        }
    }
}
