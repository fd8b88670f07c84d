//! `import <source> FILE`: a system's export becomes evidence (the raw bytes, kept) and facts.

use std::path::{Path, PathBuf};

use evident_collect::Kind;
use evident_store::{NewEvidence, SourceKind};
use serde_json::json;

use super::{open, today};
use crate::error::{CliError, usage};
use crate::output::{self, Format};

pub async fn import(
    dir: &Path,
    kind: &Kind,
    file: &Path,
    with: &[PathBuf],
    observed_on: Option<&str>,
    format: Format,
) -> Result<(), CliError> {
    let name = file.display().to_string();
    let read = |p: &Path| std::fs::read(p).map_err(|e| usage(format!("{}: {e}", p.display())));
    let bytes = read(file)?;
    let mut companions = Vec::new();
    for w in with {
        companions.push((w.display().to_string(), read(w)?));
    }
    if !with.is_empty() && !kind.companions {
        return Err(usage(format!("--with: {} takes no companion files", kind.name)));
    }
    // Parse fully before anything is stored: a wrong or broken file changes nothing.
    let imported = evident_collect::import(kind, &name, &bytes, &companions).map_err(usage)?;
    let observed_on = observed_on
        .map(|d| evident_core::parse_date(d).map_err(|e| usage(format!("--observed-on: {e}"))))
        .transpose()?;
    if observed_on.is_some_and(|d| d > today()) {
        return Err(usage("--observed-on: the date is in the future"));
    }
    let observed_at = match (imported.observed_at, observed_on) {
        (_, Some(d)) => d.midnight().assume_utc().unix_timestamp() * 1000,
        (Some(t), None) => t,
        (None, None) => (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
    };
    let day = evident_core::date_of_ms(observed_at).unwrap_or_else(today);

    let ws = open(dir).await?;
    let title = format!(
        "{} export: {}",
        kind.about.split(" (").next().unwrap_or(kind.name),
        imported.system
    );
    let evidence = ws
        .add_evidence(
            NewEvidence {
                title: Some(title),
                media_type: Some(kind.media_type.to_string()),
                controls: ws.collected_by(kind.name).await?,
                effective_date: Some(evident_core::format_date(day.min(today()))),
                ..NewEvidence::new(evident_store::EvidenceFile::Path(file), SourceKind::Import, kind.name)
            },
            today(),
        )
        .await?;
    let summary = ws.apply_facts(kind.name, &imported, &evidence.id, observed_at).await?;
    // On stderr whatever the format, so JSON output stays parseable; the JSON lists them too.
    for w in &imported.warnings {
        output::warn(w);
    }
    match format {
        Format::Json => output::json(&json!({
            "kind": kind.name,
            "system": imported.system,
            "scope": imported.scope,
            "evidence": evidence.id,
            "sha256": evidence.sha256,
            "accounts": summary.accounts,
            "revocations_seen": summary.revocations_seen,
            "protections": summary.protections,
            "devices": summary.devices,
            "changes": summary.changes,
            "findings": {"new": summary.findings_new, "seen": summary.findings_seen, "fixed": summary.findings_fixed},
            "warnings": imported.warnings,
        })),
        Format::Table => {
            println!(
                "{name}: {} from {} (kept as evidence {})",
                kind.name, imported.system, evidence.id
            );
            if !imported.devices.is_empty() {
                println!("  devices: {}", summary.devices);
            } else if !imported.protections.is_empty() || !imported.changes.is_empty() {
                println!(
                    "  branch protections: {}, merged changes: {}",
                    summary.protections, summary.changes
                );
            } else if imported.scope.is_some() {
                println!(
                    "  findings: {} new, {} seen again, {} fixed since the last scan",
                    summary.findings_new, summary.findings_seen, summary.findings_fixed
                );
            } else {
                println!(
                    "  accounts: {} (replacing the previous list for {})",
                    summary.accounts, imported.system
                );
                if summary.revocations_seen > 0 {
                    println!(
                        "  access-review removals now seen carried out: {}",
                        summary.revocations_seen
                    );
                }
            }
            Ok(())
        }
    }
}
