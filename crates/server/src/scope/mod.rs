//! The audit scope: its page and API.

pub mod api;
pub mod page;

use evident_catalog::Category;
use evident_core::{AuditPeriod, ReportType, Scope, ScopeError, parse_date};
use evident_store::ScopeRecord;
use serde::Deserialize;

use crate::ServerError;

/// A scope as a form or an API request gives it (text, as typed), and the one rule that reads it.
#[derive(Default, Deserialize)]
pub struct ScopeInput {
    #[serde(default, rename = "type")]
    pub report_type: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub window_from: String,
    #[serde(default)]
    pub window_to: String,
}

impl ScopeInput {
    pub fn of(record: &ScopeRecord) -> ScopeInput {
        let Some(s) = &record.scope else {
            return ScopeInput {
                report_type: "2".into(),
                categories: vec!["security".into()],
                ..ScopeInput::default()
            };
        };
        let (as_of, window_from, window_to) = match s.period {
            AuditPeriod::AsOf(d) => (d.to_string(), String::new(), String::new()),
            AuditPeriod::Window { from, to } => (String::new(), from.to_string(), to.to_string()),
        };
        ScopeInput {
            report_type: s.report_type.number().to_string(),
            categories: s.categories.iter().map(|c| c.as_str().to_string()).collect(),
            as_of,
            window_from,
            window_to,
        }
    }

    /// The scope it describes, or the part at fault and why.
    pub fn scope(&self) -> Result<Scope, ServerError> {
        let refused = |e: ScopeError| ServerError::invalid(e.field(), e.reason());
        let report_type = ReportType::parse(&self.report_type).map_err(refused)?;
        let mut categories = std::collections::BTreeSet::new();
        for c in &self.categories {
            categories.insert(Category::parse(c).map_err(|e| ServerError::invalid("categories", e.to_string()))?);
        }
        let day = |field: &str, value: &str| -> Result<Option<time::Date>, ServerError> {
            let v = value.trim();
            if v.is_empty() {
                return Ok(None);
            }
            parse_date(v)
                .map(Some)
                .map_err(|e| ServerError::invalid(field, e.to_string()))
        };
        let (as_of, from, to) = match report_type {
            // Only the period the type uses is read: the other boxes may hold what was there before.
            ReportType::Type1 => (day("as_of", &self.as_of)?, None, None),
            ReportType::Type2 => (None, day("window", &self.window_from)?, day("window", &self.window_to)?),
        };
        let window = match (from, to) {
            (Some(f), Some(t)) => Some((f, t)),
            (None, None) => None,
            _ => {
                return Err(ServerError::invalid(
                    "window",
                    "give both the window's first and last day",
                ));
            }
        };
        Scope::new(report_type, categories, as_of, window)
            .map(|(s, _)| s)
            .map_err(refused)
    }
}
