//! The organisation's controls: adoption of the library, listing, owners, applicability rulings.

use std::collections::{BTreeMap, HashMap};

use evident_catalog::{Catalog, ControlType, EvidenceRequirement, Execution, Frequency, Nature, OwnerRole, Refresh};
use evident_core::Control;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const INSERT_CONTROL: &str = "INSERT INTO controls (id, code, template_id, area, title, description, frequency, \
     nature_type, execution, owner_role, owner_email, testing, na_reason, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL, $12, $12)";
const INSERT_CONTROL_CRITERION: &str =
    "INSERT INTO control_criteria (control_id, framework, criterion_id, position) VALUES ($1, $2, $3, $4)";
const SELECT_CODES: &str = "SELECT code, template_id FROM controls";
const INSERT_REQUIREMENT: &str = "INSERT INTO control_evidence_requirements (control_id, key, title, refresh, position) \
     VALUES ($1, $2, $3, $4, $5)";

/// The control columns every query reads, in one place.
macro_rules! select_controls {
    () => {
        "SELECT id, code, template_id, area, title, description, frequency, nature_type, execution, owner_role, \
         owner_email, testing, na_reason FROM controls"
    };
}
const SELECT_CONTROLS: &str = concat!(select_controls!(), " ORDER BY code");
const SELECT_CONTROL_BY_CODE: &str = concat!(select_controls!(), " WHERE code = $1");
const SELECT_ALL_CRITERIA: &str = "SELECT control_id, criterion_id FROM control_criteria ORDER BY control_id, position";
const SELECT_CRITERIA_OF: &str =
    "SELECT control_id, criterion_id FROM control_criteria WHERE control_id = $1 ORDER BY position";
const SELECT_ALL_REQUIREMENTS: &str =
    "SELECT control_id, key, title, refresh FROM control_evidence_requirements ORDER BY control_id, position";
const SELECT_REQUIREMENTS_OF: &str = "SELECT control_id, key, title, refresh FROM control_evidence_requirements \
     WHERE control_id = $1 ORDER BY position";
const UPDATE_OWNER: &str = "UPDATE controls SET owner_email = $1, updated_at = $2 WHERE code = $3";
const UPDATE_NA: &str = "UPDATE controls SET na_reason = $1, updated_at = $2 WHERE code = $3";

/// Adopts every library template as a control; returns how many.
pub(crate) async fn adopt_library(
    tx: &mut Transaction<'_, Any>,
    catalog: &Catalog,
    now: i64,
) -> Result<usize, StoreError> {
    let all: Vec<&evident_catalog::ControlTemplate> = catalog.library.controls.iter().collect();
    adopt_templates(tx, catalog, &all, now).await
}

async fn adopt_templates(
    tx: &mut Transaction<'_, Any>,
    catalog: &Catalog,
    templates: &[&evident_catalog::ControlTemplate],
    now: i64,
) -> Result<usize, StoreError> {
    let framework = catalog.framework.id();
    for t in templates {
        let id = ulid::Ulid::new().to_string();
        sqlx::query(INSERT_CONTROL)
            .bind(&id)
            .bind(&t.id)
            .bind(&t.id)
            .bind(&t.area)
            .bind(&t.title)
            .bind(&t.description)
            .bind(t.frequency.as_str())
            .bind(t.nature.kind.as_str())
            .bind(t.nature.execution.as_str())
            .bind(t.owner_role.as_str())
            .bind(t.testing.as_deref())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        for (i, k) in t.criteria.iter().enumerate() {
            sqlx::query(INSERT_CONTROL_CRITERION)
                .bind(&id)
                .bind(framework)
                .bind(k)
                .bind(i as i64)
                .execute(&mut **tx)
                .await?;
        }
        for (i, e) in t.evidence.iter().enumerate() {
            sqlx::query(INSERT_REQUIREMENT)
                .bind(&id)
                .bind(&e.key)
                .bind(&e.title)
                .bind(e.refresh.as_str())
                .bind(i as i64)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(templates.len())
}

fn corrupt(field: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("stored control has an invalid {field}: {e}"))
}

fn control_from_row(row: &AnyRow) -> Result<Control, StoreError> {
    let text = |c: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(c)?) };
    Ok(Control {
        id: evident_core::RowId::new(text("id")?),
        code: text("code")?,
        template_id: row.try_get("template_id")?,
        area: text("area")?,
        title: text("title")?,
        description: text("description")?,
        frequency: Frequency::parse(&text("frequency")?).map_err(|e| corrupt("frequency", e))?,
        nature: Nature {
            kind: ControlType::parse(&text("nature_type")?).map_err(|e| corrupt("nature", e))?,
            execution: Execution::parse(&text("execution")?).map_err(|e| corrupt("execution", e))?,
        },
        owner_role: OwnerRole::parse(&text("owner_role")?).map_err(|e| corrupt("owner role", e))?,
        owner_email: row.try_get("owner_email")?,
        testing: row.try_get("testing")?,
        criteria: Vec::new(),
        evidence: Vec::new(),
        na_reason: row.try_get("na_reason")?,
    })
}

fn requirement_from_row(row: &AnyRow) -> Result<(String, EvidenceRequirement), StoreError> {
    let refresh: String = row.try_get("refresh")?;
    Ok((
        row.try_get("control_id")?,
        EvidenceRequirement {
            key: row.try_get("key")?,
            title: row.try_get("title")?,
            refresh: Refresh::parse(&refresh).map_err(|e| corrupt("refresh", e))?,
        },
    ))
}

/// Control codes are written in capitals; people may type them in any case.
fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

impl Workspace {
    /// Every control with its criteria and evidence requirements, ordered by code.
    /// The adopted controls an import kind or a connector delivers evidence for, as the content
    /// says (`collected_by:`), as links with no particular requirement.
    pub async fn collected_by(&self, source: &str) -> Result<Vec<crate::LinkTo>, StoreError> {
        Ok(self
            .stored_controls()
            .await?
            .into_iter()
            .filter(|c| c.collected_by(source))
            .map(|c| crate::LinkTo::control(c.code))
            .collect())
    }

    /// Adopts library controls the workspace does not have yet (a content update's new
    /// controls): `ids` names them, or, empty, every one not adopted. A control already adopted,
    /// or not in the library, is refused by name and nothing is adopted. Returns the codes.
    pub async fn adopt_controls(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let catalog = Catalog::builtin();
        // Read under the writer's lock, so two adoptions at once cannot both add a control.
        let mut tx = self.begin_write().await?;
        let existing: Vec<(String, Option<String>)> = sqlx::query(SELECT_CODES)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("template_id")?)))
            .collect::<Result<_, StoreError>>()?;
        let adopted = |id: &str| {
            existing.iter().any(|(code, template)| {
                code.eq_ignore_ascii_case(id) || template.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(id))
            })
        };
        let mut templates = Vec::new();
        if ids.is_empty() {
            templates.extend(catalog.library.controls.iter().filter(|t| !adopted(&t.id)));
        }
        for id in ids {
            let t = catalog.library.control(id.trim()).ok_or_else(|| StoreError::Field {
                field: "controls",
                reason: format!(
                    "'{}' is not a control of the library (evident catalog controls)",
                    id.trim()
                ),
            })?;
            if adopted(&t.id) {
                return Err(StoreError::Conflict(format!(
                    "{} is already adopted; nothing was changed",
                    t.id
                )));
            }
            if !templates
                .iter()
                .any(|x: &&evident_catalog::ControlTemplate| x.id == t.id)
            {
                templates.push(t);
            }
        }
        if templates.is_empty() {
            return Ok(Vec::new());
        }
        let codes: Vec<String> = templates.iter().map(|t| t.id.clone()).collect();
        adopt_templates(&mut tx, catalog, &templates, now_ms()).await?;
        self.log(&mut tx, "controls.adopt", "controls", json!({"controls": codes}))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(codes)
    }

    /// The controls with their text as people read it (policy parameters filled in).
    pub async fn controls(&self) -> Result<Vec<Control>, StoreError> {
        let mut controls = self.stored_controls().await?;
        let values = self.parameter_values().await?;
        for c in &mut controls {
            render_text(c, &values);
        }
        Ok(controls)
    }

    /// The controls as stored: for checks on writes, which read codes, templates and
    /// requirements, never the text.
    pub(crate) async fn stored_controls(&self) -> Result<Vec<Control>, StoreError> {
        let pool = &self.db.pool;
        let mut controls: Vec<Control> = sqlx::query(SELECT_CONTROLS)
            .fetch_all(pool)
            .await?
            .iter()
            .map(control_from_row)
            .collect::<Result<_, _>>()?;
        let index: HashMap<String, usize> = controls
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.to_string(), i))
            .collect();
        for row in sqlx::query(SELECT_ALL_CRITERIA).fetch_all(pool).await? {
            let control_id: String = row.try_get("control_id")?;
            if let Some(&i) = index.get(&control_id) {
                controls[i].criteria.push(row.try_get("criterion_id")?);
            }
        }
        for row in sqlx::query(SELECT_ALL_REQUIREMENTS).fetch_all(pool).await? {
            let (control_id, req) = requirement_from_row(&row)?;
            if let Some(&i) = index.get(&control_id) {
                controls[i].evidence.push(req);
            }
        }
        Ok(controls)
    }

    /// The organisation's policy parameter values by key (keys are unique across policies).
    pub(crate) async fn parameter_values(&self) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.parameters().await?.into_iter().map(|p| (p.key, p.value)).collect())
    }

    pub async fn control(&self, code: &str) -> Result<Control, StoreError> {
        let mut control = self.stored_control(code).await?.ok_or_else(|| StoreError::NotFound {
            kind: "control",
            id: code.to_string(),
        })?;
        render_text(&mut control, &self.parameter_values().await?);
        Ok(control)
    }

    /// One control as stored (its text not rendered), None when no control has that code: what
    /// a write checks against (code, owner, requirements) without reading every control.
    pub async fn stored_control(&self, code: &str) -> Result<Option<Control>, StoreError> {
        let pool = &self.db.pool;
        let Some(row) = sqlx::query(SELECT_CONTROL_BY_CODE)
            .bind(normalise_code(code))
            .fetch_optional(pool)
            .await?
        else {
            return Ok(None);
        };
        let mut control = control_from_row(&row)?;
        for row in sqlx::query(SELECT_CRITERIA_OF)
            .bind(control.id.as_str())
            .fetch_all(pool)
            .await?
        {
            control.criteria.push(row.try_get("criterion_id")?);
        }
        for row in sqlx::query(SELECT_REQUIREMENTS_OF)
            .bind(control.id.as_str())
            .fetch_all(pool)
            .await?
        {
            control.evidence.push(requirement_from_row(&row)?.1);
        }
        Ok(Some(control))
    }

    /// Sets (or, with `None`, clears) the person who owns a control.
    pub async fn set_control_owner(&self, code: &str, email: Option<&str>) -> Result<Control, StoreError> {
        self.update_control(UPDATE_OWNER, "control.owner.set", code, "owner", email)
            .await
    }

    /// Records a person's ruling that a control does not apply (`Some(reason)`) or withdraws it.
    pub async fn set_control_not_applicable(&self, code: &str, reason: Option<&str>) -> Result<Control, StoreError> {
        let action = if reason.is_some() {
            "control.not_applicable.set"
        } else {
            "control.not_applicable.clear"
        };
        self.update_control(UPDATE_NA, action, code, "na_reason", reason).await
    }

    async fn update_control(
        &self,
        sql: &'static str,
        action: &str,
        code: &str,
        field: &str,
        value: Option<&str>,
    ) -> Result<Control, StoreError> {
        let code = normalise_code(code);
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sql)
            .bind(value)
            .bind(now_ms())
            .bind(&code)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                kind: "control",
                id: code,
            });
        }
        self.log(&mut tx, action, &format!("control:{code}"), json!({ field: value }))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        self.control(&code).await
    }
}

/// A control's text as people read it: numbers a policy parameterises (`{{param.<policy>.<key>}}`
/// in the library's text) replaced by the organisation's current value, so the control never
/// contradicts its policy after a parameter changes. Stored text keeps the placeholder.
fn render_text(c: &mut Control, values: &BTreeMap<String, String>) {
    let policies = &evident_catalog::Catalog::builtin().policies;
    let render = |t: &str| evident_catalog::render_control_text(t, policies, values);
    c.title = render(&c.title);
    c.description = render(&c.description);
    c.testing = c.testing.as_deref().map(render);
}
