//! A framework is a set of criteria grouped in series and categories. SOC 2 is the built-in
//! one; other frameworks take the same shape.

use serde::{Deserialize, Serialize};

crate::string_enum! {
    /// A Trust Services Category. Security (the common criteria) is always in scope.
    pub enum Category: "category" {
        Security = "security",
        Availability = "availability",
        Confidentiality = "confidentiality",
        ProcessingIntegrity = "processing_integrity",
        Privacy = "privacy",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInfo {
    pub id: Category,
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub id: String,
    pub category: Category,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub category: Category,
    pub series: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coso_principle: Option<u8>,
    pub points_of_focus: u8,
    pub title: String,
    pub explanation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkHeader {
    pub id: String,
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub framework: FrameworkHeader,
    pub categories: Vec<CategoryInfo>,
    pub series: Vec<Series>,
    pub criteria: Vec<Criterion>,
}

impl Framework {
    pub fn id(&self) -> &str {
        &self.framework.id
    }

    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    pub fn series(&self, id: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.id == id)
    }

    pub fn category(&self, id: Category) -> Option<&CategoryInfo> {
        self.categories.iter().find(|c| c.id == id)
    }
}
