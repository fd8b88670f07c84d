//! Group commit for evidence records: uploads that arrive while another batch is being made
//! durable wait for it, then go to disk together in one transaction, one commit and one signed
//! head. Each still gets its own audit-log entry and its own answer (a savepoint per item, so one
//! refused item leaves the others in), and no answer is given before its commit.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::{StoreError, Workspace};
use evident_core::evidence::EvidenceItem;

/// The items waiting for the next batch, and the right to make one.
#[derive(Default)]
pub(crate) struct GroupCommit {
    waiting: Mutex<Vec<Waiting>>,
    leader: tokio::sync::Mutex<()>,
}

struct Waiting {
    item: EvidenceItem,
    actor: String,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// A batch larger than this is cut: an answer should not wait behind thousands of others.
const MAX_BATCH: usize = 256;

const SAVEPOINT: &str = "SAVEPOINT evidence_item";
const RELEASE: &str = "RELEASE SAVEPOINT evidence_item";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT evidence_item";

impl GroupCommit {
    pub(crate) fn new() -> Arc<GroupCommit> {
        Arc::default()
    }
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waiting = self.waiting.lock().map(|w| w.len()).unwrap_or_default();
        f.debug_struct("GroupCommit").field("waiting", &waiting).finish()
    }
}

impl Workspace {
    /// Records a prepared item with whatever else is waiting; returns once it is committed.
    pub(crate) async fn record_evidence_grouped(&self, item: EvidenceItem) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        let group = self.group_commit.clone();
        group.waiting.lock().unwrap_or_else(|e| e.into_inner()).push(Waiting {
            item,
            actor: self.actor.clone(),
            done,
        });
        let mut answer = answer;
        loop {
            // Either a leader has already committed this item, or this caller becomes the leader
            // and commits everything waiting, its own item included (unless an earlier leader
            // took it, in which case the answer arrives while waiting here).
            tokio::select! {
                biased;
                result = &mut answer => return result.unwrap_or_else(|_| Err(lost())),
                guard = group.leader.lock() => {
                    let batch: Vec<Waiting> = {
                        let mut waiting = group.waiting.lock().unwrap_or_else(|e| e.into_inner());
                        let n = waiting.len().min(MAX_BATCH);
                        waiting.drain(..n).collect()
                    };
                    if !batch.is_empty() {
                        // In its own task: a caller that goes away (a client hanging up) must not
                        // cut a batch short, least of all between its commit and the answers.
                        let ws = self.clone();
                        let _ = tokio::spawn(async move { ws.commit_batch(batch).await }).await;
                    }
                    drop(guard);
                }
            }
        }
    }

    async fn commit_batch(&self, batch: Vec<Waiting>) {
        let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(batch.len());
        let outcome: Result<(), StoreError> = async {
            let mut tx = self.begin_write().await?;
            for w in &batch {
                sqlx::query(SAVEPOINT).execute(&mut *tx).await?;
                // Each entry names the person who made the upload.
                let ws = self.as_actor(&w.actor);
                match ws.record_evidence_in(&mut tx, &w.item).await {
                    Ok(()) => {
                        sqlx::query(RELEASE).execute(&mut *tx).await?;
                        results.push(Ok(()));
                    }
                    Err(e) => {
                        sqlx::query(ROLLBACK_TO).execute(&mut *tx).await?;
                        sqlx::query(RELEASE).execute(&mut *tx).await?;
                        results.push(Err(e));
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                self.checkpoint().await.ok();
                for (w, r) in batch.into_iter().zip(results) {
                    let _ = w.done.send(r);
                }
            }
            // The transaction failed as a whole (the disk, the database): nothing of the batch
            // was stored, and each caller hears why.
            Err(e) => {
                tracing::warn!(error = %e, items = batch.len(), "a batch of evidence could not be stored");
                for w in batch {
                    let err = sqlx::Error::Protocol(format!("not stored: {e}"));
                    let _ = w.done.send(Err(StoreError::Database(err)));
                }
            }
        }
    }
}

fn lost() -> StoreError {
    StoreError::Conflict("the write was interrupted before it was stored; try again".into())
}

#[cfg(test)]
mod tests {
    use crate::{EvidenceFile, InitOptions, LinkTo, NewEvidence, Workspace};

    /// Items queued while a batch is being committed go to disk together; one refused among them
    /// (a second new version of one item) leaves the others stored, each with its own entry.
    #[tokio::test(flavor = "current_thread")]
    async fn a_batch_stores_each_item_or_refuses_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::init(
            &dir.path().join("ws"),
            InitOptions {
                organisation: "Batch Test".into(),
            },
            "tester",
        )
        .await
        .unwrap();
        let today = time::OffsetDateTime::now_utc().date();
        let files: Vec<std::path::PathBuf> = (0..=6)
            .map(|n| {
                let p = dir.path().join(format!("item-{n}.txt"));
                std::fs::write(&p, format!("item {n}\n")).unwrap();
                p
            })
            .collect();
        let new = |n: usize, supersedes: Option<String>| NewEvidence {
            file: EvidenceFile::Path(&files[n]),
            title: None,
            media_type: None,
            controls: if supersedes.is_some() {
                Vec::new()
            } else {
                vec![LinkTo {
                    control: "ACC-01".into(),
                    requirement: None,
                }]
            },
            effective_date: None,
            period: None,
            source_kind: evident_core::evidence::SourceKind::Person,
            source_ref: String::new(),
            supersedes,
        };
        let original = ws.add_evidence(new(0, None), today).await.unwrap();
        let head = ws.audit_head().await.unwrap();
        // Prepared first, so all of them reach the queue before the first batch is done.
        let mut prepared = Vec::new();
        for n in 1..=6 {
            let supersedes = (n == 3 || n == 4).then(|| original.id.clone());
            prepared.push(ws.prepare_evidence(new(n, supersedes), today).await.unwrap());
        }
        let results =
            futures::future::join_all(prepared.iter().map(|item| ws.record_evidence_grouped(item.clone()))).await;
        let refused: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_err())
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            refused,
            [4],
            "the second new version of one item is refused: {results:?}"
        );
        let actions = ws.audit_actions(head, i64::MAX).await.unwrap();
        assert_eq!(actions.len(), 5, "one entry per stored item: {actions:?}");
        assert_eq!(actions.iter().filter(|(a, _)| a == "evidence.supersede").count(), 1);
        let stored = ws.evidence().await.unwrap();
        for (n, item) in prepared.iter().enumerate() {
            assert_eq!(stored.iter().any(|e| e.id == item.id), n + 1 != 4, "item {}", n + 1);
        }
        assert!(ws.verify().await.unwrap().problems.is_empty());
    }
}
