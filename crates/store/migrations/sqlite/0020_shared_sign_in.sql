-- What several server instances on one database must agree on while someone signs in: failed
-- attempts (so the limit holds whichever instance a guess reaches) and single sign-ons started
-- on one instance and finished on another.
CREATE TABLE sign_in_failures (
    -- 'email:…', 'ip:…' or 'totp:…'.
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

CREATE TABLE oidc_pending (
    -- SHA-256 of the state parameter: the row alone cannot finish anyone's sign-in.
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    -- The PKCE verifier, sealed with the vault key.
    verifier_sealed TEXT NOT NULL,
    next TEXT NOT NULL,
    started_at INTEGER NOT NULL
);
CREATE INDEX oidc_pending_started ON oidc_pending (started_at);
