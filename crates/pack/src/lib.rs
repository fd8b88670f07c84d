//! Signed evidence packs: what leaves Evident for an auditor. A pack is one zip holding the
//! evidence files, a manifest of their hashes and records, the audit-log entries that
//! recorded them chained to a signed checkpoint, the instance key, `SHA256SUMS`, an Ed25519
//! signature over the manifest and, optionally, an RFC 3161 timestamp token over it. [`PackWriter`] streams one out; [`verify`] checks one
//! offline, as the `evident-verify` binary and `docs/verify-pack.sh` do. The format is
//! described for auditors in `docs/pack-format.md`.
//!
//! No database, no async, no clock, no network: the same inputs always give the same bytes.
//! A timestamp token is the one exception: a time-stamping authority makes it (the caller
//! asks, with [`TimestampQuery`]), so it differs each time while the manifest does not.

mod civil;
mod error;
mod key;
pub mod layout;
mod manifest;
mod record;
mod segment;
mod timestamp;
mod verify;
mod writer;

pub use error::PackError;
pub use key::{fingerprint, public_key_pem};
pub use manifest::{
    AuditLine, AuditSection, CheckpointRecord, ControlLink, FORMAT, FileEntry, InstanceKey, Manifest, PackItem,
    PackSubject, Period, Source, SubjectKind,
};
pub use timestamp::{QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE, Timestamp, TimestampQuery, verify_token};
pub use verify::{Check, Failure, Outcome, Report, verify, verify_path, verify_with};
pub use writer::{EvidenceEntry, Finished, HashingWriter, PackWriter, Sealed};
