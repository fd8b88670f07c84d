-- Facts collected from outside systems. Each row names the evidence item (the raw file in the
-- vault) it came from.

-- A system's accounts are replaced by each new import of that system (a snapshot).
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    system         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    username       TEXT NOT NULL,
    email          TEXT,
    human          BIGINT NOT NULL,
    mfa            BIGINT,
    admin          BIGINT NOT NULL,
    root           BIGINT NOT NULL,
    created_at     BIGINT,
    last_activity  BIGINT,
    disabled_at    BIGINT,
    active         BIGINT NOT NULL,
    access_keys    TEXT NOT NULL,
    evidence_id    TEXT NOT NULL REFERENCES evidence(id),
    imported_at    BIGINT NOT NULL,
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
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    fixed_at           BIGINT,
    first_evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    evidence_id        TEXT NOT NULL REFERENCES evidence(id),
    UNIQUE (source, scope, external_id, resource)
);

-- Each scan of a scope, so "are scans running" can be answered.
CREATE TABLE scans (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    observed_at  BIGINT NOT NULL,
    findings     BIGINT NOT NULL,
    evidence_id  TEXT NOT NULL REFERENCES evidence(id)
);
CREATE INDEX scans_by_scope ON scans (source, scope, observed_at);
