-- Devices as their agents (osquery) report them; a later report updates the same host.

CREATE TABLE devices (
    hostname        TEXT PRIMARY KEY,
    last_seen       INTEGER NOT NULL,
    disk_encrypted  INTEGER,
    os              TEXT,
    evidence_id     TEXT NOT NULL REFERENCES evidence(id)
);
