-- The auditor's fieldwork: engagements and their auditors, request lists with their threads,
-- population runs, samples and the auditor's results.

CREATE TABLE engagements (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    firm          TEXT NOT NULL,
    report_type   BIGINT  NOT NULL,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    status        TEXT NOT NULL,
    -- The sample size table (JSON), "typical; confirm with your auditor".
    sizes         TEXT NOT NULL,
    created_at    BIGINT  NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE engagement_auditors (
    engagement_id  TEXT NOT NULL REFERENCES engagements(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    added_at       BIGINT  NOT NULL,
    PRIMARY KEY (engagement_id, user_id)
);
CREATE INDEX engagement_auditors_by_user ON engagement_auditors (user_id);

CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    engagement_id  TEXT NOT NULL REFERENCES engagements(id),
    reference      TEXT NOT NULL,
    -- Lower-cased reference: what identifies a request when a list is imported again.
    ref_key        TEXT NOT NULL,
    body           TEXT NOT NULL,
    criteria       TEXT NOT NULL,
    controls       TEXT NOT NULL,
    due_date       TEXT,
    assignee       TEXT,
    status         TEXT NOT NULL,
    extra          TEXT NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    UNIQUE (engagement_id, ref_key)
);
CREATE INDEX requests_by_assignee ON requests (assignee);

CREATE TABLE request_evidence (
    request_id   TEXT NOT NULL REFERENCES requests(id),
    evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    linked_at    BIGINT  NOT NULL,
    linked_by    TEXT NOT NULL,
    PRIMARY KEY (request_id, evidence_id)
);

-- The thread on a request: comments and every step (submit, accept, return), never edited.
CREATE TABLE request_comments (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests(id),
    step        TEXT,
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX request_comments_by_request ON request_comments (request_id, created_at);

-- Each time a population was produced: what it held (one digest per item, JSON) so the next
-- run can say what changed, and the evidence item that keeps the file.
CREATE TABLE population_runs (
    id             TEXT PRIMARY KEY,
    engagement_id  TEXT REFERENCES engagements(id),
    kind           TEXT NOT NULL,
    period_start   TEXT NOT NULL,
    period_end     TEXT NOT NULL,
    item_count     BIGINT  NOT NULL,
    sha256         TEXT NOT NULL,
    digests        TEXT NOT NULL,
    evidence_id    TEXT NOT NULL REFERENCES evidence(id),
    ran_at         BIGINT  NOT NULL,
    ran_by         TEXT NOT NULL
);
CREATE INDEX population_runs_by_kind ON population_runs (kind, period_start, period_end, ran_at);

CREATE TABLE samples (
    id             TEXT PRIMARY KEY,
    engagement_id  TEXT NOT NULL REFERENCES engagements(id),
    control        TEXT NOT NULL,
    population_id  TEXT NOT NULL REFERENCES population_runs(id),
    seed           TEXT NOT NULL,
    -- The size of each round, JSON: [25] then [25, 5] once extended.
    rounds         TEXT NOT NULL,
    created_at     BIGINT  NOT NULL,
    created_by     TEXT NOT NULL
);

CREATE TABLE sample_items (
    sample_id   TEXT NOT NULL REFERENCES samples(id),
    item_id     TEXT NOT NULL,
    position    BIGINT  NOT NULL,
    round       BIGINT  NOT NULL,
    item_date   TEXT NOT NULL,
    result      TEXT,
    note        TEXT,
    tested_by   TEXT,
    tested_at   BIGINT,
    PRIMARY KEY (sample_id, item_id)
);

CREATE TRIGGER request_comments_append_only BEFORE UPDATE OR DELETE ON request_comments FOR EACH ROW EXECUTE FUNCTION evident_append_only();
