-- Jobs the server runs on a schedule (collection per connector, the daily check run, access
-- reviews that fall due) and every run of them. An instance claims a due job by taking its lease
-- with one conditional UPDATE, so two instances never run one job at once, and a job whose
-- instance died is taken over once its lease has expired.
CREATE TABLE jobs (
    -- 'collect:github', 'checks:daily', 'access-reviews:due'.
    name              TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('collect', 'checks', 'access_reviews')),
    schedule_secs     BIGINT NOT NULL CHECK (schedule_secs > 0),
    next_run_at       BIGINT NOT NULL,
    -- The instance running it now, and until when its claim holds unless renewed.
    lease_owner       TEXT,
    lease_until       BIGINT,
    -- Failed runs since the last success: the retry waits 1, 2, 4 … minutes, capped at the schedule.
    failures          BIGINT NOT NULL DEFAULT 0,
    last_run_id       TEXT,
    last_started_at   BIGINT,
    last_finished_at  BIGINT,
    last_status       TEXT,
    last_error        TEXT,
    -- JSON: what the last run did.
    last_summary      TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (next_run_at);

CREATE TABLE job_runs (
    id           TEXT PRIMARY KEY,
    job          TEXT NOT NULL,
    -- The instance that ran it (server or command line).
    instance     TEXT NOT NULL,
    -- 'schedule' or 'manual' (evident jobs run, Run now, evident collect all).
    cause        TEXT NOT NULL CHECK (cause IN ('schedule', 'manual')),
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
    error        TEXT,
    summary      TEXT
);
CREATE INDEX job_runs_by_job ON job_runs (job, started_at);
