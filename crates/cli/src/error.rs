use evident_store::{EvidenceError, StoreError, VaultError};

/// Exit code 2 means the input was wrong and nothing changed; 1 means the machine failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(VaultError),
    #[error("{0}")]
    Output(#[from] std::io::Error),
    #[error("{0}")]
    Failed(String),
    #[error("verification failed: {0} problem(s) found")]
    VerifyFailed(usize),
}

impl From<EvidenceError> for CliError {
    fn from(e: EvidenceError) -> Self {
        match e {
            EvidenceError::Store(StoreError::Field { field, reason }) => {
                CliError::Usage(format!("{}: {reason}", flag_of(field)))
            }
            EvidenceError::Store(s) => CliError::Store(s),
            // What the person handed in could not be taken as it is.
            EvidenceError::Vault(
                v @ (VaultError::Read { .. } | VaultError::TooLarge { .. } | VaultError::Changed { .. }),
            ) => CliError::Usage(format!("FILE: {v}")),
            EvidenceError::Vault(v) => CliError::Vault(v),
        }
    }
}

/// The command-line flag a store field is given with.
fn flag_of(field: &str) -> &str {
    match field {
        "effective_date" => "--effective",
        "period" => "--period",
        "controls" => "--control",
        "requirement" => "--requirement",
        "title" => "--title",
        "media_type" => "--media-type",
        "file" => "FILE",
        "as_of" => "--as-of",
        "response" => "--text",
        "seed" => "--seed",
        "size" => "--size",
        "more" => "--more",
        "note" => "--note",
        "comment" => "--comment",
        "population" => "--population",
        "due" => "--due",
        "systems" => "--system",
        "coverage" => "--coverage",
        "reviewer" => "--reviewer",
        "change" => "--to",
        "reason" => "--reason",
        "text" => "--text",
        "name" => "--name",
        "part" => "PART",
        "every" => "--every",
        "check" => "--check",
        other => other,
    }
}

impl CliError {
    /// A store error, with a refused field named by the flag it was given with.
    pub fn with_flags(e: StoreError) -> CliError {
        match e {
            StoreError::Field { field, reason } => CliError::Usage(format!("{}: {reason}", flag_of(field))),
            other => CliError::Store(other),
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Store(e) if e.is_bad_input() => 2,
            CliError::VerifyFailed(_) => 3,
            CliError::Store(_) | CliError::Vault(_) | CliError::Output(_) | CliError::Failed(_) => 1,
        }
    }
}

/// Turns a domain validation error into a usage error (exit 2).
pub fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}
