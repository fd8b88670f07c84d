//! What will become an exception before the window closes if nothing changes, as of today:
//! open failures whose deadline falls inside the window, a periodic control whose current
//! period ends within 30 days with nothing attesting to it, evidence that expires before the
//! end, and a scanner or agent that went quiet. Each with its date, owner and the fix.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use time::{Date, Duration};

use super::{CheckWindow, ControlWindow, Input, OccurrenceStatus, RecordStatus, fix_for_check};
use crate::fix::Fix;
use crate::{date_of_ms, format_date, freshness, parse_date};

/// A period ending this soon with nothing attesting to it is forecast.
pub const PERIOD_WARNING_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForecastKind {
    /// Records failing now reach their remediation deadline inside the window.
    DeadlineInWindow,
    /// A periodic control's current period ends soon with nothing attesting to it.
    PeriodEnding,
    /// The evidence answering a requirement stops counting before the window ends.
    EvidenceExpires,
    /// A scanner or agent stopped reporting; its check will fail.
    StoppedReporting,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ForecastItem {
    /// The day it becomes an exception (or the evidence lapses).
    pub date: String,
    pub kind: ForecastKind,
    pub control: Option<String>,
    pub check: Option<String>,
    pub owner: Option<String>,
    /// What will happen, in one sentence.
    pub what: String,
    pub fix: Fix,
    /// The fix as a sentence.
    pub fix_text: String,
}

fn item(
    date: Date,
    kind: ForecastKind,
    control: Option<&str>,
    check: Option<&str>,
    owner: Option<&str>,
    what: String,
    fix: Fix,
) -> ForecastItem {
    ForecastItem {
        date: format_date(date),
        kind,
        control: control.map(str::to_string),
        check: check.map(str::to_string),
        owner: owner.map(str::to_string),
        what,
        fix_text: fix.sentence(),
        fix,
    }
}

pub(super) fn forecast(
    input: &Input,
    controls: &[ControlWindow],
    checks: &[CheckWindow],
    as_of: Date,
    owners: &BTreeMap<&str, Option<&str>>,
) -> Vec<ForecastItem> {
    let end = input.period.end;
    let mut out = Vec::new();
    let owner_of = |controls: &[String]| controls.iter().find_map(|c| owners.get(c.as_str()).copied().flatten());

    // Failures still inside their deadline, one item per check: the first deadline and how many.
    for c in checks {
        let deadlines: Vec<Date> = c
            .records
            .iter()
            .filter(|r| r.status == RecordStatus::OpenWithinDeadline)
            .filter_map(|r| r.deadline.as_deref().and_then(|d| parse_date(d).ok()))
            .filter(|d| *d <= end)
            .collect();
        if let (Some(first), Some(last)) = (deadlines.iter().min(), deadlines.iter().max()) {
            let what = if deadlines.len() == 1 {
                format!(
                    "1 record failing '{}' becomes an exception on {} unless it is fixed",
                    c.title,
                    format_date(*first)
                )
            } else {
                format!(
                    "{} records failing '{}' become exceptions from {} to {} unless they are fixed",
                    deadlines.len(),
                    c.title,
                    format_date(*first),
                    format_date(*last)
                )
            };
            out.push(item(
                *first,
                ForecastKind::DeadlineInWindow,
                c.controls.first().map(String::as_str),
                Some(&c.id),
                owner_of(&c.controls),
                what,
                fix_for_check(&c.id, &c.controls),
            ));
        }
    }

    // Current periods ending soon with nothing attesting to them.
    let specs: BTreeMap<&str, &super::ControlInput> = input.controls.iter().map(|c| (c.code.as_str(), c)).collect();
    for c in controls {
        for p in c.periods.iter().filter(|p| p.status == OccurrenceStatus::Pending) {
            let Ok(p_end) = parse_date(&p.end) else { continue };
            let left = (p_end - as_of).whole_days();
            if left > PERIOD_WARNING_DAYS {
                continue;
            }
            let Some(spec) = specs.get(c.id.as_str()) else { continue };
            let fix = match spec.requirements.first() {
                Some(r) => Fix::AddEvidence {
                    control: c.id.clone(),
                    requirement: r.key.clone(),
                    title: r.title.clone(),
                },
                None => Fix::SetOwner { control: c.id.clone() },
            };
            out.push(item(
                p_end,
                ForecastKind::PeriodEnding,
                Some(&c.id),
                None,
                c.owner.as_deref(),
                format!(
                    "the {} period {}..{} of '{}' ends in {left} day(s) with nothing attesting to it: a missed period",
                    spec.frequency, p.start, p.end, c.title
                ),
                fix,
            ));
        }
    }

    // Evidence that stops counting before the end: the newest item per requirement.
    let mut newest: BTreeMap<(&str, Option<&str>), (Date, &str)> = BTreeMap::new();
    for e in input.evidence.iter().filter(|e| e.attests <= as_of) {
        let slot = newest
            .entry((e.control.as_str(), e.requirement.as_deref()))
            .or_insert((e.attests, &e.id));
        if e.attests > slot.0 {
            *slot = (e.attests, &e.id);
        }
    }
    for c in &input.controls {
        for r in &c.requirements {
            let own = newest.get(&(c.code.as_str(), Some(r.key.as_str())));
            let any = newest.get(&(c.code.as_str(), None));
            let Some((attests, id)) = own.into_iter().chain(any).max_by_key(|(d, _)| *d) else {
                continue;
            };
            let Some(until) = freshness(*attests, r.refresh, as_of).valid_until else {
                continue;
            };
            if until < as_of || until >= end {
                continue;
            }
            out.push(item(
                until,
                ForecastKind::EvidenceExpires,
                Some(&c.code),
                None,
                c.owner.as_deref(),
                format!(
                    "'{}' for {} (item {id}) stops counting on {}, before the window ends",
                    r.title,
                    c.code,
                    format_date(until)
                ),
                Fix::RenewEvidence {
                    control: c.code.clone(),
                    requirement: r.key.clone(),
                    title: r.title.clone(),
                    before: format_date(until),
                },
            ));
        }
    }

    // Reporters that went quiet: their check fails once they stay quiet long enough. One item
    // per check: the first to fail, and how many.
    let mut quiet: BTreeMap<&str, Vec<(Date, Date, &str, &str)>> = BTreeMap::new();
    for rep in &input.reporters {
        let Some(last) = date_of_ms(rep.last_ms) else { continue };
        let fails_on = last + Duration::days(rep.fails_after_days);
        if (as_of - last).whole_days() < 2 || fails_on <= as_of || fails_on > end {
            continue;
        }
        quiet
            .entry(rep.check.as_str())
            .or_default()
            .push((fails_on, last, rep.subject.as_str(), rep.noun.as_str()));
    }
    for (check, mut list) in quiet {
        list.sort();
        let (fails_on, last, subject, noun) = list[0];
        let controls: Vec<String> = checks
            .iter()
            .find(|c| c.id == check)
            .map(|c| c.controls.clone())
            .unwrap_or_default();
        let what = if list.len() == 1 {
            format!(
                "{subject} last reported on {}; check {check} fails on {} if it stays quiet",
                format_date(last),
                format_date(fails_on)
            )
        } else {
            format!(
                "{} {noun} went quiet, first {subject} (last reported {}); check {check} fails from {} if they stay quiet",
                list.len(),
                format_date(last),
                format_date(fails_on)
            )
        };
        out.push(item(
            fails_on,
            ForecastKind::StoppedReporting,
            controls.first().map(String::as_str),
            Some(check),
            owner_of(&controls),
            what,
            fix_for_check(check, &controls),
        ));
    }
    out.sort_by(|a, b| (&a.date, &a.control, &a.check).cmp(&(&b.date, &b.control, &b.check)));
    out
}
