//! Management's assertion (section 2 of the report): a draft for the report type and period,
//! over the approved description. The wording is Evident's own; management edits nothing here
//! but signs what it read, and the signature names the description version it covers.

use serde::Serialize;

use super::Description;
use crate::dates::format_date;
use crate::scope::{AuditPeriod, ReportType, Scope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AssertionDraft {
    pub title: String,
    pub paragraphs: Vec<String>,
}

impl AssertionDraft {
    /// The text as signed: title and paragraphs, blank-line separated.
    pub fn text(&self) -> String {
        let mut out = self.title.clone();
        for p in &self.paragraphs {
            out.push_str("\n\n");
            out.push_str(p);
        }
        out
    }
}

/// Subservice organisations presented carve-out, by name, as the description lists them.
fn carved_out(d: &Description) -> Vec<String> {
    d.parts
        .iter()
        .filter(|p| p.key == "subservice")
        .flat_map(|p| p.statements.iter())
        .filter(|s| s.kind == super::StatementKind::Fact && s.text.contains(super::build::CARVED_OUT))
        .filter_map(|s| s.key.strip_prefix("vendor:").map(str::to_string))
        .collect()
}

/// Drafts the assertion for `scope` over `description`.
pub fn draft(description: &Description, scope: &Scope) -> AssertionDraft {
    let org = &description.organisation;
    let (when, design, operating) = match (scope.report_type, scope.period) {
        (ReportType::Type2, AuditPeriod::Window { from, to }) => {
            let period = format!("throughout the period {} to {}", format_date(from), format_date(to));
            (
                period.clone(),
                format!(
                    "the controls stated in the description were suitably designed {period} to give reasonable assurance that {org} would meet its service commitments and system requirements, had those controls operated effectively;"
                ),
                Some(format!(
                    "the controls stated in the description operated effectively {period}, giving reasonable assurance that {org}'s service commitments and system requirements were met."
                )),
            )
        }
        (_, AuditPeriod::AsOf(d)) | (_, AuditPeriod::Window { to: d, .. }) => {
            let on = format!("as of {}", format_date(d));
            (
                on.clone(),
                format!(
                    "the controls stated in the description were suitably designed {on} to give reasonable assurance that {org} would meet its service commitments and system requirements, had those controls operated effectively."
                ),
                None,
            )
        }
    };
    let carve = carved_out(description);
    let mut paragraphs = vec![format!(
        "We, the management of {org}, prepared the accompanying description of {org}'s system {when} using the description criteria for a SOC 2 report. It is meant for customers and their auditors who understand the system well enough to judge, with other information, the risks to their own commitments."
    )];
    if !carve.is_empty() {
        let (as_what, they, their) = if carve.len() == 1 {
            ("a subservice organisation", "it", "its")
        } else {
            ("subservice organisations", "them", "their")
        };
        let names = super::build::listing(&carve);
        paragraphs.push(format!(
            "{org} relies on {names} as {as_what}. The description presents {they} carve-out: it names the controls we expect {they} to operate and the criteria that depend on those controls, but does not describe or cover {their} controls."
        ));
    }
    paragraphs.push(
        "Some controls only achieve their aims if customers operate the complementary user-entity controls the description lists; our statements below assume they do.".to_string(),
    );
    let mut confirm = vec![
        format!(
            "the description presents the system as it was designed and implemented {when}, fairly and in line with the description criteria;"
        ),
        design,
    ];
    if let Some(o) = operating {
        confirm.push(o);
    }
    paragraphs.push(format!(
        "To the best of our knowledge and belief, we confirm that: {}",
        confirm
            .iter()
            .enumerate()
            .map(|(i, c)| format!("({}) {c}", (b'a' + i as u8) as char))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    AssertionDraft {
        title: format!("Management's assertion of {org}"),
        paragraphs,
    }
}
