//! Loading what the Type II window reads, keeping the per-record history of checks as runs are
//! saved, the history of report periods and management's responses to exceptions.

use std::collections::{BTreeMap, HashMap, HashSet};

use evident_catalog::{Attester, Catalog};
use evident_core::checks::{BUILTIN, CheckResult, CheckStatus};
use evident_core::registers::{EVENTS, TRAINING};
use evident_core::scope::{AuditPeriod, ReportType};
use evident_core::window::{
    self, CheckInput, ControlInput, DayStatus, EvidenceDate, Input, OpinionRule, Period, Proof, ProofSource, Reporter,
    Response, Span, Window,
};
use evident_core::{date_of_ms, day_start_ms, format_date, parse_date};
use serde_json::json;
use sqlx::{Any, Row, Transaction};
use time::Date;

use crate::bulk::{Cell, insert_rows};
use crate::clock::{instant, now_ms};
use crate::{StoreError, Workspace};

const DAY_MS: i64 = 86_400_000;

pub(crate) const INSERT_PERIOD: &str = "INSERT INTO audit_periods (start_date, end_date, report_type, recorded_at, \
     recorded_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (start_date, end_date) DO NOTHING";
const SELECT_PERIODS: &str =
    "SELECT start_date, end_date, report_type FROM audit_periods ORDER BY start_date DESC, end_date DESC";
const SELECT_OPEN_SPANS: &str = "SELECT id, check_id, record, excluded_at FROM check_spans WHERE closed_at IS NULL";
const CLOSE_SPAN: &str = "UPDATE check_spans SET closed_at = $1 WHERE id = $2";
const EXCLUDE_SPAN: &str = "UPDATE check_spans SET excluded_at = $1 WHERE id = $2";
const SPAN_COLUMNS: &[&str] = &[
    "id",
    "check_id",
    "record",
    "reason",
    "opened_at",
    "closed_at",
    "excluded_at",
];
const COUNT_SPANS: &str = "SELECT (SELECT COUNT(*) FROM check_spans) AS spans, \
     (SELECT COUNT(*) FROM (SELECT 1 FROM check_outcomes LIMIT 1) o) AS outcomes";
const SELECT_SPANS: &str = "SELECT check_id, record, reason, opened_at, closed_at, excluded_at FROM check_spans \
     WHERE opened_at < $1 AND (closed_at IS NULL OR closed_at > $2)";
const SELECT_RUNS: &str = "SELECT check_id, at, status, passed + failed + excluded AS tested FROM check_runs \
     WHERE at >= $1 AND at < $2 ORDER BY at";
const SELECT_REPORTED_BEFORE: &str =
    "SELECT DISTINCT check_id FROM check_runs WHERE at < $1 AND status IN ('pass', 'fail')";
const SELECT_ALL_RUNS: &str = "SELECT id, check_id, at, status FROM check_runs ORDER BY at, id";
const SELECT_ALL_OUTCOMES: &str = "SELECT check_run_id, record, outcome, reason FROM check_outcomes";
const SELECT_RISK_REVIEWS: &str =
    "SELECT r.key AS risk, v.at AS at FROM risk_reviews v JOIN risks r ON r.id = v.risk_id";
const INSERT_RESPONSE: &str = "INSERT INTO exception_responses (id, exception_id, period_start, period_end, body, \
     created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const SELECT_RESPONSES: &str = "SELECT exception_id, body, created_by, created_at FROM exception_responses \
     WHERE period_start = $1 AND period_end = $2 ORDER BY created_at DESC, id DESC";

/// One report period the scope has named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPeriodRecord {
    pub period: Period,
    pub report_type: ReportType,
    /// The scope's period now.
    pub current: bool,
}

/// What a caller asks of the window.
#[derive(Debug, Clone, Default)]
pub struct WindowRequest {
    /// An earlier period by its dates; the scope's own when `None`.
    pub period: Option<(Date, Date)>,
    /// The day to read it as of; today (within the period) when `None`.
    pub as_of: Option<Date>,
    pub rule: OpinionRule,
}

/// What the window reads of the evidence library: a dated proof per item not withdrawn, and
/// the date each current item attests to for each control and requirement it is linked to.
fn evidence_inputs(library: &[evident_core::evidence::EvidenceItem]) -> (Vec<Proof>, Vec<EvidenceDate>) {
    let mut proofs = Vec::new();
    let mut evidence = Vec::new();
    for e in library.iter().filter(|e| e.withdrawn.is_none()) {
        let attests = e.attests_to();
        proofs.push(Proof {
            date: attests,
            source: ProofSource::Evidence,
            reference: e.id.clone(),
            title: e.title.clone(),
            controls: e.controls.iter().map(|l| l.control.clone()).collect(),
        });
        if e.is_current() {
            for l in &e.controls {
                evidence.push(EvidenceDate {
                    control: l.control.clone(),
                    requirement: l.requirement.clone(),
                    id: e.id.clone(),
                    attests,
                });
            }
        }
    }
    (proofs, evidence)
}

/// `input` as [`Workspace::window_input`] would load it after writes that changed only the
/// evidence library, now `library`: its evidence parts rebuilt, everything else kept.
pub fn window_input_with_evidence(input: &Input, library: &[evident_core::evidence::EvidenceItem]) -> Input {
    let (mut proofs, evidence) = evidence_inputs(library);
    proofs.extend(
        input
            .proofs
            .iter()
            .filter(|p| p.source != ProofSource::Evidence)
            .cloned(),
    );
    Input {
        period: input.period,
        as_of: input.as_of,
        report_type: input.report_type,
        controls: input.controls.clone(),
        proofs,
        checks: input.checks.clone(),
        exclusions: input.exclusions.clone(),
        evidence,
        reporters: input.reporters.clone(),
        responses: input.responses.clone(),
        params: input.params.clone(),
        criteria: input.criteria.clone(),
        rule: input.rule,
        sample_exceptions: input.sample_exceptions.clone(),
    }
}

fn field(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Field {
        field,
        reason: reason.into(),
    }
}

/// One open span, as the runs being saved move it.
struct OpenSpan {
    id: String,
    excluded: bool,
}

/// Span changes made by saving runs, to be written in the same transaction.
#[derive(Default)]
struct SpanChanges {
    new: Vec<Vec<Cell>>,
    closed: Vec<(i64, String)>,
    excluded: Vec<(i64, String)>,
}

/// Open spans by check, then by record.
type OpenSpans = HashMap<String, HashMap<String, OpenSpan>>;

/// Moves the open spans through one check result made at `at`: records no longer failing close
/// their span, new ones open one. A run with nothing to test closes nothing.
fn advance(
    open: &mut OpenSpans,
    changes: &mut SpanChanges,
    at: i64,
    check: &str,
    status: CheckStatus,
    failing: &[(&str, &str, bool)],
) {
    if status == CheckStatus::NoData {
        return;
    }
    let spans = open.entry(check.to_string()).or_default();
    let now: HashSet<&str> = failing.iter().map(|(r, _, _)| *r).collect();
    spans.retain(|record, span| {
        let still = now.contains(record.as_str());
        if !still {
            changes.closed.push((at, span.id.clone()));
        }
        still
    });
    for (record, reason, excluded) in failing {
        match spans.get_mut(*record) {
            Some(span) => {
                if *excluded && !span.excluded {
                    span.excluded = true;
                    changes.excluded.push((at, span.id.clone()));
                }
            }
            None => {
                let id = ulid::Ulid::new().to_string();
                changes.new.push(vec![
                    Cell::from(id.clone()),
                    check.to_string().into(),
                    record.to_string().into(),
                    reason.to_string().into(),
                    at.into(),
                    Cell::Int(None),
                    if *excluded { Cell::from(at) } else { Cell::Int(None) },
                ]);
                spans.insert(
                    record.to_string(),
                    OpenSpan {
                        id,
                        excluded: *excluded,
                    },
                );
            }
        }
    }
}

impl Workspace {
    /// Carries the per-record history forward through runs being saved in `tx` (in time order).
    pub(crate) async fn record_spans(
        &self,
        tx: &mut Transaction<'static, Any>,
        runs: &[(i64, Vec<CheckResult>)],
    ) -> Result<(), StoreError> {
        let mut open = OpenSpans::new();
        for r in sqlx::query(SELECT_OPEN_SPANS).fetch_all(&mut **tx).await? {
            open.entry(r.try_get::<String, _>("check_id")?).or_default().insert(
                r.try_get::<String, _>("record")?,
                OpenSpan {
                    id: r.try_get("id")?,
                    excluded: r.try_get::<Option<i64>, _>("excluded_at")?.is_some(),
                },
            );
        }
        let mut order: Vec<&(i64, Vec<CheckResult>)> = runs.iter().collect();
        order.sort_by_key(|(at, _)| *at);
        let mut changes = SpanChanges::default();
        for (at, results) in order {
            for r in results {
                let failing: Vec<(&str, &str, bool)> = r
                    .failures
                    .iter()
                    .map(|f| (f.record.as_str(), f.reason.as_str(), false))
                    .chain(
                        r.exclusions
                            .iter()
                            .map(|x| (x.record.as_str(), x.reason.as_str(), true)),
                    )
                    .collect();
                advance(&mut open, &mut changes, *at, &r.id, r.status, &failing);
            }
        }
        self.write_span_changes(tx, changes).await
    }

    async fn write_span_changes(
        &self,
        tx: &mut Transaction<'static, Any>,
        changes: SpanChanges,
    ) -> Result<(), StoreError> {
        insert_rows(tx, "check_spans", SPAN_COLUMNS, changes.new).await?;
        for (at, id) in changes.closed {
            sqlx::query(CLOSE_SPAN).bind(at).bind(id).execute(&mut **tx).await?;
        }
        for (at, id) in changes.excluded {
            sqlx::query(EXCLUDE_SPAN).bind(at).bind(id).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Builds the per-record history from every kept run when it is missing (a workspace whose
    /// runs were kept before the history was): a one-off replay in time order.
    pub async fn ensure_check_spans(&self) -> Result<(), StoreError> {
        let counts = sqlx::query(COUNT_SPANS).fetch_one(&self.db.pool).await?;
        if counts.try_get::<i64, _>("spans")? > 0 || counts.try_get::<i64, _>("outcomes")? == 0 {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let runs = sqlx::query(SELECT_ALL_RUNS).fetch_all(&mut *tx).await?;
        let mut outcomes: HashMap<String, Vec<(String, String, bool)>> = HashMap::new();
        for o in sqlx::query(SELECT_ALL_OUTCOMES).fetch_all(&mut *tx).await? {
            outcomes.entry(o.try_get("check_run_id")?).or_default().push((
                o.try_get("record")?,
                o.try_get("reason")?,
                o.try_get::<String, _>("outcome")? == "excluded",
            ));
        }
        let mut open = OpenSpans::new();
        let mut changes = SpanChanges::default();
        for r in runs {
            let id: String = r.try_get("id")?;
            let status = match r.try_get::<String, _>("status")?.as_str() {
                "pass" => CheckStatus::Pass,
                "fail" => CheckStatus::Fail,
                _ => CheckStatus::NoData,
            };
            let list = outcomes.remove(&id).unwrap_or_default();
            let failing: Vec<(&str, &str, bool)> = list.iter().map(|(a, b, x)| (a.as_str(), b.as_str(), *x)).collect();
            let check: String = r.try_get("check_id")?;
            advance(&mut open, &mut changes, r.try_get("at")?, &check, status, &failing);
        }
        let n = changes.new.len();
        self.write_span_changes(&mut tx, changes).await?;
        self.commit_logged(tx, "checks.history_rebuilt", "checks:spans", json!({"spans": n}))
            .await?;
        Ok(())
    }

    /// Every report period named so far, newest first; the scope's own marked current.
    pub async fn audit_periods(&self) -> Result<Vec<AuditPeriodRecord>, StoreError> {
        let current = match self.scope().await?.scope.map(|s| s.period) {
            Some(AuditPeriod::Window { from, to }) => Some((from, to)),
            _ => None,
        };
        let mut out = Vec::new();
        for r in sqlx::query(SELECT_PERIODS).fetch_all(&self.db.pool).await? {
            let d = |c: &str| -> Result<Date, StoreError> {
                parse_date(&r.try_get::<String, _>(c)?).map_err(|e| StoreError::Config(format!("stored period: {e}")))
            };
            let (start, end) = (d("start_date")?, d("end_date")?);
            out.push(AuditPeriodRecord {
                period: Period { start, end },
                report_type: ReportType::from_number(r.try_get("report_type")?).unwrap_or(ReportType::Type2),
                current: current == Some((start, end)),
            });
        }
        Ok(out)
    }

    /// The period asked for (an earlier one by its dates), or the scope's own; a Type I scope's
    /// period is its one date.
    pub async fn window_period(&self, requested: Option<(Date, Date)>) -> Result<(Period, ReportType), StoreError> {
        if let Some((start, end)) = requested {
            let known = self.audit_periods().await?;
            return known
                .iter()
                .find(|p| p.period == Period { start, end })
                .map(|p| (p.period, p.report_type))
                .ok_or_else(|| {
                    let list: Vec<String> = known
                        .iter()
                        .map(|p| format!("{}..{}", format_date(p.period.start), format_date(p.period.end)))
                        .collect();
                    field(
                        "period",
                        format!(
                            "no report period {}..{} (known: {})",
                            format_date(start),
                            format_date(end),
                            if list.is_empty() {
                                "none".to_string()
                            } else {
                                list.join(", ")
                            }
                        ),
                    )
                });
        }
        let scope = self.scope().await?.scope.ok_or(StoreError::NoScope)?;
        Ok(match scope.period {
            AuditPeriod::Window { from, to } => (Period { start: from, end: to }, scope.report_type),
            AuditPeriod::AsOf(d) => (Period { start: d, end: d }, ReportType::Type1),
        })
    }

    /// The window as of `req.as_of` (today, within the period, when not given).
    pub async fn window(&self, req: &WindowRequest, today: Date) -> Result<Window, StoreError> {
        let input = self.window_input(req, today).await?;
        tokio::task::spawn_blocking(move || window::observe(&input))
            .await
            .map_err(|e| StoreError::Config(format!("window engine: {e}")))
    }

    /// Everything the window engine reads, loaded.
    pub async fn window_input(&self, req: &WindowRequest, today: Date) -> Result<Input, StoreError> {
        let (period, report_type) = self.window_period(req.period).await?;
        let as_of = match req.as_of {
            Some(d) => {
                window::check_as_of(period, d).map_err(|e| field(e.field, e.reason))?;
                d
            }
            None => today.clamp(period.start, period.end),
        };
        self.ensure_check_spans().await?;
        let from_ms = day_start_ms(period.start);
        let to_ms = day_start_ms(as_of) + DAY_MS;
        let pool = &self.db.pool;

        let (program, params, exclusions, events, training) = tokio::try_join!(
            self.program(),
            self.parameters(),
            self.exclusions(),
            self.records(&EVENTS),
            self.records(&TRAINING),
        )?;
        let in_scope = self.scope_categories().await?;
        let framework = &Catalog::builtin().framework;
        let criteria: Vec<String> = framework
            .criteria
            .iter()
            .filter(|c| in_scope.as_ref().is_none_or(|s| s.contains(&c.category)))
            .map(|c| c.id.clone())
            .collect();

        let applicable: Vec<&evident_core::Control> = program
            .controls
            .iter()
            .filter(|c| crate::applicability_of(c, in_scope.as_ref()).applicable)
            .collect();
        let controls: Vec<ControlInput> = applicable
            .iter()
            .map(|c| ControlInput {
                code: c.code.clone(),
                title: c.title.clone(),
                frequency: c.frequency,
                owner: c.owner_email.clone(),
                criteria: c.criteria.clone(),
                attested_by: c.template().map(|t| t.attested_by.clone()).unwrap_or_default(),
                requirements: c.evidence.clone(),
            })
            .collect();

        // Dated proofs: evidence, events, risk reviews, policy approvals, training.
        let (mut proofs, evidence) = evidence_inputs(&program.evidence);
        for ev in &events {
            let r = &ev.record;
            let (Some(d), Some(kind)) = (r.get("date").as_date(), r.get("kind").as_str()) else {
                continue;
            };
            let Ok(attester) = Attester::parse(kind) else { continue };
            proofs.push(Proof {
                date: d,
                source: ProofSource::Record(attester),
                reference: r.get("id").to_text(),
                title: r.get("title").as_str().unwrap_or_default().to_string(),
                controls: r.get("controls").as_list().to_vec(),
            });
        }
        for r in sqlx::query(SELECT_RISK_REVIEWS).fetch_all(pool).await? {
            let Some(d) = date_of_ms(r.try_get("at")?) else {
                continue;
            };
            let risk: String = r.try_get("risk")?;
            proofs.push(Proof {
                date: d,
                source: ProofSource::Record(Attester::RiskReview),
                title: format!("Review of risk {risk}"),
                reference: risk,
                controls: Vec::new(),
            });
        }
        for p in &program.policies {
            for v in &p.versions {
                let Some(d) = v.approved_at.and_then(date_of_ms) else {
                    continue;
                };
                proofs.push(Proof {
                    date: d,
                    source: ProofSource::Record(Attester::PolicyReview),
                    reference: format!("{} v{}", p.id, v.version),
                    title: format!("{} version {} approved", p.title, v.version),
                    controls: Vec::new(),
                });
            }
        }
        // One proof per day of training completions: what matters is that training ran.
        let mut training_days: BTreeMap<Date, usize> = BTreeMap::new();
        for t in &training {
            if let Some(d) = t.record.get("completed_on").as_date() {
                *training_days.entry(d).or_default() += 1;
            }
        }
        for (d, n) in training_days {
            proofs.push(Proof {
                date: d,
                source: ProofSource::Record(Attester::Training),
                reference: format_date(d),
                title: format!("{n} training completion(s)"),
                controls: Vec::new(),
            });
        }

        // Checks: runs per day, reporting before, spans, population.
        let mut codes_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in &applicable {
            for check in c.checks() {
                codes_of.entry(check.as_str()).or_default().push(c.code.clone());
            }
        }
        let rules = self.rules()?;
        let mut checks: Vec<CheckInput> = BUILTIN
            .iter()
            .map(|c| CheckInput {
                id: c.id.into(),
                title: c.title.into(),
                remediation: c.remediation,
                controls: codes_of.remove(c.id).unwrap_or_default(),
                days: Vec::new(),
                data_before: false,
                spans: Vec::new(),
                population: 0,
            })
            .chain(rules.iter().map(|r| CheckInput {
                id: r.id.clone(),
                title: r.title.clone(),
                remediation: evident_core::checks::Remediation::GRACE,
                controls: r.controls.clone(),
                days: Vec::new(),
                data_before: false,
                spans: Vec::new(),
                population: 0,
            }))
            .collect();
        let index: HashMap<String, usize> = checks.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
        let runs = sqlx::query(SELECT_RUNS)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?;
        for r in runs {
            let Some(&i) = index.get(&r.try_get::<String, _>("check_id")?) else {
                continue;
            };
            let Some(d) = date_of_ms(r.try_get("at")?) else {
                continue;
            };
            let status = match r.try_get::<String, _>("status")?.as_str() {
                "pass" => DayStatus::Pass,
                "fail" => DayStatus::Fail,
                _ => DayStatus::NoData,
            };
            let c = &mut checks[i];
            c.population = c.population.max(r.try_get::<i64, _>("tested")?.max(0) as usize);
            // Runs come in time order: the day's last run decides the day.
            match c.days.last_mut() {
                Some((day, s)) if *day == d => *s = status,
                _ => c.days.push((d, status)),
            }
        }
        for r in sqlx::query(SELECT_REPORTED_BEFORE)
            .bind(from_ms)
            .fetch_all(pool)
            .await?
        {
            if let Some(&i) = index.get(&r.try_get::<String, _>("check_id")?) {
                checks[i].data_before = true;
            }
        }
        for r in sqlx::query(SELECT_SPANS)
            .bind(to_ms)
            .bind(from_ms)
            .fetch_all(pool)
            .await?
        {
            let Some(&i) = index.get(&r.try_get::<String, _>("check_id")?) else {
                continue;
            };
            checks[i].spans.push(Span {
                record: r.try_get("record")?,
                reason: r.try_get("reason")?,
                opened_ms: r.try_get("opened_at")?,
                closed_ms: r.try_get("closed_at")?,
                excluded_ms: r.try_get("excluded_at")?,
            });
        }
        for c in &mut checks {
            c.spans
                .sort_by(|a, b| (a.opened_ms, &a.record).cmp(&(b.opened_ms, &b.record)));
        }

        let mut reporters: Vec<Reporter> = self
            .last_scans()
            .await?
            .into_iter()
            .map(|(source, scope, last)| Reporter {
                check: "scans-recent".into(),
                subject: format!("the {source} scan of {scope}"),
                noun: "scans".into(),
                last_ms: last,
                fails_after_days: 7,
            })
            .collect();
        reporters.extend(self.devices().await?.into_iter().map(|d| Reporter {
            check: "devices-reporting".into(),
            subject: format!("the agent on {}", d.hostname),
            noun: "device agents".into(),
            last_ms: d.last_seen,
            fails_after_days: 7,
        }));

        Ok(Input {
            period,
            as_of,
            report_type,
            controls,
            proofs,
            checks,
            exclusions,
            evidence,
            reporters,
            responses: self.exception_responses(period).await?,
            params: params.into_iter().map(|p| (p.key, p.value)).collect(),
            criteria,
            rule: req.rule,
            sample_exceptions: self.sample_exceptions(period).await?,
        })
    }

    /// Management's responses in a period, by exception, newest first.
    pub async fn exception_responses(&self, period: Period) -> Result<BTreeMap<String, Vec<Response>>, StoreError> {
        let mut out: BTreeMap<String, Vec<Response>> = BTreeMap::new();
        for r in sqlx::query(SELECT_RESPONSES)
            .bind(format_date(period.start))
            .bind(format_date(period.end))
            .fetch_all(&self.db.pool)
            .await?
        {
            out.entry(r.try_get("exception_id")?).or_default().push(Response {
                text: r.try_get("body")?,
                by: r.try_get("created_by")?,
                at: instant(r.try_get("created_at")?),
            });
        }
        Ok(out)
    }

    /// Records management's response to an exception of the period (the scope's own when
    /// `period` is `None`); it supersedes any earlier one, which stays on record.
    pub async fn respond_to_exception(
        &self,
        period: Option<(Date, Date)>,
        exception: &str,
        text: &str,
        today: Date,
    ) -> Result<Response, StoreError> {
        let body = window::check_response(text).map_err(|e| field(e.field, e.reason))?;
        let req = WindowRequest {
            period,
            ..Default::default()
        };
        let w = self.window(&req, today).await?;
        if !w.exceptions.iter().any(|e| e.id == exception) {
            return Err(StoreError::NotFound {
                kind: "exception",
                id: exception.to_string(),
            });
        }
        // The period as the window just resolved it.
        let (start, end) = (&w.period.start, &w.period.end);
        let at = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_RESPONSE)
            .bind(ulid::Ulid::new().to_string())
            .bind(exception)
            .bind(start)
            .bind(end)
            .bind(&body)
            .bind(&self.actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "exceptions.respond",
            &format!("exception:{exception}"),
            json!({"period": format!("{start}..{end}"), "response": body}),
        )
        .await?;
        Ok(Response {
            text: body,
            by: self.actor.clone(),
            at: instant(at),
        })
    }
}
