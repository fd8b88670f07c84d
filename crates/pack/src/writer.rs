//! Writes a pack in one pass: each evidence file is streamed into the zip and hashed on the
//! way (memory does not grow with file size); the audit segment, key, manifest and signature
//! follow in [`PackWriter::seal`], then the optional timestamp token and `SHA256SUMS` in
//! [`Sealed::finish`] ([`PackWriter::finish`] does both, with no token). The output is a
//! function of the inputs alone (entry times come from the records, never from a clock),
//! except the token, which a time-stamping authority makes anew each time.

use std::collections::BTreeSet;
use std::io::{Read, Seek, Write};

use ed25519_dalek::{Signer, SigningKey};
use evident_ledger::{Checkpoint, Entry, checkpoint_signed_by};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::civil::{rfc3339, zip_time};
use crate::error::PackError;
use crate::key::{fingerprint, public_key_pem};
use crate::layout::{
    AUDIT_ENTRIES, INSTANCE_PEM, MANIFEST, MANIFEST_SIG, MANIFEST_TSR, SHA256SUMS, evidence_path, id_is_safe,
    is_precompressed,
};
use crate::manifest::{
    AuditSection, CheckpointRecord, FORMAT, FileEntry, InstanceKey, Manifest, PackItem, PackSubject,
};
use crate::record::{RECORDING_ACTIONS, first_difference, subject_of};
use crate::segment::{SegmentWalker, select};
use crate::timestamp::{Timestamp, verify_token};

/// Deflate level for compressible files: zlib's default, a fair trade of speed for size.
const DEFLATE_LEVEL: i64 = 6;
const CHUNK: usize = 64 * 1024;

/// A pack being written to `W`. If any call fails, discard the output: it is incomplete.
pub struct PackWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    subject: PackSubject,
    files: Vec<FileEntry>,
}

/// A written pack.
#[derive(Debug)]
pub struct Finished<W> {
    /// The output, positioned at its end.
    pub out: W,
    /// Lowercase hex SHA-256 of `manifest.json`: names this exact pack.
    pub manifest_sha256: String,
    /// The signing key's fingerprint (SHA-256 of its 32 public-key bytes).
    pub fingerprint: String,
    /// What the pack's timestamp token says, when it has one.
    pub timestamp: Option<Timestamp>,
}

/// A pack whose manifest is written and signed, waiting for its optional timestamp token
/// (requested over [`Sealed::manifest_bytes`]) and `SHA256SUMS`.
pub struct Sealed<W: Write + Seek> {
    zip: ZipWriter<W>,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    at: i64,
}

impl<W: Write + Seek> PackWriter<W> {
    pub fn new(out: W, subject: PackSubject) -> Self {
        PackWriter {
            zip: ZipWriter::new(out),
            subject,
            files: Vec::new(),
        }
    }

    /// Streams one evidence file into the pack. Items go in ascending id order (so the same
    /// set always gives the same zip); the bytes must hash and measure as `item` says.
    pub fn add_evidence(&mut self, item: PackItem, mut content: impl Read) -> Result<(), PackError> {
        let id = item.id.clone();
        let mut entry = self.begin_evidence(item)?;
        copy(&mut content, &mut entry).map_err(PackError::io(format!("evidence {id}")))?;
        entry.finish()
    }

    /// Starts one evidence file: write its bytes into the returned entry (for sources that
    /// write rather than read, such as the vault's decryptor), then [`EvidenceEntry::finish`].
    pub fn begin_evidence(&mut self, item: PackItem) -> Result<EvidenceEntry<'_, W>, PackError> {
        check_item(&item)?;
        let path = evidence_path(&item.id, &item.file_name);
        if let Some(prev) = self.files.last()
            && path <= prev.path
        {
            return Err(PackError::OutOfOrder {
                id: item.id,
                previous: prev.evidence_id.clone(),
            });
        }
        let method = if is_precompressed(&item.media_type) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let mut options = options(item.captured_at)
            .compression_method(method)
            .large_file(item.size >= u64::from(u32::MAX));
        if method == CompressionMethod::Deflated {
            options = options.compression_level(Some(DEFLATE_LEVEL));
        }
        self.zip.start_file(path.as_str(), options)?;
        Ok(EvidenceEntry {
            pack: self,
            path,
            item,
            hasher: Sha256::new(),
            len: 0,
        })
    }

    /// [`PackWriter::seal`] and [`Sealed::finish`] with no timestamp.
    pub fn finish(
        self,
        audit_log: &[Entry],
        checkpoint: &Checkpoint,
        key: &SigningKey,
    ) -> Result<Finished<W>, PackError> {
        self.seal(audit_log, checkpoint, key)?.finish(None)
    }

    /// Adds the audit segment (cut from `audit_log`, which must hold the entries from the
    /// first record of a pack item up to `checkpoint`, in `seq` order), the key and the signed
    /// manifest. `key` must be the instance key that signed `checkpoint`.
    pub fn seal(self, audit_log: &[Entry], checkpoint: &Checkpoint, key: &SigningKey) -> Result<Sealed<W>, PackError> {
        let PackWriter {
            mut zip,
            subject,
            mut files,
        } = self;
        if files.is_empty() {
            return Err(PackError::Segment("the pack has no evidence".into()));
        }
        let public = key.verifying_key();
        if !checkpoint_signed_by(&public, checkpoint) {
            return Err(PackError::Segment(format!(
                "the checkpoint at entry {} is not signed by this key",
                checkpoint.seq
            )));
        }
        let subjects: BTreeSet<String> = files.iter().map(|f| subject_of(&f.evidence_id)).collect();
        let lines = select(audit_log, checkpoint, &subjects)?;

        // The writer checks what it ships as the verifier will: a pack that fails is not made.
        let mut walker = SegmentWalker::new(&subjects);
        for line in &lines {
            walker.step(line).map_err(|e| PackError::Segment(e.to_string()))?;
        }
        walker
            .finish(checkpoint, &public)
            .map_err(|e| PackError::Segment(e.to_string()))?;
        for f in &mut files {
            let subject = subject_of(&f.evidence_id);
            let recorded = lines
                .iter()
                .find(|l| l.subject == subject && RECORDING_ACTIONS.contains(&l.action.as_str()))
                .ok_or_else(|| PackError::NotRecorded {
                    id: f.evidence_id.clone(),
                })?;
            f.recorded_by = recorded.seq;
            let payload = recorded.payload.as_deref().unwrap_or_default();
            if let Some((field, recorded_value, manifest)) = first_difference(payload, f) {
                return Err(PackError::RecordDiffers {
                    id: f.evidence_id.clone(),
                    seq: recorded.seq,
                    field,
                    recorded: recorded_value,
                    manifest,
                });
            }
        }

        let meta = options(checkpoint.at).compression_method(CompressionMethod::Deflated);
        zip.start_file(AUDIT_ENTRIES, meta)?;
        let mut entries = HashingWriter::new(&mut zip);
        for line in &lines {
            let mut text = serde_json::to_vec(line).expect("an audit line always serialises");
            text.push(b'\n');
            entries.write_all(&text).map_err(PackError::io(AUDIT_ENTRIES))?;
        }
        let (entries_sha256, entries_size) = entries.finish();

        let pem = public_key_pem(&public);
        put(&mut zip, INSTANCE_PEM, pem.as_bytes(), meta)?;

        let (first_seq, last_seq) = walker.bounds().expect("a checked segment has entries");
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest {
            format: FORMAT.to_string(),
            of: subject,
            instance_key: InstanceKey {
                algorithm: "ed25519".into(),
                public_key: hex::encode(public.as_bytes()),
                fingerprint: fingerprint(&public),
                pem: INSTANCE_PEM.into(),
                pem_sha256: evident_ledger::sha256_hex(pem.as_bytes()),
            },
            files,
            audit: AuditSection {
                entries: AUDIT_ENTRIES.into(),
                entries_sha256,
                entries_size,
                first_seq,
                last_seq,
                count: walker.count,
                payloads_omitted: walker.omitted,
                checkpoint: CheckpointRecord {
                    seq: checkpoint.seq,
                    at: checkpoint.at,
                    hash: checkpoint.hash.clone(),
                    signature: checkpoint.signature.clone(),
                },
            },
        };
        let bytes = manifest.to_bytes();
        let signature = key.sign(&bytes).to_bytes();
        put(&mut zip, MANIFEST, &bytes, meta)?;
        put(&mut zip, MANIFEST_SIG, &signature, options(checkpoint.at))?;
        Ok(Sealed {
            zip,
            manifest,
            manifest_bytes: bytes,
            at: checkpoint.at,
        })
    }
}

impl<W: Write + Seek> Sealed<W> {
    /// The exact bytes of `manifest.json`: what a timestamp is requested over.
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// Adds `token` as `manifest.tsr` when given (it must verify, and time-stamp this
    /// manifest), then `SHA256SUMS`, and closes the zip.
    pub fn finish(self, token: Option<&[u8]>) -> Result<Finished<W>, PackError> {
        let Sealed {
            mut zip,
            manifest,
            manifest_bytes,
            at,
        } = self;
        let timestamp = match token {
            Some(token) => {
                let timestamp = verify_token(token, &manifest_bytes)?;
                put(&mut zip, MANIFEST_TSR, token, options(at))?;
                Some(timestamp)
            }
            None => None,
        };
        let meta = options(at).compression_method(CompressionMethod::Deflated);
        put(&mut zip, SHA256SUMS, manifest.sha256sums().as_bytes(), meta)?;
        let out = zip.finish()?;
        Ok(Finished {
            out,
            manifest_sha256: evident_ledger::sha256_hex(&manifest_bytes),
            fingerprint: manifest.instance_key.fingerprint,
            timestamp,
        })
    }
}

fn put<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    name: &str,
    bytes: &[u8],
    options: SimpleFileOptions,
) -> Result<(), PackError> {
    zip.start_file(name, options)?;
    zip.write_all(bytes).map_err(PackError::io(name))
}

/// Entry options with every field fixed, so nothing depends on the machine or the clock.
fn options(at_ms: i64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(zip_time(at_ms))
        .unix_permissions(0o644)
}

fn check_item(item: &PackItem) -> Result<(), PackError> {
    let invalid = |field: &'static str, reason: &str| PackError::InvalidItem {
        id: item.id.clone(),
        field,
        reason: reason.to_string(),
    };
    if !id_is_safe(&item.id) {
        return Err(invalid("id", "must be 1 to 64 of A-Z a-z 0-9 - _"));
    }
    if item.sha256.len() != 64 || !item.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(invalid("sha256", "must be 64 lowercase hex digits"));
    }
    if item.version == 0 {
        return Err(invalid("version", "starts at 1"));
    }
    Ok(())
}

/// One evidence file being written: hashes and counts what passes into the zip.
pub struct EvidenceEntry<'a, W: Write + Seek> {
    pack: &'a mut PackWriter<W>,
    path: String,
    item: PackItem,
    hasher: Sha256,
    len: u64,
}

impl<W: Write + Seek> Write for EvidenceEntry<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.pack.zip.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.pack.zip.flush()
    }
}

impl<W: Write + Seek> EvidenceEntry<'_, W> {
    /// Ends the file: its bytes must hash and measure as the item's record says.
    pub fn finish(self) -> Result<(), PackError> {
        let EvidenceEntry {
            pack,
            path,
            item,
            hasher,
            len: size,
        } = self;
        let sha256 = hex::encode(hasher.finalize());
        if sha256 != item.sha256 {
            return Err(PackError::ContentMismatch {
                id: item.id,
                what: format!("sha256 {sha256}, the record says {}", item.sha256),
            });
        }
        if size != item.size {
            return Err(PackError::ContentMismatch {
                id: item.id,
                what: format!("{size} bytes, the record says {}", item.size),
            });
        }
        pack.files.push(FileEntry {
            path,
            sha256,
            size,
            media_type: item.media_type,
            evidence_id: item.id,
            version: item.version,
            title: item.title,
            file_name: item.file_name,
            captured_at: rfc3339(item.captured_at),
            captured_at_ms: item.captured_at,
            effective_date: item.effective_date,
            period: item.period,
            controls: item.controls,
            requests: item.requests,
            source: item.source,
            created_by: item.created_by,
            supersedes: item.supersedes,
            recorded_by: 0,
        });
        Ok(())
    }
}

/// Copies `from` into `to` in fixed chunks.
fn copy(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
    }
}

/// A writer that hashes (SHA-256) and counts what it passes on.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The hex SHA-256 and the count of the bytes passed on.
    pub fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
