-- Check results, kept per run so an observation window can be replayed, and exclusions.

CREATE TABLE check_runs (
    id        TEXT PRIMARY KEY,
    run_id    TEXT NOT NULL,
    check_id  TEXT NOT NULL,
    at        INTEGER NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'no_data')),
    passed    INTEGER NOT NULL,
    failed    INTEGER NOT NULL,
    excluded  INTEGER NOT NULL,
    actor     TEXT NOT NULL
);
CREATE INDEX check_runs_by_check ON check_runs (check_id, at);

-- Only failing and excluded records are kept; passes are counted.
CREATE TABLE check_outcomes (
    check_run_id      TEXT NOT NULL REFERENCES check_runs(id),
    record            TEXT NOT NULL,
    outcome           TEXT NOT NULL CHECK (outcome IN ('fail', 'excluded')),
    reason            TEXT NOT NULL,
    exclusion_reason  TEXT
);
CREATE INDEX check_outcomes_by_run ON check_outcomes (check_run_id);

CREATE TABLE check_exclusions (
    id          TEXT PRIMARY KEY,
    check_id    TEXT NOT NULL,
    record      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    expires     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX check_exclusions_by_check ON check_exclusions (check_id);
