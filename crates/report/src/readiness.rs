//! The readiness report's content: what a founder hands to the board.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ControlCounts {
    pub ready: usize,
    pub at_risk: usize,
    pub gap: usize,
    pub not_applicable: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryLine {
    pub category: String,
    pub covered: usize,
    pub partial: usize,
    pub uncovered: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapLine {
    pub severity: String,
    pub control: String,
    pub criterion: String,
    pub reason: String,
    pub owner: String,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChecklistLine {
    pub item: String,
    pub done: bool,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseLine {
    pub phase: String,
    pub start: String,
    pub end: String,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadinessDoc {
    pub organisation: String,
    /// YYYY-MM-DD.
    pub prepared_on: String,
    /// e.g. "SOC 2 Type 2, security, availability; window 2027-02-01 to 2027-07-31".
    pub scope: String,
    pub score: u32,
    pub controls: ControlCounts,
    pub categories: Vec<CategoryLine>,
    pub gaps: Vec<GapLine>,
    pub checklist: Vec<ChecklistLine>,
    pub timeline: Vec<PhaseLine>,
}

/// How the score is computed, in words a reader can check against the tables.
pub const SCORE_FORMULA: &str = "The score is 100 × (covered criteria + ½ × partially covered criteria) ÷ criteria in \
    scope, rounded. A criterion is covered when at least one control mapped to it is ready, partial when its \
    controls are at risk, and uncovered otherwise.";

/// The gap list in a report stops here; the CSV (`evident report gaps`) has them all.
pub const MAX_GAPS: usize = 200;

impl ReadinessDoc {
    pub fn criteria(&self) -> usize {
        self.categories
            .iter()
            .map(|c| c.covered + c.partial + c.uncovered)
            .sum()
    }

    pub fn shown_gaps(&self) -> &[GapLine] {
        &self.gaps[..self.gaps.len().min(MAX_GAPS)]
    }
}
