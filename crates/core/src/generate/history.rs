//! A year of daily check runs leading up to today's real results, so trends, "failing since"
//! and the observation window have something to replay.

use crate::checks::{CheckResult, CheckStatus};

use super::{DAY_MS, Rng};

/// A year of runs is millions of failing-record rows for a large company, so days are made
/// one at a time (`day`), for the caller to store in batches.
pub struct History<'a> {
    today: &'a [CheckResult],
    starts: Vec<Vec<i64>>,
    now_ms: i64,
}

/// Runs for each of the `days` days before `now_ms`, consistent with `today`: a failing check
/// has failed since a day of its own (a few only this week, so they are still inside their
/// grace period), and each of its failing records since some day after that. Passing and
/// no-data checks keep their state.
pub fn history(today: &[CheckResult], seed: u64, now_ms: i64, days: i64) -> History<'_> {
    let mut rng = Rng::new(seed, 12);
    // For each check: the day (in days ago) each failing record started failing.
    let starts: Vec<Vec<i64>> = today
        .iter()
        .map(|r| {
            if r.status != CheckStatus::Fail {
                return Vec::new();
            }
            let since = if rng.chance(150) {
                rng.range(1, 5)
            } else {
                rng.range(10, days.max(10))
            };
            r.failures
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    if i == 0 {
                        since
                    } else {
                        // Skewed towards recent: most records fail for a short while.
                        let u = rng.below(1000) as i64;
                        (since * u * u / 1_000_000).max(0)
                    }
                })
                .collect()
        })
        .collect();
    History { today, starts, now_ms }
}

impl History<'_> {
    /// The run of `ago` days before now, with its instant.
    pub fn day(&self, ago: i64) -> (i64, Vec<CheckResult>) {
        let at = self.now_ms - ago * DAY_MS;
        let runs = self
            .today
            .iter()
            .zip(&self.starts)
            .map(|(r, starts)| {
                if r.status != CheckStatus::Fail {
                    return r.clone();
                }
                let failures: Vec<_> = r
                    .failures
                    .iter()
                    .zip(starts)
                    .filter(|(_, s)| **s >= ago)
                    .map(|(f, _)| f.clone())
                    .collect();
                let recovered = r.failed - failures.len();
                CheckResult {
                    status: if failures.is_empty() {
                        CheckStatus::Pass
                    } else {
                        CheckStatus::Fail
                    },
                    passed: r.passed + recovered,
                    failed: failures.len(),
                    failures,
                    ..r.clone()
                }
            })
            .collect();
        (at, runs)
    }
}
