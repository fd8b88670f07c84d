//! What each job does, once, for every entry point: the server's runner, `evident jobs run`,
//! `evident collect github|all`, `evident check run` (through the store) and the web's Run now.

use std::time::Duration;

use evident_collect::github_api::GithubApi;
use evident_core::access::Role;
use evident_store::{Claim, JobKind, NewEvidence, SourceKind, StoreError, Workspace};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
/// Access reviews are started this many days before they fall due (as `access-reviews start-due`).
pub const CAMPAIGN_LEAD_DAYS: i64 = 14;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The outside source failed; the run is recorded and what was fetched is kept.
    #[error("{0}")]
    Failed(String),
}

/// A finished collection from one connector.
#[derive(Debug, Clone)]
pub struct Collected {
    pub run: String,
    pub evidence: Option<String>,
    pub since_ms: i64,
    /// Requests made and what they yielded (counts only).
    pub summary: Value,
}

fn date_of(ms: i64) -> time::Date {
    evident_core::date_of_ms(ms).unwrap_or(time::Date::MIN)
}

/// `text` with every occurrence of `secret` masked: a source's message must never carry it.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.trim().len() < 4 {
        return text.to_string();
    }
    text.replace(secret, "***")
}

/// Runs a configured connector once: fetches, keeps every response as evidence (even from a
/// run that fails), applies the facts only when the run succeeds, and records the run.
pub async fn collect(
    ws: &Workspace,
    connector: &str,
    since: Option<time::Date>,
    now_ms: i64,
) -> Result<Collected, JobError> {
    match connector {
        "github" => collect_github(ws, since, now_ms).await,
        other => Err(JobError::Failed(format!(
            "no collector is built in for the connector '{other}'"
        ))),
    }
}

/// GitHub: repositories, default-branch protection and rules, merged pull requests since the
/// last success (or `since`, or 90 days back the first time).
pub async fn collect_github(ws: &Workspace, since: Option<time::Date>, started: i64) -> Result<Collected, JobError> {
    let connector = ws.connector("github").await?;
    let org = connector.config["org"].as_str().unwrap_or_default().to_string();
    let api_url = connector.config["api_url"]
        .as_str()
        .unwrap_or("https://api.github.com")
        .to_string();
    let since_ms = match (since, connector.last_success_at) {
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
    let today = date_of(started);
    let instant = evident_core::evidence::rfc3339;

    // Whatever was fetched is kept, even from a run that failed.
    let evidence = if pages.is_empty() {
        None
    } else {
        let bundle = json!({"connector": "github", "org": org, "since": instant(since_ms), "started": instant(started), "pages": pages});
        // The file is stored (and downloaded) under its own name, so it is named for what it is.
        let folder = ws.dir.join(format!(".collect-{started}-{}", std::process::id()));
        std::fs::create_dir_all(&folder)?;
        let file = folder.join(evident_store::clean_file_name(&format!(
            "github-{}-{}.json",
            org.replace(['/', '\\'], "-"),
            evident_core::format_date(today)
        )));
        let written = std::fs::write(&file, serde_json::to_vec_pretty(&bundle).expect("serialises"));
        let added = match written {
            Ok(()) => ws
                .add_evidence(
                    NewEvidence {
                        title: Some(format!("GitHub collection for {org}")),
                        controls: ws.collected_by("github-api").await?,
                        ..NewEvidence::new(
                            evident_store::EvidenceFile::Path(&file),
                            SourceKind::Connector,
                            format!("github:{org}"),
                        )
                    },
                    today,
                )
                .await
                .map_err(|e| JobError::Failed(format!("the responses could not be kept as evidence: {e}"))),
            Err(e) => Err(e.into()),
        };
        let _ = std::fs::remove_dir_all(&folder);
        Some(added?.id)
    };
    match result {
        Ok(imported) => {
            let applied = ws
                .apply_facts("github", &imported, evidence.as_deref().unwrap_or_default(), started)
                .await?;
            let summary =
                json!({"requests": pages.len(), "protections": applied.protections, "changes": applied.changes});
            let run = ws
                .record_connector_run("github", started, None, evidence.as_deref(), &summary, Some(started))
                .await?;
            Ok(Collected {
                run,
                evidence,
                since_ms,
                summary,
            })
        }
        Err(e) => {
            let error = redact(&e.to_string(), &connector.secret);
            let summary = json!({"requests": pages.len()});
            let run = ws
                .record_connector_run("github", started, Some(&error), evidence.as_deref(), &summary, None)
                .await?;
            Err(JobError::Failed(format!(
                "the GitHub collection failed and changed no facts (run {run}; {} responses kept as evidence{}): {error}",
                pages.len(),
                evidence.as_deref().map(|id| format!(" {id}")).unwrap_or_default()
            )))
        }
    }
}

/// Does what a claimed job is for and says what it did (counts and the records it made).
/// `since` (collections only) starts a collection from that day instead of its last success.
pub async fn execute(ws: &Workspace, claim: &Claim, now_ms: i64, since: Option<time::Date>) -> Result<Value, JobError> {
    match claim.kind {
        JobKind::Collect => {
            let connector = claim
                .connector()
                .ok_or_else(|| JobError::Failed(format!("{} names no connector", claim.job)))?;
            let c = collect(ws, connector, since, now_ms).await?;
            Ok(
                json!({"connector": connector, "run": c.run, "evidence": c.evidence, "collected": c.summary,
                "since": evident_core::evidence::rfc3339(c.since_ms)}),
            )
        }
        JobKind::Checks => {
            let now = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
                .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
            let (run, results) = ws.run_checks_and_keep(None, now).await?;
            let count = |s: evident_core::checks::CheckStatus| results.iter().filter(|r| r.status == s).count();
            Ok(json!({
                "check_run": run,
                "checks": results.len(),
                "failing": count(evident_core::checks::CheckStatus::Fail),
                "passing": count(evident_core::checks::CheckStatus::Pass),
            }))
        }
        JobKind::AccessReviews => {
            // Before any accounts are imported or collected there is nothing to review yet: the
            // daily job waits for them rather than failing every day.
            if ws.review_systems().await?.is_empty() {
                return Ok(json!({"started": [], "note": "no system has active accounts to review yet"}));
            }
            // The schedule's job manages campaigns as an administrator would from the command line.
            let started = ws
                .start_due_campaigns(Role::Admin, date_of(now_ms), CAMPAIGN_LEAD_DAYS)
                .await?;
            Ok(json!({"started": started.iter().map(|c| json!({"id": c.id, "name": c.name})).collect::<Vec<_>>()}))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked_in_messages() {
        assert_eq!(
            super::redact("GET https://x/?t=ghp_abcdef failed", "ghp_abcdef"),
            "GET https://x/?t=*** failed"
        );
        assert_eq!(super::redact("nothing here", "ghp_abcdef"), "nothing here");
    }
}
