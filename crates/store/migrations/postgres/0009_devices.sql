-- Devices as their agents (osquery) report them; a later report updates the same host.

CREATE TABLE devices (
    hostname        TEXT PRIMARY KEY,
    last_seen       BIGINT NOT NULL,
    disk_encrypted  BIGINT,
    os              TEXT,
    evidence_id     TEXT NOT NULL REFERENCES evidence(id)
);
