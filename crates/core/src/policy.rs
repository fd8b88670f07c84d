//! A policy: Markdown with placeholders, versions that are never edited once made, the life of
//! a version (draft → approved → published → retired) and acceptance per person per published
//! version. The store loads and saves these; the rule for moving a version lives here.

use schemars::JsonSchema;
use serde::Serialize;
use time::Date;

use crate::evidence::rfc3339;

evident_catalog::string_enum! {
    /// Where a version is in its life; `retired` was published until a later version replaced it.
    pub enum PolicyStatus: "policy version status" {
        Draft = "draft",
        Approved = "approved",
        Published = "published",
        Retired = "retired",
    }
}

impl JsonSchema for PolicyStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PolicyStatus".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "enum": PolicyStatus::allowed()})
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

#[derive(Debug, Clone, Serialize, PartialEq, Eq, JsonSchema)]
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
    #[serde(skip)]
    pub row_id: crate::RowId,
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
                "{} version {} is {s}: only an approved version can be published (approve it first)",
                self.id, latest.version
            )),
        }
    }
}

/// A policy as it leaves Evident: the CLI's `--format json` and the API use this one shape, and
/// the OpenAPI schema is generated from it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyView {
    /// The id people use, e.g. `access-control`.
    pub id: String,
    pub title: String,
    /// The role that owns the policy (`security_officer` …).
    pub owner_role: String,
    /// Codes of the controls the policy implements.
    pub controls: Vec<String>,
    pub review_interval_months: i64,
    /// The latest version's status (draft before the first version).
    pub status: PolicyStatus,
    pub latest_version: Option<i64>,
    pub published_version: Option<i64>,
    /// RFC 3339: when the version in force was published.
    pub published_at: Option<String>,
    /// Who approved the version in force.
    pub approved_by: Option<String>,
    /// `YYYY-MM-DD`: when the version in force is due for review (publication plus the interval).
    pub review_due: Option<String>,
    pub review_overdue: bool,
    /// Acceptance of the version in force by the people employed today, when it was counted.
    pub acceptance: Option<AcceptanceCount>,
    pub versions: Vec<PolicyVersionView>,
}

/// One policy with the text of a version (the one in force, or the latest before the first
/// publication) and the policy's parameters.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyDetailView {
    #[serde(flatten)]
    pub policy: PolicyView,
    pub text: PolicyTextView,
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyTextView {
    pub version: i64,
    pub status: PolicyStatus,
    /// Markdown, with the parameters filled in.
    pub body: String,
}

impl PolicyDetailView {
    /// The policy with the text of `version`, or of the one in force (the latest if none is).
    pub fn of(
        p: &Policy,
        version: Option<i64>,
        today: Date,
        acceptance: Option<(usize, usize)>,
    ) -> Result<PolicyDetailView, String> {
        let v = match version {
            Some(n) => p
                .versions
                .iter()
                .find(|v| v.version == n)
                .ok_or_else(|| format!("{} has no version {n}", p.id))?,
            None => p
                .published()
                .or(p.latest())
                .ok_or_else(|| format!("{} has no version", p.id))?,
        };
        Ok(PolicyDetailView {
            policy: PolicyView::of(p, today, acceptance),
            text: PolicyTextView {
                version: v.version,
                status: v.status,
                body: v.body.clone(),
            },
            parameters: p.parameters.clone(),
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct AcceptanceCount {
    pub accepted: usize,
    pub required: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyVersionView {
    pub version: i64,
    pub status: PolicyStatus,
    /// Hex SHA-256 of the version's text.
    pub body_sha256: String,
    /// RFC 3339.
    pub created_at: String,
    pub created_by: String,
    pub approved_at: Option<String>,
    pub approved_by: Option<String>,
    pub published_at: Option<String>,
    pub published_by: Option<String>,
}

impl Policy {
    /// The day the version in force is due for review: its publication plus the interval.
    pub fn review_due(&self) -> Option<Date> {
        let published = self.published()?.published_at?;
        let date = crate::date_of_ms(published)?;
        Some(crate::add_months(date, self.review_interval_months as u32))
    }
}

impl PolicyView {
    /// `acceptance` is (accepted, required) for the version in force, when the caller counted it.
    pub fn of(p: &Policy, today: Date, acceptance: Option<(usize, usize)>) -> PolicyView {
        let published = p.published();
        let due = p.review_due();
        PolicyView {
            id: p.id.clone(),
            title: p.title.clone(),
            owner_role: p.owner_role.clone(),
            controls: p.controls.clone(),
            review_interval_months: p.review_interval_months,
            status: p.status(),
            latest_version: p.latest().map(|v| v.version),
            published_version: published.map(|v| v.version),
            published_at: published.and_then(|v| v.published_at).map(rfc3339),
            approved_by: published.and_then(|v| v.approved_by.clone()),
            review_due: due.map(crate::format_date),
            review_overdue: due.is_some_and(|d| d < today),
            acceptance: acceptance.map(|(accepted, required)| AcceptanceCount { accepted, required }),
            versions: p
                .versions
                .iter()
                .map(|v| PolicyVersionView {
                    version: v.version,
                    status: v.status,
                    body_sha256: v.body_sha256.clone(),
                    created_at: rfc3339(v.created_at),
                    created_by: v.created_by.clone(),
                    approved_at: v.approved_at.map(rfc3339),
                    approved_by: v.approved_by.clone(),
                    published_at: v.published_at.map(rfc3339),
                    published_by: v.published_by.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statuses: &[PolicyStatus]) -> Policy {
        Policy {
            row_id: crate::RowId::new("r"),
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
