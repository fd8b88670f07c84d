//! Reports that leave the tool as files. The destination is opened before any work, so an
//! unwritable path fails fast and leaves nothing half-written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use evident_report::{
    ReadinessDoc, WindowMeta, readiness_html, readiness_pdf, window_pdf, window_sheets, write_csv, write_xlsx,
};

use evident_store::Assessment;

use super::readiness::assess;
use super::{format_name, open, today};
use crate::args::{FormatArg, ReportCommand};
use crate::error::{CliError, usage};

/// Creates `out.partial` beside the destination; renamed into place when complete.
fn destination(out: &Path) -> Result<(File, PathBuf), CliError> {
    if out.is_dir() {
        return Err(usage(format!("--out: {} is a directory", out.display())));
    }
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let partial = out.with_file_name(name);
    let file = File::create(&partial).map_err(|e| usage(format!("--out: cannot write {}: {e}", out.display())))?;
    Ok((file, partial))
}

fn finish(partial: &Path, out: &Path) -> Result<(), CliError> {
    std::fs::rename(partial, out).map_err(|e| usage(format!("--out: {}: {e}", out.display())))
}

/// The format: `--format` when given, else the destination's extension, else the report's default.
fn choose(command: &ReportCommand, out: &Path, given: FormatArg) -> Result<FormatArg, CliError> {
    let (name, allowed, default): (&str, &[FormatArg], FormatArg) = match command {
        ReportCommand::Readiness { .. } => ("readiness", &[FormatArg::Pdf, FormatArg::Html], FormatArg::Pdf),
        ReportCommand::Gaps { .. } => ("gaps", &[FormatArg::Csv, FormatArg::Xlsx], FormatArg::Csv),
        ReportCommand::Controls { .. } => ("controls", &[FormatArg::Csv, FormatArg::Xlsx], FormatArg::Csv),
        ReportCommand::Window { .. } => ("window", &[FormatArg::Pdf, FormatArg::Xlsx], FormatArg::Pdf),
        ReportCommand::Description { .. } => (
            "description",
            &[FormatArg::Pdf, FormatArg::Html, FormatArg::Md, FormatArg::Docx],
            FormatArg::Pdf,
        ),
    };
    // An extension that names a format picks it, and one this report is not written in is
    // refused rather than silently written as something else.
    const NAMED: [FormatArg; 6] = [
        FormatArg::Csv,
        FormatArg::Html,
        FormatArg::Pdf,
        FormatArg::Xlsx,
        FormatArg::Md,
        FormatArg::Docx,
    ];
    let by_extension = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .and_then(|e| {
            NAMED
                .iter()
                .copied()
                .find(|f| format_name(*f) == e || (e == "htm" && *f == FormatArg::Html))
        });
    let chosen = match given {
        FormatArg::Table => by_extension.unwrap_or(default),
        f => f,
    };
    if !allowed.contains(&chosen) {
        let names: Vec<&str> = allowed.iter().map(|f| format_name(*f)).collect();
        let flag = if given == FormatArg::Table { "--out" } else { "--format" };
        return Err(usage(format!(
            "{flag} {}: the {name} report is written as {}",
            format_name(chosen),
            names.join(" or ")
        )));
    }
    Ok(chosen)
}

pub async fn run(dir: &Path, command: &ReportCommand, format: FormatArg) -> Result<(), CliError> {
    let out = match command {
        ReportCommand::Readiness { out }
        | ReportCommand::Gaps { out }
        | ReportCommand::Controls { out }
        | ReportCommand::Description { out }
        | ReportCommand::Window { out, .. } => out.clone(),
    };
    // Flags are checked before the destination is created.
    if let ReportCommand::Window { window, .. } = command {
        super::window::request(window)?;
    }
    let format = choose(command, &out, format)?;
    let (file, partial) = destination(&out)?;
    let result = write(dir, command, format, file).await;
    match result {
        Ok(what) => {
            finish(&partial, &out)?;
            println!("Wrote {what} to {} ({})", out.display(), format_name(format));
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn report_err(e: evident_report::ReportError) -> CliError {
    CliError::Output(std::io::Error::other(e))
}

async fn write(dir: &Path, command: &ReportCommand, format: FormatArg, file: File) -> Result<String, CliError> {
    let mut w = BufWriter::new(file);
    if let ReportCommand::Window { window, .. } = command {
        let what = window_report(dir, window, format, &mut w).await?;
        return finish_file(w, what);
    }
    let ws = open(dir).await?;
    if let ReportCommand::Description { .. } = command {
        let state = ws.description_state(today()).await?;
        w.write_all(&description_file(&state, format)?)?;
        let what = format!(
            "the system description ({}; {} statements, {} missing)",
            state.status_line(),
            state.description.statements().count(),
            state.description.missing()
        );
        return finish_file(w, what);
    }
    let a = assess(&ws).await?;
    let what = match command {
        ReportCommand::Readiness { .. } => {
            let doc = readiness_doc(&a, &ws.organisation);
            let bytes = match format {
                FormatArg::Html => readiness_html(&doc).into_bytes(),
                _ => readiness_pdf(&doc).map_err(report_err)?,
            };
            w.write_all(&bytes)?;
            format!("the readiness report (score {}, {} gaps)", doc.score, doc.gaps.len())
        }
        ReportCommand::Gaps { .. } | ReportCommand::Controls { .. } => {
            let controls: Vec<&evident_core::Control> = a.program.controls.iter().collect();
            let sheets = match command {
                ReportCommand::Gaps { .. } => {
                    vec![evident_report::gaps_sheet(&a.readiness.gaps, Some(a.start), today())]
                }
                // The workbook adds a sheet with one row per control and current evidence item.
                _ => evident_report::control_matrix(&a.readiness, &controls, &a.program.evidence).into(),
            };
            match format {
                FormatArg::Xlsx => write_xlsx(&sheets, &mut w),
                _ => write_csv(&sheets[0], &mut w),
            }
            .map_err(report_err)?;
            format!("{} rows", sheets[0].rows.len())
        }
        ReportCommand::Window { .. } | ReportCommand::Description { .. } => unreachable!("written above"),
    };
    finish_file(w, what)
}

/// The description as a file of `format` (pdf, html, md or docx).
fn description_file(state: &evident_store::DescriptionState, format: FormatArg) -> Result<Vec<u8>, CliError> {
    let doc = evident_report::DescriptionDoc {
        description: &state.description,
        prepared_on: evident_core::format_date(today()),
        status: state.status_line(),
        assertion: state.assertion_for_file(),
    };
    evident_report::description_file(&doc, format_name(format))
        .expect("choose() allows only the description's formats")
        .map_err(report_err)
}

fn finish_file(mut w: BufWriter<File>, what: String) -> Result<String, CliError> {
    w.flush()?;
    w.into_inner()
        .map_err(|e| CliError::Output(e.into_error()))?
        .sync_all()?;
    Ok(what)
}

async fn window_report(
    dir: &Path,
    args: &crate::args::WindowArgs,
    format: FormatArg,
    w: &mut BufWriter<File>,
) -> Result<String, CliError> {
    let window = super::window::load(dir, args).await?;
    let ws = open(dir).await?;
    let testing = ws
        .controls()
        .await?
        .into_iter()
        .filter_map(|c| c.testing.clone().map(|t| (c.code, t)))
        .collect();
    let meta = WindowMeta {
        organisation: ws.organisation.clone(),
        prepared_on: evident_core::format_date(today()),
        testing,
    };
    match format {
        FormatArg::Xlsx => write_xlsx(&window_sheets(&window, &meta), &mut *w).map_err(report_err)?,
        _ => w.write_all(&window_pdf(&window, &meta).map_err(report_err)?)?,
    }
    Ok(format!(
        "the observation window {}..{} as of {} ({} exceptions, predicted {})",
        window.period.start,
        window.period.end,
        window.period.as_of,
        window.exceptions.len(),
        serde_json::to_value(window.opinion.predicted)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    ))
}

/// The report is built by the report crate, so the web server's download is the same document.
fn readiness_doc(a: &Assessment, organisation: &str) -> ReadinessDoc {
    evident_report::readiness::doc(&a.scope, &a.readiness, &a.checklist, &a.timeline, organisation, today())
}
