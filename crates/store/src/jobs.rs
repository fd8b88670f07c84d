//! Jobs the server runs on a schedule, claimed with leases: the one place their rules live.
//!
//! A job is due when its `next_run_at` has come. An instance (a server, or a command run by a
//! person) takes it with one conditional `UPDATE … RETURNING` that succeeds only while nobody
//! holds a live lease, so two instances never run one job at once; it renews the lease while the
//! job runs, and when it finishes it clears the lease, records the run and sets the next one in
//! one transaction. An instance that dies holding a lease loses the job once the lease expires:
//! the next claim marks its run abandoned and runs the job again.
//!
//! After a failure the job is retried after 1 minute, then 2, 4 … never later than its schedule;
//! a success resets the count and the next run comes one schedule after this one started.
//!
//! Which jobs exist follows what is configured ([`Workspace::sync_jobs`]): a collection per
//! configured connector (every 6 hours unless changed), the daily check run, and the start of
//! access-review campaigns that fall due. A person's change of a schedule is audit-logged; the
//! claims and runs are the jobs' own bookkeeping (what a run writes is logged by that write).

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, StoreError, Workspace};

/// How often a connector collects unless its job's schedule is changed.
pub const COLLECT_EVERY_SECS: i64 = 6 * 3600;
/// The check run and the access-review start: once a day.
pub const DAILY_SECS: i64 = 86_400;
/// The first retry after a failure; each further failure doubles it, up to the schedule.
pub const FIRST_RETRY_SECS: i64 = 60;
/// Shortest and longest schedules a person may set.
pub const MIN_EVERY_SECS: i64 = 60;
pub const MAX_EVERY_SECS: i64 = 366 * DAILY_SECS;

pub const CHECKS_JOB: &str = "checks:daily";
pub const ACCESS_REVIEWS_JOB: &str = "access-reviews:due";
/// A collection job's name is this prefix and the connector's name.
pub const COLLECT_PREFIX: &str = "collect:";

evident_catalog::string_enum! {
    /// What a job does.
    pub enum JobKind: "job kind" {
        Collect = "collect",
        Checks = "checks",
        AccessReviews = "access_reviews",
    }
}

evident_catalog::string_enum! {
    /// Why a run started: its schedule came, or someone asked for it.
    pub enum Cause: "run cause" {
        Schedule = "schedule",
        Manual = "manual",
    }
}

const INSERT_FIXED: &str = "INSERT INTO jobs (name, kind, schedule_secs, next_run_at, failures, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (name) DO NOTHING";
// `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
const INSERT_COLLECT: &str = "INSERT INTO jobs (name, kind, schedule_secs, next_run_at, failures, created_at, updated_at) \
     SELECT 'collect:' || name, 'collect', $1, $2, 0, $2, $2 FROM connectors WHERE true ON CONFLICT (name) DO NOTHING";
const DELETE_UNCONFIGURED: &str = "DELETE FROM jobs WHERE kind = 'collect' AND (lease_until IS NULL OR lease_until < $1) \
     AND NOT EXISTS (SELECT 1 FROM connectors WHERE 'collect:' || connectors.name = jobs.name)";
const SELECT_JOBS: &str = "SELECT name, kind, schedule_secs, next_run_at, lease_owner, lease_until, failures, \
     last_run_id, last_started_at, last_finished_at, last_status, last_error, last_summary FROM jobs ORDER BY name";
const SELECT_JOB: &str = "SELECT name, kind, schedule_secs, next_run_at, lease_owner, lease_until, failures, \
     last_run_id, last_started_at, last_finished_at, last_status, last_error, last_summary FROM jobs WHERE name = $1";
const SELECT_DUE: &str = "SELECT name FROM jobs WHERE next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
     ORDER BY next_run_at, name";
// The claim itself: one statement, so of two instances asking at once only one gets the row.
const CLAIM_DUE: &str = "UPDATE jobs SET lease_owner = $1, lease_until = $2, updated_at = $3 \
     WHERE name = $4 AND next_run_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
     RETURNING kind, schedule_secs, failures";
const CLAIM_NOW: &str = "UPDATE jobs SET lease_owner = $1, lease_until = $2, updated_at = $3 \
     WHERE name = $4 AND (lease_until IS NULL OR lease_until < $3) RETURNING kind, schedule_secs, failures";
const ABANDON_RUNS: &str = "UPDATE job_runs SET status = 'abandoned', finished_at = $1, \
     error = 'the instance running it stopped before it finished (its lease expired)' \
     WHERE job = $2 AND status = 'running'";
const INSERT_RUN: &str = "INSERT INTO job_runs (id, job, instance, cause, started_at, status) \
     VALUES ($1, $2, $3, $4, $5, 'running')";
const RENEW: &str = "UPDATE jobs SET lease_until = $1 WHERE name = $2 AND lease_owner = $3";
const FINISH_RUN: &str = "UPDATE job_runs SET finished_at = $1, status = $2, error = $3, summary = $4 WHERE id = $5";
const FINISH_JOB: &str = "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, next_run_at = $1, failures = $2, \
     last_run_id = $3, last_started_at = $4, last_finished_at = $5, last_status = $6, last_error = $7, \
     last_summary = $8, updated_at = $5 WHERE name = $9 AND lease_owner = $10";
const SET_SCHEDULE: &str = "UPDATE jobs SET schedule_secs = $1, next_run_at = $2, updated_at = $3 WHERE name = $4";
const SELECT_RUNS: &str = "SELECT id, job, instance, cause, started_at, finished_at, status, error, summary \
     FROM job_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2";

/// A job as lists show it: its schedule, its last finished run and who runs it now.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobView {
    /// `collect:github`, `checks:daily`, `access-reviews:due`.
    pub name: String,
    /// What it does, in words.
    pub title: String,
    /// collect, checks or access_reviews.
    pub kind: String,
    pub schedule_secs: i64,
    /// The schedule in words: "every 6 hours".
    pub schedule: String,
    /// When it is next due (ms since the epoch); a run in progress may move it.
    pub next_run_at: i64,
    /// The instance running it now, while its lease holds.
    pub lease_holder: Option<String>,
    pub lease_until: Option<i64>,
    /// Failed runs since the last success.
    pub failures: i64,
    pub last_run: Option<LastJobRun>,
}

/// The last run of a job that finished.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LastJobRun {
    pub id: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// succeeded or failed.
    pub status: String,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// What it did (counts, records it made).
    pub summary: Value,
}

/// One run of a job, from the history.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JobRun {
    pub id: String,
    pub job: String,
    /// The instance that ran it.
    pub instance: String,
    /// schedule or manual.
    pub cause: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// running, succeeded, failed or abandoned.
    pub status: String,
    pub error: Option<String>,
    pub summary: Value,
}

/// A job taken by one instance: what it must run, and what finishing it needs.
#[derive(Debug, Clone)]
pub struct Claim {
    pub job: String,
    pub kind: JobKind,
    pub run_id: String,
    pub holder: String,
    pub started_at: i64,
    pub schedule_secs: i64,
    /// Failed runs before this one.
    pub failures: i64,
}

impl Claim {
    /// The connector a collection job runs.
    pub fn connector(&self) -> Option<&str> {
        self.job.strip_prefix(COLLECT_PREFIX)
    }
}

/// What a job is from its name (the names [`Workspace::sync_jobs`] makes).
pub fn kind_of(name: &str) -> Option<JobKind> {
    match name {
        CHECKS_JOB => Some(JobKind::Checks),
        ACCESS_REVIEWS_JOB => Some(JobKind::AccessReviews),
        n if n.strip_prefix(COLLECT_PREFIX).is_some_and(|c| !c.is_empty()) => Some(JobKind::Collect),
        _ => None,
    }
}

/// What a job does, in words.
pub fn title_of(name: &str) -> String {
    match (kind_of(name), name.strip_prefix(COLLECT_PREFIX)) {
        (Some(JobKind::Checks), _) => "Run every check and keep the results".into(),
        (Some(JobKind::AccessReviews), _) => "Start the access reviews that fall due".into(),
        (Some(JobKind::Collect), Some("github")) => "Collect from GitHub".into(),
        (Some(JobKind::Collect), Some(c)) => format!("Collect from {c}"),
        _ => name.to_string(),
    }
}

/// How long to wait before retrying after the `failures`-th failure in a row: 1 minute, 2, 4 …
/// never longer than the schedule.
pub fn retry_after_secs(failures: i64, schedule_secs: i64) -> i64 {
    let doublings = (failures.max(1) - 1).min(30) as u32;
    FIRST_RETRY_SECS
        .saturating_mul(1_i64 << doublings)
        .min(schedule_secs.max(1))
}

/// When a job runs next and its failure count, after a run that started at `started` ended at
/// `now`, successfully or not, with `failures` failed runs before it.
pub fn after_run(ok: bool, started: i64, now: i64, schedule_secs: i64, failures: i64) -> (i64, i64) {
    if ok {
        ((started + schedule_secs * 1000).max(now), 0)
    } else {
        let failures = failures + 1;
        (now + retry_after_secs(failures, schedule_secs) * 1000, failures)
    }
}

/// A schedule as people write it: `90s`, `30m`, `6h`, `1d` (or a number of seconds), from a
/// minute to a year.
pub fn parse_every(text: &str) -> Result<i64, String> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration; write it like 30m, 6h or 1d"))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" | "secs" | "seconds" => Some(n),
        "m" | "min" | "mins" | "minutes" => n.checked_mul(60),
        "h" | "hour" | "hours" => n.checked_mul(3600),
        "d" | "day" | "days" => n.checked_mul(DAILY_SECS),
        _ => None,
    }
    .ok_or_else(|| format!("'{text}' is not a duration; write it like 30m, 6h or 1d"))?;
    if !(MIN_EVERY_SECS..=MAX_EVERY_SECS).contains(&secs) {
        return Err(format!("'{text}' is outside one minute to 366 days"));
    }
    Ok(secs)
}

/// When a job should next run, as people write it: `now` or an RFC 3339 instant
/// (`2027-01-04T02:00:00Z`).
pub fn parse_next(text: &str, now: i64) -> Result<i64, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map(|at| (at.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| format!("'{text}' is neither now nor an instant like 2027-01-04T02:00:00Z"))
}

/// A schedule in words: "every 6 hours", "every day", "every 90 seconds".
pub fn every_words(secs: i64) -> String {
    let (n, unit) = if secs % DAILY_SECS == 0 {
        (secs / DAILY_SECS, "day")
    } else if secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if n == 1 {
        format!("every {unit}")
    } else {
        format!("every {n} {unit}s")
    }
}

fn opt_json(text: Option<String>) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null)
}

fn job_view(r: &AnyRow, now: i64) -> Result<JobView, StoreError> {
    let name: String = r.try_get("name")?;
    let schedule_secs: i64 = r.try_get("schedule_secs")?;
    let lease_until: Option<i64> = r.try_get("lease_until")?;
    let live = lease_until.is_some_and(|u| u >= now);
    let last_run = match (
        r.try_get::<Option<String>, _>("last_run_id")?,
        r.try_get::<Option<i64>, _>("last_started_at")?,
        r.try_get::<Option<i64>, _>("last_finished_at")?,
        r.try_get::<Option<String>, _>("last_status")?,
    ) {
        (Some(id), Some(started_at), Some(finished_at), Some(status)) => Some(LastJobRun {
            id,
            started_at,
            finished_at,
            status,
            error: r.try_get("last_error")?,
            summary: opt_json(r.try_get("last_summary")?),
        }),
        _ => None,
    };
    Ok(JobView {
        title: title_of(&name),
        kind: r.try_get("kind")?,
        schedule: every_words(schedule_secs),
        schedule_secs,
        next_run_at: r.try_get("next_run_at")?,
        lease_holder: if live { r.try_get("lease_owner")? } else { None },
        lease_until: lease_until.filter(|_| live),
        failures: r.try_get("failures")?,
        last_run,
        name,
    })
}

impl Workspace {
    /// A transaction for the jobs' bookkeeping: it writes first, so on SQLite it takes the
    /// write lock at once (waiting its turn) instead of failing to upgrade a read.
    async fn begin_jobs(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.db.backend {
            Backend::Sqlite => self.db.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.db.pool.begin().await?,
        })
    }

    /// Makes the jobs follow what is configured: the daily check run and access-review start,
    /// and a collection per configured connector (due at once, then every 6 hours); the
    /// collection of a connector no longer configured goes. The daily jobs first run a day
    /// after they are made. Existing jobs keep their schedules and history.
    pub async fn sync_jobs(&self, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_jobs().await?;
        for (name, kind) in [
            (CHECKS_JOB, JobKind::Checks),
            (ACCESS_REVIEWS_JOB, JobKind::AccessReviews),
        ] {
            sqlx::query(INSERT_FIXED)
                .bind(name)
                .bind(kind.as_str())
                .bind(DAILY_SECS)
                .bind(now + DAILY_SECS * 1000)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(INSERT_COLLECT)
            .bind(COLLECT_EVERY_SECS)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_UNCONFIGURED).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every job, by name.
    pub async fn jobs(&self, now: i64) -> Result<Vec<JobView>, StoreError> {
        sqlx::query(SELECT_JOBS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| job_view(r, now))
            .collect()
    }

    pub async fn job(&self, name: &str, now: i64) -> Result<JobView, StoreError> {
        let row = sqlx::query(SELECT_JOB)
            .bind(name)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "job",
                id: format!("{name} (see `evident jobs list`)"),
            })?;
        job_view(&row, now)
    }

    /// The jobs due at `now` that nobody holds, the longest waiting first.
    pub async fn due_jobs(&self, now: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query(SELECT_DUE)
            .bind(now)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get("name")?))
            .collect()
    }

    /// Takes a job for `holder` until `now + lease_ms`: a due one (`Cause::Schedule`) or any
    /// (`Cause::Manual`), as long as no other instance holds a live lease. `None` when it was
    /// not due or someone else has it. A run left `running` by a holder whose lease expired is
    /// recorded as abandoned.
    pub async fn claim_job(
        &self,
        name: &str,
        holder: &str,
        cause: Cause,
        lease_ms: i64,
        now: i64,
    ) -> Result<Option<Claim>, StoreError> {
        let mut tx = self.begin_jobs().await?;
        let sql = match cause {
            Cause::Schedule => CLAIM_DUE,
            Cause::Manual => CLAIM_NOW,
        };
        let Some(row) = sqlx::query(sql)
            .bind(holder)
            .bind(now + lease_ms)
            .bind(now)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let kind: String = row.try_get("kind")?;
        let kind = JobKind::parse(&kind).map_err(|e| StoreError::Config(format!("job {name}: {e}")))?;
        sqlx::query(ABANDON_RUNS).bind(now).bind(name).execute(&mut *tx).await?;
        let run_id = ulid::Ulid::new().to_string();
        sqlx::query(INSERT_RUN)
            .bind(&run_id)
            .bind(name)
            .bind(holder)
            .bind(cause.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Claim {
            job: name.to_string(),
            kind,
            run_id,
            holder: holder.to_string(),
            started_at: now,
            schedule_secs: row.try_get("schedule_secs")?,
            failures: row.try_get("failures")?,
        }))
    }

    /// [`Workspace::claim_job`] for a person asking to run a job now: refused, naming the
    /// holder, while another instance runs it.
    pub async fn claim_job_now(&self, name: &str, holder: &str, lease_ms: i64, now: i64) -> Result<Claim, StoreError> {
        if let Some(c) = self.claim_job(name, holder, Cause::Manual, lease_ms, now).await? {
            return Ok(c);
        }
        let job = self.job(name, now).await?;
        Err(StoreError::Conflict(format!(
            "{name} is running now on {} (its lease holds until {}); nothing was started",
            job.lease_holder.as_deref().unwrap_or("another instance"),
            crate::clock::instant(job.lease_until.unwrap_or(now)),
        )))
    }

    /// Extends a running job's lease; false when `holder` no longer holds it.
    pub async fn renew_job_lease(&self, claim: &Claim, lease_ms: i64, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_jobs().await?;
        let done = sqlx::query(RENEW)
            .bind(now + lease_ms)
            .bind(&claim.job)
            .bind(&claim.holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a run: records it, clears the lease and sets the next run (one schedule on after
    /// a success, the retry's wait after a failure), all in one transaction. If the lease was
    /// lost meanwhile, only the run is recorded; the job belongs to its new holder.
    pub async fn finish_job(&self, claim: &Claim, outcome: Result<Value, String>, now: i64) -> Result<(), StoreError> {
        let ok = outcome.is_ok();
        let (next, failures) = after_run(ok, claim.started_at, now, claim.schedule_secs, claim.failures);
        let status = if ok { "succeeded" } else { "failed" };
        let (summary, error) = match outcome {
            Ok(s) => (s.to_string(), None),
            Err(e) => (Value::Null.to_string(), Some(e)),
        };
        let mut tx = self.begin_jobs().await?;
        sqlx::query(FINISH_RUN)
            .bind(now)
            .bind(status)
            .bind(error.as_deref())
            .bind(&summary)
            .bind(&claim.run_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(FINISH_JOB)
            .bind(next)
            .bind(failures)
            .bind(&claim.run_id)
            .bind(claim.started_at)
            .bind(now)
            .bind(status)
            .bind(error.as_deref())
            .bind(&summary)
            .bind(&claim.job)
            .bind(&claim.holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A person's change of a job's schedule (audit-logged): every `every_secs`, next at
    /// `next_at` if given, else one schedule after its last start (now, if that has passed),
    /// or when it was due if it never ran.
    pub async fn set_job_schedule(
        &self,
        name: &str,
        every_secs: i64,
        next_at: Option<i64>,
        now: i64,
    ) -> Result<JobView, StoreError> {
        if !(MIN_EVERY_SECS..=MAX_EVERY_SECS).contains(&every_secs) {
            return Err(StoreError::Field {
                field: "every",
                reason: format!("{every_secs} seconds is outside one minute to 366 days"),
            });
        }
        let job = self.job(name, now).await?;
        let next = next_at.unwrap_or(match &job.last_run {
            Some(run) => (run.started_at + every_secs * 1000).max(now),
            None => job.next_run_at,
        });
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_SCHEDULE)
            .bind(every_secs)
            .bind(next)
            .bind(now)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let payload = json!({
            "every_secs": every_secs,
            "was_every_secs": job.schedule_secs,
            "next_run_at": next,
        });
        self.commit_logged(tx, "job.schedule", &format!("job:{name}"), payload)
            .await?;
        self.job(name, now).await
    }

    /// A job's runs, newest first.
    pub async fn job_runs(&self, name: &str, limit: i64) -> Result<Vec<JobRun>, StoreError> {
        sqlx::query(SELECT_RUNS)
            .bind(name)
            .bind(limit)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(JobRun {
                    id: r.try_get("id")?,
                    job: r.try_get("job")?,
                    instance: r.try_get("instance")?,
                    cause: r.try_get("cause")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    status: r.try_get("status")?,
                    error: r.try_get("error")?,
                    summary: opt_json(r.try_get("summary")?),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Db, InitOptions};

    const MIN: i64 = 60_000;
    const LEASE: i64 = 5 * MIN;
    const T0: i64 = 1_800_000_000_000;
    const ADD_CONNECTOR: &str = "INSERT INTO connectors (name, config, sealed_secret, created_at, updated_at) \
         VALUES ('github', '{}', 'sealed', 0, 0)";
    const REMOVE_CONNECTOR: &str = "DELETE FROM connectors WHERE name = 'github'";
    const RUN_STATUSES: &str = "SELECT status FROM job_runs WHERE job = $1 ORDER BY started_at, id";

    fn pg_admin_url() -> String {
        std::env::var("EVIDENT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// A workspace on SQLite, and the same one pointed at a fresh PostgreSQL database (dropped
    /// by the returned guard): the jobs' rules must hold on both.
    struct Both {
        _dir: tempfile::TempDir,
        sqlite: Workspace,
        postgres: Workspace,
        pg_name: String,
    }

    async fn admin_exec(sql: String) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&pg_admin_url())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for these tests: {e}", pg_admin_url()));
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
        pool.close().await;
    }

    async fn both() -> Both {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Workspace::init(
            &dir.path().join("ws"),
            InitOptions {
                organisation: "Jobs Test".into(),
            },
            "tester",
        )
        .await
        .unwrap();
        let pg_name = format!(
            "evident_jobs_{}_{}",
            std::process::id(),
            ulid::Ulid::new().to_string().to_lowercase()
        );
        admin_exec(format!("CREATE DATABASE {pg_name}")).await;
        let admin = pg_admin_url();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
        let postgres = Workspace {
            db: Db::open(&format!("{base}/{pg_name}")).await.unwrap(),
            ..sqlite.clone()
        };
        Both {
            _dir: dir,
            sqlite,
            postgres,
            pg_name,
        }
    }

    impl Both {
        async fn each(&self) -> [&Workspace; 2] {
            [&self.sqlite, &self.postgres]
        }
        async fn drop_pg(self) {
            self.postgres.db.close().await;
            admin_exec(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.pg_name)).await;
        }
    }

    async fn statuses(ws: &Workspace, job: &str) -> Vec<String> {
        sqlx::query(RUN_STATUSES)
            .bind(job)
            .fetch_all(&ws.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("status").unwrap())
            .collect()
    }

    #[test]
    fn retries_double_from_a_minute_up_to_the_schedule() {
        let waits: Vec<i64> = (1..=6).map(|f| retry_after_secs(f, 600)).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600]);
        assert_eq!(retry_after_secs(40, DAILY_SECS), DAILY_SECS, "no overflow");
        assert_eq!(after_run(true, T0, T0 + 5_000, 3600, 4), (T0 + 3_600_000, 0));
        assert_eq!(after_run(false, T0, T0 + 5_000, 3600, 2), (T0 + 5_000 + 240_000, 3));
    }

    #[test]
    fn schedules_read_as_people_write_them() {
        assert_eq!(parse_every("6h"), Ok(21_600));
        assert_eq!(parse_every(" 30m "), Ok(1_800));
        assert_eq!(parse_every("1d"), Ok(86_400));
        assert_eq!(parse_every("90"), Ok(90));
        assert!(parse_every("10s").unwrap_err().contains("one minute"));
        assert!(parse_every("soon").unwrap_err().contains("30m, 6h or 1d"));
        assert!(parse_every("400d").is_err());
        assert_eq!(every_words(21_600), "every 6 hours");
        assert_eq!(every_words(86_400), "every day");
        assert_eq!(every_words(90), "every 90 seconds");
        assert_eq!(parse_next("now", T0), Ok(T0));
        assert_eq!(parse_next("2027-01-04T02:00:00Z", T0), Ok(1_799_028_000_000));
        assert!(parse_next("tomorrow", T0).unwrap_err().contains("2027-01-04T02:00:00Z"));
    }

    /// The claim, the lease, its expiry and renewal, the retries, on SQLite and PostgreSQL.
    #[tokio::test(flavor = "current_thread")]
    async fn leases_and_retries_on_both_databases() {
        let both = both().await;
        for ws in both.each().await {
            let backend = ws.db.backend.name();
            ws.sync_jobs(T0).await.unwrap();
            let names: Vec<String> = ws.jobs(T0).await.unwrap().into_iter().map(|j| j.name).collect();
            assert_eq!(
                names,
                [ACCESS_REVIEWS_JOB, CHECKS_JOB],
                "{backend}: no connector, no collection"
            );
            sqlx::query(ADD_CONNECTOR).execute(&ws.db.pool).await.unwrap();
            ws.sync_jobs(T0).await.unwrap();
            let job = "collect:github";
            let view = ws.job(job, T0).await.unwrap();
            assert_eq!((view.schedule_secs, view.next_run_at), (COLLECT_EVERY_SECS, T0));
            assert_eq!(
                ws.due_jobs(T0).await.unwrap(),
                [job],
                "{backend}: the daily ones wait a day"
            );

            // Two instances ask at once: one gets it.
            let (a, b) = tokio::join!(
                ws.claim_job(job, "a", Cause::Schedule, LEASE, T0),
                ws.claim_job(job, "b", Cause::Schedule, LEASE, T0)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert!(a.is_some() != b.is_some(), "{backend}: exactly one claim wins");
            let first = a.or(b).unwrap();
            let other = if first.holder == "a" { "b" } else { "a" };
            assert!(ws.due_jobs(T0 + MIN).await.unwrap().is_empty());
            assert!(
                ws.claim_job(job, other, Cause::Schedule, LEASE, T0 + MIN)
                    .await
                    .unwrap()
                    .is_none(),
                "{backend}: held while the lease lasts"
            );
            let refused = ws.claim_job_now(job, other, LEASE, T0 + MIN).await.unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains(&format!("running now on {}", first.holder)),
                "{backend}: {refused}"
            );
            // Renewed by its holder, the lease outlasts its first term; another cannot renew it.
            assert!(ws.renew_job_lease(&first, LEASE, T0 + 4 * MIN).await.unwrap());
            let mut thief = first.clone();
            thief.holder = other.to_string();
            assert!(!ws.renew_job_lease(&thief, LEASE, T0 + 4 * MIN).await.unwrap());
            assert!(
                ws.claim_job(job, other, Cause::Schedule, LEASE, T0 + 6 * MIN)
                    .await
                    .unwrap()
                    .is_none(),
                "{backend}: the renewed lease still holds"
            );
            // Its holder dies: once the lease has expired the other takes it, and the dead
            // run is recorded as abandoned.
            let taken = ws
                .claim_job(job, other, Cause::Schedule, LEASE, T0 + 10 * MIN)
                .await
                .unwrap()
                .expect("the expired lease is taken over");
            assert_eq!(statuses(ws, job).await, ["abandoned", "running"], "{backend}");
            // The late first holder cannot finish over the new one's lease.
            ws.finish_job(&first, Ok(json!({})), T0 + 11 * MIN).await.unwrap();
            assert_eq!(
                ws.job(job, T0 + 11 * MIN).await.unwrap().lease_holder.as_deref(),
                Some(other)
            );

            // Failures back off 1, 2, 4 minutes; a success resets and waits a schedule.
            let mut claim = taken;
            let mut at = T0 + 12 * MIN;
            for (n, wait) in [1, 2, 4].iter().enumerate() {
                ws.finish_job(&claim, Err("the API said no".into()), at).await.unwrap();
                let v = ws.job(job, at).await.unwrap();
                assert_eq!(v.failures, n as i64 + 1, "{backend}");
                assert_eq!(v.next_run_at, at + wait * MIN, "{backend}: retry {n}");
                assert_eq!(v.lease_holder, None);
                let last = v.last_run.unwrap();
                assert_eq!(
                    (last.status.as_str(), last.error.as_deref()),
                    ("failed", Some("the API said no"))
                );
                assert!(
                    ws.claim_job(job, "a", Cause::Schedule, LEASE, at + wait * MIN - 1)
                        .await
                        .unwrap()
                        .is_none(),
                    "{backend}: not before its retry"
                );
                at += wait * MIN;
                claim = ws
                    .claim_job(job, "a", Cause::Schedule, LEASE, at)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(claim.failures, n as i64 + 1);
            }
            ws.finish_job(&claim, Ok(json!({"changes": 3})), at + 1000)
                .await
                .unwrap();
            let v = ws.job(job, at + 1000).await.unwrap();
            assert_eq!((v.failures, v.next_run_at), (0, at + COLLECT_EVERY_SECS * 1000));
            assert_eq!(v.last_run.unwrap().summary, json!({"changes": 3}));
            // Run now: claimed whether due or not, and the schedule counts from it.
            let manual = ws.claim_job_now(job, "cli", LEASE, at + 2 * MIN).await.unwrap();
            ws.finish_job(&manual, Ok(json!({})), at + 3 * MIN).await.unwrap();
            assert_eq!(
                ws.job(job, at).await.unwrap().next_run_at,
                at + 2 * MIN + COLLECT_EVERY_SECS * 1000
            );
            let runs = ws.job_runs(job, 100).await.unwrap();
            assert_eq!(runs.len(), 6, "{backend}");
            assert_eq!((runs[0].cause.as_str(), runs[0].instance.as_str()), ("manual", "cli"));

            // The connector goes: its collection goes with it; unknown jobs are refused by name.
            sqlx::query(REMOVE_CONNECTOR).execute(&ws.db.pool).await.unwrap();
            ws.sync_jobs(at).await.unwrap();
            assert!(matches!(ws.job(job, at).await, Err(StoreError::NotFound { .. })));
            assert!(matches!(
                ws.claim_job_now("collect:nothing", "cli", LEASE, at).await,
                Err(StoreError::NotFound { .. })
            ));
        }
        both.drop_pg().await;
    }
}
