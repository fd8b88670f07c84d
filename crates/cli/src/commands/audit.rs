use std::path::Path;

use evident_core::parse_date;
use serde_json::{Value, json};

use super::{instant, open};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

pub async fn log(dir: &Path, since: Option<&str>, format: Format) -> Result<(), CliError> {
    let since_ms = match since {
        Some(d) => {
            let date = parse_date(d).map_err(|e| usage(format!("--since: {e}")))?;
            date.midnight().assume_utc().unix_timestamp() * 1000
        }
        None => i64::MIN,
    };
    let ws = open(dir).await?;
    let entries = ws.audit_log(since_ms).await?;
    match format {
        Format::Json => {
            let rows: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "seq": e.seq,
                        "at": instant(e.at),
                        "actor": e.actor,
                        "action": e.action,
                        "subject": e.subject,
                        "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::String(e.payload.clone())),
                        "payload_hash": e.payload_hash,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                    })
                })
                .collect();
            output::json(&rows)
        }
        Format::Table => {
            let mut t = Table::new(&["SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT"]);
            for e in &entries {
                t.row(vec![
                    e.seq.to_string(),
                    instant(e.at),
                    e.actor.clone(),
                    e.action.clone(),
                    e.subject.clone(),
                ]);
            }
            t.print()?;
            println!("\n{} entries", entries.len());
            Ok(())
        }
    }
}

pub async fn verify(dir: &Path, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let report = ws.verify().await?;
    if format == Format::Json {
        output::json(&report)?;
    } else {
        print_verified(&report);
    }
    verified(&report)
}

/// `verify`'s report for people.
pub fn print_verified(report: &evident_store::VerifyReport) {
    println!(
        "Audit log:   {} entries, {} signed checkpoints",
        report.audit_entries, report.checkpoints
    );
    match report.pinned_head {
        Some(seq) => println!("Pinned head: entry {seq} (audit-head.json)"),
        None => println!("Pinned head: none yet"),
    }
    println!(
        "Evidence:    {} items, {} blobs, {} bytes re-hashed",
        report.evidence_items, report.blobs, report.blob_bytes
    );
    println!("Instance key (ed25519 public): {}", report.instance_public_key);
    println!("Key fingerprint (packs):      {}", report.instance_key_fingerprint);
    if report.problems.is_empty() {
        println!("\nVerified: nothing was altered.");
    } else {
        println!("\nFIRST PROBLEM: {}", report.problems[0]);
        for p in &report.problems[1..] {
            println!("  also: {p}");
        }
    }
}

/// Success when nothing was found wrong; else the first problem on stderr and exit 3.
pub fn verified(report: &evident_store::VerifyReport) -> Result<(), CliError> {
    if report.problems.is_empty() {
        Ok(())
    } else {
        eprintln!("first problem: {}", report.problems[0]);
        Err(CliError::VerifyFailed(report.problems.len()))
    }
}
