//! `evident frameworks`: other frameworks imported from OSCAL, and our controls mapped to them.

use std::path::Path;

use super::open;
use crate::args::FrameworksCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// Files larger than this are refused before they are read: the whole NIST SP 800-53 catalog
/// is 3.2 MB.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

fn read(path: &Path, flag: &str) -> Result<(String, Vec<u8>), CliError> {
    Ok((path.display().to_string(), super::read_limited(path, flag, MAX_BYTES)?))
}

pub async fn run(dir: &Path, command: FrameworksCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    match command {
        FrameworksCommand::Import { catalog, id, profile } => {
            let (cname, cbytes) = read(&catalog, "")?;
            let profile = profile.map(|p| read(&p, "--profile: ")).transpose()?;
            let f = ws
                .import_framework(
                    &id,
                    (&cname, &cbytes),
                    profile.as_ref().map(|(n, b)| (n.as_str(), b.as_slice())),
                )
                .await
                .map_err(|e| match e {
                    evident_store::StoreError::Field { field: "file", reason } => usage(reason),
                    other => CliError::with_flags(other),
                })?;
            if format == Format::Json {
                return output::json(&f);
            }
            println!(
                "imported {} '{}' ({}): {} controls and enhancements, {} selected{}",
                f.id,
                f.title,
                f.version,
                f.controls,
                f.selected,
                f.profile.as_deref().map(|p| format!(" by '{p}'")).unwrap_or_default()
            );
            Ok(())
        }
        FrameworksCommand::List => {
            let list = ws.frameworks().await?;
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&["id", "title", "version", "controls", "selected", "mapped", "profile"]);
            for f in &list {
                t.row(vec![
                    f.id.clone(),
                    f.title.clone(),
                    f.version.clone(),
                    f.controls.to_string(),
                    f.selected.to_string(),
                    f.mapped.to_string(),
                    f.profile.clone().unwrap_or_default(),
                ]);
            }
            t.print()
        }
        FrameworksCommand::Controls { id, selected, unmapped } => {
            let mut list = ws.framework_controls(&id).await?;
            list.retain(|c| (!selected || c.control.selected) && (!unmapped || c.mapped.is_empty()));
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&["control", "title", "group", "selected", "ours"]);
            for c in &list {
                t.row(vec![
                    c.control.id.clone(),
                    if c.control.withdrawn {
                        format!("{} (withdrawn)", c.control.title)
                    } else {
                        c.control.title.clone()
                    },
                    c.control.group.clone().unwrap_or_default(),
                    if c.control.selected { "yes" } else { "" }.into(),
                    c.mapped.join(", "),
                ]);
            }
            t.print()
        }
        FrameworksCommand::Map { id, control, ours } => mapping(&ws, &id, &control, &ours, false, format).await,
        FrameworksCommand::Unmap { id, control, ours } => mapping(&ws, &id, &control, &ours, true, format).await,
    }
}

async fn mapping(
    ws: &evident_store::Workspace,
    id: &str,
    control: &str,
    ours: &str,
    remove: bool,
    format: Format,
) -> Result<(), CliError> {
    ws.map_framework_control(id, control, ours, remove)
        .await
        .map_err(|e| match e {
            evident_store::StoreError::Field { field, reason } => usage(format!("{}: {reason}", field.to_uppercase())),
            other => CliError::Store(other),
        })?;
    let mapped = ws
        .framework_controls(id)
        .await?
        .into_iter()
        .find(|c| c.control.id.eq_ignore_ascii_case(control.trim()))
        .map(|c| c.mapped)
        .unwrap_or_default();
    if format == Format::Json {
        return output::json(
            &serde_json::json!({"framework": id, "control": control.trim().to_lowercase(), "ours": mapped}),
        );
    }
    println!(
        "{id} {}: {}",
        control.trim().to_lowercase(),
        if mapped.is_empty() {
            "no control of ours".to_string()
        } else {
            mapped.join(", ")
        }
    );
    Ok(())
}
