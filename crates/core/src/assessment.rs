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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    let builtin = checks::run_all(BUILTIN, facts, exclusions, now);
    let results = builtin
        .into_iter()
        .chain(rules.iter().map(|r| checks::run_rule(r, facts, exclusions, now)));
    checked(program, rules, results, failing_since, now.date())
}

/// The built-in checks that read which evidence is current. No other check, and no workspace
/// rule, reads the evidence library, so a write that changes only the library needs only these
/// run again (a test holds every built-in check to this).
pub const EVIDENCE_READERS: [&str; 2] = ["vendors-critical-report", "events-have-evidence"];

/// The only facts [`EVIDENCE_READERS`] read: what a reader keeps to run them again without
/// loading the rest.
pub fn evidence_reader_facts(facts: &Facts) -> Facts {
    Facts {
        vendors: facts.vendors.clone(),
        events: facts.events.clone(),
        params: facts.params.clone(),
        current_evidence: facts.current_evidence.clone(),
        ..Facts::default()
    }
}

/// The checks after a write that changed only the evidence library: [`EVIDENCE_READERS`] run
/// again over `facts` (which must hold the library as it is now), every other result is kept
/// from `previous`. The same as [`run_checks`] over the full facts, at a fraction of the cost.
pub fn rerun_evidence_readers(
    program: &Program,
    facts: &Facts,
    mut previous: BTreeMap<String, CheckResult>,
    exclusions: &[Exclusion],
    rules: &[Rule],
    failing_since: &BTreeMap<String, i64>,
    now: OffsetDateTime,
) -> CheckedProgram {
    let results: Vec<CheckResult> = BUILTIN
        .iter()
        .map(|c| c.id)
        .chain(rules.iter().map(|r| r.id.as_str()))
        .filter_map(|id| match (EVIDENCE_READERS.contains(&id), checks::by_id(id)) {
            (true, Some(def)) => Some(checks::run(def, facts, exclusions, now)),
            _ => previous.remove(id),
        })
        .collect();
    checked(program, rules, results, failing_since, now.date())
}

/// Results in the order checks run (built-in, then the rules), with the check facts of each
/// control they test: a library check tests the adopted controls whose template lists it, a
/// rule the controls it names.
fn checked(
    program: &Program,
    rules: &[Rule],
    results: impl IntoIterator<Item = CheckResult>,
    failing_since: &BTreeMap<String, i64>,
    today: Date,
) -> CheckedProgram {
    let mut codes_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in &program.controls {
        for check in c.checks() {
            codes_of.entry(check.as_str()).or_default().push(c.code.clone());
        }
    }
    for r in rules {
        codes_of.insert(r.id.as_str(), r.controls.clone());
    }
    let mut out = CheckedProgram::default();
    for result in results {
        for code in codes_of.get(result.id.as_str()).into_iter().flatten() {
            out.by_control.entry(code.clone()).or_default().push(CheckFact {
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
    digest: &FactsDigest,
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
    let r = readiness::assess(&inputs, &criteria, today, digest.grace_days);
    let results = checked.results;
    let input = checklist_input(approval, program, digest, &results, &inputs, &r, today);
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

/// What the checklist and readiness read from the facts, counted once: an assessment brought
/// up to date after an evidence write reuses it instead of keeping every record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsDigest {
    /// Days a failing check may stay failing before readiness counts it (a policy parameter).
    pub grace_days: i64,
    /// People employed on the day, and those of them with security awareness training in the
    /// year before it.
    pub staff: usize,
    pub staff_trained: usize,
    pub risks: usize,
    pub risks_signed_off: usize,
    /// Vendors of the critical and high tiers.
    pub important_vendors: usize,
    pub last_access_review: Option<Date>,
    pub last_recovery_test: Option<Date>,
    pub last_tabletop: Option<Date>,
}

impl FactsDigest {
    pub fn of(facts: &Facts, today: Date) -> FactsDigest {
        let staff: Vec<&Record> = facts
            .people
            .iter()
            .filter(|p| crate::registers::employed_on(p, today))
            .collect();
        let year_ago = today - time::Duration::days(365);
        let staff_trained = staff
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
        FactsDigest {
            grace_days: facts
                .params
                .get("check_failure_grace_days")
                .and_then(|v| v.parse().ok())
                .unwrap_or(readiness::DEFAULT_GRACE_DAYS),
            staff: staff.len(),
            staff_trained,
            risks: facts.risks.len(),
            risks_signed_off: facts
                .risks
                .iter()
                .filter(|x| x.signed_off.is_some() && !x.sign_off_outdated)
                .count(),
            important_vendors: facts
                .vendors
                .iter()
                .filter(|v| matches!(v.get("tier").as_str(), Some("critical" | "high")))
                .count(),
            last_access_review: latest(&["access_review"]),
            last_recovery_test: latest(&["dr_test", "backup_restore_test"]),
            last_tabletop: latest(&["tabletop_exercise"]),
        }
    }
}

fn checklist_input(
    approval: Option<&ScopeApproval>,
    program: &Program,
    digest: &FactsDigest,
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
        risks: digest.risks,
        risks_signed_off: digest.risks_signed_off,
        staff: digest.staff,
        staff_trained: digest.staff_trained,
        important_vendors: digest.important_vendors,
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
        last_access_review: digest.last_access_review,
        last_recovery_test: digest.last_recovery_test,
        last_tabletop: digest.last_tabletop,
        today,
        requirements,
        requirements_met: requirements.saturating_sub(unmet),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Size, company};
    use crate::register::Value;
    use time::macros::datetime;

    /// A generated company whose vendors and events name evidence, half of it in force.
    fn facts_naming_evidence() -> Facts {
        let now = datetime!(2026-11-23 12:00 UTC);
        let mut facts = company(Size::S, 1, now, evident_catalog::Catalog::builtin()).check_facts();
        let mut ids = Vec::new();
        for (n, v) in facts.vendors.iter_mut().enumerate() {
            let id = format!("ev-vendor-{n}");
            v.values.insert("soc2_report", Value::List(vec![id.clone()]));
            ids.push(id);
        }
        for (n, e) in facts.events.iter_mut().enumerate() {
            let id = format!("ev-event-{n}");
            e.values.insert("evidence", Value::List(vec![id.clone()]));
            ids.push(id);
        }
        facts.current_evidence = ids.into_iter().step_by(2).collect();
        facts
    }

    fn without_evidence(facts: &Facts) -> Facts {
        Facts {
            current_evidence: Vec::new(),
            index: Default::default(),
            ..facts.clone()
        }
    }

    #[test]
    fn only_the_evidence_readers_read_the_evidence_library() {
        let now = datetime!(2026-11-23 12:00 UTC);
        let facts = facts_naming_evidence();
        let bare = without_evidence(&facts);
        let kept = evidence_reader_facts(&facts);
        for def in BUILTIN {
            let with = checks::outcomes(def, &facts, now);
            if EVIDENCE_READERS.contains(&def.id) {
                assert_ne!(
                    with,
                    checks::outcomes(def, &bare, now),
                    "{}: the test data must make the library matter",
                    def.id
                );
                assert_eq!(
                    with,
                    checks::outcomes(def, &kept, now),
                    "{} reads a fact evidence_reader_facts drops",
                    def.id
                );
            } else {
                assert_eq!(
                    with,
                    checks::outcomes(def, &bare, now),
                    "{} reads the evidence library but is not in EVIDENCE_READERS",
                    def.id
                );
            }
        }
    }

    #[test]
    fn rerunning_the_evidence_readers_equals_running_every_check() {
        let now = datetime!(2026-11-23 12:00 UTC);
        let before = facts_naming_evidence();
        let program = Program::default();
        let previous = run_checks(&program, &before, &[], &[], &BTreeMap::new(), now);
        // The library changes: what was in force is withdrawn and the rest arrives.
        let mut after = without_evidence(&before);
        let all: Vec<String> = before
            .vendors
            .iter()
            .chain(&before.events)
            .flat_map(|r| match r.get("soc2_report") {
                Value::List(ids) => ids.clone(),
                _ => match r.get("evidence") {
                    Value::List(ids) => ids.clone(),
                    _ => Vec::new(),
                },
            })
            .collect();
        after.current_evidence = all
            .into_iter()
            .filter(|id| !before.current_evidence.contains(id))
            .collect();
        let full = run_checks(&program, &after, &[], &[], &BTreeMap::new(), now);
        let incremental = rerun_evidence_readers(
            &program,
            &evidence_reader_facts(&after),
            previous.results.clone(),
            &[],
            &[],
            &BTreeMap::new(),
            now,
        );
        assert_ne!(previous, full, "the change must show in the results");
        assert_eq!(incremental, full);
    }
}
