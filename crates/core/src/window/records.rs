//! A check's record-level history over the window, against the remediation deadline: fixed in
//! time (shown, not an exception), fixed late or still failing past the deadline (an exception,
//! with its duration), set aside by an exclusion, or one event that breached the control. Days a
//! check that had been reporting produced nothing are gaps in the evidence, never passes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use time::{Date, Duration};

use super::{
    CheckInput, CheckWindow, DayStatus, DayView, Exception, ExceptionKind, Period, RecordCounts, exception_id,
};
use crate::checks::{Exclusion, Remediation, same_record};
use crate::{date_of_ms, day_start_ms, format_date};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    RemediatedInTime,
    FixedLate,
    OpenPastDeadline,
    OpenWithinDeadline,
    Excluded,
    PerEvent,
}

impl RecordStatus {
    pub fn is_exception(self) -> bool {
        matches!(
            self,
            RecordStatus::FixedLate | RecordStatus::OpenPastDeadline | RecordStatus::PerEvent
        )
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExclusionView {
    pub reason: String,
    pub owner: String,
    pub expires: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecordHistory {
    pub record: String,
    pub reason: String,
    pub first_failed: String,
    pub fixed: Option<String>,
    pub deadline: Option<String>,
    pub status: RecordStatus,
    pub exclusion: Option<ExclusionView>,
    /// The exception it is, when it is one.
    pub exception: Option<String>,
}

fn date(ms: i64) -> String {
    date_of_ms(ms).map(format_date).unwrap_or_default()
}

/// Whole days from `from` to `to`, a started day counting as one.
fn days_between(from_ms: i64, to_ms: i64) -> i64 {
    ((to_ms - from_ms).max(0) + DAY_MS - 1) / DAY_MS
}

/// The check's view over the window, its exceptions, and its deviation rate (the share of its
/// population with a record exception, or of its covered days without evidence, the worse).
pub(super) fn check_window(
    check: &CheckInput,
    window: Period,
    as_of: Date,
    exclusions: &[Exclusion],
    params: &BTreeMap<String, String>,
    owners: &BTreeMap<&str, Option<&str>>,
) -> (CheckWindow, Vec<Exception>, f64) {
    let owner = check
        .controls
        .iter()
        .find_map(|c| owners.get(c.as_str()).copied().flatten())
        .map(str::to_string);
    let controls: Vec<String> = check
        .controls
        .iter()
        .filter(|c| owners.contains_key(c.as_str()))
        .cloned()
        .collect();
    let start_ms = day_start_ms(window.start);
    let now_ms = day_start_ms(as_of) + DAY_MS;
    let mut counts = RecordCounts::default();
    let mut records = Vec::new();
    let mut exceptions = Vec::new();
    for span in &check.spans {
        if span.opened_ms >= now_ms {
            continue;
        }
        let closed = span.closed_ms.filter(|c| *c < now_ms);
        if closed.is_some_and(|c| c <= start_ms) {
            continue;
        }
        let Some(deadline) = check.remediation.deadline(span.opened_ms, params) else {
            continue;
        };
        let excluded = span.excluded_ms.is_some_and(|x| x < now_ms);
        let status = if excluded {
            RecordStatus::Excluded
        } else if check.remediation == Remediation::PerEvent {
            RecordStatus::PerEvent
        } else {
            match closed {
                Some(c) if c <= deadline => RecordStatus::RemediatedInTime,
                Some(_) => RecordStatus::FixedLate,
                None if deadline < now_ms => RecordStatus::OpenPastDeadline,
                None => RecordStatus::OpenWithinDeadline,
            }
        };
        let slot = match status {
            RecordStatus::RemediatedInTime => &mut counts.remediated_in_time,
            RecordStatus::FixedLate => &mut counts.fixed_late,
            RecordStatus::OpenPastDeadline => &mut counts.open_past_deadline,
            RecordStatus::OpenWithinDeadline => &mut counts.open_within_deadline,
            RecordStatus::Excluded => &mut counts.excluded,
            RecordStatus::PerEvent => &mut counts.per_event,
        };
        *slot += 1;
        let exclusion = excluded
            .then(|| {
                exclusions
                    .iter()
                    .filter(|e| e.check == check.id && same_record(&e.record, &span.record))
                    .max_by_key(|e| e.expires)
            })
            .flatten()
            .map(|e| ExclusionView {
                reason: e.reason.clone(),
                owner: e.owner.clone(),
                expires: format_date(e.expires),
            });
        let exception = status.is_exception().then(|| {
            let id = exception_id(&["record", &check.id, &span.record, &span.opened_ms.to_string()]);
            let (kind, label, days) = match status {
                RecordStatus::PerEvent => (ExceptionKind::Event, "per_event", 1),
                RecordStatus::FixedLate => (
                    ExceptionKind::LateRemediation,
                    "fixed_late",
                    days_between(span.opened_ms, closed.unwrap_or(now_ms)),
                ),
                _ => (
                    ExceptionKind::LateRemediation,
                    "open",
                    days_between(span.opened_ms, now_ms),
                ),
            };
            exceptions.push(Exception {
                id: id.clone(),
                kind,
                check: Some(check.id.clone()),
                control: controls.first().cloned(),
                controls: controls.clone(),
                record: Some(span.record.clone()),
                first_failed: date(span.opened_ms),
                fixed: closed.map(date),
                deadline: Some(date(deadline)),
                status: label.into(),
                days,
                reason: span.reason.clone(),
                owner: owner.clone(),
                response: None,
                earlier_responses: Vec::new(),
            });
            id
        });
        records.push(RecordHistory {
            record: span.record.clone(),
            reason: span.reason.clone(),
            first_failed: date(span.opened_ms),
            fixed: closed.map(date),
            deadline: Some(date(deadline)),
            status,
            exclusion,
            exception,
        });
    }
    let record_exceptions = exceptions.len();

    // The day strip, and the gaps in it once the check had started reporting.
    let by_day: BTreeMap<Date, DayStatus> = check.days.iter().copied().collect();
    let mut days = Vec::new();
    let mut reporting = check.data_before;
    let mut gap: Option<(Date, i64)> = None;
    let mut gap_days = 0;
    let mut covered = 0;
    let mut d = window.start;
    while d <= as_of {
        let status = by_day.get(&d).copied();
        days.push(DayView {
            date: format_date(d),
            status: status.unwrap_or(DayStatus::NoData),
        });
        let evidence = matches!(status, Some(DayStatus::Pass | DayStatus::Fail));
        // Today without a run yet is still in progress, not a gap.
        let in_progress = d == as_of && status.is_none();
        reporting |= evidence;
        if reporting && !in_progress && check.remediation != Remediation::Occurrence {
            covered += 1;
            if evidence {
                if let Some((from, n)) = gap.take() {
                    exceptions.push(gap_exception(check, &controls, &owner, from, n, Some(d)));
                    gap_days += n;
                }
            } else {
                gap = Some(gap.map_or((d, 1), |(from, n)| (from, n + 1)));
            }
        }
        d += Duration::days(1);
    }
    if let Some((from, n)) = gap {
        exceptions.push(gap_exception(check, &controls, &owner, from, n, None));
        gap_days += n;
    }
    let no_data_days = days.iter().filter(|v| v.status == DayStatus::NoData).count();
    let record_rate = record_exceptions as f64 / check.population.max(1) as f64;
    let gap_rate = if covered == 0 {
        0.0
    } else {
        gap_days as f64 / covered as f64
    };
    let view = CheckWindow {
        id: check.id.clone(),
        title: check.title.clone(),
        remediation: remediation_label(check.remediation, params),
        controls,
        days,
        no_data_days,
        population: check.population,
        counts,
        records,
    };
    (view, exceptions, record_rate.max(gap_rate.min(1.0)))
}

fn gap_exception(
    check: &CheckInput,
    controls: &[String],
    owner: &Option<String>,
    from: Date,
    days: i64,
    resumed: Option<Date>,
) -> Exception {
    let start = format_date(from);
    Exception {
        id: exception_id(&["gap", &check.id, &start]),
        kind: ExceptionKind::NoEvidence,
        check: Some(check.id.clone()),
        control: controls.first().cloned(),
        controls: controls.to_vec(),
        record: None,
        reason: format!(
            "check '{}' produced no result for {days} day(s) from {start}: no evidence the control operated",
            check.title
        ),
        first_failed: start,
        fixed: resumed.map(format_date),
        deadline: None,
        status: "no_evidence".into(),
        days,
        owner: owner.clone(),
        response: None,
        earlier_responses: Vec::new(),
    }
}

/// The deadline in words, e.g. "within 7 days (check_failure_grace_days)".
pub fn remediation_label(r: Remediation, params: &BTreeMap<String, String>) -> String {
    match r {
        Remediation::Days { param, default } => {
            let days = params
                .get(param)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(default);
            format!("fixed within {days} day(s) of failing ({param})")
        }
        Remediation::Overdue => "the check fails only past the policy's own limit: every failure is late".into(),
        Remediation::PerEvent => "each failing record is one event: an exception of its own".into(),
        Remediation::Occurrence => "read through the control's periods".into(),
    }
}
