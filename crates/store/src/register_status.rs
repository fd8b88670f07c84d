//! The inputs of a listing's derived columns (the rules are `evident_core::register_status`).

use std::collections::HashMap;

use evident_core::parse_date;
use evident_core::register::{ListColumn, RegisterSpec, Value};
use evident_core::register_status as rule;
use sqlx::Row;
use time::Date;

use crate::checks::SELECT_SIGN_OFFS;
use crate::{StoreError, StoredRecord, Workspace};

/// Policies with a version in force.
const IN_FORCE: &str = "SELECT COUNT(DISTINCT policy_id) AS n FROM policy_versions WHERE status = 'published'";
/// Per person, how many policies they accepted in the version in force (the latest published).
const ACCEPTED_PER_EMAIL: &str = "SELECT LOWER(a.email) AS email, COUNT(DISTINCT a.policy_id) AS n \
     FROM policy_acceptances a JOIN (SELECT policy_id, MAX(version) AS version FROM policy_versions \
     WHERE status = 'published' GROUP BY policy_id) p ON p.policy_id = a.policy_id AND p.version = a.version \
     GROUP BY LOWER(a.email)";
/// Per person, the day of their last security awareness course.
const LAST_AWARENESS: &str = "SELECT LOWER(email) AS email, MAX(completed_on) AS last FROM training_completions \
     WHERE kind = 'security_awareness' AND completed_on IS NOT NULL GROUP BY LOWER(email)";
const SCREENINGS: &str = "SELECT LOWER(email) AS email, status, completed_on FROM background_checks";

impl Workspace {
    /// For each record (by key), the values of the register's derived columns in the order
    /// the listing names them; empty when the register has none.
    pub async fn derived_columns(
        &self,
        spec: &RegisterSpec,
        records: &[StoredRecord],
        today: Date,
    ) -> Result<HashMap<String, Vec<Value>>, StoreError> {
        let keys: Vec<&str> = spec
            .list
            .iter()
            .filter_map(|c| match c {
                ListColumn::Derived { key, .. } => Some(*key),
                _ => None,
            })
            .collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let mut out: HashMap<String, Vec<Value>> = HashMap::with_capacity(records.len());
        match spec.name {
            "people" => {
                let pool = &self.db.pool;
                let in_force: i64 = sqlx::query(IN_FORCE).fetch_one(pool).await?.try_get("n")?;
                let accepted: HashMap<String, i64> = sqlx::query(ACCEPTED_PER_EMAIL)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("email")?, r.try_get("n")?)))
                    .collect::<Result<_, StoreError>>()?;
                let trained: HashMap<String, Option<String>> = sqlx::query(LAST_AWARENESS)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("email")?, r.try_get("last")?)))
                    .collect::<Result<_, StoreError>>()?;
                let mut checks: HashMap<String, Vec<(Option<Date>, String)>> = HashMap::new();
                for r in sqlx::query(SCREENINGS).fetch_all(pool).await? {
                    let on: Option<String> = r.try_get("completed_on")?;
                    checks
                        .entry(r.try_get("email")?)
                        .or_default()
                        .push((on.and_then(|d| parse_date(&d).ok()), r.try_get("status")?));
                }
                let interval = self
                    .parameters()
                    .await?
                    .into_iter()
                    .find(|p| p.key == "training_interval_months")
                    .and_then(|p| p.value.trim().parse().ok())
                    .unwrap_or(12);
                for r in records {
                    let email = r.record.get("email").to_text().to_lowercase();
                    let values = keys
                        .iter()
                        .map(|k| match *k {
                            "policies" => rule::policies(
                                &r.record,
                                accepted.get(&email).copied().unwrap_or(0) as usize,
                                in_force as usize,
                                today,
                            ),
                            "training" => rule::training(
                                trained
                                    .get(&email)
                                    .and_then(|d| d.as_deref())
                                    .and_then(|d| parse_date(d).ok()),
                                today,
                                interval,
                            ),
                            "screening" => {
                                rule::screening(checks.get(&email).into_iter().flatten().map(|(d, s)| (*d, s.as_str())))
                            }
                            _ => Value::Null,
                        })
                        .collect();
                    out.insert(r.key.clone(), values);
                }
            }
            "risks" => {
                let sign_offs: HashMap<String, (i64, i64)> = sqlx::query(SELECT_SIGN_OFFS)
                    .fetch_all(&self.db.pool)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok((
                            r.try_get("key")?,
                            (r.try_get("signed_off_at")?, r.try_get("updated_at")?),
                        ))
                    })
                    .collect::<Result<_, StoreError>>()?;
                for r in records {
                    let sign = sign_offs
                        .get(&r.key)
                        .and_then(|(at, updated)| evident_core::date_of_ms(*at).map(|d| (d, updated > at)));
                    out.insert(r.key.clone(), vec![rule::risk_sign_off(sign)]);
                }
            }
            "vendors" => {
                for r in records {
                    out.insert(r.key.clone(), vec![rule::vendor_review(&r.record, today)]);
                }
            }
            _ => {}
        }
        Ok(out)
    }
}
