//! Engagements: the firm, the period, the status, the auditors bound to it.

use evident_core::access::Role;
use evident_core::fieldwork::{Act, EngagementStatus, EngagementView, SizeTable, check_name, check_status_change};
use evident_core::format_date;
use evident_core::scope::ReportType;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;

use super::{allow, field};
use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const INSERT: &str = "INSERT INTO engagements (id, name, firm, report_type, period_start, period_end, status, sizes, \
     created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)";
const SELECT: &str = "SELECT id, name, firm, report_type, period_start, period_end, status, sizes, created_by \
     FROM engagements ORDER BY period_start DESC, name";
const SELECT_AUDITORS: &str = "SELECT a.engagement_id, u.email FROM engagement_auditors a \
     JOIN users u ON u.id = a.user_id ORDER BY u.email";
const SET_STATUS: &str = "UPDATE engagements SET status = $1, updated_at = $2 WHERE id = $3";
const SET_SIZES: &str = "UPDATE engagements SET sizes = $1, updated_at = $2 WHERE id = $3";
const BIND: &str = "INSERT INTO engagement_auditors (engagement_id, user_id, added_at) VALUES ($1, $2, $3) \
     ON CONFLICT (engagement_id, user_id) DO NOTHING";
const UNBIND: &str = "DELETE FROM engagement_auditors WHERE engagement_id = $1 AND user_id = $2";

fn view(r: &AnyRow, auditors: Vec<String>) -> Result<EngagementView, StoreError> {
    let status: String = r.try_get("status")?;
    let sizes: String = r.try_get("sizes")?;
    Ok(EngagementView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        firm: r.try_get("firm")?,
        report_type: match r.try_get::<i64, _>("report_type")? {
            1 => "type1".into(),
            _ => "type2".into(),
        },
        period_start: r.try_get("period_start")?,
        period_end: r.try_get("period_end")?,
        status: EngagementStatus::parse(&status)
            .map_err(|_| StoreError::Invalid(format!("stored engagement status '{status}'")))?,
        sizes: serde_json::from_str(&sizes).map_err(|e| StoreError::Invalid(format!("stored sample sizes: {e}")))?,
        auditors,
        created_by: r.try_get("created_by")?,
    })
}

impl Workspace {
    /// Every engagement the caller may see: an auditor only those they are bound to.
    pub async fn engagements(&self, role: Role) -> Result<Vec<EngagementView>, StoreError> {
        if role == Role::Employee {
            return Ok(Vec::new());
        }
        let mut auditors: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for r in sqlx::query(SELECT_AUDITORS).fetch_all(&self.db.pool).await? {
            auditors
                .entry(r.try_get("engagement_id")?)
                .or_default()
                .push(r.try_get("email")?);
        }
        let mut out = Vec::new();
        for r in sqlx::query(SELECT).fetch_all(&self.db.pool).await? {
            let id: String = r.try_get("id")?;
            let list = auditors.remove(&id).unwrap_or_default();
            if role == Role::Auditor && !list.iter().any(|e| e.eq_ignore_ascii_case(&self.actor)) {
                continue;
            }
            out.push(view(&r, list)?);
        }
        Ok(out)
    }

    /// One engagement by id or name, if the caller may see it.
    pub async fn engagement(&self, role: Role, id_or_name: &str) -> Result<EngagementView, StoreError> {
        let wanted = id_or_name.trim();
        self.engagements(role)
            .await?
            .into_iter()
            .find(|e| e.id == wanted || e.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| StoreError::NotFound {
                kind: "engagement",
                id: wanted.to_string(),
            })
    }

    /// Opens an engagement over a report period (the scope's current one when not given).
    pub async fn create_engagement(
        &self,
        role: Role,
        name: &str,
        firm: &str,
        period: Option<(Date, Date)>,
    ) -> Result<EngagementView, StoreError> {
        allow(role, Act::Manage)?;
        let name = check_name("name", name).map_err(field)?;
        let firm = check_name("firm", firm).map_err(field)?;
        let (p, report_type) = self.window_period(period).await?;
        if self
            .engagements(Role::Admin)
            .await?
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(&name))
        {
            return Err(StoreError::Conflict(format!(
                "an engagement named '{name}' already exists"
            )));
        }
        let id = ulid::Ulid::new().to_string();
        let sizes = serde_json::to_string(&SizeTable::default()).expect("sizes serialise");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT)
            .bind(&id)
            .bind(&name)
            .bind(&firm)
            .bind(if report_type == ReportType::Type1 { 1i64 } else { 2i64 })
            .bind(format_date(p.start))
            .bind(format_date(p.end))
            .bind(EngagementStatus::Planned.as_str())
            .bind(&sizes)
            .bind(now)
            .bind(&self.actor)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "engagement.create",
            &format!("engagement:{id}"),
            json!({"name": name, "firm": firm, "period": format!("{}..{}", format_date(p.start), format_date(p.end))}),
        )
        .await?;
        self.engagement(Role::Admin, &id).await
    }

    pub async fn set_engagement_status(
        &self,
        role: Role,
        id: &str,
        status: EngagementStatus,
    ) -> Result<EngagementView, StoreError> {
        allow(role, Act::Manage)?;
        let e = self.engagement(role, id).await?;
        check_status_change(e.status, status).map_err(field)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_STATUS)
            .bind(status.as_str())
            .bind(now_ms())
            .bind(&e.id)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "engagement.status",
            &format!("engagement:{}", e.id),
            json!({"from": e.status.as_str(), "to": status.as_str()}),
        )
        .await?;
        self.engagement(role, &e.id).await
    }

    pub async fn set_engagement_sizes(
        &self,
        role: Role,
        id: &str,
        sizes: SizeTable,
    ) -> Result<EngagementView, StoreError> {
        allow(role, Act::Manage)?;
        sizes
            .check()
            .map_err(|reason| StoreError::Field { field: "sizes", reason })?;
        let e = self.engagement(role, id).await?;
        let text = serde_json::to_string(&sizes).expect("sizes serialise");
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_SIZES)
            .bind(&text)
            .bind(now_ms())
            .bind(&e.id)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "engagement.sizes",
            &format!("engagement:{}", e.id),
            json!({"sizes": sizes}),
        )
        .await?;
        self.engagement(role, &e.id).await
    }

    /// Binds (or, with `bound` false, unbinds) an auditor user to an engagement.
    pub async fn bind_auditor(
        &self,
        role: Role,
        id: &str,
        email: &str,
        bound: bool,
    ) -> Result<EngagementView, StoreError> {
        allow(role, Act::Manage)?;
        let e = self.engagement(role, id).await?;
        let user = self.user(email).await?;
        if user.role != Role::Auditor {
            return Err(StoreError::Field {
                field: "auditor",
                reason: format!("{} is a {}, not an auditor", user.email, user.role.name()),
            });
        }
        let mut tx = self.begin_write().await?;
        if bound {
            sqlx::query(BIND)
                .bind(&e.id)
                .bind(&user.id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(UNBIND).bind(&e.id).bind(&user.id).execute(&mut *tx).await?;
        }
        self.commit_logged(
            tx,
            if bound {
                "engagement.auditor.add"
            } else {
                "engagement.auditor.remove"
            },
            &format!("engagement:{}", e.id),
            json!({"auditor": user.email}),
        )
        .await?;
        self.engagement(role, &e.id).await
    }

    /// An engagement the caller may act in: visible to them and not closed.
    pub(super) async fn open_engagement(&self, role: Role, id: &str) -> Result<EngagementView, StoreError> {
        let e = self.engagement(role, id).await?;
        ensure_open(&e)?;
        Ok(e)
    }
}

/// A closed engagement is read-only.
pub(super) fn ensure_open(e: &EngagementView) -> Result<(), StoreError> {
    if e.status == EngagementStatus::Closed {
        return Err(StoreError::Conflict(format!("engagement '{}' is closed", e.name)));
    }
    Ok(())
}
