//! Whether a control applies to the audit: a person can rule it out with a reason, and the
//! scope rules it out when every criterion it maps to lies in a category outside the audit.

use std::collections::BTreeSet;

use evident_catalog::Category;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NaSource {
    Manual,
    Scope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applicability {
    pub applicable: bool,
    pub na_reason: Option<String>,
    pub na_source: Option<NaSource>,
}

impl Applicability {
    fn applicable() -> Self {
        Applicability {
            applicable: true,
            na_reason: None,
            na_source: None,
        }
    }
}

/// `criteria` are the control's mapped criteria with their categories; `in_scope` is `None`
/// while no scope has been chosen (then nothing is ruled out by scope).
pub fn applicability(
    criteria: &[(&str, Category)],
    in_scope: Option<&BTreeSet<Category>>,
    manual_reason: Option<&str>,
) -> Applicability {
    if let Some(reason) = manual_reason {
        return Applicability {
            applicable: false,
            na_reason: Some(reason.to_string()),
            na_source: Some(NaSource::Manual),
        };
    }
    let Some(in_scope) = in_scope else {
        return Applicability::applicable();
    };
    if criteria.is_empty() || criteria.iter().any(|(_, c)| in_scope.contains(c)) {
        return Applicability::applicable();
    }
    let ids: Vec<&str> = criteria.iter().map(|(id, _)| *id).collect();
    let outside: BTreeSet<&str> = criteria.iter().map(|(_, c)| c.as_str()).collect();
    Applicability {
        applicable: false,
        na_reason: Some(format!(
            "all mapped criteria ({}) are in categories outside the audit scope ({})",
            ids.join(", "),
            outside.into_iter().collect::<Vec<_>>().join(", ")
        )),
        na_source: Some(NaSource::Scope),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::*;

    fn scope(c: &[Category]) -> BTreeSet<Category> {
        c.iter().copied().collect()
    }

    #[test]
    fn table_of_cases() {
        let privacy_only = [("P1.1", Privacy), ("P4.2", Privacy)];
        let mixed = [("CC6.1", Security), ("P4.2", Privacy)];
        let availability = [("A1.2", Availability)];
        // (criteria, categories in scope, manual reason, applicable, why not)
        type Case<'a> = (
            &'a [(&'a str, Category)],
            Option<&'a [Category]>,
            Option<&'a str>,
            bool,
            Option<NaSource>,
        );
        let cases: &[Case] = &[
            // No scope chosen yet: nothing ruled out.
            (&privacy_only, None, None, true, None),
            // Every criterion outside: ruled out by scope.
            (&privacy_only, Some(&[Security]), None, false, Some(NaSource::Scope)),
            (
                &availability,
                Some(&[Security, Privacy]),
                None,
                false,
                Some(NaSource::Scope),
            ),
            // One criterion inside is enough.
            (&mixed, Some(&[Security]), None, true, None),
            (&privacy_only, Some(&[Security, Privacy]), None, true, None),
            // A person's ruling wins, with or without scope.
            (
                &mixed,
                Some(&[Security]),
                Some("We run no such system"),
                false,
                Some(NaSource::Manual),
            ),
            (
                &privacy_only,
                None,
                Some("Handled by our parent company"),
                false,
                Some(NaSource::Manual),
            ),
        ];
        for (criteria, in_scope, manual, applicable, source) in cases {
            let s = in_scope.map(scope);
            let a = applicability(criteria, s.as_ref(), *manual);
            assert_eq!(a.applicable, *applicable, "{criteria:?} {in_scope:?} {manual:?}");
            assert_eq!(a.na_source, *source, "{criteria:?} {in_scope:?} {manual:?}");
            assert_eq!(a.na_reason.is_some(), !applicable);
        }
    }

    #[test]
    fn scope_reason_names_criteria_and_categories() {
        let a = applicability(
            &[("P1.1", Privacy), ("C1.1", Confidentiality)],
            Some(&scope(&[Security])),
            None,
        );
        let reason = a.na_reason.unwrap();
        assert!(
            reason.contains("P1.1, C1.1") && reason.contains("confidentiality, privacy"),
            "{reason}"
        );
    }
}
