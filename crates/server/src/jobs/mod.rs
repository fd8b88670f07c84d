//! Jobs inside the server: collection per connector, the daily check run, access reviews that
//! fall due. Each instance has its own id; every `jobs_poll_ms` it brings the jobs in line with
//! what is configured, claims the due ones (the store's lease rules decide who gets one), runs
//! each in its own task while renewing its lease, and records how it ended. A job that fails or
//! panics is recorded as failed with its reason in words; the server carries on.
//!
//! The same path runs a job for `evident jobs run`, `evident collect all` and the web's Run now,
//! so a job asked for by hand never overlaps a server's run of it. Also the web page and API.

pub(crate) mod api;
pub(crate) mod page;
pub mod work;

use std::sync::OnceLock;
use std::time::Duration;

use evident_store::{Cause, Claim, JobView, StoreError, Workspace};
use serde_json::Value;

pub use page::{collected_words, summary_words};
pub use work::{Collected, JobError, collect, collect_github};

/// Who the audit log names for what the scheduler writes.
pub const SCHEDULER_ACTOR: &str = "system:jobs";

/// This process's id as a lease holder: host, process and a random part, so two instances on
/// one machine (or a restarted one reusing a pid) never share one.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut random = [0u8; 4];
        let _ = getrandom::fill(&mut random);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}/{}/{}", std::process::id(), hex::encode(random))
    })
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn lease_ms(ws: &Workspace) -> i64 {
    (ws.config.server.jobs_lease_secs.max(1) as i64).saturating_mul(1000)
}

/// What a panic said, in words.
fn panic_words(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "the job was stopped before it finished".into();
    }
    let payload = e.into_panic();
    let said = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the job stopped unexpectedly: {said}")
}

/// Runs a claimed job to its end: the work in a task of its own (so a panic is caught), the
/// lease renewed every third of its term meanwhile, then the run recorded. Returns how it ended.
pub async fn run_claimed(ws: &Workspace, claim: Claim, since: Option<time::Date>) -> Result<Value, String> {
    let lease = lease_ms(ws);
    let worker = {
        let (ws, claim) = (ws.clone(), claim.clone());
        tokio::spawn(async move { work::execute(&ws, &claim, claim.started_at, since).await })
    };
    tokio::pin!(worker);
    let every = Duration::from_millis((lease / 3).max(100) as u64);
    let outcome = loop {
        tokio::select! {
            done = &mut worker => break match done {
                Ok(Ok(summary)) => Ok(summary),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(panic_words(e)),
            },
            _ = tokio::time::sleep(every) => {
                match ws.renew_job_lease(&claim, lease, now_ms()).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job = %claim.job, "the job's lease was taken over by another instance"),
                    Err(e) => tracing::warn!(job = %claim.job, error = %e, "renewing the job's lease failed"),
                }
            }
        }
    };
    if let Err(e) = ws.finish_job(&claim, outcome.clone(), now_ms()).await {
        tracing::error!(job = %claim.job, error = %e, "recording the job's run failed");
    }
    match &outcome {
        Ok(_) => tracing::info!(job = %claim.job, run = %claim.run_id, "job succeeded"),
        Err(e) => tracing::warn!(job = %claim.job, run = %claim.run_id, error = %e, "job failed"),
    }
    outcome
}

/// Runs a job now, in this task, claiming it so it cannot overlap another instance's run
/// (`evident jobs run`, `evident collect …`); `since` starts a collection from that day.
/// Refused (Conflict) while someone else holds it.
pub async fn run_now(
    ws: &Workspace,
    name: &str,
    since: Option<time::Date>,
) -> Result<(Claim, Result<Value, String>), StoreError> {
    ws.sync_jobs(now_ms()).await?;
    let claim = ws.claim_job_now(name, instance_id(), lease_ms(ws), now_ms()).await?;
    let outcome = run_claimed(ws, claim.clone(), since).await;
    Ok((claim, outcome))
}

/// Claims a job now and runs it in the background (the web's Run now); the job as it stands
/// once claimed. Refused (Conflict) while someone else holds it.
pub async fn start_now(ws: &Workspace, name: &str) -> Result<JobView, StoreError> {
    let now = now_ms();
    ws.sync_jobs(now).await?;
    let claim = ws.claim_job_now(name, instance_id(), lease_ms(ws), now).await?;
    let runner = ws.clone();
    tokio::spawn(async move {
        let _ = run_claimed(&runner, claim, None).await;
    });
    ws.job(name, now).await
}

/// One look for due jobs: brings the jobs in line with the configuration, claims what is due
/// and starts each claimed job in its own task.
async fn tick(ws: &Workspace) -> Result<(), StoreError> {
    let now = now_ms();
    ws.sync_jobs(now).await?;
    for name in ws.due_jobs(now).await? {
        if let Some(claim) = ws
            .claim_job(&name, instance_id(), Cause::Schedule, lease_ms(ws), now_ms())
            .await?
        {
            tracing::info!(job = %name, run = %claim.run_id, instance = instance_id(), "job claimed");
            let ws = ws.clone();
            tokio::spawn(async move {
                let _ = run_claimed(&ws, claim, None).await;
            });
        }
    }
    Ok(())
}

/// Starts the scheduler for `evident serve` (unless `[server] run_jobs = false`).
pub fn start(ws: &Workspace) {
    if !ws.config.server.run_jobs {
        tracing::info!("scheduled jobs are off ([server] run_jobs = false)");
        return;
    }
    let ws = ws.as_actor(SCHEDULER_ACTOR);
    let poll = Duration::from_millis(ws.config.server.jobs_poll_ms.max(50));
    tracing::info!(instance = instance_id(), "scheduled jobs on");
    tokio::spawn(async move {
        loop {
            if let Err(e) = tick(&ws).await {
                tracing::warn!(error = %e, "looking for due jobs failed; trying again at the next poll");
            }
            tokio::time::sleep(poll).await;
        }
    });
}
