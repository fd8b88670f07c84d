-- Commits on a repository's main line, from the local git collector.

CREATE TABLE commits (
    id            TEXT PRIMARY KEY,
    repository    TEXT NOT NULL,
    sha           TEXT NOT NULL,
    title         TEXT NOT NULL,
    author        TEXT NOT NULL,
    author_email  TEXT NOT NULL,
    committed_at  INTEGER NOT NULL,
    signature     TEXT NOT NULL,
    merge         INTEGER NOT NULL,
    reviewers     TEXT NOT NULL,
    evidence_id   TEXT NOT NULL REFERENCES evidence(id),
    UNIQUE (repository, sha)
);
CREATE INDEX commits_by_time ON commits (committed_at);
