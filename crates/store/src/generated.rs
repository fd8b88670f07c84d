//! Loading a generated organisation (`core::generate`) in bulk: its documents into the vault
//! and the evidence table, its facts, and a backfilled year of check runs. Every evidence
//! item gets its own audit-log entry, as if added one by one, so `verify` holds.

use std::collections::{BTreeMap, HashMap, HashSet};

use evident_core::checks::CheckResult;
use evident_core::format_date;
use evident_core::generate::{Document, GeneratedFacts};
use serde_json::{Value, json};
use sqlx::Row;

use crate::bulk::{Cell, insert_rows};
use crate::clock::now_ms;
use crate::evidence::{EvidenceError, EvidenceItem, EvidenceLink};
use crate::vault::StoredBlob;
use crate::{StoreError, Workspace};

const SELECT_CONTROL_IDS: &str = "SELECT id, code FROM controls";
const SELECT_BLOBS: &str = "SELECT sha256 FROM blobs";
const EVIDENCE_COLUMNS: &[&str] = &[
    "id",
    "title",
    "sha256",
    "size",
    "media_type",
    "file_name",
    "source_kind",
    "source_ref",
    "captured_at",
    "effective_date",
    "period_from",
    "period_to",
    "supersedes",
    "created_by",
];
const ACCOUNT_COLUMNS: &[&str] = &[
    "id",
    "system",
    "external_id",
    "username",
    "email",
    "human",
    "mfa",
    "admin",
    "root",
    "created_at",
    "last_activity",
    "disabled_at",
    "active",
    "access_keys",
    "evidence_id",
    "imported_at",
];
const FINDING_COLUMNS: &[&str] = &[
    "id",
    "source",
    "scope",
    "external_id",
    "resource",
    "title",
    "severity",
    "severity_raw",
    "first_seen",
    "last_seen",
    "fixed_at",
    "first_evidence_id",
    "evidence_id",
];
const SCAN_COLUMNS: &[&str] = &["id", "source", "scope", "observed_at", "findings", "evidence_id"];
const PROTECTION_COLUMNS: &[&str] = &[
    "id",
    "repository",
    "branch",
    "source",
    "required_approvals",
    "dismiss_stale_reviews",
    "code_owner_reviews",
    "status_checks",
    "enforce_admins",
    "allows_force_pushes",
    "evidence_id",
    "imported_at",
];
const CHANGE_COLUMNS: &[&str] = &[
    "id",
    "repository",
    "number",
    "title",
    "author",
    "merged_at",
    "approvers",
    "evidence_id",
];
const DEVICE_COLUMNS: &[&str] = &["hostname", "last_seen", "disk_encrypted", "os", "evidence_id"];
const RUN_COLUMNS: &[&str] = &[
    "id", "run_id", "check_id", "at", "status", "passed", "failed", "excluded", "actor",
];
const OUTCOME_COLUMNS: &[&str] = &["check_run_id", "record", "outcome", "reason", "exclusion_reason"];

fn id() -> String {
    ulid::Ulid::new().to_string()
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialises")
}

impl Workspace {
    /// Stores the documents (blobs first, made durable in one flush, then one transaction for
    /// the records); returns their evidence ids in the same order.
    pub async fn add_documents(&self, docs: &[Document]) -> Result<Vec<String>, EvidenceError> {
        let mut blobs = Vec::with_capacity(docs.len());
        for d in docs {
            blobs.push(self.vault.put_bytes(&d.content).await?);
        }
        self.vault.sync()?;
        Ok(self.record_documents(docs, &blobs).await?)
    }

    async fn record_documents(&self, docs: &[Document], blobs: &[StoredBlob]) -> Result<Vec<String>, StoreError> {
        let controls: HashMap<String, String> = sqlx::query(SELECT_CONTROL_IDS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("id")?)))
            .collect::<Result<_, StoreError>>()?;
        let now = now_ms();
        let mut items = Vec::with_capacity(docs.len());
        for (d, blob) in docs.iter().zip(blobs) {
            let links = d
                .controls
                .iter()
                .map(|(code, req)| {
                    let control_id = controls.get(code).cloned().ok_or_else(|| StoreError::NotFound {
                        kind: "control",
                        id: code.clone(),
                    })?;
                    Ok(EvidenceLink {
                        control_id: evident_core::RowId::new(control_id),
                        control: code.clone(),
                        requirement: req.clone(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            items.push(EvidenceItem {
                id: id(),
                title: d.title.clone(),
                sha256: blob.sha256.clone(),
                size: blob.size as i64,
                media_type: d.media_type.to_string(),
                file_name: d.file_name.clone(),
                source_kind: d.source_kind,
                source_ref: d.source_ref.clone(),
                captured_at: d.captured_at,
                effective_date: d.effective_date.map(format_date),
                period_from: d.period.map(|p| format_date(p.0)),
                period_to: d.period.map(|p| format_date(p.1)),
                supersedes: None,
                superseded_by: None,
                created_by: self.actor.clone(),
                controls: links,
                withdrawn: None,
            });
        }
        let evidence_rows = items
            .iter()
            .map(|i| {
                vec![
                    Cell::from(i.id.clone()),
                    i.title.clone().into(),
                    i.sha256.clone().into(),
                    i.size.into(),
                    i.media_type.clone().into(),
                    i.file_name.clone().into(),
                    i.source_kind.as_str().into(),
                    i.source_ref.clone().into(),
                    i.captured_at.into(),
                    i.effective_date.clone().into(),
                    i.period_from.clone().into(),
                    i.period_to.clone().into(),
                    Cell::Text(None),
                    i.created_by.clone().into(),
                ]
            })
            .collect();
        let link_rows = items
            .iter()
            .flat_map(|i| {
                i.controls.iter().map(|l| {
                    vec![
                        Cell::from(i.id.clone()),
                        l.control_id.to_string().into(),
                        l.requirement.clone().into(),
                    ]
                })
            })
            .collect();
        let log = items
            .iter()
            .map(|i| {
                (
                    "evidence.add".to_string(),
                    format!("evidence:{}", i.id),
                    crate::evidence::payload(i),
                )
            })
            .collect();
        let mut tx = self.begin_write().await?;
        // Content already in the vault from before keeps its first row.
        let mut seen: HashSet<String> = sqlx::query(SELECT_BLOBS)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("sha256"))
            .collect::<Result<_, _>>()?;
        let blob_rows = blobs
            .iter()
            .filter(|b| seen.insert(b.sha256.clone()))
            .map(|b| vec![Cell::from(b.sha256.clone()), Cell::from(b.size as i64), Cell::from(now)])
            .collect();
        insert_rows(&mut tx, "blobs", &["sha256", "size", "created_at"], blob_rows).await?;
        insert_rows(&mut tx, "evidence", EVIDENCE_COLUMNS, evidence_rows).await?;
        insert_rows(
            &mut tx,
            "evidence_controls",
            &["evidence_id", "control_id", "requirement_key"],
            link_rows,
        )
        .await?;
        self.log_many(&mut tx, log).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(items.into_iter().map(|i| i.id).collect())
    }

    /// Writes generated facts; `evidence[i]` is the id of the document at index i.
    pub async fn load_facts(
        &self,
        facts: &GeneratedFacts,
        evidence: &[String],
        context: Value,
    ) -> Result<BTreeMap<&'static str, usize>, StoreError> {
        let now = now_ms();
        let ev = |i: usize| Cell::from(evidence[i].clone());
        let accounts = facts
            .accounts
            .iter()
            .map(|(d, a)| {
                vec![
                    Cell::from(id()),
                    a.system.clone().into(),
                    a.external_id.clone().into(),
                    a.username.clone().into(),
                    a.email.clone().into(),
                    a.human.into(),
                    a.mfa.map(i64::from).into(),
                    a.admin.into(),
                    a.root.into(),
                    a.created_at.into(),
                    a.last_activity.into(),
                    a.disabled_at.into(),
                    a.active.into(),
                    json_text(&a.access_keys).into(),
                    ev(*d),
                    now.into(),
                ]
            })
            .collect();
        let findings = facts
            .findings
            .iter()
            .map(|(d, l)| {
                vec![
                    Cell::from(id()),
                    l.finding.source.clone().into(),
                    l.scope.clone().into(),
                    l.finding.external_id.clone().into(),
                    l.finding.resource.clone().into(),
                    l.finding.title.clone().into(),
                    l.finding.severity.as_str().into(),
                    l.finding.severity_raw.clone().into(),
                    l.first_seen.into(),
                    l.last_seen.into(),
                    l.fixed_at.into(),
                    ev(*d),
                    ev(*d),
                ]
            })
            .collect();
        let scans = facts
            .scans
            .iter()
            .map(|(d, s)| {
                vec![
                    Cell::from(id()),
                    s.source.clone().into(),
                    s.scope.clone().into(),
                    s.observed_at.into(),
                    s.findings.into(),
                    ev(*d),
                ]
            })
            .collect();
        let protections = facts
            .protections
            .iter()
            .map(|(d, p)| {
                vec![
                    Cell::from(id()),
                    p.repository.clone().into(),
                    p.branch.clone().into(),
                    p.source.clone().into(),
                    p.required_approvals.into(),
                    p.dismiss_stale_reviews.into(),
                    p.code_owner_reviews.into(),
                    json_text(&p.status_checks).into(),
                    p.enforce_admins.into(),
                    p.allows_force_pushes.into(),
                    ev(*d),
                    now.into(),
                ]
            })
            .collect();
        let changes = facts
            .changes
            .iter()
            .map(|(d, c)| {
                vec![
                    Cell::from(id()),
                    c.repository.clone().into(),
                    c.number.into(),
                    c.title.clone().into(),
                    c.author.clone().into(),
                    c.merged_at.into(),
                    json_text(&c.approvers).into(),
                    ev(*d),
                ]
            })
            .collect();
        let devices = facts
            .devices
            .iter()
            .map(|(d, x)| {
                vec![
                    Cell::from(x.hostname.clone()),
                    x.last_seen.into(),
                    x.disk_encrypted.map(i64::from).into(),
                    x.os.clone().into(),
                    ev(*d),
                ]
            })
            .collect();
        let counts = BTreeMap::from([
            ("accounts", facts.accounts.len()),
            ("findings", facts.findings.len()),
            ("scans", facts.scans.len()),
            ("protections", facts.protections.len()),
            ("changes", facts.changes.len()),
            ("devices", facts.devices.len()),
        ]);
        let mut tx = self.begin_write().await?;
        insert_rows(&mut tx, "accounts", ACCOUNT_COLUMNS, accounts).await?;
        insert_rows(&mut tx, "findings", FINDING_COLUMNS, findings).await?;
        insert_rows(&mut tx, "scans", SCAN_COLUMNS, scans).await?;
        insert_rows(&mut tx, "protections", PROTECTION_COLUMNS, protections).await?;
        insert_rows(&mut tx, "changes", CHANGE_COLUMNS, changes).await?;
        insert_rows(&mut tx, "devices", DEVICE_COLUMNS, devices).await?;
        self.log(
            &mut tx,
            "facts.generate",
            "facts:generated",
            json!({"context": context, "counts": counts}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(counts)
    }

    /// Keeps check runs made at the given instants (a backfill of history), one audit entry each.
    pub async fn save_runs(&self, runs: &[(i64, Vec<CheckResult>)]) -> Result<Vec<String>, StoreError> {
        let mut run_rows = Vec::new();
        let mut outcome_rows = Vec::new();
        let mut log = Vec::new();
        let mut ids = Vec::new();
        for (at, results) in runs {
            let run_id = id();
            for r in results {
                let row_id = id();
                run_rows.push(vec![
                    Cell::from(row_id.clone()),
                    run_id.clone().into(),
                    r.id.clone().into(),
                    (*at).into(),
                    r.status.as_str().into(),
                    (r.passed as i64).into(),
                    (r.failed as i64).into(),
                    (r.excluded as i64).into(),
                    self.actor.clone().into(),
                ]);
                for f in &r.failures {
                    outcome_rows.push(vec![
                        Cell::from(row_id.clone()),
                        f.record.clone().into(),
                        "fail".into(),
                        f.reason.clone().into(),
                        Cell::Text(None),
                    ]);
                }
                for x in &r.exclusions {
                    outcome_rows.push(vec![
                        Cell::from(row_id.clone()),
                        x.record.clone().into(),
                        "excluded".into(),
                        x.reason.clone().into(),
                        x.exclusion_reason.clone().into(),
                    ]);
                }
            }
            let summary: BTreeMap<&str, &str> = results.iter().map(|r| (r.id.as_str(), r.status.as_str())).collect();
            log.push((
                "checks.run".to_string(),
                format!("run:{run_id}"),
                json!({"results": summary, "at": at}),
            ));
            ids.push(run_id);
        }
        let mut tx = self.begin_write().await?;
        insert_rows(&mut tx, "check_runs", RUN_COLUMNS, run_rows).await?;
        insert_rows(&mut tx, "check_outcomes", OUTCOME_COLUMNS, outcome_rows).await?;
        self.record_spans(&mut tx, runs).await?;
        self.log_many(&mut tx, log).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(ids)
    }
}
