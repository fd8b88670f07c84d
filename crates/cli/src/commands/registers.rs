//! The registers' command lines, built from their specs: `list`, `show`, `add`, `update`,
//! and CSV `import` / `export` with whole-file validation.

use std::collections::HashMap;
use std::path::Path;

use clap::{Arg, ArgAction, ArgMatches, Command};
use evident_core::register::{CellError, CsvError, Known, RawRow, Record, RegisterSpec, read_csv, validate};
use evident_core::registers;
pub use evident_core::registers::{
    ACCESS_GRANTS, ASSETS, BACKGROUND_CHECKS, EVENTS, MACHINE_IDENTITIES, PEOPLE, RISKS, TASKS, TRAINING, VENDORS,
};
use evident_report::{Sheet, write_csv, write_xlsx};
use evident_store::{StoredRecord, Workspace, record_json};
use serde_json::{Value, json};

use super::{open, today};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

pub fn spec(name: &str) -> Result<&'static RegisterSpec, CliError> {
    registers::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = registers::ALL.iter().map(|r| r.name).collect();
        usage(format!(
            "unknown register '{name}' (allowed: {}; also policy-acceptances to import, policies to export)",
            names.join(", ")
        ))
    })
}

fn flag(field: &str) -> String {
    field.replace('_', "-")
}

fn field_args(spec: &RegisterSpec, for_update: bool) -> Vec<Arg> {
    spec.fields
        .iter()
        .map(|f| {
            let help = if f.help.is_empty() {
                f.name.to_string()
            } else {
                f.help.to_string()
            };
            Arg::new(f.name)
                .long(flag(f.name))
                .value_name("VALUE")
                .help(help)
                .required(f.required && !for_update)
                .allow_hyphen_values(true)
        })
        .collect()
}

/// The register's own parser; `--format` and `--workspace` are accepted here too, because
/// everything after the register name reaches this parser.
pub fn command(spec: &RegisterSpec) -> Command {
    let common = [
        Arg::new("format")
            .long("format")
            .value_parser(["table", "json"])
            .global(true),
        Arg::new("workspace").long("workspace").global(true),
    ];
    let key_help = format!("the {} ({})", spec.noun, spec.key.join(" | "));
    let mut cmd = Command::new(format!("evident {}", spec.name))
        .no_binary_name(true)
        .subcommand_required(true)
        .args(common)
        .subcommand(
            Command::new("list").about(format!("List {} records", spec.name)).arg(
                Arg::new("where")
                    .long("where")
                    .value_name("FIELD=VALUE")
                    .action(ArgAction::Append),
            ),
        )
        .subcommand(
            Command::new("show")
                .about("One record")
                .arg(Arg::new("key").required(true).help(key_help.clone())),
        )
        .subcommand(
            Command::new("add")
                .about(format!("Add a {}", spec.noun))
                .args(field_args(spec, false)),
        )
        .subcommand(
            Command::new("update")
                .about(format!(
                    "Change fields of a {} (an empty value clears an optional field)",
                    spec.noun
                ))
                .arg(Arg::new("key").required(true).help(key_help))
                .args(field_args(spec, true)),
        );
    if spec.name == "risks" {
        cmd = super::risks::extend(cmd);
    }
    cmd
}

pub async fn run(dir: &Path, spec: &'static RegisterSpec, args: Vec<String>, format: Format) -> Result<(), CliError> {
    let matches = match command(spec).try_get_matches_from(args) {
        Ok(m) => m,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            e.print()?;
            return Ok(());
        }
        Err(e) => return Err(usage(e.to_string().trim_start_matches("error: ").trim().to_string())),
    };
    let format = match matches.get_one::<String>("format").map(String::as_str) {
        Some("json") => Format::Json,
        Some(_) => Format::Table,
        None => format,
    };
    let dir_override = matches.get_one::<String>("workspace").map(std::path::PathBuf::from);
    let dir = dir_override.as_deref().unwrap_or(dir);
    let ws = open(dir).await?;
    let (sub, m) = matches.subcommand().expect("a subcommand is required");
    match sub {
        "list" => list(&ws, spec, m, format).await,
        "show" => {
            let r = ws.record(spec, m.get_one::<String>("key").expect("required")).await?;
            print_one(spec, &r, format)
        }
        "add" | "update" => add_or_update(&ws, spec, sub, m, format).await,
        other => super::risks::run(&ws, other, m, format).await,
    }
}

pub fn view(spec: &RegisterSpec, r: &StoredRecord) -> Value {
    let mut v = record_json(spec, &r.record);
    if spec.name == "risks" {
        // Scores are derived, never stored: likelihood × impact.
        let score = |l: &str, i: &str| {
            r.record
                .get(l)
                .as_int()
                .zip(r.record.get(i).as_int())
                .map(|(l, i)| l * i)
        };
        v["inherent_score"] = json!(score("likelihood", "impact"));
        v["residual_score"] = json!(score("residual_likelihood", "residual_impact"));
    }
    v["updated_at"] = json!(super::instant(r.updated_at));
    v
}

fn print_one(spec: &RegisterSpec, r: &StoredRecord, format: Format) -> Result<(), CliError> {
    match format {
        Format::Json => output::json(&view(spec, r)),
        Format::Table => {
            let width = spec.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
            for f in spec.fields {
                println!("{:<width$}  {}", f.name, r.record.get(f.name).to_text());
            }
            Ok(())
        }
    }
}

async fn list(ws: &Workspace, spec: &RegisterSpec, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let mut filters = Vec::new();
    for w in m.get_many::<String>("where").into_iter().flatten() {
        let (field, value) = w
            .split_once('=')
            .ok_or_else(|| usage(format!("--where: '{w}' is not FIELD=VALUE")))?;
        if !spec.fields.iter().any(|f| f.name == field) {
            let names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            return Err(usage(format!(
                "--where: unknown field '{field}' (fields: {})",
                names.join(", ")
            )));
        }
        filters.push((field.to_string(), value.to_lowercase()));
    }
    let rows: Vec<StoredRecord> = ws
        .records(spec)
        .await?
        .into_iter()
        .filter(|r| {
            filters
                .iter()
                .all(|(f, v)| r.record.get(f).to_text().to_lowercase() == *v)
        })
        .collect();
    match format {
        Format::Json => output::json(&rows.iter().map(|r| view(spec, r)).collect::<Vec<_>>()),
        Format::Table => {
            let shown: Vec<&str> = spec.fields.iter().take(6).map(|f| f.name).collect();
            let header: Vec<&'static str> = spec.fields.iter().take(6).map(|f| f.name).collect();
            let mut t = Table::new(&header);
            for r in &rows {
                t.row(shown.iter().map(|f| r.record.get(f).to_text()).collect());
            }
            t.print()?;
            println!(
                "\n{} {}",
                rows.len(),
                if rows.len() == 1 {
                    spec.noun.to_string()
                } else {
                    format!("{} records", spec.name)
                }
            );
            Ok(())
        }
    }
}

fn print_errors(file: &str, errors: &[CellError]) {
    for e in errors {
        if e.column.is_empty() {
            eprintln!("{file}:{}: {}", e.line, e.reason);
        } else {
            eprintln!("{file}:{}:{}: {}", e.line, e.column, e.reason);
        }
    }
}

async fn add_or_update(
    ws: &Workspace,
    spec: &RegisterSpec,
    sub: &str,
    m: &ArgMatches,
    format: Format,
) -> Result<(), CliError> {
    let mut row: HashMap<String, String> = HashMap::new();
    let existing = if sub == "update" {
        let r = ws.record(spec, m.get_one::<String>("key").expect("required")).await?;
        for f in spec.fields {
            row.insert(f.name.to_string(), r.record.get(f.name).to_text());
        }
        Some(r)
    } else {
        None
    };
    let mut given = 0;
    for f in spec.fields {
        if let Some(v) = m.get_one::<String>(f.name) {
            row.insert(f.name.to_string(), v.clone());
            given += 1;
        }
    }
    if sub == "update" && given == 0 {
        return Err(usage("update: give at least one field to change (see --help)"));
    }
    let known = ws.known(today()).await?;
    let v = validate(spec, &[(0, row)], &known);
    if let Some(e) = v.errors.first() {
        let flag = if e.column.contains('+') {
            e.column.clone()
        } else {
            format!("--{}", flag(&e.column))
        };
        return Err(usage(format!("{flag}: {}", e.reason)));
    }
    let record = v.records.into_iter().next().expect("valid").1;
    let key = record.key(spec);
    match &existing {
        None => {
            if ws.records(spec).await?.iter().any(|r| r.key == key) {
                return Err(usage(format!(
                    "a {} with {} '{}' already exists; use `evident {} update`",
                    spec.noun,
                    spec.key.join("+"),
                    key,
                    spec.name
                )));
            }
        }
        Some(old) if old.key != key => {
            return Err(usage(format!(
                "{}: the identifying field cannot change (it is {})",
                spec.key.join("+"),
                old.key
            )));
        }
        Some(_) => {}
    }
    let action = format!("{}.{sub}", spec.name);
    ws.write_records(spec, std::slice::from_ref(&record), &action, json!({"via": "cli"}))
        .await?;
    let stored = ws.record(spec, &key).await?;
    match format {
        Format::Json => print_one(spec, &stored, format),
        Format::Table => {
            println!(
                "{} {} {}",
                if sub == "add" { "Added" } else { "Updated" },
                spec.noun,
                key
            );
            Ok(())
        }
    }
}

/// Reads a register CSV whole ([`read_csv`]), printing every header problem.
fn read_rows(spec: &RegisterSpec, name: &str, bytes: &[u8]) -> Result<Vec<RawRow>, CliError> {
    read_csv(spec, bytes).map_err(|e| match e {
        CsvError::Header(reason) => usage(format!("{name}:1: {reason}")),
        CsvError::Empty => usage(format!("{name}: the file is empty; expected a header row")),
        CsvError::Columns(problems) => {
            for p in &problems {
                eprintln!("{name}:1: {p}");
            }
            usage(format!(
                "{name}: wrong header for the {} register; nothing was imported",
                spec.name
            ))
        }
        CsvError::Row { line, reason } => usage(format!("{name}:{line}: {reason}; nothing was imported")),
    })
}

/// Validates, and with `skip_invalid` drops bad rows until what remains stands on its own
/// (a row naming a manager from a dropped row is dropped too).
fn validate_rows(
    spec: &RegisterSpec,
    mut rows: Vec<RawRow>,
    known: &Known,
    skip_invalid: bool,
) -> (Vec<(usize, Record)>, Vec<CellError>) {
    let mut rejected = Vec::new();
    loop {
        let v = validate(spec, &rows, known);
        if v.errors.is_empty() || !skip_invalid {
            let mut errors = rejected;
            errors.extend(v.errors);
            errors.sort_by_key(|e: &CellError| e.line);
            return (v.records, errors);
        }
        let bad: std::collections::BTreeSet<usize> = v.errors.iter().map(|e| e.line).collect();
        rows.retain(|(line, _)| !bad.contains(line));
        rejected.extend(v.errors);
    }
}

pub async fn import(
    dir: &Path,
    register: &str,
    file: &Path,
    skip_invalid: bool,
    format: Format,
) -> Result<(), CliError> {
    if register == "policy-acceptances" {
        return super::policies::import_acceptances(&open(dir).await?, file, skip_invalid, format).await;
    }
    let spec = spec(register)?;
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| usage(format!("{name}: {e}")))?;
    let rows = read_rows(spec, &name, &bytes)?;
    let ws = open(dir).await?;
    let known = ws.known(today()).await?;
    let total = rows.len();
    let (records, errors) = validate_rows(spec, rows, &known, skip_invalid);
    print_errors(&name, &errors);
    if !errors.is_empty() && !skip_invalid {
        let lines: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.line).collect();
        return Err(usage(format!(
            "{name}: {} problem(s) in {} of {total} row(s); nothing was imported (fix them, or use --skip-invalid)",
            errors.len(),
            lines.len()
        )));
    }
    let context = json!({
        "file": file.file_name().map(|n| n.to_string_lossy().into_owned()),
        "file_sha256": evident_core::ledger::sha256_hex(&bytes),
        "rows": total,
        "rejected_lines": errors.iter().map(|e| e.line).collect::<std::collections::BTreeSet<_>>(),
    });
    let just_records: Vec<Record> = records.into_iter().map(|(_, r)| r).collect();
    let summary = ws
        .write_records(spec, &just_records, &format!("{}.import", spec.name), context)
        .await?;
    let rejected = errors
        .iter()
        .map(|e| e.line)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    match format {
        Format::Json => output::json(&json!({
            "register": spec.name,
            "rows": total,
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "rejected": rejected,
        })),
        Format::Table => {
            println!(
                "{name}: {total} rows: {} created, {} updated, {} unchanged, {rejected} rejected",
                summary.created, summary.updated, summary.unchanged
            );
            Ok(())
        }
    }
}

pub async fn export(dir: &Path, register: &str, out: &Path, format: Format) -> Result<(), CliError> {
    if register == "policies" {
        return super::policies::export(&open(dir).await?, out, format).await;
    }
    let spec = spec(register)?;
    let ws = open(dir).await?;
    let rows = ws.records(spec).await?;
    let sheet = Sheet {
        name: spec.name.to_string(),
        headers: spec.fields.iter().map(|f| f.name.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| spec.fields.iter().map(|f| r.record.get(f.name).to_text()).collect())
            .collect(),
        widths: Vec::new(),
    };
    write_export(&sheet, out)?;
    match format {
        Format::Json => output::json(&json!({"register": spec.name, "rows": rows.len(), "out": out})),
        Format::Table => {
            println!("Wrote {} {} record(s) to {}", rows.len(), spec.name, out.display());
            Ok(())
        }
    }
}

/// Writes an export through the report writers (CSV, or a workbook when `out` ends in `.xlsx`),
/// so its cells are guarded against formula injection like every other file we write. The
/// file appears whole or not at all.
pub(crate) fn write_export(sheet: &Sheet, out: &Path) -> Result<(), CliError> {
    let xlsx = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let tmp = out.with_extension("evident-partial");
    let written = (|| -> Result<(), evident_report::ReportError> {
        let file = std::fs::File::create(&tmp)?;
        if xlsx {
            write_xlsx(std::slice::from_ref(sheet), file)?;
        } else {
            write_csv(sheet, file)?;
        }
        std::fs::rename(&tmp, out)?;
        Ok(())
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        usage(format!("--out: {}: {e}", out.display()))
    })
}
