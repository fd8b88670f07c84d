//! The organisation's own controls, adopted from the library or written by it.

use evident_catalog::{EvidenceRequirement, Frequency, Nature, OwnerRole};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Control {
    /// Internal id (ULID).
    #[serde(skip)]
    pub id: String,
    /// The id people use, e.g. `ACC-04`.
    pub code: String,
    pub template_id: Option<String>,
    pub area: String,
    pub title: String,
    pub description: String,
    pub frequency: Frequency,
    pub nature: Nature,
    pub owner_role: OwnerRole,
    pub owner_email: Option<String>,
    pub testing: Option<String>,
    pub criteria: Vec<String>,
    pub evidence: Vec<EvidenceRequirement>,
    /// A person's ruling that the control does not apply.
    pub na_reason: Option<String>,
}

impl Control {
    /// The library template the control was adopted from, if any.
    pub fn template(&self) -> Option<&'static evident_catalog::ControlTemplate> {
        let id = self.template_id.as_deref()?;
        evident_catalog::Catalog::builtin().library.control(id)
    }

    /// The built-in checks that test this control, as the content says.
    pub fn checks(&self) -> &'static [String] {
        self.template().map(|t| t.checks.as_slice()).unwrap_or_default()
    }

    /// True when an import kind or connector delivers evidence for this control.
    pub fn collected_by(&self, source: &str) -> bool {
        self.template()
            .is_some_and(|t| t.collected_by.iter().any(|s| s == source))
    }

    /// True when the control proves the pre-audit checklist item `item`.
    pub fn on_checklist(&self, item: &str) -> bool {
        self.template().is_some_and(|t| t.checklist.iter().any(|s| s == item))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not an email address ({why})")]
pub struct EmailError {
    pub given: String,
    pub why: &'static str,
}

/// Normalises an email address (trimmed, lowercase) after a plain structural check.
pub fn parse_email(s: &str) -> Result<String, EmailError> {
    let t = s.trim();
    let err = |why| EmailError {
        given: s.to_string(),
        why,
    };
    let (local, domain) = t.split_once('@').ok_or_else(|| err("no @"))?;
    if local.is_empty() || domain.is_empty() {
        return Err(err("empty name or domain"));
    }
    if domain.contains('@') {
        return Err(err("more than one @"));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
    {
        return Err(err("contains spaces or separators"));
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return Err(err("the domain needs a dot between names"));
    }
    Ok(t.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::parse_email;

    #[test]
    fn emails() {
        assert_eq!(parse_email(" Ana.Lopez@Example.COM ").unwrap(), "ana.lopez@example.com");
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "a b@example.com",
            "ana@example..com",
            "a@x.com,b@y.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
