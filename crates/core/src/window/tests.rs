use std::collections::BTreeMap;

use evident_catalog::{Attester, EvidenceRequirement, Frequency, Refresh};
use time::Date;
use time::macros::date;

use super::*;
use crate::checks::{Exclusion, Remediation};
use crate::scope::ReportType;

const DAY: i64 = 86_400_000;

fn ms(d: Date) -> i64 {
    crate::day_start_ms(d)
}

fn control(code: &str, frequency: Frequency, criteria: &[&str]) -> ControlInput {
    ControlInput {
        code: code.into(),
        title: format!("{code} title"),
        frequency,
        owner: Some(format!("{}@example.com", code.to_lowercase())),
        criteria: criteria.iter().map(|s| s.to_string()).collect(),
        attested_by: Vec::new(),
        requirements: vec![EvidenceRequirement {
            key: "record".into(),
            title: "Signed review record".into(),
            refresh: Refresh::Quarterly,
        }],
    }
}

fn input(start: Date, end: Date, as_of: Date) -> Input {
    Input {
        period: Period { start, end },
        as_of,
        report_type: ReportType::Type2,
        controls: Vec::new(),
        proofs: Vec::new(),
        checks: Vec::new(),
        exclusions: Vec::new(),
        evidence: Vec::new(),
        reporters: Vec::new(),
        responses: BTreeMap::new(),
        params: BTreeMap::new(),
        criteria: Vec::new(),
        rule: OpinionRule::default(),
        sample_exceptions: Vec::new(),
    }
}

fn proof(d: Date, source: ProofSource, controls: &[&str]) -> Proof {
    Proof {
        date: d,
        source,
        reference: format!("P-{d}"),
        title: "proof".into(),
        controls: controls.iter().map(|s| s.to_string()).collect(),
    }
}

fn daily(from: Date, to: Date, status: DayStatus) -> Vec<(Date, DayStatus)> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push((d, status));
        d = d.next_day().unwrap();
    }
    out
}

fn check(id: &str, remediation: Remediation, controls: &[&str], spans: Vec<Span>) -> CheckInput {
    CheckInput {
        id: id.into(),
        title: format!("{id} title"),
        remediation,
        controls: controls.iter().map(|s| s.to_string()).collect(),
        days: daily(date!(2026 - 01 - 01), date!(2026 - 06 - 30), DayStatus::Pass),
        data_before: true,
        spans,
        population: 100,
    }
}

fn span(record: &str, opened: i64, closed: Option<i64>) -> Span {
    Span {
        record: record.into(),
        reason: format!("{record} fails"),
        opened_ms: opened,
        closed_ms: closed,
        excluded_ms: None,
    }
}

#[test]
fn a_window_is_cut_into_each_frequencys_periods_aligned_to_its_start() {
    let w = Period {
        start: date!(2026 - 02 - 15),
        end: date!(2027 - 02 - 14),
    };
    let cases: &[(Frequency, usize, Date, Date)] = &[
        (Frequency::Annual, 1, date!(2026 - 02 - 15), date!(2027 - 02 - 14)),
        (Frequency::Quarterly, 4, date!(2026 - 05 - 15), date!(2026 - 08 - 14)),
        (Frequency::Monthly, 12, date!(2026 - 03 - 15), date!(2026 - 04 - 14)),
        (Frequency::Weekly, 53, date!(2026 - 02 - 22), date!(2026 - 02 - 28)),
        (Frequency::Daily, 365, date!(2026 - 02 - 16), date!(2026 - 02 - 16)),
        (Frequency::Continuous, 0, w.start, w.end),
        (Frequency::PerEvent, 0, w.start, w.end),
    ];
    for (f, n, second_start, second_end) in cases {
        let p = occurrences(*f, w);
        assert_eq!(p.len(), *n, "{f}");
        if *n > 1 {
            assert_eq!((p[1].start, p[1].end), (*second_start, *second_end), "{f}");
            assert_eq!(
                p.last().unwrap().end,
                w.end,
                "{f}: the last period stops at the window's end"
            );
            for pair in p.windows(2) {
                assert_eq!(pair[0].end.next_day(), Some(pair[1].start), "{f}: no gap, no overlap");
            }
        }
    }
    // 53 weeks in 365 days: the last one is a single day.
    let weeks = occurrences(Frequency::Weekly, w);
    assert_eq!(weeks.last().unwrap().days(), 1);
}

#[test]
fn every_period_status_is_reached() {
    // Quarterly from January; as of 15 August: Q1 met, Q2 missed, Q3 pending, Q4 upcoming.
    let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), date!(2026 - 08 - 15));
    let mut c = control("ACC-08", Frequency::Quarterly, &["CC6.1"]);
    c.attested_by = vec![Attester::AccessReview];
    i.controls = vec![c];
    i.proofs = vec![
        proof(date!(2026 - 02 - 10), ProofSource::Record(Attester::AccessReview), &[]),
        // Not for this control: another kind, naming no control.
        proof(date!(2026 - 05 - 10), ProofSource::Record(Attester::DrTest), &[]),
        // After as_of: ignored, even though it falls in Q3.
        proof(date!(2026 - 09 - 01), ProofSource::Evidence, &["ACC-08"]),
    ];
    let w = observe(&i);
    let statuses: Vec<_> = w.controls[0].periods.iter().map(|p| p.status).collect();
    assert_eq!(
        statuses,
        [
            OccurrenceStatus::Met,
            OccurrenceStatus::Missed,
            OccurrenceStatus::Pending,
            OccurrenceStatus::Upcoming
        ]
    );
    assert_eq!(w.controls[0].periods[0].evidence[0].source, "access_review");
    assert_eq!(w.controls[0].deviations, 1);
    assert_eq!(w.controls[0].deviation_rate, 0.5, "one missed of two elapsed");
    let missed = &w.exceptions[0];
    assert_eq!(missed.kind, ExceptionKind::MissedPeriod);
    assert_eq!(missed.first_failed, "2026-04-01");
    assert_eq!(missed.deadline.as_deref(), Some("2026-06-30"));
    assert_eq!(missed.owner.as_deref(), Some("acc-08@example.com"));

    // Evidence naming the control attests just as well.
    i.proofs
        .push(proof(date!(2026 - 06 - 30), ProofSource::Evidence, &["acc-08"]));
    let w = observe(&i);
    assert_eq!(w.controls[0].periods[1].status, OccurrenceStatus::Met);
    assert!(w.exceptions.is_empty());
}

#[test]
fn every_record_status_is_reached_against_its_deadline() {
    let jan = |d: u8| ms(Date::from_calendar_date(2026, time::Month::January, d).unwrap());
    let grace = Remediation::GRACE; // 7 days unless the parameter says otherwise
    // (remediation, opened, closed, excluded, expected status, exception days)
    type Case = (Remediation, i64, Option<i64>, Option<i64>, RecordStatus, Option<i64>);
    let cases: &[Case] = &[
        (grace, jan(5), Some(jan(10)), None, RecordStatus::RemediatedInTime, None),
        (grace, jan(5), Some(jan(12)), None, RecordStatus::RemediatedInTime, None),
        (grace, jan(5), Some(jan(20)), None, RecordStatus::FixedLate, Some(15)),
        (grace, jan(5), None, None, RecordStatus::OpenPastDeadline, Some(27)),
        (grace, jan(28), None, None, RecordStatus::OpenWithinDeadline, None),
        (grace, jan(5), None, Some(jan(6)), RecordStatus::Excluded, None),
        (
            Remediation::Overdue,
            jan(5),
            Some(jan(6)),
            None,
            RecordStatus::FixedLate,
            Some(1),
        ),
        (
            Remediation::PerEvent,
            jan(5),
            None,
            None,
            RecordStatus::PerEvent,
            Some(1),
        ),
    ];
    for (n, (rem, opened, closed, excluded, want, days)) in cases.iter().enumerate() {
        let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), date!(2026 - 01 - 31));
        i.controls = vec![control("ACC-02", Frequency::Continuous, &["CC6.1"])];
        let mut s = span("okta:ana@example.com", *opened, *closed);
        s.excluded_ms = *excluded;
        let mut c = check("mfa", *rem, &["ACC-02"], vec![s]);
        c.days = daily(date!(2026 - 01 - 01), date!(2026 - 01 - 31), DayStatus::Pass);
        i.checks = vec![c];
        i.exclusions = vec![Exclusion {
            check: "mfa".into(),
            record: "OKTA:ana@example.com".into(),
            reason: "break-glass account kept offline".into(),
            owner: "sec@example.com".into(),
            expires: date!(2026 - 12 - 31),
        }];
        let w = observe(&i);
        let r = &w.checks[0].records[0];
        assert_eq!(r.status, *want, "case {n}");
        assert_eq!(r.exception.is_some(), days.is_some(), "case {n}");
        assert_eq!(w.exceptions.len(), usize::from(days.is_some()), "case {n}");
        if let Some(d) = days {
            assert_eq!(w.exceptions[0].days, *d, "case {n}");
            assert_eq!(w.controls[0].deviations, 1, "case {n}");
            assert_eq!(
                w.controls[0].deviation_rate, 0.01,
                "case {n}: one of a population of 100"
            );
        }
        if *want == RecordStatus::Excluded {
            let x = r.exclusion.as_ref().expect("the exclusion is shown");
            assert_eq!(
                (x.owner.as_str(), x.expires.as_str()),
                ("sec@example.com", "2026-12-31")
            );
        }
    }
}

#[test]
fn the_deadline_follows_the_policy_parameter() {
    let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), date!(2026 - 01 - 31));
    i.controls = vec![control("ACC-02", Frequency::Continuous, &["CC6.1"])];
    let opened = ms(date!(2026 - 01 - 05));
    i.checks = vec![check(
        "mfa",
        Remediation::GRACE,
        &["ACC-02"],
        vec![span("a", opened, Some(opened + 10 * DAY))],
    )];
    assert_eq!(observe(&i).checks[0].records[0].status, RecordStatus::FixedLate);
    i.params.insert("check_failure_grace_days".into(), "14".into());
    assert_eq!(observe(&i).checks[0].records[0].status, RecordStatus::RemediatedInTime);
}

#[test]
fn spans_outside_the_window_or_after_as_of_are_not_read() {
    let mut i = input(date!(2026 - 03 - 01), date!(2026 - 12 - 31), date!(2026 - 04 - 30));
    i.controls = vec![control("ACC-02", Frequency::Continuous, &["CC6.1"])];
    i.checks = vec![check(
        "mfa",
        Remediation::Overdue,
        &["ACC-02"],
        vec![
            // Fixed before the window opened.
            span("before", ms(date!(2026 - 01 - 05)), Some(ms(date!(2026 - 02 - 01)))),
            // Failing from before the window and fixed inside it: late, inside the window.
            span("across", ms(date!(2026 - 02 - 20)), Some(ms(date!(2026 - 03 - 03)))),
            // Fixed after as_of: still open as of then.
            span("later", ms(date!(2026 - 04 - 01)), Some(ms(date!(2026 - 05 - 10)))),
            // Opened after as_of.
            span("future", ms(date!(2026 - 05 - 05)), None),
        ],
    )];
    let w = observe(&i);
    let got: Vec<_> = w.checks[0]
        .records
        .iter()
        .map(|r| (r.record.as_str(), r.status, r.fixed.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("across", RecordStatus::FixedLate, Some("2026-03-03".to_string())),
            ("later", RecordStatus::OpenPastDeadline, None)
        ]
    );
}

#[test]
fn days_without_data_are_gaps_in_the_evidence_never_passes() {
    let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), date!(2026 - 01 - 20));
    i.controls = vec![control("END-01", Frequency::Continuous, &["CC6.8"])];
    let mut c = check("devices-encrypted", Remediation::GRACE, &["END-01"], Vec::new());
    c.data_before = false;
    // Nothing until the 3rd (not yet reporting: no gap), pass to the 9th, silent 10th–12th,
    // no_data on the 13th, pass again from the 14th, and no run yet today (the 20th).
    c.days = daily(date!(2026 - 01 - 03), date!(2026 - 01 - 09), DayStatus::Pass);
    c.days.push((date!(2026 - 01 - 13), DayStatus::NoData));
    c.days
        .extend(daily(date!(2026 - 01 - 14), date!(2026 - 01 - 19), DayStatus::Pass));
    i.checks = vec![c];
    let w = observe(&i);
    assert_eq!(w.checks[0].days.len(), 20, "every day of the window up to as_of");
    assert_eq!(w.checks[0].no_data_days, 2 + 4 + 1);
    assert_eq!(w.exceptions.len(), 1);
    let gap = &w.exceptions[0];
    assert_eq!(gap.kind, ExceptionKind::NoEvidence);
    assert_eq!((gap.first_failed.as_str(), gap.days), ("2026-01-10", 4));
    assert_eq!(gap.fixed.as_deref(), Some("2026-01-14"));
    // 4 silent days of the 17 it was expected to report (3rd to 19th).
    assert!((w.controls[0].deviation_rate - 4.0 / 17.0).abs() < 1e-9);
}

#[test]
fn responses_attach_to_their_exception_newest_first() {
    let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), date!(2026 - 08 - 15));
    i.controls = vec![control("ACC-08", Frequency::Quarterly, &["CC6.1"])];
    let first = observe(&i);
    let id = first.exceptions[0].id.clone();
    let r = |text: &str| Response {
        text: text.into(),
        by: "cto@example.com".into(),
        at: "2026-08-15 10:00 UTC".into(),
    };
    i.responses.insert(id.clone(), vec![r("second"), r("first")]);
    let w = observe(&i);
    let e = w.exceptions.iter().find(|e| e.id == id).unwrap();
    assert_eq!(e.response.as_ref().unwrap().text, "second");
    assert_eq!(e.earlier_responses.len(), 1);
    // A later reading keeps the same id for the same missed quarter.
    i.as_of = date!(2026 - 11 - 30);
    assert!(observe(&i).exceptions.iter().any(|e| e.id == id));
}

#[test]
fn the_forecast_names_each_thing_that_will_surface_before_the_end() {
    let as_of = date!(2026 - 09 - 10);
    let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), as_of);
    i.controls = vec![
        control("ACC-08", Frequency::Quarterly, &["CC6.1"]),
        control("ACC-02", Frequency::Continuous, &["CC6.1"]),
        control("VUL-01", Frequency::Continuous, &["CC7.1"]),
    ];
    // The Q3 period ends on 30 September with nothing attesting to it.
    i.proofs = vec![
        proof(date!(2026 - 02 - 01), ProofSource::Evidence, &["ACC-08"]),
        proof(date!(2026 - 05 - 01), ProofSource::Evidence, &["ACC-08"]),
        proof(date!(2026 - 08 - 01), ProofSource::Evidence, &["ACC-02"]),
    ];
    // A record failing since yesterday: its 7-day deadline falls inside the window.
    let mut c = check(
        "mfa",
        Remediation::GRACE,
        &["ACC-02"],
        vec![span("bob", ms(as_of) - DAY, None)],
    );
    c.days = daily(date!(2026 - 01 - 01), as_of, DayStatus::Pass);
    let mut scans = check("scans-recent", Remediation::Overdue, &["VUL-01"], Vec::new());
    scans.days = daily(date!(2026 - 01 - 01), as_of, DayStatus::Pass);
    i.checks = vec![c, scans];
    // Quarterly evidence attesting to 1 August stops counting on 1 November.
    i.evidence = vec![EvidenceDate {
        control: "ACC-02".into(),
        requirement: Some("record".into()),
        id: "01EVID".into(),
        attests: date!(2026 - 08 - 01),
    }];
    // The scanner went quiet three days ago.
    i.reporters = vec![Reporter {
        check: "scans-recent".into(),
        subject: "trivy on api".into(),
        noun: "scans".into(),
        last_ms: ms(as_of) - 3 * DAY,
        fails_after_days: 7,
    }];
    let w = observe(&i);
    let got: Vec<_> = w
        .forecast
        .iter()
        .map(|f| (f.kind, f.date.as_str(), f.control.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (ForecastKind::StoppedReporting, "2026-09-14", Some("VUL-01")),
            (ForecastKind::DeadlineInWindow, "2026-09-16", Some("ACC-02")),
            (ForecastKind::PeriodEnding, "2026-09-30", Some("ACC-08")),
            (ForecastKind::EvidenceExpires, "2026-11-01", Some("ACC-02")),
        ]
    );
    assert!(w.forecast.iter().all(|f| f.owner.is_some() && !f.fix_text.is_empty()));
    assert_eq!(w.period.days_left, 112);
}

/// The rule of docs/window.md, recomputed from a window's controls without the engine's code.
fn recompute(w: &Window, criteria: &[&str], rule: OpinionRule) -> (PredictedOpinion, Vec<CriterionOutcome>) {
    let outcomes: Vec<CriterionOutcome> = criteria
        .iter()
        .map(|k| {
            let rates: Vec<(f64, usize)> = w
                .controls
                .iter()
                .filter(|c| c.criteria.iter().any(|x| x == k))
                .map(|c| (c.deviation_rate, c.deviations))
                .collect();
            if rates.is_empty() || rates.iter().any(|(r, _)| *r > rule.tolerable_rate) {
                CriterionOutcome::NotMet
            } else if rates.iter().any(|(_, d)| *d > 0) {
                CriterionOutcome::MetWithExceptions
            } else {
                CriterionOutcome::Met
            }
        })
        .collect();
    let not_met = outcomes.iter().filter(|o| **o == CriterionOutcome::NotMet).count() as f64;
    let opinion = if not_met > 0.0 && not_met / criteria.len() as f64 >= rule.pervasive_share {
        PredictedOpinion::Adverse
    } else if not_met > 0.0 {
        PredictedOpinion::Qualified
    } else {
        PredictedOpinion::Unmodified
    };
    (opinion, outcomes)
}

#[test]
fn every_opinion_outcome_and_the_rule_recomputed_independently() {
    // Eight criteria: one not met is qualified, two (25 % here) are pervasive.
    let criteria = ["CC6.1", "CC6.2", "CC7.1", "CC8.1", "CC1.1", "CC1.2", "CC1.3", "CC1.4"];
    // (missed quarters of ACC-08, late leavers of 100, changes without approval, unmapped criterion, expected)
    let cases = [
        (0, 0, 0, false, PredictedOpinion::Unmodified, [CriterionOutcome::Met; 4]),
        (
            0,
            2,
            0,
            false,
            PredictedOpinion::Unmodified,
            [
                CriterionOutcome::Met,
                CriterionOutcome::MetWithExceptions,
                CriterionOutcome::Met,
                CriterionOutcome::Met,
            ],
        ),
        (
            1,
            0,
            3,
            false,
            PredictedOpinion::Qualified,
            [
                CriterionOutcome::NotMet,
                CriterionOutcome::Met,
                CriterionOutcome::Met,
                CriterionOutcome::MetWithExceptions,
            ],
        ),
        (
            1,
            12,
            0,
            false,
            PredictedOpinion::Adverse,
            [
                CriterionOutcome::NotMet,
                CriterionOutcome::NotMet,
                CriterionOutcome::Met,
                CriterionOutcome::Met,
            ],
        ),
        (
            0,
            0,
            0,
            true,
            PredictedOpinion::Qualified,
            [
                CriterionOutcome::Met,
                CriterionOutcome::Met,
                CriterionOutcome::Met,
                CriterionOutcome::NotMet,
            ],
        ),
    ];
    for (n, (missed, late, unapproved, unmapped, want, outcomes)) in cases.into_iter().enumerate() {
        let as_of = date!(2026 - 07 - 15);
        let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), as_of);
        i.rule = OpinionRule {
            tolerable_rate: 0.05,
            pervasive_share: 0.25,
        };
        i.criteria = criteria.iter().map(|s| s.to_string()).collect();
        i.controls = vec![
            control("ACC-08", Frequency::Quarterly, &["CC6.1"]),
            control("ACC-07", Frequency::Continuous, &["CC6.2"]),
            control("VUL-01", Frequency::Continuous, &["CC7.1"]),
            control("GOV-01", Frequency::Continuous, &["CC1.1", "CC1.2", "CC1.3", "CC1.4"]),
        ];
        if !unmapped {
            i.controls.push(control("CHG-01", Frequency::Continuous, &["CC8.1"]));
        }
        for q in [date!(2026 - 02 - 01), date!(2026 - 05 - 01)].into_iter().skip(missed) {
            i.proofs.push(proof(q, ProofSource::Evidence, &["ACC-08"]));
        }
        i.proofs
            .push(proof(date!(2026 - 07 - 01), ProofSource::Evidence, &["ACC-08"]));
        let leaver = |k: usize| {
            let at = ms(date!(2026 - 03 - 01)) + k as i64 * DAY;
            span(&format!("leaver{k}"), at, Some(at + 2 * DAY))
        };
        i.checks = vec![
            check(
                "leaver-accounts-disabled",
                Remediation::Overdue,
                &["ACC-07"],
                (0..late).map(leaver).collect(),
            ),
            check(
                "changes-independently-approved",
                Remediation::PerEvent,
                &["CHG-01"],
                (0..unapproved)
                    .map(|k| span(&format!("pr{k}"), ms(date!(2026 - 04 - 01)), None))
                    .collect(),
            ),
        ];
        i.checks[1].population = 2000;
        for c in &mut i.checks {
            c.days = daily(date!(2026 - 01 - 01), as_of, DayStatus::Pass);
        }
        let w = observe(&i);
        let got: Vec<_> = w.opinion.criteria.iter().map(|c| c.result).collect();
        let mut outcomes = outcomes.to_vec();
        outcomes.extend([CriterionOutcome::Met; 4]);
        assert_eq!(w.opinion.predicted, want, "case {n}");
        assert_eq!(got, outcomes, "case {n}");
        assert_eq!(recompute(&w, &criteria, i.rule), (want, outcomes), "case {n}");
        assert!(w.opinion.label.contains("not an auditor's opinion"));
        for c in w.opinion.criteria.iter().filter(|c| c.result != CriterionOutcome::Met) {
            assert!(
                unmapped && c.criterion == "CC8.1" || !c.exceptions.is_empty(),
                "case {n}: {} names the exceptions that drive it",
                c.criterion
            );
        }
    }
}

#[test]
fn a_type_1_scope_reads_design_on_its_date() {
    let d = date!(2026 - 06 - 30);
    let mut i = input(d, d, d);
    i.report_type = ReportType::Type1;
    i.rule.pervasive_share = 0.25;
    // Five criteria: one not met is qualified, not yet pervasive.
    i.criteria = ["CC6.1", "CC6.2", "CC6.3", "CC6.4", "CC7.1"].map(String::from).to_vec();
    i.controls = vec![
        control("ACC-08", Frequency::Quarterly, &["CC6.1", "CC6.2", "CC6.3", "CC6.4"]),
        control("VUL-01", Frequency::Continuous, &["CC7.1"]),
    ];
    i.proofs = vec![proof(date!(2026 - 05 - 01), ProofSource::Evidence, &["ACC-08"])];
    let w = observe(&i);
    assert_eq!(w.controls[0].in_place, Some(true));
    assert_eq!(w.controls[1].in_place, Some(false));
    assert!(w.controls.iter().all(|c| c.periods.is_empty()));
    assert!(w.exceptions.is_empty() && w.forecast.is_empty());
    assert_eq!(w.opinion.predicted, PredictedOpinion::Qualified);
    assert_eq!(w.period.report_type, "type1");
}

#[test]
fn as_of_outside_the_period_is_refused_by_field() {
    let p = Period {
        start: date!(2026 - 01 - 01),
        end: date!(2026 - 12 - 31),
    };
    assert!(check_as_of(p, date!(2026 - 12 - 31)).is_ok());
    let e = check_as_of(p, date!(2027 - 01 - 01)).unwrap_err();
    assert_eq!(e.field, "as_of");
    assert!(e.reason.contains("2026-01-01..2026-12-31"), "{e}");
}

#[test]
fn the_rules_defaults_are_the_documented_ones() {
    let r = OpinionRule::default();
    assert_eq!((r.tolerable_rate, r.pervasive_share), (0.10, 0.5));
    let doc = include_str!("../../../../docs/window.md");
    assert!(
        doc.contains("default 10 %") && doc.contains("default half"),
        "docs/window.md states the defaults"
    );
}

#[test]
fn an_auditors_sample_exception_counts_against_its_control_at_the_samples_rate() {
    let mut i = input(date!(2026 - 01 - 01), date!(2026 - 12 - 31), date!(2026 - 06 - 30));
    i.controls = vec![control("CHG-01", Frequency::PerEvent, &["CC8.1"])];
    i.criteria = vec!["CC8.1".into()];
    let ex = |item: &str, date: &str| crate::fieldwork::SampleException {
        sample: "S1".into(),
        item: item.into(),
        control: "CHG-01".into(),
        date: date.into(),
        note: "approved after merge".into(),
        tested_by: "auditor@firm.example".into(),
        tested_at: "2026-06-20 10:00 UTC".into(),
        sample_size: 10,
    };
    // One in the period up to as_of, one after as_of (not yet read), one of another control.
    let mut other = ex("repo#9", "2026-02-01");
    other.control = "ACC-07".into();
    i.sample_exceptions = vec![ex("repo#1", "2026-03-01"), ex("repo#2", "2026-08-01"), other];
    let w = observe(&i);
    let found: Vec<&Exception> = w
        .exceptions
        .iter()
        .filter(|e| e.kind == ExceptionKind::SampleDeviation)
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record.as_deref(), Some("repo#1"));
    assert_eq!(found[0].owner.as_deref(), Some("chg-01@example.com"));
    assert_eq!(found[0].id, exception_id(&["sample", "S1", "repo#1"]));
    let c = &w.controls[0];
    assert_eq!(c.deviations, 1);
    assert!((c.deviation_rate - 0.1).abs() < 1e-9, "1 of a sample of 10");
}

/// The index the window builds once finds, for every control, exactly the proofs a scan of
/// every proof would: named in any letter case (once, even when named twice), or a record of a
/// kind the control is attested by; none dated after the day read; in input order.
#[test]
fn the_proof_index_finds_what_a_full_scan_finds() {
    let as_of = date!(2026 - 03 - 31);
    let kinds = [
        ProofSource::Evidence,
        ProofSource::Record(Attester::AccessReview),
        ProofSource::Record(Attester::RiskReview),
    ];
    let names: [&[&str]; 5] = [
        &["ACC-01"],
        &["acc-01", "ACC-01"],
        &["OPS-02"],
        &[],
        &["Acc-01", "ops-02"],
    ];
    let mut proofs = Vec::new();
    for n in 0..120u8 {
        let day = date!(2026 - 01 - 01) + time::Duration::days(i64::from(n));
        let mut p = proof(day, kinds[usize::from(n) % 3], names[usize::from(n) % 5]);
        p.reference = format!("P-{n}");
        proofs.push(p);
    }
    let mut reviewed = control("ACC-01", Frequency::Quarterly, &["CC6.2"]);
    reviewed.attested_by = vec![Attester::AccessReview];
    let controls = [
        reviewed,
        control("OPS-02", Frequency::Monthly, &["CC7.1"]),
        control("GOV-09", Frequency::Annual, &["CC1.1"]),
    ];
    let index = ProofIndex::of(&proofs, as_of);
    for c in &controls {
        let scanned: Vec<&str> = proofs
            .iter()
            .filter(|p| {
                p.date <= as_of
                    && (p.controls.iter().any(|k| k.eq_ignore_ascii_case(&c.code))
                        || matches!(p.source, ProofSource::Record(a) if c.attested_by.contains(&a)))
            })
            .map(|p| p.reference.as_str())
            .collect();
        let indexed: Vec<&str> = index
            .for_control(&proofs, c)
            .iter()
            .map(|p| p.reference.as_str())
            .collect();
        assert_eq!(indexed, scanned, "{}", c.code);
    }
    assert!(index.for_control(&proofs, &controls[2]).is_empty());
    assert!(!index.for_control(&proofs, &controls[0]).is_empty());
}
