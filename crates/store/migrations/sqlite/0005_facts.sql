-- Facts collected from outside systems. Each row names the evidence item (the raw file in the
-- vault) it came from.

-- A system's accounts are replaced by each new import of that system (a snapshot).
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    system         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    username       TEXT NOT NULL,
    email          TEXT,
    human          INTEGER NOT NULL,
    mfa            INTEGER,
    admin          INTEGER NOT NULL,
    root           INTEGER NOT NULL,
    created_at     INTEGER,
    last_activity  INTEGER,
    disabled_at    INTEGER,
    active         INTEGER NOT NULL,
    access_keys    TEXT NOT NULL,
    evidence_id    TEXT NOT NULL REFERENCES evidence(id),
    imported_at    INTEGER NOT NULL,
    UNIQUE (system, external_id)
);
CREATE INDEX accounts_by_email ON accounts (email);

-- A finding lives across scans: first seen, last seen, and fixed when a later scan of the same
-- scope no longer reports it.
CREATE TABLE findings (
    id                 TEXT PRIMARY KEY,
    source             TEXT NOT NULL,
    scope              TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    resource           TEXT NOT NULL,
    title              TEXT NOT NULL,
    severity           TEXT NOT NULL,
    severity_raw       TEXT NOT NULL,
    first_seen         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    fixed_at           INTEGER,
    first_evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    evidence_id        TEXT NOT NULL REFERENCES evidence(id),
    UNIQUE (source, scope, external_id, resource)
);

-- Each scan of a scope, so "are scans running" can be answered.
CREATE TABLE scans (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    observed_at  INTEGER NOT NULL,
    findings     INTEGER NOT NULL,
    evidence_id  TEXT NOT NULL REFERENCES evidence(id)
);
CREATE INDEX scans_by_scope ON scans (source, scope, observed_at);
