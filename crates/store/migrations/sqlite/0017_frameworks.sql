-- Frameworks imported from OSCAL catalogs (and the profiles selecting from them), their controls
-- and enhancements, and which of our controls answer each.

CREATE TABLE frameworks (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    version        TEXT NOT NULL,
    -- The imported catalog file, as SHA-256 of its bytes; and the profile's, when one was given.
    catalog_sha256 TEXT NOT NULL,
    profile_title  TEXT,
    profile_sha256 TEXT,
    imported_at    BIGINT NOT NULL,
    imported_by    TEXT NOT NULL
);

CREATE TABLE framework_controls (
    framework_id   TEXT NOT NULL REFERENCES frameworks(id),
    control_id     TEXT NOT NULL,
    ord            INTEGER NOT NULL,
    title          TEXT NOT NULL,
    parent_id      TEXT,
    group_title    TEXT,
    withdrawn      INTEGER NOT NULL,
    selected       INTEGER NOT NULL,
    PRIMARY KEY (framework_id, control_id)
);

CREATE TABLE framework_mappings (
    framework_id   TEXT NOT NULL,
    control_id     TEXT NOT NULL,
    control_code   TEXT NOT NULL,
    mapped_at      BIGINT NOT NULL,
    mapped_by      TEXT NOT NULL,
    PRIMARY KEY (framework_id, control_id, control_code),
    FOREIGN KEY (framework_id, control_id) REFERENCES framework_controls(framework_id, control_id)
);
