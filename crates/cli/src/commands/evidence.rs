use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use evident_core::evidence::EvidenceView;
use evident_core::{Control, FreshnessState};
use evident_store::{EvidenceItem, NewEvidence, SourceKind, Workspace};
use serde_json::{Value, json};
use time::Date;

use super::{instant, open, required_text, today};
use crate::args::{EvidenceAddArgs, EvidenceCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// The item in the shape every JSON answer uses (`EvidenceView`, shared with the API).
fn view(item: &EvidenceItem, controls: &HashMap<String, Control>, today: Date) -> Value {
    serde_json::to_value(EvidenceView::of(item, |c| controls.get(c), today)).expect("serialises")
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
                            && EvidenceView::of(i, |c| controls.get(c), today).freshness == Some(FreshnessState::Stale))
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
                .map(|x| json!({"id": x.id, "captured_at": instant(x.captured_at), "sha256": x.sha256, "status": x.status().as_str()}))
                .collect::<Vec<_>>());
            match format {
                Format::Json => output::json(&v),
                Format::Table => {
                    println!("{}  {}", item.id, item.title);
                    println!("  status:      {}", item.status().as_str());
                    if let Some(w) = &item.withdrawn {
                        println!("  withdrawn:   {} by {} ({})", instant(w.at), w.by, w.reason);
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
                            println!(
                                "    {}  {}  {}{mark}",
                                x.id,
                                instant(x.captured_at),
                                x.status().as_str()
                            );
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
            let mut new = NewEvidence::new(
                evident_store::EvidenceFile::Path(&file),
                SourceKind::Person,
                ws.actor.clone(),
            );
            new.title = title;
            new.effective_date = effective;
            new.period = period;
            new.supersedes = Some(old.id.clone());
            let item = ws.add_evidence(new, today).await?;
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
    if args.requirement.is_some() && args.controls.len() > 1 {
        return Err(usage("--requirement: name one --control with it"));
    }
    if args.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(usage("--title: cannot be empty"));
    }
    let mut new = NewEvidence::new(
        evident_store::EvidenceFile::Path(&args.file),
        SourceKind::Person,
        ws.actor.clone(),
    );
    new.title = args.title;
    new.media_type = args.media_type;
    new.controls = args
        .controls
        .iter()
        .map(|c| evident_store::LinkTo {
            control: c.clone(),
            requirement: args.requirement.clone(),
        })
        .collect();
    new.effective_date = args.effective;
    new.period = args.period;
    let item = ws.add_evidence(new, today).await?;
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
