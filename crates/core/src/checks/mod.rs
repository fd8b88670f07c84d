//! The check engine: each check reads one kind of record and says, per record in scope,
//! pass or fail with a reason. Exclusions (reason, owner, expiry) set a record aside and stay
//! visible. Pure: the caller supplies the records, the policy parameters and today.

mod builtin;
pub mod rules;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use crate::register::Record;

pub use builtin::{BUILTIN, finding_sla};

/// Everything checks may read, loaded by the caller.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub people: Vec<Record>,
    pub training: Vec<Record>,
    pub background_checks: Vec<Record>,
    pub vendors: Vec<Record>,
    pub assets: Vec<Record>,
    pub events: Vec<Record>,
    pub risks: Vec<RiskFact>,
    pub policies: Vec<PolicyFact>,
    pub controls: Vec<ControlFact>,
    /// Evidence ids that exist and are current (not withdrawn or superseded).
    pub current_evidence: Vec<String>,
    /// Policy parameters by key (values as text).
    pub params: BTreeMap<String, String>,
    pub accounts: Vec<crate::facts::Account>,
    pub findings: Vec<FindingFact>,
    /// (source, scope, last scan in ms)
    pub scans: Vec<(String, String, i64)>,
    pub protections: Vec<crate::facts::Protection>,
    pub changes: Vec<crate::facts::Change>,
    pub commits: Vec<crate::facts::Commit>,
    pub devices: Vec<crate::facts::Device>,
    /// The machine identity register: owners, purposes and rotation limits of non-human accounts.
    pub machine_identities: Vec<Record>,
    /// The access grants register: time-bound elevations.
    pub grants: Vec<Record>,
    /// Administrator accounts kept in a closed access review: (system, external id, closed on).
    pub reviewed_admins: Vec<(String, String, Date)>,
    /// Changes of title or department in the last year, replayed from the audit log.
    pub moves: Vec<crate::access_review::jml::Move>,
    /// Per person (lower-cased email): instants of access-review decisions on their accounts.
    pub access_reviewed: std::collections::HashMap<String, Vec<i64>>,
    /// Configured connectors and their record of collecting.
    pub connectors: Vec<crate::facts::ConnectorFact>,
    /// Lookups by email, built on first use: checks over 10,000 people and 60,000 accounts
    /// must not scan the registers once per record. Facts are read-only once loaded.
    pub index: std::sync::OnceLock<FactsIndex>,
}

/// Positions in `Facts`' lists, keyed by what checks look records up by.
#[derive(Debug, Default, Clone)]
pub struct FactsIndex {
    people: std::collections::HashMap<String, usize>,
    training: std::collections::HashMap<String, Vec<usize>>,
    background_checks: std::collections::HashMap<String, usize>,
    managers: std::collections::HashSet<String>,
    current_evidence: std::collections::HashSet<String>,
    /// Accounts by lower-cased email.
    accounts: std::collections::HashMap<String, Vec<usize>>,
    /// Machine identities by lower-cased (system, account).
    machine_identities: std::collections::HashMap<(String, String), usize>,
}

impl Facts {
    pub fn index(&self) -> &FactsIndex {
        self.index.get_or_init(|| {
            let email = |r: &Record| r.get("email").as_str().unwrap_or("").to_string();
            let mut i = FactsIndex::default();
            for (n, p) in self.people.iter().enumerate() {
                i.people.entry(email(p)).or_insert(n);
                if let Some(m) = p.get("manager_email").as_str() {
                    i.managers.insert(m.to_string());
                }
            }
            for (n, t) in self.training.iter().enumerate() {
                i.training.entry(email(t)).or_default().push(n);
            }
            for (n, b) in self.background_checks.iter().enumerate() {
                i.background_checks.entry(email(b)).or_insert(n);
            }
            i.current_evidence = self.current_evidence.iter().cloned().collect();
            for (n, a) in self.accounts.iter().enumerate() {
                if let Some(e) = &a.email {
                    i.accounts.entry(e.to_lowercase()).or_default().push(n);
                }
            }
            for (n, m) in self.machine_identities.iter().enumerate() {
                let t = |k: &str| m.get(k).as_str().unwrap_or("").to_lowercase();
                i.machine_identities.entry((t("system"), t("account"))).or_insert(n);
            }
            i
        })
    }

    /// The person with this email in the people register.
    pub fn person(&self, email: &str) -> Option<&Record> {
        self.index().people.get(email).map(|n| &self.people[*n])
    }

    /// Training completions of one person.
    pub fn training_of<'a>(&'a self, email: &str) -> impl Iterator<Item = &'a Record> + 'a {
        let list = self.index().training.get(email).map(Vec::as_slice).unwrap_or_default();
        list.iter().map(|n| &self.training[*n])
    }

    pub fn background_check(&self, email: &str) -> Option<&Record> {
        self.index()
            .background_checks
            .get(email)
            .map(|n| &self.background_checks[*n])
    }

    /// Whether anyone names this email as their manager.
    pub fn manages(&self, email: &str) -> bool {
        self.index().managers.contains(email)
    }

    /// The accounts whose email is `email` (any case).
    pub fn accounts_of<'a>(&'a self, email: &str) -> impl Iterator<Item = &'a crate::facts::Account> + Clone + 'a {
        let list = self
            .index()
            .accounts
            .get(&email.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default();
        list.iter().map(|n| &self.accounts[*n])
    }

    /// The machine identity register's record of an account (system and name, any case).
    pub fn machine_identity(&self, system: &str, account: &str) -> Option<&Record> {
        self.index()
            .machine_identities
            .get(&(system.to_lowercase(), account.to_lowercase()))
            .map(|n| &self.machine_identities[*n])
    }

    pub fn is_current_evidence(&self, id: &str) -> bool {
        self.index().current_evidence.contains(id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingFact {
    pub finding: crate::facts::Finding,
    pub scope: String,
    pub first_seen: i64,
    pub fixed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFact {
    pub record: Record,
    pub signed_off: Option<Date>,
    /// The risk changed after its sign-off.
    pub sign_off_outdated: bool,
    pub last_review: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFact {
    pub id: String,
    pub title: String,
    pub published_version: Option<i64>,
    pub published_on: Option<Date>,
    pub approved_by: Option<String>,
    pub review_interval_months: u32,
    /// Emails that accepted the published version.
    pub accepted_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFact {
    pub code: String,
    pub title: String,
    pub owner: Option<String>,
    pub applicable: bool,
}

/// One record's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub record: String,
    pub passed: bool,
    pub reason: String,
}

impl Outcome {
    pub fn pass(record: impl Into<String>, reason: impl Into<String>) -> Outcome {
        Outcome {
            record: record.into(),
            passed: true,
            reason: reason.into(),
        }
    }
    pub fn fail(record: impl Into<String>, reason: impl Into<String>) -> Outcome {
        Outcome {
            record: record.into(),
            passed: false,
            reason: reason.into(),
        }
    }
}

pub struct Ctx<'a> {
    pub facts: &'a Facts,
    pub today: Date,
    /// Now, in milliseconds since the epoch, for rules measured in hours.
    pub now_ms: i64,
}

impl Ctx<'_> {
    /// A policy parameter as a number, or the default when no policy sets it.
    pub fn param(&self, key: &str, default: i64) -> i64 {
        self.facts
            .params
            .get(key)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }

    /// People employed today.
    pub fn staff(&self) -> impl Iterator<Item = &Record> {
        self.facts
            .people
            .iter()
            .filter(|p| crate::registers::employed_on(p, self.today))
    }
}

#[derive(Clone, Copy)]
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    /// The kind of record it tests, for people reading a result.
    pub reads: &'static str,
    pub evaluate: fn(&Ctx) -> Vec<Outcome>,
    /// How long a failing record may stay failing before an auditor counts it.
    pub remediation: Remediation,
}

/// How an observation window reads a record's failure of a check: when it becomes an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remediation {
    /// Fixed within the days a policy parameter allows (the grace for failing checks when the
    /// check has no limit of its own), counted from the day it first failed.
    Days { param: &'static str, default: i64 },
    /// The check fails a record only once the policy's own limit has passed (a leaver's hours,
    /// a finding's SLA, a rotation age): every failure is already late.
    Overdue,
    /// Each failing record is one event that cannot be undone (a change merged without a second
    /// approver): an exception of its own.
    PerEvent,
    /// The check watches a periodic control's occurrences: a lapse is that control's missed
    /// period, not a record exception.
    Occurrence,
}

impl Remediation {
    /// What a check without a limit of its own allows: the readiness grace for failing checks.
    pub const GRACE: Remediation = Remediation::Days {
        param: "check_failure_grace_days",
        default: crate::readiness::DEFAULT_GRACE_DAYS,
    };

    /// The remediation deadline of a record first failing at `first_ms`, as Unix milliseconds;
    /// `None` when its failures are never record exceptions ([`Remediation::Occurrence`]).
    pub fn deadline(self, first_ms: i64, params: &BTreeMap<String, String>) -> Option<i64> {
        match self {
            Remediation::Days { param, default } => {
                let days = params
                    .get(param)
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .unwrap_or(default)
                    .max(0);
                Some(first_ms + days * 86_400_000)
            }
            Remediation::Overdue | Remediation::PerEvent => Some(first_ms),
            Remediation::Occurrence => None,
        }
    }
}

impl CheckDef {
    /// The library controls this check tests, as the content says (`checks:` on a control).
    pub fn controls(&self) -> impl Iterator<Item = &'static str> + use<> {
        let id = self.id;
        evident_catalog::Catalog::builtin()
            .library
            .controls
            .iter()
            .filter(move |c| c.checks.iter().any(|k| k == id))
            .map(|c| c.id.as_str())
    }
}

impl std::fmt::Debug for CheckDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckDef").field("id", &self.id).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    pub check: String,
    pub record: String,
    pub reason: String,
    pub owner: String,
    pub expires: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Nothing in scope to test: not a pass.
    NoData,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::NoData => "no_data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExcludedOutcome {
    pub record: String,
    pub reason: String,
    pub exclusion_reason: String,
    pub owner: String,
    #[serde(serialize_with = "crate::checks::ser_date")]
    pub expires: Date,
}

pub(crate) fn ser_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::format_date(*d))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    pub passed: usize,
    pub failed: usize,
    pub excluded: usize,
    pub failures: Vec<Outcome>,
    pub exclusions: Vec<ExcludedOutcome>,
}

/// Runs one check; a failing record with a live exclusion counts as excluded, not failed.
/// Expired exclusions no longer apply.
pub fn run(check: &CheckDef, facts: &Facts, exclusions: &[Exclusion], now: time::OffsetDateTime) -> CheckResult {
    tally(
        check.id,
        check.title,
        &outcomes(check, facts, now),
        exclusions,
        now.date(),
    )
}

/// Every record one check tests, passing and failing, before exclusions.
pub fn outcomes(check: &CheckDef, facts: &Facts, now: time::OffsetDateTime) -> Vec<Outcome> {
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    (check.evaluate)(&Ctx {
        facts,
        today: now.date(),
        now_ms,
    })
}

/// [`outcomes`] of a workspace rule.
pub fn rule_outcomes(rule: &rules::Rule, facts: &Facts, now: time::OffsetDateTime) -> Vec<Outcome> {
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    rule.evaluate(&Ctx {
        facts,
        today: now.date(),
        now_ms,
    })
}

/// Whether an exclusion's record names an outcome's record: as the check wrote it, ignoring
/// ASCII case (emails, account names).
pub fn same_record(excluded: &str, outcome: &str) -> bool {
    excluded.eq_ignore_ascii_case(outcome)
}

/// Runs every check in `checks`, in order. Checks are independent, so they are shared out over
/// the machine's cores (scoped threads: no IO, only the facts given).
pub fn run_all(
    checks: &[CheckDef],
    facts: &Facts,
    exclusions: &[Exclusion],
    now: time::OffsetDateTime,
) -> Vec<CheckResult> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(checks.len().max(1));
    // Build the shared lookups once, before the workers race to.
    facts.index();
    let mut slots: Vec<Option<CheckResult>> = vec![None; checks.len()];
    std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    checks
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % workers == w)
                        .map(|(i, c)| (i, run(c, facts, exclusions, now)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in chunks {
            for (i, r) in handle.join().expect("a check panicked") {
                slots[i] = Some(r);
            }
        }
    });
    slots.into_iter().map(|r| r.expect("every check ran")).collect()
}

/// Runs a workspace rule the same way as a built-in check.
pub fn run_rule(rule: &rules::Rule, facts: &Facts, exclusions: &[Exclusion], now: time::OffsetDateTime) -> CheckResult {
    tally(
        &rule.id,
        &rule.title,
        &rule_outcomes(rule, facts, now),
        exclusions,
        now.date(),
    )
}

fn tally(id: &str, title: &str, outcomes: &[Outcome], exclusions: &[Exclusion], today: Date) -> CheckResult {
    let check_id = id;
    let mut result = CheckResult {
        id: id.to_string(),
        title: title.to_string(),
        status: CheckStatus::NoData,
        passed: 0,
        failed: 0,
        excluded: 0,
        failures: Vec::new(),
        exclusions: Vec::new(),
    };
    for o in outcomes {
        let live = exclusions
            .iter()
            .find(|e| e.check == check_id && same_record(&e.record, &o.record) && e.expires >= today);
        match (o.passed, live) {
            (true, _) => result.passed += 1,
            (false, Some(e)) => {
                result.excluded += 1;
                result.exclusions.push(ExcludedOutcome {
                    record: o.record.clone(),
                    reason: o.reason.clone(),
                    exclusion_reason: e.reason.clone(),
                    owner: e.owner.clone(),
                    expires: e.expires,
                });
            }
            (false, None) => {
                result.failed += 1;
                result.failures.push(o.clone());
            }
        }
    }
    result.status = if result.failed > 0 {
        CheckStatus::Fail
    } else if outcomes.is_empty() {
        CheckStatus::NoData
    } else {
        CheckStatus::Pass
    };
    result
}

pub fn by_id(id: &str) -> Option<&'static CheckDef> {
    BUILTIN.iter().find(|c| c.id.eq_ignore_ascii_case(id))
}
