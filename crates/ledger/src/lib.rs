//! The audit log as a hash chain: each entry commits to its own fields, its payload and the
//! entry before it; signed checkpoints pin the chain's head so it cannot be cut short or
//! rewritten without the instance key. Hashing and checking are pure; storage is elsewhere
//! (`evident-store`), and evidence packs (`evident-pack`) carry a segment of the chain.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// Canonical JSON (keys sorted) of what was written.
    pub payload: String,
    pub payload_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub at: i64,
    pub hash: String,
    /// Hex ed25519 signature over [`checkpoint_message`].
    pub signature: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the next entry after `prev` (`None` for the first).
pub fn next_entry(
    prev: Option<(i64, &str)>,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
) -> Entry {
    let (seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_string()),
        None => (1, GENESIS.to_string()),
    };
    let payload_hash = sha256_hex(payload.as_bytes());
    let mut e = Entry {
        seq,
        at,
        actor: actor.into(),
        action: action.into(),
        subject: subject.into(),
        payload: payload.into(),
        payload_hash,
        prev_hash,
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    e
}

/// The hash of an entry's fields (not its stored `hash`): each field length-prefixed so no
/// two different entries encode alike.
pub fn entry_hash(e: &Entry) -> String {
    let mut h = Sha256::new();
    h.update(b"evident-audit-v1");
    let seq = e.seq.to_string();
    let at = e.at.to_string();
    for field in [
        &seq,
        &at,
        &e.actor,
        &e.action,
        &e.subject,
        &e.payload_hash,
        &e.prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

pub fn checkpoint_message(seq: i64, hash: &str) -> Vec<u8> {
    format!("evident-checkpoint-v1\n{seq}\n{hash}\n").into_bytes()
}

/// The first thing wrong with a chain, stated for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    Gap { expected: i64, found: i64 },
    PayloadAltered { seq: i64 },
    EntryAltered { seq: i64 },
    BrokenLink { seq: i64 },
    CheckpointWithoutEntry { seq: i64 },
    CheckpointMismatch { seq: i64 },
    BadSignature { seq: i64 },
    Truncated { pinned: i64, last: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Gap { expected, found } => {
                write!(
                    f,
                    "audit-log entry {expected} is missing (the next one present is {found})"
                )
            }
            ChainProblem::PayloadAltered { seq } => write!(f, "audit-log entry {seq}: its payload was altered"),
            ChainProblem::EntryAltered { seq } => {
                write!(
                    f,
                    "audit-log entry {seq}: its fields no longer match its hash (edited or reordered)"
                )
            }
            ChainProblem::BrokenLink { seq } => {
                write!(
                    f,
                    "audit-log entry {seq}: does not link to the entry before it (an entry was removed, replaced or reordered)"
                )
            }
            ChainProblem::CheckpointWithoutEntry { seq } => {
                write!(f, "checkpoint at entry {seq}: the entry it signs is missing")
            }
            ChainProblem::CheckpointMismatch { seq } => {
                write!(
                    f,
                    "checkpoint at entry {seq}: the signed hash differs from the entry's hash"
                )
            }
            ChainProblem::BadSignature { seq } => {
                write!(
                    f,
                    "checkpoint at entry {seq}: the signature does not verify with the instance key"
                )
            }
            ChainProblem::Truncated { pinned, last } => write!(
                f,
                "the audit log ends at entry {last}, but a signed checkpoint pins entry {pinned}: entries were deleted"
            ),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: usize,
    pub checkpoints: usize,
    pub problems: Vec<ChainProblem>,
}

/// Whether `c`'s signature is the instance key's over [`checkpoint_message`].
pub fn checkpoint_signed_by(key: &VerifyingKey, c: &Checkpoint) -> bool {
    let Ok(bytes) = hex::decode(&c.signature) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify(&checkpoint_message(c.seq, &c.hash), &sig).is_ok()
}

/// Walks entries (in stored `seq` order) and checkpoints; `pinned` is a signed head kept
/// outside the database, if any.
pub fn verify_chain(
    entries: &[Entry],
    checkpoints: &[Checkpoint],
    pinned: Option<&Checkpoint>,
    key: &VerifyingKey,
) -> ChainReport {
    let mut problems = Vec::new();
    let mut prev_hash = GENESIS.to_string();
    let mut expected = 1;
    for e in entries {
        if e.seq != expected {
            problems.push(ChainProblem::Gap { expected, found: e.seq });
        }
        if sha256_hex(e.payload.as_bytes()) != e.payload_hash {
            problems.push(ChainProblem::PayloadAltered { seq: e.seq });
        }
        if entry_hash(e) != e.hash {
            problems.push(ChainProblem::EntryAltered { seq: e.seq });
        }
        if e.prev_hash != prev_hash {
            problems.push(ChainProblem::BrokenLink { seq: e.seq });
        }
        prev_hash = e.hash.clone();
        expected = e.seq + 1;
    }
    let last = entries.last().map(|e| e.seq).unwrap_or(0);
    for c in checkpoints.iter().chain(pinned) {
        if !checkpoint_signed_by(key, c) {
            problems.push(ChainProblem::BadSignature { seq: c.seq });
            continue;
        }
        if c.seq > last {
            problems.push(ChainProblem::Truncated { pinned: c.seq, last });
            continue;
        }
        match entries.binary_search_by_key(&c.seq, |e| e.seq) {
            Ok(i) if entries[i].hash == c.hash => {}
            Ok(_) => problems.push(ChainProblem::CheckpointMismatch { seq: c.seq }),
            Err(_) => problems.push(ChainProblem::CheckpointWithoutEntry { seq: c.seq }),
        }
    }
    problems.dedup();
    ChainReport {
        entries: entries.len(),
        checkpoints: checkpoints.len(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn chain(n: i64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let e = next_entry(
                prev,
                1_000 + i,
                "cli:ana",
                "control.owner.set",
                &format!("control:ACC-{i:02}"),
                &format!("{{\"n\":{i}}}"),
            );
            out.push(e);
        }
        out
    }

    fn sign(key: &SigningKey, e: &Entry) -> Checkpoint {
        let sig = key.sign(&checkpoint_message(e.seq, &e.hash));
        Checkpoint {
            seq: e.seq,
            at: e.at,
            hash: e.hash.clone(),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    fn check(
        entries: &[Entry],
        cps: &[Checkpoint],
        pinned: Option<&Checkpoint>,
        key: &SigningKey,
    ) -> Vec<ChainProblem> {
        verify_chain(entries, cps, pinned, &key.verifying_key()).problems
    }

    #[test]
    fn intact_chain_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let c = chain(5);
        assert_eq!(c[0].prev_hash, GENESIS);
        assert_eq!(c[3].prev_hash, c[2].hash);
        let cps = vec![sign(&key, &c[2]), sign(&key, &c[4])];
        assert!(check(&c, &cps, Some(&cps[1]), &key).is_empty());
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let c = chain(5);
        let cps = vec![sign(&key, &c[4])];

        let mut edited = c.clone();
        edited[1].actor = "cli:mallory".into();
        assert_eq!(
            check(&edited, &cps, None, &key),
            vec![ChainProblem::EntryAltered { seq: 2 }]
        );

        let mut payload = c.clone();
        payload[2].payload = "{\"n\":99}".into();
        assert_eq!(
            check(&payload, &cps, None, &key),
            vec![ChainProblem::PayloadAltered { seq: 3 }]
        );

        let mut deleted = c.clone();
        deleted.remove(2);
        assert_eq!(
            check(&deleted, &cps, None, &key),
            vec![
                ChainProblem::Gap { expected: 3, found: 4 },
                ChainProblem::BrokenLink { seq: 4 }
            ]
        );

        let mut swapped = c.clone();
        swapped.swap(1, 2);
        let (a, b) = (swapped[1].seq, swapped[2].seq);
        swapped[1].seq = b;
        swapped[2].seq = a;
        let problems = check(&swapped, &cps, None, &key);
        assert_eq!(
            problems.first(),
            Some(&ChainProblem::EntryAltered { seq: 2 }),
            "{problems:?}"
        );

        let truncated = c[..3].to_vec();
        assert_eq!(
            check(&truncated, &cps, None, &key),
            vec![ChainProblem::Truncated { pinned: 5, last: 3 }]
        );
        assert_eq!(
            check(&truncated, &[], Some(&cps[0]), &key),
            vec![ChainProblem::Truncated { pinned: 5, last: 3 }]
        );

        let forged = sign(&SigningKey::from_bytes(&[8; 32]), &c[4]);
        assert_eq!(
            check(&c, &[forged], None, &key),
            vec![ChainProblem::BadSignature { seq: 5 }]
        );

        // Rewriting the whole chain consistently still breaks the signed checkpoint.
        let mut rewritten = chain(5);
        rewritten[4] = next_entry(Some((4, &rewritten[3].hash)), 9_999, "cli:mallory", "x", "y", "{}");
        assert_eq!(
            check(&rewritten, &cps, None, &key),
            vec![ChainProblem::CheckpointMismatch { seq: 5 }]
        );
    }
}
