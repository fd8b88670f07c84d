//! Management's description of the system (section 3 of the report; DC 200's nine points),
//! drafted from the records. People write the narrative parts; every other statement is a fact
//! the records hold, and names the records it came from, so an auditor can follow any sentence
//! back to its source and a description never reads like another company's.
//!
//! Pure: the store loads [`Input`], this module words it. [`drift`] compares an approved
//! description with today's; [`assertion`] drafts management's assertion over it.

pub mod assertion;
mod build;
mod changes;
mod drift;

use serde::{Deserialize, Serialize};

pub use build::describe;
pub use changes::{SIGNIFICANT_PREFIXES, significant_change};
pub use drift::{Drift, DriftKind, drift};

/// The narrative parts people write, in the order the description shows them: (key, DC 200
/// point, what it is for).
pub const NARRATIVES: &[(&str, u8, &str)] = &[
    (
        "services",
        1,
        "What the system does for its customers, in a few paragraphs: the product, who uses it and how it is delivered.",
    ),
    (
        "commitments",
        2,
        "What the company promises its customers (contracts, terms, service levels) and the requirements the system must meet to keep those promises.",
    ),
    (
        "infrastructure",
        3,
        "Where the system runs: hosting, networks, regions and how environments are separated.",
    ),
    (
        "software",
        3,
        "The applications and services that make up the system and the tools that build and run it.",
    ),
    (
        "people",
        3,
        "How the teams that build, run and support the system are organised and governed.",
    ),
    (
        "procedures",
        3,
        "How work on the system is done: changes, access, incidents, monitoring and backups.",
    ),
    (
        "data",
        3,
        "What data the system holds and processes, how it flows in and out, and how it is classified.",
    ),
    (
        "user_entity_controls",
        6,
        "What customers must do themselves for the controls to work as designed, one per line (for example: keep their users' access to the product current).",
    ),
];

/// The most a narrative holds: a description, not a document store.
pub const MAX_NARRATIVE_CHARS: usize = 20_000;
/// The longest signer name or title taken.
pub const MAX_SIGNER_CHARS: usize = 200;

/// Text refused, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct TextRefused {
    pub field: &'static str,
    pub reason: String,
}

/// A narrative as stored: trimmed, line endings made `\n`, within the limit, storable.
pub fn check_narrative(text: &str) -> Result<String, TextRefused> {
    let body = text.trim().replace("\r\n", "\n");
    let n = body.chars().count();
    if n > MAX_NARRATIVE_CHARS {
        return Err(TextRefused {
            field: "text",
            reason: format!("{n} characters; a narrative holds at most {MAX_NARRATIVE_CHARS}"),
        });
    }
    storable("text", &body)?;
    Ok(body)
}

/// The signer's name or position (`field`), as the assertion records it.
pub fn check_signer(field: &'static str, value: &str) -> Result<String, TextRefused> {
    let v = value.trim();
    let refuse = |reason: String| TextRefused { field, reason };
    if v.is_empty() {
        return Err(refuse("required: the assertion names the person who signs it".into()));
    }
    if v.chars().count() > MAX_SIGNER_CHARS {
        return Err(refuse(format!("longer than {MAX_SIGNER_CHARS} characters")));
    }
    storable(field, v)?;
    Ok(v.to_string())
}

fn storable(field: &'static str, text: &str) -> Result<(), TextRefused> {
    crate::text::storable(text).map_err(|e| TextRefused {
        field,
        reason: e.to_string(),
    })
}

/// Whether `key` names a narrative part.
pub fn is_narrative(key: &str) -> bool {
    NARRATIVES.iter().any(|(k, _, _)| *k == key)
}

/// The narrative keys, for messages that list what is allowed.
pub fn narrative_keys() -> Vec<&'static str> {
    NARRATIVES.iter().map(|(k, _, _)| *k).collect()
}

/// Where a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "DescriptionSourceKind")]
pub enum SourceKind {
    Scope,
    Component,
    Asset,
    /// A register's listing, filtered: the id is its path and query (`assets?kind=hardware`).
    Register,
    Policy,
    Event,
    Criterion,
    Control,
    Vendor,
    AuditEntry,
    Narrative,
}

/// One record a statement came from: what kind, its id, and how people call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DescriptionSource")]
pub struct Source {
    pub kind: SourceKind,
    pub id: String,
    pub label: String,
}

impl Source {
    pub fn new(kind: SourceKind, id: impl Into<String>, label: impl Into<String>) -> Self {
        Source {
            kind,
            id: id.into(),
            label: label.into(),
        }
    }

    /// The web page that shows the record (one click from the statement).
    pub fn href(&self) -> String {
        let id = crate::text::url_segment(&self.id);
        match self.kind {
            SourceKind::Scope | SourceKind::Component => "/scope".into(),
            SourceKind::Asset => format!("/assets/{id}"),
            // Built by this module, already encoded.
            SourceKind::Register => format!("/{}", self.id),
            SourceKind::Policy => format!("/policies/{id}"),
            SourceKind::Event => format!("/events/{id}"),
            SourceKind::Criterion => format!("/criteria/{id}"),
            SourceKind::Control => format!("/controls/{id}"),
            SourceKind::Vendor => format!("/vendors/{id}"),
            SourceKind::AuditEntry if self.id.is_empty() => "/audit-log".into(),
            SourceKind::AuditEntry => format!("/audit-log?q={}", crate::text::url_encode(&self.id)),
            SourceKind::Narrative => format!("/description#part-{id}"),
        }
    }
}

/// What a statement is: written by people, drawn from the records, or something the
/// description still lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "DescriptionStatementKind")]
pub enum StatementKind {
    Narrative,
    Fact,
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DescriptionStatement")]
pub struct Statement {
    /// Stable across drafts of unchanged records: drift compares statements by key.
    pub key: String,
    pub kind: StatementKind,
    pub text: String,
    pub sources: Vec<Source>,
}

/// One heading of the description: a DC 200 point, or one component of point 3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DescriptionPart")]
pub struct Part {
    pub point: u8,
    pub key: String,
    pub title: String,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Description {
    pub organisation: String,
    /// "Type 2, 2026-01-01 to 2026-12-31" or "Type 1 as of …"; `None` before a scope is set.
    pub report: Option<String>,
    pub parts: Vec<Part>,
}

impl Description {
    /// Statements still missing, for the page's and the CLI's summary.
    pub fn missing(&self) -> usize {
        self.statements().filter(|s| s.kind == StatementKind::Missing).count()
    }

    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.parts.iter().flat_map(|p| p.statements.iter())
    }
}

/// A version of one narrative part, as people wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Narrative {
    pub part: String,
    pub version: i64,
    pub text: String,
    pub author: String,
    /// RFC 3339.
    pub written_at: String,
}

/// An asset, as the description counts and names it.
#[derive(Debug, Clone)]
pub struct AssetLine {
    pub name: String,
    pub kind: String,
    pub classification: String,
    pub in_scope: bool,
}

/// A published policy.
#[derive(Debug, Clone)]
pub struct PolicyLine {
    pub id: String,
    pub title: String,
    pub version: i64,
    pub published_on: time::Date,
}

/// An event of the events register.
#[derive(Debug, Clone)]
pub struct EventLine {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub date: time::Date,
    pub summary: Option<String>,
    pub outcome: Option<String>,
}

/// A vendor, with how the report presents it when it is a subservice organisation.
#[derive(Debug, Clone)]
pub struct VendorLine {
    pub name: String,
    pub service: Option<String>,
    pub tier: String,
    pub data_categories: Vec<String>,
    /// Complementary controls the vendor's own report expects of us.
    pub cuecs: Vec<String>,
    /// `carve_out` or `inclusive`; `None` when not presented as a subservice organisation.
    pub subservice: Option<String>,
    pub dependent_criteria: Vec<String>,
    pub csocs: Vec<String>,
    pub report_period_end: Option<time::Date>,
}

/// A control of the program (applicable or ruled out).
#[derive(Debug, Clone)]
pub struct ControlLine {
    pub code: String,
    pub title: String,
    pub criteria: Vec<String>,
    pub na_reason: Option<String>,
}

/// An audit-log entry that may be a significant change.
#[derive(Debug, Clone)]
pub struct ChangeLine {
    pub seq: i64,
    pub at: time::Date,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// The entry's JSON payload.
    pub payload: serde_json::Value,
}

/// Everything the description is drafted from, as the store loads it.
#[derive(Debug, Clone)]
pub struct Input {
    pub organisation: String,
    pub scope: Option<crate::scope::Scope>,
    pub components: Vec<crate::oscal::SystemComponent>,
    pub assets: Vec<AssetLine>,
    /// People employed on the description's date, by department.
    pub departments: Vec<(String, usize)>,
    /// People employed on the description's date, by employment type.
    pub employment: Vec<(String, usize)>,
    pub policies: Vec<PolicyLine>,
    pub events: Vec<EventLine>,
    pub controls: Vec<ControlLine>,
    pub vendors: Vec<VendorLine>,
    /// Audit-log entries inside the period whose action [`significant_change`] may accept.
    pub changes: Vec<ChangeLine>,
    /// The latest version of each narrative written.
    pub narratives: Vec<Narrative>,
}

/// The days a description speaks about: the window of a Type 2; for a Type 1, the year up to
/// its date (incidents and changes an auditor would ask about).
pub fn period(scope: &crate::scope::Scope) -> (time::Date, time::Date) {
    match scope.period {
        crate::scope::AuditPeriod::Window { from, to } => (from, to),
        crate::scope::AuditPeriod::AsOf(d) => (d - time::Duration::days(364), d),
    }
}

#[cfg(test)]
mod tests;
