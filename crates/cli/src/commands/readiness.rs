//! `evident readiness`: the engine in `core::readiness` over the workspace as it is now.

use std::path::Path;

use evident_core::readiness::{self, Severity, Status};
use evident_store::{Assessment, Workspace};
use serde_json::json;

use super::{open, today};
use crate::error::CliError;
use crate::output::{self, Format, Table};

pub(crate) async fn assess(ws: &Workspace) -> Result<Assessment, CliError> {
    Ok(ws.assess(today(), time::OffsetDateTime::now_utc()).await?)
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

pub async fn run(dir: &Path, make_plan: bool, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let Assessment {
        readiness: r,
        start,
        checklist,
        timeline,
        topic_gaps,
        ..
    } = assess(&ws).await?;
    let planned = if make_plan {
        Some(ws.plan_remediation(&r.gaps, Some(start), today()).await?)
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
            "topic_gaps": topic_gaps,
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
                    command(&g.action),
                ]);
            }
            t.print()?;
            if r.gaps.len() > 25 {
                println!("… and {} more (--format json for all)", r.gaps.len() - 25);
            }
            if !topic_gaps.is_empty() {
                println!("\nWhat an auditor looks for that no applicable control addresses:");
                for g in &topic_gaps {
                    println!("  {:<6} {} ({})", g.criterion, g.title, g.controls.join(", "));
                }
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

/// The command that takes a step (the CLI's way of offering a fix; the web offers a link).
pub fn command(f: &evident_core::fix::Fix) -> String {
    use evident_core::fix::Fix;
    match f {
        Fix::FixCheck { check, .. } => {
            format!("evident check run --check {check}, then fix the records or `evident check exclude {check}`")
        }
        Fix::AddEvidence {
            control, requirement, ..
        }
        | Fix::RenewEvidence {
            control, requirement, ..
        } => {
            format!("evident evidence add FILE --control {control} --requirement {requirement}")
        }
        Fix::ReplaceEvidence { evidence, .. } => format!("evident evidence supersede {evidence} FILE"),
        Fix::PublishPolicy { policy, .. } => {
            format!("evident policies approve {policy} && evident policies publish {policy}")
        }
        Fix::SetOwner { control } => format!("evident controls set-owner {control} EMAIL"),
        Fix::CoverCriterion { criterion } => format!("evident catalog show {criterion}"),
        Fix::CloseControls { controls, .. } => format!("evident controls show {}", controls.join(" / ")),
    }
}
