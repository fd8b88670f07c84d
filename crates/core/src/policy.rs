//! A policy: Markdown with placeholders, versions that are never edited once made, the life of
//! a version (draft → approved → published → retired) and acceptance per person per published
//! version. The store loads and saves these; the rule for moving a version lives here.

use serde::Serialize;

evident_catalog::string_enum! {
    /// Where a version is in its life; `retired` was published until a later version replaced it.
    pub enum PolicyStatus: "policy version status" {
        Draft = "draft",
        Approved = "approved",
        Published = "published",
        Retired = "retired",
    }
}

/// A step a person takes on the latest version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyStep {
    Approve,
    Publish,
}

impl PolicyStep {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyStep::Approve => "approve",
            PolicyStep::Publish => "publish",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version: i64,
    pub body: String,
    pub body_sha256: String,
    pub status: PolicyStatus,
    pub created_at: i64,
    pub created_by: String,
    pub approved_at: Option<i64>,
    pub approved_by: Option<String>,
    pub published_at: Option<i64>,
    pub published_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Parameter {
    pub policy: String,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub unit: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Acceptance {
    pub version: i64,
    pub email: String,
    pub accepted_at: i64,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// The internal id; never shown.
    #[serde(skip)]
    pub row_id: String,
    /// The id people use, e.g. `access-control`.
    pub id: String,
    pub title: String,
    pub owner_role: String,
    pub review_interval_months: i64,
    pub template_id: Option<String>,
    pub source: String,
    /// Codes of the controls the policy implements.
    pub controls: Vec<String>,
    pub parameters: Vec<Parameter>,
    pub versions: Vec<PolicyVersion>,
}

impl Policy {
    pub fn latest(&self) -> Option<&PolicyVersion> {
        self.versions.last()
    }

    pub fn published(&self) -> Option<&PolicyVersion> {
        self.versions.iter().rev().find(|v| v.status == PolicyStatus::Published)
    }

    /// The status people see: the latest version's, or draft before the first version.
    pub fn status(&self) -> PolicyStatus {
        self.latest().map(|v| v.status).unwrap_or(PolicyStatus::Draft)
    }

    /// The version `step` applies to (the latest), or why it cannot be taken: only a draft is
    /// approved, only an approved version is published.
    pub fn check_step(&self, step: PolicyStep) -> Result<&PolicyVersion, String> {
        let latest = self.latest().ok_or_else(|| format!("{} has no version", self.id))?;
        match (step, latest.status) {
            (PolicyStep::Approve, PolicyStatus::Draft) | (PolicyStep::Publish, PolicyStatus::Approved) => Ok(latest),
            (PolicyStep::Approve, s) => Err(format!(
                "{} version {} is {s}, not a draft; edit the policy to make a new draft",
                self.id, latest.version
            )),
            (PolicyStep::Publish, s) => Err(format!(
                "{} version {} is {s}: only an approved version can be published (evident policies approve {})",
                self.id, latest.version, self.id
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statuses: &[PolicyStatus]) -> Policy {
        Policy {
            row_id: "r".into(),
            id: "access-control".into(),
            title: "Access".into(),
            owner_role: "security_officer".into(),
            review_interval_months: 12,
            template_id: None,
            source: String::new(),
            controls: vec![],
            parameters: vec![],
            versions: statuses
                .iter()
                .enumerate()
                .map(|(i, s)| PolicyVersion {
                    version: i as i64 + 1,
                    body: String::new(),
                    body_sha256: String::new(),
                    status: *s,
                    created_at: 0,
                    created_by: "a".into(),
                    approved_at: None,
                    approved_by: None,
                    published_at: None,
                    published_by: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_version_moves_one_step_at_a_time() {
        use PolicyStatus::*;
        assert!(policy(&[Draft]).check_step(PolicyStep::Approve).is_ok());
        assert!(policy(&[Draft]).check_step(PolicyStep::Publish).is_err());
        assert!(policy(&[Approved]).check_step(PolicyStep::Publish).is_ok());
        assert!(policy(&[Published]).check_step(PolicyStep::Approve).is_err());
        assert!(policy(&[]).check_step(PolicyStep::Approve).is_err());
        let p = policy(&[Retired, Published, Draft]);
        assert_eq!(p.published().map(|v| v.version), Some(2));
        assert_eq!(p.status(), Draft);
    }
}
