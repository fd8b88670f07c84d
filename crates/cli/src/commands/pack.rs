//! Evidence packs: `pack create` writes the chosen evidence into a signed zip an auditor can
//! check offline (time-stamped by the authority `packs.tsa_url` names, if any); `pack verify`
//! checks one with no workspace at all.

use std::path::Path;

use evident_core::access::Role;
use evident_store::PackRequest;
use serde_json::json;

use super::open;
use crate::error::{CliError, usage};
use crate::output::{self, Format};

/// What `pack create` packs.
pub enum Of {
    /// Controls (all when none) and `--period`.
    Controls(Vec<String>, Option<String>),
    /// One request's linked evidence.
    Request(String),
    /// One sample's population file and items' evidence.
    Sample(String),
    /// A whole engagement's requests and samples.
    Engagement(String),
}

pub async fn create(dir: &Path, of: Of, out: &Path, format: Format) -> Result<(), CliError> {
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(usage(format!("--out: {} is not a folder", folder.display())));
    }
    let ws = open(dir).await?;
    // Written into an unnamed file beside its destination and given its name only once
    // complete and on disk: a failure or a kill leaves nothing behind, least of all a partial
    // pack under the name an auditor would open.
    let temp = tempfile::tempfile_in(folder).map_err(|e| usage(format!("--out: {}: {e}", folder.display())))?;
    // The CLI holds the workspace's keys, so it acts as an administrator.
    let request = match of {
        Of::Controls(controls, period) => PackRequest {
            controls,
            period: super::period_flag(period.as_deref())?,
            selection: None,
        },
        Of::Request(id) => ws
            .request_pack(Role::Admin, &id, super::today())
            .await
            .map_err(CliError::with_flags)?,
        Of::Sample(id) => ws.sample_pack(Role::Admin, &id).await.map_err(CliError::with_flags)?,
        Of::Engagement(id) => ws
            .engagement_pack(Role::Admin, &id, super::today())
            .await
            .map_err(CliError::with_flags)?,
    };
    let (written, file) = ws.write_pack(&request, temp).await?;
    // A pack holds the company's evidence in the clear: readable by its owner only.
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.sync_all()?;
    name_into_place(&file, folder, out).map_err(|e| usage(format!("--out: {}: {e}", out.display())))?;
    ws.log_pack("pack.create", &written, &out.display().to_string()).await?;
    match format {
        Format::Json => output::json(&json!({"file": out, "pack": written})),
        Format::Table => {
            println!(
                "{}: {} item(s), {} bytes of evidence",
                out.display(),
                written.items,
                written.evidence_bytes
            );
            println!("  {}", written.title);
            println!("  manifest SHA-256: {}", written.manifest_sha256);
            println!("  key fingerprint:  {}", written.fingerprint);
            if let Some(t) = &written.timestamp {
                println!("  time-stamped:     {} by {}", t.time, t.tsa_subject);
                println!("  TSA certificate:  sha256 {}", t.tsa_fingerprint);
            }
            println!(
                "Check it anywhere with `evident pack verify {}` or docs/verify-pack.sh.",
                out.display()
            );
            Ok(())
        }
    }
}

pub fn verify(file: &Path, fingerprint: Option<&str>, format: Format) -> Result<(), CliError> {
    let opened = std::fs::File::open(file).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let mut printed = Vec::new();
    let result = evident_pack::verify_with(std::io::BufReader::new(opened), fingerprint, &mut |c| {
        if format == Format::Table {
            let mark = match c.outcome {
                evident_pack::Outcome::Ok => "ok  ",
                evident_pack::Outcome::Skipped => "skip",
            };
            println!("{mark} {}", c.what);
        }
        printed.push(c.what.clone());
    });
    match (result, format) {
        (Ok(report), Format::Json) => output::json(&json!({
            "file": file, "verified": true, "checks": printed,
            "manifest_sha256": report.manifest_sha256, "of": report.manifest.of.title,
            "items": report.manifest.files.len(), "fingerprint": report.manifest.instance_key.fingerprint,
            "timestamp": report.timestamp,
        })),
        (Ok(report), Format::Table) => {
            println!(
                "\nVerified: {} ({} item(s)), signed by the key with fingerprint {}",
                report.manifest.of.title,
                report.manifest.files.len(),
                report.manifest.instance_key.fingerprint
            );
            if let Some(t) = &report.timestamp {
                println!(
                    "Time-stamped at {} by {} (certificate sha256 {})",
                    t.time, t.tsa_subject, t.tsa_fingerprint
                );
            }
            Ok(())
        }
        (Err(failure), f) => {
            if f == Format::Json {
                output::json(
                    &json!({"file": file, "verified": false, "checks": printed, "failure": failure.to_string()}),
                )?;
            } else {
                println!("FAIL {failure}");
            }
            eprintln!("{}: {failure}", file.display());
            Err(CliError::VerifyFailed(1))
        }
    }
}

/// Links an unnamed file (O_TMPFILE) into `folder` (the one `dest` is in) under a temporary
/// name, then renames it over `dest` (atomic), and syncs the folder so the name survives a crash.
fn name_into_place(file: &std::fs::File, folder: &Path, dest: &Path) -> std::io::Result<()> {
    let staged = folder.join(format!(".evident-pack-{}", ulid::Ulid::new()));
    evident_store::link_unnamed(file, &staged)?;
    if let Err(e) = std::fs::rename(&staged, dest) {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    std::fs::File::open(folder)?.sync_all()
}
