-- Access review campaigns: the accounts each froze at its start (with the import each came
-- from), who reviews each, the decisions, and when a later import showed a revocation done.

CREATE TABLE review_campaigns (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    -- JSON list of systems as asked; empty: every system with accounts.
    systems              TEXT NOT NULL,
    coverage             TEXT NOT NULL,
    reviewer_rule        TEXT NOT NULL,
    named_reviewer       TEXT,
    due_date             TEXT NOT NULL,
    status               TEXT NOT NULL,
    owner                TEXT NOT NULL,
    -- The frozen account list, kept as an evidence item.
    frozen_evidence_id   TEXT NOT NULL REFERENCES evidence(id),
    created_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    closed_by            TEXT,
    -- JSON: what was still open when it closed, and the evidence and event it produced.
    closing              TEXT
);

CREATE TABLE review_items (
    id                   TEXT PRIMARY KEY,
    campaign_id          TEXT NOT NULL REFERENCES review_campaigns(id),
    system               TEXT NOT NULL,
    external_id          TEXT NOT NULL,
    username             TEXT NOT NULL,
    -- The account holder in the people register, when known.
    person               TEXT,
    -- The account as frozen (JSON) and the import it came from.
    account              TEXT NOT NULL,
    source_evidence_id   TEXT NOT NULL,
    privileged           INTEGER NOT NULL,
    -- Kept at the same level in the previous closed campaign: eligible for bulk keep.
    unchanged            INTEGER NOT NULL,
    reviewer             TEXT NOT NULL,
    note                 TEXT,
    decision             TEXT,
    reason               TEXT,
    change_to            TEXT,
    decided_at           INTEGER,
    decided_by           TEXT,
    task_key             TEXT,
    carried_out_at       INTEGER,
    -- The evidence id of the import that showed it, or a person's confirmation.
    carried_out_by       TEXT,
    UNIQUE (campaign_id, system, external_id)
);
CREATE INDEX review_items_by_reviewer ON review_items (reviewer, campaign_id);
CREATE INDEX review_items_to_carry_out ON review_items (system, carried_out_at);

-- Registers: non-human identities with their owners, and time-bound elevations of access.
CREATE TABLE machine_identities (
    id             TEXT PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    system         TEXT,
    account        TEXT,
    owner          TEXT,
    purpose        TEXT,
    rotation_days  INTEGER,
    notes          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE access_grants (
    id           TEXT PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    id_ref       TEXT,
    email        TEXT,
    system       TEXT,
    access       TEXT,
    reason       TEXT,
    approved_by  TEXT,
    starts_on    TEXT,
    ends_on      TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
