//! The inputs of a listing's derived columns (the rules are `evident_core::register_status`).

use std::collections::{BTreeMap, HashMap, HashSet};

use evident_core::register::{ListColumn, Record, RegisterSpec, Value};
use evident_core::register_status as rule;
use evident_core::registers::{BACKGROUND_CHECKS, TRAINING};
use sqlx::Row;
use time::Date;

use crate::checks::{ACCEPTANCES_POSTGRES, ACCEPTANCES_SQLITE, SELECT_SIGN_OFFS};
use crate::{StoreError, StoredRecord, Workspace};

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
                let (training, checks, policies) = tokio::try_join!(
                    self.records(&TRAINING),
                    self.records(&BACKGROUND_CHECKS),
                    self.policies(),
                )?;
                let in_force: HashSet<(String, i64)> = policies
                    .iter()
                    .filter_map(|p| p.published().map(|v| (p.row_id.to_string(), v.version)))
                    .collect();
                let rows: Vec<(String, i64, String)> = self
                    .json_rows(ACCEPTANCES_SQLITE, ACCEPTANCES_POSTGRES, "acceptances")
                    .await?;
                let accepted =
                    rule::accepted_counts(&in_force, rows.iter().map(|(p, v, e)| (p.as_str(), *v, e.as_str())));
                let acceptances = rule::Acceptances {
                    in_force: in_force.len(),
                    accepted: &accepted,
                };
                let interval = self
                    .parameters()
                    .await?
                    .into_iter()
                    .find(|p| p.key == "training_interval_months")
                    .and_then(|p| p.value.trim().parse().ok())
                    .unwrap_or(12);
                let (training, checks) = (by_email(&training), by_email(&checks));
                for r in records {
                    let email = r.record.get("email").to_text().to_lowercase();
                    let values = keys
                        .iter()
                        .map(|k| match *k {
                            "policies" => rule::policies(&r.record, &acceptances, today),
                            "training" => rule::training(of(&training, &email), today, interval),
                            "screening" => rule::screening(of(&checks, &email)),
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

/// Records by their `email` field, lower-cased.
fn by_email(records: &[StoredRecord]) -> BTreeMap<String, Vec<&Record>> {
    let mut m: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in records {
        m.entry(r.record.get("email").to_text().to_lowercase())
            .or_default()
            .push(&r.record);
    }
    m
}

/// One person's records from [`by_email`].
fn of<'a>(m: &'a BTreeMap<String, Vec<&'a Record>>, email: &str) -> impl Iterator<Item = &'a Record> {
    m.get(email).into_iter().flatten().copied()
}
