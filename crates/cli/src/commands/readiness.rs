//! `evident readiness`: the engine in `core::readiness` over the workspace as it is now.

use std::collections::BTreeMap;
use std::path::Path;

use evident_catalog::Catalog;
use evident_core::checklist::{ChecklistInput, ChecklistItem, Phase, checklist, timeline};
use evident_core::checks::{self, BUILTIN, CheckStatus};
use evident_core::readiness::{self, CheckFact, ControlInput, EvidenceFact, Readiness, Severity, Status};
use evident_core::register::{Record, Value};
use evident_core::registers::TASKS;
use evident_core::{AuditPeriod, parse_date};
use evident_store::{Program, Workspace};
use serde_json::json;

use super::controls::applicability_of;
use super::{open, today};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

pub(crate) struct Assessment {
    pub readiness: Readiness,
    pub start: time::Date,
    pub scope: evident_core::Scope,
    pub checklist: Vec<ChecklistItem>,
    pub timeline: Vec<Phase>,
    /// What the assessment was computed from, for reports that list it.
    pub program: Program,
    /// Seconds spent loading, in the check engine, and in the readiness engine (for `bench`).
    pub timings: Timings,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub(crate) struct Timings {
    pub load: f64,
    pub checks: f64,
    pub readiness: f64,
}

fn day_of(ms: i64) -> time::Date {
    evident_core::date_of_ms(ms).unwrap_or_else(today)
}

pub(crate) async fn assess(ws: &Workspace, dir: &Path) -> Result<Assessment, CliError> {
    let record = ws.scope().await?;
    let Some(scope) = record.scope else {
        return Err(usage(
            "no audit scope set yet, so readiness has nothing to measure; set it first, e.g.\n  \
             evident scope set --type 2 --categories security,availability --window 2027-01-01..2027-06-30",
        ));
    };
    let start = match scope.period {
        AuditPeriod::AsOf(d) => d,
        AuditPeriod::Window { from, .. } => from,
    };
    let today = today();
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
    let now = time::OffsetDateTime::now_utc();
    let rules = super::checks::load_rules(dir)?;
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
                failing_since: failing_since.get(&result.id).map(|at| day_of(*at)),
            });
        }
    }

    let mut evidence: BTreeMap<String, Vec<EvidenceFact>> = BTreeMap::new();
    for item in program.evidence.iter().filter(|e| e.is_current()) {
        let attests = item
            .period_to
            .as_deref()
            .or(item.effective_date.as_deref())
            .and_then(|d| parse_date(d).ok())
            .unwrap_or(today);
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
            .map(|(by, at, outdated)| (by.clone(), day_of(*at), *outdated)),
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
    let kickoff = record.created_at.map(day_of).unwrap_or(today);
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
    })
}

pub(crate) fn severity_name(s: Severity) -> String {
    wire_name(s)
}

/// A unit enum's name as it appears in JSON output (`at_risk`, `missing_evidence`).
pub(crate) fn wire_name(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One task per gap, named so the same gap always maps to the same task.
async fn plan(
    ws: &Workspace,
    r: &Readiness,
    start: Option<time::Date>,
) -> Result<evident_store::WriteSummary, CliError> {
    let existing: BTreeMap<String, Record> = ws
        .records(&TASKS)
        .await?
        .into_iter()
        .map(|t| (t.key, t.record))
        .collect();
    let today = today();
    let mut records = Vec::new();
    for g in &r.gaps {
        let anchor = g.control.clone().or_else(|| g.criterion.clone()).unwrap_or_default();
        let id = format!("GAP-{anchor}-{}-{}", severity_name(g.severity), g.subject)
            .to_uppercase()
            .replace(['_', ' '], "-");
        // A person's progress on the task (its status, its owner) is theirs to keep.
        let kept = existing.get(&id.to_lowercase());
        let status = kept
            .map(|k| k.get("status").clone())
            .unwrap_or_else(|| Value::Text("open".into()));
        let owner = kept
            .and_then(|k| k.get("owner").as_str().map(|o| Value::Text(o.into())))
            .or_else(|| g.owner.clone().map(Value::Text))
            .unwrap_or(Value::Null);
        let values = [
            ("id", Value::Text(id)),
            ("title", Value::Text(g.fix.clone())),
            ("owner", owner),
            ("due_date", Value::Date(readiness::due_date(g.severity, start, today))),
            ("status", status),
            ("control", g.control.clone().map(Value::Text).unwrap_or(Value::Null)),
            ("gap", Value::Text(g.reason.clone())),
        ];
        records.push(Record {
            values: values.into_iter().collect(),
        });
    }
    Ok(ws
        .write_records(&TASKS, &records, "readiness.plan", json!({"gaps": r.gaps.len()}))
        .await?)
}

pub async fn run(dir: &Path, make_plan: bool, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let Assessment {
        readiness: r,
        start,
        checklist,
        timeline,
        ..
    } = assess(&ws, dir).await?;
    let planned = if make_plan {
        Some(plan(&ws, &r, Some(start)).await?)
    } else {
        None
    };
    let counts = json!({
        "ready": r.count(Status::Ready),
        "at_risk": r.count(Status::AtRisk),
        "gap": r.count(Status::Gap),
        "not_applicable": r.count(Status::NotApplicable),
    });
    match format {
        Format::Json => output::json(&json!({
            "score": r.score,
            "controls": counts,
            "criteria": r.criteria,
            "gaps": r.gaps,
            "checklist": checklist,
            "timeline": timeline,
            "control_status": r.controls.iter().filter(|c| c.status != Status::NotApplicable).collect::<Vec<_>>(),
            "plan": planned,
        })),
        Format::Table => {
            println!(
                "Readiness score: {}/100 (criteria covered by a ready control; partial counts half)",
                r.score
            );
            println!(
                "Controls: {} ready, {} at risk, {} with gaps, {} not applicable",
                counts["ready"], counts["at_risk"], counts["gap"], counts["not_applicable"]
            );
            let uncovered = r
                .criteria
                .iter()
                .filter(|c| c.status == readiness::Coverage::Uncovered)
                .count();
            println!("Criteria: {} in scope, {uncovered} uncovered\n", r.criteria.len());
            let mut t = Table::new(&["SEVERITY", "CONTROL", "REASON", "OWNER", "FIX"]);
            for g in r.gaps.iter().take(25) {
                t.row(vec![
                    severity_name(g.severity),
                    g.control.clone().or_else(|| g.criterion.clone()).unwrap_or_default(),
                    g.reason.clone(),
                    g.owner.clone().unwrap_or_else(|| "-".into()),
                    g.fix.clone(),
                ]);
            }
            t.print()?;
            if r.gaps.len() > 25 {
                println!("… and {} more (--format json for all)", r.gaps.len() - 25);
            }
            println!("\nPre-audit checklist:");
            for c in &checklist {
                println!("  [{}] {:<46} {}", if c.done { "x" } else { " " }, c.item, c.why);
            }
            println!("\nTimeline:");
            for p in &timeline {
                let mark = if p.current { "  <- now" } else { "" };
                println!(
                    "  {:<22} {} to {}{mark}",
                    p.phase,
                    evident_core::format_date(p.start),
                    evident_core::format_date(p.end)
                );
            }
            if let Some(p) = planned {
                println!(
                    "\nPlan: {} tasks created, {} updated, {} unchanged (evident tasks list)",
                    p.created, p.updated, p.unchanged
                );
            }
            Ok(())
        }
    }
}
