-- The system description (DC 200): the narrative parts people write, every version kept; the
-- description as approved (the drafted text, frozen, so drift can be shown against it); and
-- management's assertion, signed over one approved version.

CREATE TABLE description_narratives (
    part        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    written_by  TEXT NOT NULL,
    written_at  BIGINT NOT NULL,
    PRIMARY KEY (part, version)
);

CREATE TABLE description_approvals (
    version      INTEGER PRIMARY KEY,
    -- The description as drafted when approved (JSON), and the SHA-256 of those bytes.
    content      TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    approved_at  BIGINT NOT NULL
);

CREATE TABLE description_assertions (
    id                   TEXT PRIMARY KEY,
    description_version  INTEGER NOT NULL REFERENCES description_approvals(version),
    -- The assertion's text as signed and its SHA-256.
    body                 TEXT NOT NULL,
    sha256               TEXT NOT NULL,
    signer_name          TEXT NOT NULL,
    signer_title         TEXT NOT NULL,
    signed_by            TEXT NOT NULL,
    signed_at            BIGINT NOT NULL
);

-- A vendor the system relies on is presented in the report carve-out or inclusive, with the
-- criteria that depend on it and the controls we rely on it to operate (CSOCs).
ALTER TABLE vendors ADD COLUMN subservice TEXT;
ALTER TABLE vendors ADD COLUMN dependent_criteria TEXT;
ALTER TABLE vendors ADD COLUMN csocs TEXT;
