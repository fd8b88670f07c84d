//! What the OSCAL documents are made from, loaded in one place for every entry point. The
//! documents themselves are `evident_core::oscal`'s.

use evident_core::oscal::{Records, TaskItem};
use evident_core::registers::TASKS;
use sqlx::Row;

use crate::{StoreError, Workspace};

const LAST_CHANGE: &str = "SELECT at FROM audit_log ORDER BY seq DESC LIMIT 1";

impl Workspace {
    /// The records behind the OSCAL export, with readiness assessed as of `today` at `now`.
    /// Without a scope the readiness is empty and the profile selects Security.
    pub async fn oscal_records(&self, today: time::Date, now: time::OffsetDateTime) -> Result<Records, StoreError> {
        let record = self.scope().await?;
        let (controls, evidence, readiness) = match record.scope {
            Some(_) => {
                let a = self.assess(today, now).await?;
                (a.program.controls, a.program.evidence, a.readiness)
            }
            None => {
                let p = self.program().await?;
                let empty = evident_core::readiness::Readiness {
                    score: 0,
                    controls: Vec::new(),
                    criteria: Vec::new(),
                    gaps: Vec::new(),
                };
                (p.controls, p.evidence, empty)
            }
        };
        let last_ms: Option<i64> = sqlx::query(LAST_CHANGE)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.try_get("at"))
            .transpose()?;
        let (departments, _) = self.head_counts(today).await?;
        let tasks = self
            .records(&TASKS)
            .await?
            .into_iter()
            .map(|t| {
                let r = &t.record;
                let text = |k: &str| r.get(k).as_str().map(str::to_string);
                TaskItem {
                    id: text("id").unwrap_or_default(),
                    title: text("title").unwrap_or_default(),
                    owner: text("owner"),
                    due: r.get("due_date").as_date().map(evident_core::format_date),
                    status: text("status").unwrap_or_default(),
                    controls: text("control").into_iter().collect(),
                }
            })
            .collect();
        // Only what the audit covers: controls that apply to the scope, and evidence for them
        // (an auditor may read this export; nothing out of scope goes into it).
        let categories = record.scope.as_ref().map(|s| s.categories.clone());
        let controls: Vec<_> = controls
            .into_iter()
            .filter(|c| evident_core::assessment::applicability_of(c, categories.as_ref()).applicable)
            .collect();
        let codes: std::collections::HashSet<&str> = controls.iter().map(|c| c.code.as_str()).collect();
        let evidence: Vec<_> = evidence
            .into_iter()
            .filter(|e| e.is_current() && e.controls.iter().any(|l| codes.contains(l.control.as_str())))
            .collect();
        Ok(Records {
            organisation: self.organisation.clone(),
            last_modified: evident_core::evidence::rfc3339(last_ms.unwrap_or(0)),
            scope: record.scope,
            components: record.components.into_iter().map(Into::into).collect(),
            controls,
            readiness,
            evidence,
            tasks,
            departments,
            today,
            services: self.latest_narrative("services").await?,
        })
    }
}
