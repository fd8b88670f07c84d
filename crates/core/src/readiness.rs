//! Readiness: the status of every control in scope with its reasons, the coverage of every
//! criterion, a score anyone can recompute, and the gaps in the order to close them.
//!
//! Score = round(100 × (covered + ½ × partial) / criteria in scope), where a criterion is
//! *covered* when a ready control maps to it, *partial* when none is ready but one is at risk,
//! and *uncovered* otherwise.

use std::collections::BTreeMap;

use evident_catalog::EvidenceRequirement;
use serde::Serialize;
use time::{Date, Duration};

use crate::dates::format_date;
use crate::fix::Fix;
use crate::freshness::{FreshnessState, freshness};

/// An evidence item as readiness sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFact {
    pub id: String,
    /// The requirement it answers; `None` answers every requirement of the control.
    pub requirement: Option<String>,
    /// The effective date, or the end of the period covered.
    pub attests: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFact {
    pub id: String,
    pub failed: usize,
    pub failing: bool,
    /// The first failing run of the current streak (`None`: not failing before now).
    pub failing_since: Option<Date>,
}

/// Days a newly failing check has to be fixed before the control counts as a gap.
pub const DEFAULT_GRACE_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlInput {
    pub code: String,
    pub title: String,
    pub owner: Option<String>,
    pub applicable: bool,
    pub criteria: Vec<String>,
    pub requirements: Vec<EvidenceRequirement>,
    /// Current (not withdrawn, not superseded) evidence linked to the control.
    pub evidence: Vec<EvidenceFact>,
    pub checks: Vec<CheckFact>,
    /// (policy id, approved and published)
    pub policies: Vec<(String, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ready,
    AtRisk,
    Gap,
    NotApplicable,
}

/// Gap kinds, most severe first: the order to close them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    UncoveredCriterion,
    FailingCheck,
    MissingEvidence,
    PolicyNotApproved,
    StaleEvidence,
    MissingOwner,
    ExpiringEvidence,
    FailingCheckInGrace,
}

impl Status {
    /// The wire name (`at_risk`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::AtRisk => "at_risk",
            Status::Gap => "gap",
            Status::NotApplicable => "not_applicable",
        }
    }

    /// How a person reads it: "at risk".
    pub fn label(self) -> String {
        self.as_str().replace('_', " ")
    }
}

impl Severity {
    /// The wire name (`missing_evidence`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::UncoveredCriterion => "uncovered_criterion",
            Severity::FailingCheck => "failing_check",
            Severity::MissingEvidence => "missing_evidence",
            Severity::PolicyNotApproved => "policy_not_approved",
            Severity::StaleEvidence => "stale_evidence",
            Severity::MissingOwner => "missing_owner",
            Severity::ExpiringEvidence => "expiring_evidence",
            Severity::FailingCheckInGrace => "failing_check_in_grace",
        }
    }

    /// How a person reads it: "missing evidence".
    pub fn label(self) -> String {
        self.as_str().replace('_', " ")
    }

    /// Reasons that put a control at risk rather than make it a gap.
    pub fn at_risk_only(self) -> bool {
        matches!(self, Severity::ExpiringEvidence | Severity::FailingCheckInGrace)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub severity: Severity,
    pub text: String,
    /// The step that closes it, in words.
    pub fix: String,
    /// The same step for an entry point to offer (a link, a form, a command).
    pub action: Fix,
    /// What the reason is about: a requirement key, a check id, a policy id.
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlStatus {
    pub control: String,
    pub title: String,
    pub status: Status,
    pub owner: Option<String>,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    Covered,
    Partial,
    Uncovered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionCoverage {
    pub id: String,
    pub status: Coverage,
    pub controls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub severity: Severity,
    pub control: Option<String>,
    pub criterion: Option<String>,
    pub reason: String,
    pub owner: Option<String>,
    pub fix: String,
    pub action: Fix,
    #[serde(skip)]
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub score: u32,
    pub controls: Vec<ControlStatus>,
    pub criteria: Vec<CriterionCoverage>,
    pub gaps: Vec<Gap>,
}

/// The columns of a gap list that leaves Evident (CSV, XLSX), and one gap's cells: one rule
/// for the CLI's `report gaps` and the web's download.
pub const GAP_HEADERS: [&str; 7] = [
    "Severity",
    "Control",
    "Criterion",
    "What is missing",
    "Owner",
    "Fix",
    "Due",
];

impl Gap {
    /// The day the gap should be closed by: its severity's lead time before the window starts
    /// ([`due_date`]), or sooner when what it is about lapses first (evidence about to expire
    /// is due by its expiry), never before today.
    pub fn due(&self, start: Option<Date>, today: Date) -> Date {
        let by_severity = due_date(self.severity, start, today);
        match &self.action {
            Fix::RenewEvidence { before, .. } => crate::parse_date(before)
                .map(|lapses| lapses.min(by_severity).max(today))
                .unwrap_or(by_severity),
            _ => by_severity,
        }
    }

    pub fn cells(&self, due: Date) -> Vec<String> {
        vec![
            self.severity.label(),
            self.control.clone().unwrap_or_default(),
            self.criterion.clone().unwrap_or_default(),
            self.reason.clone(),
            self.owner.clone().unwrap_or_default(),
            self.fix.clone(),
            format_date(due),
        ]
    }
}

impl Readiness {
    pub fn count(&self, status: Status) -> usize {
        self.controls.iter().filter(|c| c.status == status).count()
    }
}

fn reason(severity: Severity, subject: &str, text: String, action: Fix) -> Reason {
    Reason {
        severity,
        subject: subject.to_string(),
        text,
        fix: action.sentence(),
        action,
    }
}

/// One control's status and every reason for it; a check failing for less than `grace_days`
/// puts the control at risk rather than making it a gap.
pub fn control_status(c: &ControlInput, today: Date, grace_days: i64) -> ControlStatus {
    let mut reasons = Vec::new();
    if !c.applicable {
        return ControlStatus {
            control: c.code.clone(),
            title: c.title.clone(),
            status: Status::NotApplicable,
            owner: c.owner.clone(),
            reasons,
        };
    }
    for check in c.checks.iter().filter(|k| k.failing) {
        let since = check.failing_since.unwrap_or(today);
        let grace_ends = since + Duration::days(grace_days);
        let fix = Fix::FixCheck {
            check: check.id.clone(),
            control: c.code.clone(),
        };
        let (severity, text) = if grace_ends > today {
            (
                Severity::FailingCheckInGrace,
                format!(
                    "check {} failing on {} record(s) since {} (grace until {})",
                    check.id,
                    check.failed,
                    format_date(since),
                    format_date(grace_ends)
                ),
            )
        } else {
            (
                Severity::FailingCheck,
                format!(
                    "check {} failing on {} record(s) since {}",
                    check.id,
                    check.failed,
                    format_date(since)
                ),
            )
        };
        reasons.push(reason(severity, &check.id, text, fix));
    }
    for req in &c.requirements {
        let answering: Vec<&EvidenceFact> = c
            .evidence
            .iter()
            .filter(|e| e.requirement.as_deref().is_none_or(|k| k == req.key))
            .collect();
        let best = answering
            .iter()
            .map(|e| (freshness(e.attests, req.refresh, today), e))
            .max_by_key(|(f, _)| f.valid_until.unwrap_or(Date::MAX));
        match best {
            None => reasons.push(reason(
                Severity::MissingEvidence,
                &req.key,
                format!("missing evidence requirement {} ({})", req.key, req.title),
                Fix::AddEvidence {
                    control: c.code.clone(),
                    requirement: req.key.clone(),
                    title: req.title.clone(),
                },
            )),
            Some((f, e)) => match f.state {
                FreshnessState::Stale => reasons.push(reason(
                    Severity::StaleEvidence,
                    &req.key,
                    format!(
                        "evidence {} for {} stale since {} (refresh {})",
                        e.id,
                        req.key,
                        f.valid_until.map(format_date).unwrap_or_default(),
                        req.refresh
                    ),
                    Fix::ReplaceEvidence {
                        control: c.code.clone(),
                        requirement: req.key.clone(),
                        title: req.title.clone(),
                        evidence: e.id.clone(),
                    },
                )),
                FreshnessState::ExpiringSoon => reasons.push(reason(
                    Severity::ExpiringEvidence,
                    &req.key,
                    format!(
                        "evidence {} for {} expires {}",
                        e.id,
                        req.key,
                        f.valid_until.map(format_date).unwrap_or_default()
                    ),
                    Fix::RenewEvidence {
                        control: c.code.clone(),
                        requirement: req.key.clone(),
                        title: req.title.clone(),
                        before: f.valid_until.map(format_date).unwrap_or_default(),
                    },
                )),
                FreshnessState::Current | FreshnessState::PerEvent => {}
            },
        }
    }
    for (policy, ok) in &c.policies {
        if !ok {
            reasons.push(reason(
                Severity::PolicyNotApproved,
                policy,
                format!("linked policy {policy} not approved and published"),
                Fix::PublishPolicy {
                    policy: policy.clone(),
                    control: c.code.clone(),
                },
            ));
        }
    }
    if c.owner.is_none() {
        reasons.push(reason(
            Severity::MissingOwner,
            "owner",
            "no owner".into(),
            Fix::SetOwner {
                control: c.code.clone(),
            },
        ));
    }
    reasons.sort_by_key(|r| r.severity);
    let status = if reasons.iter().any(|r| !r.severity.at_risk_only()) {
        Status::Gap
    } else if reasons.is_empty() {
        Status::Ready
    } else {
        Status::AtRisk
    };
    ControlStatus {
        control: c.code.clone(),
        title: c.title.clone(),
        status,
        owner: c.owner.clone(),
        reasons,
    }
}

/// `criteria` are the criteria in scope, in catalog order.
pub fn assess(controls: &[ControlInput], criteria: &[String], today: Date, grace_days: i64) -> Readiness {
    let statuses: Vec<ControlStatus> = controls.iter().map(|c| control_status(c, today, grace_days)).collect();
    let by_code: BTreeMap<&str, &ControlStatus> = statuses.iter().map(|s| (s.control.as_str(), s)).collect();
    let mut coverage = Vec::new();
    let mut gaps = Vec::new();
    for k in criteria {
        let mapped: Vec<&ControlInput> = controls
            .iter()
            .filter(|c| c.applicable && c.criteria.contains(k))
            .collect();
        let status_of = |c: &ControlInput| by_code[c.code.as_str()].status;
        let status = if mapped.iter().any(|c| status_of(c) == Status::Ready) {
            Coverage::Covered
        } else if mapped.iter().any(|c| status_of(c) == Status::AtRisk) {
            Coverage::Partial
        } else {
            Coverage::Uncovered
        };
        if status == Coverage::Uncovered {
            let action = if mapped.is_empty() {
                Fix::CoverCriterion { criterion: k.clone() }
            } else {
                Fix::CloseControls {
                    criterion: k.clone(),
                    controls: mapped.iter().map(|c| c.code.clone()).collect(),
                }
            };
            gaps.push(Gap {
                severity: Severity::UncoveredCriterion,
                control: None,
                criterion: Some(k.clone()),
                reason: if mapped.is_empty() {
                    format!("{k}: no applicable control maps to it")
                } else {
                    format!("{k}: none of its {} control(s) is ready", mapped.len())
                },
                owner: None,
                fix: action.sentence(),
                action,
                subject: k.clone(),
            });
        }
        coverage.push(CriterionCoverage {
            id: k.clone(),
            status,
            controls: mapped.iter().map(|c| c.code.clone()).collect(),
        });
    }
    for s in &statuses {
        for r in &s.reasons {
            gaps.push(Gap {
                severity: r.severity,
                control: Some(s.control.clone()),
                criterion: None,
                reason: r.text.clone(),
                owner: s.owner.clone(),
                fix: r.fix.clone(),
                action: r.action.clone(),
                subject: r.subject.clone(),
            });
        }
    }
    gaps.sort_by(|a, b| (a.severity, &a.control, &a.criterion).cmp(&(b.severity, &b.control, &b.criterion)));
    let credit: f64 = coverage
        .iter()
        .map(|c| match c.status {
            Coverage::Covered => 1.0,
            Coverage::Partial => 0.5,
            Coverage::Uncovered => 0.0,
        })
        .sum();
    let score = if coverage.is_empty() {
        0
    } else {
        (100.0 * credit / coverage.len() as f64).round() as u32
    };
    Readiness {
        score,
        controls: statuses,
        criteria: coverage,
        gaps,
    }
}

/// One owner's share of the gaps that block the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerGaps {
    /// `None`: gaps nobody owns yet.
    pub owner: Option<String>,
    pub gaps: usize,
    /// The most severe of them.
    pub worst: Severity,
}

impl Gap {
    /// Whether the gap stands between the program and the audit. What only puts a control at
    /// risk (evidence about to expire, a check failing within its grace) does not, yet.
    pub fn blocks_audit(&self) -> bool {
        !self.severity.at_risk_only()
    }
}

/// The gaps blocking the audit, rolled up by owner: the unowned first (someone must pick
/// them up), then the owners with most gaps.
pub fn blocking_by_owner<'a>(gaps: impl IntoIterator<Item = &'a Gap>) -> Vec<OwnerGaps> {
    let mut by: BTreeMap<Option<&str>, (usize, Severity)> = BTreeMap::new();
    for g in gaps.into_iter().filter(|g| g.blocks_audit()) {
        let e = by.entry(g.owner.as_deref()).or_insert((0, g.severity));
        e.0 += 1;
        e.1 = e.1.min(g.severity);
    }
    let mut out: Vec<OwnerGaps> = by
        .into_iter()
        .map(|(owner, (gaps, worst))| OwnerGaps {
            owner: owner.map(String::from),
            gaps,
            worst,
        })
        .collect();
    out.sort_by(|a, b| {
        a.owner
            .is_some()
            .cmp(&b.owner.is_some())
            .then(b.gaps.cmp(&a.gaps))
            .then(a.owner.cmp(&b.owner))
    });
    out
}

/// When a gap's remediation task should be due: the worst gaps first, all before `start`
/// (the audit date or window start), never before `today`.
pub fn due_date(severity: Severity, start: Option<Date>, today: Date) -> Date {
    let lead = match severity {
        Severity::MissingOwner => 75,
        Severity::UncoveredCriterion | Severity::FailingCheck => 60,
        Severity::MissingEvidence | Severity::PolicyNotApproved => 45,
        Severity::StaleEvidence => 30,
        Severity::ExpiringEvidence | Severity::FailingCheckInGrace => 14,
    };
    match start {
        Some(s) => (s - Duration::days(lead)).max(today),
        None => today + Duration::days(90 - lead / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evident_catalog::Refresh;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn req(key: &str, refresh: Refresh) -> EvidenceRequirement {
        EvidenceRequirement {
            key: key.into(),
            title: format!("{key} export"),
            refresh,
        }
    }

    fn failing(since: Option<Date>) -> CheckFact {
        CheckFact {
            id: "mfa".into(),
            failed: 3,
            failing: true,
            failing_since: since,
        }
    }

    fn ready(code: &str, criteria: &[&str]) -> ControlInput {
        ControlInput {
            code: code.into(),
            title: code.into(),
            owner: Some("owner@x.io".into()),
            applicable: true,
            criteria: criteria.iter().map(|c| c.to_string()).collect(),
            requirements: vec![req("review", Refresh::Quarterly)],
            evidence: vec![EvidenceFact {
                id: "E1".into(),
                requirement: Some("review".into()),
                attests: date!(2026 - 11 - 01),
            }],
            checks: vec![],
            policies: vec![],
        }
    }

    #[test]
    fn each_status_and_reason() {
        type Case = (&'static str, fn(&mut ControlInput), Status, Option<Severity>);
        let cases: &[Case] = &[
            ("ready", |_| {}, Status::Ready, None),
            ("not applicable", |c| c.applicable = false, Status::NotApplicable, None),
            (
                "expiring",
                |c| c.evidence[0].attests = date!(2026 - 09 - 01),
                Status::AtRisk,
                Some(Severity::ExpiringEvidence),
            ),
            (
                "stale",
                |c| c.evidence[0].attests = date!(2026 - 06 - 01),
                Status::Gap,
                Some(Severity::StaleEvidence),
            ),
            (
                "missing",
                |c| c.evidence.clear(),
                Status::Gap,
                Some(Severity::MissingEvidence),
            ),
            (
                "other requirement's evidence",
                |c| c.evidence[0].requirement = Some("other".into()),
                Status::Gap,
                Some(Severity::MissingEvidence),
            ),
            (
                "unkeyed evidence answers every requirement",
                |c| c.evidence[0].requirement = None,
                Status::Ready,
                None,
            ),
            (
                "check failing for weeks",
                |c| c.checks.push(failing(Some(date!(2026 - 11 - 01)))),
                Status::Gap,
                Some(Severity::FailingCheck),
            ),
            (
                "check failing since yesterday",
                |c| c.checks.push(failing(Some(date!(2026 - 11 - 22)))),
                Status::AtRisk,
                Some(Severity::FailingCheckInGrace),
            ),
            (
                "check failing for the first time",
                |c| c.checks.push(failing(None)),
                Status::AtRisk,
                Some(Severity::FailingCheckInGrace),
            ),
            (
                "passing check",
                |c| {
                    c.checks.push(CheckFact {
                        id: "mfa".into(),
                        failed: 0,
                        failing: false,
                        failing_since: None,
                    })
                },
                Status::Ready,
                None,
            ),
            (
                "no owner",
                |c| c.owner = None,
                Status::Gap,
                Some(Severity::MissingOwner),
            ),
            (
                "policy draft",
                |c| c.policies.push(("access-control".into(), false)),
                Status::Gap,
                Some(Severity::PolicyNotApproved),
            ),
            (
                "per-event evidence never stale",
                |c| {
                    c.requirements = vec![req("ticket", Refresh::PerEvent)];
                    c.evidence[0] = EvidenceFact {
                        id: "T".into(),
                        requirement: Some("ticket".into()),
                        attests: date!(2020 - 01 - 01),
                    };
                },
                Status::Ready,
                None,
            ),
        ];
        for (name, change, status, first) in cases {
            let mut c = ready("ACC-01", &["CC6.1"]);
            change(&mut c);
            let s = control_status(&c, TODAY, DEFAULT_GRACE_DAYS);
            assert_eq!(s.status, *status, "{name}: {:?}", s.reasons);
            assert_eq!(s.reasons.first().map(|r| r.severity), *first, "{name}");
        }
        let mut c = ready("ACC-01", &["CC6.1"]);
        c.checks.push(CheckFact {
            id: "mfa-human-accounts".into(),
            failed: 3,
            failing: true,
            failing_since: Some(date!(2026 - 11 - 02)),
        });
        assert_eq!(
            control_status(&c, TODAY, DEFAULT_GRACE_DAYS).reasons[0].text,
            "check mfa-human-accounts failing on 3 record(s) since 2026-11-02"
        );
        assert_eq!(
            control_status(&c, TODAY, 30).status,
            Status::AtRisk,
            "a longer grace keeps it at risk"
        );
        c.evidence[0].attests = date!(2026 - 06 - 01);
        assert!(
            control_status(&c, TODAY, DEFAULT_GRACE_DAYS).reasons[1]
                .text
                .contains("stale since 2026-09-01")
        );
    }

    #[test]
    fn coverage_score_and_gap_order() {
        let mut at_risk = ready("B", &["CC2.1"]);
        at_risk.evidence[0].attests = date!(2026 - 09 - 01);
        let mut gap = ready("C", &["CC3.1"]);
        gap.owner = None;
        gap.evidence.clear();
        let mut na = ready("D", &["CC4.1"]);
        na.applicable = false;
        let controls = vec![ready("A", &["CC1.1", "CC2.1"]), at_risk, gap, na];
        let criteria: Vec<String> = ["CC1.1", "CC2.1", "CC3.1", "CC4.1", "CC5.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = assess(&controls, &criteria, TODAY, DEFAULT_GRACE_DAYS);
        let cov: Vec<(&str, Coverage)> = r.criteria.iter().map(|c| (c.id.as_str(), c.status)).collect();
        assert_eq!(
            cov,
            vec![
                ("CC1.1", Coverage::Covered),
                ("CC2.1", Coverage::Covered),
                ("CC3.1", Coverage::Uncovered),
                ("CC4.1", Coverage::Uncovered),
                ("CC5.1", Coverage::Uncovered),
            ]
        );
        // Recomputed by hand from the documented formula: (2 covered + 0.5 × 0 partial) / 5.
        assert_eq!(r.score, 40);
        let only_b = assess(&controls[1..2], &["CC2.1".to_string()], TODAY, DEFAULT_GRACE_DAYS);
        assert_eq!((only_b.criteria[0].status, only_b.score), (Coverage::Partial, 50));
        let order: Vec<Severity> = r.gaps.iter().map(|g| g.severity).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "most severe first");
        assert_eq!(order.first(), Some(&Severity::UncoveredCriterion));
        assert_eq!(order.last(), Some(&Severity::ExpiringEvidence));
        assert_eq!(
            (
                r.count(Status::Ready),
                r.count(Status::AtRisk),
                r.count(Status::Gap),
                r.count(Status::NotApplicable)
            ),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn wire_names_are_what_serde_writes() {
        for s in [Status::Ready, Status::AtRisk, Status::Gap, Status::NotApplicable] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [
            Severity::UncoveredCriterion,
            Severity::FailingCheck,
            Severity::MissingEvidence,
            Severity::PolicyNotApproved,
            Severity::StaleEvidence,
            Severity::MissingOwner,
            Severity::ExpiringEvidence,
            Severity::FailingCheckInGrace,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn expiring_evidence_is_due_by_its_expiry() {
        let gap = |severity, action| Gap {
            severity,
            control: Some("ACC-01".into()),
            criterion: None,
            reason: String::new(),
            owner: None,
            fix: String::new(),
            action,
            subject: String::new(),
        };
        let start = Some(date!(2027 - 06 - 01));
        let renew = |before: &str| Fix::RenewEvidence {
            control: "ACC-01".into(),
            requirement: "r".into(),
            title: "Report".into(),
            before: before.into(),
        };
        let expiring = gap(Severity::ExpiringEvidence, renew("2026-12-14"));
        assert_eq!(
            expiring.due(start, TODAY),
            date!(2026 - 12 - 14),
            "before the window's lead time"
        );
        let later = gap(Severity::ExpiringEvidence, renew("2027-09-01"));
        assert_eq!(
            later.due(start, TODAY),
            due_date(Severity::ExpiringEvidence, start, TODAY)
        );
        let owner = gap(
            Severity::MissingOwner,
            Fix::SetOwner {
                control: "ACC-01".into(),
            },
        );
        assert_eq!(owner.due(start, TODAY), due_date(Severity::MissingOwner, start, TODAY));
    }

    #[test]
    fn due_dates_fall_before_the_audit() {
        let start = Some(date!(2027 - 03 - 01));
        assert_eq!(due_date(Severity::MissingOwner, start, TODAY), date!(2026 - 12 - 16));
        assert!(due_date(Severity::FailingCheck, start, TODAY) < due_date(Severity::StaleEvidence, start, TODAY));
        assert_eq!(
            due_date(Severity::MissingEvidence, Some(date!(2026 - 12 - 01)), TODAY),
            TODAY,
            "never in the past"
        );
    }

    #[test]
    fn blocking_gaps_roll_up_by_owner_unowned_first() {
        let gap = |severity, owner: Option<&str>| Gap {
            severity,
            control: Some("X-1".into()),
            criterion: None,
            reason: String::new(),
            owner: owner.map(String::from),
            fix: String::new(),
            action: Fix::SetOwner { control: "X-1".into() },
            subject: String::new(),
        };
        let gaps = [
            gap(Severity::MissingEvidence, Some("b@x.example")),
            gap(Severity::FailingCheck, Some("b@x.example")),
            gap(Severity::MissingEvidence, Some("a@x.example")),
            gap(Severity::MissingOwner, None),
            // At risk only: not blocking, so it adds no owner line.
            gap(Severity::ExpiringEvidence, Some("c@x.example")),
        ];
        let rolled = blocking_by_owner(&gaps);
        let lines: Vec<(Option<&str>, usize, Severity)> =
            rolled.iter().map(|o| (o.owner.as_deref(), o.gaps, o.worst)).collect();
        assert_eq!(
            lines,
            [
                (None, 1, Severity::MissingOwner),
                (Some("b@x.example"), 2, Severity::FailingCheck),
                (Some("a@x.example"), 1, Severity::MissingEvidence),
            ]
        );
    }
}
