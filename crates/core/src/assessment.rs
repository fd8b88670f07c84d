//! The readiness assessment as pure functions over loaded values: run the checks, gather each
//! control's evidence, checks and policies, compute readiness, the pre-audit checklist and the
//! timeline. The store loads; the CLI, the server, the reports and the benchmarks all call
//! [`run_checks`] then [`assess`]. Which control a check tests and which controls the checklist
//! reads come from the content (`checks:`, `checklist:` on a control), never from codes here.

use std::collections::{BTreeMap, BTreeSet};

use evident_catalog::Category;
use time::{Date, OffsetDateTime};

use crate::checklist::{ChecklistInput, ChecklistItem, Phase, checklist, timeline};
use crate::checks::rules::Rule;
use crate::checks::{self, BUILTIN, CheckResult, CheckStatus, Exclusion, Facts};
use crate::evidence::EvidenceItem;
use crate::policy::Policy;
use crate::readiness::{self, CheckFact, ControlInput, EvidenceFact, Readiness, Severity, Status};
use crate::register::Record;
use crate::scope::{AuditPeriod, Scope};
use crate::{Applicability, Control};

/// The program's own records: what the organisation adopted and what it holds as proof.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub controls: Vec<Control>,
    pub evidence: Vec<EvidenceItem>,
    pub policies: Vec<Policy>,
}

/// Whether a control applies under the scope's categories (all apply when no scope is set), by
/// its criteria's categories and any ruling a person made.
pub fn applicability_of(control: &Control, in_scope: Option<&BTreeSet<Category>>) -> Applicability {
    let fw = &evident_catalog::Catalog::builtin().framework;
    let criteria: Vec<(&str, Category)> = control
        .criteria
        .iter()
        .filter_map(|k| fw.criterion(k).map(|c| (k.as_str(), c.category)))
        .collect();
    crate::applicability(&criteria, in_scope, control.na_reason.as_deref())
}

/// Every check's result, built-in then the workspace's rules, and the check facts of each
/// control code they test.
#[derive(Debug, Clone, Default)]
pub struct CheckedProgram {
    pub results: BTreeMap<String, CheckResult>,
    pub by_control: BTreeMap<String, Vec<CheckFact>>,
}

/// Runs every check at `now`. `failing_since` holds, per check, when its current failing
/// streak started (Unix ms), from the kept runs.
pub fn run_checks(
    program: &Program,
    facts: &Facts,
    exclusions: &[Exclusion],
    rules: &[Rule],
    failing_since: &BTreeMap<String, i64>,
    now: OffsetDateTime,
) -> CheckedProgram {
    // A library check tests the adopted controls whose template lists it.
    let mut codes_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in &program.controls {
        for check in c.checks() {
            codes_of.entry(check.as_str()).or_default().push(c.code.clone());
        }
    }
    let builtin = checks::run_all(BUILTIN, facts, exclusions, now);
    let results = BUILTIN
        .iter()
        .zip(builtin)
        .map(|(c, result)| (codes_of.get(c.id).cloned().unwrap_or_default(), result))
        .chain(
            rules
                .iter()
                .map(|r| (r.controls.clone(), checks::run_rule(r, facts, exclusions, now))),
        );
    let today = now.date();
    let mut out = CheckedProgram::default();
    for (controls, result) in results {
        for code in controls {
            out.by_control.entry(code).or_default().push(CheckFact {
                id: result.id.clone(),
                failed: result.failed,
                failing: result.status == CheckStatus::Fail,
                failing_since: failing_since
                    .get(&result.id)
                    .map(|at| crate::date_of_ms(*at).unwrap_or(today)),
            });
        }
        out.results.insert(result.id.clone(), result);
    }
    out
}

/// The scope as it was signed off: (who, when in Unix ms, changed since).
pub type ScopeApproval = (String, i64, bool);

/// A point an auditor looks for under an in-scope criterion that no applicable control
/// addresses: a gap narrower than the whole criterion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TopicGap {
    pub criterion: String,
    pub topic: String,
    pub title: String,
    /// The library controls that would address it (absent or ruled not applicable).
    pub controls: Vec<String>,
}

pub struct Assessment {
    pub readiness: Readiness,
    pub topic_gaps: Vec<TopicGap>,
    /// The day the audit starts (the point in time, or the window's first day).
    pub start: Date,
    pub checklist: Vec<ChecklistItem>,
    pub timeline: Vec<Phase>,
}

/// Readiness, checklist and timeline as of `today`, from the loaded program, the facts and the
/// checks already run. `kickoff` is when the programme began (the timeline starts there).
pub fn assess(
    scope: &Scope,
    approval: Option<&ScopeApproval>,
    kickoff: Date,
    program: &Program,
    facts: &Facts,
    mut checked: CheckedProgram,
    today: Date,
) -> (Assessment, BTreeMap<String, CheckResult>) {
    let fw = &evident_catalog::Catalog::builtin().framework;
    let criteria: Vec<String> = fw
        .criteria
        .iter()
        .filter(|c| scope.categories.contains(&c.category))
        .map(|c| c.id.clone())
        .collect();
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
    for p in &program.policies {
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
            checks: checked.by_control.remove(&c.code).unwrap_or_default(),
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
    let r = readiness::assess(&inputs, &criteria, today, grace);
    let results = checked.results;
    let input = checklist_input(approval, program, facts, &results, &inputs, &r, today);
    let start = match scope.period {
        AuditPeriod::AsOf(d) => d,
        AuditPeriod::Window { from, .. } => from,
    };
    let topic_gaps = topic_gaps(&criteria, program, in_scope.as_ref());
    let assessment = Assessment {
        topic_gaps,
        checklist: checklist(&input),
        timeline: timeline(kickoff, scope.period, today),
        readiness: r,
        start,
    };
    (assessment, results)
}

/// The library ids of the controls that apply (a control without a template by its code): what
/// coverage topics are matched against.
pub fn applicable_templates<'a>(controls: &'a [Control], in_scope: Option<&BTreeSet<Category>>) -> BTreeSet<&'a str> {
    controls
        .iter()
        .filter(|c| applicability_of(c, in_scope).applicable)
        .map(|c| c.template_id.as_deref().unwrap_or(&c.code))
        .collect()
}

/// The coverage topics of the in-scope criteria that no applicable control addresses (controls
/// matched by the library template they were adopted from).
fn topic_gaps(criteria: &[String], program: &Program, in_scope: Option<&BTreeSet<Category>>) -> Vec<TopicGap> {
    let applicable = applicable_templates(&program.controls, in_scope);
    let catalog = evident_catalog::Catalog::builtin();
    criteria
        .iter()
        .flat_map(|k| catalog.coverage_of(k, &applicable))
        .filter(|t| !t.covered)
        .map(|t| TopicGap {
            criterion: t.criterion.to_string(),
            topic: t.topic.to_string(),
            title: t.title.to_string(),
            controls: t.missing.iter().map(|c| c.to_string()).collect(),
        })
        .collect()
}

fn checklist_input(
    approval: Option<&ScopeApproval>,
    program: &Program,
    facts: &Facts,
    results: &BTreeMap<String, CheckResult>,
    inputs: &[ControlInput],
    r: &Readiness,
    today: Date,
) -> ChecklistInput {
    let failures = |id: &str| -> Vec<String> {
        results
            .get(id)
            .map(|c| c.failures.iter().map(|f| f.record.clone()).collect())
            .unwrap_or_default()
    };
    let staff: Vec<&Record> = facts
        .people
        .iter()
        .filter(|p| crate::registers::employed_on(p, today))
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
    let (logging_ok, logging_missing): (Vec<String>, Vec<String>) = program
        .controls
        .iter()
        .filter(|c| c.on_checklist("logging"))
        .map(|c| c.code.clone())
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
    ChecklistInput {
        scope_approval: approval
            .map(|(by, at, outdated)| (by.clone(), crate::date_of_ms(*at).unwrap_or(today), *outdated)),
        policies: program
            .policies
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
        scans_recent: results.get("scans-recent").and_then(|c| match c.status {
            CheckStatus::NoData => None,
            CheckStatus::Pass => Some(true),
            CheckStatus::Fail => Some(false),
        }),
        vulnerability_policy_published: program
            .policies
            .iter()
            .any(|p| p.id == "vulnerability-management" && p.published().is_some()),
        last_access_review: latest(&["access_review"]),
        last_recovery_test: latest(&["dr_test", "backup_restore_test"]),
        last_tabletop: latest(&["tabletop_exercise"]),
        today,
        requirements,
        requirements_met: requirements.saturating_sub(unmet),
    }
}
