//! Parses and validates content. The built-in catalog is parsed once, on first use.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Serialize;

use crate::controls::AreaFile;
use crate::templates::{RiskFile, parse_policy, validate_control_placeholders, validate_policies, validate_risks};
use crate::topics::{CriterionTopics, TopicsFile, validate_topics};
use crate::{Category, ContentError, Framework, Library, PolicyTemplate, RiskTemplate, placeholders};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// A named piece of content text, so errors can say which file they are about.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub framework: Framework,
    pub library: Library,
    pub risks: Vec<RiskTemplate>,
    pub policies: Vec<PolicyTemplate>,
    /// What an auditor looks for under each criterion, and the controls that address it.
    pub topics: Vec<CriterionTopics>,
}

impl Catalog {
    /// The content compiled into this binary. Its validity is proven by the test suite,
    /// so a failure here is a build defect, not bad user input.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Catalog::from_sources(Self::builtin_criteria_source(), &Self::builtin_control_sources())
                .and_then(|c| c.with_templates(Self::builtin_risk_source(), &Self::builtin_policy_sources()))
                .and_then(|c| c.with_topics(Self::builtin_topics_source()))
                .unwrap_or_else(|errs| {
                    let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
                    panic!("built-in content is invalid:\n{}", lines.join("\n"))
                })
        })
    }

    pub fn builtin_criteria_source() -> Source<'static> {
        Source {
            name: CRITERIA_FILE.0,
            text: CRITERIA_FILE.1,
        }
    }

    pub fn builtin_risk_source() -> Source<'static> {
        Source {
            name: RISK_FILE.0,
            text: RISK_FILE.1,
        }
    }

    pub fn builtin_topics_source() -> Source<'static> {
        Source {
            name: TOPICS_FILE.0,
            text: TOPICS_FILE.1,
        }
    }

    /// Adds the coverage topics, checked against the framework and the control library.
    pub fn with_topics(mut self, topics: Source<'_>) -> Result<Catalog, Vec<ContentError>> {
        let file: TopicsFile = serde_yaml::from_str(topics.text).map_err(|e| {
            vec![ContentError::Parse {
                file: topics.name.into(),
                reason: e.to_string(),
            }]
        })?;
        let mut errors = Vec::new();
        validate_topics(topics.name, &file.criteria, &self.framework, &self.library, &mut errors);
        if errors.is_empty() {
            self.topics = file.criteria;
            Ok(self)
        } else {
            Err(errors)
        }
    }

    pub fn builtin_policy_sources() -> Vec<Source<'static>> {
        POLICY_FILES.iter().map(|(name, text)| Source { name, text }).collect()
    }

    /// Adds the risk library and policy templates, checked against the control library.
    pub fn with_templates(mut self, risks: Source<'_>, policies: &[Source<'_>]) -> Result<Catalog, Vec<ContentError>> {
        let mut errors = Vec::new();
        match serde_yaml::from_str::<RiskFile>(risks.text) {
            Ok(f) => {
                validate_risks(risks.name, &f.risks, &self.library, &mut errors);
                self.risks = f.risks;
            }
            Err(e) => errors.push(ContentError::Parse {
                file: risks.name.into(),
                reason: e.to_string(),
            }),
        }
        for p in policies {
            match parse_policy(p.name, p.text) {
                Ok(t) => self.policies.push(t),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            let names: Vec<&str> = policies.iter().map(|p| p.name).collect();
            validate_policies(&names, &self.policies, &self.library, &mut errors);
            validate_control_placeholders(&self.library, &self.policies, &mut errors);
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }

    /// The topics of a criterion (empty for an unknown one).
    pub fn topics_of(&self, criterion: &str) -> &[crate::Topic] {
        self.topics
            .iter()
            .find(|t| t.criterion.eq_ignore_ascii_case(criterion))
            .map(|t| t.topics.as_slice())
            .unwrap_or_default()
    }

    /// Which topics of a criterion the applicable controls cover (see [`crate::topic_coverage`]).
    pub fn coverage_of<'a>(&'a self, criterion: &str, applicable: &BTreeSet<&str>) -> Vec<crate::TopicCoverage<'a>> {
        self.topics
            .iter()
            .find(|t| t.criterion.eq_ignore_ascii_case(criterion))
            .map(|t| crate::topic_coverage(t, applicable))
            .unwrap_or_default()
    }

    /// Policy templates that implement a control, in policy order.
    pub fn policies_implementing<'a>(&'a self, control: &'a str) -> impl Iterator<Item = &'a PolicyTemplate> {
        self.policies
            .iter()
            .filter(move |p| p.controls.iter().any(|c| c == control))
    }

    /// A control's text with the organisation's parameter values (keys as the policies name
    /// them); a parameter without a value reads its template default.
    pub fn control_text(&self, id: &str, values: &BTreeMap<String, String>) -> Option<crate::ControlText> {
        self.library
            .control(id)
            .map(|c| crate::render_control(c, &self.policies, values))
    }

    pub fn builtin_control_sources() -> Vec<Source<'static>> {
        CONTROL_FILES.iter().map(|(name, text)| Source { name, text }).collect()
    }

    /// Parses and validates a framework and its control library, reporting every problem found.
    pub fn from_sources(criteria: Source<'_>, controls: &[Source<'_>]) -> Result<Catalog, Vec<ContentError>> {
        let mut errors = Vec::new();
        let framework: Framework = match serde_yaml::from_str(criteria.text) {
            Ok(f) => f,
            Err(e) => {
                return Err(vec![ContentError::Parse {
                    file: criteria.name.into(),
                    reason: e.to_string(),
                }]);
            }
        };
        validate_framework(criteria.name, &framework, &mut errors);

        let mut library = Library::default();
        for source in controls {
            match serde_yaml::from_str::<AreaFile>(source.text) {
                Ok(file) => {
                    let (area_id, category) = (file.area.id.clone(), file.area.category);
                    library.areas.push(file.area);
                    library.controls.extend(file.controls.into_iter().map(|mut c| {
                        c.area = area_id.clone();
                        c.category = category;
                        c
                    }));
                    library.retired.extend(file.retired);
                }
                Err(e) => errors.push(ContentError::Parse {
                    file: source.name.into(),
                    reason: e.to_string(),
                }),
            }
        }
        if errors.is_empty() {
            validate_library(controls, &framework, &library, &mut errors);
        }
        if errors.is_empty() {
            Ok(Catalog {
                framework,
                library,
                risks: Vec::new(),
                policies: Vec::new(),
                topics: Vec::new(),
            })
        } else {
            Err(errors)
        }
    }
}

fn invalid(file: &str, item: &str, field: &str, reason: impl Into<String>) -> ContentError {
    ContentError::Invalid {
        file: file.into(),
        item: item.into(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn validate_framework(file: &str, fw: &Framework, errors: &mut Vec<ContentError>) {
    let mut seen_categories = BTreeSet::new();
    for c in &fw.categories {
        if !seen_categories.insert(c.id) {
            errors.push(invalid(file, c.id.as_str(), "id", "category listed twice"));
        }
    }
    for missing in Category::ALL.iter().filter(|c| !seen_categories.contains(c)) {
        errors.push(invalid(file, missing.as_str(), "categories", "category missing"));
    }

    let mut series = BTreeMap::new();
    for s in &fw.series {
        if series.insert(s.id.as_str(), s).is_some() {
            errors.push(invalid(file, &s.id, "id", "series listed twice"));
        }
    }

    let mut ids = BTreeSet::new();
    for c in &fw.criteria {
        if !ids.insert(c.id.as_str()) {
            errors.push(invalid(file, &c.id, "id", "criterion listed twice"));
        }
        match series.get(c.series.as_str()) {
            None => errors.push(invalid(file, &c.id, "series", format!("unknown series '{}'", c.series))),
            Some(s) if s.category != c.category => errors.push(invalid(
                file,
                &c.id,
                "category",
                format!("'{}' differs from its series' category '{}'", c.category, s.category),
            )),
            Some(_) => {}
        }
        if !c.id.starts_with(&format!("{}.", c.series)) {
            errors.push(invalid(
                file,
                &c.id,
                "id",
                format!("does not belong to series '{}'", c.series),
            ));
        }
        // COSO principles map to the control environment through monitoring series only.
        let coso_series = ["CC1", "CC2", "CC3", "CC4", "CC5"].contains(&c.series.as_str());
        match (coso_series, c.coso_principle) {
            (true, None) => errors.push(invalid(file, &c.id, "coso_principle", "required for CC1–CC5")),
            (true, Some(p)) if !(1..=17).contains(&p) => {
                errors.push(invalid(file, &c.id, "coso_principle", "must be 1–17"))
            }
            (false, Some(_)) => errors.push(invalid(file, &c.id, "coso_principle", "only CC1–CC5 have one")),
            _ => {}
        }
        if c.title.trim().is_empty() {
            errors.push(invalid(file, &c.id, "title", "empty"));
        }
        if c.explanation.trim().is_empty() {
            errors.push(invalid(file, &c.id, "explanation", "empty"));
        }
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

fn validate_library(sources: &[Source<'_>], fw: &Framework, lib: &Library, errors: &mut Vec<ContentError>) {
    let file_of_area: BTreeMap<&str, &str> = lib
        .areas
        .iter()
        .zip(sources)
        .map(|(a, s)| (a.id.as_str(), s.name))
        .collect();
    let mut prefixes = BTreeMap::new();
    for (area, source) in lib.areas.iter().zip(sources) {
        let stem = source
            .name
            .rsplit('/')
            .next()
            .unwrap_or(source.name)
            .trim_end_matches(".yaml");
        if area.id != stem {
            errors.push(invalid(
                source.name,
                &area.id,
                "area.id",
                format!("must equal the file name '{stem}'"),
            ));
        }
        let prefix_ok = (2..=4).contains(&area.prefix.len()) && area.prefix.chars().all(|c| c.is_ascii_uppercase());
        if !prefix_ok {
            errors.push(invalid(
                source.name,
                &area.id,
                "area.prefix",
                "must be 2–4 capital letters",
            ));
        }
        if let Some(other) = prefixes.insert(area.prefix.as_str(), area.id.as_str()) {
            errors.push(invalid(
                source.name,
                &area.id,
                "area.prefix",
                format!("already used by area '{other}'"),
            ));
        }
    }

    let mut ids = BTreeSet::new();
    let mut covered = BTreeSet::new();
    let mut retired = BTreeSet::new();
    for r in &lib.retired {
        let file = lib
            .areas
            .iter()
            .find(|a| r.id.starts_with(&format!("{}-", a.prefix)))
            .and_then(|a| file_of_area.get(a.id.as_str()).copied())
            .unwrap_or("content/soc2/controls");
        if !retired.insert(r.id.as_str()) {
            errors.push(invalid(file, &r.id, "retired", "retired twice"));
        }
        if lib.controls.iter().any(|c| c.id == r.id) {
            errors.push(invalid(
                file,
                &r.id,
                "retired",
                "a retired id is never reused by a live control",
            ));
        }
        if r.reason.trim().is_empty() {
            errors.push(invalid(file, &r.id, "retired.reason", "empty"));
        }
        for k in &r.replaced_by {
            if lib.control(k).is_none_or(|t| t.id != *k) {
                errors.push(invalid(
                    file,
                    &r.id,
                    "retired.replaced_by",
                    format!("unknown control '{k}'"),
                ));
            }
        }
    }
    for c in &lib.controls {
        let file = file_of_area.get(c.area.as_str()).copied().unwrap_or("content");
        let prefix = lib
            .areas
            .iter()
            .find(|a| a.id == c.area)
            .map(|a| a.prefix.as_str())
            .unwrap_or("");
        if !ids.insert(c.id.as_str()) {
            errors.push(invalid(file, &c.id, "id", "control id used twice"));
        }
        let id_ok =
            c.id.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|n| n.len() == 2 && n.chars().all(|d| d.is_ascii_digit()));
        if !id_ok {
            errors.push(invalid(file, &c.id, "id", format!("must look like {prefix}-NN")));
        }
        for (field, text) in [("title", &c.title), ("description", &c.description)] {
            if text.trim().is_empty() {
                errors.push(invalid(file, &c.id, field, "empty"));
            }
        }
        if c.evidence.is_empty() {
            errors.push(invalid(
                file,
                &c.id,
                "evidence",
                "at least one evidence requirement is needed",
            ));
        }
        let mut keys = BTreeSet::new();
        for e in &c.evidence {
            if !is_kebab(&e.key) {
                errors.push(invalid(
                    file,
                    &c.id,
                    "evidence.key",
                    format!("'{}' is not kebab-case", e.key),
                ));
            }
            if !keys.insert(e.key.as_str()) {
                errors.push(invalid(file, &c.id, "evidence.key", format!("'{}' used twice", e.key)));
            }
            if e.title.trim().is_empty() {
                errors.push(invalid(
                    file,
                    &c.id,
                    "evidence.title",
                    format!("'{}' has no title", e.key),
                ));
            }
        }
        for (field, names) in [
            ("checks", &c.checks),
            ("collected_by", &c.collected_by),
            ("checklist", &c.checklist),
        ] {
            for n in names {
                if !is_kebab(n) {
                    errors.push(invalid(file, &c.id, field, format!("'{n}' is not kebab-case")));
                }
            }
            if names.iter().collect::<BTreeSet<_>>().len() != names.len() {
                errors.push(invalid(file, &c.id, field, "a name is listed twice"));
            }
        }
        if c.criteria.is_empty() {
            errors.push(invalid(file, &c.id, "criteria", "maps to no criterion"));
        }
        validate_categories(file, c, fw, errors);
        if c.no_policy.as_deref().is_some_and(|r| r.trim().is_empty()) {
            errors.push(invalid(
                file,
                &c.id,
                "no_policy",
                "give the reason no policy implements it",
            ));
        }
        let texts = std::iter::once(("title", c.title.as_str()))
            .chain(std::iter::once(("description", c.description.as_str())))
            .chain(c.testing.as_deref().map(|t| ("testing", t)));
        for (field, text) in texts {
            for ph in placeholders(text) {
                if crate::templates::param_placeholder(ph).is_none() {
                    errors.push(invalid(
                        file,
                        &c.id,
                        field,
                        format!("'{{{{{ph}}}}}' is not a placeholder of the form {{{{param.<policy>.<key>}}}}"),
                    ));
                }
            }
        }
        let mut mapped = BTreeSet::new();
        for k in &c.criteria {
            if fw.criterion(k).is_none_or(|cr| cr.id != *k) {
                errors.push(invalid(file, &c.id, "criteria", format!("unknown criterion '{k}'")));
            } else if !mapped.insert(k.as_str()) {
                errors.push(invalid(file, &c.id, "criteria", format!("'{k}' listed twice")));
            }
            covered.insert(k.as_str());
        }
    }
    for cr in &fw.criteria {
        if !covered.contains(cr.id.as_str()) {
            errors.push(invalid(
                "content/soc2/controls",
                &cr.id,
                "criteria",
                "no control maps to this criterion",
            ));
        }
    }
}

/// A control's criteria lie in its own category or in one it declares in `also_serves`;
/// privacy and processing-integrity controls never serve security, and nothing is declared
/// that no criterion uses.
fn validate_categories(file: &str, c: &crate::ControlTemplate, fw: &Framework, errors: &mut Vec<ContentError>) {
    let own = c.category;
    let mut declared = BTreeSet::new();
    for cat in &c.also_serves {
        if *cat == own {
            errors.push(invalid(
                file,
                &c.id,
                "also_serves",
                format!("'{cat}' is the control's own category"),
            ));
        }
        if !declared.insert(*cat) {
            errors.push(invalid(file, &c.id, "also_serves", format!("'{cat}' listed twice")));
        }
    }
    if matches!(own, Category::Privacy | Category::ProcessingIntegrity) && declared.contains(&Category::Security) {
        errors.push(invalid(
            file,
            &c.id,
            "also_serves",
            format!(
                "a {own} control may not serve security: a Security-only audit would test it; \
                 make the common part a control of its own"
            ),
        ));
    }
    let mut used = BTreeSet::new();
    for k in &c.criteria {
        let Some(cr) = fw.criterion(k) else { continue };
        used.insert(cr.category);
        if cr.category != own && !declared.contains(&cr.category) {
            errors.push(invalid(
                file,
                &c.id,
                "criteria",
                format!(
                    "'{k}' is a {} criterion, outside the control's own category {own}; \
                     declare it with also_serves: [{}] if that is deliberate",
                    cr.category, cr.category
                ),
            ));
        }
    }
    for cat in declared.iter().filter(|cat| !used.contains(cat)) {
        errors.push(invalid(
            file,
            &c.id,
            "also_serves",
            format!("declares '{cat}' but maps to no {cat} criterion"),
        ));
    }
}
