-- Program registers (people, training, background checks, risks, vendors, assets, events, tasks)
-- and policies. Register tables share a shape: id, key (what identifies a record across
-- imports, lower-cased), one column per field (named as the CSV header; `id` is stored as
-- `id_ref`), created_at, updated_at. Lists are JSON text.

CREATE TABLE people (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    email                TEXT,
    name                 TEXT,
    title                TEXT,
    department           TEXT,
    manager_email        TEXT,
    employment_type      TEXT,
    start_date           TEXT,
    end_date             TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE training_completions (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    email                TEXT,
    course               TEXT,
    kind                 TEXT,
    completed_on         TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE background_checks (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    email                TEXT,
    status               TEXT,
    completed_on         TEXT,
    provider             TEXT,
    notes                TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE risks (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    id_ref               TEXT,
    title                TEXT,
    category             TEXT,
    asset                TEXT,
    threat               TEXT,
    likelihood           BIGINT,
    impact               BIGINT,
    treatment            TEXT,
    treatment_plan       TEXT,
    controls             TEXT,
    residual_likelihood  BIGINT,
    residual_impact      BIGINT,
    owner                TEXT,
    due_date             TEXT,
    signed_off_by        TEXT,
    signed_off_at        BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE vendors (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name                 TEXT,
    service              TEXT,
    tier                 TEXT,
    data_categories      TEXT,
    owner                TEXT,
    soc2_report          TEXT,
    report_period_end    TEXT,
    next_review          TEXT,
    cuecs                TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE assets (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name                 TEXT,
    kind                 TEXT,
    owner                TEXT,
    purpose              TEXT,
    classification       TEXT,
    in_scope             BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    id_ref               TEXT,
    kind                 TEXT,
    title                TEXT,
    date                 TEXT,
    summary              TEXT,
    outcome              TEXT,
    evidence             TEXT,
    controls             TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    id_ref               TEXT,
    title                TEXT,
    owner                TEXT,
    due_date             TEXT,
    status               TEXT,
    control              TEXT,
    gap                  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX people_by_manager ON people (manager_email);

CREATE INDEX training_by_email ON training_completions (email);


-- A dated record of each time a risk was reviewed, with the scores at that time.
CREATE TABLE risk_reviews (
    id                   TEXT PRIMARY KEY,
    risk_id              TEXT NOT NULL REFERENCES risks(id),
    at                   BIGINT NOT NULL,
    actor                TEXT NOT NULL,
    note                 TEXT NOT NULL,
    likelihood           BIGINT NOT NULL,
    impact               BIGINT NOT NULL,
    residual_likelihood  BIGINT,
    residual_impact      BIGINT
);
CREATE INDEX risk_reviews_by_risk ON risk_reviews (risk_id);

-- Who holds each role named in policies (security_officer, ceo, ...).
CREATE TABLE org_roles (
    role        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE policies (
    id                      TEXT PRIMARY KEY,
    ref                     TEXT NOT NULL UNIQUE,
    title                   TEXT NOT NULL,
    owner_role              TEXT NOT NULL,
    review_interval_months  BIGINT NOT NULL,
    template_id             TEXT,
    -- The Markdown with its {{placeholders}}; each version holds it rendered.
    source                  TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

CREATE TABLE policy_controls (
    policy_id   TEXT NOT NULL REFERENCES policies(id),
    control_id  TEXT NOT NULL REFERENCES controls(id),
    PRIMARY KEY (policy_id, control_id)
);

-- Versions are never edited once approved: an edit makes a new draft.
CREATE TABLE policy_versions (
    id            TEXT PRIMARY KEY,
    policy_id     TEXT NOT NULL REFERENCES policies(id),
    version       BIGINT NOT NULL,
    body          TEXT NOT NULL,
    body_sha256   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'published', 'retired')),
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    approved_at   BIGINT,
    approved_by   TEXT,
    published_at  BIGINT,
    published_by  TEXT,
    UNIQUE (policy_id, version)
);

CREATE TABLE policy_parameters (
    policy_id  TEXT NOT NULL REFERENCES policies(id),
    key        TEXT NOT NULL,
    label      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    unit       TEXT,
    value      TEXT NOT NULL,
    PRIMARY KEY (policy_id, key)
);
CREATE UNIQUE INDEX policy_parameters_by_key ON policy_parameters (key);

CREATE TABLE policy_acceptances (
    policy_id    TEXT NOT NULL REFERENCES policies(id),
    version      BIGINT NOT NULL,
    email        TEXT NOT NULL,
    accepted_at  BIGINT NOT NULL,
    recorded_by  TEXT NOT NULL,
    PRIMARY KEY (policy_id, version, email)
);

