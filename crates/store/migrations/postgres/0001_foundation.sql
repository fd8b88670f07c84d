-- Foundation: the organisation, its controls (adopted from the library or its own) and the audit scope.
-- Conventions: ids are text (ULIDs); instants are integer ms since the epoch (UTC);
-- dates are text YYYY-MM-DD; JSON is text; booleans are integers 0/1.

CREATE TABLE organisation (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    framework   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE controls (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    template_id    TEXT,
    area           TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    frequency      TEXT NOT NULL,
    nature_type    TEXT NOT NULL,
    execution      TEXT NOT NULL,
    owner_role     TEXT NOT NULL,
    owner_email    TEXT,
    testing        TEXT,
    -- A person's ruling that the control does not apply; scope-derived applicability is computed.
    na_reason      TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE control_criteria (
    control_id    TEXT NOT NULL REFERENCES controls(id),
    framework     TEXT NOT NULL,
    criterion_id  TEXT NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (control_id, framework, criterion_id)
);
CREATE INDEX control_criteria_by_criterion ON control_criteria (framework, criterion_id);

CREATE TABLE control_evidence_requirements (
    control_id  TEXT NOT NULL REFERENCES controls(id),
    key         TEXT NOT NULL,
    title       TEXT NOT NULL,
    refresh     TEXT NOT NULL,
    position    BIGINT NOT NULL,
    PRIMARY KEY (control_id, key)
);

CREATE TABLE audits (
    id           TEXT PRIMARY KEY,
    framework    TEXT NOT NULL,
    report_type  BIGINT CHECK (report_type IN (1, 2)),
    categories   TEXT NOT NULL,
    as_of        TEXT,
    window_from  TEXT,
    window_to    TEXT,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE scope_components (
    id          TEXT PRIMARY KEY,
    audit_id    TEXT NOT NULL REFERENCES audits(id),
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    in_scope    BIGINT NOT NULL CHECK (in_scope IN (0, 1)),
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (audit_id, kind, name)
);
