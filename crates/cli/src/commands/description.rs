//! `evident description`: the system description drafted from the records, its narratives,
//! approval and drift, and management's assertion. The wording is `evident_core::description`'s;
//! files are written by `evident report description`.

use std::path::Path;

use evident_core::description::{DriftKind, StatementKind};

use super::{open, today};
use crate::args::DescriptionCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// The most a narrative file may hold before it is read (the text limit is in characters).
const MAX_FILE_BYTES: u64 = 256 * 1024;

pub async fn run(dir: &Path, command: DescriptionCommand, format: Format) -> Result<(), CliError> {
    // Flags are checked before the workspace is opened.
    let text = match &command {
        DescriptionCommand::Write { text, file, .. } => Some(match (text, file) {
            (Some(t), None) => t.clone(),
            (None, Some(f)) => read_text(f)?,
            _ => return Err(usage("give the narrative with --text TEXT or --file FILE")),
        }),
        _ => None,
    };
    let ws = open(dir).await?;
    let day = today();
    match command {
        DescriptionCommand::Show => {
            let state = ws.description_state(day).await?;
            if format == Format::Json {
                return output::json(&state);
            }
            let d = &state.description;
            println!("Description of the system: {}", d.organisation);
            if let Some(r) = &d.report {
                println!("{r}");
            }
            match &state.approved {
                Some(a) => println!(
                    "Approved version {} by {} on {}; {} statements changed since.",
                    a.version,
                    a.approved_by,
                    &a.approved_at[..10.min(a.approved_at.len())],
                    state.drift.len()
                ),
                None => println!("Not approved yet."),
            }
            for p in &d.parts {
                println!("\n{}. {}", p.point, p.title);
                for s in &p.statements {
                    let mark = match s.kind {
                        StatementKind::Narrative => "  [written] ",
                        StatementKind::Fact => "  ",
                        StatementKind::Missing => "  [MISSING] ",
                    };
                    println!("{mark}{}", s.text.replace('\n', "\n    "));
                    let sources: Vec<String> = s
                        .sources
                        .iter()
                        .map(|x| format!("{} ({})", x.label, x.href()))
                        .collect();
                    println!("      source: {}", sources.join("; "));
                }
            }
            println!("\n{} statements still missing.", d.missing());
            Ok(())
        }
        DescriptionCommand::Write { part, .. } => {
            let n = ws
                .set_narrative(&part, &text.unwrap_or_default())
                .await
                .map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&n);
            }
            println!(
                "{}: version {} ({} characters)",
                n.part,
                n.version,
                n.text.chars().count()
            );
            Ok(())
        }
        DescriptionCommand::History { part } => {
            let versions = ws.narrative_history(&part).await.map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&versions);
            }
            let mut t = Table::new(&["VERSION", "WRITTEN BY", "AT", "TEXT"]);
            for v in versions {
                let first: String = v.text.lines().next().unwrap_or_default().chars().take(70).collect();
                t.row(vec![v.version.to_string(), v.author, v.written_at, first]);
            }
            t.print()
        }
        DescriptionCommand::Approve => {
            let a = ws.approve_description(day).await?;
            if format == Format::Json {
                return output::json(&a);
            }
            println!(
                "Approved the description as version {} (sha256 {}); drift is now measured from it.",
                a.version, a.sha256
            );
            Ok(())
        }
        DescriptionCommand::Drift => {
            let state = ws.description_state(day).await?;
            if format == Format::Json {
                return output::json(&serde_json::json!({
                    "approved": state.approved,
                    "drift": state.drift,
                }));
            }
            let Some(a) = &state.approved else {
                println!("Not approved yet: there is nothing to compare with (evident description approve).");
                return Ok(());
            };
            if state.drift.is_empty() {
                println!("The records still say what version {} says.", a.version);
                return Ok(());
            }
            let mut t = Table::new(&["PART", "CHANGE", "APPROVED", "TODAY"]);
            for d in &state.drift {
                let kind = match d.kind {
                    DriftKind::Added => "added",
                    DriftKind::Removed => "removed",
                    DriftKind::Changed => "changed",
                };
                t.row(vec![
                    d.part_title.clone(),
                    kind.into(),
                    d.approved.clone().unwrap_or_default(),
                    d.today.clone().unwrap_or_default(),
                ]);
            }
            t.print()?;
            println!("\n{} statements differ from version {}.", state.drift.len(), a.version);
            Ok(())
        }
        DescriptionCommand::Assertion => {
            let state = ws.description_state(day).await?;
            if format == Format::Json {
                return output::json(&serde_json::json!({
                    "draft": state.draft_assertion,
                    "signed": state.assertion,
                }));
            }
            match (&state.assertion, &state.draft_assertion) {
                (Some(s), _) => {
                    println!("{}\n", s.text);
                    println!(
                        "Signed by {}, {} ({}) on {} over description version {}{}",
                        s.signer_name,
                        s.signer_title,
                        s.signed_by,
                        s.signed_at,
                        s.description_version,
                        if s.outdated {
                            ". OUTDATED: the description changed since; approve it again and sign anew."
                        } else {
                            "."
                        }
                    );
                }
                (None, Some(d)) => {
                    println!(
                        "{}\n\nDraft: not signed yet (evident description sign --name … --title …).",
                        d.text()
                    )
                }
                (None, None) => return Err(CliError::Store(evident_store::StoreError::NoScope)),
            }
            Ok(())
        }
        DescriptionCommand::Sign { name, title } => {
            let s = ws
                .sign_assertion(day, &name, &title)
                .await
                .map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&s);
            }
            println!(
                "Signed by {}, {} over description version {} (sha256 {}).",
                s.signer_name, s.signer_title, s.description_version, s.sha256
            );
            Ok(())
        }
    }
}

fn read_text(path: &Path) -> Result<String, CliError> {
    let bytes = super::read_limited(path, "--file ", MAX_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|e| {
        usage(format!(
            "--file {}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}
