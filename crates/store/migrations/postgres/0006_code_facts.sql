-- Code review facts: how branches are protected (per source) and merged changes.

CREATE TABLE protections (
    id                     TEXT PRIMARY KEY,
    repository             TEXT NOT NULL,
    branch                 TEXT NOT NULL,
    source                 TEXT NOT NULL,
    required_approvals     BIGINT NOT NULL,
    dismiss_stale_reviews  BIGINT NOT NULL,
    code_owner_reviews     BIGINT NOT NULL,
    status_checks          TEXT NOT NULL,
    enforce_admins         BIGINT NOT NULL,
    allows_force_pushes    BIGINT NOT NULL,
    evidence_id            TEXT NOT NULL REFERENCES evidence(id),
    imported_at            BIGINT NOT NULL,
    UNIQUE (repository, branch, source)
);

CREATE TABLE changes (
    id           TEXT PRIMARY KEY,
    repository   TEXT NOT NULL,
    number       BIGINT NOT NULL,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL,
    merged_at    BIGINT NOT NULL,
    approvers    TEXT NOT NULL,
    evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    UNIQUE (repository, number)
);
CREATE INDEX changes_by_merged ON changes (merged_at);
