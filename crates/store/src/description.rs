//! The system description: what it is drafted from, its narratives and their versions, its
//! approvals and management's assertion. The wording is `evident_core::description`'s.

use evident_core::description::{
    AssetLine, ChangeLine, ControlLine, Description, Drift, EventLine, Input, Narrative, PolicyLine, TextRefused,
    VendorLine, assertion, check_narrative, check_signer, describe, drift,
};
use evident_core::register::Value;
use evident_core::registers::{ASSETS, EVENTS, PEOPLE, VENDORS};
use evident_core::{date_of_ms, day_start_ms};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const SELECT_NARRATIVES: &str = "SELECT part, version, body, written_by, written_at FROM description_narratives \
     ORDER BY part, version";
const SELECT_NARRATIVE_HISTORY: &str = "SELECT part, version, body, written_by, written_at FROM description_narratives \
     WHERE part = $1 ORDER BY version DESC";
const SELECT_LATEST_NARRATIVE: &str = "SELECT part, version, body, written_by, written_at FROM description_narratives \
     WHERE part = $1 ORDER BY version DESC LIMIT 1";
const INSERT_NARRATIVE: &str = "INSERT INTO description_narratives (part, version, body, written_by, written_at) \
     VALUES ($1, $2, $3, $4, $5)";
const SELECT_LATEST_APPROVAL: &str = "SELECT version, content, sha256, approved_by, approved_at \
     FROM description_approvals ORDER BY version DESC LIMIT 1";
const INSERT_APPROVAL: &str = "INSERT INTO description_approvals (version, content, sha256, approved_by, approved_at) \
     VALUES ($1, $2, $3, $4, $5)";
const SELECT_LATEST_ASSERTION: &str = "SELECT id, description_version, body, sha256, signer_name, signer_title, \
     signed_by, signed_at FROM description_assertions ORDER BY signed_at DESC, id DESC LIMIT 1";
const INSERT_ASSERTION: &str = "INSERT INTO description_assertions (id, description_version, body, sha256, \
     signer_name, signer_title, signed_by, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// The audit-log entries that may be significant changes (`SIGNIFICANT_PREFIXES`; `_` is a
/// LIKE wildcard, so this reads a superset and the core decides).
const SELECT_CHANGES: &str = "SELECT seq, at, actor, action, subject, payload FROM audit_log \
     WHERE at >= $1 AND at < $2 AND (action = 'scope.set' OR action LIKE 'scope.component.%' \
     OR action = 'controls.adopt' OR action LIKE 'control.not_applicable.%' OR action = 'policies.publish' \
     OR action = 'policies.adopt' OR action LIKE 'assets.%' OR action LIKE 'vendors.%') ORDER BY seq";

/// One approved version of the description.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Approval {
    pub version: i64,
    pub sha256: String,
    pub approved_by: String,
    /// RFC 3339.
    pub approved_at: String,
}

/// Management's signed assertion.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SignedAssertion {
    pub id: String,
    pub description_version: i64,
    pub text: String,
    pub sha256: String,
    pub signer_name: String,
    pub signer_title: String,
    pub signed_by: String,
    /// RFC 3339.
    pub signed_at: String,
    /// The description changed after it was signed (a later approval, or drift from the
    /// version it covers): it no longer covers what the records say.
    pub outdated: bool,
}

/// The description as the records say today, with where it stands against its approval.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DescriptionState {
    pub description: Description,
    /// The narratives' latest versions (also inside the description's statements).
    pub narratives: Vec<Narrative>,
    pub approved: Option<Approval>,
    /// Statements added, removed or changed since the latest approval (empty before one).
    pub drift: Vec<Drift>,
    /// The assertion as it would be signed now; `None` without a scope.
    pub draft_assertion: Option<assertion::AssertionDraft>,
    pub assertion: Option<SignedAssertion>,
}

impl DescriptionState {
    /// Where the description stands, in one sentence (files and pages say it the same way).
    pub fn status_line(&self) -> String {
        match &self.approved {
            Some(a) => format!(
                "Version {} approved by {} on {}{}",
                a.version,
                a.approved_by,
                a.approved_at.get(..10).unwrap_or(&a.approved_at),
                match self.drift.len() {
                    0 => String::new(),
                    n => format!("; {n} statements have changed since"),
                }
            ),
            None => "Not approved yet".into(),
        }
    }

    /// Management's assertion for a file: the signed text and who signed it, else the draft.
    pub fn assertion_for_file(&self) -> Option<(String, String)> {
        match (&self.assertion, &self.draft_assertion) {
            (Some(s), _) => Some((
                s.text.clone(),
                format!(
                    "Signed by {}, {}, on {} over version {} of the description{}",
                    s.signer_name,
                    s.signer_title,
                    s.signed_at.get(..10).unwrap_or(&s.signed_at),
                    s.description_version,
                    if s.outdated {
                        " (outdated: the description has changed since it was signed)"
                    } else {
                        ""
                    }
                ),
            )),
            (None, Some(d)) => Some((d.text(), "Draft: not signed yet".into())),
            (None, None) => None,
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn narrative_of(r: &AnyRow) -> Result<Narrative, StoreError> {
    Ok(Narrative {
        part: r.try_get("part")?,
        version: r.try_get("version")?,
        text: r.try_get("body")?,
        author: r.try_get("written_by")?,
        written_at: evident_core::evidence::rfc3339(r.try_get("written_at")?),
    })
}

fn approval_of(r: &AnyRow) -> Result<(Approval, String), StoreError> {
    Ok((
        Approval {
            version: r.try_get("version")?,
            sha256: r.try_get("sha256")?,
            approved_by: r.try_get("approved_by")?,
            approved_at: evident_core::evidence::rfc3339(r.try_get("approved_at")?),
        },
        r.try_get("content")?,
    ))
}

fn list(v: &Value) -> Vec<String> {
    v.as_list().to_vec()
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl Workspace {
    /// Everything the description is drafted from, as of `today`.
    pub async fn description_input(&self, today: time::Date) -> Result<Input, StoreError> {
        let record = self.scope().await?;
        let (departments, employment) = self.head_counts(today).await?;
        let assets = self
            .records(&ASSETS)
            .await?
            .into_iter()
            .map(|a| {
                let r = &a.record;
                AssetLine {
                    name: r.get("name").to_text(),
                    kind: r.get("kind").to_text(),
                    classification: r.get("classification").to_text(),
                    in_scope: matches!(r.get("in_scope"), Value::Bool(true)),
                }
            })
            .collect();
        let events = self
            .records(&EVENTS)
            .await?
            .into_iter()
            .filter_map(|e| {
                let r = &e.record;
                Some(EventLine {
                    id: r.get("id").to_text(),
                    kind: r.get("kind").to_text(),
                    title: r.get("title").to_text(),
                    date: r.get("date").as_date()?,
                    summary: text(r.get("summary")),
                    outcome: text(r.get("outcome")),
                })
            })
            .collect();
        let vendors = self
            .records(&VENDORS)
            .await?
            .into_iter()
            .map(|v| {
                let r = &v.record;
                VendorLine {
                    name: r.get("name").to_text(),
                    service: text(r.get("service")),
                    tier: r.get("tier").to_text(),
                    data_categories: list(r.get("data_categories")),
                    cuecs: list(r.get("cuecs")),
                    subservice: text(r.get("subservice")),
                    dependent_criteria: list(r.get("dependent_criteria")),
                    csocs: list(r.get("csocs")),
                    report_period_end: r.get("report_period_end").as_date(),
                }
            })
            .collect();
        let mut policies = Vec::new();
        for p in self.policies().await? {
            if let Some(v) = p.published()
                && let Some(on) = v.published_at.and_then(date_of_ms)
            {
                policies.push(PolicyLine {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    version: v.version,
                    published_on: on,
                });
            }
        }
        let controls = self
            .controls()
            .await?
            .into_iter()
            .map(|c| ControlLine {
                code: c.code,
                title: c.title,
                criteria: c.criteria,
                na_reason: c.na_reason,
            })
            .collect();
        let changes = match &record.scope {
            Some(s) => {
                let (from, to) = evident_core::description::period(s);
                self.significant_changes(day_start_ms(from), day_start_ms(to + time::Duration::days(1)))
                    .await?
            }
            None => Vec::new(),
        };
        let mut narratives: Vec<Narrative> = Vec::new();
        for r in sqlx::query(SELECT_NARRATIVES).fetch_all(&self.db.pool).await? {
            let n = narrative_of(&r)?;
            // Ordered by part then version: the last of each part is its latest.
            match narratives.last_mut() {
                Some(last) if last.part == n.part => *last = n,
                _ => narratives.push(n),
            }
        }
        Ok(Input {
            organisation: self.organisation.clone(),
            scope: record.scope,
            components: record.components.into_iter().map(Into::into).collect(),
            assets,
            departments,
            employment,
            policies,
            events,
            controls,
            vendors,
            changes,
            narratives,
        })
    }

    /// People employed on `today`: by department, and by employment type.
    pub(crate) async fn head_counts(&self, today: time::Date) -> Result<HeadCounts, StoreError> {
        let mut departments = std::collections::BTreeMap::<String, usize>::new();
        let mut employment = std::collections::BTreeMap::<String, usize>::new();
        for p in self.records(&PEOPLE).await? {
            let r = &p.record;
            let started = r.get("start_date").as_date().is_none_or(|s| s <= today);
            let employed = r.get("end_date").as_date().is_none_or(|e| e >= today);
            if started && employed {
                let d = r.get("department").as_str().unwrap_or("No department").to_string();
                *departments.entry(d).or_default() += 1;
                let k = r.get("employment_type").as_str().unwrap_or("employee").to_string();
                *employment.entry(k).or_default() += 1;
            }
        }
        Ok((departments.into_iter().collect(), employment.into_iter().collect()))
    }

    async fn significant_changes(&self, from_ms: i64, to_ms: i64) -> Result<Vec<ChangeLine>, StoreError> {
        let mut out = Vec::new();
        for r in sqlx::query(SELECT_CHANGES)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.db.pool)
            .await?
        {
            let at: i64 = r.try_get("at")?;
            let payload: String = r.try_get("payload")?;
            out.push(ChangeLine {
                seq: r.try_get("seq")?,
                at: date_of_ms(at).unwrap_or(time::Date::MIN),
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                subject: r.try_get("subject")?,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            });
        }
        Ok(out)
    }

    /// The description drafted from today's records.
    pub async fn description(&self, today: time::Date) -> Result<Description, StoreError> {
        Ok(describe(&self.description_input(today).await?))
    }

    /// The description with its approval, drift and assertion.
    pub async fn description_state(&self, today: time::Date) -> Result<DescriptionState, StoreError> {
        let input = self.description_input(today).await?;
        let description = describe(&input);
        let latest = match sqlx::query(SELECT_LATEST_APPROVAL)
            .fetch_optional(&self.db.pool)
            .await?
        {
            Some(r) => Some(approval_of(&r)?),
            None => None,
        };
        let drifted = match &latest {
            Some((_, content)) => drift(&stored_description(content)?, &description),
            None => Vec::new(),
        };
        let assertion = match sqlx::query(SELECT_LATEST_ASSERTION)
            .fetch_optional(&self.db.pool)
            .await?
        {
            Some(r) => {
                let version: i64 = r.try_get("description_version")?;
                let newer = latest.as_ref().is_some_and(|(a, _)| a.version > version);
                Some(SignedAssertion {
                    id: r.try_get("id")?,
                    description_version: version,
                    text: r.try_get("body")?,
                    sha256: r.try_get("sha256")?,
                    signer_name: r.try_get("signer_name")?,
                    signer_title: r.try_get("signer_title")?,
                    signed_by: r.try_get("signed_by")?,
                    signed_at: evident_core::evidence::rfc3339(r.try_get("signed_at")?),
                    outdated: newer || !drifted.is_empty(),
                })
            }
            None => None,
        };
        let draft_assertion = input.scope.as_ref().map(|s| assertion::draft(&description, s));
        Ok(DescriptionState {
            narratives: input.narratives,
            approved: latest.map(|(a, _)| a),
            drift: drifted,
            draft_assertion,
            assertion,
            description,
        })
    }

    /// The latest text of one narrative part, if written.
    pub(crate) async fn latest_narrative(&self, part: &str) -> Result<Option<String>, StoreError> {
        sqlx::query(SELECT_LATEST_NARRATIVE)
            .bind(part)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| Ok(narrative_of(&r)?.text))
            .transpose()
    }

    /// The versions of one narrative part, newest first.
    pub async fn narrative_history(&self, part: &str) -> Result<Vec<Narrative>, StoreError> {
        narrative_part(part)?;
        sqlx::query(SELECT_NARRATIVE_HISTORY)
            .bind(part)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(narrative_of)
            .collect()
    }

    /// Writes a new version of a narrative part; the same text as the latest writes nothing and
    /// answers the latest version.
    pub async fn set_narrative(&self, part: &str, body: &str) -> Result<Narrative, StoreError> {
        narrative_part(part)?;
        let body = check_narrative(body).map_err(refused)?;
        let mut tx = self.begin_write().await?;
        let latest = match sqlx::query(SELECT_LATEST_NARRATIVE)
            .bind(part)
            .fetch_optional(&mut *tx)
            .await?
        {
            Some(r) => Some(narrative_of(&r)?),
            None => None,
        };
        let version = match latest {
            Some(n) if n.text == body => return Ok(n),
            Some(n) => n.version + 1,
            None => 1,
        };
        let at = now_ms();
        sqlx::query(INSERT_NARRATIVE)
            .bind(part)
            .bind(version)
            .bind(&body)
            .bind(&self.actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "description.narrative",
            &format!("description:{part}"),
            serde_json::json!({"part": part, "version": version, "sha256": sha256(body.as_bytes())}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(Narrative {
            part: part.to_string(),
            version,
            text: body,
            author: self.actor.clone(),
            written_at: evident_core::evidence::rfc3339(at),
        })
    }

    /// Approves the description as the records say it today: a new version, frozen.
    pub async fn approve_description(&self, today: time::Date) -> Result<Approval, StoreError> {
        let description = self.description(today).await?;
        if description.report.is_none() {
            return Err(StoreError::NoScope);
        }
        let content = serde_json::to_string(&description).expect("a description serialises");
        let digest = sha256(content.as_bytes());
        let mut tx = self.begin_write().await?;
        let version = match sqlx::query(SELECT_LATEST_APPROVAL).fetch_optional(&mut *tx).await? {
            Some(r) => {
                let (latest, _) = approval_of(&r)?;
                if latest.sha256 == digest {
                    return Err(StoreError::Conflict(format!(
                        "version {} approved on {} already says exactly this; nothing was changed",
                        latest.version,
                        latest.approved_at.get(..10).unwrap_or(&latest.approved_at)
                    )));
                }
                latest.version + 1
            }
            None => 1,
        };
        let at = now_ms();
        sqlx::query(INSERT_APPROVAL)
            .bind(version)
            .bind(&content)
            .bind(&digest)
            .bind(&self.actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "description.approve",
            "description",
            serde_json::json!({"version": version, "sha256": digest, "missing": description.missing()}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(Approval {
            version,
            sha256: digest,
            approved_by: self.actor.clone(),
            approved_at: evident_core::evidence::rfc3339(at),
        })
    }

    /// Management signs the assertion over the latest approved description, which must still
    /// be what the records say.
    pub async fn sign_assertion(
        &self,
        today: time::Date,
        signer_name: &str,
        signer_title: &str,
    ) -> Result<SignedAssertion, StoreError> {
        let name = check_signer("name", signer_name).map_err(refused)?;
        let title = check_signer("title", signer_title).map_err(refused)?;
        let state = self.description_state(today).await?;
        let Some(approved) = &state.approved else {
            return Err(StoreError::Conflict(
                "the description has not been approved yet; approve it before management signs the assertion".into(),
            ));
        };
        if !state.drift.is_empty() {
            return Err(StoreError::Conflict(format!(
                "the records changed since version {} of the description was approved ({} statements differ); \
                 review the drift and approve the description again before signing",
                approved.version,
                state.drift.len()
            )));
        }
        // Without drift the approved version says what today's draft says, statement for statement.
        let body = state.draft_assertion.as_ref().ok_or(StoreError::NoScope)?.text();
        let digest = sha256(body.as_bytes());
        let id = ulid::Ulid::new().to_string();
        let at = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_ASSERTION)
            .bind(&id)
            .bind(approved.version)
            .bind(&body)
            .bind(&digest)
            .bind(&name)
            .bind(&title)
            .bind(&self.actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "description.assertion.sign",
            &format!("assertion:{id}"),
            serde_json::json!({
                "description_version": approved.version,
                "sha256": digest,
                "signer_name": name,
                "signer_title": title,
            }),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(SignedAssertion {
            id,
            description_version: approved.version,
            text: body,
            sha256: digest,
            signer_name: name,
            signer_title: title,
            signed_by: self.actor.clone(),
            signed_at: evident_core::evidence::rfc3339(at),
            outdated: false,
        })
    }
}

/// (department, people), (employment type, people).
pub(crate) type HeadCounts = (Vec<(String, usize)>, Vec<(String, usize)>);

fn stored_description(content: &str) -> Result<Description, StoreError> {
    serde_json::from_str(content)
        .map_err(|e| StoreError::Config(format!("a stored description approval cannot be read: {e}")))
}

fn narrative_part(part: &str) -> Result<(), StoreError> {
    if evident_core::description::is_narrative(part) {
        Ok(())
    } else {
        Err(StoreError::Field {
            field: "part",
            reason: format!(
                "'{part}' is not a narrative part (allowed: {})",
                evident_core::description::narrative_keys().join(", ")
            ),
        })
    }
}

fn refused(e: TextRefused) -> StoreError {
    StoreError::Field {
        field: e.field,
        reason: e.reason,
    }
}

impl From<crate::ComponentRecord> for evident_core::oscal::SystemComponent {
    fn from(c: crate::ComponentRecord) -> Self {
        evident_core::oscal::SystemComponent {
            kind: c.kind.as_str().to_string(),
            name: c.name,
            in_scope: c.in_scope,
            reason: c.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_changes_query_reads_every_significant_prefix() {
        for p in evident_core::description::SIGNIFICANT_PREFIXES {
            let like = format!("'{p}%'");
            let exact = format!("= '{p}'");
            assert!(
                super::SELECT_CHANGES.contains(&like) || super::SELECT_CHANGES.contains(&exact),
                "{p} is not read"
            );
        }
    }
}
