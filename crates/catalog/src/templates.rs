//! The risk library and the policy templates: starting points an organisation adopts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{ContentError, ControlTemplate, Library, OwnerRole};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskTemplate {
    pub id: String,
    pub title: String,
    pub category: String,
    pub asset: String,
    pub threat: String,
    pub likelihood: u8,
    pub impact: u8,
    pub treatment: String,
    pub treatment_plan: String,
    pub controls: Vec<String>,
    pub residual_likelihood: u8,
    pub residual_impact: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskFile {
    pub risks: Vec<RiskTemplate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyParameter {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub default: serde_yaml::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl PolicyParameter {
    /// The default as text, the form parameters are stored and substituted in.
    pub fn default_text(&self) -> String {
        match &self.default {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            serde_yaml::Value::Number(n) => n.to_string(),
            other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTemplate {
    pub id: String,
    pub title: String,
    pub owner_role: OwnerRole,
    pub review_interval_months: u32,
    pub controls: Vec<String>,
    #[serde(default)]
    pub parameters: Vec<PolicyParameter>,
    /// The Markdown after the front matter.
    #[serde(default)]
    pub body: String,
}

/// Roles a policy may name with `{{role.<name>}}`.
pub const POLICY_ROLES: &[&str] = &[
    "security_officer",
    "ceo",
    "cto",
    "engineering_lead",
    "it_lead",
    "hr_lead",
    "privacy_officer",
    "compliance_lead",
    "legal_counsel",
];

const RISK_CATEGORIES: &[&str] = &[
    "access",
    "infrastructure",
    "data",
    "people",
    "vendor",
    "availability",
    "change",
    "legal",
    "physical",
    "fraud",
    "security_operations",
];
const TREATMENTS: &[&str] = &["accept", "mitigate", "transfer", "avoid"];

fn invalid(file: &str, item: &str, field: &str, reason: impl Into<String>) -> ContentError {
    ContentError::Invalid {
        file: file.into(),
        item: item.into(),
        field: field.into(),
        reason: reason.into(),
    }
}

pub(crate) fn validate_risks(file: &str, risks: &[RiskTemplate], lib: &Library, errors: &mut Vec<ContentError>) {
    let mut ids = BTreeSet::new();
    for r in risks {
        if !ids.insert(r.id.as_str()) {
            errors.push(invalid(file, &r.id, "id", "used twice"));
        }
        if !RISK_CATEGORIES.contains(&r.category.as_str()) {
            errors.push(invalid(
                file,
                &r.id,
                "category",
                format!("unknown category '{}'", r.category),
            ));
        }
        if !TREATMENTS.contains(&r.treatment.as_str()) {
            errors.push(invalid(
                file,
                &r.id,
                "treatment",
                format!("unknown treatment '{}'", r.treatment),
            ));
        }
        for (field, v) in [
            ("likelihood", r.likelihood),
            ("impact", r.impact),
            ("residual_likelihood", r.residual_likelihood),
            ("residual_impact", r.residual_impact),
        ] {
            if !(1..=5).contains(&v) {
                errors.push(invalid(file, &r.id, field, "must be 1–5"));
            }
        }
        if r.residual_likelihood > r.likelihood || r.residual_impact > r.impact {
            errors.push(invalid(file, &r.id, "residual", "above the inherent score"));
        }
        if r.controls.is_empty() {
            errors.push(invalid(
                file,
                &r.id,
                "controls",
                "a risk needs at least one mitigating control",
            ));
        }
        for c in &r.controls {
            if lib.control(c).is_none_or(|t| t.id != *c) {
                errors.push(invalid(file, &r.id, "controls", format!("unknown control '{c}'")));
            }
        }
    }
}

/// Splits `---\nfront matter\n---\nbody`.
pub(crate) fn parse_policy(file: &str, text: &str) -> Result<PolicyTemplate, ContentError> {
    let parse_err = |reason: &str| ContentError::Parse {
        file: file.into(),
        reason: reason.into(),
    };
    let rest = text
        .strip_prefix("---\n")
        .ok_or_else(|| parse_err("must start with a --- front matter block"))?;
    let end = rest
        .find("\n---\n")
        .ok_or_else(|| parse_err("front matter is not closed by ---"))?;
    let mut template: PolicyTemplate = serde_yaml::from_str(&rest[..end]).map_err(|e| ContentError::Parse {
        file: file.into(),
        reason: e.to_string(),
    })?;
    template.body = rest[end + 5..].trim_start_matches('\n').to_string();
    Ok(template)
}

/// Every `{{…}}` placeholder in a text.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        out.push(rest[start + 2..start + 2 + len].trim());
        rest = &rest[start + 2 + len + 2..];
    }
    out
}

pub(crate) fn validate_policies(
    files: &[&str],
    policies: &[PolicyTemplate],
    lib: &Library,
    errors: &mut Vec<ContentError>,
) {
    let mut ids = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for (file, p) in files.iter().zip(policies) {
        let stem = file.rsplit('/').next().unwrap_or(file).trim_end_matches(".md");
        if p.id != stem {
            errors.push(invalid(file, &p.id, "id", format!("must equal the file name '{stem}'")));
        }
        if !ids.insert(p.id.as_str()) {
            errors.push(invalid(file, &p.id, "id", "used twice"));
        }
        for c in &p.controls {
            if lib.control(c).is_none_or(|t| t.id != *c) {
                errors.push(invalid(file, &p.id, "controls", format!("unknown control '{c}'")));
            }
        }
        let own: BTreeSet<&str> = p.parameters.iter().map(|x| x.key.as_str()).collect();
        for param in &p.parameters {
            if !keys.insert(param.key.as_str()) {
                errors.push(invalid(
                    file,
                    &p.id,
                    "parameters",
                    format!("'{}' is used by another policy", param.key),
                ));
            }
            let ok = match (param.kind.as_str(), &param.default) {
                ("integer", serde_yaml::Value::Number(n)) => n.is_i64(),
                ("boolean", serde_yaml::Value::Bool(_)) => true,
                ("text", serde_yaml::Value::String(_)) => true,
                _ => false,
            };
            if !ok {
                errors.push(invalid(
                    file,
                    &p.id,
                    "parameters",
                    format!("'{}': default does not fit type '{}'", param.key, param.kind),
                ));
            }
        }
        for ph in placeholders(&p.body) {
            let fine = ph == "organisation"
                || ph.strip_prefix("role.").is_some_and(|r| POLICY_ROLES.contains(&r))
                || ph.strip_prefix("param.").is_some_and(|k| own.contains(k));
            if !fine {
                errors.push(invalid(
                    file,
                    &p.id,
                    "body",
                    format!("unknown placeholder '{{{{{ph}}}}}'"),
                ));
            }
        }
    }
}

/// `param.<policy>.<key>` split into policy and key, or `None` for any other placeholder.
pub(crate) fn param_placeholder(ph: &str) -> Option<(&str, &str)> {
    let (policy, key) = ph.strip_prefix("param.")?.split_once('.')?;
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    };
    (word(policy) && word(key) && !key.contains('.')).then_some((policy, key))
}

/// Control text may read a policy parameter as `{{param.<policy>.<key>}}`: the policy must
/// ship and the key must be one of its parameters.
pub(crate) fn validate_control_placeholders(
    lib: &Library,
    policies: &[PolicyTemplate],
    errors: &mut Vec<ContentError>,
) {
    for c in &lib.controls {
        let file = format!("content/soc2/controls/{}.yaml", c.area);
        for (field, text) in control_texts(c) {
            for ph in placeholders(text) {
                let Some((policy, key)) = param_placeholder(ph) else {
                    continue;
                };
                match policies.iter().find(|p| p.id == policy) {
                    None => errors.push(invalid(
                        &file,
                        &c.id,
                        field,
                        format!("'{{{{{ph}}}}}' names the unknown policy '{policy}'"),
                    )),
                    Some(p) if !p.parameters.iter().any(|x| x.key == key) => errors.push(invalid(
                        &file,
                        &c.id,
                        field,
                        format!("'{{{{{ph}}}}}': policy '{policy}' has no parameter '{key}'"),
                    )),
                    Some(_) => {}
                }
            }
        }
    }
}

/// The texts of a control that may hold placeholders, with their field names.
pub(crate) fn control_texts(c: &ControlTemplate) -> Vec<(&'static str, &str)> {
    let mut out = vec![("title", c.title.as_str()), ("description", c.description.as_str())];
    if let Some(t) = &c.testing {
        out.push(("testing", t.as_str()));
    }
    out
}

/// A control's text as people read it: placeholders replaced by parameter values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlText {
    pub title: String,
    pub description: String,
    pub testing: Option<String>,
}

/// Replaces every `{{param.<policy>.<key>}}` in `text` with the value of `key` in `values`
/// (parameter keys are unique across policies), or the policy template's default when
/// `values` has none. Anything else, and a placeholder naming no known parameter, is left
/// as written. Pure: the caller supplies the organisation's values.
pub fn render_control_text(text: &str, policies: &[PolicyTemplate], values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        let inner = rest[start + 2..start + 2 + len].trim();
        let whole = &rest[start..start + 2 + len + 2];
        out.push_str(&rest[..start]);
        let value = param_placeholder(inner).and_then(|(policy, key)| {
            values.get(key).cloned().or_else(|| {
                policies
                    .iter()
                    .find(|p| p.id == policy)
                    .and_then(|p| p.parameters.iter().find(|x| x.key == key))
                    .map(PolicyParameter::default_text)
            })
        });
        out.push_str(value.as_deref().unwrap_or(whole));
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// [`render_control_text`] over a control's title, description and testing step.
pub fn render_control(
    c: &ControlTemplate,
    policies: &[PolicyTemplate],
    values: &BTreeMap<String, String>,
) -> ControlText {
    ControlText {
        title: render_control_text(&c.title, policies, values),
        description: render_control_text(&c.description, policies, values),
        testing: c.testing.as_deref().map(|t| render_control_text(t, policies, values)),
    }
}
