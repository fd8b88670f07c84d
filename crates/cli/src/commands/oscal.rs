//! `evident oscal export`: the program as OSCAL 1.2.3 JSON documents (see
//! `evident_core::oscal`), all of them into one folder so their references resolve, or one.

use std::io::Write;
use std::path::Path;

use evident_core::oscal;

use super::{open, today};
use crate::args::OscalCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format};

pub async fn run(dir: &Path, command: OscalCommand, format: Format) -> Result<(), CliError> {
    match command {
        OscalCommand::Export { out, kind } => {
            let kinds: Vec<&str> = match kind.as_deref() {
                None => oscal::DOCUMENTS.iter().map(|(k, _)| *k).collect(),
                Some(k) if oscal::file_name(k).is_some() => vec![k],
                Some(k) => {
                    let known: Vec<&str> = oscal::DOCUMENTS.iter().map(|(k, _)| *k).collect();
                    return Err(usage(format!(
                        "--kind: '{k}' is not an OSCAL document Evident writes (allowed: {})",
                        known.join(", ")
                    )));
                }
            };
            if out.exists() && !out.is_dir() {
                return Err(usage(format!("--out: {} is a file; give a folder", out.display())));
            }
            let ws = open(dir).await?;
            let records = ws.oscal_records(today(), time::OffsetDateTime::now_utc()).await?;
            std::fs::create_dir_all(&out).map_err(|e| usage(format!("--out: {}: {e}", out.display())))?;
            let mut written = Vec::new();
            for k in kinds {
                let doc = oscal::document(k, &records).expect("a known kind");
                let name = oscal::file_name(k).expect("a known kind");
                let path = out.join(name);
                write_whole(&path, &serde_json::to_vec_pretty(&doc).expect("JSON serialises"))?;
                written.push(serde_json::json!({"kind": k, "file": path.display().to_string()}));
            }
            if format == Format::Json {
                return output::json(&written);
            }
            for w in &written {
                println!(
                    "{} → {}",
                    w["kind"].as_str().unwrap_or(""),
                    w["file"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

/// Writes beside the destination, flushes to disk, then renames into place: a reader never
/// sees half a document.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let partial = path.with_extension("json.partial");
    let fail = |e: std::io::Error| usage(format!("--out: {}: {e}", path.display()));
    let mut f = std::fs::File::create(&partial).map_err(fail)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(fail)?;
    std::fs::rename(&partial, path).map_err(fail)
}
