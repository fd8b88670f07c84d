//! `evident backup` and `evident restore`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use evident_store::{BackupOptions, Objects, RestoreOptions, Secret};

use super::audit::{print_verified, verified};
use super::{actor, instant, open};
use crate::error::{CliError, usage};
use crate::output::{self, Format};

/// The passphrase that encrypts (and opens) a backup's keys: from the environment only, so it
/// never shows in a process list or a shell history.
const PASSPHRASE: &str = "EVIDENT_BACKUP_PASSPHRASE";
const MIN_PASSPHRASE_CHARS: usize = 12;

fn passphrase() -> Option<Secret> {
    std::env::var(PASSPHRASE).ok().filter(|p| !p.is_empty()).map(Secret)
}

fn with_seconds(value: impl serde::Serialize, started: Instant) -> serde_json::Value {
    let mut v = serde_json::to_value(value).expect("serialises");
    v["seconds"] = serde_json::json!((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    v
}

pub async fn backup(
    dir: &Path,
    out: &Path,
    with_keys: bool,
    copy_objects: bool,
    format: Format,
) -> Result<(), CliError> {
    let keys_passphrase = if with_keys {
        let Some(p) = passphrase() else {
            return Err(usage(format!(
                "--with-keys: set {PASSPHRASE} to the passphrase that will encrypt the keys (it is never read from the command line)"
            )));
        };
        if p.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(usage(format!(
                "{PASSPHRASE}: at least {MIN_PASSPHRASE_CHARS} characters; the keys open every blob and sign the audit log"
            )));
        }
        Some(p)
    } else {
        None
    };
    let ws = open(dir).await?;
    let started = Instant::now();
    let s = ws
        .backup(
            out,
            &BackupOptions {
                keys_passphrase,
                copy_objects,
            },
        )
        .await?;
    if format == Format::Json {
        return output::json(&with_seconds(&s, started));
    }
    println!(
        "Backup written: {} ({} bytes) in {:.1} s",
        s.file.display(),
        s.bytes,
        started.elapsed().as_secs_f64()
    );
    println!(
        "Database: {} at schema version {}: {} tables, {} rows{}",
        s.database,
        s.schema_version,
        s.tables,
        s.rows,
        s.audit_head
            .map(|h| format!(", audit log to entry {h}"))
            .unwrap_or_default()
    );
    println!(
        "Vault:    {} blobs, {} bytes as stored, {}",
        s.blobs,
        s.blob_bytes,
        match s.objects {
            Objects::Copied => "copied (still encrypted to the vault key)",
            Objects::Listed => "listed only: they stay in the bucket (--copy-objects carries them)",
        }
    );
    if s.keys {
        println!("Keys:     included, encrypted with the passphrase in {PASSPHRASE}");
    } else {
        println!(
            "Keys:     not included: a restore needs this workspace's keys folder (--keys-from); keep a copy of it apart from the backup"
        );
    }
    Ok(())
}

pub async fn restore(
    file: &Path,
    dir: &Path,
    database_url: Option<String>,
    keys_from: Option<PathBuf>,
    check: bool,
    format: Format,
) -> Result<(), CliError> {
    let started = Instant::now();
    let s = evident_store::restore(
        file,
        dir,
        &RestoreOptions {
            database_url,
            keys_from,
            passphrase: passphrase(),
            check_only: check,
        },
        &actor(),
    )
    .await?;
    if format == Format::Json {
        output::json(&with_seconds(&s, started))?;
    } else {
        let from = format!(
            "a {} backup made at {}, schema version {}",
            s.source_database,
            instant(s.made_at),
            s.schema_version
        );
        if check {
            println!(
                "Checked {}: {from}; every part matches the signed manifest.",
                file.display()
            );
        } else {
            println!(
                "Restored into {} in {:.1} s, from {from}",
                s.workspace.display(),
                started.elapsed().as_secs_f64()
            );
        }
        println!("Database: {}: {} tables, {} rows", s.database, s.tables, s.rows);
        let vault = if s.vault.is_empty() {
            String::new()
        } else {
            format!("{}: ", s.vault)
        };
        println!(
            "Vault:    {vault}{} blobs {}",
            s.blobs,
            match s.objects {
                Objects::Copied => "copied",
                Objects::Listed => "listed (found in the bucket)",
            }
        );
        println!("Keys:     from {}", s.keys_from);
        if let Some(v) = &s.verify {
            println!();
            print_verified(v);
        }
    }
    match &s.verify {
        Some(v) => verified(v),
        None => Ok(()),
    }
}
