use std::path::Path;

use evident_store::{InitOptions, Workspace};
use serde_json::json;

use crate::error::CliError;
use crate::output::{self, Format};

pub async fn run(dir: &Path, organisation: &str, format: Format) -> Result<(), CliError> {
    let ws = Workspace::init(
        dir,
        InitOptions {
            organisation: organisation.to_string(),
        },
        &super::actor(),
    )
    .await?;
    let controls = ws.controls().await?.len();
    match format {
        Format::Json => output::json(&json!({
            "workspace": ws.dir,
            "organisation": ws.organisation,
            "database": ws.db.backend.name(),
            "controls_adopted": controls,
        })),
        Format::Table => {
            println!("Created workspace {} for {}.", ws.dir.display(), ws.organisation);
            println!("  database: {} ({})", ws.db.backend.name(), ws.db.url_redacted());
            println!("  vault:    {}", ws.vault_dir().display());
            println!("  key:      {}", ws.instance_key_file().display());
            println!("  controls: {controls} adopted from the starter library");
            println!("Next: set the audit scope, e.g.");
            println!("  evident scope set --type 2 --categories security,availability --window 2027-01-01..2027-06-30");
            Ok(())
        }
    }
}
