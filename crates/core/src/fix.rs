//! What closes a gap, as the step a person takes. Readiness says which step; each entry point
//! offers it in its own way: the web a link or form that does it, the CLI the command, reports
//! and task titles the plain sentence.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// Correct the records a check fails on, or set them aside with a reason.
    FixCheck { check: String, control: String },
    /// Upload evidence answering a requirement the control has none for.
    AddEvidence {
        control: String,
        requirement: String,
        /// The requirement's title, e.g. "Quarterly access review".
        title: String,
    },
    /// Upload a current version of an item gone stale.
    ReplaceEvidence {
        control: String,
        requirement: String,
        title: String,
        evidence: String,
    },
    /// Collect the next instance before the current one expires.
    RenewEvidence {
        control: String,
        requirement: String,
        title: String,
        /// `YYYY-MM-DD`: when the current one stops counting.
        before: String,
    },
    /// Approve and publish a policy the control relies on.
    PublishPolicy { policy: String, control: String },
    /// Name the person who owns the control.
    SetOwner { control: String },
    /// Map an applicable control to a criterion nothing covers, or revisit the rulings that
    /// ruled its controls out.
    CoverCriterion { criterion: String },
    /// Close the gaps of the controls mapped to a criterion.
    CloseControls { criterion: String, controls: Vec<String> },
}

impl Fix {
    /// The step as one plain sentence (task titles, reports, the API's `fix`).
    pub fn sentence(&self) -> String {
        match self {
            Fix::FixCheck { check, control } => {
                format!("Fix the records failing check {check} for {control}, or set them aside with a reason")
            }
            Fix::AddEvidence { control, title, .. } => format!("Upload {} for {control}", lower_first(title)),
            Fix::ReplaceEvidence { control, title, .. } => {
                format!("Upload a current {} for {control}", lower_first(title))
            }
            Fix::RenewEvidence {
                control, title, before, ..
            } => format!("Upload the next {} for {control} before {before}", lower_first(title)),
            Fix::PublishPolicy { policy, control } => {
                format!("Approve and publish the {policy} policy that {control} relies on")
            }
            Fix::SetOwner { control } => format!("Name an owner for {control}"),
            Fix::CoverCriterion { criterion } => format!(
                "Map an applicable control to {criterion}, or revisit the rulings that put its controls out of scope"
            ),
            Fix::CloseControls { criterion, controls } => {
                format!("Close the gaps of {} to cover {criterion}", controls.join(", "))
            }
        }
    }

    /// The control the step is about, if one.
    pub fn control(&self) -> Option<&str> {
        match self {
            Fix::FixCheck { control, .. }
            | Fix::AddEvidence { control, .. }
            | Fix::ReplaceEvidence { control, .. }
            | Fix::RenewEvidence { control, .. }
            | Fix::PublishPolicy { control, .. }
            | Fix::SetOwner { control } => Some(control),
            Fix::CoverCriterion { .. } | Fix::CloseControls { .. } => None,
        }
    }
}

/// "Quarterly access review" reads "quarterly access review" mid-sentence; acronyms stay.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(s.chars().skip(1)).collect()
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_plain_words_not_commands() {
        let f = Fix::AddEvidence {
            control: "ACC-08".into(),
            requirement: "quarterly_review".into(),
            title: "Quarterly access review".into(),
        };
        assert_eq!(f.sentence(), "Upload quarterly access review for ACC-08");
        let owner = Fix::SetOwner {
            control: "CHG-01".into(),
        };
        assert_eq!(owner.sentence(), "Name an owner for CHG-01");
        assert_eq!(lower_first("MFA report"), "MFA report");
        for f in [f, owner] {
            assert!(!f.sentence().contains("evident "), "{}", f.sentence());
        }
    }
}
