//! The audit-log segment a pack carries: from the first entry that recorded one of its items
//! up to a signed checkpoint. Entries about other records keep their hashes but lose their
//! payload, so the chain still links without disclosing them. The hash rules are
//! `evident_ledger`'s; this module only walks a segment instead of a whole log.

use std::collections::BTreeSet;

use ed25519_dalek::VerifyingKey;
use evident_ledger::{ChainProblem, Checkpoint, Entry, checkpoint_signed_by, entry_hash, sha256_hex};

use crate::error::PackError;
use crate::manifest::AuditLine;
use crate::record::RECORDING_ACTIONS;

/// Picks the segment out of `log` (entries in `seq` order, at least from the first record of
/// a pack item up to the checkpoint) and turns it into pack lines.
pub(crate) fn select(
    log: &[Entry],
    checkpoint: &Checkpoint,
    pack_subjects: &BTreeSet<String>,
) -> Result<Vec<AuditLine>, PackError> {
    let end = log.iter().position(|e| e.seq == checkpoint.seq).ok_or_else(|| {
        PackError::Segment(format!(
            "entry {} (the checkpoint's) is not in the log given",
            checkpoint.seq
        ))
    })?;
    if log[end].hash != checkpoint.hash {
        return Err(PackError::Segment(format!(
            "entry {}'s hash differs from the checkpoint's",
            checkpoint.seq
        )));
    }
    let start = log[..=end]
        .iter()
        .position(|e| RECORDING_ACTIONS.contains(&e.action.as_str()) && pack_subjects.contains(&e.subject))
        .ok_or_else(|| PackError::Segment("no entry up to the checkpoint records an item of the pack".into()))?;
    Ok(log[start..=end]
        .iter()
        .map(|e| AuditLine {
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            payload: pack_subjects.contains(&e.subject).then(|| e.payload.clone()),
            payload_hash: e.payload_hash.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        })
        .collect())
}

/// Checks a segment one line at a time, so a verifier never holds it whole.
pub(crate) struct SegmentWalker<'a> {
    pack_subjects: &'a BTreeSet<String>,
    first: Option<i64>,
    last: Option<(i64, String)>,
    pub count: u64,
    pub omitted: u64,
}

impl<'a> SegmentWalker<'a> {
    pub fn new(pack_subjects: &'a BTreeSet<String>) -> Self {
        SegmentWalker {
            pack_subjects,
            first: None,
            last: None,
            count: 0,
            omitted: 0,
        }
    }

    /// The first thing wrong with `line` given the lines before it, in the ledger's order:
    /// a gap, an altered payload, altered fields, a broken link.
    pub fn step(&mut self, line: &AuditLine) -> Result<(), PackError> {
        let seq = line.seq;
        if let Some((prev_seq, _)) = &self.last
            && seq != prev_seq + 1
        {
            return Err(PackError::Chain(ChainProblem::Gap {
                expected: prev_seq + 1,
                found: seq,
            }));
        }
        match &line.payload {
            Some(p) if sha256_hex(p.as_bytes()) != line.payload_hash => {
                return Err(PackError::Chain(ChainProblem::PayloadAltered { seq }));
            }
            Some(_) => {}
            None if self.pack_subjects.contains(&line.subject) => {
                return Err(PackError::PayloadOmitted {
                    seq,
                    subject: line.subject.clone(),
                });
            }
            None => self.omitted += 1,
        }
        if entry_hash(&line.to_entry()) != line.hash {
            return Err(PackError::Chain(ChainProblem::EntryAltered { seq }));
        }
        if let Some((_, prev_hash)) = &self.last
            && &line.prev_hash != prev_hash
        {
            return Err(PackError::Chain(ChainProblem::BrokenLink { seq }));
        }
        self.first.get_or_insert(seq);
        self.last = Some((seq, line.hash.clone()));
        self.count += 1;
        Ok(())
    }

    /// `(first seq, last seq)` of the lines walked.
    pub fn bounds(&self) -> Option<(i64, i64)> {
        Some((self.first?, self.last.as_ref()?.0))
    }

    /// The segment must end exactly at the checkpoint, and the checkpoint must be signed by
    /// `key`.
    pub fn finish(&self, checkpoint: &Checkpoint, key: &VerifyingKey) -> Result<(), PackError> {
        let Some((last, hash)) = &self.last else {
            return Err(PackError::SegmentBounds("no entries".into()));
        };
        if *last < checkpoint.seq {
            return Err(PackError::Chain(ChainProblem::Truncated {
                pinned: checkpoint.seq,
                last: *last,
            }));
        }
        if *last > checkpoint.seq {
            return Err(PackError::SegmentBounds(format!(
                "it runs to entry {last}, past the checkpoint at entry {}",
                checkpoint.seq
            )));
        }
        if hash != &checkpoint.hash {
            return Err(PackError::Chain(ChainProblem::CheckpointMismatch {
                seq: checkpoint.seq,
            }));
        }
        if !checkpoint_signed_by(key, checkpoint) {
            return Err(PackError::Chain(ChainProblem::BadSignature { seq: checkpoint.seq }));
        }
        Ok(())
    }
}
