//! Writes dated by the caller instead of the clock, for `evident generate` alone: a made-up
//! company's history (a policy drafted, approved and published months ago, before its people
//! accepted it) is stored in one run, so the record's own date is the story's while the audit
//! entry keeps the instant the write really happened and states the date it was given
//! (`dated`). Web and API entry points never call these: a person's step is dated now.
//!
//! Who acts is the handle's actor: the generator writes through
//! [`Workspace::as_actor`] with the e-mail of the company's person doing the work, the form
//! the server gives a signed-in person.

use evident_catalog::PolicyTemplate;
use evident_core::policy::PolicyStep;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

/// Refuses an instant after now: a record dated in the future would contradict the log.
fn not_after_now(at: i64) -> Result<(), StoreError> {
    if at > now_ms() {
        return Err(StoreError::Invalid(format!(
            "a dated write cannot be later than now ({})",
            crate::clock::instant(at)
        )));
    }
    Ok(())
}

impl Workspace {
    /// Adopts library templates as version-1 drafts made at `at` (not after now).
    pub async fn adopt_policies_as_of(
        &self,
        templates: &[&PolicyTemplate],
        at: i64,
    ) -> Result<Vec<String>, StoreError> {
        not_after_now(at)?;
        self.adopt_policies_at(templates, Some(at)).await
    }

    /// Approves the latest draft as of `at`: not after now, nor before the draft was made.
    pub async fn approve_policy_as_of(&self, id: &str, at: i64) -> Result<i64, StoreError> {
        self.dated_step(id, PolicyStep::Approve, at).await
    }

    /// Publishes the approved latest version as of `at`: not after now, nor before it was
    /// approved. Acceptances are then recorded from `at` on.
    pub async fn publish_policy_as_of(&self, id: &str, at: i64) -> Result<i64, StoreError> {
        self.dated_step(id, PolicyStep::Publish, at).await
    }

    async fn dated_step(&self, id: &str, step: PolicyStep, at: i64) -> Result<i64, StoreError> {
        not_after_now(at)?;
        let policy = self.policy(id).await?;
        let latest = policy.check_step(step).map_err(StoreError::Conflict)?;
        let before = match step {
            PolicyStep::Approve => latest.created_at,
            PolicyStep::Publish => latest.approved_at.unwrap_or(latest.created_at),
        };
        if at < before {
            return Err(StoreError::Conflict(format!(
                "{} version {} cannot be {} on {}, before its previous step ({})",
                policy.id,
                latest.version,
                match step {
                    PolicyStep::Approve => "approved",
                    PolicyStep::Publish => "published",
                },
                crate::clock::instant(at),
                crate::clock::instant(before)
            )));
        }
        self.advance_policy(id, step, Some(at)).await
    }
}
