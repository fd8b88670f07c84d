//! Workspace configuration: defaults, then `evident.toml`, then `EVIDENT_*` environment variables.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::StoreError;

pub const CONFIG_FILE: &str = "evident.toml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// The organisation's name, used in documents the product writes.
    pub organisation: String,
    /// `postgres://…` to use PostgreSQL; empty means the SQLite file in the workspace.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Where evidence blobs live, relative to the workspace unless absolute.
    pub vault_dir: PathBuf,
    /// The instance signing key, relative to the workspace unless absolute.
    pub instance_key_file: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            organisation: "My Company".into(),
            database_url: None,
            vault_dir: "vault".into(),
            instance_key_file: "keys/instance.key".into(),
        }
    }
}

impl Config {
    /// Reads the layered configuration of a workspace (the file need not exist yet).
    pub fn load(dir: &Path) -> Result<Config, StoreError> {
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(dir.join(CONFIG_FILE)))
            // EVIDENT_HOME names the workspace itself, not a setting in it.
            .merge(Env::prefixed("EVIDENT_").ignore(&["home"]).only(&[
                "organisation",
                "database_url",
                "vault_dir",
                "instance_key_file",
            ]))
            .extract()
            .map_err(|e| StoreError::Config(format!("{}: {e}", dir.join(CONFIG_FILE).display())))?;
        if config.database_url.as_deref().is_some_and(|u| u.trim().is_empty()) {
            config.database_url = None;
        }
        Ok(config)
    }

    /// The file written by `evident init`: every setting, commented where it has a default.
    pub fn to_file_text(&self) -> String {
        let toml_str = |s: &str| toml_quote(s);
        format!(
            "# Evident workspace configuration. Environment variables EVIDENT_<SETTING> override these.\n\
             organisation = {}\n\n\
             # Leave unset to use the SQLite database in this folder (evident.db).\n\
             # database_url = \"postgres://user@host:5432/evident\"\n\
             {}\n\
             vault_dir = {}\n\
             instance_key_file = {}\n",
            toml_str(&self.organisation),
            match &self.database_url {
                Some(u) => format!("database_url = {}\n", toml_str(u)),
                None => String::new(),
            },
            toml_str(&self.vault_dir.to_string_lossy()),
            toml_str(&self.instance_key_file.to_string_lossy()),
        )
    }
}

/// A TOML basic string.
fn toml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
