//! The readiness report's content: what a founder hands to the board. [`doc`] builds it from an
//! assessment, so every entry point (the CLI, the web server) prints the same report.

use std::collections::BTreeMap;

use evident_catalog::Catalog;
use evident_core::checklist::{ChecklistItem, Phase};
use evident_core::readiness::{Coverage, Readiness, Severity, Status};
use evident_core::register::label_of;
use evident_core::scope::ReportType;
use evident_core::{AuditPeriod, Scope, format_date};
use serde::Serialize;
use time::Date;

#[derive(Debug, Clone, Serialize)]
pub struct ControlCounts {
    pub ready: usize,
    pub at_risk: usize,
    pub gap: usize,
    pub not_applicable: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryLine {
    /// The category's name as the catalog spells it ("Processing Integrity").
    pub category: String,
    pub covered: usize,
    pub partial: usize,
    pub uncovered: usize,
}

impl CategoryLine {
    pub fn criteria(&self) -> usize {
        self.covered + self.partial + self.uncovered
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GapLine {
    /// In words ("missing evidence").
    pub severity: String,
    pub control: String,
    pub criterion: String,
    pub reason: String,
    /// Empty when nobody owns it.
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

/// The audit's date (Type I) or observation window (Type II), and how far away it is.
#[derive(Debug, Clone, Serialize)]
pub struct AuditDates {
    pub type_ii: bool,
    /// YYYY-MM-DD; `end` equals `start` for a Type I.
    pub start: String,
    pub end: String,
    /// Days from the day the report was prepared to the first and the last day (negative once
    /// past).
    pub days_to_start: i64,
    pub days_to_end: i64,
}

fn days(n: i64) -> String {
    if n == 1 { "1 day".into() } else { format!("{n} days") }
}

impl AuditDates {
    /// "Observation window" or "Type I date".
    pub fn what(&self) -> &'static str {
        if self.type_ii {
            "Observation window"
        } else {
            "Type I date"
        }
    }

    /// "2027-02-01 to 2027-07-31", or the one date.
    pub fn dates(&self) -> String {
        if self.type_ii {
            format!("{} to {}", self.start, self.end)
        } else {
            self.start.clone()
        }
    }

    /// How far away it is, in words: "opens in 70 days", "45 days left", "ended 3 days ago".
    pub fn countdown(&self) -> String {
        let (start, end) = (self.days_to_start, self.days_to_end);
        if !self.type_ii {
            return match start {
                0 => "today".into(),
                d if d > 0 => format!("{} away", days(d)),
                d => format!("{} ago", days(-d)),
            };
        }
        if start > 0 {
            format!("opens in {}", days(start))
        } else if end >= 0 {
            // The last day counts as a day left.
            format!("{} left", days(end + 1))
        } else {
            format!("ended {} ago", days(-end))
        }
    }
}

/// The gaps that block the audit, rolled up by owner, one column per kind of gap.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Blocking {
    /// The kinds of gap present, in words, most severe first.
    pub kinds: Vec<String>,
    /// The unowned first (someone must pick them up), then most gaps first.
    pub owners: Vec<OwnerLine>,
}

/// The blocking gaps one person owns, or nobody does.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OwnerLine {
    /// The owner's e-mail address, or [`NO_OWNER`].
    pub owner: String,
    pub gaps: usize,
    /// How many of each of [`Blocking::kinds`], in that order.
    pub by_kind: Vec<usize>,
}

impl Blocking {
    pub fn total(&self) -> usize {
        self.owners.iter().map(|o| o.gaps).sum()
    }
}

pub const NO_OWNER: &str = "No owner yet";

/// Which gaps count as blocking, in one line for the reader.
pub const BLOCKING_RULE: &str = "A gap blocks the audit when it makes a control a gap or leaves a criterion \
    uncovered; evidence about to expire and checks still in their grace period only put a control at risk, so \
    they are not counted here.";

#[derive(Debug, Clone, Serialize)]
pub struct ReadinessDoc {
    pub organisation: String,
    /// YYYY-MM-DD.
    pub prepared_on: String,
    /// e.g. "SOC 2 Type II · Security, Availability".
    pub scope: String,
    pub audit: AuditDates,
    /// The timeline's current phase and the day it ends; `None` before kickoff or after the
    /// auditor's report.
    pub phase: Option<(String, String)>,
    pub score: u32,
    pub controls: ControlCounts,
    /// In-scope categories only, in the framework's order.
    pub categories: Vec<CategoryLine>,
    pub blocking: Blocking,
    pub gaps: Vec<GapLine>,
    pub checklist: Vec<ChecklistLine>,
    pub timeline: Vec<PhaseLine>,
}

/// How the score is computed, in words a reader can check against the tables.
pub const SCORE_FORMULA: &str = "The score is 100 × (covered criteria + ½ × partially covered criteria) ÷ criteria in \
    scope, rounded. A criterion is covered when at least one control mapped to it is ready, partial when its \
    controls are at risk, and uncovered otherwise.";

/// The appendix lists every gap up to here (some sixty pages); a program with more has barely
/// started, and the gap list export holds them all.
pub const MAX_GAPS: usize = 1000;

impl ReadinessDoc {
    pub fn criteria(&self) -> usize {
        self.categories.iter().map(CategoryLine::criteria).sum()
    }

    pub fn shown_gaps(&self) -> &[GapLine] {
        &self.gaps[..self.gaps.len().min(MAX_GAPS)]
    }

    /// What the score says, in one line next to it.
    pub fn score_meaning(&self) -> String {
        format!(
            "Share of the {} criteria in scope that a ready control covers; a criterion whose controls are only at \
             risk counts half.",
            self.criteria()
        )
    }
}

/// The blocking gaps rolled up by owner: the gaps whose severity makes a control a gap (see
/// [`BLOCKING_RULE`]).
pub fn blocking_by_owner(readiness: &Readiness) -> Blocking {
    let blocking: Vec<_> = readiness.gaps.iter().filter(|g| g.blocks_audit()).collect();
    let mut kinds: Vec<Severity> = blocking.iter().map(|g| g.severity).collect();
    kinds.sort();
    kinds.dedup();
    // `None` sorts first: the unowned lead.
    let mut by_owner: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for g in &blocking {
        let owner = g.owner.as_deref().filter(|o| !o.is_empty());
        let counts = by_owner.entry(owner).or_insert_with(|| vec![0; kinds.len()]);
        counts[kinds.binary_search(&g.severity).expect("listed above")] += 1;
    }
    let mut owners: Vec<OwnerLine> = by_owner
        .into_iter()
        .map(|(owner, by_kind)| OwnerLine {
            owner: owner.unwrap_or(NO_OWNER).to_string(),
            gaps: by_kind.iter().sum(),
            by_kind,
        })
        .collect();
    let unowned = usize::from(owners.first().is_some_and(|o| o.owner == NO_OWNER));
    owners[unowned..].sort_by(|a, b| b.gaps.cmp(&a.gaps).then_with(|| a.owner.cmp(&b.owner)));
    Blocking {
        kinds: kinds.into_iter().map(Severity::label).collect(),
        owners,
    }
}

fn audit_dates(scope: &Scope, today: Date) -> AuditDates {
    let (start, end) = match scope.period {
        AuditPeriod::AsOf(d) => (d, d),
        AuditPeriod::Window { from, to } => (from, to),
    };
    AuditDates {
        type_ii: scope.report_type == ReportType::Type2,
        start: format_date(start),
        end: format_date(end),
        days_to_start: (start - today).whole_days(),
        days_to_end: (end - today).whole_days(),
    }
}

/// The readiness report of one assessment as of `today`: the parts of an assessment it reads
/// (the store's `Assessment` holds them all) and the organisation's name.
pub fn doc(
    scope: &Scope,
    readiness: &Readiness,
    checklist: &[ChecklistItem],
    timeline: &[Phase],
    organisation: &str,
    today: Date,
) -> ReadinessDoc {
    let fw = &Catalog::builtin().framework;
    let mut categories: Vec<CategoryLine> = scope
        .categories
        .iter()
        .map(|cat| CategoryLine {
            category: fw
                .category(*cat)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| cat.as_str().to_string()),
            covered: 0,
            partial: 0,
            uncovered: 0,
        })
        .collect();
    for k in &readiness.criteria {
        let Some(cat) = fw.criterion(&k.id).map(|c| c.category) else {
            continue;
        };
        let Some(i) = scope.categories.iter().position(|c| *c == cat) else {
            continue;
        };
        let line = &mut categories[i];
        match k.status {
            Coverage::Covered => line.covered += 1,
            Coverage::Partial => line.partial += 1,
            Coverage::Uncovered => line.uncovered += 1,
        }
    }
    let names: Vec<&str> = categories.iter().map(|c| c.category.as_str()).collect();
    let type_name = match scope.report_type {
        ReportType::Type1 => "Type I",
        ReportType::Type2 => "Type II",
    };
    ReadinessDoc {
        organisation: organisation.to_string(),
        prepared_on: format_date(today),
        scope: format!("SOC 2 {type_name} · {}", names.join(", ")),
        audit: audit_dates(scope, today),
        phase: timeline
            .iter()
            .find(|p| p.current)
            .map(|p| (label_of(p.phase), format_date(p.end))),
        score: readiness.score,
        controls: ControlCounts {
            ready: readiness.count(Status::Ready),
            at_risk: readiness.count(Status::AtRisk),
            gap: readiness.count(Status::Gap),
            not_applicable: readiness.count(Status::NotApplicable),
        },
        categories,
        blocking: blocking_by_owner(readiness),
        gaps: readiness
            .gaps
            .iter()
            .map(|g| GapLine {
                severity: g.severity.label(),
                control: g.control.clone().unwrap_or_default(),
                criterion: g.criterion.clone().unwrap_or_default(),
                reason: g.reason.clone(),
                owner: g.owner.clone().unwrap_or_default(),
                fix: g.fix.clone(),
            })
            .collect(),
        checklist: checklist
            .iter()
            .map(|i| ChecklistLine {
                item: i.item.to_string(),
                done: i.done,
                why: i.why.clone(),
            })
            .collect(),
        timeline: timeline
            .iter()
            .map(|p| PhaseLine {
                phase: label_of(p.phase),
                start: format_date(p.start),
                end: format_date(p.end),
                current: p.current,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evident_core::fix::Fix;
    use evident_core::readiness::Gap;
    use time::macros::date;

    fn gap(severity: Severity, owner: Option<&str>) -> Gap {
        Gap {
            severity,
            control: Some("ACC-01".into()),
            criterion: None,
            reason: "r".into(),
            owner: owner.map(str::to_string),
            fix: "f".into(),
            action: Fix::SetOwner {
                control: "ACC-01".into(),
            },
            subject: String::new(),
        }
    }

    #[test]
    fn blocking_gaps_are_counted_per_owner_and_nobody() {
        let readiness = Readiness {
            score: 50,
            controls: vec![],
            criteria: vec![],
            gaps: vec![
                gap(Severity::UncoveredCriterion, None),
                gap(Severity::MissingOwner, None),
                gap(Severity::MissingEvidence, Some("ana@example.com")),
                gap(Severity::FailingCheck, Some("ana@example.com")),
                gap(Severity::MissingEvidence, Some("ana@example.com")),
                gap(Severity::StaleEvidence, Some("bo@example.com")),
                // At risk only: not blocking, so cy does not appear at all.
                gap(Severity::ExpiringEvidence, Some("cy@example.com")),
                gap(Severity::FailingCheckInGrace, Some("bo@example.com")),
                gap(Severity::MissingEvidence, Some("")),
            ],
        };
        let b = blocking_by_owner(&readiness);
        assert_eq!(
            b.kinds,
            [
                "uncovered criterion",
                "failing check",
                "missing evidence",
                "stale evidence",
                "missing owner"
            ],
            "the kinds present, most severe first; at-risk kinds are not blocking"
        );
        let owners: Vec<(&str, usize, &[usize])> = b
            .owners
            .iter()
            .map(|l| (l.owner.as_str(), l.gaps, l.by_kind.as_slice()))
            .collect();
        assert_eq!(
            owners,
            [
                ("No owner yet", 3, &[1, 0, 1, 0, 1][..]),
                ("ana@example.com", 3, &[0, 1, 2, 0, 0][..]),
                ("bo@example.com", 1, &[0, 0, 0, 1, 0][..]),
            ],
            "the unowned first (an empty owner is nobody), then most gaps; cy has only an at-risk gap"
        );
        assert_eq!(b.total(), 7);
        let more = Readiness {
            gaps: vec![
                gap(Severity::MissingEvidence, Some("zed@example.com")),
                gap(Severity::MissingEvidence, Some("zed@example.com")),
                gap(Severity::MissingEvidence, Some("amy@example.com")),
            ],
            ..readiness
        };
        let owners: Vec<String> = blocking_by_owner(&more).owners.into_iter().map(|o| o.owner).collect();
        assert_eq!(
            owners,
            ["zed@example.com", "amy@example.com"],
            "with nobody unowned, most gaps first"
        );
    }

    #[test]
    fn the_audit_is_counted_down_in_words() {
        let mut a = AuditDates {
            type_ii: true,
            start: "2027-02-01".into(),
            end: "2027-07-31".into(),
            days_to_start: 70,
            days_to_end: 250,
        };
        assert_eq!(
            (a.what(), a.dates().as_str()),
            ("Observation window", "2027-02-01 to 2027-07-31")
        );
        assert_eq!(a.countdown(), "opens in 70 days");
        (a.days_to_start, a.days_to_end) = (-10, 0);
        assert_eq!(a.countdown(), "1 day left");
        (a.days_to_start, a.days_to_end) = (-200, -3);
        assert_eq!(a.countdown(), "ended 3 days ago");
        a.type_ii = false;
        (a.days_to_start, a.days_to_end) = (1, 1);
        assert_eq!((a.what(), a.countdown().as_str()), ("Type I date", "1 day away"));
        (a.days_to_start, a.days_to_end) = (0, 0);
        assert_eq!(a.countdown(), "today");
        (a.days_to_start, a.days_to_end) = (-4, -4);
        assert_eq!(a.countdown(), "4 days ago");
    }

    #[test]
    fn the_doc_names_categories_and_phase_in_words() {
        let scope = Scope {
            report_type: ReportType::Type2,
            categories: [
                evident_catalog::Category::Security,
                evident_catalog::Category::ProcessingIntegrity,
            ]
            .into_iter()
            .collect(),
            period: AuditPeriod::Window {
                from: date!(2027 - 02 - 01),
                to: date!(2027 - 07 - 31),
            },
        };
        let timeline = evident_core::checklist::timeline(date!(2026 - 10 - 01), scope.period, date!(2026 - 11 - 23));
        let readiness = Readiness {
            score: 0,
            controls: vec![],
            criteria: vec![],
            gaps: vec![],
        };
        let d = doc(&scope, &readiness, &[], &timeline, "Acme", date!(2026 - 11 - 23));
        let names: Vec<&str> = d.categories.iter().map(|c| c.category.as_str()).collect();
        assert_eq!(names, ["Security", "Processing Integrity"]);
        assert_eq!(d.scope, "SOC 2 Type II · Security, Processing Integrity");
        assert_eq!(d.phase, Some(("Remediation".to_string(), "2027-01-04".to_string())));
        assert_eq!(d.audit.countdown(), "opens in 70 days");
    }
}
