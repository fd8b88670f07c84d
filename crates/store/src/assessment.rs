//! The readiness assessment over the workspace as it is now: the facts and program loaded from
//! the store, the checks and the readiness engine from `core`. Shared by the CLI, the server and
//! the benchmarks.

use std::collections::{BTreeMap, BTreeSet};

use evident_catalog::Category;
use evident_core::assessment::{self as engine, Program};
use evident_core::checklist::{ChecklistItem, Phase};
use evident_core::checks::rules::Rule;
use evident_core::checks::{self, BUILTIN};
use evident_core::evidence::EvidenceItem;
use evident_core::readiness::Readiness;
use evident_core::{Applicability, Control};
use serde::Serialize;

pub use evident_core::assessment::applicability_of;

use crate::{StoreError, Workspace};

pub struct Assessment {
    pub readiness: Readiness,
    /// Points auditors look for under in-scope criteria that no applicable control addresses.
    pub topic_gaps: Vec<evident_core::assessment::TopicGap>,
    pub start: time::Date,
    pub scope: evident_core::Scope,
    pub checklist: Vec<ChecklistItem>,
    pub timeline: Vec<Phase>,
    /// What the assessment was computed from, for reports that list it.
    pub program: Program,
    /// The facts the checks read, and each check's result (failing records included).
    pub facts: checks::Facts,
    pub checks: BTreeMap<String, checks::CheckResult>,
    /// Seconds spent loading, in the check engine, and in the readiness engine (for `bench`).
    pub timings: Timings,
    /// What it was computed from besides the program and the facts, kept so it can be brought
    /// up to date after an evidence write without loading everything again.
    pub basis: Basis,
}

/// The inputs of an assessment that no evidence write changes.
#[derive(Debug, Clone)]
pub struct Basis {
    pub digest: engine::FactsDigest,
    pub approval: Option<engine::ScopeApproval>,
    pub kickoff: time::Date,
    pub exclusions: Vec<checks::Exclusion>,
    pub rules: Vec<Rule>,
    pub failing_since: BTreeMap<String, i64>,
}

impl Assessment {
    /// Drops the facts no longer needed once the checks have run (most of the memory on a large
    /// program), keeping those [`Workspace::reassess_after_evidence`] reads.
    pub fn keep_only_evidence_reader_facts(&mut self) {
        self.facts = engine::evidence_reader_facts(&self.facts);
    }
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Timings {
    pub load: f64,
    pub checks: f64,
    pub readiness: f64,
}

impl Workspace {
    /// Readiness as of `today`, with the checks run live at `now` (readiness is computed, never
    /// stored): loads the program and the facts, then calls the pure engine in
    /// `evident_core::assessment`.
    pub async fn assess(&self, today: time::Date, now: time::OffsetDateTime) -> Result<Assessment, StoreError> {
        let record = self.scope().await?;
        let Some(scope) = record.scope else {
            return Err(StoreError::NoScope);
        };
        let started = std::time::Instant::now();
        let program = self.program().await?;
        let facts = self.facts_of(&program).await?;
        let exclusions = self.exclusions().await?;
        let rules = self.rules()?;
        let failing_since = self.failing_since().await?;
        let mut timings = Timings {
            load: started.elapsed().as_secs_f64(),
            ..Timings::default()
        };
        let started = std::time::Instant::now();
        let checked = engine::run_checks(&program, &facts, &exclusions, &rules, &failing_since, now);
        timings.checks = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        let kickoff = record.created_at.and_then(evident_core::date_of_ms).unwrap_or(today);
        let digest = engine::FactsDigest::of(&facts, today);
        let (a, checks) = engine::assess(
            &scope,
            record.approval.as_ref(),
            kickoff,
            &program,
            &digest,
            checked,
            today,
        );
        timings.readiness = started.elapsed().as_secs_f64();
        Ok(Assessment {
            basis: Basis {
                digest,
                approval: record.approval,
                kickoff,
                exclusions,
                rules,
                failing_since,
            },
            topic_gaps: a.topic_gaps,
            timings,
            checklist: a.checklist,
            timeline: a.timeline,
            readiness: a.readiness,
            start: a.start,
            scope,
            program,
            facts,
            checks,
        })
    }
}

impl Workspace {
    /// `previous` brought up to date after writes that changed only the evidence library (new
    /// items, versions, withdrawals, links): the library is read again, the checks that read it
    /// run again, readiness is recomputed; the rest of the facts are not loaded. The same result
    /// as [`Workspace::assess`] on the same day, in a fraction of the time.
    ///
    /// `changed` names the items the writes touched (from their audit-log entries): only those
    /// are read again, and the versions they supersede; `None` reads the whole library.
    pub async fn reassess_after_evidence(
        &self,
        previous: &Assessment,
        changed: Option<&[String]>,
        now: time::OffsetDateTime,
    ) -> Result<Assessment, StoreError> {
        let started = std::time::Instant::now();
        let evidence = match changed {
            Some(ids) => self.evidence_patched(&previous.program.evidence, ids).await?,
            None => self.evidence().await?,
        };
        let program = Program {
            controls: previous.program.controls.clone(),
            evidence,
            policies: previous.program.policies.clone(),
        };
        let mut facts = engine::evidence_reader_facts(&previous.facts);
        facts.current_evidence = current_evidence(&program);
        let basis = previous.basis.clone();
        let mut timings = Timings {
            load: started.elapsed().as_secs_f64(),
            ..Timings::default()
        };
        let started = std::time::Instant::now();
        let checked = engine::rerun_evidence_readers(
            &program,
            &facts,
            previous.checks.clone(),
            &basis.exclusions,
            &basis.rules,
            &basis.failing_since,
            now,
        );
        timings.checks = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        let (a, checks) = engine::assess(
            &previous.scope,
            basis.approval.as_ref(),
            basis.kickoff,
            &program,
            &basis.digest,
            checked,
            now.date(),
        );
        timings.readiness = started.elapsed().as_secs_f64();
        Ok(Assessment {
            topic_gaps: a.topic_gaps,
            timings,
            checklist: a.checklist,
            timeline: a.timeline,
            readiness: a.readiness,
            start: a.start,
            scope: previous.scope.clone(),
            program,
            facts,
            checks,
            basis,
        })
    }

    /// `library` (sorted by id) with the items `ids` read again from the store, and the
    /// versions they supersede (a new version marks its predecessor superseded); an item no
    /// longer stored leaves the library.
    async fn evidence_patched(
        &self,
        library: &[EvidenceItem],
        ids: &[String],
    ) -> Result<Vec<EvidenceItem>, StoreError> {
        let mut wanted: BTreeSet<String> = ids.iter().cloned().collect();
        let mut read: BTreeMap<String, Option<EvidenceItem>> = BTreeMap::new();
        while let Some(id) = wanted.pop_first() {
            let item = match self.evidence_item(&id).await {
                Ok(item) => Some(item),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            if let Some(older) = item.as_ref().and_then(|i| i.supersedes.as_ref())
                && !read.contains_key(older)
            {
                wanted.insert(older.clone());
            }
            read.insert(id, item);
        }
        let mut out = library.to_vec();
        for (id, item) in read {
            match (out.binary_search_by(|e| e.id.cmp(&id)), item) {
                (Ok(i), Some(item)) => out[i] = item,
                (Ok(i), None) => {
                    out.remove(i);
                }
                (Err(i), Some(item)) => out.insert(i, item),
                (Err(_), None) => {}
            }
        }
        Ok(out)
    }

    pub fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        load_rules(&self.dir)
    }
}

/// The custom rules in a workspace folder (`checks/*.yaml`, `*.yml`, `*.json`), checked strictly.
pub fn load_rules(dir: &std::path::Path) -> Result<Vec<Rule>, StoreError> {
    let folder = dir.join("checks");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json"))
        .collect();
    files.sort();
    let builtin: Vec<&str> = BUILTIN.iter().map(|c| c.id).collect();
    let controls: Vec<String> = evident_catalog::Catalog::builtin()
        .library
        .controls
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let mut rules: Vec<Rule> = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(&f).map_err(|e| StoreError::Invalid(format!("{name}: {e}")))?;
        for r in checks::rules::parse(&name, &text, &builtin, &controls).map_err(StoreError::Invalid)? {
            if rules.iter().any(|x| x.id == r.id) {
                return Err(StoreError::Invalid(format!("{name}: rule '{}' is defined twice", r.id)));
            }
            rules.push(r);
        }
    }
    Ok(rules)
}

/// A control as listings show it: the stored record plus its computed applicability.
#[derive(Debug, Serialize)]
pub struct ControlSummary {
    pub id: String,
    /// The library template it was adopted from.
    pub template: Option<String>,
    pub title: String,
    pub area: String,
    pub criteria: Vec<String>,
    pub owner: Option<String>,
    pub owner_role: String,
    pub frequency: String,
    #[serde(flatten)]
    pub applicability: Applicability,
}

pub fn summarise(control: &Control, in_scope: Option<&BTreeSet<Category>>) -> ControlSummary {
    ControlSummary {
        id: control.code.clone(),
        template: control.template_id.clone(),
        title: control.title.clone(),
        area: control.area.clone(),
        criteria: control.criteria.clone(),
        owner: control.owner_email.clone(),
        owner_role: control.owner_role.to_string(),
        frequency: control.frequency.to_string(),
        applicability: applicability_of(control, in_scope),
    }
}

/// All controls with their applicability under the current scope.
impl Workspace {
    pub async fn control_summaries(&self) -> Result<Vec<ControlSummary>, StoreError> {
        let in_scope = self.scope_categories().await?;
        Ok(self
            .controls()
            .await?
            .iter()
            .map(|c| summarise(c, in_scope.as_ref()))
            .collect())
    }
}

/// The ids of the items in force (not withdrawn or superseded): what checks look evidence up by.
pub(crate) fn current_evidence(program: &Program) -> Vec<String> {
    program
        .evidence
        .iter()
        .filter(|e| e.is_current())
        .map(|e| e.id.clone())
        .collect()
}
