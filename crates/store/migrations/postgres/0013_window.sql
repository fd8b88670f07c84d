-- The Type II window.

-- Per-record history of checks: one row per unbroken stretch of runs in which a record failed
-- or was set aside, opened by the run it first appeared in and closed by the first run it no
-- longer did. Derived from check_outcomes as runs are saved, so the window reads thousands of
-- spans instead of millions of outcome rows; rebuilt from the runs when missing.
CREATE TABLE check_spans (
    id           TEXT PRIMARY KEY,
    check_id     TEXT NOT NULL,
    record       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    opened_at    BIGINT  NOT NULL,
    closed_at    BIGINT ,
    excluded_at  BIGINT 
);
CREATE INDEX check_spans_open ON check_spans (check_id, closed_at);
CREATE INDEX check_spans_by_opening ON check_spans (opened_at);

-- Every report period the scope has named; they roll forward year after year.
CREATE TABLE audit_periods (
    start_date   TEXT NOT NULL,
    end_date     TEXT NOT NULL,
    report_type  INTEGER NOT NULL,
    recorded_at  BIGINT  NOT NULL,
    recorded_by  TEXT NOT NULL,
    PRIMARY KEY (start_date, end_date)
);
INSERT INTO audit_periods (start_date, end_date, report_type, recorded_at, recorded_by)
    SELECT window_from, window_to, report_type, updated_at, 'scope'
    FROM audits WHERE window_from IS NOT NULL AND window_to IS NOT NULL AND report_type IS NOT NULL;

-- Management's responses to exceptions. Never edited: a new response supersedes the last.
CREATE TABLE exception_responses (
    id            TEXT PRIMARY KEY,
    exception_id  TEXT NOT NULL,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX exception_responses_by_exception ON exception_responses (exception_id, created_at);
