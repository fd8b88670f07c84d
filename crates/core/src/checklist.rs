//! The pre-audit checklist (the eleven items the guides agree on) and the timeline to the
//! audit, both computed from the program's data.

use serde::Serialize;
use time::{Date, Duration};

use crate::dates::format_date;
use crate::scope::AuditPeriod;

/// What the checklist reads, gathered by the caller.
#[derive(Debug, Clone)]
pub struct ChecklistInput {
    /// (who, when, changed since)
    pub scope_approval: Option<(String, Date, bool)>,
    /// (policy id, published)
    pub policies: Vec<(String, bool)>,
    pub risks: usize,
    pub risks_signed_off: usize,
    pub staff: usize,
    /// Staff with security awareness training in the last 12 months.
    pub staff_trained: usize,
    pub important_vendors: usize,
    /// Critical or high vendors failing their report or review checks.
    pub vendors_lacking: Vec<String>,
    /// Logging controls (centralised logging, alerting) that are ready or at risk.
    pub logging_ok: Vec<String>,
    pub logging_missing: Vec<String>,
    /// `None`: no scan imported yet.
    pub scans_recent: Option<bool>,
    pub vulnerability_policy_published: bool,
    pub last_access_review: Option<Date>,
    pub last_recovery_test: Option<Date>,
    pub last_tabletop: Option<Date>,
    /// Recovery tests and tabletops count when held in the 12 months before this day.
    pub today: Date,
    pub requirements: usize,
    pub requirements_met: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub item: &'static str,
    pub done: bool,
    pub why: String,
}

fn item(item: &'static str, done: bool, why: String) -> ChecklistItem {
    ChecklistItem { item, done, why }
}

/// Done when recorded at all, or (with `since`) recorded on or after that day.
fn dated(last: Option<Date>, since: Option<Date>, what: &str, how: &str) -> (bool, String) {
    match (last, since) {
        (Some(d), Some(s)) if d < s => (
            false,
            format!(
                "last {what} recorded on {}, more than 12 months ago ({how})",
                format_date(d)
            ),
        ),
        (Some(d), _) => (true, format!("{what} recorded on {}", format_date(d))),
        (None, _) => (false, format!("no {what} recorded yet ({how})")),
    }
}

pub fn checklist(i: &ChecklistInput) -> Vec<ChecklistItem> {
    let unpublished: Vec<&str> = i
        .policies
        .iter()
        .filter(|(_, p)| !p)
        .map(|(id, _)| id.as_str())
        .collect();
    let year_ago = Some(i.today - time::Duration::days(365));
    let (access, access_why) = dated(
        i.last_access_review,
        None,
        "access review",
        "add an event of kind access review",
    );
    let (recovery, recovery_why) = dated(
        i.last_recovery_test,
        year_ago,
        "backup restore or DR test",
        "add an event of kind DR test or backup restore test",
    );
    let (tabletop, tabletop_why) = dated(
        i.last_tabletop,
        year_ago,
        "incident response tabletop",
        "add an event of kind tabletop exercise",
    );
    vec![
        match &i.scope_approval {
            Some((by, d, false)) => item(
                "Scope signed by management",
                true,
                format!("approved by {by} on {}", format_date(*d)),
            ),
            Some((by, d, true)) => item(
                "Scope signed by management",
                false,
                format!(
                    "approved by {by} on {}, but the scope changed since: approve it again",
                    format_date(*d)
                ),
            ),
            None => item(
                "Scope signed by management",
                false,
                "no sign-off recorded: management signs the scope off on the scope page".into(),
            ),
        },
        item(
            "Policy suite approved and published",
            !i.policies.is_empty() && unpublished.is_empty(),
            if i.policies.is_empty() {
                "no policies adopted yet".into()
            } else if unpublished.is_empty() {
                format!("all {} policies published", i.policies.len())
            } else {
                format!(
                    "{} of {} not yet published: {}",
                    unpublished.len(),
                    i.policies.len(),
                    unpublished.join(", ")
                )
            },
        ),
        item(
            "Initial risk assessment complete and signed",
            i.risks > 0 && i.risks_signed_off == i.risks,
            if i.risks == 0 {
                "the risk register is empty: adopt the starter risks or add your own".into()
            } else {
                format!(
                    "{} of {} risks signed off by management as they stand",
                    i.risks_signed_off, i.risks
                )
            },
        ),
        item(
            "Security training complete for all staff",
            i.staff > 0 && i.staff_trained == i.staff,
            if i.staff == 0 {
                "no people in the register yet".into()
            } else {
                format!(
                    "{} of {} people trained in the last 12 months",
                    i.staff_trained, i.staff
                )
            },
        ),
        item(
            "Vendor due diligence complete",
            i.important_vendors > 0 && i.vendors_lacking.is_empty(),
            if i.important_vendors == 0 {
                "no critical or high vendors recorded".into()
            } else if i.vendors_lacking.is_empty() {
                format!(
                    "all {} critical and high vendors have a current report and review",
                    i.important_vendors
                )
            } else {
                format!("lacking a current report or review: {}", i.vendors_lacking.join(", "))
            },
        ),
        item(
            "Logging and alerting active",
            i.logging_missing.is_empty() && !i.logging_ok.is_empty(),
            if i.logging_missing.is_empty() {
                format!("{} ready", i.logging_ok.join(", "))
            } else {
                format!("not yet ready: {}", i.logging_missing.join(", "))
            },
        ),
        item(
            "Vulnerability scans running with SLAs",
            i.scans_recent == Some(true) && i.vulnerability_policy_published,
            match (i.scans_recent, i.vulnerability_policy_published) {
                (None, _) => "no scan imported yet (Trivy, Grype or Prowler)".into(),
                (Some(false), _) => "scans are older than a week".into(),
                (Some(true), false) => {
                    "scans run, but the vulnerability management policy (its SLAs) is not published".into()
                }
                (Some(true), true) => {
                    "scans this week; SLAs set by the published vulnerability management policy".into()
                }
            },
        ),
        item("First access review complete", access, access_why),
        item("A backup or DR test done", recovery, recovery_why),
        item("An incident-response tabletop done", tabletop, tabletop_why),
        item(
            "Evidence library populated",
            i.requirements > 0 && i.requirements_met * 5 >= i.requirements * 4,
            format!(
                "{} of {} evidence requirements of applicable controls have current evidence (80% needed)",
                i.requirements_met, i.requirements
            ),
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub phase: &'static str,
    #[serde(serialize_with = "crate::checks::ser_date")]
    pub start: Date,
    #[serde(serialize_with = "crate::checks::ser_date")]
    pub end: Date,
    pub current: bool,
}

/// Kickoff → gap assessment (2 weeks) → remediation → readiness review (the 4 weeks before
/// the audit) → the audit date or window → the auditor's fieldwork and report (6 weeks).
pub fn timeline(kickoff: Date, period: AuditPeriod, today: Date) -> Vec<Phase> {
    let (audit_start, audit_end) = match period {
        AuditPeriod::AsOf(d) => (d, d),
        AuditPeriod::Window { from, to } => (from, to),
    };
    // A program recorded after its window opened (an import, a late start) has no preparation
    // phases left: they shrink to the opening day rather than end before they begin.
    let kickoff = kickoff.min(audit_start);
    let gap_end = (kickoff + Duration::days(14)).min(audit_start);
    let review_start = (audit_start - Duration::days(28)).max(gap_end);
    let phases = [
        ("kickoff", kickoff, kickoff),
        ("gap assessment", kickoff, gap_end),
        ("remediation", gap_end, review_start),
        ("readiness review", review_start, audit_start),
        (
            if audit_start == audit_end {
                "audit date"
            } else {
                "observation window"
            },
            audit_start,
            audit_end,
        ),
        ("fieldwork and report", audit_end, audit_end + Duration::days(42)),
    ];
    // The current phase is the last one that has started (phases touch at their edges).
    let current = phases
        .iter()
        .rposition(|(_, start, _)| *start <= today)
        .filter(|_| today <= audit_end + Duration::days(42));
    phases
        .iter()
        .enumerate()
        .map(|(i, (phase, start, end))| Phase {
            phase,
            start: *start,
            end: *end,
            current: Some(i) == current,
        })
        .collect()
}

/// Where the audit stands today: the phase under way and the next date that matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Countdown {
    /// The current phase of the timeline, if the audit has one under way.
    pub phase: Option<&'static str>,
    /// What happens on `date`, in words ("the observation window opens").
    pub until: &'static str,
    #[serde(serialize_with = "crate::checks::ser_date")]
    pub date: Date,
    /// Days from today to `date`, never negative.
    pub days: i64,
}

/// The next date that matters: the audit date or the window's opening before it, the window's
/// close during it, the end of fieldwork after it.
pub fn countdown(period: AuditPeriod, timeline: &[Phase], today: Date) -> Countdown {
    let (until, date) = match period {
        AuditPeriod::AsOf(d) if today <= d => ("the audit date", d),
        AuditPeriod::AsOf(d) => (
            "the auditor's fieldwork and report are expected",
            d + Duration::days(42),
        ),
        AuditPeriod::Window { from, .. } if today < from => ("the observation window opens", from),
        AuditPeriod::Window { to, .. } if today <= to => ("the observation window closes", to),
        AuditPeriod::Window { to, .. } => (
            "the auditor's fieldwork and report are expected",
            to + Duration::days(42),
        ),
    };
    Countdown {
        phase: timeline.iter().find(|p| p.current).map(|p| p.phase),
        until,
        date,
        days: (date - today).whole_days().max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn every_item_can_be_done_or_not() {
        let d = date!(2026 - 11 - 01);
        let empty = checklist(&ChecklistInput {
            scope_approval: None,
            policies: vec![],
            risks: 0,
            risks_signed_off: 0,
            staff: 0,
            staff_trained: 0,
            important_vendors: 0,
            vendors_lacking: vec![],
            logging_ok: vec![],
            logging_missing: vec!["LOG-01".into()],
            scans_recent: None,
            vulnerability_policy_published: false,
            last_access_review: None,
            last_recovery_test: None,
            last_tabletop: None,
            today: d,
            requirements: 0,
            requirements_met: 0,
        });
        assert_eq!(empty.len(), 11);
        assert!(empty.iter().all(|i| !i.done), "{empty:?}");
        let full = ChecklistInput {
            scope_approval: Some(("cli:ceo".into(), d, false)),
            policies: vec![("isp".into(), true)],
            risks: 3,
            risks_signed_off: 3,
            staff: 2,
            staff_trained: 2,
            important_vendors: 1,
            vendors_lacking: vec![],
            logging_ok: vec!["LOG-01".into()],
            logging_missing: vec![],
            scans_recent: Some(true),
            vulnerability_policy_published: true,
            last_access_review: Some(d),
            last_recovery_test: Some(d),
            last_tabletop: Some(d),
            today: d,
            requirements: 10,
            requirements_met: 8,
        };
        let done = checklist(&full);
        assert!(done.iter().all(|i| i.done), "{done:?}");
        let mut outdated = full.clone();
        outdated.scope_approval = Some(("cli:ceo".into(), d, true));
        outdated.requirements_met = 7;
        let c = checklist(&outdated);
        assert!(!c[0].done && c[0].why.contains("changed since"));
        assert!(!c[10].done && c[10].why.starts_with("7 of 10"));
        // A tabletop or recovery test more than a year old no longer counts.
        let mut stale = full.clone();
        stale.today = d + time::Duration::days(366);
        let c = checklist(&stale);
        assert!(!c[8].done && c[8].why.contains("more than 12 months ago"), "{:?}", c[8]);
        assert!(!c[9].done && c[9].why.contains("more than 12 months ago"));
        assert!(c[7].done, "the first access review stays done");
    }

    #[test]
    fn phases_lead_to_the_audit() {
        let window = AuditPeriod::Window {
            from: date!(2027 - 03 - 01),
            to: date!(2027 - 08 - 31),
        };
        let t = timeline(date!(2026 - 11 - 01), window, date!(2026 - 11 - 23));
        let names: Vec<&str> = t.iter().map(|p| p.phase).collect();
        assert_eq!(
            names,
            [
                "kickoff",
                "gap assessment",
                "remediation",
                "readiness review",
                "observation window",
                "fieldwork and report"
            ]
        );
        assert_eq!(t[2].start, date!(2026 - 11 - 15));
        assert_eq!(t[3].start, date!(2027 - 02 - 01));
        assert_eq!(t.iter().find(|p| p.current).map(|p| p.phase), Some("remediation"));
        let later = timeline(date!(2026 - 11 - 01), window, date!(2027 - 04 - 01));
        assert_eq!(
            later.iter().find(|p| p.current).map(|p| p.phase),
            Some("observation window")
        );
        // A Type 1 date close to the kickoff squeezes the phases, never reversing them.
        let tight = timeline(
            date!(2026 - 11 - 01),
            AuditPeriod::AsOf(date!(2026 - 11 - 20)),
            date!(2026 - 11 - 02),
        );
        assert!(tight.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn the_countdown_names_the_next_date_that_matters() {
        let kickoff = date!(2026 - 01 - 05);
        let window = AuditPeriod::Window {
            from: date!(2026 - 04 - 01),
            to: date!(2026 - 09 - 30),
        };
        let at = |today| countdown(window, &timeline(kickoff, window, today), today);
        let before = at(date!(2026 - 03 - 10));
        assert_eq!(
            (before.phase, before.until, before.days),
            (Some("readiness review"), "the observation window opens", 22)
        );
        let during = at(date!(2026 - 09 - 20));
        assert_eq!(
            (during.phase, during.until, during.days),
            (Some("observation window"), "the observation window closes", 10)
        );
        let after = at(date!(2026 - 10 - 01));
        assert_eq!(after.phase, Some("fieldwork and report"));
        assert_eq!(after.date, date!(2026 - 11 - 11));
        let type1 = AuditPeriod::AsOf(date!(2026 - 06 - 30));
        let t1 = countdown(
            type1,
            &timeline(kickoff, type1, date!(2026 - 06 - 20)),
            date!(2026 - 06 - 20),
        );
        assert_eq!(
            (t1.phase, t1.until, t1.days),
            (Some("readiness review"), "the audit date", 10)
        );
    }
}
