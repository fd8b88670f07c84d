//! `evident window` and `evident exceptions`: the observation window as the auditor will read
//! it at its end, and management's responses to its exceptions.

use std::path::Path;

use evident_core::window::{OccurrenceStatus, OpinionRule, Window};
use evident_store::WindowRequest;

use super::{open, today};
use crate::args::WindowArgs;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// The request the flags make; every refusal names its flag.
pub fn request(args: &WindowArgs) -> Result<WindowRequest, CliError> {
    Ok(WindowRequest {
        period: super::period_flag(args.period.as_deref())?,
        as_of: args
            .as_of
            .as_deref()
            .map(|d| evident_core::parse_date(d).map_err(|e| usage(format!("--as-of: {e}"))))
            .transpose()?,
        rule: OpinionRule::from_percent(args.tolerable_rate, args.pervasive_share)
            .map_err(|e| usage(format!("--{}: {}", e.field.replace('_', "-"), e.reason)))?,
    })
}

pub async fn load(dir: &Path, args: &WindowArgs) -> Result<Window, CliError> {
    let req = request(args)?;
    let ws = open(dir).await?;
    ws.window(&req, today()).await.map_err(CliError::with_flags)
}

fn strip(w: &evident_core::window::ControlWindow) -> String {
    w.periods
        .iter()
        .map(|p| match p.status {
            OccurrenceStatus::Met => '■',
            OccurrenceStatus::Missed => '✗',
            OccurrenceStatus::Pending => '◻',
            OccurrenceStatus::Upcoming => '·',
        })
        .collect()
}

pub async fn show(dir: &Path, args: &WindowArgs, format: Format) -> Result<(), CliError> {
    let w = load(dir, args).await?;
    if format == Format::Json {
        return output::json(&w);
    }
    let p = &w.period;
    println!(
        "Report period {}..{} ({}), as of {}: day {} of {}, {} day(s) left",
        p.start, p.end, p.report_type, p.as_of, p.elapsed, p.days, p.days_left
    );
    println!(
        "Predicted opinion: {} ({} of {} criteria not met, {} met with exceptions). {}.",
        serde_plain(&w.opinion.predicted),
        w.opinion.not_met,
        w.opinion.in_scope,
        w.opinion.met_with_exceptions,
        w.opinion.label
    );
    println!();
    let mut t = Table::new(&[
        "control",
        "frequency",
        "periods (■ met ✗ missed ◻ pending · upcoming)",
        "deviations",
        "owner",
    ]);
    for c in w.controls.iter().filter(|c| !c.periods.is_empty() || c.deviations > 0) {
        t.row(vec![
            c.id.clone(),
            c.frequency.to_string(),
            strip(c),
            c.deviations.to_string(),
            c.owner.clone().unwrap_or_else(|| "no owner".into()),
        ]);
    }
    t.print()?;
    println!();
    print_exceptions(&w)?;
    if !w.forecast.is_empty() {
        println!();
        println!(
            "Forecast: {} thing(s) will surface before {} if nothing changes",
            w.forecast.len(),
            p.end
        );
        let mut t = Table::new(&["date", "what", "owner", "fix"]);
        for f in &w.forecast {
            t.row(vec![
                f.date.clone(),
                f.what.clone(),
                f.owner.clone().unwrap_or_else(|| "no owner".into()),
                f.fix_text.clone(),
            ]);
        }
        t.print()?;
    }
    Ok(())
}

fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn print_exceptions(w: &Window) -> Result<(), CliError> {
    println!("{} exception(s)", w.exceptions.len());
    if w.exceptions.is_empty() {
        return Ok(());
    }
    let mut t = Table::new(&[
        "id", "status", "control", "check", "record", "first", "fixed", "days", "response",
    ]);
    for e in &w.exceptions {
        t.row(vec![
            e.id.clone(),
            e.status.clone(),
            e.control.clone().unwrap_or_default(),
            e.check.clone().unwrap_or_default(),
            e.record.clone().unwrap_or_default(),
            e.first_failed.clone(),
            e.fixed.clone().unwrap_or_default(),
            e.days.to_string(),
            e.response
                .as_ref()
                .map(|r| r.text.clone())
                .unwrap_or_else(|| "none yet".into()),
        ]);
    }
    t.print()
}

pub async fn exceptions(dir: &Path, args: &WindowArgs, format: Format) -> Result<(), CliError> {
    let w = load(dir, args).await?;
    match format {
        Format::Json => output::json(&w.exceptions),
        Format::Table => print_exceptions(&w),
    }
}

pub async fn respond(dir: &Path, id: &str, text: &str, period: Option<&str>, format: Format) -> Result<(), CliError> {
    let period = super::period_flag(period)?;
    let ws = open(dir).await?;
    let r = ws
        .respond_to_exception(period, id.trim(), text, today())
        .await
        .map_err(CliError::with_flags)?;
    match format {
        Format::Json => output::json(&serde_json::json!({"exception": id.trim(), "response": r})),
        Format::Table => {
            println!("Recorded the response to {} by {} at {}.", id.trim(), r.by, r.at);
            Ok(())
        }
    }
}
