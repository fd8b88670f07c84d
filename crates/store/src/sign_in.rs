//! Sign-in state several server instances share through the database: the failed-attempt limit
//! and single sign-ons started on one instance and finished on another.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

/// Failed attempts allowed per key (an email, an address, a second factor) within the window.
pub const MAX_SIGN_IN_FAILURES: i64 = 5;
pub const SIGN_IN_FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// A single sign-on not finished at the provider within this long must start again.
pub const OIDC_PENDING_MS: i64 = 10 * 60 * 1000;

const COUNT_FAILURES: &str = "SELECT COUNT(*) AS n FROM sign_in_failures WHERE key = $1 AND at > $2";
const INSERT_FAILURE: &str = "INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)";
const DELETE_OLD_FAILURES: &str = "DELETE FROM sign_in_failures WHERE at <= $1";
const DELETE_FAILURES: &str = "DELETE FROM sign_in_failures WHERE key = $1";
const INSERT_OIDC: &str =
    "INSERT INTO oidc_pending (state_hash, nonce, verifier_sealed, next, started_at) VALUES ($1, $2, $3, $4, $5)";
const DELETE_OLD_OIDC: &str = "DELETE FROM oidc_pending WHERE started_at <= $1";
const TAKE_OIDC: &str =
    "DELETE FROM oidc_pending WHERE state_hash = $1 RETURNING nonce, verifier_sealed, next, started_at";

/// A single sign-on waiting for the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignOn {
    pub nonce: String,
    pub verifier: String,
    /// Where to go once signed in (already checked to be on this site).
    pub next: String,
}

impl Workspace {
    /// A write outside the audit log: takes SQLite's write lock at once (a deferred
    /// transaction that reads first could fail to upgrade under a concurrent writer) and skips
    /// PostgreSQL's audit-log lock, which these writes don't need.
    async fn begin_short_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.db.backend {
            crate::Backend::Sqlite => self.db.pool.begin_with("BEGIN IMMEDIATE").await?,
            crate::Backend::Postgres => self.db.pool.begin().await?,
        })
    }
}

fn digest(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Workspace {
    /// True when `key` has failed [`MAX_SIGN_IN_FAILURES`] times within the window, on any
    /// instance.
    pub async fn sign_in_limited(&self, key: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query(COUNT_FAILURES)
            .bind(key)
            .bind(now_ms() - SIGN_IN_FAILURE_WINDOW_MS)
            .fetch_one(&self.db.pool)
            .await?
            .try_get("n")?;
        Ok(n >= MAX_SIGN_IN_FAILURES)
    }

    /// Counts a failed attempt against each of `keys`, and forgets attempts older than the
    /// window (guesses at many emails must not grow the table without end).
    pub async fn record_sign_in_failure(&self, keys: &[&str]) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin_short_write().await?;
        sqlx::query(DELETE_OLD_FAILURES)
            .bind(now - SIGN_IN_FAILURE_WINDOW_MS)
            .execute(&mut *tx)
            .await?;
        for key in keys {
            sqlx::query(INSERT_FAILURE)
                .bind(*key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query(DELETE_FAILURES).bind(key).execute(&self.db.pool).await?;
        Ok(())
    }

    /// Remembers a single sign-on sent to the provider under its `state` parameter. Only the
    /// state's digest and the sealed PKCE verifier are stored.
    pub async fn start_sign_on(&self, state: &str, pending: &PendingSignOn) -> Result<(), StoreError> {
        let now = now_ms();
        let sealed = self
            .vault
            .seal(pending.verifier.as_bytes())
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let mut tx = self.begin_short_write().await?;
        sqlx::query(DELETE_OLD_OIDC)
            .bind(now - OIDC_PENDING_MS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_OIDC)
            .bind(digest(state))
            .bind(&pending.nonce)
            .bind(sealed)
            .bind(&pending.next)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sign-on started under `state`, removed so it finishes once (two instances given the
    /// same answer: one gets it). None when unknown or expired.
    pub async fn take_sign_on(&self, state: &str) -> Result<Option<PendingSignOn>, StoreError> {
        let Some(row) = sqlx::query(TAKE_OIDC)
            .bind(digest(state))
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let started: i64 = row.try_get("started_at")?;
        if now_ms() - started >= OIDC_PENDING_MS {
            return Ok(None);
        }
        let sealed: String = row.try_get("verifier_sealed")?;
        let verifier = String::from_utf8(
            self.vault
                .unseal(&sealed)
                .map_err(|e| StoreError::Config(e.to_string()))?,
        )
        .map_err(|_| StoreError::Invalid("a pending sign-on's verifier is not text".into()))?;
        Ok(Some(PendingSignOn {
            nonce: row.try_get("nonce")?,
            verifier,
            next: row.try_get("next")?,
        }))
    }
}
