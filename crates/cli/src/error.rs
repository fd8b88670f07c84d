use evident_store::StoreError;

/// Exit code 2 means the input was wrong and nothing changed; 1 means the machine failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Store(e) if e.is_bad_input() => 2,
            CliError::Store(_) | CliError::Output(_) => 1,
        }
    }
}

/// Turns a domain validation error into a usage error (exit 2).
pub fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}
