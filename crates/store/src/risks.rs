//! What the risk register has beyond a plain register: management sign-off and a dated
//! review history.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const SELECT_RISK: &str = "SELECT id, id_ref, likelihood, impact, residual_likelihood, residual_impact, \
     signed_off_by, signed_off_at, updated_at FROM risks WHERE key = $1";
const SIGN_OFF: &str = "UPDATE risks SET signed_off_by = $1, signed_off_at = $2 WHERE id = $3";
const INSERT_REVIEW: &str = "INSERT INTO risk_reviews (id, risk_id, at, actor, note, likelihood, impact, \
     residual_likelihood, residual_impact) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const SELECT_REVIEWS: &str = "SELECT at, actor, note, likelihood, impact, residual_likelihood, residual_impact \
     FROM risk_reviews WHERE risk_id = $1 ORDER BY at, id";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SignOff {
    pub by: String,
    pub at: i64,
    /// The risk changed after it was signed off, so the sign-off no longer covers it.
    pub outdated: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RiskReview {
    pub at: i64,
    pub actor: String,
    pub note: String,
    pub likelihood: i64,
    pub impact: i64,
    pub residual_likelihood: Option<i64>,
    pub residual_impact: Option<i64>,
}

impl Workspace {
    async fn risk_row(&self, reference: &str) -> Result<sqlx::any::AnyRow, StoreError> {
        let key = reference.trim().to_lowercase();
        sqlx::query(SELECT_RISK)
            .bind(&key)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound {
                kind: "risk",
                id: reference.to_string(),
            })
    }

    pub async fn risk_sign_off(&self, reference: &str) -> Result<Option<SignOff>, StoreError> {
        let row = self.risk_row(reference).await?;
        let by: Option<String> = row.try_get("signed_off_by")?;
        let at: Option<i64> = row.try_get("signed_off_at")?;
        let updated: i64 = row.try_get("updated_at")?;
        Ok(by.zip(at).map(|(by, at)| SignOff {
            by,
            at,
            outdated: updated > at,
        }))
    }

    /// Management accepts the risk as it stands now (the actor signs).
    pub async fn sign_off_risk(&self, reference: &str) -> Result<SignOff, StoreError> {
        let row = self.risk_row(reference).await?;
        let id: String = row.try_get("id")?;
        let id_ref: String = row.try_get("id_ref")?;
        let at = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(SIGN_OFF)
            .bind(&self.actor)
            .bind(at)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        let payload = json!({
            "risk": id_ref,
            "likelihood": row.try_get::<Option<i64>, _>("likelihood")?,
            "impact": row.try_get::<Option<i64>, _>("impact")?,
            "residual_likelihood": row.try_get::<Option<i64>, _>("residual_likelihood")?,
            "residual_impact": row.try_get::<Option<i64>, _>("residual_impact")?,
        });
        self.log(
            &mut tx,
            "risks.sign_off",
            &format!("risk:{}", id_ref.to_lowercase()),
            payload,
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(SignOff {
            by: self.actor.clone(),
            at,
            outdated: false,
        })
    }

    /// Records a review with the scores the risk has now (after any re-scoring).
    pub async fn review_risk(&self, reference: &str, note: &str) -> Result<RiskReview, StoreError> {
        let row = self.risk_row(reference).await?;
        let id: String = row.try_get("id")?;
        let id_ref: String = row.try_get("id_ref")?;
        let review = RiskReview {
            at: now_ms(),
            actor: self.actor.clone(),
            note: note.to_string(),
            likelihood: row.try_get::<Option<i64>, _>("likelihood")?.unwrap_or_default(),
            impact: row.try_get::<Option<i64>, _>("impact")?.unwrap_or_default(),
            residual_likelihood: row.try_get("residual_likelihood")?,
            residual_impact: row.try_get("residual_impact")?,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_REVIEW)
            .bind(ulid::Ulid::new().to_string())
            .bind(&id)
            .bind(review.at)
            .bind(&review.actor)
            .bind(&review.note)
            .bind(review.likelihood)
            .bind(review.impact)
            .bind(review.residual_likelihood)
            .bind(review.residual_impact)
            .execute(&mut *tx)
            .await?;
        let payload = json!({
            "risk": id_ref,
            "note": review.note,
            "likelihood": review.likelihood,
            "impact": review.impact,
            "residual_likelihood": review.residual_likelihood,
            "residual_impact": review.residual_impact,
        });
        self.log(
            &mut tx,
            "risks.review",
            &format!("risk:{}", id_ref.to_lowercase()),
            payload,
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(review)
    }

    pub async fn risk_reviews(&self, reference: &str) -> Result<Vec<RiskReview>, StoreError> {
        let id: String = self.risk_row(reference).await?.try_get("id")?;
        sqlx::query(SELECT_REVIEWS)
            .bind(&id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(RiskReview {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    note: r.try_get("note")?,
                    likelihood: r.try_get("likelihood")?,
                    impact: r.try_get("impact")?,
                    residual_likelihood: r.try_get("residual_likelihood")?,
                    residual_impact: r.try_get("residual_impact")?,
                })
            })
            .collect()
    }
}
