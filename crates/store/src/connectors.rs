//! Connectors: configuration with a sealed secret, and the record of each collection run.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const UPSERT_CONNECTOR: &str = "INSERT INTO connectors (name, config, sealed_secret, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET config = excluded.config, \
     sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at";
const SELECT_CONNECTOR: &str = "SELECT config, sealed_secret, last_success_at FROM connectors WHERE name = $1";
const INSERT_RUN: &str = "INSERT INTO connector_runs (id, connector, started_at, finished_at, status, error, evidence_id, \
     summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const MARK_SUCCESS: &str = "UPDATE connectors SET last_success_at = $1 WHERE name = $2";
const SELECT_CONFIGURED: &str = "SELECT name, created_at FROM connectors ORDER BY name";
const SELECT_LAST_RUN: &str = "SELECT status, error, evidence_id, summary, finished_at FROM connector_runs \
     WHERE connector = $1 ORDER BY started_at DESC, id DESC LIMIT 1";
const SELECT_LAST_SUCCESS: &str = "SELECT status, error, evidence_id, summary, finished_at FROM connector_runs \
     WHERE connector = $1 AND status = 'succeeded' ORDER BY started_at DESC, id DESC LIMIT 1";
const SELECT_FAILURES_SINCE: &str = "SELECT MIN(finished_at) AS earliest, COUNT(*) AS n FROM connector_runs \
     WHERE connector = $1 AND status = 'failed' AND finished_at > $2";
const SELECT_RUNS: &str = "SELECT id, started_at, finished_at, status, error, evidence_id, summary FROM connector_runs \
     WHERE connector = $1 ORDER BY started_at";

#[derive(Debug, Clone)]
pub struct Connector {
    pub config: Value,
    pub secret: String,
    pub last_success_at: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectorRun {
    pub id: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub status: String,
    pub error: Option<String>,
    pub evidence_id: Option<String>,
    pub summary: Value,
}

/// A configured connector's health: its record of collecting, what its last success brought
/// and its state by `evident_core::facts::ConnectorFact::state`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConnectorHealth {
    pub name: String,
    /// collecting, waiting, failing or stopped (no success for more than a day: evidence
    /// stopped flowing).
    pub state: String,
    pub configured_at: i64,
    pub last_success_at: Option<i64>,
    pub last_run_at: Option<i64>,
    /// The first failure since the last success.
    pub failing_since: Option<i64>,
    /// Failed runs since the last success.
    pub failures: i64,
    /// Why the latest run failed, in words (none when it succeeded).
    pub last_error: Option<String>,
    /// What the last successful run collected (counts).
    pub collected: Value,
    /// The evidence item that holds the last successful run's responses.
    pub evidence: Option<String>,
}

impl Workspace {
    /// Saves a connector's settings; the secret is sealed with the vault key and never logged.
    pub async fn configure_connector(&self, name: &str, config: &Value, secret: &str) -> Result<(), StoreError> {
        let sealed = self
            .vault
            .seal(secret.as_bytes())
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(UPSERT_CONNECTOR)
            .bind(name)
            .bind(config.to_string())
            .bind(sealed)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "connector.configure",
            &format!("connector:{name}"),
            json!({"config": config, "secret": "sealed"}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    pub async fn connector(&self, name: &str) -> Result<Connector, StoreError> {
        let row = sqlx::query(SELECT_CONNECTOR)
            .bind(name)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "connector",
                id: format!("{name} (configure it with `evident connect {name}`)"),
            })?;
        let config: String = row.try_get("config")?;
        let sealed: String = row.try_get("sealed_secret")?;
        let secret = self
            .vault
            .unseal(&sealed)
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Connector {
            config: serde_json::from_str(&config).map_err(|e| StoreError::Config(format!("connector config: {e}")))?,
            secret: String::from_utf8(secret).map_err(|_| StoreError::Config("connector secret is not text".into()))?,
            last_success_at: row.try_get("last_success_at")?,
        })
    }

    /// Records a run; a successful one moves the connector's incremental starting point.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_connector_run(
        &self,
        name: &str,
        started_at: i64,
        error: Option<&str>,
        evidence_id: Option<&str>,
        summary: &Value,
        collected_until: Option<i64>,
    ) -> Result<String, StoreError> {
        let id = ulid::Ulid::new().to_string();
        let status = if error.is_none() { "succeeded" } else { "failed" };
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_RUN)
            .bind(&id)
            .bind(name)
            .bind(started_at)
            .bind(now_ms())
            .bind(status)
            .bind(error)
            .bind(evidence_id)
            .bind(summary.to_string())
            .execute(&mut *tx)
            .await?;
        if let (None, Some(until)) = (error, collected_until) {
            sqlx::query(MARK_SUCCESS)
                .bind(until)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        let payload = json!({"run": id, "status": status, "error": error, "evidence": evidence_id, "summary": summary});
        self.log(&mut tx, "connector.run", &format!("connector:{name}"), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(id)
    }

    pub async fn connector_runs(&self, name: &str) -> Result<Vec<ConnectorRun>, StoreError> {
        sqlx::query(SELECT_RUNS)
            .bind(name)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                let summary: String = r.try_get("summary")?;
                Ok(ConnectorRun {
                    id: r.try_get("id")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                    status: r.try_get("status")?,
                    error: r.try_get("error")?,
                    evidence_id: r.try_get("evidence_id")?,
                    summary: serde_json::from_str(&summary).unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// Every configured connector's record of collecting, for the check and the health page.
    pub async fn connector_facts(&self) -> Result<Vec<evident_core::facts::ConnectorFact>, StoreError> {
        Ok(self
            .connector_health(now_ms())
            .await?
            .into_iter()
            .map(|(f, _)| f)
            .collect())
    }

    /// Each configured connector's health as of `now`.
    pub async fn connectors_health(&self, now: i64) -> Result<Vec<ConnectorHealth>, StoreError> {
        Ok(self.connector_health(now).await?.into_iter().map(|(_, h)| h).collect())
    }

    async fn connector_health(
        &self,
        now: i64,
    ) -> Result<Vec<(evident_core::facts::ConnectorFact, ConnectorHealth)>, StoreError> {
        let pool = &self.db.pool;
        let mut out = Vec::new();
        for row in sqlx::query(SELECT_CONFIGURED).fetch_all(pool).await? {
            let name: String = row.try_get("name")?;
            let configured_at: i64 = row.try_get("created_at")?;
            let last = sqlx::query(SELECT_LAST_RUN).bind(&name).fetch_optional(pool).await?;
            let success = sqlx::query(SELECT_LAST_SUCCESS)
                .bind(&name)
                .fetch_optional(pool)
                .await?;
            let last_success_at: Option<i64> = success.as_ref().map(|r| r.try_get("finished_at")).transpose()?;
            let failed = sqlx::query(SELECT_FAILURES_SINCE)
                .bind(&name)
                .bind(last_success_at.unwrap_or(i64::MIN))
                .fetch_one(pool)
                .await?;
            let failures: i64 = failed.try_get("n")?;
            let last_error: Option<String> = match &last {
                Some(r) if r.try_get::<String, _>("status")? == "failed" => r.try_get("error")?,
                _ => None,
            };
            let fact = evident_core::facts::ConnectorFact {
                name: name.clone(),
                configured_at,
                last_success_at,
                failing_since: failed.try_get("earliest")?,
                failures,
                last_error: last_error.clone(),
            };
            let summary: Option<String> = success.as_ref().map(|r| r.try_get("summary")).transpose()?;
            let health = ConnectorHealth {
                state: fact.state(now).as_str().to_string(),
                configured_at,
                last_success_at,
                last_run_at: last.as_ref().map(|r| r.try_get("finished_at")).transpose()?,
                failing_since: fact.failing_since,
                failures,
                last_error,
                collected: summary
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or(Value::Null),
                evidence: match &success {
                    Some(r) => r.try_get("evidence_id")?,
                    None => None,
                },
                name,
            };
            out.push((fact, health));
        }
        Ok(out)
    }
}
