/// A problem in framework or library content, located by file and item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("{file}: cannot be read as content: {reason}")]
    Parse { file: String, reason: String },
    #[error("{file}: {item}: {field}: {reason}")]
    Invalid {
        file: String,
        item: String,
        field: String,
        reason: String,
    },
}
