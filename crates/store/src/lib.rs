//! Persistence: the workspace on disk, its configuration, and one set of SQL for SQLite and
//! PostgreSQL. Everything here is IO; the rules it applies come from `evident-core`.

mod clock;
mod config;
mod controls;
mod db;
mod error;
mod files;
mod keys;
mod scope;
mod workspace;

pub use config::{CONFIG_FILE, Config};
pub use db::{Backend, Db, redact_url};
pub use error::StoreError;
pub use scope::{ComponentRecord, ScopeRecord};
pub use workspace::{InitOptions, Workspace};
