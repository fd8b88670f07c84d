//! The readiness assessment over the workspace as it is now: the facts and program loaded from
//! the store, the checks and the readiness engine from `core`. Shared by the CLI, the server and
//! the benchmarks.

use std::collections::{BTreeMap, BTreeSet};

use evident_catalog::{Catalog, Category};
use evident_core::checklist::{ChecklistInput, ChecklistItem, Phase, checklist, timeline};
use evident_core::checks::rules::Rule;
use evident_core::checks::{self, BUILTIN, CheckStatus};
use evident_core::readiness::{self, CheckFact, ControlInput, EvidenceFact, Readiness, Severity, Status};
use evident_core::register::Record;
use evident_core::{Applicability, AuditPeriod, Control, applicability};
use serde::Serialize;

use crate::{Program, StoreError, Workspace};

fn day_of(today: time::Date, ms: i64) -> time::Date {
    evident_core::date_of_ms(ms).unwrap_or(today)
}

pub struct Assessment {
    pub readiness: Readiness,
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
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Timings {
    pub load: f64,
    pub checks: f64,
    pub readiness: f64,
}

impl Workspace {
    /// Readiness as of `today`, with the checks run live at `now` (readiness is computed, never stored).
    pub async fn assess(&self, today: time::Date, now: time::OffsetDateTime) -> Result<Assessment, StoreError> {
        let ws = self;
        let record = ws.scope().await?;
        let Some(scope) = record.scope else {
            return Err(StoreError::NoScope);
        };
        let start = match scope.period {
            AuditPeriod::AsOf(d) => d,
            AuditPeriod::Window { from, .. } => from,
        };
        let fw = &Catalog::builtin().framework;
        let criteria: Vec<String> = fw
            .criteria
            .iter()
            .filter(|c| scope.categories.contains(&c.category))
            .map(|c| c.id.clone())
            .collect();

        // Checks run live: readiness is computed, never stored.
        let started = std::time::Instant::now();
        let program = ws.program().await?;
        let facts = ws.facts_of(&program).await?;
        let exclusions = ws.exclusions().await?;
        let rules = ws.rules()?;
        let failing_since = ws.failing_since().await?;
        let mut timings = Timings {
            load: started.elapsed().as_secs_f64(),
            ..Timings::default()
        };
        let started = std::time::Instant::now();
        let mut by_control: BTreeMap<String, Vec<CheckFact>> = BTreeMap::new();
        let mut check_results: BTreeMap<String, checks::CheckResult> = BTreeMap::new();
        let builtin = checks::run_all(BUILTIN, &facts, &exclusions, now);
        let results = BUILTIN
            .iter()
            .zip(builtin)
            .map(|(c, result)| (c.controls.iter().map(|s| s.to_string()).collect::<Vec<_>>(), result))
            .chain(
                rules
                    .iter()
                    .map(|r| (r.controls.clone(), checks::run_rule(r, &facts, &exclusions, now))),
            );
        for (controls, result) in results {
            check_results.insert(result.id.clone(), result.clone());
            for code in controls {
                by_control.entry(code).or_default().push(CheckFact {
                    id: result.id.clone(),
                    failed: result.failed,
                    failing: result.status == CheckStatus::Fail,
                    failing_since: failing_since.get(&result.id).map(|at| day_of(today, *at)),
                });
            }
        }

        let mut evidence: BTreeMap<String, Vec<EvidenceFact>> = BTreeMap::new();
        for item in program.evidence.iter().filter(|e| e.is_current()) {
            let attests = item.attests_to();
            for link in &item.controls {
                evidence.entry(link.control.clone()).or_default().push(EvidenceFact {
                    id: item.id.clone(),
                    requirement: link.requirement.clone(),
                    attests,
                });
            }
        }
        let mut policies: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
        let all_policies = &program.policies;
        for p in all_policies {
            for c in &p.controls {
                policies
                    .entry(c.clone())
                    .or_default()
                    .push((p.id.clone(), p.published().is_some()));
            }
        }
        let in_scope = Some(scope.categories.clone());
        let inputs: Vec<ControlInput> = program
            .controls
            .iter()
            .map(|c| ControlInput {
                applicable: applicability_of(c, in_scope.as_ref()).applicable,
                evidence: evidence.remove(&c.code).unwrap_or_default(),
                checks: by_control.remove(&c.code).unwrap_or_default(),
                policies: policies.remove(&c.code).unwrap_or_default(),
                code: c.code.clone(),
                title: c.title.clone(),
                owner: c.owner_email.clone(),
                criteria: c.criteria.clone(),
                requirements: c.evidence.clone(),
            })
            .collect();
        let grace = facts
            .params
            .get("check_failure_grace_days")
            .and_then(|v| v.parse().ok())
            .unwrap_or(readiness::DEFAULT_GRACE_DAYS);
        timings.checks = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        let r = readiness::assess(&inputs, &criteria, today, grace);

        // The checklist, from the same data.
        let failures = |id: &str| -> Vec<String> {
            check_results
                .get(id)
                .map(|c| c.failures.iter().map(|f| f.record.clone()).collect())
                .unwrap_or_default()
        };
        let staff: Vec<&Record> = facts
            .people
            .iter()
            .filter(|p| evident_core::registers::employed_on(p, today))
            .collect();
        let year_ago = today - time::Duration::days(365);
        let trained = staff
            .iter()
            .filter(|p| {
                facts.training_of(p.get("email").as_str().unwrap_or("")).any(|t| {
                    t.get("kind").as_str() == Some("security_awareness")
                        && t.get("completed_on").as_date().is_some_and(|d| d >= year_ago)
                })
            })
            .count();
        let latest = |kinds: &[&str]| {
            facts
                .events
                .iter()
                .filter(|e| e.get("kind").as_str().is_some_and(|k| kinds.contains(&k)))
                .filter_map(|e| e.get("date").as_date())
                .max()
        };
        let mut vendors_lacking = failures("vendors-critical-report");
        vendors_lacking.extend(failures("vendors-reviewed"));
        vendors_lacking.sort();
        vendors_lacking.dedup();
        let status_of = |code: &str| r.controls.iter().find(|c| c.control == code).map(|c| c.status);
        let (logging_ok, logging_missing): (Vec<String>, Vec<String>) = ["LOG-01", "LOG-04"]
            .iter()
            .map(|c| c.to_string())
            .partition(|c| matches!(status_of(c), Some(Status::Ready | Status::AtRisk)));
        let requirements: usize = inputs
            .iter()
            .filter(|c| c.applicable)
            .map(|c| c.requirements.len())
            .sum();
        let unmet = r
            .controls
            .iter()
            .flat_map(|c| &c.reasons)
            .filter(|x| matches!(x.severity, Severity::MissingEvidence | Severity::StaleEvidence))
            .count();
        let input = ChecklistInput {
            scope_approval: record
                .approval
                .as_ref()
                .map(|(by, at, outdated)| (by.clone(), day_of(today, *at), *outdated)),
            policies: all_policies
                .iter()
                .map(|p| (p.id.clone(), p.published().is_some()))
                .collect(),
            risks: facts.risks.len(),
            risks_signed_off: facts
                .risks
                .iter()
                .filter(|x| x.signed_off.is_some() && !x.sign_off_outdated)
                .count(),
            staff: staff.len(),
            staff_trained: trained,
            important_vendors: facts
                .vendors
                .iter()
                .filter(|v| matches!(v.get("tier").as_str(), Some("critical" | "high")))
                .count(),
            vendors_lacking,
            logging_ok,
            logging_missing,
            scans_recent: check_results.get("scans-recent").and_then(|c| match c.status {
                CheckStatus::NoData => None,
                CheckStatus::Pass => Some(true),
                CheckStatus::Fail => Some(false),
            }),
            vulnerability_policy_published: all_policies
                .iter()
                .any(|p| p.id == "vulnerability-management" && p.published().is_some()),
            last_access_review: latest(&["access_review"]),
            last_recovery_test: latest(&["dr_test", "backup_restore_test"]),
            last_tabletop: latest(&["tabletop_exercise"]),
            today,
            requirements,
            requirements_met: requirements.saturating_sub(unmet),
        };
        let kickoff = record.created_at.map(|ms| day_of(today, ms)).unwrap_or(today);
        let (checklist, timeline) = (checklist(&input), timeline(kickoff, scope.period, today));
        timings.readiness = started.elapsed().as_secs_f64();
        Ok(Assessment {
            timings,
            checklist,
            timeline,
            readiness: r,
            start,
            scope: scope.clone(),
            program,
            facts,
            checks: check_results,
        })
    }
}

impl Workspace {
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
    pub title: String,
    pub area: String,
    pub criteria: Vec<String>,
    pub owner: Option<String>,
    pub owner_role: String,
    pub frequency: String,
    #[serde(flatten)]
    pub applicability: Applicability,
}

pub fn applicability_of(control: &Control, in_scope: Option<&BTreeSet<Category>>) -> Applicability {
    let fw = &Catalog::builtin().framework;
    let criteria: Vec<(&str, Category)> = control
        .criteria
        .iter()
        .filter_map(|k| fw.criterion(k).map(|c| (k.as_str(), c.category)))
        .collect();
    applicability(&criteria, in_scope, control.na_reason.as_deref())
}

pub fn summarise(control: &Control, in_scope: Option<&BTreeSet<Category>>) -> ControlSummary {
    ControlSummary {
        id: control.code.clone(),
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
