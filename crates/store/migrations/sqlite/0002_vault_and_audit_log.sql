-- Evidence (immutable items over content-addressed blobs) and the hash-chained audit log.

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    payload       TEXT NOT NULL,
    payload_hash  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_by_subject ON audit_log (subject);
CREATE INDEX audit_log_by_time ON audit_log (at);

CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    signature  TEXT NOT NULL
);

CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE evidence (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    sha256          TEXT NOT NULL REFERENCES blobs(sha256),
    size            INTEGER NOT NULL,
    media_type      TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    source_kind     TEXT NOT NULL,
    source_ref      TEXT NOT NULL,
    captured_at     INTEGER NOT NULL,
    effective_date  TEXT,
    period_from     TEXT,
    period_to       TEXT,
    supersedes      TEXT UNIQUE REFERENCES evidence(id),
    created_by      TEXT NOT NULL
);
CREATE INDEX evidence_by_sha256 ON evidence (sha256);

CREATE TABLE evidence_controls (
    evidence_id      TEXT NOT NULL REFERENCES evidence(id),
    control_id       TEXT NOT NULL REFERENCES controls(id),
    requirement_key  TEXT,
    PRIMARY KEY (evidence_id, control_id)
);
CREATE INDEX evidence_controls_by_control ON evidence_controls (control_id);

CREATE TABLE evidence_withdrawals (
    evidence_id  TEXT PRIMARY KEY REFERENCES evidence(id),
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           INTEGER NOT NULL
);

-- Append-only at the database too, so a bug cannot rewrite history; `evident verify` still
-- catches anyone who drops these triggers first.
CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER evidence_append_only_u BEFORE UPDATE ON evidence BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_append_only_d BEFORE DELETE ON evidence BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_controls_append_only_u BEFORE UPDATE ON evidence_controls BEGIN SELECT RAISE(ABORT, 'evidence_controls is append-only'); END;
CREATE TRIGGER evidence_controls_append_only_d BEFORE DELETE ON evidence_controls BEGIN SELECT RAISE(ABORT, 'evidence_controls is append-only'); END;
CREATE TRIGGER evidence_withdrawals_append_only_u BEFORE UPDATE ON evidence_withdrawals BEGIN SELECT RAISE(ABORT, 'evidence_withdrawals is append-only'); END;
CREATE TRIGGER evidence_withdrawals_append_only_d BEFORE DELETE ON evidence_withdrawals BEGIN SELECT RAISE(ABORT, 'evidence_withdrawals is append-only'); END;
