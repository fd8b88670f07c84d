//! The program in OSCAL 1.2.3 JSON, the open standard for machine-readable security plans and
//! assessment results: the SOC 2 criteria as Evident models them (a catalog, and a profile of
//! the ones in scope), the company's controls (a component definition), its system security
//! plan, a readiness assessment (plan and results, evidence referenced by hash) and the plan of
//! action for its open gaps and tasks. Pure: the caller loads the records and names the instant.
//!
//! Every UUID is a version-5 UUID of what it stands for (`control ACC-01`, `gap …`), so
//! exporting unchanged records gives the same UUIDs; each document's own UUID is derived from
//! its content, so it changes exactly when the document does.

mod catalog;
mod ids;
pub mod import;
mod plans;
mod results;

use serde_json::{Value, json};

pub use ids::uuid5;

/// OSCAL's version the documents follow.
pub const OSCAL_VERSION: &str = "1.2.3";
/// Namespace of Evident's own properties.
pub const NS: &str = "urn:evident:oscal";

/// The documents, in the order they reference one another, with the file names their `href`s
/// use: exported together into one folder, every reference resolves.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("catalog", "evident-soc2-catalog.json"),
    ("profile", "evident-soc2-profile.json"),
    ("component-definition", "evident-component-definition.json"),
    ("system-security-plan", "evident-ssp.json"),
    ("assessment-plan", "evident-assessment-plan.json"),
    ("assessment-results", "evident-assessment-results.json"),
    ("plan-of-action-and-milestones", "evident-poam.json"),
];

/// The file a document kind is written to.
pub fn file_name(kind: &str) -> Option<&'static str> {
    DOCUMENTS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

/// One in-scope or excluded part of the system, as the scope records it.
#[derive(Debug, Clone)]
pub struct SystemComponent {
    /// infrastructure, software, people, procedures or data.
    pub kind: String,
    pub name: String,
    pub in_scope: bool,
    pub reason: String,
}

/// A remediation task, as the plan of action lists it.
#[derive(Debug, Clone)]
pub struct TaskItem {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub status: String,
    pub controls: Vec<String>,
}

/// Everything the documents are made from, as the store loads it.
#[derive(Debug, Clone)]
pub struct Records {
    pub organisation: String,
    /// RFC 3339 instant of the last change to the records (the audit log's head), so that an
    /// export of unchanged records is the same bytes.
    pub last_modified: String,
    pub scope: Option<crate::scope::Scope>,
    pub components: Vec<SystemComponent>,
    /// The controls that apply to the scope.
    pub controls: Vec<crate::control::Control>,
    pub readiness: crate::readiness::Readiness,
    /// Current (not withdrawn or superseded) evidence.
    pub evidence: Vec<crate::evidence::EvidenceItem>,
    pub tasks: Vec<TaskItem>,
    /// Head counts by department.
    pub departments: Vec<(String, usize)>,
    /// Today, for the gaps' due dates.
    pub today: time::Date,
    /// What the system does, as management wrote it for the system description.
    pub services: Option<String>,
}

impl Records {
    /// The controls that serve `criterion`.
    fn serving<'a>(&'a self, criterion: &'a str) -> Vec<&'a crate::control::Control> {
        self.controls
            .iter()
            .filter(|c| c.criteria.iter().any(|k| k == criterion))
            .collect()
    }

    /// A control's readiness.
    fn status(&self, code: &str) -> Option<&crate::readiness::ControlStatus> {
        self.readiness.controls.iter().find(|c| c.control == code)
    }

    /// A criterion's coverage.
    fn coverage(&self, criterion: &str) -> Option<crate::readiness::Coverage> {
        self.readiness
            .criteria
            .iter()
            .find(|c| c.id == criterion)
            .map(|c| c.status)
    }
}

/// OSCAL's token form of one of our ids (`CC6.1` → `cc6.1`, `ACC-01` → `acc-01`).
pub fn token(id: &str) -> String {
    id.trim().to_lowercase().replace([' ', '/'], "-")
}

fn metadata(input: &Records, title: &str, version: &str) -> Value {
    json!({
        "title": title,
        "last-modified": input.last_modified,
        "version": version,
        "oscal-version": OSCAL_VERSION,
        "roles": [
            {"id": "maintainer", "title": "Maintainer"},
            {"id": "control-owner", "title": "Control owner"}
        ],
        "parties": [{
            "uuid": uuid5(&format!("party organisation {}", input.organisation)),
            "type": "organization",
            "name": input.organisation
        }],
        "responsible-parties": [{
            "role-id": "maintainer",
            "party-uuids": [uuid5(&format!("party organisation {}", input.organisation))]
        }]
    })
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "ns": NS, "value": value.into()})
}

/// Sets the document's UUID from its content (without the UUID itself).
fn sealed(root: &str, mut body: Value) -> Value {
    let digest = ids::uuid5(&format!("document {root} {body}"));
    if let Some(o) = body.as_object_mut() {
        o.insert("uuid".into(), Value::String(digest));
    }
    json!({ root: body })
}

/// One document by kind; `None` for a kind OSCAL export does not know.
pub fn document(kind: &str, input: &Records) -> Option<Value> {
    Some(match kind {
        "catalog" => catalog::catalog(input),
        "profile" => catalog::profile(input),
        "component-definition" => catalog::component_definition(input),
        "system-security-plan" => plans::ssp(input),
        "assessment-plan" => plans::assessment_plan(input),
        "assessment-results" => results::assessment_results(input),
        "plan-of-action-and-milestones" => results::poam(input),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
