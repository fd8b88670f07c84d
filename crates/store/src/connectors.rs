//! Connectors: configuration with a sealed secret, and the record of each collection run.

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
}
