//! Reports that leave the tool as files. The destination is opened before any work, so an
//! unwritable path fails fast and leaves nothing half-written.

use std::fs::File;
use std::path::{Path, PathBuf};

use evident_core::readiness::Status;
use serde_json::to_value;

use super::open;
use super::readiness::{assess, severity_name};
use crate::args::ReportCommand;
use crate::error::{CliError, usage};

/// Creates `out.partial` beside the destination; renamed into place when complete.
fn destination(out: &Path) -> Result<(File, PathBuf), CliError> {
    if out.is_dir() {
        return Err(usage(format!("--out: {} is a directory", out.display())));
    }
    let partial = out.with_extension("partial");
    let file = File::create(&partial).map_err(|e| usage(format!("--out: cannot write {}: {e}", out.display())))?;
    Ok((file, partial))
}

fn finish(partial: &Path, out: &Path) -> Result<(), CliError> {
    std::fs::rename(partial, out).map_err(|e| usage(format!("--out: {}: {e}", out.display())))
}

pub async fn run(dir: &Path, command: &ReportCommand) -> Result<(), CliError> {
    let out = match command {
        ReportCommand::Gaps { out, .. } | ReportCommand::Controls { out, .. } => out.clone(),
    };
    let (file, partial) = destination(&out)?;
    let result = write(dir, command, file).await;
    match result {
        Ok(rows) => {
            finish(&partial, &out)?;
            println!("Wrote {rows} rows to {}", out.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write(dir: &Path, command: &ReportCommand, file: File) -> Result<usize, CliError> {
    let ws = open(dir).await?;
    let a = assess(&ws, dir).await?;
    let mut w = csv::Writer::from_writer(file);
    let csv_err = |e: csv::Error| CliError::Output(std::io::Error::other(e));
    let mut rows = 0;
    match command {
        ReportCommand::Gaps { .. } => {
            w.write_record(["severity", "control", "criterion", "reason", "owner", "fix"])
                .map_err(csv_err)?;
            for g in &a.readiness.gaps {
                let cells = [
                    severity_name(g.severity),
                    g.control.clone().unwrap_or_default(),
                    g.criterion.clone().unwrap_or_default(),
                    g.reason.clone(),
                    g.owner.clone().unwrap_or_default(),
                    g.fix.clone(),
                ];
                w.write_record(&cells).map_err(csv_err)?;
                rows += 1;
            }
        }
        ReportCommand::Controls { .. } => {
            let (evidence, controls) = (&a.program.evidence, &a.program.controls);
            w.write_record([
                "control",
                "title",
                "criteria",
                "owner",
                "frequency",
                "nature",
                "status",
                "reasons",
                "evidence",
            ])
            .map_err(csv_err)?;
            for c in controls {
                let status = a.readiness.controls.iter().find(|s| s.control == c.code);
                let status_text = status
                    .map(|s| {
                        to_value(s.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    })
                    .unwrap_or_default();
                let reasons: Vec<String> = status
                    .map(|s| s.reasons.iter().map(|r| r.text.clone()).collect())
                    .unwrap_or_default();
                let items: Vec<String> = evidence
                    .iter()
                    .filter(|e| e.is_current() && e.controls.iter().any(|l| l.control == c.code))
                    .map(|e| {
                        let date = e.period_to.clone().or(e.effective_date.clone()).unwrap_or_default();
                        format!("{} {} ({date}) sha256:{}", e.id, e.title, e.sha256)
                    })
                    .collect();
                let cells = [
                    c.code.clone(),
                    c.title.clone(),
                    c.criteria.join("; "),
                    c.owner_email.clone().unwrap_or_default(),
                    c.frequency.to_string(),
                    format!("{}, {}", c.nature.kind, c.nature.execution),
                    if status.is_some_and(|s| s.status == Status::NotApplicable) {
                        "not_applicable".into()
                    } else {
                        status_text
                    },
                    reasons.join("; "),
                    items.join("\n"),
                ];
                w.write_record(&cells).map_err(csv_err)?;
                rows += 1;
            }
        }
    }
    w.flush()?;
    Ok(rows)
}
