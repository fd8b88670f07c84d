//! Live connectors: `connect` stores the settings, `collect` runs them.

use std::path::Path;

use evident_server::jobs;
use evident_store::{NewEvidence, SourceKind};
use serde_json::json;

use super::{instant, open, today};
use crate::args::{CollectCommand, ConnectCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

pub async fn connect(dir: &Path, command: ConnectCommand, format: Format) -> Result<(), CliError> {
    let ConnectCommand::Github {
        org,
        token_env,
        api_url,
    } = command;
    let org = org.trim().to_string();
    if org.is_empty() || org.contains('/') {
        return Err(usage(format!("--org: '{org}' is not a GitHub organisation name")));
    }
    let token = std::env::var(&token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            usage(format!(
                "--token-env: the environment variable {token_env} is not set or empty"
            ))
        })?;
    if !(api_url.starts_with("https://")
        || api_url.starts_with("http://127.0.0.1")
        || api_url.starts_with("http://localhost"))
    {
        return Err(usage("--api-url: must be https (plain http only for a local server)"));
    }
    let ws = open(dir).await?;
    ws.configure_connector("github", &json!({"org": org, "api_url": api_url}), token.trim())
        .await?;
    match format {
        Format::Json => output::json(&json!({"connector": "github", "org": org, "api_url": api_url})),
        Format::Table => {
            println!("GitHub connector set for {org}; the token is stored sealed with the vault key.");
            println!("Run it with: evident collect github");
            Ok(())
        }
    }
}

pub async fn collect(dir: &Path, command: CollectCommand, format: Format) -> Result<(), CliError> {
    let since = match &command {
        CollectCommand::Github { since } => since.clone(),
        CollectCommand::Runs { connector } => return runs(dir, connector, format).await,
        CollectCommand::Git { path, branch, since } => {
            return git(dir, path, branch.as_deref(), since.as_deref(), format).await;
        }
        CollectCommand::All => return all(dir, format).await,
    };
    let since_date = since
        .as_deref()
        .map(|d| evident_core::parse_date(d).map_err(|e| usage(format!("--since: {e}"))))
        .transpose()?;
    let ws = open(dir).await?;
    // Checked first, so an unconfigured connector says how to configure it.
    ws.connector("github").await?;
    let job = format!("{}github", evident_store::COLLECT_PREFIX);
    let (_, outcome) = jobs::run_now(&ws, &job, since_date).await?;
    let done = outcome.map_err(CliError::Failed)?;
    let summary = &done["collected"];
    match format {
        Format::Json => output::json(
            &json!({"run": done["run"], "status": "succeeded", "evidence": done["evidence"], "summary": summary}),
        ),
        Format::Table => {
            println!(
                "Collected from GitHub: {} requests, {} branch protections, {} merged changes since {} (run {})",
                summary["requests"],
                summary["protections"],
                summary["changes"],
                done["since"].as_str().unwrap_or_default(),
                done["run"].as_str().unwrap_or_default()
            );
            Ok(())
        }
    }
}

/// `collect all`: every configured connector once, each through its job (so a server running
/// it at the same moment makes this one skip it, not run it twice).
async fn all(dir: &Path, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    ws.sync_jobs(jobs::now_ms()).await?;
    let names: Vec<String> = ws
        .jobs(jobs::now_ms())
        .await?
        .into_iter()
        .filter(|j| j.name.starts_with(evident_store::COLLECT_PREFIX))
        .map(|j| j.name)
        .collect();
    let mut rows = Vec::new();
    for name in &names {
        let connector = name.trim_start_matches(evident_store::COLLECT_PREFIX).to_string();
        let row = match jobs::run_now(&ws, name, None).await {
            Ok((claim, Ok(done))) => json!({"connector": connector, "status": "succeeded", "job_run": claim.run_id,
                "run": done["run"], "evidence": done["evidence"], "summary": done["collected"], "error": null}),
            Ok((claim, Err(e))) => json!({"connector": connector, "status": "failed", "job_run": claim.run_id,
                "run": null, "evidence": null, "summary": null, "error": e}),
            Err(evident_store::StoreError::Conflict(why)) => json!({"connector": connector, "status": "skipped",
                "job_run": null, "run": null, "evidence": null, "summary": null, "error": why}),
            Err(e) => return Err(e.into()),
        };
        rows.push(row);
    }
    let failed = rows.iter().filter(|r| r["status"] == "failed").count();
    match format {
        Format::Json => output::json(&rows)?,
        Format::Table => {
            if rows.is_empty() {
                println!("No connector is configured (evident connect github …).");
            }
            let mut t = Table::new(&["CONNECTOR", "RESULT", "COLLECTED", "ERROR"]);
            for r in &rows {
                t.row(vec![
                    r["connector"].as_str().unwrap_or_default().into(),
                    r["status"].as_str().unwrap_or_default().into(),
                    r["summary"]
                        .as_object()
                        .map(|m| m.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default(),
                    r["error"].as_str().unwrap_or_default().into(),
                ]);
            }
            t.print()?;
        }
    }
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "{failed} of {} connector(s) failed; each run is recorded and what was fetched is kept as evidence",
            rows.len()
        )));
    }
    Ok(())
}

async fn runs(dir: &Path, connector: &str, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let runs = ws.connector_runs(connector).await?;
    match format {
        Format::Json => output::json(
            &runs
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "started_at": instant(r.started_at), "finished_at": instant(r.finished_at),
                        "status": r.status, "error": r.error, "evidence": r.evidence_id, "summary": r.summary,
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let mut t = Table::new(&["STARTED", "STATUS", "EVIDENCE", "ERROR"]);
            for r in &runs {
                t.row(vec![
                    instant(r.started_at),
                    r.status.clone(),
                    r.evidence_id.clone().unwrap_or_default(),
                    r.error.clone().unwrap_or_default(),
                ]);
            }
            t.print()
        }
    }
}

async fn git(
    dir: &Path,
    path: &Path,
    branch: Option<&str>,
    since: Option<&str>,
    format: Format,
) -> Result<(), CliError> {
    if let Some(s) = since {
        evident_core::parse_date(s).map_err(|e| usage(format!("--since: {e}")))?;
    }
    let log = evident_collect::git::read(path, branch, since).map_err(usage)?;
    let ws = open(dir).await?;
    let started = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let folder = ws.dir.join(format!(".collect-{started}"));
    std::fs::create_dir_all(&folder)?;
    let tmp = folder.join(evident_store::clean_file_name(&format!(
        "git-history-{}-{}.log",
        log.imported.system.trim_start_matches("git:").replace(['/', '\\'], "-"),
        evident_core::format_date(today())
    )));
    std::fs::write(&tmp, &log.raw)?;
    let added = ws
        .add_evidence(
            NewEvidence {
                title: Some(format!(
                    "git history of {}",
                    log.imported.system.trim_start_matches("git:")
                )),
                controls: ws.collected_by("git-history").await?,
                ..NewEvidence::new(
                    evident_store::EvidenceFile::Path(&tmp),
                    SourceKind::Connector,
                    log.imported.system.clone(),
                )
            },
            today(),
        )
        .await;
    let _ = std::fs::remove_dir_all(&folder);
    let evidence = added?;
    let summary = ws.apply_facts("git", &log.imported, &evidence.id, started).await?;
    let unreviewed = log.imported.commits.iter().filter(|c| c.reviewers.is_empty()).count();
    let signed = log
        .imported
        .commits
        .iter()
        .filter(|c| matches!(c.signature.as_str(), "G" | "U"))
        .count();
    let report = json!({"repository": log.imported.system.trim_start_matches("git:"), "commits": summary.commits,
        "without_review": unreviewed, "signed": signed, "evidence": evidence.id});
    ws.record_connector_run("git", started, None, Some(&evidence.id), &report, Some(started))
        .await?;
    match format {
        Format::Json => output::json(&report),
        Format::Table => {
            println!(
                "{}: {} commits read ({} without a review trailer, {signed} signed), kept as evidence {}",
                report["repository"].as_str().unwrap_or_default(),
                summary.commits,
                unreviewed,
                evidence.id
            );
            Ok(())
        }
    }
}
