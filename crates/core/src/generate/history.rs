//! A year of daily check runs leading up to today's real results, so trends, "failing since"
//! and the observation window have something to replay: records failing today started on a
//! day of their own, and some of them also failed for a while earlier in the year and were put
//! right, most within the remediation deadline, a few after it.

use crate::checks::{CheckResult, CheckStatus, Remediation};

use super::{DAY_MS, Rng};

/// A year of runs is millions of failing-record rows for a large company, so days are made
/// one at a time (`day`), for the caller to store in batches.
pub struct History<'a> {
    today: &'a [CheckResult],
    starts: Vec<Vec<i64>>,
    /// Per check and record: an earlier episode of failing, (from, to) in days ago, `to` the
    /// day it was fixed.
    episodes: Vec<Vec<Option<(i64, i64)>>>,
    now_ms: i64,
}

/// Runs for each of the `days` days before `now_ms`, consistent with `today`: a failing check
/// has failed since a day of its own, and each of its failing records since some day after
/// that. Problems that are put right within a grace mostly began this week (still inside it:
/// the forecast's material); the rest, and problems judged against a limit of their own, are
/// older. Passing and no-data checks keep their state.
pub fn history(today: &[CheckResult], seed: u64, now_ms: i64, days: i64) -> History<'_> {
    let mut rng = Rng::new(seed, 12);
    // For each check: the day (in days ago) each failing record started failing.
    let starts: Vec<Vec<i64>> = today
        .iter()
        .map(|r| {
            if r.status != CheckStatus::Fail {
                return Vec::new();
            }
            let graced = crate::checks::by_id(&r.id).is_some_and(|c| matches!(c.remediation, Remediation::Days { .. }));
            let recent = if graced { 800 } else { 150 };
            let since = if rng.chance(recent) {
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
    // Earlier episodes, for checks whose failures are put right within a grace (not those that
    // fail only past a limit, nor one-off events): two records in five, most fixed within a
    // few days, three in ten after two to six weeks.
    let mut rng = Rng::new(seed, 13);
    let episodes = today
        .iter()
        .zip(&starts)
        .map(|(r, starts)| {
            let fixable =
                crate::checks::by_id(&r.id).is_some_and(|c| matches!(c.remediation, Remediation::Days { .. }));
            starts
                .iter()
                .map(|since| {
                    let room = days - since - 60;
                    if !fixable || room < 30 || !rng.chance(400) {
                        return None;
                    }
                    let fixed = since + 30 + rng.range(0, room);
                    let lasted = if rng.chance(300) {
                        rng.range(14, 42)
                    } else {
                        rng.range(1, 6)
                    };
                    Some(((fixed + lasted).min(days), fixed))
                })
                .collect()
        })
        .collect();
    History {
        today,
        starts,
        episodes,
        now_ms,
    }
}

impl History<'_> {
    /// The run of `ago` days before now, with its instant.
    pub fn day(&self, ago: i64) -> (i64, Vec<CheckResult>) {
        let at = self.now_ms - ago * DAY_MS;
        let runs = self
            .today
            .iter()
            .zip(self.starts.iter().zip(&self.episodes))
            .map(|(r, (starts, episodes))| {
                if r.status != CheckStatus::Fail {
                    return r.clone();
                }
                let failures: Vec<_> = r
                    .failures
                    .iter()
                    .zip(starts.iter().zip(episodes))
                    .filter(|(_, (s, e))| **s >= ago || e.is_some_and(|(from, to)| from >= ago && ago > to))
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
