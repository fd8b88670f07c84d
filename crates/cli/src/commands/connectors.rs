//! Live connectors: `connect` stores the settings, `collect` runs them.

use std::path::Path;
use std::time::Duration;

use evident_collect::github_api::GithubApi;
use evident_store::{NewEvidence, SourceKind};
use serde_json::json;

use super::{instant, open, today};
use crate::args::{CollectCommand, ConnectCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

const DAY_MS: i64 = 86_400_000;

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
    };
    let since_date = since
        .as_deref()
        .map(|d| evident_core::parse_date(d).map_err(|e| usage(format!("--since: {e}"))))
        .transpose()?;
    let ws = open(dir).await?;
    let connector = ws.connector("github").await?;
    let org = connector.config["org"].as_str().unwrap_or_default().to_string();
    let api_url = connector.config["api_url"]
        .as_str()
        .unwrap_or("https://api.github.com")
        .to_string();
    let started = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let since_ms = match (since_date, connector.last_success_at) {
        (Some(d), _) => d.midnight().assume_utc().unix_timestamp() * 1000,
        (None, Some(t)) => t,
        (None, None) => started - 90 * DAY_MS,
    };

    let mut api = GithubApi::new(&api_url, &connector.secret);
    if let Some(ms) = std::env::var("EVIDENT_HTTP_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        api.backoff = Duration::from_millis(ms);
    }
    let result = api.collect_org(&org, since_ms).await;
    let pages = api.take_pages();

    // Whatever was fetched is kept, even from a run that failed.
    let evidence_id = if pages.is_empty() {
        None
    } else {
        let bundle = json!({"connector": "github", "org": org, "since": instant(since_ms), "started": instant(started), "pages": pages});
        // The file is stored (and downloaded) under its own name, so it is named for what it is.
        let folder = ws.dir.join(format!(".collect-{started}"));
        std::fs::create_dir_all(&folder)?;
        let tmp = folder.join(evident_store::clean_file_name(&format!(
            "github-{}-{}.json",
            org.replace(['/', '\\'], "-"),
            evident_core::format_date(today())
        )));
        std::fs::write(&tmp, serde_json::to_vec_pretty(&bundle).expect("serialises"))?;
        let added = ws
            .add_evidence(
                NewEvidence {
                    title: Some(format!("GitHub collection for {org}")),
                    controls: ws.collected_by("github-api").await?,
                    ..NewEvidence::new(
                        evident_store::EvidenceFile::Path(&tmp),
                        SourceKind::Connector,
                        format!("github:{org}"),
                    )
                },
                today(),
            )
            .await;
        let _ = std::fs::remove_dir_all(&folder);
        Some(added?.id)
    };
    match result {
        Ok(imported) => {
            let summary = ws
                .apply_facts("github", &imported, evidence_id.as_deref().unwrap_or_default(), started)
                .await?;
            let summary =
                json!({"requests": pages.len(), "protections": summary.protections, "changes": summary.changes});
            let run = ws
                .record_connector_run("github", started, None, evidence_id.as_deref(), &summary, Some(started))
                .await?;
            match format {
                Format::Json => output::json(
                    &json!({"run": run, "status": "succeeded", "evidence": evidence_id, "summary": summary}),
                ),
                Format::Table => {
                    println!(
                        "Collected {org}: {} requests, {} branch protections, {} merged changes since {} (run {run})",
                        pages.len(),
                        summary["protections"],
                        summary["changes"],
                        instant(since_ms)
                    );
                    Ok(())
                }
            }
        }
        Err(e) => {
            let summary = json!({"requests": pages.len()});
            let run = ws
                .record_connector_run(
                    "github",
                    started,
                    Some(&e.to_string()),
                    evidence_id.as_deref(),
                    &summary,
                    None,
                )
                .await?;
            Err(CliError::Failed(format!(
                "the GitHub collection failed and changed no facts (run {run}; {} responses kept as evidence{}): {e}",
                pages.len(),
                evidence_id.as_deref().map(|id| format!(" {id}")).unwrap_or_default()
            )))
        }
    }
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
