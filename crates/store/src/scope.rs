//! The audit being prepared: its scope and the components of its system description.

use std::collections::BTreeSet;

use evident_catalog::{Catalog, Category};
use evident_core::{AuditPeriod, ComponentKind, ReportType, Scope, format_date, parse_date};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const SELECT_CURRENT_AUDIT: &str = "SELECT id, report_type, categories, as_of, window_from, window_to, status, \
     approved_by, approved_at, updated_at, created_at FROM audits ORDER BY created_at DESC, id DESC LIMIT 1";
const TOUCH_AUDIT: &str = "UPDATE audits SET updated_at = $1 WHERE id = $2";
const APPROVE_SCOPE: &str = "UPDATE audits SET approved_by = $1, approved_at = $2 WHERE id = $3";
const INSERT_AUDIT: &str = "INSERT INTO audits (id, framework, report_type, categories, as_of, window_from, \
     window_to, status, created_at, updated_at) VALUES ($1, $2, NULL, '[]', NULL, NULL, NULL, 'planning', $3, $3)";
const UPDATE_AUDIT_SCOPE: &str = "UPDATE audits SET report_type = $1, categories = $2, as_of = $3, \
     window_from = $4, window_to = $5, updated_at = $6 WHERE id = $7";
const SELECT_COMPONENTS: &str = "SELECT id, kind, name, in_scope, reason FROM scope_components WHERE audit_id = $1";
const SELECT_COMPONENT: &str = "SELECT id FROM scope_components WHERE audit_id = $1 AND kind = $2 AND name = $3";
const INSERT_COMPONENT: &str = "INSERT INTO scope_components (id, audit_id, kind, name, in_scope, reason, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
const DELETE_COMPONENT: &str = "DELETE FROM scope_components WHERE audit_id = $1 AND kind = $2 AND name = $3";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRecord {
    pub kind: ComponentKind,
    pub name: String,
    pub in_scope: bool,
    pub reason: String,
}

/// Longest component name and reason kept (a name is a line, a reason a paragraph).
const COMPONENT_NAME_CHARS: usize = 200;
const COMPONENT_REASON_CHARS: usize = 2000;

impl ComponentRecord {
    /// The component as stored: name and reason trimmed, both present, storable and of a
    /// sensible length. One rule for the CLI, the web and any later entry point.
    fn checked(&self) -> Result<ComponentRecord, StoreError> {
        let field = |field: &'static str, reason: String| StoreError::Field { field, reason };
        let name = self.name.trim();
        let reason = self.reason.trim();
        if name.is_empty() {
            return Err(field("name", "a component needs a name".into()));
        }
        if reason.is_empty() {
            return Err(field("reason", "a reason is required and cannot be empty".into()));
        }
        for (f, text, most) in [
            ("name", name, COMPONENT_NAME_CHARS),
            ("reason", reason, COMPONENT_REASON_CHARS),
        ] {
            evident_core::text::storable(text).map_err(|e| field(f, e.to_string()))?;
            if text.chars().count() > most {
                return Err(field(f, format!("at most {most} characters")));
            }
        }
        Ok(ComponentRecord {
            kind: self.kind,
            name: name.to_string(),
            in_scope: self.in_scope,
            reason: reason.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRecord {
    pub audit_id: Option<String>,
    pub status: Option<String>,
    /// Who signed the scope off and when; `outdated` when it changed since.
    pub approval: Option<(String, i64, bool)>,
    /// When the audit record was first created (the programme's kickoff).
    pub created_at: Option<i64>,
    /// `None` until `scope set` has been run.
    pub scope: Option<Scope>,
    pub components: Vec<ComponentRecord>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Config(format!("the stored audit scope has an invalid {what}"))
}

fn scope_from_row(row: &AnyRow) -> Result<Option<Scope>, StoreError> {
    let Some(n) = row.try_get::<Option<i64>, _>("report_type")? else {
        return Ok(None);
    };
    let report_type = ReportType::from_number(n).ok_or_else(|| corrupt("report type"))?;
    let names: Vec<String> =
        serde_json::from_str(&row.try_get::<String, _>("categories")?).map_err(|_| corrupt("category list"))?;
    let categories = names
        .iter()
        .map(|n| Category::parse(n).map_err(|_| corrupt("category")))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let date = |col: &str| -> Result<Option<time::Date>, StoreError> {
        row.try_get::<Option<String>, _>(col)?
            .map(|s| parse_date(&s).map_err(|_| corrupt(col)))
            .transpose()
    };
    let period = match (date("as_of")?, date("window_from")?, date("window_to")?) {
        (Some(d), None, None) => AuditPeriod::AsOf(d),
        (None, Some(from), Some(to)) => AuditPeriod::Window { from, to },
        _ => return Err(corrupt("period")),
    };
    Ok(Some(Scope {
        report_type,
        categories,
        period,
    }))
}

impl ScopeRecord {
    /// The scope as the CLI's JSON and the API show it; instants as RFC 3339.
    pub fn to_json(&self) -> serde_json::Value {
        let instant = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        };
        let components: Vec<serde_json::Value> = self
            .components
            .iter()
            .map(|c| json!({"kind": c.kind, "name": c.name, "in_scope": c.in_scope, "reason": c.reason}))
            .collect();
        let mut out = json!({
            "type": self.scope.as_ref().map(|s| s.report_type.number()),
            "categories": self.scope.as_ref().map(|s| s.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
            "components": components,
            "status": self.status,
            "approval": self.approval.as_ref().map(|(by, at, outdated)| json!({"by": by, "at": instant(*at), "outdated": outdated})),
        });
        match self.scope.as_ref().map(|s| s.period) {
            Some(AuditPeriod::AsOf(d)) => out["as_of"] = json!(format_date(d)),
            Some(AuditPeriod::Window { from, to }) => {
                out["window"] = json!({"from": format_date(from), "to": format_date(to)})
            }
            None => {}
        }
        out
    }
}

impl Workspace {
    async fn current_audit(&self) -> Result<Option<AnyRow>, StoreError> {
        Ok(sqlx::query(SELECT_CURRENT_AUDIT).fetch_optional(&self.db.pool).await?)
    }

    /// The current audit's id, creating the audit when there is none yet.
    async fn ensure_audit(&self, tx: &mut Transaction<'static, Any>) -> Result<String, StoreError> {
        if let Some(row) = sqlx::query(SELECT_CURRENT_AUDIT).fetch_optional(&mut **tx).await? {
            return Ok(row.try_get("id")?);
        }
        let id = ulid::Ulid::new().to_string();
        sqlx::query(INSERT_AUDIT)
            .bind(&id)
            .bind(Catalog::builtin().framework.id())
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        Ok(id)
    }

    /// The chosen categories, or `None` while no scope is set.
    pub async fn scope_categories(&self) -> Result<Option<BTreeSet<Category>>, StoreError> {
        Ok(self.scope().await?.scope.map(|s| s.categories))
    }

    pub async fn scope(&self) -> Result<ScopeRecord, StoreError> {
        let Some(row) = self.current_audit().await? else {
            return Ok(ScopeRecord {
                audit_id: None,
                status: None,
                approval: None,
                created_at: None,
                scope: None,
                components: Vec::new(),
            });
        };
        let audit_id: String = row.try_get("id")?;
        let mut components = Vec::new();
        for c in sqlx::query(SELECT_COMPONENTS)
            .bind(&audit_id)
            .fetch_all(&self.db.pool)
            .await?
        {
            components.push(ComponentRecord {
                kind: ComponentKind::parse(&c.try_get::<String, _>("kind")?).map_err(|_| corrupt("component kind"))?,
                name: c.try_get("name")?,
                in_scope: c.try_get::<i64, _>("in_scope")? != 0,
                reason: c.try_get("reason")?,
            });
        }
        components.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        let by: Option<String> = row.try_get("approved_by")?;
        let at: Option<i64> = row.try_get("approved_at")?;
        let updated: i64 = row.try_get("updated_at")?;
        Ok(ScopeRecord {
            approval: by.zip(at).map(|(by, at)| (by, at, updated > at)),
            created_at: Some(row.try_get("created_at")?),
            scope: scope_from_row(&row)?,
            status: Some(row.try_get("status")?),
            audit_id: Some(audit_id),
            components,
        })
    }

    pub async fn set_scope(&self, scope: &Scope) -> Result<(), StoreError> {
        let categories: Vec<&str> = scope.categories.iter().map(|c| c.as_str()).collect();
        let (as_of, from, to): (Option<String>, Option<String>, Option<String>) = match scope.period {
            AuditPeriod::AsOf(d) => (Some(format_date(d)), None, None),
            AuditPeriod::Window { from, to } => (None, Some(format_date(from)), Some(format_date(to))),
        };
        let mut tx = self.begin_write().await?;
        let audit_id = self.ensure_audit(&mut tx).await?;
        let payload = json!({
            "type": scope.report_type.number(),
            "categories": categories,
            "as_of": as_of,
            "window_from": from,
            "window_to": to,
        });
        sqlx::query(UPDATE_AUDIT_SCOPE)
            .bind(scope.report_type.number())
            .bind(serde_json::to_string(&categories).expect("strings serialise"))
            .bind(&as_of)
            .bind(&from)
            .bind(&to)
            .bind(now_ms())
            .bind(&audit_id)
            .execute(&mut *tx)
            .await?;
        if let (Some(from), Some(to)) = (&from, &to) {
            sqlx::query(crate::window::INSERT_PERIOD)
                .bind(from)
                .bind(to)
                .bind(scope.report_type.number())
                .bind(now_ms())
                .bind(&self.actor)
                .execute(&mut *tx)
                .await?;
        }
        self.log(&mut tx, "scope.set", &format!("audit:{audit_id}"), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Management signs off the scope as it now stands.
    pub async fn approve_scope(&self) -> Result<i64, StoreError> {
        let record = self.scope().await?;
        let (Some(audit_id), Some(_)) = (record.audit_id, record.scope) else {
            return Err(StoreError::Conflict(
                "no scope to approve yet: set the report type, the categories and the period first".into(),
            ));
        };
        let at = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(APPROVE_SCOPE)
            .bind(&self.actor)
            .bind(at)
            .bind(&audit_id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "scope.approve",
            &format!("audit:{audit_id}"),
            json!({"approved_by": self.actor}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(at)
    }

    /// Adds a component to the system description; the same kind and name twice is refused.
    pub async fn add_component(&self, component: &ComponentRecord) -> Result<(), StoreError> {
        let component = &component.checked()?;
        let mut tx = self.begin_write().await?;
        let audit_id = self.ensure_audit(&mut tx).await?;
        let existing = sqlx::query(SELECT_COMPONENT)
            .bind(&audit_id)
            .bind(component.kind.as_str())
            .bind(&component.name)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            return Err(StoreError::Field {
                field: "name",
                reason: format!(
                    "a {} component named '{}' is already in the system description; nothing was changed \
                     (remove it first to change it)",
                    component.kind, component.name
                ),
            });
        }
        sqlx::query(INSERT_COMPONENT)
            .bind(ulid::Ulid::new().to_string())
            .bind(&audit_id)
            .bind(component.kind.as_str())
            .bind(&component.name)
            .bind(i64::from(component.in_scope))
            .bind(&component.reason)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        let payload = json!({
            "kind": component.kind.as_str(),
            "name": component.name,
            "in_scope": component.in_scope,
            "reason": component.reason,
        });
        // The system description is part of what management signed off.
        sqlx::query(TOUCH_AUDIT)
            .bind(now_ms())
            .bind(&audit_id)
            .execute(&mut *tx)
            .await?;
        self.log(&mut tx, "scope.component.add", &format!("audit:{audit_id}"), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    pub async fn remove_component(&self, kind: ComponentKind, name: &str) -> Result<(), StoreError> {
        let not_found = || StoreError::NotFound {
            kind: "component",
            id: format!("{kind} '{name}'"),
        };
        let Some(row) = self.current_audit().await? else {
            return Err(not_found());
        };
        let audit_id: String = row.try_get("id")?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(DELETE_COMPONENT)
            .bind(&audit_id)
            .bind(kind.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found());
        }
        let payload = json!({"kind": kind.as_str(), "name": name});
        sqlx::query(TOUCH_AUDIT)
            .bind(now_ms())
            .bind(&audit_id)
            .execute(&mut *tx)
            .await?;
        self.log(&mut tx, "scope.component.remove", &format!("audit:{audit_id}"), payload)
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }
}
