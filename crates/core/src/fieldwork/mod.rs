//! The auditor's fieldwork: engagements, request lists, populations and reproducible samples.
//! Pure rules; the store runs the queries and keeps the records.

pub mod audit_scope;
pub mod population;
pub mod requests;
pub mod sampling;
#[cfg(test)]
mod tests;

pub use population::{Changes, Item, Population, Rendered, Run, compare};
pub use requests::{
    Known, RawRequest, RequestDraft, RequestStatus, RequestStep, RowError, check_request, next_status, read_list,
};
pub use sampling::{Drawn, MAX_SAMPLE, Member, SIZE_NOTE, SizeTable, draw};
use serde::Serialize;

/// Why a fieldwork step is refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldworkError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldworkError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        FieldworkError {
            field,
            reason: reason.into(),
        }
    }
}

evident_catalog::string_enum! {
    /// Where an engagement stands. It moves forward; a closed engagement is read-only.
    pub enum EngagementStatus: "engagement status" {
        Planned = "planned",
        Fieldwork = "fieldwork",
        Reporting = "reporting",
        Closed = "closed",
    }
}

/// Whether an engagement may move from one status to another: forward one or more steps,
/// never back, and nothing after closing.
pub fn check_status_change(from: EngagementStatus, to: EngagementStatus) -> Result<(), FieldworkError> {
    if to > from {
        return Ok(());
    }
    Err(FieldworkError::new(
        "status",
        format!("an engagement in {from} cannot move to {to}; engagements only move forward"),
    ))
}

evident_catalog::string_enum! {
    /// The auditor's conclusion on one sampled item.
    pub enum TestResult: "test result" {
        NoException = "no_exception",
        Exception = "exception",
    }
}

pub const TEXT_MAX: usize = 10_000;
pub const NAME_MAX: usize = 200;

/// A short name (an engagement, a firm): trimmed, not empty, one line.
pub fn check_name(field: &'static str, s: &str) -> Result<String, FieldworkError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldworkError::new(field, "empty"));
    }
    if t.chars().count() > NAME_MAX || t.contains(['\n', '\r', '\0']) {
        return Err(FieldworkError::new(
            field,
            format!("one line of at most {NAME_MAX} characters"),
        ));
    }
    Ok(t.to_string())
}

/// Free text (a comment, a note): trimmed, at most a page; empty only when allowed.
pub fn check_text(field: &'static str, s: &str, required: bool) -> Result<String, FieldworkError> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(FieldworkError::new(field, "empty"));
    }
    if t.chars().count() > TEXT_MAX {
        return Err(FieldworkError::new(field, format!("longer than {TEXT_MAX} characters")));
    }
    crate::text::storable(t).map_err(|e| FieldworkError::new(field, e.to_string()))?;
    Ok(t.to_string())
}

/// A sample's seed: what the auditor types, kept exactly; printable and short.
pub fn check_seed(s: &str) -> Result<String, FieldworkError> {
    if s.is_empty() || s.chars().count() > 128 || s.chars().any(|c| c.is_control()) || s.trim() != s {
        return Err(FieldworkError::new(
            "seed",
            "1 to 128 printable characters without leading or trailing spaces",
        ));
    }
    Ok(s.to_string())
}

/// An exception an auditor recorded on a sampled item, as the Type II window reads it.
#[derive(Debug, Clone)]
pub struct SampleException {
    pub sample: String,
    pub item: String,
    pub control: String,
    /// The day the item happened (`YYYY-MM-DD`).
    pub date: String,
    pub note: String,
    pub tested_by: String,
    pub tested_at: String,
    /// How many items the sample tested: the rate this exception counts against.
    pub sample_size: usize,
}

/// What someone does in fieldwork; [`may`] says which roles may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Create an engagement, change its status or sizes, bind auditors.
    Manage,
    /// Import or add requests (the firm's list).
    AddRequests,
    /// Link evidence to a request and submit it.
    Answer,
    /// Accept or return a request.
    Review,
    /// Comment on a request.
    Comment,
    /// Produce a population and keep it as evidence.
    RunPopulation,
    /// Draw, extend a sample and record results.
    Test,
}

/// The one rule for who may act in fieldwork. Reading is narrowed elsewhere: an auditor to
/// their engagements, a control owner to requests assigned to them or their controls.
pub fn may(role: crate::access::Role, act: Act) -> bool {
    use crate::access::Role::*;
    match (role, act) {
        (Admin, _) => true,
        (ComplianceManager, Act::Review | Act::Test) => false,
        (ComplianceManager, _) => true,
        (ControlOwner, Act::Answer | Act::Comment) => true,
        (Auditor, Act::AddRequests | Act::Review | Act::Comment | Act::Test) => true,
        _ => false,
    }
}

/// An audit engagement as it leaves (CLI JSON, API).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EngagementView {
    pub id: String,
    pub name: String,
    pub firm: String,
    /// `type1` or `type2`.
    pub report_type: String,
    pub period_start: String,
    pub period_end: String,
    #[schemars(with = "String")]
    pub status: EngagementStatus,
    /// Sample sizes, "typical; confirm with your auditor".
    pub sizes: SizeTable,
    /// Emails of the auditors bound to it.
    pub auditors: Vec<String>,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CommentView {
    /// `submit`, `accept`, `return`, or absent for a plain comment.
    pub step: Option<String>,
    pub body: String,
    pub author: String,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub at: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LinkedEvidence {
    pub id: String,
    pub title: String,
    /// The day or period it attests to.
    pub attests: String,
    /// Whether what it attests to lies inside the engagement's period.
    pub in_period: bool,
}

impl LinkedEvidence {
    /// An item as an engagement sees it: the day or period it attests to (its period, else its
    /// effective date; nothing for an undated item) and whether that lies inside the
    /// engagement's period (`YYYY-MM-DD` bounds, both included).
    pub fn new(
        id: String,
        title: String,
        dates: (Option<&str>, Option<&str>, Option<&str>),
        period: (&str, &str),
    ) -> LinkedEvidence {
        let (a, b) = match dates {
            (Some(from), Some(to), _) => (from, to),
            (_, _, Some(day)) => (day, day),
            _ => ("", ""),
        };
        LinkedEvidence {
            id,
            title,
            attests: if a == b { a.to_string() } else { format!("{a}..{b}") },
            in_period: !a.is_empty() && a <= period.1 && b >= period.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RequestView {
    pub id: String,
    pub engagement: String,
    pub reference: String,
    pub body: String,
    pub criteria: Vec<String>,
    pub controls: Vec<String>,
    pub due: Option<String>,
    pub assignee: Option<String>,
    #[schemars(with = "String")]
    pub status: RequestStatus,
    pub overdue: bool,
    /// Columns of the firm's list Evident does not know, as written.
    pub extra: std::collections::BTreeMap<String, String>,
    pub evidence: Vec<LinkedEvidence>,
    pub thread: Vec<CommentView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PopulationRunView {
    pub id: String,
    pub engagement: Option<String>,
    pub kind: String,
    pub period: String,
    pub count: usize,
    /// SHA-256 of the file's data lines (`grep -v '^#' FILE | sha256sum`).
    pub sha256: String,
    /// The evidence item that keeps the file.
    pub evidence: String,
    pub ran_at: String,
    pub ran_by: String,
    /// What changed since the previous run of the same population and period.
    pub changes: Option<Changes>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SampleItemView {
    pub item: String,
    pub date: String,
    pub round: usize,
    /// SHA-256 of `seed:item`, by which it was chosen in its stratum.
    pub key: String,
    #[schemars(with = "Option<String>")]
    pub result: Option<TestResult>,
    pub note: Option<String>,
    pub tested_by: Option<String>,
    pub tested_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SampleView {
    pub id: String,
    pub engagement: String,
    pub control: String,
    pub population: PopulationRunView,
    pub seed: String,
    pub rounds: Vec<usize>,
    /// The size the engagement's table suggests for this population ("typical; confirm with your auditor").
    pub suggested: usize,
    pub items: Vec<SampleItemView>,
    pub exceptions: usize,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PacketFact {
    pub name: String,
    pub value: String,
}

/// Everything that proves one sampled item, assembled from its population row and the records
/// about it (a new hire's background check, training and policy acceptances; a leaver's
/// accounts; a change's author, approvers and merge time).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SamplePacket {
    pub sample: String,
    pub control: String,
    pub item: String,
    pub date: String,
    pub facts: Vec<PacketFact>,
    pub evidence: Vec<LinkedEvidence>,
    #[schemars(with = "Option<String>")]
    pub result: Option<TestResult>,
    pub note: Option<String>,
}
