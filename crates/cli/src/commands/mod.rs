mod catalog;
mod controls;
mod demo;
mod init;
mod scope;

use crate::args::{Cli, Command};
use crate::error::CliError;

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let chosen = cli.workspace;
    let ws_path = |default: &str| chosen.clone().unwrap_or_else(|| default.into());
    let ws = &ws_path(".");
    match cli.command {
        Command::Init { organisation } => init::run(ws, &organisation, cli.format).await,
        Command::Demo => demo::run(&ws_path(demo::DEFAULT_DIR), cli.format).await,
        Command::Catalog(c) => catalog::run(ws, c, cli.format).await,
        Command::Controls(c) => controls::run(ws, c, cli.format).await,
        Command::Scope(c) => scope::run(ws, c, cli.format).await,
    }
}

/// A reason a person must give (not applicable, out of scope): never empty.
fn required_text(arg: &str, value: &str) -> Result<String, CliError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(CliError::Usage(format!(
            "{arg}: a reason is required and cannot be empty"
        )));
    }
    Ok(t.to_string())
}
