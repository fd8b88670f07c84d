//! Reproducible samples: anyone holding the population file and the seed can draw the same
//! items in a few lines of any language (`docs/sampling.md`, `docs/sample.py`).
//!
//! The rule, for a round of `m` items over the population ordered by (date, id):
//! 1. every item's key is the SHA-256 of the UTF-8 text `seed:id`, in lower-case hex;
//! 2. the ordered population is cut into `m` consecutive strata, stratum `g` holding positions
//!    `ceil(g·N/m) ..< ceil((g+1)·N/m)`, so the sample is spread over the whole period;
//! 3. from each stratum, the item not drawn before with the smallest key is taken; a stratum
//!    with nothing left gives the smallest key left anywhere.
//!
//! Extending a sample is one more round over the same population: the items already drawn
//! stay, and no item is drawn twice. When a round asks for as many items as are left, it takes
//! them all.

use std::collections::BTreeSet;

use evident_catalog::Frequency;
use serde::{Deserialize, Serialize};

/// One member of a population as the draw sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    /// `YYYY-MM-DD`: the day it happened, which spreads the sample over the period.
    pub date: String,
}

/// An item drawn, with the round that drew it (1 for the first draw, 2 for the first extension…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub id: String,
    pub round: usize,
    pub key: String,
}

/// The key of one item under one seed.
pub fn key(seed: &str, id: &str) -> String {
    evident_ledger::sha256_hex(format!("{seed}:{id}").as_bytes())
}

/// Draws the rounds in order (sizes as asked; each is capped at what is left).
pub fn draw(seed: &str, population: &[Member], rounds: &[usize]) -> Vec<Drawn> {
    let mut ordered: Vec<(&str, &str, String)> = population
        .iter()
        .map(|m| (m.date.as_str(), m.id.as_str(), key(seed, &m.id)))
        .collect();
    ordered.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let n = ordered.len();
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    let mut out = Vec::new();
    for (r, &asked) in rounds.iter().enumerate() {
        let m = asked.min(n - taken.len());
        if m == 0 {
            continue;
        }
        let mut picks = Vec::with_capacity(m);
        for g in 0..m {
            let (lo, hi) = (ceil_div(g * n, m), ceil_div((g + 1) * n, m));
            let best = (lo..hi)
                .filter(|i| !taken.contains(i))
                .min_by(|&a, &b| ordered[a].2.cmp(&ordered[b].2));
            let pick = best.or_else(|| {
                (0..n)
                    .filter(|i| !taken.contains(i))
                    .min_by(|&a, &b| ordered[a].2.cmp(&ordered[b].2))
            });
            if let Some(i) = pick {
                taken.insert(i);
                picks.push(i);
            }
        }
        for i in picks {
            out.push(Drawn {
                id: ordered[i].1.to_string(),
                round: r + 1,
                key: ordered[i].2.clone(),
            });
        }
    }
    out
}

fn ceil_div(a: usize, b: usize) -> usize {
    a.div_ceil(b)
}

/// Typical sample sizes, editable per engagement. Labelled everywhere as "typical; confirm with
/// your auditor": the AICPA prescribes none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SizeTable {
    pub annual: usize,
    pub quarterly: usize,
    pub monthly: usize,
    pub weekly: usize,
    pub daily: usize,
    /// Several times a day, or per transaction.
    pub continuous: usize,
    /// Event-driven populations: this percentage of the population…
    pub event_percent: usize,
    /// …but at least this many…
    pub event_min: usize,
    /// …and at most this many; all items when the population is no larger than `event_min`.
    pub event_max: usize,
}

impl Default for SizeTable {
    fn default() -> Self {
        SizeTable {
            annual: 1,
            quarterly: 2,
            monthly: 2,
            weekly: 5,
            daily: 25,
            continuous: 25,
            event_percent: 10,
            event_min: 3,
            event_max: 30,
        }
    }
}

pub const SIZE_NOTE: &str = "typical; confirm with your auditor";

impl SizeTable {
    /// The suggested size for a population of `n` items of a control operating at `frequency`.
    pub fn suggest(&self, frequency: Frequency, n: usize) -> usize {
        let size = match frequency {
            Frequency::Annual => self.annual,
            Frequency::Quarterly => self.quarterly,
            Frequency::Monthly => self.monthly,
            Frequency::Weekly => self.weekly,
            Frequency::Daily => self.daily,
            Frequency::Continuous => self.continuous,
            Frequency::PerEvent => {
                if n <= self.event_min {
                    n
                } else {
                    (n * self.event_percent)
                        .div_ceil(100)
                        .clamp(self.event_min, self.event_max)
                }
            }
        };
        size.min(n)
    }

    /// Refuses a table no auditor would use: nothing drawn, or bounds the wrong way round.
    pub fn check(&self) -> Result<(), String> {
        let named = [
            ("annual", self.annual),
            ("quarterly", self.quarterly),
            ("monthly", self.monthly),
            ("weekly", self.weekly),
            ("daily", self.daily),
            ("continuous", self.continuous),
            ("event_percent", self.event_percent),
            ("event_min", self.event_min),
            ("event_max", self.event_max),
        ];
        for (name, v) in named {
            if v == 0 || v > MAX_SAMPLE {
                return Err(format!("{name}: {v} is not between 1 and {MAX_SAMPLE}"));
            }
        }
        if self.event_percent > 100 {
            return Err(format!("event_percent: {} is more than 100", self.event_percent));
        }
        if self.event_min > self.event_max {
            return Err(format!(
                "event_min: {} is more than event_max ({})",
                self.event_min, self.event_max
            ));
        }
        Ok(())
    }
}

/// The most items one round may ask for: more is a full population test, not a sample.
pub const MAX_SAMPLE: usize = 1_000;
