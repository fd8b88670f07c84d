//! The starter control library: templates an organisation adopts as its own controls.

use serde::{Deserialize, Serialize};

use crate::{Attester, Category, ControlType, Execution, Frequency, OwnerRole, PopulationKind, Refresh};

fn security() -> Category {
    Category::Security
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub id: String,
    pub prefix: String,
    pub name: String,
    /// The Trust Services Category the area's controls belong to (security when omitted).
    /// A control maps to criteria of this category; any other category it serves is
    /// declared on the control (`also_serves`).
    #[serde(default = "security")]
    pub category: Category,
}

/// A control id that was removed from the library. Ids are never reused: an adopter's
/// workspace may still hold a control with this code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RetiredControl {
    pub id: String,
    /// Why it went, and where its content lives now.
    pub reason: String,
    /// Controls that took over its job, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced_by: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Nature {
    #[serde(rename = "type")]
    pub kind: ControlType,
    pub execution: Execution,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequirement {
    pub key: String,
    pub title: String,
    pub refresh: Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlTemplate {
    pub id: String,
    /// Filled from the file's area when loading.
    #[serde(default)]
    pub area: String,
    pub title: String,
    pub description: String,
    pub frequency: Frequency,
    pub nature: Nature,
    pub owner_role: OwnerRole,
    pub evidence: Vec<EvidenceRequirement>,
    pub criteria: Vec<String>,
    /// Categories other than the area's own that this control deliberately serves (its
    /// criteria may lie there). Privacy and processing-integrity controls never serve
    /// security: their common-criteria part is a control of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_serves: Vec<Category>,
    /// Filled from the file's area when loading.
    #[serde(default = "security", skip_deserializing)]
    pub category: Category,
    /// Why no policy implements this control, when none does (every other control is
    /// named by some policy's `controls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testing: Option<String>,
    /// Built-in checks that test this control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// Import kinds and connectors whose output is evidence for this control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collected_by: Vec<String>,
    /// Pre-audit checklist items this control proves (e.g. `logging`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<String>,
    /// Register records that show one occurrence of this (periodic) control took place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attested_by: Vec<Attester>,
    /// The populations an auditor samples to test this (event-driven) control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub populations: Vec<PopulationKind>,
}

/// One area file as written on disk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AreaFile {
    pub area: Area,
    pub controls: Vec<ControlTemplate>,
    #[serde(default)]
    pub retired: Vec<RetiredControl>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Library {
    pub areas: Vec<Area>,
    pub controls: Vec<ControlTemplate>,
    /// Ids that left the library, kept so they are never given to another control.
    pub retired: Vec<RetiredControl>,
}

impl ControlTemplate {
    /// Every category this control's criteria may lie in: its own and those it declares.
    pub fn categories(&self) -> impl Iterator<Item = Category> + '_ {
        std::iter::once(self.category).chain(self.also_serves.iter().copied())
    }
}

impl Library {
    pub fn control(&self, id: &str) -> Option<&ControlTemplate> {
        self.controls.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// A retired id, with the reason it left.
    pub fn retired(&self, id: &str) -> Option<&RetiredControl> {
        self.retired.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// Templates tested by a built-in check, in library order.
    pub fn checked_by<'a>(&'a self, check: &'a str) -> impl Iterator<Item = &'a ControlTemplate> {
        self.controls
            .iter()
            .filter(move |c| c.checks.iter().any(|k| k == check))
    }

    /// Templates whose evidence an import kind or a connector delivers, in library order.
    pub fn collected_by<'a>(&'a self, source: &'a str) -> impl Iterator<Item = &'a ControlTemplate> {
        self.controls
            .iter()
            .filter(move |c| c.collected_by.iter().any(|k| k == source))
    }

    /// Templates that prove a pre-audit checklist item, in library order.
    pub fn on_checklist<'a>(&'a self, item: &'a str) -> impl Iterator<Item = &'a ControlTemplate> {
        self.controls
            .iter()
            .filter(move |c| c.checklist.iter().any(|k| k == item))
    }

    /// Templates that map to a criterion, in library order.
    pub fn mapped_to<'a>(&'a self, criterion: &'a str) -> impl Iterator<Item = &'a ControlTemplate> {
        self.controls
            .iter()
            .filter(move |c| c.criteria.iter().any(|k| k == criterion))
    }
}
