//! Loading the facts checks read, and keeping their results and exclusions.

use std::collections::BTreeMap;

use evident_core::checks::{self, CheckResult, ControlFact, Exclusion, Facts, FindingFact, PolicyFact, RiskFact};
use evident_core::registers::{
    ACCESS_GRANTS, ASSETS, BACKGROUND_CHECKS, EVENTS, MACHINE_IDENTITIES, PEOPLE, RISKS, TRAINING, VENDORS,
};
use evident_core::{date_of_ms, format_date, parse_date};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const SELECT_HISTORY: &str = "SELECT id, run_id, at, status, passed, failed, excluded FROM check_runs \
     WHERE check_id = $1 AND at >= $2 AND at < $3 ORDER BY at";
const SELECT_STATUSES_BETWEEN: &str = "SELECT at, status FROM check_runs WHERE at >= $1 AND at < $2 ORDER BY at";
const SELECT_OUTCOMES: &str =
    "SELECT record, outcome, reason, exclusion_reason FROM check_outcomes WHERE check_run_id = $1";
const INSERT_EXCLUSION: &str = "INSERT INTO check_exclusions (id, check_id, record, reason, owner, expires, created_at, \
     created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const SELECT_EXCLUSIONS: &str =
    "SELECT check_id, record, reason, owner, expires FROM check_exclusions ORDER BY check_id, record";
const SELECT_RUN_STATUSES: &str = "SELECT check_id, at, status FROM check_runs ORDER BY check_id, at DESC";
const SELECT_REVIEWS: &str =
    "SELECT r.key, MAX(v.at) AS last FROM risk_reviews v JOIN risks r ON r.id = v.risk_id GROUP BY r.key";
const ACCEPTANCES_SQLITE: &str =
    "SELECT json_group_array(json_array(policy_id, version, email)) AS rows FROM policy_acceptances";
const ACCEPTANCES_POSTGRES: &str =
    "SELECT json_agg(json_build_array(policy_id, version, email))::text AS rows FROM policy_acceptances";
pub(crate) const SELECT_SIGN_OFFS: &str =
    "SELECT key, signed_off_at, updated_at FROM risks WHERE signed_off_at IS NOT NULL";

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub run_id: String,
    pub at: i64,
    pub status: String,
    pub passed: i64,
    pub failed: i64,
    pub excluded: i64,
    pub failures: Vec<BTreeMap<String, String>>,
}

pub use evident_core::assessment::Program;

impl Workspace {
    pub async fn program(&self) -> Result<Program, StoreError> {
        // Independent reads, overlapped: SQLite builds one while the other is decoded.
        let (controls, evidence, policies) = tokio::try_join!(self.controls(), self.evidence(), self.policies())?;
        Ok(Program {
            controls,
            evidence,
            policies,
        })
    }

    /// Everything the built-in checks read, as of now.
    pub async fn facts(&self) -> Result<Facts, StoreError> {
        self.facts_of(&self.program().await?).await
    }

    /// The facts, reusing an already loaded program.
    pub async fn facts_of(&self, program: &Program) -> Result<Facts, StoreError> {
        let records = |v: Vec<crate::StoredRecord>| v.into_iter().map(|r| r.record).collect::<Vec<_>>();
        let pool = &self.db.pool;
        // The large independent reads, overlapped (each is one JSON array built by the database).
        let today = evident_core::date_of_ms(now_ms()).unwrap_or(time::Date::MIN);
        let (people, training, background_checks, assets, accounts, findings, changes, moves, access_reviewed) = tokio::try_join!(
            self.records(&PEOPLE),
            self.records(&TRAINING),
            self.records(&BACKGROUND_CHECKS),
            self.records(&ASSETS),
            self.accounts(),
            self.findings(),
            self.changes(),
            self.moves(today),
            self.review_times(),
        )?;
        let reviews: BTreeMap<String, i64> = sqlx::query(SELECT_REVIEWS)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("key")?, r.try_get("last")?)))
            .collect::<Result<_, StoreError>>()?;
        let sign_offs: BTreeMap<String, (i64, i64)> = sqlx::query(SELECT_SIGN_OFFS)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("key")?,
                    (r.try_get("signed_off_at")?, r.try_get("updated_at")?),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let risks = self
            .records(&RISKS)
            .await?
            .into_iter()
            .map(|r| {
                let sign = sign_offs.get(&r.key);
                RiskFact {
                    signed_off: sign.and_then(|(at, _)| date_of_ms(*at)),
                    sign_off_outdated: sign.is_some_and(|(at, updated)| updated > at),
                    last_review: reviews.get(&r.key).and_then(|at| date_of_ms(*at)),
                    record: r.record,
                }
            })
            .collect();
        // Every acceptance in one read: (policy row, version) → emails.
        let rows: Vec<(String, i64, String)> = self
            .json_rows(ACCEPTANCES_SQLITE, ACCEPTANCES_POSTGRES, "acceptances")
            .await?;
        let mut accepted: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
        for (policy, version, email) in rows {
            accepted.entry((policy, version)).or_default().push(email);
        }
        let mut policies = Vec::new();
        for p in &program.policies {
            let published = p.published().cloned();
            let accepted_by = match &published {
                Some(v) => accepted.remove(&(p.row_id.to_string(), v.version)).unwrap_or_default(),
                None => Vec::new(),
            };
            policies.push(PolicyFact {
                title: p.title.clone(),
                published_version: published.as_ref().map(|v| v.version),
                published_on: published.as_ref().and_then(|v| v.published_at).and_then(date_of_ms),
                approved_by: published.as_ref().and_then(|v| v.approved_by.clone()),
                review_interval_months: p.review_interval_months.max(0) as u32,
                accepted_by,
                id: p.id.clone(),
            });
        }
        let in_scope = self.scope_categories().await?;
        let framework = &evident_catalog::Catalog::builtin().framework;
        let controls = program
            .controls
            .iter()
            .map(|c| {
                let criteria: Vec<_> = c
                    .criteria
                    .iter()
                    .filter_map(|k| framework.criterion(k).map(|x| (k.as_str(), x.category)))
                    .collect();
                let applicable =
                    evident_core::applicability(&criteria, in_scope.as_ref(), c.na_reason.as_deref()).applicable;
                ControlFact {
                    code: c.code.clone(),
                    title: c.title.clone(),
                    owner: c.owner_email.clone(),
                    applicable,
                }
            })
            .collect();
        Ok(Facts {
            people: records(people),
            training: records(training),
            background_checks: records(background_checks),
            vendors: records(self.records(&VENDORS).await?),
            assets: records(assets),
            events: records(self.records(&EVENTS).await?),
            risks,
            policies,
            controls,
            current_evidence: crate::assessment::current_evidence(program),
            params: self.parameters().await?.into_iter().map(|p| (p.key, p.value)).collect(),
            accounts,
            findings: findings
                .into_iter()
                .map(|f| FindingFact {
                    finding: f.finding,
                    scope: f.scope,
                    first_seen: f.first_seen,
                    fixed_at: f.fixed_at,
                })
                .collect(),
            scans: self.last_scans().await?,
            protections: self.protections().await?,
            changes,
            commits: self.commits().await?,
            devices: self.devices().await?,
            machine_identities: records(self.records(&MACHINE_IDENTITIES).await?),
            grants: records(self.records(&ACCESS_GRANTS).await?),
            reviewed_admins: self.reviewed_admins().await?,
            moves,
            access_reviewed,
            connectors: self.connector_facts().await?,
            index: Default::default(),
        })
    }

    /// For each check whose latest kept run failed: when the current run of failures began.
    pub async fn failing_since(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut out = BTreeMap::new();
        let mut current: Option<(String, bool)> = None; // (check, still in its failing streak)
        for r in sqlx::query(SELECT_RUN_STATUSES).fetch_all(&self.db.pool).await? {
            let check: String = r.try_get("check_id")?;
            let status: String = r.try_get("status")?;
            let at: i64 = r.try_get("at")?;
            let streak = match &current {
                Some((c, streak)) if *c == check => *streak,
                _ => true, // the newest run of a new check
            };
            let failing = streak && status == "fail";
            if failing {
                out.insert(check.clone(), at);
            }
            current = Some((check, failing));
        }
        Ok(out)
    }

    pub async fn exclusions(&self) -> Result<Vec<Exclusion>, StoreError> {
        sqlx::query(SELECT_EXCLUSIONS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                let expires: String = r.try_get("expires")?;
                Ok(Exclusion {
                    check: r.try_get("check_id")?,
                    record: r.try_get("record")?,
                    reason: r.try_get("reason")?,
                    owner: r.try_get("owner")?,
                    expires: parse_date(&expires).map_err(|e| StoreError::Config(format!("stored exclusion: {e}")))?,
                })
            })
            .collect()
    }

    /// Keeps an exclusion for a record its check tests now (see [`Self::check_excludable`]).
    pub async fn add_exclusion(&self, e: &Exclusion) -> Result<(), StoreError> {
        self.check_excludable(e).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_EXCLUSION)
            .bind(ulid::Ulid::new().to_string())
            .bind(&e.check)
            .bind(&e.record)
            .bind(&e.reason)
            .bind(&e.owner)
            .bind(format_date(e.expires))
            .bind(now_ms())
            .bind(&self.actor)
            .execute(&mut *tx)
            .await?;
        let payload =
            json!({"record": e.record, "reason": e.reason, "owner": e.owner, "expires": format_date(e.expires)});
        self.log(&mut tx, "checks.exclude", &format!("check:{}", e.check), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Refuses an exclusion whose record the check does not test in the facts as they are now.
    /// An exclusion only ever applies to a record the check reports (passing today or failing),
    /// matched as [`checks::same_record`] matches; any other name (a typo, another check's
    /// record) would set nothing aside yet sit in the auditor's list of accepted exceptions.
    /// Kept runs are not consulted: their outcomes were fixed when they ran, so an exclusion
    /// can no longer change them, and a record the facts no longer hold has nothing to set aside.
    async fn check_excludable(&self, e: &Exclusion) -> Result<(), StoreError> {
        let facts = self.facts().await?;
        let now = time::OffsetDateTime::now_utc();
        let outcomes = match checks::by_id(&e.check) {
            Some(c) => checks::outcomes(c, &facts, now),
            None => {
                let rules = self.rules()?;
                let rule = rules
                    .iter()
                    .find(|r| r.id == e.check)
                    .ok_or_else(|| StoreError::NotFound {
                        kind: "check",
                        id: e.check.clone(),
                    })?;
                checks::rule_outcomes(rule, &facts, now)
            }
        };
        if outcomes.iter().any(|o| checks::same_record(&e.record, &o.record)) {
            return Ok(());
        }
        Err(StoreError::Invalid(format!(
            "record '{}': check '{}' tests no such record ({} record(s) now); name a record exactly as the check reports it",
            e.record,
            e.check,
            outcomes.len()
        )))
    }

    /// Runs every built-in check and workspace rule (or only `only`) over the facts as of `now`
    /// and keeps the results as one run: `evident check run` and the server's daily check run.
    pub async fn run_checks_and_keep(
        &self,
        only: Option<&str>,
        now: time::OffsetDateTime,
    ) -> Result<(String, Vec<CheckResult>), StoreError> {
        let rules = crate::load_rules(&self.dir)?;
        let builtin: Vec<&checks::CheckDef> = match only {
            Some(id) => checks::by_id(id).into_iter().collect(),
            None => checks::BUILTIN.iter().collect(),
        };
        let chosen_rules: Vec<&evident_core::checks::rules::Rule> =
            rules.iter().filter(|r| only.is_none_or(|id| r.id == id)).collect();
        if let Some(id) = only
            && builtin.is_empty()
            && chosen_rules.is_empty()
        {
            return Err(StoreError::Field {
                field: "check",
                reason: format!("unknown check '{id}' (see `evident check list`)"),
            });
        }
        let facts = self.facts().await?;
        let exclusions = self.exclusions().await?;
        let results: Vec<CheckResult> = builtin
            .iter()
            .map(|c| checks::run(c, &facts, &exclusions, now))
            .chain(
                chosen_rules
                    .iter()
                    .map(|r| checks::run_rule(r, &facts, &exclusions, now)),
            )
            .collect();
        let run_id = self.save_run(&results).await?;
        Ok((run_id, results))
    }

    /// Keeps one run of the given results (one row per check, its failures and exclusions).
    pub async fn save_run(&self, results: &[CheckResult]) -> Result<String, StoreError> {
        let ids = self.save_runs(&[(now_ms(), results.to_vec())]).await?;
        Ok(ids.into_iter().next().expect("one run saved"))
    }

    /// (when, status) of every stored check run in a period, without their records: enough
    /// for a trend line.
    pub async fn check_statuses(&self, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(SELECT_STATUSES_BETWEEN)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.db.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("at")?, r.try_get("status")?)))
            .collect()
    }

    pub async fn check_history(
        &self,
        check_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(SELECT_HISTORY)
            .bind(check_id)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.db.pool)
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get("id")?;
            let failures = sqlx::query(SELECT_OUTCOMES)
                .bind(&id)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|o| {
                    let mut m = BTreeMap::new();
                    m.insert("record".to_string(), o.try_get::<String, _>("record")?);
                    m.insert("outcome".to_string(), o.try_get::<String, _>("outcome")?);
                    m.insert("reason".to_string(), o.try_get::<String, _>("reason")?);
                    if let Some(x) = o.try_get::<Option<String>, _>("exclusion_reason")? {
                        m.insert("exclusion_reason".to_string(), x);
                    }
                    Ok(m)
                })
                .collect::<Result<_, StoreError>>()?;
            out.push(HistoryEntry {
                run_id: r.try_get("run_id")?,
                at: r.try_get("at")?,
                status: r.try_get("status")?,
                passed: r.try_get("passed")?,
                failed: r.try_get("failed")?,
                excluded: r.try_get("excluded")?,
                failures,
            });
        }
        Ok(out)
    }
}
