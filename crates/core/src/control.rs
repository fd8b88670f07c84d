//! The organisation's own controls, adopted from the library or written by it.

use evident_catalog::{EvidenceRequirement, Frequency, Nature, OwnerRole};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Control {
    #[serde(skip)]
    pub id: crate::RowId,
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
    // Domain names are letters, digits and hyphens (non-ASCII letters for international names).
    if domain.split('.').any(|label| {
        label.starts_with('-') || label.ends_with('-') || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
    }) {
        return Err(err("the domain has characters a domain name cannot have"));
    }
    Ok(t.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::parse_email;

    #[test]
    fn emails() {
        assert!(parse_email("ana@example.com*").is_err());
        assert!(parse_email("ana@-example.com").is_err());
        assert!(parse_email("ana@exa_mple.com").is_err());
        assert_eq!(parse_email("ana@bücher.example").unwrap(), "ana@bücher.example");
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

/// A control as it leaves Evident: the CLI's `--format json` and the API use this one shape,
/// and the OpenAPI schema is generated from it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ControlView {
    /// The id people use, e.g. `ACC-04`.
    pub code: String,
    /// The library template it was adopted from.
    pub template: Option<String>,
    pub title: String,
    pub description: String,
    pub area: String,
    pub frequency: String,
    pub owner: Option<String>,
    /// The role expected to own it (`security_officer` …).
    pub owner_role: String,
    pub criteria: Vec<String>,
    pub evidence_requirements: Vec<RequirementView>,
    /// How an auditor tests it.
    pub testing: Option<String>,
    pub applicable: bool,
    pub not_applicable_reason: Option<String>,
    /// Who ruled it out: a person (`manual`) or the audit scope's categories (`scope`).
    pub not_applicable_source: Option<crate::applicability::NaSource>,
    /// Readiness: `ready`, `at_risk`, `gap`, `not_applicable`, or `unassessed` when no audit
    /// scope is set.
    #[schemars(extend("enum" = ["ready", "at_risk", "gap", "not_applicable", "unassessed"]))]
    pub status: String,
    /// Why it stands where it does, most severe first, each with how to fix it.
    pub reasons: Vec<ReasonView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RequirementView {
    pub key: String,
    pub title: String,
    /// How often it must be renewed (`quarterly`, `per_event` …).
    pub refresh: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReasonView {
    pub severity: crate::readiness::Severity,
    pub text: String,
    /// The step that closes it, in words.
    pub fix: String,
    /// The same step, structured: what to open or upload.
    pub action: crate::fix::Fix,
}

impl ControlView {
    pub fn of(
        c: &Control,
        applicability: &crate::applicability::Applicability,
        readiness: Option<&crate::readiness::ControlStatus>,
    ) -> ControlView {
        let status = match readiness {
            Some(r) => r.status.as_str().to_string(),
            None => "unassessed".into(),
        };
        ControlView {
            code: c.code.clone(),
            template: c.template_id.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            area: c.area.clone(),
            frequency: c.frequency.to_string(),
            owner: c.owner_email.clone(),
            owner_role: c.owner_role.to_string(),
            criteria: c.criteria.clone(),
            evidence_requirements: c
                .evidence
                .iter()
                .map(|e| RequirementView {
                    key: e.key.clone(),
                    title: e.title.clone(),
                    refresh: e.refresh.to_string(),
                })
                .collect(),
            testing: c.testing.clone(),
            applicable: applicability.applicable,
            not_applicable_reason: applicability.na_reason.clone(),
            not_applicable_source: applicability.na_source,
            status,
            reasons: readiness
                .map(|r| {
                    r.reasons
                        .iter()
                        .map(|x| ReasonView {
                            severity: x.severity,
                            text: x.text.clone(),
                            fix: x.fix.clone(),
                            action: x.action.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}
