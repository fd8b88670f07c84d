mod access_reviews;
mod audit;
mod backup;
mod bench;
mod catalog;
mod checks;
mod connectors;
mod controls;
mod demo;
mod description;
mod evidence;
mod facts;
mod fieldwork;
mod frameworks;
mod generate;
mod init;
mod jobs;
mod oscal;
mod pack;
mod policies;
mod readiness;
mod registers;
mod report;
mod risks;
mod scope;
mod serve;
mod window;

use crate::args::{BenchCommand, Cli, Command, ExceptionsCommand, FormatArg, PackCommand};
use crate::error::CliError;

pub async fn run(cli: Cli) -> Result<(), CliError> {
    // Listings speak table or json; reports are files and choose their own formats.
    let format = match cli.format {
        FormatArg::Table => crate::output::Format::Table,
        FormatArg::Json => crate::output::Format::Json,
        other if !matches!(cli.command, Command::Report(_)) => {
            return Err(CliError::Usage(format!(
                "--format {}: that is a report format (evident report …); listings take table or json, and `evident export` writes CSV (XLSX when --out ends in .xlsx)",
                format_name(other)
            )));
        }
        _ => crate::output::Format::Table,
    };
    let chosen = cli.workspace;
    let ws_path = |default: &str| chosen.clone().unwrap_or_else(|| default.into());
    let ws = &ws_path(".");
    match cli.command {
        Command::Init { organisation } => init::run(ws, &organisation, format).await,
        Command::Demo { bind, no_serve } => {
            demo::run(&ws_path(demo::DEFAULT_DIR), format, (!no_serve).then_some(bind)).await
        }
        Command::Serve { bind, admin } => serve::serve(ws, bind, &admin).await,
        Command::Users(c) => serve::users(ws, c, format).await,
        Command::Tokens(c) => serve::tokens(ws, c, format).await,
        Command::Bench(BenchCommand::Readiness { runs }) => bench::readiness(ws, runs, format).await,
        Command::Generate { size, seed, as_of } => {
            let dir = ws_path(&format!("evident-{size}"));
            generate::run(&dir, &size, seed, as_of.as_deref(), format).await
        }
        Command::Catalog(c) => catalog::run(ws, c, format).await,
        Command::Controls(c) => controls::run(ws, c, format).await,
        Command::Scope(c) => scope::run(ws, c, format).await,
        Command::Evidence(c) => evidence::run(ws, c, format).await,
        Command::AuditLog { since } => audit::log(ws, since.as_deref(), format).await,
        Command::Verify => audit::verify(ws, format).await,
        Command::Backup {
            out,
            with_keys,
            copy_objects,
        } => backup::backup(ws, &out, with_keys, copy_objects, format).await,
        Command::Restore {
            file,
            database_url,
            keys_from,
            check,
        } => backup::restore(&file, ws, database_url, keys_from, check, format).await,
        Command::Pack(PackCommand::Create {
            controls,
            period,
            request,
            sample,
            engagement,
            out,
        }) => {
            let of = match (request, sample, engagement) {
                (Some(r), _, _) => pack::Of::Request(r),
                (_, Some(s), _) => pack::Of::Sample(s),
                (_, _, Some(e)) => pack::Of::Engagement(e),
                _ => pack::Of::Controls(controls, period),
            };
            pack::create(ws, of, &out, format).await
        }
        // Needs no workspace: a pack is checked on a machine that never had one.
        Command::Pack(PackCommand::Verify { file, fingerprint }) => pack::verify(&file, fingerprint.as_deref(), format),
        Command::Import {
            register,
            file,
            skip_invalid,
            with,
            observed_on,
        } => {
            if let Some(kind) = evident_collect::kind(&register) {
                facts::import(ws, kind, &file, &with, observed_on.as_deref(), format).await
            } else {
                registers::import(ws, &register, &file, skip_invalid, format).await
            }
        }
        Command::Export { register, out } => registers::export(ws, &register, &out, format).await,
        Command::Policies(c) => policies::run(ws, c, format).await,
        Command::Check(c) => checks::run(ws, c, format).await,
        Command::Readiness { plan } => readiness::run(ws, plan, format).await,
        Command::Window(args) => window::show(ws, &args, format).await,
        Command::Exceptions(ExceptionsCommand::List { window: args }) => window::exceptions(ws, &args, format).await,
        Command::Exceptions(ExceptionsCommand::Respond { id, text, period }) => {
            window::respond(ws, &id, &text, period.as_deref(), format).await
        }
        Command::Audit(c) => fieldwork::audit(ws, c, format).await,
        Command::Requests(c) => fieldwork::requests(ws, c, format).await,
        Command::Populations(c) => fieldwork::populations(ws, c, format).await,
        Command::Samples(c) => fieldwork::samples(ws, c, format).await,
        Command::AccessReviews(c) => access_reviews::run(ws, c, format).await,
        Command::Jml(c) => access_reviews::jml(ws, c, format).await,
        Command::Oscal(c) => oscal::run(ws, c, format).await,
        Command::Description(c) => description::run(ws, c, format).await,
        Command::Frameworks(c) => frameworks::run(ws, c, format).await,
        Command::Report(c) => report::run(ws, &c, cli.format).await,
        Command::Connect(c) => connectors::connect(ws, c, format).await,
        Command::Collect(c) => connectors::collect(ws, c, format).await,
        Command::Jobs(c) => jobs::run(ws, c, format).await,
        Command::People(a) => registers::run(ws, &registers::PEOPLE, a.args, format).await,
        Command::Training(a) => registers::run(ws, &registers::TRAINING, a.args, format).await,
        Command::BackgroundChecks(a) => registers::run(ws, &registers::BACKGROUND_CHECKS, a.args, format).await,
        Command::Risks(a) => registers::run(ws, &registers::RISKS, a.args, format).await,
        Command::Vendors(a) => registers::run(ws, &registers::VENDORS, a.args, format).await,
        Command::Assets(a) => registers::run(ws, &registers::ASSETS, a.args, format).await,
        Command::MachineIdentities(a) => registers::run(ws, &registers::MACHINE_IDENTITIES, a.args, format).await,
        Command::AccessGrants(a) => registers::run(ws, &registers::ACCESS_GRANTS, a.args, format).await,
        Command::Events(a) => registers::run(ws, &registers::EVENTS, a.args, format).await,
        Command::Tasks(a) => registers::run(ws, &registers::TASKS, a.args, format).await,
    }
}

/// A file's bytes, refused before it is read when it is over `max` bytes; messages start with
/// `flag` (`"--file "`, `"--profile: "`) and the path.
pub(crate) fn read_limited(path: &std::path::Path, flag: &str, max: u64) -> Result<Vec<u8>, CliError> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| crate::error::usage(format!("{flag}{name}: {e}")))?;
    if meta.len() > max {
        return Err(crate::error::usage(format!(
            "{flag}{name}: {} bytes, over the {max}-byte limit",
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| crate::error::usage(format!("{flag}{name}: {e}")))
}

pub(crate) fn format_name(f: FormatArg) -> &'static str {
    match f {
        FormatArg::Table => "table",
        FormatArg::Json => "json",
        FormatArg::Csv => "csv",
        FormatArg::Html => "html",
        FormatArg::Pdf => "pdf",
        FormatArg::Xlsx => "xlsx",
        FormatArg::Md => "md",
        FormatArg::Docx => "docx",
    }
}

/// Who the audit log names for this process: `EVIDENT_ACTOR`, else the local user.
pub fn actor() -> String {
    if let Some(a) = std::env::var("EVIDENT_ACTOR").ok().filter(|a| !a.trim().is_empty()) {
        return a.trim().to_string();
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(unix_user)
        .unwrap_or_else(|| "unknown".into());
    format!("cli:{user}")
}

/// The account running this process, from the password database (no libc needed).
fn unix_user() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
        })
    }
    #[cfg(not(unix))]
    None
}

pub async fn open(dir: &std::path::Path) -> Result<evident_store::Workspace, CliError> {
    Ok(evident_store::Workspace::open(dir, &actor()).await?)
}

/// `--period START..END`, refused naming the flag when it is not one.
pub fn period_flag(p: Option<&str>) -> Result<Option<(time::Date, time::Date)>, CliError> {
    p.map(|p| evident_core::scope::parse_period(p).map_err(|e| crate::error::usage(format!("--period: {e}"))))
        .transpose()
}

pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// An instant (ms since the epoch) as RFC 3339 UTC.
pub fn instant(ms: i64) -> String {
    evident_core::evidence::rfc3339(ms)
}

/// A reason a person must give (not applicable, out of scope): never empty.
fn required_text(arg: &str, value: &str) -> Result<String, CliError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(CliError::Usage(format!(
            "{arg}: a reason is required and cannot be empty"
        )));
    }
    Ok(t.to_string())
}
