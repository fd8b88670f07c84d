//! Joiners, movers and leavers reconciled against every system's accounts: what the people
//! register says should be true of each person's access, and where the accounts disagree.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::{Date, Duration};

use crate::facts::Account;
use crate::{date_of_ms, format_date};

evident_catalog::string_enum! {
    /// What a finding is about.
    pub enum JmlKind: "finding kind" {
        Joiner = "joiner",
        Mover = "mover",
        Leaver = "leaver",
        ContractorPastEnd = "contractor_past_end",
        Orphan = "orphan",
    }
}

/// A person as the reconciliation needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub email: String,
    pub name: String,
    pub contractor: bool,
    pub start: Option<Date>,
    pub end: Option<Date>,
}

/// A change of title or department, from the audit log's replay of the people register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub email: String,
    pub field: String,
    pub from: String,
    pub to: String,
    pub on: Date,
}

/// How long after their start a person counts as a joiner.
pub const JOINER_DAYS: i64 = 365;

/// The access-control policy's default for `mover_review_days`.
pub const MOVER_REVIEW_DAYS: i64 = 7;

/// The policy's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub leaver_hours: i64,
    pub mover_days: i64,
    pub training_days: i64,
}

/// Everything the reconciliation reads.
pub struct Records<'a> {
    pub people: &'a [Member],
    pub accounts: &'a [Account],
    pub moves: &'a [Move],
    /// Per person (lower-cased email): instants of access-review decisions on their accounts.
    pub reviews: &'a HashMap<String, Vec<i64>>,
    /// Per person: their first security awareness training.
    pub trained: &'a HashMap<String, Date>,
    /// Systems every current person should have an account in.
    pub baseline: &'a [String],
    pub limits: Limits,
    pub today: Date,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// joiner, mover, leaver, contractor_past_end or orphan.
    pub kind: String,
    /// The person's email; none for an orphan account.
    pub person: Option<String>,
    /// `system/username` when it is about one account.
    pub account: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD` the finding dates from (start, move, last day, account creation).
    pub since: String,
}

fn finding(kind: JmlKind, person: Option<&str>, account: Option<&Account>, reason: String, since: Date) -> Finding {
    Finding {
        kind: kind.as_str().to_string(),
        person: person.map(str::to_string),
        account: account.map(label),
        reason,
        since: format_date(since),
    }
}

fn label(a: &Account) -> String {
    format!("{}/{}", a.system, a.username)
}

fn ms_day(ms: i64) -> String {
    date_of_ms(ms).map(format_date).unwrap_or_default()
}

/// The instant a last working day ends.
fn end_ms(d: Date) -> i64 {
    (d + Duration::days(1)).midnight().assume_utc().unix_timestamp() * 1000
}

/// Accounts per person (lower-cased email).
fn by_person(accounts: &[Account]) -> HashMap<String, Vec<&Account>> {
    let mut m: HashMap<String, Vec<&Account>> = HashMap::new();
    for a in accounts {
        if let Some(e) = &a.email {
            m.entry(e.to_lowercase()).or_default().push(a);
        }
    }
    m
}

/// Whether an account is a person's login that no one in the people register holds: active,
/// human, not a cloud root user, and its email is nobody's. `known` says whether an email is a
/// person's. The `accounts-belong-to-people` check applies the same rule.
pub fn is_orphan(a: &Account, known: impl Fn(&str) -> bool) -> bool {
    a.active && a.human && !a.root && !a.email.as_deref().is_some_and(&known)
}

/// Every finding, people first (by email), then orphan accounts.
pub fn reconcile(r: &Records) -> Vec<Finding> {
    let accounts = by_person(r.accounts);
    let mut out = Vec::new();
    let none: Vec<&Account> = Vec::new();
    let mut people: Vec<&Member> = r.people.iter().collect();
    people.sort_by(|a, b| a.email.cmp(&b.email));
    for p in people {
        let key = p.email.to_lowercase();
        let theirs = accounts.get(&key).unwrap_or(&none);
        out.extend(person_findings(r, p, theirs));
    }
    let known: std::collections::HashSet<String> = r.people.iter().map(|p| p.email.to_lowercase()).collect();
    for a in r.accounts {
        if is_orphan(a, |e| known.contains(&e.to_lowercase())) {
            let since = a.created_at.and_then(date_of_ms).unwrap_or(r.today);
            out.push(finding(
                JmlKind::Orphan,
                None,
                Some(a),
                "an active account of nobody in the people register: find its holder or disable it".into(),
                since,
            ));
        }
    }
    out
}

fn person_findings(r: &Records, p: &Member, theirs: &[&Account]) -> Vec<Finding> {
    let mut out = Vec::new();
    let key = p.email.to_lowercase();
    // Leavers (and contractors whose engagement ended): every account off within the limit.
    if let Some(end) = p.end.filter(|e| end_ms(*e) <= r.now_ms) {
        let limit_ms = end_ms(end) + r.limits.leaver_hours * 3_600_000;
        let kind = if p.contractor {
            JmlKind::ContractorPastEnd
        } else {
            JmlKind::Leaver
        };
        let left = if p.contractor { "contract ended" } else { "left" };
        for a in theirs {
            let reason = match (a.active, a.disabled_at) {
                (true, _) if r.now_ms > limit_ms => Some(format!(
                    "{left} {}; the account is still active, {} hours past the {}-hour limit",
                    format_date(end),
                    (r.now_ms - limit_ms) / 3_600_000,
                    r.limits.leaver_hours
                )),
                (false, Some(off)) if off > limit_ms => Some(format!(
                    "{left} {}; disabled {}, {} hours after the limit",
                    format_date(end),
                    ms_day(off),
                    (off - limit_ms) / 3_600_000
                )),
                _ => None,
            };
            if let Some(reason) = reason {
                out.push(finding(kind, Some(&p.email), Some(a), reason, end));
            }
        }
        return out;
    }
    // Joiners are those who started within the last year; later gaps are the yearly checks'.
    let Some(start) = p.start.filter(|s| is_joiner(*s, r.today)) else {
        return movers(r, p, out);
    };
    // Joiners: the baseline accounts, and training within the policy's days.
    for system in missing_baseline(r.baseline, theirs.iter().copied()) {
        out.push(finding(
            JmlKind::Joiner,
            Some(&p.email),
            None,
            format!("started {}; no active account in {system}", format_date(start)),
            start,
        ));
    }
    let due = start + Duration::days(r.limits.training_days);
    match r.trained.get(&key) {
        None if due < r.today => out.push(finding(
            JmlKind::Joiner,
            Some(&p.email),
            None,
            format!(
                "started {}; no security awareness training, due by {}",
                format_date(start),
                format_date(due)
            ),
            start,
        )),
        Some(d) if *d > due => out.push(finding(
            JmlKind::Joiner,
            Some(&p.email),
            None,
            format!(
                "started {}; first trained {}, after the due date {}",
                format_date(start),
                format_date(*d),
                format_date(due)
            ),
            start,
        )),
        _ => {}
    }
    movers(r, p, out)
}

/// Movers: access reviewed within the policy's days of each change of title or department.
fn movers(r: &Records, p: &Member, mut out: Vec<Finding>) -> Vec<Finding> {
    let key = p.email.to_lowercase();
    let reviews = r.reviews.get(&key).map(Vec::as_slice).unwrap_or(&[]);
    for m in r.moves.iter().filter(|m| m.email.eq_ignore_ascii_case(&p.email)) {
        if let MoveReview::Late { due } = move_review(m, reviews, r.limits.mover_days, r.today) {
            out.push(finding(JmlKind::Mover, Some(&p.email), None, late_move(m, due), m.on));
        }
    }
    out
}

/// Where a move stands against the policy's days for reviewing the mover's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveReview {
    /// A decision on one of their accounts fell between the move and the due date.
    Reviewed {
        at_ms: i64,
    },
    /// Not reviewed yet, and not yet late.
    Pending {
        due: Date,
    },
    Late {
        due: Date,
    },
}

/// The one rule for movers, shared by the reconciliation and the `movers-access-reviewed`
/// check: any access-review decision on the person's accounts from the day of the move to the
/// end of the due day counts.
pub fn move_review(m: &Move, reviews: &[i64], mover_days: i64, today: Date) -> MoveReview {
    let due = m.on + Duration::days(mover_days);
    let from_ms = m.on.midnight().assume_utc().unix_timestamp() * 1000;
    let due_ms = end_ms(due);
    match reviews.iter().filter(|t| **t >= from_ms && **t < due_ms).min() {
        Some(at) => MoveReview::Reviewed { at_ms: *at },
        None if due < today => MoveReview::Late { due },
        None => MoveReview::Pending { due },
    }
}

/// Words for a move whose review is late.
pub fn late_move(m: &Move, due: Date) -> String {
    format!(
        "{} changed from '{}' to '{}' on {}; no access review of their accounts by {}",
        m.field,
        m.from,
        m.to,
        format_date(m.on),
        format_date(due)
    )
}

/// One dated line of a person's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Moment {
    pub date: String,
    pub what: String,
    /// Whether it is a finding (something late or missing).
    pub problem: bool,
}

/// A person's life in the records: start, moves, training, accounts opened and closed, reviews
/// of their access, their last day, and the findings among them; oldest first.
pub fn timeline(r: &Records, email: &str, decisions: &[(i64, String)]) -> Vec<Moment> {
    let key = email.to_lowercase();
    let mut out = Vec::new();
    let mut push = |date: String, what: String, problem: bool| out.push(Moment { date, what, problem });
    let Some(p) = r.people.iter().find(|p| p.email.eq_ignore_ascii_case(email)) else {
        return Vec::new();
    };
    if let Some(s) = p.start {
        push(format_date(s), format!("{} started", p.name), false);
    }
    if let Some(d) = r.trained.get(&key) {
        push(format_date(*d), "first security awareness training".into(), false);
    }
    for m in r.moves.iter().filter(|m| m.email.eq_ignore_ascii_case(email)) {
        push(
            format_date(m.on),
            format!("{} changed from '{}' to '{}'", m.field, m.from, m.to),
            false,
        );
    }
    for a in r
        .accounts
        .iter()
        .filter(|a| a.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    {
        if let Some(c) = a.created_at {
            push(
                ms_day(c),
                format!(
                    "account {} opened{}",
                    label(a),
                    if a.admin { " (administrator)" } else { "" }
                ),
                false,
            );
        }
        if let Some(d) = a.disabled_at {
            push(ms_day(d), format!("account {} disabled", label(a)), false);
        }
    }
    for (at, what) in decisions {
        push(ms_day(*at), what.clone(), false);
    }
    if let Some(e) = p.end {
        push(format_date(e), format!("{}'s last working day", p.name), false);
    }
    let accounts = by_person(r.accounts);
    let none: Vec<&Account> = Vec::new();
    for f in person_findings(r, p, accounts.get(&key).unwrap_or(&none)) {
        let what = match &f.account {
            Some(a) => format!("{a}: {}", f.reason),
            None => f.reason.clone(),
        };
        push(f.since.clone(), what, true);
    }
    out.sort_by(|a, b| a.date.cmp(&b.date));
    out
}

/// Whether `start` makes a person a joiner on `today`: started within the last year.
pub fn is_joiner(start: Date, today: Date) -> bool {
    start <= today && start > today - Duration::days(JOINER_DAYS)
}

/// The baseline systems in which none of a person's accounts is active. The
/// `joiners-have-baseline-accounts` check applies the same rule.
pub fn missing_baseline<'a>(baseline: &'a [String], theirs: impl Iterator<Item = &'a Account> + Clone) -> Vec<&'a str> {
    baseline
        .iter()
        .filter(|system| !theirs.clone().any(|a| a.system == **system && a.active))
        .map(String::as_str)
        .collect()
}

/// The identity-provider systems among the accounts: the baseline every person should have.
pub fn baseline_systems(accounts: &[Account]) -> Vec<String> {
    let mut systems: Vec<String> = accounts
        .iter()
        .map(|a| a.system.clone())
        .filter(|s| {
            matches!(
                s.as_str(),
                "okta" | "google-workspace" | "azure-ad" | "entra-id" | "jumpcloud"
            )
        })
        .collect();
    systems.sort();
    systems.dedup();
    systems
}

/// Counts of findings by kind, for a summary line.
pub fn counts(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.kind.clone()).or_default() += 1;
    }
    m
}
