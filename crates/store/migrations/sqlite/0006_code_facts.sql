-- Code review facts: how branches are protected (per source) and merged changes.

CREATE TABLE protections (
    id                     TEXT PRIMARY KEY,
    repository             TEXT NOT NULL,
    branch                 TEXT NOT NULL,
    source                 TEXT NOT NULL,
    required_approvals     INTEGER NOT NULL,
    dismiss_stale_reviews  INTEGER NOT NULL,
    code_owner_reviews     INTEGER NOT NULL,
    status_checks          TEXT NOT NULL,
    enforce_admins         INTEGER NOT NULL,
    allows_force_pushes    INTEGER NOT NULL,
    evidence_id            TEXT NOT NULL REFERENCES evidence(id),
    imported_at            INTEGER NOT NULL,
    UNIQUE (repository, branch, source)
);

CREATE TABLE changes (
    id           TEXT PRIMARY KEY,
    repository   TEXT NOT NULL,
    number       INTEGER NOT NULL,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL,
    merged_at    INTEGER NOT NULL,
    approvers    TEXT NOT NULL,
    evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    UNIQUE (repository, number)
);
CREATE INDEX changes_by_merged ON changes (merged_at);
