use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error("{} already holds an Evident workspace ({}); nothing was changed", dir.display(), crate::CONFIG_FILE)]
    AlreadyInitialised { dir: PathBuf },
    #[error("the database {url} already holds an Evident program; nothing was changed")]
    DatabaseInUse { url: String },
    #[error(
        "{} is not an Evident workspace (no {}); create one with `evident init --workspace {}`",
        dir.display(), crate::CONFIG_FILE, dir.display()
    )]
    NotAWorkspace { dir: PathBuf },
    #[error("the database has no program yet; run `evident init`")]
    NotInitialised,
    #[error("unknown {kind} '{id}'")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    /// The caller's role may not take this step (an auditor changing evidence, an owner
    /// accepting their own answer).
    #[error("{0}")]
    Forbidden(String),
    /// Input (a rule file, a value) that cannot be taken as it is.
    #[error("{0}")]
    Invalid(String),
    /// One named input field refused (the web and the API answer 422 naming it; the CLI names
    /// its flag).
    #[error("{field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error(
        "no audit scope set yet, so readiness has nothing to measure; set it first, e.g.\n  \
         evident scope set --type 2 --categories security,availability --window 2027-01-01..2027-06-30"
    )]
    NoScope,
    /// The configured time-stamping authority did not give a usable timestamp: the pack is
    /// not made (a failure of the outside world, not of the input).
    #[error("the time-stamping authority {url} did not time-stamp the pack: {reason}; no pack was made")]
    Timestamp { url: String, reason: String },
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // PostgreSQL refuses NUL in text (SQLSTATE 22021, "invalid byte sequence") where SQLite
        // would store it. Input is validated against that (`evident_core::text::storable`);
        // text that reaches the database by a path without that check is still bad input, so
        // it is answered as such (exit 2, HTTP 422) rather than as a failure of the machine.
        if let sqlx::Error::Database(db) = &e
            && db.code().as_deref() == Some("22021")
        {
            return StoreError::Invalid(
                "the input contains a NUL character (U+0000), which cannot be stored; nothing was changed".into(),
            );
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }

    /// True when the caller asked for something that does not exist or cannot be done as
    /// asked, as opposed to a failure of the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound { .. }
                | StoreError::Conflict(_)
                | StoreError::Forbidden(_)
                | StoreError::Invalid(_)
                | StoreError::Field { .. }
                | StoreError::NoScope
                | StoreError::AlreadyInitialised { .. }
                | StoreError::DatabaseInUse { .. }
                | StoreError::NotAWorkspace { .. }
        )
    }
}

/// Text a person typed, refused (naming its field) when it could not be stored.
pub(crate) fn storable(field: &str, text: &str) -> Result<(), StoreError> {
    evident_core::text::storable(text).map_err(|e| StoreError::Invalid(format!("{field}: {e}")))
}
