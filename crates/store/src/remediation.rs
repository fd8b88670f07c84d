//! The remediation plan written to the tasks register (the rule is core's).

use evident_core::readiness::Gap;
use evident_core::registers::TASKS;
use serde_json::json;
use time::Date;

use crate::{StoreError, Workspace, WriteSummary};

impl Workspace {
    /// One task per gap, planned against the tasks as they stand inside the write, so a
    /// status someone sets while the plan is made is never overwritten by an older read.
    pub async fn plan_remediation(
        &self,
        gaps: &[Gap],
        start: Option<Date>,
        today: Date,
    ) -> Result<WriteSummary, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing = self
            .records_in(&mut tx, &TASKS)
            .await?
            .into_iter()
            .map(|t| (t.key, t.record))
            .collect();
        let records = evident_core::remediation::plan(gaps, &existing, start, today);
        let (summary, created, updated) = self.write_records_in(&mut tx, &TASKS, &records).await?;
        if created.is_empty() && updated.is_empty() {
            return Ok(summary);
        }
        let payload = json!({
            "register": TASKS.name,
            "context": {"gaps": gaps.len()},
            "created": created,
            "updated": updated,
        });
        self.log(&mut tx, "readiness.plan", "register:tasks", payload).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(summary)
    }
}
