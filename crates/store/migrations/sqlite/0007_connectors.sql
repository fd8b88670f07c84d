-- Configured connectors (their secrets sealed with the vault key) and every collection run.

CREATE TABLE connectors (
    name             TEXT PRIMARY KEY,
    config           TEXT NOT NULL,
    sealed_secret    TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_success_at  INTEGER
);

CREATE TABLE connector_runs (
    id           TEXT PRIMARY KEY,
    connector    TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    error        TEXT,
    evidence_id  TEXT REFERENCES evidence(id),
    summary      TEXT NOT NULL
);
CREATE INDEX connector_runs_by_connector ON connector_runs (connector, started_at);
