//! Facts from outside systems: an import keeps the raw file as evidence, then replaces the
//! system's accounts (a snapshot) or advances its findings (seen, fixed, reopened).

use std::collections::HashSet;

use evident_core::facts::{AccessKey, Account, Change, Commit, Device, Finding, Imported, Protection, Severity};
use serde_json::json;
use sqlx::Row;

use crate::{StoreError, Workspace};

const DELETE_ACCOUNTS: &str = "DELETE FROM accounts WHERE system = $1";
const INSERT_ACCOUNT: &str = "INSERT INTO accounts (id, system, external_id, username, email, human, mfa, admin, root, \
     created_at, last_activity, disabled_at, active, access_keys, evidence_id, imported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
// The large fact tables are read as one JSON array built by the database: per-row overhead in
// the driver, not the database, dominated loading 200,000 changes (see BENCHMARKS.md).
const ACCOUNTS_SQLITE: &str = "SELECT json_group_array(json_array(system, external_id, username, email, human, mfa, \
     admin, root, created_at, last_activity, disabled_at, active, json(access_keys), evidence_id)) AS rows FROM accounts";
const ACCOUNTS_POSTGRES: &str = "SELECT json_agg(json_build_array(system, external_id, username, email, human, mfa, \
     admin, root, created_at, last_activity, disabled_at, active, access_keys::json, evidence_id))::text AS rows FROM accounts";
const SELECT_SCOPE_FINDINGS: &str =
    "SELECT id, external_id, resource, fixed_at FROM findings WHERE source = $1 AND scope = $2";
const INSERT_FINDING: &str = "INSERT INTO findings (id, source, scope, external_id, resource, title, severity, \
     severity_raw, first_seen, last_seen, fixed_at, first_evidence_id, evidence_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, NULL, $10, $10)";
const SEEN_FINDING: &str = "UPDATE findings SET last_seen = $1, evidence_id = $2, fixed_at = NULL, severity = $3, \
     severity_raw = $4, title = $5 WHERE id = $6";
const FIX_FINDING: &str = "UPDATE findings SET fixed_at = $1, evidence_id = $2 WHERE id = $3";
const FINDINGS_SQLITE: &str = "SELECT json_group_array(json_array(source, scope, external_id, resource, title, \
     severity, severity_raw, first_seen, fixed_at)) AS rows FROM findings";
const FINDINGS_POSTGRES: &str = "SELECT json_agg(json_build_array(source, scope, external_id, resource, title, \
     severity, severity_raw, first_seen, fixed_at))::text AS rows FROM findings";
const INSERT_SCAN: &str =
    "INSERT INTO scans (id, source, scope, observed_at, findings, evidence_id) VALUES ($1, $2, $3, $4, $5, $6)";
const DELETE_PROTECTION: &str = "DELETE FROM protections WHERE repository = $1 AND branch = $2 AND source = $3";
const INSERT_PROTECTION: &str = "INSERT INTO protections (id, repository, branch, source, required_approvals, \
     dismiss_stale_reviews, code_owner_reviews, status_checks, enforce_admins, allows_force_pushes, evidence_id, imported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const SELECT_PROTECTIONS: &str = "SELECT repository, branch, source, required_approvals, dismiss_stale_reviews, \
     code_owner_reviews, status_checks, enforce_admins, allows_force_pushes FROM protections ORDER BY repository, branch, source";
const DELETE_CHANGE: &str = "DELETE FROM changes WHERE repository = $1 AND number = $2";
const INSERT_CHANGE: &str = "INSERT INTO changes (id, repository, number, title, author, merged_at, approvers, evidence_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const CHANGES_SQLITE: &str = "SELECT json_group_array(json_array(repository, number, title, author, merged_at, \
     json(approvers))) AS rows FROM changes";
const CHANGES_POSTGRES: &str = "SELECT json_agg(json_build_array(repository, number, title, author, merged_at, \
     approvers::json))::text AS rows FROM changes";
const DELETE_COMMIT: &str = "DELETE FROM commits WHERE repository = $1 AND sha = $2";
const INSERT_COMMIT: &str = "INSERT INTO commits (id, repository, sha, title, author, author_email, committed_at, \
     signature, merge, reviewers, evidence_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const SELECT_COMMITS: &str = "SELECT repository, sha, title, author, author_email, committed_at, signature, merge, \
     reviewers FROM commits ORDER BY committed_at, sha";
const UPSERT_DEVICE: &str = "INSERT INTO devices (hostname, last_seen, disk_encrypted, os, evidence_id) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hostname) DO UPDATE SET \
     last_seen = CASE WHEN excluded.last_seen > devices.last_seen THEN excluded.last_seen ELSE devices.last_seen END, \
     disk_encrypted = COALESCE(excluded.disk_encrypted, devices.disk_encrypted), os = COALESCE(excluded.os, devices.os), \
     evidence_id = excluded.evidence_id";
const SELECT_DEVICES: &str = "SELECT hostname, last_seen, disk_encrypted, os FROM devices ORDER BY hostname";
const SELECT_LAST_SCANS: &str = "SELECT source, scope, MAX(observed_at) AS last FROM scans GROUP BY source, scope";

#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct FactsSummary {
    pub accounts: usize,
    pub protections: usize,
    pub changes: usize,
    pub commits: usize,
    pub devices: usize,
    pub findings_new: usize,
    pub findings_seen: usize,
    pub findings_fixed: usize,
    /// Access-review revocations this snapshot showed carried out.
    pub revocations_seen: usize,
}

/// A finding with its life across scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    pub finding: Finding,
    pub scope: String,
    pub first_seen: i64,
    pub fixed_at: Option<i64>,
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

impl Workspace {
    /// Applies what one import yielded; `evidence_id` is the raw file already in the vault.
    pub async fn apply_facts(
        &self,
        kind: &str,
        imported: &Imported,
        evidence_id: &str,
        observed_at: i64,
    ) -> Result<FactsSummary, StoreError> {
        let mut summary = FactsSummary::default();
        let mut tx = self.begin_write().await?;
        // An identity export is the whole list: it replaces what the system had.
        if imported.replaces_accounts {
            sqlx::query(DELETE_ACCOUNTS)
                .bind(&imported.system)
                .execute(&mut *tx)
                .await?;
            for a in &imported.accounts {
                let keys = serde_json::to_string(&a.access_keys).expect("serialises");
                sqlx::query(INSERT_ACCOUNT)
                    .bind(ulid::Ulid::new().to_string())
                    .bind(&a.system)
                    .bind(&a.external_id)
                    .bind(&a.username)
                    .bind(&a.email)
                    .bind(flag(a.human))
                    .bind(a.mfa.map(flag))
                    .bind(flag(a.admin))
                    .bind(flag(a.root))
                    .bind(a.created_at)
                    .bind(a.last_activity)
                    .bind(a.disabled_at)
                    .bind(flag(a.active))
                    .bind(keys)
                    .bind(evidence_id)
                    .bind(observed_at)
                    .execute(&mut *tx)
                    .await?;
            }
            summary.accounts = imported.accounts.len();
            summary.revocations_seen = self
                .revocations_seen(&mut tx, imported, evidence_id, observed_at)
                .await?;
        }
        if let Some(scope) = &imported.scope {
            let existing: Vec<(String, String, String, Option<i64>)> = sqlx::query(SELECT_SCOPE_FINDINGS)
                .bind(&imported.system)
                .bind(scope)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get("id")?,
                        r.try_get("external_id")?,
                        r.try_get("resource")?,
                        r.try_get("fixed_at")?,
                    ))
                })
                .collect::<Result<_, StoreError>>()?;
            let mut seen = HashSet::new();
            for f in &imported.findings {
                let key = (f.external_id.clone(), f.resource.clone());
                if !seen.insert(key.clone()) {
                    continue;
                }
                match existing.iter().find(|(_, id, res, _)| *id == key.0 && *res == key.1) {
                    Some((row, ..)) => {
                        sqlx::query(SEEN_FINDING)
                            .bind(observed_at)
                            .bind(evidence_id)
                            .bind(f.severity.as_str())
                            .bind(&f.severity_raw)
                            .bind(&f.title)
                            .bind(row)
                            .execute(&mut *tx)
                            .await?;
                        summary.findings_seen += 1;
                    }
                    None => {
                        sqlx::query(INSERT_FINDING)
                            .bind(ulid::Ulid::new().to_string())
                            .bind(&imported.system)
                            .bind(scope)
                            .bind(&f.external_id)
                            .bind(&f.resource)
                            .bind(&f.title)
                            .bind(f.severity.as_str())
                            .bind(&f.severity_raw)
                            .bind(observed_at)
                            .bind(evidence_id)
                            .execute(&mut *tx)
                            .await?;
                        summary.findings_new += 1;
                    }
                }
            }
            for (row, id, res, fixed) in &existing {
                if fixed.is_none() && !seen.contains(&(id.clone(), res.clone())) {
                    sqlx::query(FIX_FINDING)
                        .bind(observed_at)
                        .bind(evidence_id)
                        .bind(row)
                        .execute(&mut *tx)
                        .await?;
                    summary.findings_fixed += 1;
                }
            }
            sqlx::query(INSERT_SCAN)
                .bind(ulid::Ulid::new().to_string())
                .bind(&imported.system)
                .bind(scope)
                .bind(observed_at)
                .bind(imported.findings.len() as i64)
                .bind(evidence_id)
                .execute(&mut *tx)
                .await?;
        }
        // Protections and changes are keyed: a newer export of the same one replaces it.
        for p in &imported.protections {
            sqlx::query(DELETE_PROTECTION)
                .bind(&p.repository)
                .bind(&p.branch)
                .bind(&p.source)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_PROTECTION)
                .bind(ulid::Ulid::new().to_string())
                .bind(&p.repository)
                .bind(&p.branch)
                .bind(&p.source)
                .bind(p.required_approvals)
                .bind(flag(p.dismiss_stale_reviews))
                .bind(flag(p.code_owner_reviews))
                .bind(serde_json::to_string(&p.status_checks).expect("serialises"))
                .bind(flag(p.enforce_admins))
                .bind(flag(p.allows_force_pushes))
                .bind(evidence_id)
                .bind(observed_at)
                .execute(&mut *tx)
                .await?;
        }
        for c in &imported.changes {
            sqlx::query(DELETE_CHANGE)
                .bind(&c.repository)
                .bind(c.number)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_CHANGE)
                .bind(ulid::Ulid::new().to_string())
                .bind(&c.repository)
                .bind(c.number)
                .bind(&c.title)
                .bind(&c.author)
                .bind(c.merged_at)
                .bind(serde_json::to_string(&c.approvers).expect("serialises"))
                .bind(evidence_id)
                .execute(&mut *tx)
                .await?;
        }
        for c in &imported.commits {
            sqlx::query(DELETE_COMMIT)
                .bind(&c.repository)
                .bind(&c.sha)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_COMMIT)
                .bind(ulid::Ulid::new().to_string())
                .bind(&c.repository)
                .bind(&c.sha)
                .bind(&c.title)
                .bind(&c.author)
                .bind(&c.author_email)
                .bind(c.committed_at)
                .bind(&c.signature)
                .bind(flag(c.merge))
                .bind(serde_json::to_string(&c.reviewers).expect("serialises"))
                .bind(evidence_id)
                .execute(&mut *tx)
                .await?;
        }
        summary.commits = imported.commits.len();
        for d in &imported.devices {
            sqlx::query(UPSERT_DEVICE)
                .bind(&d.hostname)
                .bind(d.last_seen)
                .bind(d.disk_encrypted.map(flag))
                .bind(&d.os)
                .bind(evidence_id)
                .execute(&mut *tx)
                .await?;
        }
        summary.devices = imported.devices.len();
        summary.protections = imported.protections.len();
        summary.changes = imported.changes.len();
        let payload = json!({
            "kind": kind,
            "system": imported.system,
            "scope": imported.scope,
            "evidence": evidence_id,
            "observed_at": observed_at,
            "summary": summary,
        });
        self.log(&mut tx, "facts.import", &format!("system:{}", imported.system), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(summary)
    }

    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        Ok(self.accounts_sourced().await?.into_iter().map(|(a, _)| a).collect())
    }

    /// Every account with the evidence item (the import) it came from.
    pub async fn accounts_sourced(&self) -> Result<Vec<(Account, String)>, StoreError> {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            i64,
            Option<i64>,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            i64,
            Vec<AccessKey>,
            String,
        );
        let rows: Vec<Row> = self.json_rows(ACCOUNTS_SQLITE, ACCOUNTS_POSTGRES, "accounts").await?;
        let mut out: Vec<(Account, String)> = rows
            .into_iter()
            .map(|r| {
                (
                    Account {
                        system: r.0,
                        external_id: r.1,
                        username: r.2,
                        email: r.3,
                        human: r.4 != 0,
                        mfa: r.5.map(|m| m != 0),
                        admin: r.6 != 0,
                        root: r.7 != 0,
                        created_at: r.8,
                        last_activity: r.9,
                        disabled_at: r.10,
                        active: r.11 != 0,
                        access_keys: r.12,
                    },
                    r.13,
                )
            })
            .collect();
        out.sort_by(|a, b| (&a.0.system, &a.0.username).cmp(&(&b.0.system, &b.0.username)));
        Ok(out)
    }

    pub async fn findings(&self) -> Result<Vec<FindingRecord>, StoreError> {
        type Row = (String, String, String, String, String, String, String, i64, Option<i64>);
        let rows: Vec<Row> = self.json_rows(FINDINGS_SQLITE, FINDINGS_POSTGRES, "findings").await?;
        let mut out = rows
            .into_iter()
            .map(|r| {
                Ok(FindingRecord {
                    finding: Finding {
                        source: r.0,
                        external_id: r.2,
                        resource: r.3,
                        title: r.4,
                        severity: Severity::parse(&r.5)
                            .ok_or_else(|| StoreError::Config(format!("stored severity '{}'", r.5)))?,
                        severity_raw: r.6,
                    },
                    scope: r.1,
                    first_seen: r.7,
                    fixed_at: r.8,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| (a.first_seen, &a.finding.external_id).cmp(&(b.first_seen, &b.finding.external_id)));
        Ok(out)
    }

    pub async fn protections(&self) -> Result<Vec<Protection>, StoreError> {
        sqlx::query(SELECT_PROTECTIONS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                let b = |c: &str| -> Result<bool, StoreError> { Ok(r.try_get::<i64, _>(c)? != 0) };
                let checks: String = r.try_get("status_checks")?;
                Ok(Protection {
                    repository: r.try_get("repository")?,
                    branch: r.try_get("branch")?,
                    source: r.try_get("source")?,
                    required_approvals: r.try_get("required_approvals")?,
                    dismiss_stale_reviews: b("dismiss_stale_reviews")?,
                    code_owner_reviews: b("code_owner_reviews")?,
                    status_checks: serde_json::from_str(&checks)
                        .map_err(|e| StoreError::Config(format!("stored checks: {e}")))?,
                    enforce_admins: b("enforce_admins")?,
                    allows_force_pushes: b("allows_force_pushes")?,
                })
            })
            .collect()
    }

    pub async fn changes(&self) -> Result<Vec<Change>, StoreError> {
        type Row = (String, i64, String, String, i64, Vec<String>);
        let rows: Vec<Row> = self.json_rows(CHANGES_SQLITE, CHANGES_POSTGRES, "changes").await?;
        let mut out: Vec<Change> = rows
            .into_iter()
            .map(|r| Change {
                repository: r.0,
                number: r.1,
                title: r.2,
                author: r.3,
                merged_at: r.4,
                approvers: r.5,
            })
            .collect();
        out.sort_by(|a, b| (a.merged_at, &a.repository, a.number).cmp(&(b.merged_at, &b.repository, b.number)));
        Ok(out)
    }

    pub async fn commits(&self) -> Result<Vec<Commit>, StoreError> {
        sqlx::query(SELECT_COMMITS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                let reviewers: String = r.try_get("reviewers")?;
                Ok(Commit {
                    repository: r.try_get("repository")?,
                    sha: r.try_get("sha")?,
                    title: r.try_get("title")?,
                    author: r.try_get("author")?,
                    author_email: r.try_get("author_email")?,
                    committed_at: r.try_get("committed_at")?,
                    signature: r.try_get("signature")?,
                    merge: r.try_get::<i64, _>("merge")? != 0,
                    reviewers: serde_json::from_str(&reviewers)
                        .map_err(|e| StoreError::Config(format!("stored reviewers: {e}")))?,
                })
            })
            .collect()
    }

    pub async fn devices(&self) -> Result<Vec<Device>, StoreError> {
        sqlx::query(SELECT_DEVICES)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Device {
                    hostname: r.try_get("hostname")?,
                    last_seen: r.try_get("last_seen")?,
                    disk_encrypted: r.try_get::<Option<i64>, _>("disk_encrypted")?.map(|v| v != 0),
                    os: r.try_get("os")?,
                })
            })
            .collect()
    }

    /// (source, scope, last scan in ms)
    pub async fn last_scans(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        sqlx::query(SELECT_LAST_SCANS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("source")?, r.try_get("scope")?, r.try_get("last")?)))
            .collect()
    }
}
