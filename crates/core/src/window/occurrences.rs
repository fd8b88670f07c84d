//! A periodic control's occurrences over the window: the period cut into the control's own
//! periods (aligned to the window's start, the last one cut at its end), each met by a proof
//! dated inside it, missed when it ended without one, pending while it runs, upcoming after.

use evident_catalog::Frequency;
use schemars::JsonSchema;
use serde::Serialize;
use time::{Date, Duration};

use super::{
    CheckInput, ControlInput, DayStatus, Exception, ExceptionKind, OccurrenceView, Period, Proof, exception_id,
};
use crate::{add_months, format_date};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceStatus {
    Met,
    Missed,
    Pending,
    Upcoming,
}

/// The control's periods inside `window`; none for continuous and per-event controls, which
/// are tested through their checks and populations instead.
pub fn occurrences(frequency: Frequency, window: Period) -> Vec<Period> {
    let nth_start = |k: u32| -> Option<Date> {
        match frequency {
            Frequency::Daily => Some(window.start + Duration::days(i64::from(k))),
            Frequency::Weekly => Some(window.start + Duration::weeks(i64::from(k))),
            Frequency::Monthly => Some(add_months(window.start, k)),
            Frequency::Quarterly => Some(add_months(window.start, 3 * k)),
            Frequency::Annual => Some(add_months(window.start, 12 * k)),
            Frequency::Continuous | Frequency::PerEvent => None,
        }
    };
    let mut out = Vec::new();
    let mut k = 0;
    while let Some(start) = nth_start(k) {
        if start > window.end {
            break;
        }
        let next = nth_start(k + 1).expect("a periodic frequency has a next period");
        out.push(Period {
            start,
            end: (next - Duration::days(1)).min(window.end),
        });
        k += 1;
    }
    out
}

/// Each occurrence with its status and proofs, and a missed-period exception for each one that
/// ended with nothing attesting to it. `proofs` are the control's, none dated after `as_of`.
pub(super) fn control_periods(
    c: &ControlInput,
    proofs: &[&Proof],
    window: Period,
    as_of: Date,
) -> (Vec<OccurrenceView>, Vec<Exception>) {
    let mut views = Vec::new();
    let mut missed = Vec::new();
    for p in occurrences(c.frequency, window) {
        let inside: Vec<_> = proofs.iter().filter(|x| p.contains(x.date)).map(|x| x.view()).collect();
        let status = if !inside.is_empty() {
            OccurrenceStatus::Met
        } else if p.end < as_of {
            OccurrenceStatus::Missed
        } else if p.start <= as_of {
            OccurrenceStatus::Pending
        } else {
            OccurrenceStatus::Upcoming
        };
        if status == OccurrenceStatus::Missed {
            let start = format_date(p.start);
            missed.push(Exception {
                id: exception_id(&["missed", &c.code, &start]),
                kind: ExceptionKind::MissedPeriod,
                check: None,
                control: Some(c.code.clone()),
                controls: vec![c.code.clone()],
                record: None,
                reason: format!(
                    "nothing dated {}..{} shows '{}' took place ({} control)",
                    start,
                    format_date(p.end),
                    c.title,
                    c.frequency
                ),
                first_failed: start,
                fixed: None,
                deadline: Some(format_date(p.end)),
                status: "missed".into(),
                days: p.days(),
                owner: c.owner.clone(),
                response: None,
                earlier_responses: Vec::new(),
            });
        }
        views.push(OccurrenceView {
            start: format_date(p.start),
            end: format_date(p.end),
            status,
            evidence: inside,
        });
    }
    (views, missed)
}

/// Type I: whether something shows the control in place on `date`: a proof recent enough for
/// its frequency, or a check that tests it passing on its last run by then.
pub(super) fn in_place(c: &ControlInput, proofs: &[&Proof], checks: &[CheckInput], date: Date) -> bool {
    let reach = match c.frequency {
        Frequency::Daily => 1,
        Frequency::Weekly => 7,
        Frequency::Monthly => 31,
        Frequency::Quarterly => 92,
        Frequency::Annual | Frequency::Continuous | Frequency::PerEvent => 366,
    };
    let proven = proofs
        .iter()
        .any(|p| p.date <= date && (date - p.date).whole_days() < reach);
    let passing = checks.iter().filter(|k| k.controls.contains(&c.code)).any(|k| {
        k.days
            .iter()
            .rev()
            .find(|(d, _)| *d <= date)
            .is_some_and(|(_, s)| *s == DayStatus::Pass)
    });
    proven || passing
}
