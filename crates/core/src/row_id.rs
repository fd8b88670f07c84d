//! The internal id of a stored row.

use serde::Serialize;

/// A stored row's internal id (a ULID): joins use it, people never see or type it. Its own
/// type so it cannot be passed where a code people use (`ACC-04`, `access-control`) is meant,
/// or the other way round.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct RowId(String);

impl RowId {
    pub fn new(id: impl Into<String>) -> RowId {
        RowId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
