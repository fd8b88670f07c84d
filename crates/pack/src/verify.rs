//! Checks a pack offline, in the order an auditor would: the zip opens and holds only safe
//! names, the manifest is signed by the key it names (and that key is the expected one), its
//! timestamp token (when there is one) verifies over it, the files are exactly those listed
//! with the stated hashes, the audit segment links to a signed
//! checkpoint, and every item's recording entry says what the manifest says. Files are
//! streamed from the zip and hashed; nothing is extracted or written anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use ed25519_dalek::Signature;
use evident_ledger::{Checkpoint, sha256_hex};
use sha2::{Digest, Sha256};
use zip::ZipArchive;

use crate::civil::rfc3339;
use crate::error::PackError;
use crate::key::{fingerprint, parse_hex, public_key_pem};
use crate::layout::{
    AUDIT_ENTRIES, INSTANCE_PEM, MANIFEST, MANIFEST_SIG, MANIFEST_TSR, SHA256SUMS, evidence_path, id_is_safe,
    unsafe_name,
};
use crate::manifest::{AuditLine, FORMAT, Manifest};
use crate::record::{RECORDING_ACTIONS, first_difference, subject_of};
use crate::segment::SegmentWalker;
use crate::timestamp::{Timestamp, verify_token};

/// Largest `manifest.json` read (it is held in memory to check its signature).
const MAX_MANIFEST: u64 = 256 * 1024 * 1024;
/// Largest audit line read (payloads are small records).
const MAX_LINE: u64 = 16 * 1024 * 1024;
const MAX_SMALL: u64 = 64 * 1024;
/// Largest timestamp token read (a token with a long certificate chain is a few KiB).
const MAX_TOKEN: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Not run, and why is in the check's text (e.g. no fingerprint to compare with).
    Skipped,
}

/// One check that passed (or was skipped), as a line for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub outcome: Outcome,
    pub what: String,
}

/// A pack that passed every check.
#[derive(Debug, Clone)]
pub struct Report {
    pub checks: Vec<Check>,
    pub manifest: Manifest,
    pub manifest_sha256: String,
    /// What the pack's RFC 3161 timestamp token says, when it has one.
    pub timestamp: Option<Timestamp>,
}

/// The checks that passed, then the first thing wrong.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    pub passed: Vec<Check>,
    pub error: PackError,
}

/// Verifies the pack at `path`.
pub fn verify_path(path: &Path, expected_fingerprint: Option<&str>) -> Result<Report, Failure> {
    match File::open(path) {
        Ok(f) => verify(f, expected_fingerprint),
        Err(source) => Err(Failure {
            passed: Vec::new(),
            error: PackError::Io {
                what: path.display().to_string(),
                source,
            },
        }),
    }
}

/// Verifies a pack, stopping at the first failure.
pub fn verify<R: Read + Seek>(pack: R, expected_fingerprint: Option<&str>) -> Result<Report, Failure> {
    verify_with(pack, expected_fingerprint, &mut |_| {})
}

/// [`verify`], calling `on_check` as each check passes (for a running display).
pub fn verify_with<R: Read + Seek>(
    pack: R,
    expected_fingerprint: Option<&str>,
    on_check: &mut dyn FnMut(&Check),
) -> Result<Report, Failure> {
    let mut v = Verifier {
        checks: Vec::new(),
        on_check,
    };
    match v.run(pack, expected_fingerprint) {
        Ok((manifest, manifest_sha256, timestamp)) => Ok(Report {
            checks: v.checks,
            manifest,
            manifest_sha256,
            timestamp,
        }),
        Err(error) => Err(Failure {
            passed: v.checks,
            error,
        }),
    }
}

struct Verifier<'a> {
    checks: Vec<Check>,
    on_check: &'a mut dyn FnMut(&Check),
}

impl Verifier<'_> {
    fn pass(&mut self, what: String) {
        self.record(Outcome::Ok, what);
    }

    fn record(&mut self, outcome: Outcome, what: String) {
        let check = Check { outcome, what };
        (self.on_check)(&check);
        self.checks.push(check);
    }

    fn run<R: Read + Seek>(
        &mut self,
        pack: R,
        expected_fingerprint: Option<&str>,
    ) -> Result<(Manifest, String, Option<Timestamp>), PackError> {
        // The zip and its names.
        let mut zip = ZipArchive::new(pack).map_err(|e| PackError::Unreadable(e.to_string()))?;
        let mut names = BTreeSet::new();
        for raw in zip.file_names_raw() {
            if let Some(why) = unsafe_name(raw) {
                return Err(PackError::UnsafeName {
                    name: String::from_utf8_lossy(raw).into_owned(),
                    why,
                });
            }
            names.insert(String::from_utf8_lossy(raw).into_owned());
        }
        if zip.has_duplicate_names() {
            return Err(PackError::DuplicateEntry);
        }
        self.pass(format!("zip readable: {} entries", names.len()));
        self.pass("entry names are safe (no absolute paths, `..`, backslashes)".into());
        for required in [MANIFEST, MANIFEST_SIG, SHA256SUMS, INSTANCE_PEM, AUDIT_ENTRIES] {
            if !names.contains(required) {
                return Err(PackError::Missing(required.into()));
            }
        }

        // The manifest, its key and its signature.
        let manifest_bytes = read_small(&mut zip, MANIFEST, MAX_MANIFEST)?;
        let manifest_sha256 = sha256_hex(&manifest_bytes);
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| PackError::malformed(MANIFEST, format!("not a pack manifest ({e})")))?;
        if manifest.format != FORMAT {
            return Err(PackError::malformed(
                MANIFEST,
                format!("format {:?}, this verifier reads {FORMAT:?}", manifest.format),
            ));
        }
        self.pass(format!(
            "{MANIFEST} parsed: {FORMAT}, {} evidence files, sha256 {manifest_sha256}",
            manifest.files.len()
        ));
        let key = parse_hex(&manifest.instance_key.public_key)
            .map_err(|e| PackError::malformed(MANIFEST, format!("instance_key.public_key: {e}")))?;
        let actual_fp = fingerprint(&key);
        if manifest.instance_key.fingerprint != actual_fp {
            return Err(PackError::malformed(
                MANIFEST,
                format!(
                    "instance_key.fingerprint is {}, the key's is {actual_fp}",
                    manifest.instance_key.fingerprint
                ),
            ));
        }
        match expected_fingerprint {
            Some(expected) if !expected.trim().eq_ignore_ascii_case(&actual_fp) => {
                return Err(PackError::FingerprintMismatch {
                    expected: expected.trim().to_ascii_lowercase(),
                    actual: actual_fp,
                });
            }
            Some(_) => self.pass(format!("key fingerprint {actual_fp} is the expected one")),
            None => self.record(
                Outcome::Skipped,
                format!(
                    "key fingerprint {actual_fp} not compared (give the expected one to tie the pack to your instance)"
                ),
            ),
        }
        let sig_bytes = read_small(&mut zip, MANIFEST_SIG, MAX_SMALL)?;
        let signature = Signature::from_slice(&sig_bytes).map_err(|_| {
            PackError::malformed(MANIFEST_SIG, format!("{} bytes, a signature has 64", sig_bytes.len()))
        })?;
        if key.verify_strict(&manifest_bytes, &signature).is_err() {
            return Err(PackError::BadManifestSignature { fingerprint: actual_fp });
        }
        self.pass(format!("{MANIFEST_SIG}: manifest signed by the pack's key"));
        let pem = read_small(&mut zip, INSTANCE_PEM, MAX_SMALL)?;
        if pem != public_key_pem(&key).as_bytes() || sha256_hex(&pem) != manifest.instance_key.pem_sha256 {
            return Err(PackError::malformed(
                INSTANCE_PEM,
                "differs from the key the manifest states",
            ));
        }
        self.pass(format!("{INSTANCE_PEM}: the manifest's key"));
        check_manifest_shape(&manifest)?;
        let timestamp = self.timestamp(&mut zip, &names, &manifest_bytes)?;

        // Exactly the listed files, each with its hash and size.
        let listed = manifest.listed_files();
        let mut expected: BTreeSet<&str> = listed.iter().map(|(p, _, _)| *p).collect();
        expected.extend([MANIFEST, MANIFEST_SIG, SHA256SUMS]);
        if timestamp.is_some() {
            expected.insert(MANIFEST_TSR);
        }
        if let Some(added) = names.iter().find(|n| !expected.contains(n.as_str())) {
            return Err(PackError::Added(added.clone()));
        }
        self.pass("no file added: every entry is listed in the manifest".into());
        if let Some(missing) = expected.iter().find(|p| !names.contains(**p)) {
            return Err(PackError::Missing((*missing).into()));
        }
        self.pass("no file missing: every listed file is in the zip".into());
        for f in &manifest.files {
            let (sha, size) = hash_entry(&mut zip, &f.path, f.size)?;
            compare(&f.path, &f.sha256, f.size, &sha, size)?;
            self.pass(format!("{}: sha256 {sha}, {size} bytes", f.path));
        }
        let sums = read_small(&mut zip, SHA256SUMS, MAX_MANIFEST)?;
        let want = manifest.sha256sums();
        if sums != want.as_bytes() {
            let line = String::from_utf8_lossy(&sums)
                .lines()
                .zip(want.lines().map(Some).chain(std::iter::repeat(None)))
                .position(|(got, want)| Some(got) != want)
                .map_or_else(|| "its length".to_string(), |i| format!("line {}", i + 1));
            return Err(PackError::malformed(
                SHA256SUMS,
                format!("differs from the manifest at {line}"),
            ));
        }
        self.pass(format!("{SHA256SUMS}: agrees with the manifest"));

        // The audit segment, read line by line.
        let audit = &manifest.audit;
        let subjects: BTreeSet<String> = manifest.files.iter().map(|f| subject_of(&f.evidence_id)).collect();
        let mut walker = SegmentWalker::new(&subjects);
        let mut recorded: BTreeMap<String, (i64, String, String)> = BTreeMap::new();
        let (entries_sha, entries_size) = {
            let file = zip.by_name(AUDIT_ENTRIES)?;
            let mut reader = BufReader::new(HashingReader::new(file));
            let mut buf = Vec::new();
            let mut n = 0;
            loop {
                buf.clear();
                let read = (&mut reader)
                    .take(MAX_LINE)
                    .read_until(b'\n', &mut buf)
                    .map_err(PackError::io(AUDIT_ENTRIES))?;
                if read == 0 {
                    break;
                }
                n += 1;
                if buf.last() != Some(&b'\n') {
                    return Err(PackError::malformed(
                        AUDIT_ENTRIES,
                        format!("line {n} is unterminated or too long"),
                    ));
                }
                let line: AuditLine = serde_json::from_slice(&buf)
                    .map_err(|e| PackError::malformed(AUDIT_ENTRIES, format!("line {n}: {e}")))?;
                walker.step(&line)?;
                if RECORDING_ACTIONS.contains(&line.action.as_str()) && subjects.contains(&line.subject) {
                    recorded
                        .entry(line.subject.clone())
                        .or_insert_with(|| (line.seq, line.action.clone(), line.payload.clone().unwrap_or_default()));
                }
            }
            reader.into_inner().finish()
        };
        let (first, last) = walker
            .bounds()
            .ok_or_else(|| PackError::SegmentBounds("no entries".into()))?;
        self.pass(format!(
            "audit entries {first} to {last} link entry to entry ({} entries, {} payloads omitted, none of a pack item)",
            walker.count, walker.omitted
        ));
        let c = &audit.checkpoint;
        let checkpoint = Checkpoint {
            seq: c.seq,
            at: c.at,
            hash: c.hash.clone(),
            signature: c.signature.clone(),
        };
        walker.finish(&checkpoint, &key)?;
        self.pass(format!(
            "audit segment ends at the checkpoint at entry {} ({}), whose signature verifies with the instance key",
            c.seq,
            rfc3339(c.at)
        ));
        if (first, last, walker.count, walker.omitted)
            != (audit.first_seq, audit.last_seq, audit.count, audit.payloads_omitted)
        {
            return Err(PackError::SegmentBounds(format!(
                "entries {first} to {last} ({} entries, {} omitted), the manifest says {} to {} ({}, {})",
                walker.count, walker.omitted, audit.first_seq, audit.last_seq, audit.count, audit.payloads_omitted
            )));
        }
        compare(
            AUDIT_ENTRIES,
            &audit.entries_sha256,
            audit.entries_size,
            &entries_sha,
            entries_size,
        )?;
        self.pass(format!("{AUDIT_ENTRIES}: sha256 {entries_sha}, {entries_size} bytes"));

        // Each item against the entry that recorded it.
        for f in &manifest.files {
            let Some((seq, action, payload)) = recorded.get(&subject_of(&f.evidence_id)) else {
                return Err(PackError::NotRecorded {
                    id: f.evidence_id.clone(),
                });
            };
            if *seq != f.recorded_by {
                return Err(PackError::malformed(
                    MANIFEST,
                    format!(
                        "evidence {}: recorded_by is {}, but entry {seq} records it",
                        f.evidence_id, f.recorded_by
                    ),
                ));
            }
            if let Some((field, recorded, manifest)) = first_difference(payload, f) {
                return Err(PackError::RecordDiffers {
                    id: f.evidence_id.clone(),
                    seq: *seq,
                    field,
                    recorded,
                    manifest,
                });
            }
            self.pass(format!(
                "evidence {}: {action} entry {seq} recorded this file (sha256, size, title, dates, controls agree)",
                f.evidence_id
            ));
        }
        Ok((manifest, manifest_sha256, timestamp))
    }

    /// The token in `manifest.tsr`, when the pack has one: it must verify over the exact bytes
    /// of `manifest.json`. Its certificate is reported, not trusted: no trust store is read.
    fn timestamp<R: Read + Seek>(
        &mut self,
        zip: &mut ZipArchive<R>,
        names: &BTreeSet<String>,
        manifest: &[u8],
    ) -> Result<Option<Timestamp>, PackError> {
        if !names.contains(MANIFEST_TSR) {
            self.record(
                Outcome::Skipped,
                format!("{MANIFEST_TSR}: none, so no trusted time: the pack's times are the instance's own clock"),
            );
            return Ok(None);
        }
        let token = read_small(zip, MANIFEST_TSR, MAX_TOKEN)?;
        let t = verify_token(&token, manifest)?;
        let accuracy = t.accuracy.as_deref().map(|a| format!(" ({a})")).unwrap_or_default();
        self.pass(format!(
            "{MANIFEST_TSR}: {MANIFEST} time-stamped at {}{accuracy} by an RFC 3161 authority ({} imprint matches; serial {}, policy {})",
            t.time, t.hash, t.serial, t.policy
        ));
        self.pass(format!(
            "{MANIFEST_TSR}: signature verifies with the certificate in the token: {}, sha256 fingerprint {}",
            t.tsa_subject, t.tsa_fingerprint
        ));
        self.record(
            Outcome::Skipped,
            format!(
                "{MANIFEST_TSR}: that certificate is not checked against a trust store (compare its fingerprint with the \
                 TSA's published certificate, or run `openssl ts -verify -CAfile`)"
            ),
        );
        Ok(Some(t))
    }
}

/// What a signed manifest must still be, so a buggy or hostile signer cannot smuggle paths.
fn check_manifest_shape(m: &Manifest) -> Result<(), PackError> {
    let bad = |reason: String| Err(PackError::malformed(MANIFEST, reason));
    if m.audit.entries != AUDIT_ENTRIES || m.instance_key.pem != INSTANCE_PEM || m.instance_key.algorithm != "ed25519" {
        return bad("audit.entries, instance_key.pem or instance_key.algorithm is not the format's".into());
    }
    let mut previous: Option<&str> = None;
    for f in &m.files {
        if !id_is_safe(&f.evidence_id) || f.path != evidence_path(&f.evidence_id, &f.file_name) {
            return bad(format!("{}: not the path of evidence {:?}", f.path, f.evidence_id));
        }
        if previous.is_some_and(|p| p >= f.path.as_str()) {
            return bad(format!("{}: files are not sorted by path, or listed twice", f.path));
        }
        if f.captured_at != rfc3339(f.captured_at_ms) {
            return bad(format!("{}: captured_at differs from captured_at_ms", f.path));
        }
        if f.version == 0 || (f.version == 1) != f.supersedes.is_none() {
            return bad(format!("{}: version {} does not fit supersedes", f.path, f.version));
        }
        previous = Some(&f.path);
    }
    Ok(())
}

fn compare(path: &str, want_sha: &str, want_size: u64, sha: &str, size: u64) -> Result<(), PackError> {
    if size != want_size {
        return Err(PackError::SizeMismatch {
            path: path.into(),
            expected: want_size,
            actual: size,
        });
    }
    if sha != want_sha {
        return Err(PackError::HashMismatch {
            path: path.into(),
            expected: want_sha.into(),
            actual: sha.into(),
        });
    }
    Ok(())
}

/// Streams one entry through SHA-256, reading at most one byte past `expected_size` (so a
/// zip bomb costs nothing).
fn hash_entry<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    path: &str,
    expected_size: u64,
) -> Result<(String, u64), PackError> {
    let file = zip.by_name(path)?;
    let mut reader = HashingReader::new(file.take(expected_size.saturating_add(1)));
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(PackError::io(path))?;
    Ok(reader.finish())
}

fn read_small<R: Read + Seek>(zip: &mut ZipArchive<R>, path: &str, limit: u64) -> Result<Vec<u8>, PackError> {
    let file = zip.by_name(path)?;
    let mut out = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(PackError::io(path))?;
    if out.len() as u64 > limit {
        return Err(PackError::malformed(path, format!("larger than {limit} bytes")));
    }
    Ok(out)
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.len)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}
