use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use evident_catalog::Refresh;
use evident_core::{Control, Freshness, FreshnessState, format_date, freshness, governing_refresh};
use evident_store::{EvidenceItem, NewEvidence, Workspace};
use serde_json::{Value, json};
use time::Date;

use super::{instant, open, required_text, today};
use crate::args::{EvidenceAddArgs, EvidenceCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

type Attestation = evident_core::attestation::Attestation;

/// The dates an item speaks to, by the one rule every entry point uses.
fn attestation(effective: Option<&str>, period: Option<&str>, today: Date) -> Result<Attestation, CliError> {
    evident_core::attestation::attestation(effective, period, today).map_err(|e| {
        let flag = if e.field == "period" { "--period" } else { "--effective" };
        usage(format!("{flag}: {}", e.reason))
    })
}

/// Checks the file before anything is stored: present, a regular file, readable, within the limit.
fn check_file(path: &Path, limit: u64) -> Result<(), CliError> {
    let meta = fs::metadata(path).map_err(|e| usage(format!("FILE: {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(usage(format!("FILE: {} is a directory; give a file", path.display())));
    }
    if !meta.is_file() {
        return Err(usage(format!("FILE: {} is not a regular file", path.display())));
    }
    if meta.len() > limit {
        return Err(usage(format!(
            "FILE: {} is {} bytes, over the limit of {limit} bytes (max_evidence_bytes)",
            path.display(),
            meta.len()
        )));
    }
    fs::File::open(path).map_err(|e| usage(format!("FILE: {}: {e}", path.display())))?;
    Ok(())
}

fn media_type(path: &Path, given: Option<&str>) -> String {
    match given {
        Some(m) => m.trim().to_string(),
        None => mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_string(),
    }
}

/// The cadence that decides when an item goes stale: its requirement's, or the most
/// demanding of its controls' requirements.
fn refresh_of(item: &EvidenceItem, controls: &HashMap<String, Control>) -> Option<Refresh> {
    let mut cadences = Vec::new();
    for link in &item.controls {
        let Some(c) = controls.get(&link.control) else { continue };
        match &link.requirement {
            Some(k) => cadences.extend(c.evidence.iter().filter(|e| &e.key == k).map(|e| e.refresh)),
            None => cadences.extend(c.evidence.iter().map(|e| e.refresh)),
        }
    }
    governing_refresh(cadences)
}

fn freshness_of(
    item: &EvidenceItem,
    controls: &HashMap<String, Control>,
    today: Date,
) -> (Option<Refresh>, Option<Freshness>) {
    let refresh = refresh_of(item, controls);
    (refresh, refresh.map(|r| freshness(item.attests_to(), r, today)))
}

fn status(item: &EvidenceItem) -> &'static str {
    if item.withdrawn.is_some() {
        "withdrawn"
    } else if item.superseded_by.is_some() {
        "superseded"
    } else {
        "current"
    }
}

fn view(item: &EvidenceItem, controls: &HashMap<String, Control>, today: Date) -> Value {
    let (refresh, fresh) = freshness_of(item, controls, today);
    json!({
        "id": item.id,
        "title": item.title,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "file_name": item.file_name,
        "source": {"kind": item.source_kind, "ref": item.source_ref},
        "captured_at": instant(item.captured_at),
        "effective_date": item.effective_date,
        "period": item.period_from.as_ref().map(|f| json!({"from": f, "to": item.period_to})),
        "controls": item.controls,
        "supersedes": item.supersedes,
        "superseded_by": item.superseded_by,
        "status": status(item),
        "withdrawn": item.withdrawn.as_ref().map(|w| json!({"reason": w.reason, "actor": w.actor, "at": instant(w.at)})),
        "refresh": refresh,
        "valid_until": fresh.and_then(|f| f.valid_until).map(format_date),
        "freshness": fresh.map(|f| f.state),
    })
}

async fn controls_by_code(ws: &Workspace) -> Result<HashMap<String, Control>, CliError> {
    Ok(ws.controls().await?.into_iter().map(|c| (c.code.clone(), c)).collect())
}

pub async fn run(dir: &Path, command: EvidenceCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let today = today();
    match command {
        EvidenceCommand::Add(args) => add(&ws, args, today, format).await,
        EvidenceCommand::List { control, stale, all } => {
            let controls = controls_by_code(&ws).await?;
            let control = match control {
                Some(c) => Some(ws.control(&c).await?.code),
                None => None,
            };
            let items: Vec<Value> = ws
                .evidence()
                .await?
                .iter()
                .filter(|i| all || i.is_current())
                .filter(|i| {
                    control
                        .as_ref()
                        .is_none_or(|c| i.controls.iter().any(|l| &l.control == c))
                })
                .filter(|i| {
                    !stale
                        || (i.is_current()
                            && freshness_of(i, &controls, today)
                                .1
                                .is_some_and(|f| f.state == FreshnessState::Stale))
                })
                .map(|i| view(i, &controls, today))
                .collect();
            match format {
                Format::Json => output::json(&items),
                Format::Table => {
                    let mut t = Table::new(&["ID", "TITLE", "CONTROLS", "DATE", "VALID UNTIL", "STATE"]);
                    for i in &items {
                        let controls: Vec<&str> = i["controls"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|l| l["control"].as_str())
                            .collect();
                        let date = i["effective_date"].as_str().map(str::to_string).unwrap_or_else(|| {
                            format!(
                                "{}..{}",
                                i["period"]["from"].as_str().unwrap_or(""),
                                i["period"]["to"].as_str().unwrap_or("")
                            )
                        });
                        let state = match i["status"].as_str() {
                            Some("current") => i["freshness"].as_str().unwrap_or("").to_string(),
                            other => other.unwrap_or("").to_string(),
                        };
                        t.row(vec![
                            i["id"].as_str().unwrap_or("").into(),
                            i["title"].as_str().unwrap_or("").into(),
                            controls.join(","),
                            date,
                            i["valid_until"].as_str().unwrap_or("-").into(),
                            state,
                        ]);
                    }
                    t.print()?;
                    println!("\n{} item(s)", items.len());
                    Ok(())
                }
            }
        }
        EvidenceCommand::Show { id } => {
            let controls = controls_by_code(&ws).await?;
            let item = ws.evidence_item(&id).await?;
            let mut v = view(&item, &controls, today);
            // The whole version chain, oldest first.
            let mut versions = vec![item.clone()];
            while let Some(prev) = versions[0].supersedes.clone() {
                versions.insert(0, ws.evidence_item(&prev).await?);
            }
            while let Some(next) = versions.last().and_then(|v| v.superseded_by.clone()) {
                versions.push(ws.evidence_item(&next).await?);
            }
            v["versions"] = json!(versions
                .iter()
                .map(|x| json!({"id": x.id, "captured_at": instant(x.captured_at), "sha256": x.sha256, "status": status(x)}))
                .collect::<Vec<_>>());
            match format {
                Format::Json => output::json(&v),
                Format::Table => {
                    println!("{}  {}", item.id, item.title);
                    println!("  status:      {}", status(&item));
                    if let Some(w) = &item.withdrawn {
                        println!("  withdrawn:   {} by {} ({})", instant(w.at), w.actor, w.reason);
                    }
                    println!("  sha256:      {}", item.sha256);
                    println!("  size:        {} bytes ({})", item.size, item.media_type);
                    println!("  file:        {}", item.file_name);
                    println!("  captured:    {} by {}", instant(item.captured_at), item.created_by);
                    println!("  source:      {} {}", item.source_kind, item.source_ref);
                    match (&item.effective_date, &item.period_from, &item.period_to) {
                        (Some(d), _, _) => println!("  effective:   {d}"),
                        (_, Some(f), Some(t)) => println!("  period:      {f} to {t}"),
                        _ => {}
                    }
                    println!(
                        "  valid until: {} ({})",
                        v["valid_until"].as_str().unwrap_or("-"),
                        v["freshness"].as_str().unwrap_or("-")
                    );
                    for l in &item.controls {
                        println!(
                            "  control:     {}{}",
                            l.control,
                            l.requirement.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
                        );
                    }
                    if versions.len() > 1 {
                        println!("  versions:");
                        for x in &versions {
                            let mark = if x.id == item.id { " <- this" } else { "" };
                            println!("    {}  {}  {}{mark}", x.id, instant(x.captured_at), status(x));
                        }
                    }
                    Ok(())
                }
            }
        }
        EvidenceCommand::Get { id, out, force } => get(&ws, &id, &out, force, format).await,
        EvidenceCommand::Supersede {
            id,
            file,
            title,
            effective,
            period,
        } => {
            let old = ws.evidence_item(&id).await?;
            let (effective, period) = attestation(effective.as_deref(), period.as_deref(), today)?;
            check_file(&file, ws.vault.max_bytes)?;
            let new = NewEvidence {
                file: evident_store::EvidenceFile::Path(&file),
                title: title
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| old.title.clone()),
                media_type: media_type(&file, None),
                controls: old
                    .controls
                    .iter()
                    .map(|l| (l.control.clone(), l.requirement.clone()))
                    .collect(),
                effective_date: effective,
                period,
                source_kind: "person",
                source_ref: ws.actor.clone(),
            };
            let item = ws.add_evidence(new, Some(&old.id)).await?;
            let controls = controls_by_code(&ws).await?;
            printed(
                &item,
                &controls,
                today,
                format,
                &format!("{} supersedes {}", item.id, old.id),
            )
        }
        EvidenceCommand::Withdraw { id, reason } => {
            let reason = required_text("--reason", &reason)?;
            let item = ws.withdraw_evidence(&id, &reason).await?;
            let controls = controls_by_code(&ws).await?;
            printed(
                &item,
                &controls,
                today,
                format,
                &format!("{} withdrawn: {reason}", item.id),
            )
        }
    }
}

fn printed(
    item: &EvidenceItem,
    controls: &HashMap<String, Control>,
    today: Date,
    format: Format,
    sentence: &str,
) -> Result<(), CliError> {
    match format {
        Format::Json => output::json(&view(item, controls, today)),
        Format::Table => {
            println!("{sentence}");
            println!("  sha256: {}  size: {} bytes", item.sha256, item.size);
            Ok(())
        }
    }
}

async fn add(ws: &Workspace, args: EvidenceAddArgs, today: Date, _format: Format) -> Result<(), CliError> {
    // Every check runs before the vault sees a byte.
    let (effective, period) = attestation(args.effective.as_deref(), args.period.as_deref(), today)?;
    let mut codes = Vec::new();
    for c in &args.controls {
        let control = ws.control(c).await?;
        if !codes
            .iter()
            .any(|(code, _): &(String, Option<String>)| code == &control.code)
        {
            codes.push((control.code.clone(), None));
        }
        if let Some(req) = &args.requirement {
            if args.controls.len() > 1 {
                return Err(usage("--requirement: name one --control with it"));
            }
            if !control.evidence.iter().any(|e| &e.key == req) {
                let keys: Vec<&str> = control.evidence.iter().map(|e| e.key.as_str()).collect();
                return Err(usage(format!(
                    "--requirement: {} has no evidence requirement '{req}' (allowed: {})",
                    control.code,
                    keys.join(", ")
                )));
            }
            codes[0].1 = Some(req.clone());
        }
    }
    check_file(&args.file, ws.vault.max_bytes)?;
    let title = match args.title.as_deref().map(str::trim) {
        Some("") => return Err(usage("--title: cannot be empty")),
        Some(t) => t.to_string(),
        None => args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "evidence".into()),
    };
    let new = NewEvidence {
        file: evident_store::EvidenceFile::Path(&args.file),
        title,
        media_type: media_type(&args.file, args.media_type.as_deref()),
        controls: codes,
        effective_date: effective,
        period,
        source_kind: "person",
        source_ref: ws.actor.clone(),
    };
    let item = ws.add_evidence(new, None).await?;
    let controls = controls_by_code(ws).await?;
    // Always JSON: scripts capture the id and hash of what they added.
    output::json(&view(&item, &controls, today))
}

async fn get(ws: &Workspace, id: &str, out: &Path, force: bool, format: Format) -> Result<(), CliError> {
    let item = ws.evidence_item(id).await?;
    if out.exists() && !force {
        return Err(usage(format!(
            "--out: {} exists; add --force to replace it",
            out.display()
        )));
    }
    if out.is_dir() {
        return Err(usage(format!("--out: {} is a directory", out.display())));
    }
    // Written beside the target and renamed, so OUT is either absent or complete.
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp: PathBuf = parent.join(format!(".{}.evident-partial", item.id));
    let mut file = fs::File::create(&tmp).map_err(|e| usage(format!("--out: {}: {e}", out.display())))?;
    let result = ws.vault.read_into(&item.sha256, &mut file, out).await;
    match result {
        Ok(_) => {
            file.sync_all()?;
            fs::rename(&tmp, out)?;
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(CliError::Vault(e));
        }
    }
    match format {
        Format::Json => output::json(&json!({"id": item.id, "sha256": item.sha256, "size": item.size, "out": out})),
        Format::Table => {
            println!(
                "Wrote {} ({} bytes, sha256 {}) to {}",
                item.id,
                item.size,
                item.sha256,
                out.display()
            );
            if let Some(w) = &item.withdrawn {
                println!("Note: this item was withdrawn ({})", w.reason);
            }
            Ok(())
        }
    }
}
