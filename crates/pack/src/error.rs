//! The one error type of the crate: what stopped a pack from being written, or the first
//! thing found wrong in a pack being verified. Each message names the file, entry or field.

use evident_ledger::ChainProblem;

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    // Reading and writing.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("zip: {0}")]
    Zip(String),

    // Writing: inputs the writer refuses before they reach the pack.
    #[error("evidence {id}: {field} {reason}")]
    InvalidItem {
        id: String,
        field: &'static str,
        reason: String,
    },
    #[error("evidence {id}: the bytes read differ from its record ({what})")]
    ContentMismatch { id: String, what: String },
    #[error("evidence {id}: added after {previous}; add items in ascending id order")]
    OutOfOrder { id: String, previous: String },
    #[error("the audit log given cannot back the pack: {0}")]
    Segment(String),

    // Verifying: the first thing found wrong.
    #[error("not a readable zip archive ({0}); the file may be truncated or not a pack")]
    Unreadable(String),
    #[error("zip entry {name:?}: unsafe name ({why}); refused")]
    UnsafeName { name: String, why: &'static str },
    #[error("the zip lists the same entry name more than once")]
    DuplicateEntry,
    #[error("{0}: missing from the zip")]
    Missing(String),
    #[error("{0}: in the zip but not listed in the manifest (added)")]
    Added(String),
    #[error("{file}: {reason}")]
    Malformed { file: String, reason: String },
    #[error("{path}: sha256 is {actual}, the manifest says {expected}")]
    HashMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: size is {actual} bytes, the manifest says {expected}")]
    SizeMismatch { path: String, expected: u64, actual: u64 },
    #[error("manifest.sig: not a valid signature of manifest.json by the pack's key (fingerprint {fingerprint})")]
    BadManifestSignature { fingerprint: String },
    #[error("the pack's key has fingerprint {actual}, expected {expected}")]
    FingerprintMismatch { expected: String, actual: String },
    #[error("{0}")]
    Chain(ChainProblem),
    #[error("audit-log entry {seq}: payload omitted, but its subject {subject} is an item of this pack")]
    PayloadOmitted { seq: i64, subject: String },
    #[error("audit segment: {0}")]
    SegmentBounds(String),
    #[error("evidence {id}: no evidence.add or evidence.supersede entry records it in the audit segment")]
    NotRecorded { id: String },
    #[error("evidence {id}: audit-log entry {seq} recorded {field} = {recorded}, the manifest says {manifest}")]
    RecordDiffers {
        id: String,
        seq: i64,
        field: &'static str,
        recorded: String,
        manifest: String,
    },

    // Timestamps (RFC 3161): a TSA's reply being accepted, or `manifest.tsr` being verified.
    #[error("the time-stamping authority's reply: {0}")]
    TsaReply(String),
    #[error("timestamp token (manifest.tsr): {0}")]
    Timestamp(String),
    #[error(
        "timestamp token (manifest.tsr): it time-stamps {algorithm} {token}, but manifest.json's {algorithm} is \
         {manifest}: a token for other data, or manifest.json was changed after it was time-stamped"
    )]
    TimestampImprint {
        algorithm: &'static str,
        token: String,
        manifest: String,
    },
    #[error(
        "timestamp token (manifest.tsr): its signature does not verify with the certificate it carries \
         ({subject}): the token was altered"
    )]
    TimestampSignature { subject: String },
}

impl PackError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PackError {
        let what = what.into();
        move |source| PackError::Io { what, source }
    }

    pub(crate) fn malformed(file: &str, reason: impl Into<String>) -> PackError {
        PackError::Malformed {
            file: file.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<zip::result::ZipError> for PackError {
    fn from(e: zip::result::ZipError) -> Self {
        PackError::Zip(e.to_string())
    }
}
