//! Access review campaigns: which accounts a campaign freezes, who reviews each, what a decision
//! must say, when a revocation counts as carried out, and when a campaign may close. Pure rules;
//! the store keeps campaigns and items and calls these from every entry point.

pub mod jml;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::facts::Account;

/// Why a campaign step is refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ReviewError {
    pub field: &'static str,
    pub reason: String,
}

impl ReviewError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        ReviewError {
            field,
            reason: reason.into(),
        }
    }
}

evident_catalog::string_enum! {
    /// Which accounts of the chosen systems a campaign covers.
    pub enum Coverage: "coverage" {
        All = "all",
        Privileged = "privileged",
    }
}

evident_catalog::string_enum! {
    /// Who reviews an account: the account holder's manager, the system's owner in the asset
    /// register, or one named person.
    pub enum ReviewerRule: "reviewer rule" {
        Manager = "manager",
        SystemOwner = "system_owner",
        Named = "named",
    }
}

evident_catalog::string_enum! {
    /// A reviewer's decision on one account.
    pub enum Decision: "decision" {
        Keep = "keep",
        Revoke = "revoke",
        Change = "change",
    }
}

/// What a campaign is asked to cover, as the person starting it said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDraft {
    pub name: String,
    /// Systems as accounts name them (`okta`, `aws:123…`); empty means every system with accounts.
    pub systems: Vec<String>,
    pub coverage: Coverage,
    pub rule: ReviewerRule,
    /// The reviewer when the rule is `named`.
    pub named: Option<String>,
    pub due: time::Date,
}

/// A person as the review rules need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub name: String,
    pub manager: Option<String>,
}

/// The people register, by lower-cased email.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: BTreeMap<String, Person>,
}

impl Directory {
    pub fn new(people: impl IntoIterator<Item = Person>) -> Self {
        Directory {
            people: people.into_iter().map(|p| (p.email.to_lowercase(), p)).collect(),
        }
    }

    pub fn person(&self, email: &str) -> Option<&Person> {
        self.people.get(&email.to_lowercase())
    }

    /// The manager of a person, when the register names one.
    pub fn manager_of(&self, email: &str) -> Option<&str> {
        self.person(email)?.manager.as_deref().filter(|m| !m.is_empty())
    }

    /// Whether `who` is `email`'s manager.
    pub fn manages(&self, who: &str, email: &str) -> bool {
        self.manager_of(email).is_some_and(|m| m.eq_ignore_ascii_case(who))
    }
}

/// One account as the campaign froze it, with who reviews it and why them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assigned {
    pub account: Account,
    /// The account holder's email when the people register knows them.
    pub person: Option<String>,
    pub reviewer: String,
    /// Why this reviewer, when not the rule's first choice (a self-review moved on, no manager).
    pub note: Option<String>,
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether `who` holds the account: its email, or (for systems that log in by email) its name.
pub fn holds(account: &Account, who: &str) -> bool {
    account.email.as_deref().is_some_and(|e| same(e, who)) || same(&account.username, who)
}

/// Whether an account is privileged: an administrator or a cloud root user.
pub fn privileged(a: &Account) -> bool {
    a.admin || a.root
}

/// The accounts a campaign freezes and each one's reviewer. `accounts` are every system's as
/// last imported; `owners` maps a system (lower-cased) to its owner from the asset register; `starter` is
/// who starts the campaign (the reviewer of last resort).
pub fn plan(
    draft: &CampaignDraft,
    accounts: &[Account],
    people: &Directory,
    owners: &BTreeMap<String, String>,
    starter: &str,
) -> Result<Vec<Assigned>, ReviewError> {
    if draft.name.trim().is_empty() {
        return Err(ReviewError::new("name", "a campaign needs a name"));
    }
    if draft.rule == ReviewerRule::Named && draft.named.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(ReviewError::new(
            "reviewer",
            "the rule 'named' needs the reviewer's email",
        ));
    }
    let known: std::collections::BTreeSet<&str> = accounts.iter().map(|a| a.system.as_str()).collect();
    if let Some(missing) = draft.systems.iter().find(|s| !known.contains(s.as_str())) {
        return Err(ReviewError::new(
            "systems",
            if known.is_empty() {
                format!(
                    "no accounts have been imported for '{missing}' (nor for any system): import its account export first"
                )
            } else {
                format!(
                    "no accounts have been imported for '{missing}'; systems with accounts: {}",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                )
            },
        ));
    }
    let covered = |a: &&Account| {
        a.active
            && (draft.systems.is_empty() || draft.systems.contains(&a.system))
            && (draft.coverage == Coverage::All || privileged(a))
    };
    let mut out = Vec::new();
    for a in accounts.iter().filter(covered) {
        let person = a
            .email
            .as_deref()
            .and_then(|e| people.person(e))
            .map(|p| p.email.clone());
        let owner = owners.get(&a.system.to_lowercase()).map(String::as_str);
        let first = match draft.rule {
            ReviewerRule::Manager => person.as_deref().and_then(|p| people.manager_of(p)),
            ReviewerRule::SystemOwner => owner,
            ReviewerRule::Named => draft.named.as_deref(),
        };
        // Self-review is never allowed: the next in line takes it.
        let holder_manager = a.email.as_deref().and_then(|e| people.manager_of(e));
        let candidates = [
            (first, None),
            (holder_manager, Some("the holder's manager reviews it")),
            (owner, Some("no reviewer by the rule: the system's owner reviews it")),
            (
                Some(starter),
                Some("no reviewer by the rule: the campaign's owner reviews it"),
            ),
        ];
        let Some((index, reviewer, note)) = candidates
            .into_iter()
            .enumerate()
            .filter_map(|(i, (who, note))| who.filter(|w| !w.trim().is_empty()).map(|w| (i, w, note)))
            .find(|(_, who, _)| !holds(a, who))
        else {
            return Err(ReviewError::new(
                "reviewer",
                format!(
                    "nobody but the holder could review {}/{}: name a reviewer or record the holder's manager",
                    a.system, a.username
                ),
            ));
        };
        // A rule's choice that was the holder is said as such, whoever took it instead.
        let note = match (index, first) {
            (0, _) => None,
            (_, Some(f)) if holds(a, f) => Some(format!("{f} holds this account: {}", note.unwrap_or_default())),
            _ => note.map(String::from),
        };
        out.push(Assigned {
            account: a.clone(),
            person,
            reviewer: reviewer.to_lowercase(),
            note,
        });
    }
    if out.is_empty() {
        return Err(ReviewError::new(
            "systems",
            match draft.coverage {
                Coverage::Privileged => "no active privileged account in the chosen systems: nothing to review",
                Coverage::All => "no active account in the chosen systems: nothing to review",
            },
        ));
    }
    Ok(out)
}

/// What a decision says, checked: a reason for revoke and change, and what changes for a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DecisionInput {
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    /// For a change: what the access becomes (e.g. "member instead of admin").
    #[serde(default)]
    pub change: String,
}

/// Checks a decision by `caller` on an item held by `account` and assigned to `reviewer`.
/// `Ok(None)` when the caller is not the reviewer (the store answers as if the item did not
/// exist); the refusal of a decision on one's own account names the reason.
pub fn check_decision(
    caller: &str,
    reviewer: &str,
    account: &Account,
    input: &DecisionInput,
) -> Result<Option<Decision>, ReviewError> {
    if !same(caller, reviewer) {
        return Ok(None);
    }
    if holds(account, caller) {
        return Err(ReviewError::new(
            "decision",
            "nobody may decide on their own account; ask the campaign's owner to give it to your manager",
        ));
    }
    let d = Decision::parse(&input.decision).map_err(|e| ReviewError::new("decision", e.to_string()))?;
    if d != Decision::Keep && input.reason.trim().is_empty() {
        return Err(ReviewError::new(
            "reason",
            format!(
                "say why the access should {}",
                if d == Decision::Revoke { "go" } else { "change" }
            ),
        ));
    }
    if d == Decision::Change && input.change.trim().is_empty() {
        return Err(ReviewError::new(
            "change",
            "say what the access becomes (e.g. 'member instead of admin')",
        ));
    }
    for (field, v) in [("reason", &input.reason), ("change", &input.change)] {
        crate::text::storable(v).map_err(|e| ReviewError::new(field, e.to_string()))?;
        if v.len() > 2_000 {
            return Err(ReviewError::new(field, "at most 2,000 characters"));
        }
    }
    Ok(Some(d))
}

/// Checks giving an item to `to`: never to its own holder.
pub fn check_reassign(account: &Account, to: &str, people: &Directory) -> Result<(), ReviewError> {
    if crate::parse_email(to).is_err() {
        return Err(ReviewError::new("reviewer", format!("'{to}' is not an email address")));
    }
    if holds(account, to) {
        let manager = account.email.as_deref().and_then(|e| people.manager_of(e));
        return Err(ReviewError::new(
            "reviewer",
            match manager {
                Some(m) => format!("{to} holds this account and may not review it; their manager is {m}"),
                None => format!("{to} holds this account and may not review it"),
            },
        ));
    }
    Ok(())
}

/// Whether a later snapshot of the system shows a revoke or change carried out: the account
/// gone or disabled, or (for a change of an administrator) no longer an administrator.
pub fn carried_out(decision: Decision, frozen: &Account, now: Option<&Account>) -> bool {
    match (decision, now) {
        (Decision::Keep, _) => false,
        (_, None) => true,
        (_, Some(a)) if !a.active => true,
        (Decision::Change, Some(a)) => privileged(frozen) && !privileged(a),
        (Decision::Revoke, Some(_)) => false,
    }
}

/// A campaign's standing, counted from its items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Progress {
    pub items: usize,
    pub decided: usize,
    pub kept: usize,
    pub revoked: usize,
    pub changed: usize,
    /// Revoke and change decisions not yet seen carried out.
    pub revocations_open: usize,
    pub revocations_done: usize,
}

impl Progress {
    pub fn add(&mut self, decision: Option<Decision>, done: bool) {
        self.items += 1;
        let Some(d) = decision else { return };
        self.decided += 1;
        match d {
            Decision::Keep => self.kept += 1,
            Decision::Revoke => self.revoked += 1,
            Decision::Change => self.changed += 1,
        }
        if d != Decision::Keep {
            if done {
                self.revocations_done += 1;
            } else {
                self.revocations_open += 1;
            }
        }
    }

    pub fn complete(&self) -> bool {
        self.decided == self.items && self.revocations_open == 0
    }

    /// Percent decided, rounded down.
    pub fn percent(&self) -> usize {
        (self.decided * 100).checked_div(self.items).unwrap_or(100)
    }
}

/// Each reviewer's progress over their items.
pub fn by_reviewer(items: &[ItemView]) -> BTreeMap<&str, Progress> {
    let mut out: BTreeMap<&str, Progress> = BTreeMap::new();
    for i in items {
        let decision = i.decision.as_deref().and_then(|d| Decision::parse(d).ok());
        out.entry(i.reviewer.as_str())
            .or_default()
            .add(decision, i.carried_out_at.is_some());
    }
    out
}

/// Whether a campaign may close now. Without `anyway`, every item must be decided and every
/// revocation seen; with it, it closes with what is open listed in its record.
pub fn check_close(p: &Progress, anyway: bool) -> Result<(), ReviewError> {
    if p.complete() || anyway {
        return Ok(());
    }
    Err(ReviewError::new(
        "close",
        format!(
            "{} of {} items are undecided and {} revocations are not yet seen carried out; \
             close it anyway to record them as open",
            p.items - p.decided,
            p.items,
            p.revocations_open
        ),
    ))
}

/// Milliseconds from a decision to the snapshot that showed it carried out, in words.
pub fn time_to_revoke(decided_at: i64, seen_at: i64) -> String {
    let hours = (seen_at - decided_at).max(0) / 3_600_000;
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} days", hours / 24)
    }
}

/// A campaign as lists and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    /// Empty: every system with accounts when it started.
    pub systems: Vec<String>,
    pub coverage: String,
    pub reviewer_rule: String,
    pub named_reviewer: Option<String>,
    pub due: String,
    /// `open` or `closed`.
    pub status: String,
    pub owner: String,
    /// The evidence item holding the account list frozen at the start.
    pub frozen_evidence: String,
    pub started_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    /// Open when it closed, and the evidence and event closing produced.
    pub closing: Option<serde_json::Value>,
    pub progress: Progress,
    /// Open, past its due date, with undecided items.
    pub overdue: bool,
}

/// One frozen account and its review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ItemView {
    pub id: String,
    pub campaign: String,
    pub campaign_name: String,
    pub system: String,
    pub username: String,
    pub person: Option<String>,
    pub admin: bool,
    pub root: bool,
    pub mfa: Option<bool>,
    /// `YYYY-MM-DD` of the last sign-in or use, when the export says.
    pub last_activity: Option<String>,
    /// The import the account was frozen from.
    pub source_evidence: String,
    /// Kept at the same level in the previous closed campaign.
    pub unchanged: bool,
    pub reviewer: String,
    pub note: Option<String>,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub change: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    /// The remediation task a revoke or change opened.
    pub task: Option<String>,
    pub carried_out_at: Option<String>,
    /// The import that showed it (an evidence id) or who confirmed it.
    pub carried_out_by: Option<String>,
    /// From the decision to the import that showed it, in words.
    pub time_to_revoke: Option<String>,
    pub due: String,
}

/// One open campaign's share of a reviewer's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct InboxCampaign {
    pub id: String,
    pub name: String,
    pub due: String,
    pub items: i64,
    pub undecided: i64,
    /// Undecided and kept at the same level in the previous closed campaign.
    pub unchanged: i64,
    /// Past its due date with undecided items.
    pub overdue: bool,
}

/// A reviewer's items in open campaigns, one page at a time: a department head may hold
/// thousands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Inbox {
    /// Every open campaign with items for the reviewer, soonest due first.
    pub campaigns: Vec<InboxCampaign>,
    pub total: i64,
    pub undecided: i64,
    pub unchanged: i64,
    /// This page: by due date and campaign, undecided first, then by system and account.
    pub items: Vec<ItemView>,
    pub offset: i64,
    pub limit: i64,
    /// Where the next page starts; none on the last page.
    pub next_offset: Option<i64>,
}

/// Items per inbox page unless asked otherwise, and the most one page may hold.
pub const INBOX_PAGE: i64 = 500;
pub const INBOX_PAGE_MAX: i64 = 5000;

/// The closing record's account table: one row per account, decision, reviewer and times.
pub fn items_csv(items: &[ItemView]) -> Vec<u8> {
    let mut out = String::from(
        "system,account,person,admin,last_activity,reviewer,decision,reason,change,decided_at,decided_by,task,carried_out_at,carried_out_by,time_to_revoke,source_evidence\n",
    );
    for i in items {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let row = [
            i.system.clone(),
            i.username.clone(),
            o(&i.person),
            i.admin.to_string(),
            o(&i.last_activity),
            i.reviewer.clone(),
            o(&i.decision),
            o(&i.reason),
            o(&i.change),
            o(&i.decided_at),
            o(&i.decided_by),
            o(&i.task),
            o(&i.carried_out_at),
            o(&i.carried_out_by),
            o(&i.time_to_revoke),
            i.source_evidence.clone(),
        ];
        push_row(&mut out, &row);
    }
    out.into_bytes()
}

/// One CSV line: a cell a spreadsheet would read as a formula gets a leading `'`, and a cell
/// with a comma, quote or line break is quoted (RFC 4180).
fn push_row(out: &mut String, cells: &[String]) {
    for (n, c) in cells.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let c = if c.starts_with(['=', '+', '-', '@']) {
            format!("'{c}")
        } else {
            c.clone()
        };
        if c.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&c);
        }
    }
    out.push('\n');
}

/// The account list a campaign froze, as its evidence file keeps it: each account, its reviewer,
/// and the import (evidence id) it came from.
pub fn frozen_csv(name: &str, planned: &[(Assigned, String)]) -> Vec<u8> {
    let mut out = format!(
        "# Accounts frozen at the start of the access review '{}'; source_evidence is the import each came from\n\
         system,external_id,username,email,human,admin,root,mfa,last_activity,reviewer,source_evidence\n",
        name.replace(['\n', '\r'], " ")
    );
    let day = |ms: i64| crate::date_of_ms(ms).map(crate::format_date).unwrap_or_default();
    for (a, source) in planned {
        let x = &a.account;
        push_row(
            &mut out,
            &[
                x.system.clone(),
                x.external_id.clone(),
                x.username.clone(),
                x.email.clone().unwrap_or_default(),
                x.human.to_string(),
                x.admin.to_string(),
                x.root.to_string(),
                x.mfa.map(|m| m.to_string()).unwrap_or_default(),
                x.last_activity.map(day).unwrap_or_default(),
                a.reviewer.clone(),
                source.clone(),
            ],
        );
    }
    out.into_bytes()
}

/// What a campaign's closing summary is written from.
#[derive(Debug, Clone)]
pub struct Closing {
    pub campaign: CampaignView,
    pub items: Vec<ItemView>,
    pub closed_on: time::Date,
    pub closed_by: String,
}

/// When a kind of campaign is next due, by the access-control policy's interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ScheduleLine {
    /// `all` or `privileged`.
    pub coverage: String,
    pub every_months: u32,
    /// `YYYY-MM-DD` the last campaign covering it closed.
    pub last: Option<String>,
    /// `YYYY-MM-DD` the next one must close by: the last plus the interval, or today if never.
    pub due: String,
    pub overdue: bool,
    /// An open campaign covering it, if one is running.
    pub running: Option<String>,
}

/// The recurring campaigns: every active account every `every_all` months, administrators every
/// `every_privileged` months. A campaign over every account covers administrators too.
/// `campaigns` are (coverage, closed on, id) with `None` for an open one.
pub fn schedule(
    campaigns: &[(Coverage, Option<time::Date>, String)],
    every_all: u32,
    every_privileged: u32,
    today: time::Date,
) -> Vec<ScheduleLine> {
    [(Coverage::All, every_all), (Coverage::Privileged, every_privileged)]
        .into_iter()
        .map(|(coverage, every)| {
            let covers = |c: Coverage| c == Coverage::All || c == coverage;
            let last = campaigns
                .iter()
                .filter(|(c, closed, _)| covers(*c) && closed.is_some())
                .filter_map(|(_, closed, _)| *closed)
                .max();
            let running = campaigns
                .iter()
                .find(|(c, closed, _)| covers(*c) && closed.is_none())
                .map(|(_, _, id)| id.clone());
            let due = last.map(|d| crate::add_months(d, every)).unwrap_or(today);
            ScheduleLine {
                coverage: coverage.as_str().to_string(),
                every_months: every,
                last: last.map(crate::format_date),
                due: crate::format_date(due),
                overdue: due < today && running.is_none(),
                running,
            }
        })
        .collect()
}

/// The campaigns the schedule says to start now: each kind with none running whose next review
/// is due within `lead_days`, due on the schedule's date (or `lead_days` from today when that
/// has passed). When both are due, one campaign over every account serves both.
pub fn due_to_start(lines: &[ScheduleLine], today: time::Date, lead_days: i64) -> Vec<CampaignDraft> {
    let horizon = today + time::Duration::days(lead_days);
    let due: Vec<(Coverage, time::Date)> = lines
        .iter()
        .filter(|l| l.running.is_none())
        .filter_map(|l| Some((Coverage::parse(&l.coverage).ok()?, crate::parse_date(&l.due).ok()?)))
        .filter(|(_, d)| *d <= horizon)
        .collect();
    let all = due.iter().find(|(c, _)| *c == Coverage::All);
    let chosen: Vec<(Coverage, time::Date)> = match all {
        Some(&(_, d)) => {
            let earliest = due.iter().map(|(_, x)| *x).min().unwrap_or(d);
            vec![(Coverage::All, earliest)]
        }
        None => due,
    };
    chosen
        .into_iter()
        .map(|(coverage, d)| CampaignDraft {
            name: format!(
                "{} review {}",
                match coverage {
                    Coverage::All => "Access",
                    Coverage::Privileged => "Privileged access",
                },
                &crate::format_date(today)[..7]
            ),
            systems: Vec::new(),
            coverage,
            rule: ReviewerRule::Manager,
            named: None,
            due: if d <= today { horizon } else { d },
        })
        .collect()
}
