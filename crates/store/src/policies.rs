//! Policies: Markdown with placeholders for the organisation's name, role holders and
//! parameters; versions that are never edited once made; draft → approved → published; and
//! acceptance recorded per person per published version.

use std::collections::{BTreeMap, HashMap, HashSet};

use evident_catalog::{Catalog, POLICY_ROLES, PolicyTemplate};
use evident_core::ledger::sha256_hex;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::bulk::{Cell, insert_rows};
use crate::clock::now_ms;
use crate::{StoreError, Workspace};
pub use evident_core::policy::{Acceptance, Parameter, Policy, PolicyStatus, PolicyStep, PolicyVersion};

const SELECT_POLICIES: &str = "SELECT id, ref, title, owner_role, review_interval_months, template_id, source \
     FROM policies ORDER BY ref";
const SELECT_POLICY: &str = "SELECT id, ref, title, owner_role, review_interval_months, template_id, source \
     FROM policies WHERE ref = $1";
const INSERT_POLICY: &str = "INSERT INTO policies (id, ref, title, owner_role, review_interval_months, template_id, \
     source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";
const UPDATE_POLICY_SOURCE: &str = "UPDATE policies SET source = $1, title = $2, updated_at = $3 WHERE id = $4";
const INSERT_POLICY_CONTROL: &str = "INSERT INTO policy_controls (policy_id, control_id) \
     SELECT $1, id FROM controls WHERE code = $2";
const SELECT_POLICY_CONTROLS: &str = "SELECT c.code FROM policy_controls pc JOIN controls c ON c.id = pc.control_id \
     WHERE pc.policy_id = $1 ORDER BY c.code";
const INSERT_PARAMETER: &str =
    "INSERT INTO policy_parameters (policy_id, key, label, kind, unit, value) VALUES ($1, $2, $3, $4, $5, $6)";
const UPDATE_PARAMETER: &str = "UPDATE policy_parameters SET value = $1 WHERE policy_id = $2 AND key = $3";
const SELECT_PARAMETERS: &str = "SELECT p.ref, pp.key, pp.label, pp.kind, pp.unit, pp.value FROM policy_parameters pp \
     JOIN policies p ON p.id = pp.policy_id ORDER BY p.ref, pp.key";
const SELECT_VERSIONS: &str = "SELECT version, body, body_sha256, status, created_at, created_by, approved_at, \
     approved_by, published_at, published_by FROM policy_versions WHERE policy_id = $1 ORDER BY version";
const INSERT_VERSION: &str = "INSERT INTO policy_versions (id, policy_id, version, body, body_sha256, status, \
     created_at, created_by) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7)";
const APPROVE_VERSION: &str = "UPDATE policy_versions SET status = 'approved', approved_at = $1, approved_by = $2 \
     WHERE policy_id = $3 AND version = $4";
const RETIRE_PUBLISHED: &str =
    "UPDATE policy_versions SET status = 'retired' WHERE policy_id = $1 AND status = 'published'";
const PUBLISH_VERSION: &str = "UPDATE policy_versions SET status = 'published', published_at = $1, published_by = $2 \
     WHERE policy_id = $3 AND version = $4";
const SELECT_ROLES: &str = "SELECT role, holder FROM org_roles";
const UPSERT_ROLE: &str = "INSERT INTO org_roles (role, holder, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, updated_at = excluded.updated_at";
const INSERT_ACCEPTANCE: &str = "INSERT INTO policy_acceptances (policy_id, version, email, accepted_at, recorded_by) \
     VALUES ($1, $2, $3, $4, $5)";
const SELECT_ACCEPTANCES: &str =
    "SELECT version, email, accepted_at, recorded_by FROM policy_acceptances WHERE policy_id = $1 ORDER BY email";
const PERSON_EXISTS: &str = "SELECT email FROM people WHERE email = $1";

/// The text of a role placeholder when nobody has been named: "the Security Officer".
fn default_role(role: &str) -> String {
    let words: Vec<String> = role
        .split('_')
        .map(|w| match w {
            "ceo" | "cto" => w.to_uppercase(),
            "it" | "hr" => w.to_uppercase(),
            w => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect();
    format!("the {}", words.join(" "))
}

/// Fills placeholders; unknown ones are left visible rather than silently dropped.
pub fn render(
    source: &str,
    organisation: &str,
    roles: &BTreeMap<String, String>,
    params: &BTreeMap<String, String>,
) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start + 2..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = rest[start + 2..start + 2 + len].trim();
        let value = if name == "organisation" {
            Some(organisation.to_string())
        } else if let Some(r) = name.strip_prefix("role.") {
            roles
                .get(r)
                .cloned()
                .or_else(|| POLICY_ROLES.contains(&r).then(|| default_role(r)))
        } else if let Some(k) = name.strip_prefix("param.") {
            params.get(k).cloned()
        } else {
            None
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + 2 + len + 2]),
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

fn version_from_row(r: &AnyRow) -> Result<PolicyVersion, StoreError> {
    Ok(PolicyVersion {
        version: r.try_get("version")?,
        body: r.try_get("body")?,
        body_sha256: r.try_get("body_sha256")?,
        status: {
            let s: String = r.try_get("status")?;
            PolicyStatus::parse(&s).map_err(|e| StoreError::Invalid(e.to_string()))?
        },
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        approved_at: r.try_get("approved_at")?,
        approved_by: r.try_get("approved_by")?,
        published_at: r.try_get("published_at")?,
        published_by: r.try_get("published_by")?,
    })
}

impl Workspace {
    pub async fn roles(&self) -> Result<BTreeMap<String, String>, StoreError> {
        sqlx::query(SELECT_ROLES)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("role")?, r.try_get("holder")?)))
            .collect()
    }

    pub async fn set_role(&self, role: &str, holder: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(UPSERT_ROLE)
            .bind(role)
            .bind(holder)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "org.role.set",
            &format!("role:{role}"),
            json!({"holder": holder}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    pub async fn parameters(&self) -> Result<Vec<Parameter>, StoreError> {
        sqlx::query(SELECT_PARAMETERS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Parameter {
                    policy: r.try_get("ref")?,
                    key: r.try_get("key")?,
                    label: r.try_get("label")?,
                    kind: r.try_get("kind")?,
                    unit: r.try_get("unit")?,
                    value: r.try_get("value")?,
                })
            })
            .collect()
    }

    async fn load_policy(&self, row: &AnyRow, params: &[Parameter]) -> Result<Policy, StoreError> {
        let row_id: String = row.try_get("id")?;
        let id: String = row.try_get("ref")?;
        let controls = sqlx::query(SELECT_POLICY_CONTROLS)
            .bind(&row_id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| r.try_get("code"))
            .collect::<Result<_, _>>()?;
        let versions = sqlx::query(SELECT_VERSIONS)
            .bind(&row_id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(version_from_row)
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            parameters: params.iter().filter(|p| p.policy == id).cloned().collect(),
            title: row.try_get("title")?,
            owner_role: row.try_get("owner_role")?,
            review_interval_months: row.try_get("review_interval_months")?,
            template_id: row.try_get("template_id")?,
            source: row.try_get("source")?,
            row_id: evident_core::RowId::new(row_id),
            id,
            controls,
            versions,
        })
    }

    pub async fn policies(&self) -> Result<Vec<Policy>, StoreError> {
        let params = self.parameters().await?;
        let mut out = Vec::new();
        for row in sqlx::query(SELECT_POLICIES).fetch_all(&self.db.pool).await? {
            out.push(self.load_policy(&row, &params).await?);
        }
        Ok(out)
    }

    pub async fn policy(&self, id: &str) -> Result<Policy, StoreError> {
        let id = id.trim().to_lowercase();
        let row = sqlx::query(SELECT_POLICY)
            .bind(&id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "policy",
                id: id.clone(),
            })?;
        let params = self.parameters().await?;
        self.load_policy(&row, &params).await
    }

    async fn add_version(
        &self,
        tx: &mut Transaction<'static, Any>,
        policy: &Policy,
        source: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let roles = self.roles().await?;
        let params: BTreeMap<String, String> = policy
            .parameters
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let body = render(source, &self.organisation, &roles, &params);
        let version = policy.latest().map(|v| v.version + 1).unwrap_or(1);
        sqlx::query(INSERT_VERSION)
            .bind(ulid::Ulid::new().to_string())
            .bind(policy.row_id.as_str())
            .bind(version)
            .bind(&body)
            .bind(sha256_hex(body.as_bytes()))
            .bind(at)
            .bind(&self.actor)
            .execute(&mut **tx)
            .await?;
        Ok(version)
    }

    /// Adopts library templates not yet adopted, each as a version-1 draft.
    pub async fn adopt_policies(&self, templates: &[&PolicyTemplate]) -> Result<Vec<String>, StoreError> {
        self.adopt_policies_at(templates, None).await
    }

    /// `adopt_policies`, the drafts made now or `dated` (the generator's, see `acting`, which
    /// the audit entry states).
    pub(crate) async fn adopt_policies_at(
        &self,
        templates: &[&PolicyTemplate],
        dated: Option<i64>,
    ) -> Result<Vec<String>, StoreError> {
        let at = dated.unwrap_or_else(now_ms);
        let existing: Vec<String> = self.policies().await?.into_iter().map(|p| p.id).collect();
        let mut adopted = Vec::new();
        let mut tx = self.begin_write().await?;
        for t in templates.iter().filter(|t| !existing.contains(&t.id)) {
            let row_id = ulid::Ulid::new().to_string();
            sqlx::query(INSERT_POLICY)
                .bind(&row_id)
                .bind(&t.id)
                .bind(&t.title)
                .bind(t.owner_role.as_str())
                .bind(i64::from(t.review_interval_months))
                .bind(&t.id)
                .bind(&t.body)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            for c in &t.controls {
                sqlx::query(INSERT_POLICY_CONTROL)
                    .bind(&row_id)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut parameters = Vec::new();
            for p in &t.parameters {
                sqlx::query(INSERT_PARAMETER)
                    .bind(&row_id)
                    .bind(&p.key)
                    .bind(&p.label)
                    .bind(&p.kind)
                    .bind(&p.unit)
                    .bind(p.default_text())
                    .execute(&mut *tx)
                    .await?;
                parameters.push(Parameter {
                    policy: t.id.clone(),
                    key: p.key.clone(),
                    label: p.label.clone(),
                    kind: p.kind.clone(),
                    unit: p.unit.clone(),
                    value: p.default_text(),
                });
            }
            let policy = Policy {
                row_id: evident_core::RowId::new(row_id.clone()),
                id: t.id.clone(),
                title: t.title.clone(),
                owner_role: t.owner_role.to_string(),
                review_interval_months: t.review_interval_months.into(),
                template_id: Some(t.id.clone()),
                source: t.body.clone(),
                controls: t.controls.clone(),
                parameters,
                versions: Vec::new(),
            };
            self.add_version(&mut tx, &policy, &t.body, at).await?;
            adopted.push(t.id.clone());
        }
        if adopted.is_empty() {
            return Ok(adopted);
        }
        let mut payload = json!({"adopted": adopted});
        if let Some(at) = dated {
            payload["dated"] = json!(at);
        }
        self.log(&mut tx, "policies.adopt", "policies", payload).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(adopted)
    }

    /// A new draft version from edited Markdown (which may keep using placeholders).
    pub async fn edit_policy(&self, id: &str, title: Option<&str>, source: Option<&str>) -> Result<i64, StoreError> {
        let policy = self.policy(id).await?;
        let source = source.unwrap_or(&policy.source);
        let title = title.unwrap_or(&policy.title);
        let mut tx = self.begin_write().await?;
        sqlx::query(UPDATE_POLICY_SOURCE)
            .bind(source)
            .bind(title)
            .bind(now_ms())
            .bind(policy.row_id.as_str())
            .execute(&mut *tx)
            .await?;
        let version = self.add_version(&mut tx, &policy, source, now_ms()).await?;
        let payload = json!({"version": version, "title": title, "source_sha256": sha256_hex(source.as_bytes())});
        self.log(&mut tx, "policies.edit", &format!("policy:{}", policy.id), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(version)
    }

    /// Changes a parameter and makes the new draft version that states it.
    pub async fn set_parameter(&self, id: &str, key: &str, value: &str) -> Result<i64, StoreError> {
        let mut policy = self.policy(id).await?;
        let Some(param) = policy.parameters.iter_mut().find(|p| p.key == key) else {
            let keys: Vec<&str> = policy.parameters.iter().map(|p| p.key.as_str()).collect();
            return Err(StoreError::Conflict(format!(
                "{} has no parameter '{key}' (parameters: {})",
                policy.id,
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                }
            )));
        };
        let ok = match param.kind.as_str() {
            "integer" => value.trim().parse::<i64>().is_ok(),
            "boolean" => matches!(value.trim(), "true" | "false"),
            _ => !value.trim().is_empty(),
        };
        if !ok {
            return Err(StoreError::Conflict(format!(
                "VALUE: '{value}' is not a valid {} for {key}",
                param.kind
            )));
        }
        param.value = value.trim().to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query(UPDATE_PARAMETER)
            .bind(value.trim())
            .bind(policy.row_id.as_str())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let source = policy.source.clone();
        let version = self.add_version(&mut tx, &policy, &source, now_ms()).await?;
        let payload = json!({"key": key, "value": value.trim(), "version": version});
        self.log(
            &mut tx,
            "policies.parameter.set",
            &format!("policy:{}", policy.id),
            payload,
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(version)
    }

    /// Approves the latest version, which must be a draft.
    pub async fn approve_policy(&self, id: &str) -> Result<i64, StoreError> {
        self.advance_policy(id, PolicyStep::Approve, None).await
    }

    /// Publishes the latest version, which must be approved; the previous one is retired.
    pub async fn publish_policy(&self, id: &str) -> Result<i64, StoreError> {
        self.advance_policy(id, PolicyStep::Publish, None).await
    }

    /// Moves the latest version one step along draft → approved → published (the rule is
    /// `Policy::check_step`), recording who and when: now, or `dated` (the generator's, see
    /// `acting`, which the audit entry states).
    pub(crate) async fn advance_policy(
        &self,
        id: &str,
        step: PolicyStep,
        dated: Option<i64>,
    ) -> Result<i64, StoreError> {
        let policy = self.policy(id).await?;
        let latest = policy.check_step(step).map_err(StoreError::Conflict)?;
        let mut tx = self.begin_write().await?;
        if step == PolicyStep::Publish {
            sqlx::query(RETIRE_PUBLISHED)
                .bind(policy.row_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let sql = if step == PolicyStep::Publish {
            PUBLISH_VERSION
        } else {
            APPROVE_VERSION
        };
        sqlx::query(sql)
            .bind(dated.unwrap_or_else(now_ms))
            .bind(&self.actor)
            .bind(policy.row_id.as_str())
            .bind(latest.version)
            .execute(&mut *tx)
            .await?;
        let mut payload = json!({"version": latest.version, "body_sha256": latest.body_sha256});
        if let Some(at) = dated {
            payload["dated"] = json!(at);
        }
        self.log(
            &mut tx,
            &format!("policies.{}", step.as_str()),
            &format!("policy:{}", policy.id),
            payload,
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(latest.version)
    }

    /// Records that a person accepted the published version (or `version`, which must be it).
    pub async fn accept_policy(&self, id: &str, email: &str, version: Option<i64>) -> Result<i64, StoreError> {
        let policy = self.policy(id).await?;
        let published = policy
            .published()
            .ok_or_else(|| StoreError::Conflict(format!("{} has no published version to accept", policy.id)))?;
        if let Some(v) = version.filter(|v| *v != published.version) {
            return Err(StoreError::Conflict(format!(
                "--version: {} version {v} is not the published one (version {} is)",
                policy.id, published.version
            )));
        }
        if !self.person_exists(email).await? {
            return Err(StoreError::NotFound {
                kind: "person",
                id: email.to_string(),
            });
        }
        if self
            .acceptances(&policy)
            .await?
            .iter()
            .any(|a| a.email == email && a.version == published.version)
        {
            return Err(StoreError::Conflict(format!(
                "{email} already accepted {} version {}",
                policy.id, published.version
            )));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_ACCEPTANCE)
            .bind(policy.row_id.as_str())
            .bind(published.version)
            .bind(email)
            .bind(now_ms())
            .bind(&self.actor)
            .execute(&mut *tx)
            .await?;
        let payload = json!({"email": email, "version": published.version, "body_sha256": published.body_sha256});
        self.log(&mut tx, "policies.accept", &format!("policy:{}", policy.id), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(published.version)
    }

    /// Whether the people register holds this email (acceptances are recorded against people).
    pub async fn person_exists(&self, email: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query(PERSON_EXISTS)
            .bind(email)
            .fetch_optional(&self.db.pool)
            .await?
            .is_some())
    }

    /// The emails of everyone employed on `day` (started, not yet left): who must accept the
    /// published policies.
    pub async fn staff_on(&self, day: time::Date) -> Result<Vec<String>, StoreError> {
        Ok(self
            .records(&evident_core::registers::PEOPLE)
            .await?
            .into_iter()
            .filter(|r| evident_core::registers::employed_on(&r.record, day))
            .filter_map(|r| r.record.get("email").as_str().map(str::to_string))
            .collect())
    }

    /// Whether `email` is on the staff on `day` (the rule of [`Workspace::staff_on`], for one
    /// person: one row read, not the whole register).
    pub async fn is_staff(&self, email: &str, day: time::Date) -> Result<bool, StoreError> {
        match self.record(&evident_core::registers::PEOPLE, email).await {
            Ok(r) => Ok(evident_core::registers::employed_on(&r.record, day)),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// How many of `staff` accepted the version in force: (accepted, required).
    pub async fn acceptance_count(&self, policy: &Policy, staff: &[String]) -> Result<(usize, usize), StoreError> {
        // A set: on a large staff a list lookup per acceptance was quadratic (1.8 s for the
        // policy list on 10,000 people).
        let members: std::collections::HashSet<&str> = staff.iter().map(String::as_str).collect();
        let accepted = match policy.published() {
            Some(v) => self
                .acceptances(policy)
                .await?
                .iter()
                .filter(|a| a.version == v.version && members.contains(a.email.as_str()))
                .count(),
            None => 0,
        };
        Ok((accepted, staff.len()))
    }

    pub async fn acceptances(&self, policy: &Policy) -> Result<Vec<Acceptance>, StoreError> {
        sqlx::query(SELECT_ACCEPTANCES)
            .bind(policy.row_id.as_str())
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Acceptance {
                    version: r.try_get("version")?,
                    email: r.try_get("email")?,
                    accepted_at: r.try_get("accepted_at")?,
                    recorded_by: r.try_get("recorded_by")?,
                })
            })
            .collect()
    }
}

impl Workspace {
    /// Records acceptances gathered elsewhere (an LMS, an e-signature export) in one
    /// transaction; ones already recorded are skipped. Returns how many were new.
    pub async fn record_acceptances(
        &self,
        rows: &[(String, i64, String, i64)],
        context: serde_json::Value,
    ) -> Result<usize, StoreError> {
        let mut new = Vec::new();
        let mut cells = Vec::new();
        let policies = self.policies().await?;
        // Who already accepted what, loaded once per policy rather than once per row.
        let mut accepted: HashMap<String, HashSet<(i64, String)>> = HashMap::new();
        for (policy_ref, version, email, at) in rows {
            let policy = policies
                .iter()
                .find(|p| &p.id == policy_ref)
                .ok_or_else(|| StoreError::NotFound {
                    kind: "policy",
                    id: policy_ref.clone(),
                })?;
            if !accepted.contains_key(&policy.id) {
                let done = self
                    .acceptances(policy)
                    .await?
                    .into_iter()
                    .map(|a| (a.version, a.email))
                    .collect();
                accepted.insert(policy.id.clone(), done);
            }
            let done = accepted.get_mut(&policy.id).expect("loaded above");
            if !done.insert((*version, email.clone())) {
                continue;
            }
            cells.push(vec![
                Cell::from(policy.row_id.to_string()),
                (*version).into(),
                email.clone().into(),
                (*at).into(),
                self.actor.clone().into(),
            ]);
            new.push(json!({"policy": policy_ref, "version": version, "email": email, "accepted_at": at}));
        }
        let mut tx = self.begin_write().await?;
        insert_rows(
            &mut tx,
            "policy_acceptances",
            &["policy_id", "version", "email", "accepted_at", "recorded_by"],
            cells,
        )
        .await?;
        if new.is_empty() {
            return Ok(0);
        }
        let n = new.len();
        self.log(
            &mut tx,
            "policies.accept.import",
            "policies",
            json!({"context": context, "accepted": new}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(n)
    }
}

/// The library's templates, for `adopt`.
pub fn templates() -> &'static [PolicyTemplate] {
    &Catalog::builtin().policies
}
