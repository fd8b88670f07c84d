//! Coverage topics: for each criterion, the handful of things an auditor looks for when
//! testing it, in Evident's own words, each with the library controls that address it. A gap
//! can then read "CC6.1: nothing covers the lifecycle of encryption keys" rather than naming
//! a whole criterion.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{ContentError, Framework, Library};

/// One thing an auditor looks for under a criterion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// kebab-case, unique within its criterion.
    pub id: String,
    pub title: String,
    /// Library controls that address it; each maps to the topic's criterion.
    pub controls: Vec<String>,
}

/// The topics of one criterion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CriterionTopics {
    pub criterion: String,
    pub topics: Vec<Topic>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TopicsFile {
    pub criteria: Vec<CriterionTopics>,
}

/// Whether one topic is addressed by a control that applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicCoverage<'a> {
    pub criterion: &'a str,
    pub topic: &'a str,
    pub title: &'a str,
    /// The topic's controls that are among the applicable ones, in file order.
    pub covered_by: Vec<&'a str>,
    /// The topic's controls that are not applicable (absent, or ruled out).
    pub missing: Vec<&'a str>,
    pub covered: bool,
}

/// Which topics are covered, given the ids of the controls that apply (ids compared as
/// written, ignoring ASCII case). Pure: applicability is decided by the caller.
pub fn topic_coverage<'a>(criterion: &'a CriterionTopics, applicable: &BTreeSet<&str>) -> Vec<TopicCoverage<'a>> {
    let applies = |id: &str| applicable.iter().any(|a| a.eq_ignore_ascii_case(id));
    criterion
        .topics
        .iter()
        .map(|t| {
            let (covered_by, missing): (Vec<&str>, Vec<&str>) =
                t.controls.iter().map(String::as_str).partition(|c| applies(c));
            TopicCoverage {
                criterion: &criterion.criterion,
                topic: &t.id,
                title: &t.title,
                covered: !covered_by.is_empty(),
                covered_by,
                missing,
            }
        })
        .collect()
}

fn invalid(file: &str, item: &str, field: &str, reason: impl Into<String>) -> ContentError {
    ContentError::Invalid {
        file: file.into(),
        item: item.into(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Every criterion once, 3–6 topics each, every control known and mapped to the criterion.
pub(crate) fn validate_topics(
    file: &str,
    criteria: &[CriterionTopics],
    fw: &Framework,
    lib: &Library,
    errors: &mut Vec<ContentError>,
) {
    let mut seen = BTreeSet::new();
    for ct in criteria {
        let k = ct.criterion.as_str();
        if fw.criterion(k).is_none_or(|c| c.id != k) {
            errors.push(invalid(file, k, "criterion", format!("unknown criterion '{k}'")));
            continue;
        }
        if !seen.insert(k) {
            errors.push(invalid(file, k, "criterion", "listed twice"));
        }
        if !(3..=6).contains(&ct.topics.len()) {
            errors.push(invalid(
                file,
                k,
                "topics",
                format!("{} topics; each criterion has 3–6", ct.topics.len()),
            ));
        }
        let mut ids = BTreeSet::new();
        for t in &ct.topics {
            let item = format!("{k}/{}", t.id);
            if !is_kebab(&t.id) {
                errors.push(invalid(file, &item, "id", "not kebab-case"));
            }
            if !ids.insert(t.id.as_str()) {
                errors.push(invalid(file, &item, "id", "used twice in this criterion"));
            }
            if t.title.trim().is_empty() {
                errors.push(invalid(file, &item, "title", "empty"));
            }
            if t.controls.is_empty() {
                errors.push(invalid(file, &item, "controls", "no control addresses this topic"));
            }
            for c in &t.controls {
                match lib.control(c).filter(|x| x.id == *c) {
                    None => errors.push(invalid(file, &item, "controls", format!("unknown control '{c}'"))),
                    Some(x) if !x.criteria.iter().any(|m| m == k) => {
                        errors.push(invalid(file, &item, "controls", format!("'{c}' does not map to {k}")))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    for c in &fw.criteria {
        if !seen.contains(c.id.as_str()) {
            errors.push(invalid(file, &c.id, "criterion", "no topics for this criterion"));
        }
    }
}
