//! The Type II observation window, read as an auditor reads it at the end of the period: for
//! each periodic control its occurrences (met, missed, pending, upcoming); for each check the
//! record-level history against the remediation deadline; the exceptions this adds up to, with
//! management's responses; a forecast of what will surface before the period closes if nothing
//! changes; and a predicted opinion by a rule a reader can recompute (`docs/window.md`).
//!
//! Pure: the store loads the kept runs, the dated records and the responses; `as_of` is a
//! parameter, and nothing dated after it is used, so a past day can be replayed.

mod forecast;
mod ids;
mod occurrences;
mod opinion;
mod records;
mod samples;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use evident_catalog::{Attester, EvidenceRequirement, Frequency};
use schemars::JsonSchema;
use serde::Serialize;
use time::Date;

use crate::checks::{Exclusion, Remediation};
use crate::fix::Fix;
use crate::format_date;
use crate::scope::ReportType;

pub use forecast::{ForecastItem, ForecastKind};
pub use ids::exception_id;
pub use occurrences::{OccurrenceStatus, occurrences};
pub use opinion::{CriterionOutcome, CriterionResult, Opinion, OpinionRule, PredictedOpinion};
pub use records::{RecordHistory, RecordStatus};

/// A report period, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

impl Period {
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).whole_days() + 1
    }
}

/// One adopted, applicable control as the window needs it.
#[derive(Debug, Clone)]
pub struct ControlInput {
    pub code: String,
    pub title: String,
    pub frequency: Frequency,
    pub owner: Option<String>,
    pub criteria: Vec<String>,
    /// Register records that show an occurrence took place (from the content).
    pub attested_by: Vec<Attester>,
    pub requirements: Vec<EvidenceRequirement>,
}

/// Where a dated proof came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofSource {
    /// An evidence item linked to the controls it names.
    Evidence,
    /// A record Evident keeps (an event, a risk review, a policy approval, a training).
    Record(Attester),
}

/// Something dated that can show a control operated on that day.
#[derive(Debug, Clone)]
pub struct Proof {
    pub date: Date,
    pub source: ProofSource,
    /// The evidence id, the event's reference, the policy or risk it is about.
    pub reference: String,
    pub title: String,
    /// Controls it names itself (evidence links, an event's `controls` column).
    pub controls: Vec<String>,
}

/// The last kept run of a check on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    Pass,
    Fail,
    /// The check ran but had nothing to test, or did not run at all: no evidence, never a pass.
    NoData,
}

/// One unbroken stretch of runs in which a record failed (or was set aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub record: String,
    /// The check's reason when it first failed.
    pub reason: String,
    pub opened_ms: i64,
    /// The first run in which the record passed again (or was no longer tested).
    pub closed_ms: Option<i64>,
    /// The first run in which it was set aside by an exclusion.
    pub excluded_ms: Option<i64>,
}

/// One check's kept history over the window.
#[derive(Debug, Clone)]
pub struct CheckInput {
    pub id: String,
    pub title: String,
    pub remediation: Remediation,
    /// Controls it tests (content for built-in checks, the rule's own list otherwise).
    pub controls: Vec<String>,
    /// The last run of each day inside the window, in order; a day not listed had no run.
    pub days: Vec<(Date, DayStatus)>,
    /// Whether the check produced a result (pass or fail) before the window started.
    pub data_before: bool,
    /// Failing spans that overlap the window.
    pub spans: Vec<Span>,
    /// The most records one run inside the window tested: the population exceptions are rated on.
    pub population: usize,
}

/// A current evidence item as counted for a control's requirement.
#[derive(Debug, Clone)]
pub struct EvidenceDate {
    pub control: String,
    pub requirement: Option<String>,
    pub id: String,
    pub attests: Date,
}

/// Something that reports on its own (a scanner, a device agent) and the check that fails when
/// it goes quiet for `fails_after_days`.
#[derive(Debug, Clone)]
pub struct Reporter {
    pub check: String,
    /// Who it is, in a sentence ("the agent on LT-0042").
    pub subject: String,
    /// What several of them are called ("device agents").
    pub noun: String,
    pub last_ms: i64,
    pub fails_after_days: i64,
}

/// Management's written response to an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Response {
    pub text: String,
    pub by: String,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub at: String,
}

/// Everything the window reads, loaded by the caller.
#[derive(Debug, Clone)]
pub struct Input {
    pub period: Period,
    pub as_of: Date,
    pub report_type: ReportType,
    /// Applicable controls only.
    pub controls: Vec<ControlInput>,
    pub proofs: Vec<Proof>,
    pub checks: Vec<CheckInput>,
    pub exclusions: Vec<Exclusion>,
    pub evidence: Vec<EvidenceDate>,
    pub reporters: Vec<Reporter>,
    /// Responses by exception id, newest first.
    pub responses: BTreeMap<String, Vec<Response>>,
    /// Policy parameters by key.
    pub params: BTreeMap<String, String>,
    /// Criteria in scope.
    pub criteria: Vec<String>,
    pub rule: OpinionRule,
    /// Exceptions the auditor recorded on sampled items of this period.
    pub sample_exceptions: Vec<crate::fieldwork::SampleException>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WindowPeriod {
    pub start: String,
    pub end: String,
    pub as_of: String,
    /// Days from `as_of` to the end, the end included; 0 once it has passed.
    pub days_left: i64,
    pub days: i64,
    /// Days of the period up to and including `as_of`.
    pub elapsed: i64,
    /// `type1` (design on one date) or `type2` (operation over the period).
    pub report_type: String,
}

/// One occurrence of a periodic control.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OccurrenceView {
    pub start: String,
    pub end: String,
    pub status: OccurrenceStatus,
    /// What attests to it: `evidence:<id>` or `<record kind>:<reference>`, with a title.
    pub evidence: Vec<ProofView>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProofView {
    /// `evidence` or the record kind (`access_review`, `risk_review`, …).
    pub source: String,
    pub reference: String,
    pub title: String,
    pub date: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ControlWindow {
    /// The control's code.
    pub id: String,
    pub title: String,
    #[schemars(with = "String")]
    pub frequency: Frequency,
    pub owner: Option<String>,
    pub criteria: Vec<String>,
    /// Its occurrences over the period (periodic controls of a Type II window only).
    pub periods: Vec<OccurrenceView>,
    /// Missed periods and the exceptions of the checks that test it.
    pub deviations: usize,
    /// The worst deviation rate among its periods and its checks (0 to 1).
    pub deviation_rate: f64,
    pub exceptions: Vec<String>,
    /// Type I: whether something shows the control was in place on the date.
    pub in_place: Option<bool>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DayView {
    pub date: String,
    pub status: DayStatus,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct RecordCounts {
    pub remediated_in_time: usize,
    pub fixed_late: usize,
    pub open_past_deadline: usize,
    pub open_within_deadline: usize,
    pub excluded: usize,
    pub per_event: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckWindow {
    pub id: String,
    pub title: String,
    pub remediation: String,
    pub controls: Vec<String>,
    /// Every day of the period up to `as_of`.
    pub days: Vec<DayView>,
    pub no_data_days: usize,
    pub population: usize,
    pub counts: RecordCounts,
    pub records: Vec<RecordHistory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// A record fixed after its remediation deadline, or still failing past it.
    LateRemediation,
    /// One event that breached the control (a change merged without a second approver).
    Event,
    /// A period of a periodic control that ended with nothing attesting to it.
    MissedPeriod,
    /// Days on which a check that had been reporting produced no result.
    NoEvidence,
    /// An item of an auditor's sample that the auditor found did not meet the control.
    SampleDeviation,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Exception {
    /// Stable: the same finding keeps its id from one day to the next (see [`exception_id`]).
    pub id: String,
    pub kind: ExceptionKind,
    pub check: Option<String>,
    pub control: Option<String>,
    /// The controls it counts against.
    pub controls: Vec<String>,
    pub record: Option<String>,
    /// When the failure began (or the missed period / the gap started).
    pub first_failed: String,
    pub fixed: Option<String>,
    pub deadline: Option<String>,
    /// `fixed_late`, `open`, `per_event`, `missed`, `no_evidence` or `sampled`.
    pub status: String,
    /// How long it lasted (to `as_of` when still open), in days.
    pub days: i64,
    pub reason: String,
    pub owner: Option<String>,
    /// The current management response, if any.
    pub response: Option<Response>,
    /// Earlier responses it superseded, newest first.
    pub earlier_responses: Vec<Response>,
}

/// The whole window as of one day.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Window {
    pub period: WindowPeriod,
    pub controls: Vec<ControlWindow>,
    pub checks: Vec<CheckWindow>,
    pub exceptions: Vec<Exception>,
    pub forecast: Vec<ForecastItem>,
    pub opinion: Opinion,
}

/// Why a window cannot be read as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct WindowError {
    pub field: &'static str,
    pub reason: String,
}

/// Refuses an `as_of` outside the period: the window says nothing about days it does not cover.
pub fn check_as_of(period: Period, as_of: Date) -> Result<(), WindowError> {
    if period.contains(as_of) {
        return Ok(());
    }
    Err(WindowError {
        field: "as_of",
        reason: format!(
            "{} is outside the period {}..{}",
            format_date(as_of),
            format_date(period.start),
            format_date(period.end)
        ),
    })
}

/// Reads the window as of `input.as_of`.
pub fn observe(input: &Input) -> Window {
    let period = input.period;
    let as_of = input.as_of.clamp(period.start, period.end);
    let owners: BTreeMap<&str, Option<&str>> = input
        .controls
        .iter()
        .map(|c| (c.code.as_str(), c.owner.as_deref()))
        .collect();
    let type2 = input.report_type == ReportType::Type2;

    let mut exceptions = Vec::new();
    let mut checks = Vec::new();
    // Per control: the rate and exception ids of each check that tests it.
    let mut check_rates: BTreeMap<String, Vec<(f64, Vec<String>)>> = BTreeMap::new();
    for check in &input.checks {
        let (view, found, rate) =
            records::check_window(check, period, as_of, &input.exclusions, &input.params, &owners);
        let ids: Vec<String> = found.iter().map(|e| e.id.clone()).collect();
        for c in &view.controls {
            check_rates.entry(c.clone()).or_default().push((rate, ids.clone()));
        }
        if type2 {
            exceptions.extend(found);
        }
        checks.push(view);
    }

    let index = ProofIndex::of(&input.proofs, as_of);
    let mut controls = Vec::new();
    for c in &input.controls {
        let proofs = index.for_control(&input.proofs, c);
        let mut view = ControlWindow {
            id: c.code.clone(),
            title: c.title.clone(),
            frequency: c.frequency,
            owner: c.owner.clone(),
            criteria: c.criteria.clone(),
            periods: Vec::new(),
            deviations: 0,
            deviation_rate: 0.0,
            exceptions: Vec::new(),
            in_place: None,
        };
        if !type2 {
            view.in_place = Some(occurrences::in_place(c, &proofs, &input.checks, as_of));
            controls.push(view);
            continue;
        }
        let (periods, missed) = occurrences::control_periods(c, &proofs, period, as_of);
        let elapsed = periods
            .iter()
            .filter(|p| matches!(p.status, OccurrenceStatus::Met | OccurrenceStatus::Missed))
            .count();
        for m in missed {
            view.exceptions.push(m.id.clone());
            exceptions.push(m);
        }
        let mut rate = if elapsed == 0 {
            0.0
        } else {
            view.exceptions.len() as f64 / elapsed as f64
        };
        for (r, found) in samples::for_control(&input.sample_exceptions, &c.code, period, as_of, &owners) {
            rate = rate.max(r);
            view.exceptions.extend(found.iter().map(|e| e.id.clone()));
            exceptions.extend(found);
        }
        for (r, ids) in check_rates.remove(&c.code).unwrap_or_default() {
            rate = rate.max(r);
            view.exceptions.extend(ids);
        }
        view.deviations = view.exceptions.len();
        view.deviation_rate = rate;
        view.periods = periods;
        controls.push(view);
    }

    for e in &mut exceptions {
        if let Some(list) = input.responses.get(&e.id) {
            let mut list = list.iter().cloned();
            e.response = list.next();
            e.earlier_responses = list.collect();
        }
    }
    exceptions.sort_by(|a, b| (&a.first_failed, &a.id).cmp(&(&b.first_failed, &b.id)));

    let forecast = if type2 {
        forecast::forecast(input, &controls, &checks, as_of, &owners)
    } else {
        Vec::new()
    };
    let opinion = opinion::predict(&input.criteria, &controls, &input.rule, type2);
    Window {
        period: WindowPeriod {
            start: format_date(period.start),
            end: format_date(period.end),
            as_of: format_date(as_of),
            days_left: (period.end - as_of).whole_days().max(0),
            days: period.days(),
            elapsed: (as_of - period.start).whole_days() + 1,
            report_type: if type2 { "type2" } else { "type1" }.into(),
        },
        controls,
        checks,
        exceptions,
        forecast,
        opinion,
    }
}

/// The proofs dated up to `as_of`, by where they speak for a control: the controls they name
/// (case-insensitively) and the kind of record they are. Built once per window: scanning every
/// proof for every control cost most of a large program's window.
struct ProofIndex {
    named: HashMap<String, Vec<usize>>,
    records: Vec<(Attester, Vec<usize>)>,
}

impl ProofIndex {
    fn of(proofs: &[Proof], as_of: Date) -> ProofIndex {
        let mut named: HashMap<String, Vec<usize>> = HashMap::new();
        let mut records: Vec<(Attester, Vec<usize>)> = Vec::new();
        for (i, p) in proofs.iter().enumerate().filter(|(_, p)| p.date <= as_of) {
            for k in &p.controls {
                let list = named.entry(k.to_ascii_uppercase()).or_default();
                // A proof naming a control twice speaks for it once.
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            if let ProofSource::Record(a) = p.source {
                match records.iter_mut().find(|(kind, _)| *kind == a) {
                    Some((_, list)) => list.push(i),
                    None => records.push((a, vec![i])),
                }
            }
        }
        ProofIndex { named, records }
    }

    /// The proofs that speak for `c` (it is named, or the content says a record of that kind
    /// attests to it), in their input order.
    fn for_control<'a>(&self, proofs: &'a [Proof], c: &ControlInput) -> Vec<&'a Proof> {
        let mut at: Vec<usize> = self
            .named
            .get(&c.code.to_ascii_uppercase())
            .into_iter()
            .flatten()
            .copied()
            .chain(
                self.records
                    .iter()
                    .filter(|(kind, _)| c.attested_by.contains(kind))
                    .flat_map(|(_, list)| list.iter().copied()),
            )
            .collect();
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| &proofs[i]).collect()
    }
}

impl Proof {
    fn view(&self) -> ProofView {
        ProofView {
            source: match self.source {
                ProofSource::Evidence => "evidence".into(),
                ProofSource::Record(a) => a.as_str().into(),
            },
            reference: self.reference.clone(),
            title: self.title.clone(),
            date: format_date(self.date),
        }
    }
}

/// Fixes as the window offers them: the same steps readiness names.
pub(crate) fn fix_for_check(check: &str, controls: &[String]) -> Fix {
    Fix::FixCheck {
        check: check.to_string(),
        control: controls.first().cloned().unwrap_or_default(),
    }
}

/// The longest management response kept (a page of text).
pub const RESPONSE_MAX_CHARS: usize = 10_000;

/// A management response as it will be kept: trimmed, not empty, storable, at most a page.
pub fn check_response(text: &str) -> Result<String, WindowError> {
    let t = text.trim();
    let refuse = |reason: String| WindowError {
        field: "response",
        reason,
    };
    if t.is_empty() {
        return Err(refuse(
            "a response needs text: what went wrong and what management did about it".into(),
        ));
    }
    if t.chars().count() > RESPONSE_MAX_CHARS {
        return Err(refuse(format!("longer than {RESPONSE_MAX_CHARS} characters")));
    }
    crate::text::storable(t).map_err(|e| refuse(e.to_string()))?;
    Ok(t.to_string())
}
