//! A made-up company, deterministic for a seed and an instant: people, accounts in eight
//! systems, assets, vendors, risks, changes, findings, evidence and events, with a realistic
//! mix of gaps (mostly maintained, some lapsed, some never started). Used by `evident demo`,
//! `evident generate` and the benchmarks. Pure: the caller stores what comes back.

mod history;
mod narratives;
mod words;

use std::collections::BTreeMap;

use evident_catalog::{Catalog, Frequency, Refresh};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

pub use history::history;

use crate::checks::Exclusion;
use crate::facts::{AccessKey, Account, Change, Device, Finding, Protection, Severity};
use crate::register::{Record, Value};
use crate::registers::risk_from_template;
use crate::{date_of_ms, format_date};
use words::*;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    S,
    M,
    L,
}

impl Size {
    pub fn parse(s: &str) -> Option<Size> {
        match s {
            "s" => Some(Size::S),
            "m" => Some(Size::M),
            "l" => Some(Size::L),
            _ => None,
        }
    }

    pub fn dimensions(self) -> Dimensions {
        match self {
            Size::S => Dimensions {
                people: 60,
                assets: 150,
                vendors: 25,
                risks: 59,
                repositories: 8,
                changes: 2_000,
                scan_scopes: 10,
                findings: 1_000,
                documents: 1_500,
            },
            Size::M => Dimensions {
                people: 1_000,
                assets: 2_000,
                vendors: 120,
                risks: 120,
                repositories: 60,
                changes: 20_000,
                scan_scopes: 60,
                findings: 10_000,
                documents: 4_000,
            },
            Size::L => Dimensions {
                people: 10_000,
                assets: 20_000,
                vendors: 500,
                risks: 300,
                repositories: 400,
                changes: 200_000,
                scan_scopes: 300,
                findings: 100_000,
                documents: 20_000,
            },
        }
    }
}

/// Target counts; accounts follow from people (about six per person across eight systems).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Dimensions {
    pub people: usize,
    pub assets: usize,
    pub vendors: usize,
    pub risks: usize,
    pub repositories: usize,
    pub changes: usize,
    pub scan_scopes: usize,
    pub findings: usize,
    /// Evidence items in all, raw exports included.
    pub documents: usize,
}

/// SplitMix64: tiny, fast and stable across platforms and releases, which a seeded
/// generator needs more than statistical finesse.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, stream: u64) -> Rng {
        Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// An evidence item to store: its bytes and what it attests to.
#[derive(Debug, Clone)]
pub struct Document {
    pub title: String,
    pub file_name: String,
    pub media_type: &'static str,
    pub controls: Vec<(String, Option<String>)>,
    pub effective_date: Option<Date>,
    pub period: Option<(Date, Date)>,
    pub captured_at: i64,
    /// person, import or connector.
    pub source_kind: crate::evidence::SourceKind,
    pub source_ref: String,
    pub content: Vec<u8>,
    /// The e-mail of the person of the company who added it (the owner of the control it
    /// serves, or whoever runs the system an export comes from).
    pub added_by: String,
}

#[derive(Debug, Clone)]
pub struct FindingLife {
    pub finding: Finding,
    pub scope: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub fixed_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Scan {
    pub source: String,
    pub scope: String,
    pub observed_at: i64,
    pub findings: i64,
}

/// Facts, each with the index in `Company::documents` of the raw export it came from.
#[derive(Debug, Clone, Default)]
pub struct GeneratedFacts {
    pub accounts: Vec<(usize, Account)>,
    pub findings: Vec<(usize, FindingLife)>,
    pub scans: Vec<(usize, Scan)>,
    pub protections: Vec<(usize, Protection)>,
    pub changes: Vec<(usize, Change)>,
    pub devices: Vec<(usize, Device)>,
}

#[derive(Debug, Clone)]
pub struct Company {
    pub organisation: String,
    pub domain: String,
    pub people: Vec<Record>,
    pub training: Vec<Record>,
    pub background_checks: Vec<Record>,
    pub assets: Vec<Record>,
    /// Service accounts with their owners (one left unregistered), and elevations of access.
    pub machine_identities: Vec<Record>,
    pub grants: Vec<Record>,
    pub risks: Vec<Record>,
    /// Each with the document holding its SOC 2 report, when it sent one.
    pub vendors: Vec<(Record, Option<usize>)>,
    /// Each with the documents that record it.
    pub events: Vec<(Record, Vec<usize>)>,
    /// Owner role (catalog vocabulary) → the email of who holds it; roles left out stay unowned.
    pub owners: BTreeMap<String, String>,
    /// Named roles for policy placeholders: role → "Name (Title)".
    pub roles: Vec<(String, String)>,
    pub documents: Vec<Document>,
    pub facts: GeneratedFacts,
    /// When the policy library was adopted: every version 1 was drafted then.
    pub policies_drafted: i64,
    /// Policy template ids to approve and publish, with when each was approved and published
    /// (both before the observation window opened, and before anyone accepted it).
    pub publish: Vec<(String, i64, i64)>,
    /// Policy template ids approved (when) but not yet published.
    pub approve_only: Vec<(String, i64)>,
    /// Policy id → (email, accepted at ms): each after the version's publication, inside the
    /// person's employment and not after the instant of the company.
    pub acceptances: Vec<(String, Vec<(String, i64)>)>,
    /// Risk ids reviewed this quarter, and risk ids signed off.
    pub risk_reviews: Vec<String>,
    pub risk_sign_offs: Vec<String>,
    /// The system description's narrative parts, as its people would write them.
    pub narratives: Vec<(&'static str, String)>,
    pub exclusions: Vec<Exclusion>,
}

impl Company {
    /// The e-mail of who holds `role` (the catalog's owner roles: `executive`, `compliance`,
    /// `hr`, `it`, `security` …): the person the generator acts as when it stores that role's
    /// work. The compliance manager stands in for roles nobody holds.
    pub fn holder(&self, role: &str) -> &str {
        self.owners
            .get(role)
            .or_else(|| self.owners.get("compliance"))
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// What the checks read, straight from the generated values (no database): for tests and
    /// benchmarks of the engines. Policies, controls and risk sign-offs are left empty.
    pub fn check_facts(&self) -> crate::checks::Facts {
        crate::checks::Facts {
            people: self.people.clone(),
            training: self.training.clone(),
            background_checks: self.background_checks.clone(),
            assets: self.assets.clone(),
            vendors: self.vendors.iter().map(|(v, _)| v.clone()).collect(),
            events: self.events.iter().map(|(e, _)| e.clone()).collect(),
            accounts: self.facts.accounts.iter().map(|(_, a)| a.clone()).collect(),
            changes: self.facts.changes.iter().map(|(_, c)| c.clone()).collect(),
            protections: self.facts.protections.iter().map(|(_, p)| p.clone()).collect(),
            devices: self.facts.devices.iter().map(|(_, d)| d.clone()).collect(),
            findings: self
                .facts
                .findings
                .iter()
                .map(|(_, l)| crate::checks::FindingFact {
                    finding: l.finding.clone(),
                    scope: l.scope.clone(),
                    first_seen: l.first_seen,
                    fixed_at: l.fixed_at,
                })
                .collect(),
            scans: self
                .facts
                .scans
                .iter()
                .map(|(_, s)| (s.source.clone(), s.scope.clone(), s.observed_at))
                .collect(),
            ..crate::checks::Facts::default()
        }
    }
}

struct Person {
    email: String,
    name: String,
    login: String,
    department: &'static str,
    start: Date,
    end: Option<Date>,
    leader: bool,
}

impl Person {
    fn employed(&self, today: Date) -> bool {
        self.start <= today && self.end.is_none_or(|e| e >= today)
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn record(values: Vec<(&'static str, Value)>) -> Record {
    Record {
        values: values.into_iter().collect(),
    }
}

/// An instant in working hours on `day`, never after `now_ms`: of today, only the hours
/// already gone by (from midnight when the working day has not begun).
fn at_ms(day: Date, rng: &mut Rng, now_ms: i64) -> i64 {
    let midnight = day.midnight().assume_utc().unix_timestamp() * 1000;
    let latest = ((now_ms - midnight) / 1000).clamp(0, 18 * 3600);
    midnight + rng.range((8 * 3600).min(latest), latest) * 1000
}

/// The company for `seed`, as it stands at `now`.
pub fn company(size: Size, seed: u64, now: OffsetDateTime, catalog: &Catalog) -> Company {
    let dims = size.dimensions();
    let today = now.date();
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let name = [
        "Northwind Cloud",
        "Bluefin Analytics",
        "Cobalt Ledger",
        "Harbor Health Data",
    ][(seed % 4) as usize];
    let domain = format!(
        "{}.example",
        name.split(' ').next().unwrap_or("acme").to_ascii_lowercase()
    );
    let mut c = Company {
        organisation: name.to_string(),
        domain: domain.clone(),
        people: Vec::new(),
        training: Vec::new(),
        background_checks: Vec::new(),
        assets: Vec::new(),
        machine_identities: Vec::new(),
        grants: Vec::new(),
        risks: Vec::new(),
        vendors: Vec::new(),
        events: Vec::new(),
        owners: BTreeMap::new(),
        roles: Vec::new(),
        documents: Vec::new(),
        facts: GeneratedFacts::default(),
        policies_drafted: 0,
        publish: Vec::new(),
        approve_only: Vec::new(),
        acceptances: Vec::new(),
        risk_reviews: Vec::new(),
        risk_sign_offs: Vec::new(),
        exclusions: Vec::new(),
        narratives: narratives::narratives(name, "eu-west-1"),
    };
    let people = people(&mut c, dims, seed, today);
    hr_records(&mut c, &people, seed, today);
    accounts(&mut c, &people, seed, today, now_ms);
    assets_and_devices(&mut c, &people, dims, seed, today, now_ms);
    vendors(&mut c, &people, dims, seed, today, now_ms);
    risks(&mut c, &people, dims, seed, catalog);
    code(&mut c, &people, dims, seed, now_ms);
    findings(&mut c, dims, seed, now_ms);
    events(&mut c, &people, seed, today, now_ms);
    policies(&mut c, &people, seed, today, now_ms, catalog);
    control_documents(&mut c, &people, dims, seed, today, now_ms, catalog);
    added_by(&mut c, catalog);
    c.exclusions.push(Exclusion {
        check: "inactive-accounts".into(),
        record: format!("okta/breakglass@{domain}"),
        reason: "Break-glass administrator, used only when single sign-on is down; tested twice a year".into(),
        owner: people[2].email.clone(),
        expires: today + Duration::days(180),
    });
    c
}

fn people(c: &mut Company, dims: Dimensions, seed: u64, today: Date) -> Vec<Person> {
    let mut rng = Rng::new(seed, 1);
    let mut out: Vec<Person> = Vec::with_capacity(dims.people);
    let mut taken = std::collections::HashSet::new();
    let total_share: u32 = DEPARTMENTS.iter().map(|d| d.1).sum();
    for i in 0..dims.people {
        let first = *rng.pick(FIRST);
        let last = *rng.pick(LAST);
        let base = format!("{}.{}", first.to_ascii_lowercase(), last.to_ascii_lowercase());
        let mut local = base.clone();
        let mut n = 1;
        while !taken.insert(local.clone()) {
            n += 1;
            local = format!("{base}{n}");
        }
        let leader = LEADERS.get(i);
        let department = if let Some(l) = leader {
            l.1
        } else {
            let mut roll = rng.below(u64::from(total_share)) as u32;
            let mut dept = DEPARTMENTS[0].0;
            for d in DEPARTMENTS {
                if roll < d.1 {
                    dept = d.0;
                    break;
                }
                roll -= d.1;
            }
            dept
        };
        // Tenure: leaders long-standing; staff spread over six years, some joining this quarter.
        let start = if leader.is_some() {
            today - Duration::days(rng.range(900, 2200))
        } else if rng.chance(60) {
            today - Duration::days(rng.range(0, 60))
        } else {
            today - Duration::days(rng.range(61, 2190))
        };
        // About one in nine has left in the past year.
        let end = if leader.is_none() && rng.chance(110) {
            let worked = (today - start).whole_days().max(1);
            Some(today - Duration::days(rng.range(1, worked.min(365))))
        } else {
            None
        };
        out.push(Person {
            email: format!("{local}@{}", c.domain),
            name: format!("{first} {last}"),
            login: local.replace('.', "-"),
            department,
            start,
            end,
            leader: leader.is_some(),
        });
    }
    // Managers: leaders report to the chief executive; staff to someone of their department.
    let mut by_department: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in out.iter().enumerate() {
        by_department.entry(p.department).or_default().push(i);
    }
    let head_of = |dept: &str| LEADERS.iter().position(|l| l.1 == dept);
    for (i, p) in out.iter().enumerate() {
        let (title, manager): (String, Option<usize>) = if p.leader {
            (LEADERS[i].0.into(), if i == 0 { None } else { Some(0) })
        } else {
            let titles = DEPARTMENTS
                .iter()
                .find(|d| d.0 == p.department)
                .map(|d| d.2)
                .unwrap_or(&["Specialist"]);
            let peers = &by_department[p.department];
            // One in eight of a department manages; the rest report to one of them.
            let pos = peers.iter().position(|x| *x == i).unwrap_or(0);
            let manager = if pos % 8 == 0 {
                head_of(p.department).or(Some(1))
            } else {
                Some(peers[(pos / 8) * 8])
            };
            // A few records arrive without a manager, as HR exports do.
            let manager = if rng.chance(4) { None } else { manager };
            (rng.pick(titles).to_string(), manager)
        };
        let employment = if p.leader {
            "employee"
        } else {
            match rng.below(100) {
                0..=87 => "employee",
                88..=96 => "contractor",
                _ => "intern",
            }
        };
        // Most contractors have an agreed end date; a few are open-ended (a finding).
        let end = match (p.end, employment) {
            (None, "contractor") if !rng.chance(100) => Some(today + Duration::days(rng.range(30, 400))),
            (e, _) => e,
        };
        c.people.push(record(vec![
            ("email", text(&p.email)),
            ("name", text(&p.name)),
            ("title", text(title)),
            ("department", text(p.department)),
            (
                "manager_email",
                manager.map(|m| text(&out[m].email)).unwrap_or(Value::Null),
            ),
            ("employment_type", text(employment)),
            ("start_date", Value::Date(p.start)),
            ("end_date", end.map(Value::Date).unwrap_or(Value::Null)),
        ]));
    }
    for (i, (title, _, roles)) in LEADERS.iter().enumerate().take(out.len()) {
        for role in *roles {
            // Finance- and support-owned controls are left without an owner: gaps to find.
            if !matches!(*role, "finance" | "support") {
                c.owners.insert(role.to_string(), out[i].email.clone());
            }
        }
        let key = match *roles {
            ["security"] => "security_officer",
            ["engineering"] => "cto",
            ["executive"] => "ceo",
            ["hr"] => "people_lead",
            ["privacy"] => "privacy_officer",
            ["it"] => "it_lead",
            _ => continue,
        };
        c.roles.push((key.into(), format!("{} ({title})", out[i].name)));
    }
    out
}

fn hr_records(c: &mut Company, people: &[Person], seed: u64, today: Date) {
    let mut rng = Rng::new(seed, 2);
    for p in people {
        if p.start > today {
            continue;
        }
        let last_day = p.end.unwrap_or(today).min(today);
        // Awareness training at onboarding (mostly within the first month) and yearly after.
        if rng.chance(960) {
            let lag = if rng.chance(950) {
                rng.range(1, 25)
            } else {
                rng.range(31, 80)
            };
            let first = (p.start + Duration::days(lag)).min(last_day);
            c.training.push(training(
                &p.email,
                "Security awareness: onboarding",
                "security_awareness",
                first,
            ));
            let mut next = first + Duration::days(rng.range(330, 372));
            while next <= last_day {
                // One in thirty lets the yearly refresher lapse.
                if rng.chance(33) {
                    break;
                }
                c.training.push(training(
                    &p.email,
                    "Security awareness: annual refresher",
                    "security_awareness",
                    next,
                ));
                next += Duration::days(rng.range(340, 372));
            }
        }
        if matches!(p.department, "Engineering" | "Infrastructure" | "Security" | "Data") && rng.chance(950) {
            // Secure coding at onboarding, renewed yearly like awareness.
            let mut on = (p.start + Duration::days(rng.range(5, 60))).min(last_day);
            while on <= last_day {
                c.training
                    .push(training(&p.email, "Secure coding fundamentals", "secure_coding", on));
                if rng.chance(20) {
                    break;
                }
                on += Duration::days(rng.range(330, 365));
            }
        }
        let status = match rng.below(1000) {
            0..=955 => "passed",
            956..=975 => "pending",
            976..=985 => "waived",
            _ => continue, // no check on record at all
        };
        let done = p.start - Duration::days(rng.range(-3, 20));
        c.background_checks.push(record(vec![
            ("email", text(&p.email)),
            ("status", text(status)),
            (
                "completed_on",
                if status == "pending" {
                    Value::Null
                } else {
                    Value::Date(done.min(today))
                },
            ),
            ("provider", text("Screenwise")),
            (
                "notes",
                if status == "waived" {
                    text("Rehire within 12 months; prior check on file")
                } else {
                    Value::Null
                },
            ),
        ]));
    }
}

fn training(email: &str, course: &str, kind: &str, on: Date) -> Record {
    record(vec![
        ("email", text(email)),
        ("course", text(course)),
        ("kind", text(kind)),
        ("completed_on", Value::Date(on)),
    ])
}

struct SystemProfile {
    system: &'static str,
    /// Share of staff (per mille) with an account, by kind of department.
    share: fn(&str) -> u64,
    /// Per mille of human accounts with MFA on; `None` when the source does not report MFA.
    mfa: Option<u64>,
    admins_per_mille: u64,
    keys: bool,
}

fn technical(dept: &str) -> bool {
    matches!(dept, "Engineering" | "Infrastructure" | "Security" | "Data" | "IT")
}

const SYSTEMS: &[SystemProfile] = &[
    SystemProfile {
        system: "okta",
        share: |_| 1000,
        mfa: Some(997),
        admins_per_mille: 1,
        keys: false,
    },
    SystemProfile {
        system: "google-workspace",
        share: |_| 1000,
        mfa: Some(990),
        admins_per_mille: 1,
        keys: false,
    },
    SystemProfile {
        system: "slack",
        share: |_| 970,
        mfa: Some(960),
        admins_per_mille: 2,
        keys: false,
    },
    SystemProfile {
        system: "jira",
        share: |d| {
            if matches!(d, "Sales" | "Marketing" | "Finance") {
                500
            } else {
                950
            }
        },
        // Behind single sign-on; the export reports the identity provider's MFA state.
        mfa: Some(996),
        admins_per_mille: 2,
        keys: false,
    },
    SystemProfile {
        system: "salesforce",
        share: |d| {
            if matches!(d, "Sales" | "Customer Success" | "Marketing" | "Finance") {
                1000
            } else {
                300
            }
        },
        mfa: Some(975),
        admins_per_mille: 3,
        keys: false,
    },
    SystemProfile {
        system: "github",
        share: |d| if technical(d) || d == "Product" { 1000 } else { 40 },
        mfa: Some(985),
        admins_per_mille: 3,
        keys: false,
    },
    SystemProfile {
        system: "aws:210987654321",
        share: |d| {
            if matches!(d, "Infrastructure" | "Security") {
                900
            } else if technical(d) {
                120
            } else {
                0
            }
        },
        mfa: Some(970),
        admins_per_mille: 60,
        keys: true,
    },
    SystemProfile {
        system: "aws:109876543210",
        share: |d| if technical(d) { 800 } else { 20 },
        mfa: Some(930),
        admins_per_mille: 20,
        keys: true,
    },
];

fn accounts(c: &mut Company, people: &[Person], seed: u64, today: Date, now_ms: i64) {
    let mut rng = Rng::new(seed, 3);
    for (n, sys) in SYSTEMS.iter().enumerate() {
        let doc = c.documents.len();
        let mut list = Vec::new();
        for p in people {
            if p.start > today || (!p.leader && !rng.chance((sys.share)(p.department))) {
                continue;
            }
            let created = at_ms(p.start, &mut rng, now_ms);
            // Leavers: the identity provider disables; other systems mostly delete the
            // account, and a few keep it active (what the leaver check is for). Nobody uses an
            // account after their last working day.
            let (active, disabled_at, last_activity) = match p.end {
                Some(end) if end < today => {
                    let last = at_ms(end, &mut rng, now_ms).max(created);
                    let off = (last + rng.range(0, 20) * 3_600_000).min(now_ms);
                    if rng.chance(15) {
                        (true, None, Some(last))
                    } else if n < 2 {
                        (false, Some(off), Some(last))
                    } else {
                        continue;
                    }
                }
                _ if rng.chance(35) => (true, None, Some((now_ms - rng.range(91, 400) * DAY_MS).max(created))),
                _ => (
                    true,
                    None,
                    Some((now_ms - rng.range(0, 30 * 24) * 3_600_000).max(created)),
                ),
            };
            let admin = (p.leader && matches!(p.department, "IT" | "Infrastructure" | "Security"))
                || rng.chance(sys.admins_per_mille);
            let mfa = sys
                .mfa
                .map(|share| if admin { rng.chance(990) } else { rng.chance(share) });
            let mut access_keys = Vec::new();
            if sys.keys && rng.chance(400) {
                let age = if rng.chance(850) {
                    rng.range(1, 85)
                } else {
                    rng.range(95, 500)
                };
                access_keys.push(AccessKey {
                    label: "access_key_1".into(),
                    active: true,
                    last_rotated: Some(now_ms - age * DAY_MS),
                });
            }
            let username = if sys.system == "github" {
                p.login.clone()
            } else {
                p.email.clone()
            };
            // Cloud administrators hold time-bound grants approved by a security leader (another
            // leader for the security leader's own); the first has outlived its grant.
            if admin && active && sys.keys {
                let approver = people
                    .iter()
                    .filter(|q| q.leader && q.email != p.email)
                    .min_by_key(|q| q.department != "Security")
                    .map(|q| q.email.clone())
                    .unwrap_or_default();
                let expired = c.grants.is_empty();
                let (from, to) = if expired {
                    (today - Duration::days(40), today - Duration::days(5))
                } else {
                    (
                        today - Duration::days(rng.range(1, 60)),
                        today + Duration::days(rng.range(5, 90)),
                    )
                };
                // Nobody is granted access before they join.
                let from = from.max(p.start).min(to);
                c.grants.push(record(vec![
                    ("id", text(format!("AG-{}", c.grants.len() + 1))),
                    ("email", text(&p.email)),
                    ("system", text(sys.system)),
                    ("access", text("administrator")),
                    ("reason", text("on-call infrastructure work")),
                    ("approved_by", text(&approver)),
                    ("starts_on", Value::Date(from)),
                    ("ends_on", Value::Date(to)),
                ]));
            }
            list.push(Account {
                system: sys.system.into(),
                external_id: format!("{}-{:06}", &sys.system[..3.min(sys.system.len())], list.len() + 1),
                username,
                email: Some(p.email.clone()),
                human: true,
                mfa,
                admin,
                root: false,
                created_at: Some(created),
                last_activity,
                disabled_at,
                active,
                access_keys,
            });
        }
        // Machine identities, and the cloud accounts' root users. Each service account is in the
        // register but the last of the last system (a finding for the demo).
        let keeper = people
            .iter()
            .find(|p| p.leader && p.department == "Infrastructure")
            .or(people.first())
            .map(|p| p.email.clone())
            .unwrap_or_default();
        for (i, s) in SERVICES.iter().take(3 + n).enumerate() {
            if !(n == SYSTEMS.len() - 1 && i == 2 + n) {
                c.machine_identities.push(record(vec![
                    ("system", text(sys.system)),
                    ("account", text(format!("svc-{s}"))),
                    ("owner", text(&keeper)),
                    ("purpose", text(format!("the {s} service's own access"))),
                    ("rotation_days", Value::Null),
                    ("notes", Value::Null),
                ]));
            }
            list.push(Account {
                system: sys.system.into(),
                external_id: format!("svc-{s}"),
                username: format!("svc-{s}"),
                email: None,
                human: false,
                mfa: None,
                admin: false,
                root: false,
                created_at: Some(now_ms - 700 * DAY_MS),
                last_activity: Some(now_ms - DAY_MS),
                disabled_at: None,
                active: true,
                access_keys: Vec::new(),
            });
        }
        if sys.system == "okta" {
            list.push(Account {
                system: "okta".into(),
                external_id: "okta-breakglass".into(),
                username: format!("breakglass@{}", c.domain),
                email: Some(format!("breakglass@{}", c.domain)),
                human: true,
                mfa: Some(true),
                admin: true,
                root: false,
                created_at: Some(now_ms - 800 * DAY_MS),
                last_activity: Some(now_ms - 160 * DAY_MS),
                disabled_at: None,
                active: true,
                access_keys: Vec::new(),
            });
        }
        if sys.keys {
            let staging = n == SYSTEMS.len() - 1;
            list.push(Account {
                system: sys.system.into(),
                external_id: "root".into(),
                username: "<root_account>".into(),
                email: None,
                human: true,
                mfa: Some(true),
                admin: true,
                root: true,
                created_at: Some(now_ms - 1500 * DAY_MS),
                last_activity: Some(now_ms - 200 * DAY_MS),
                disabled_at: None,
                active: true,
                // The staging account's root still has an old key: a finding.
                access_keys: if staging {
                    vec![AccessKey {
                        label: "access_key_1".into(),
                        active: true,
                        last_rotated: Some(now_ms - 610 * DAY_MS),
                    }]
                } else {
                    Vec::new()
                },
            });
        }
        let observed = now_ms - rng.range(1, 20) * 3_600_000;
        let kind = match sys.system {
            "okta" => "okta-users",
            "google-workspace" => "google-workspace-users",
            s if s.starts_with("aws:") => "aws-credential-report",
            _ => "accounts",
        };
        c.documents.push(export(
            format!("{} accounts export", sys.system),
            format!("{}-accounts.jsonl", sys.system.replace(':', "-")),
            kind,
            observed,
            &list,
        ));
        c.facts.accounts.extend(list.into_iter().map(|a| (doc, a)));
    }
}

/// A raw export: the generated records as JSON lines, the way a collector would keep them.
fn export<T: Serialize>(title: String, file_name: String, kind: &str, at: i64, items: &[T]) -> Document {
    let mut content = format!("{{\"generated_by\":\"evident generate\",\"kind\":\"{kind}\"}}\n").into_bytes();
    for item in items {
        serde_json::to_writer(&mut content, item).expect("serialises");
        content.push(b'\n');
    }
    Document {
        title,
        file_name,
        media_type: "application/x-ndjson",
        controls: Vec::new(),
        effective_date: date_of_ms(at),
        period: None,
        captured_at: at,
        source_kind: crate::evidence::SourceKind::Import,
        source_ref: kind.to_string(),
        content,
        added_by: String::new(),
    }
}

fn assets_and_devices(c: &mut Company, people: &[Person], dims: Dimensions, seed: u64, today: Date, now_ms: i64) {
    let mut rng = Rng::new(seed, 4);
    let current: Vec<&Person> = people.iter().filter(|p| p.employed(today)).collect();
    let mut devices = Vec::new();
    for i in 0..dims.assets {
        let (name, kind, purpose, class, in_scope) = match rng.below(100) {
            0..=59 => (
                format!("LT-{:05}", i + 1),
                "hardware",
                "Staff laptop".to_string(),
                "confidential",
                true,
            ),
            60..=84 => {
                let svc = rng.pick(SERVICES);
                (
                    format!("{}-{}-{:04}", svc, rng.pick(&["vm", "lb", "queue", "bucket", "fn"]), i),
                    "cloud_resource",
                    format!("Runs the {svc} service"),
                    "restricted",
                    true,
                )
            }
            85..=94 => (
                format!("app-license-{:04}", i),
                "software",
                "Licensed business application".to_string(),
                "internal",
                rng.chance(500),
            ),
            _ => (
                format!("db-{}-{:04}", rng.pick(SERVICES), i),
                "data_store",
                "Customer data store".to_string(),
                "restricted",
                true,
            ),
        };
        // Two in a hundred assets have nobody's name against them.
        let owner = if rng.chance(20) || current.is_empty() {
            Value::Null
        } else {
            text(&rng.pick(&current).email)
        };
        if kind == "hardware" {
            let seen = if rng.chance(950) {
                now_ms - rng.range(1, 70) * 3_600_000
            } else {
                now_ms - rng.range(10, 60) * DAY_MS
            };
            devices.push(Device {
                hostname: name.clone(),
                last_seen: seen,
                disk_encrypted: Some(rng.chance(975)),
                os: Some(rng.pick(LAPTOP_MODELS).to_string()),
            });
        }
        c.assets.push(record(vec![
            ("name", text(name)),
            ("kind", text(kind)),
            ("owner", owner),
            ("purpose", text(purpose)),
            ("classification", text(class)),
            ("in_scope", Value::Bool(in_scope)),
        ]));
    }
    let doc = c.documents.len();
    let at = now_ms - 2 * 3_600_000;
    c.documents.push(export(
        "Endpoint inventory (osquery)".into(),
        "osquery-endpoints.jsonl".into(),
        "osquery",
        at,
        &devices,
    ));
    c.facts.devices.extend(devices.into_iter().map(|d| (doc, d)));
}

fn list(items: &[&str]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::List(items.iter().map(|s| s.to_string()).collect())
    }
}

fn vendors(c: &mut Company, people: &[Person], dims: Dimensions, seed: u64, today: Date, now_ms: i64) {
    let mut rng = Rng::new(seed, 5);
    let owners: Vec<&Person> = people.iter().filter(|p| p.employed(today)).take(200).collect();
    for i in 0..dims.vendors {
        let (stem, service, data) = VENDOR_KINDS[i % VENDOR_KINDS.len()];
        let presentation = SUBSERVICE_VENDORS.iter().find(|p| p.stem == stem);
        let name = format!("{stem}{} {}", rng.pick(VENDOR_SUFFIXES), i / VENDOR_KINDS.len() + 1);
        let tier = match (i % VENDOR_KINDS.len(), rng.below(100)) {
            (0..=2, _) => "critical",
            (_, 0..=14) => "high",
            (_, 15..=54) => "medium",
            _ => "low",
        };
        let mut report = None;
        let mut period_end = Value::Null;
        if matches!(tier, "critical" | "high") && rng.chance(930) {
            // Most reports are within the year; some have lapsed.
            let end = if rng.chance(930) {
                today - Duration::days(rng.range(20, 300))
            } else {
                today - Duration::days(rng.range(380, 600))
            };
            period_end = Value::Date(end);
            report = Some(c.documents.len());
            // Received some weeks after the period ended, and never after today.
            let received = (end + Duration::days(rng.range(20, 60))).min(today);
            c.documents.push(document(
                &mut rng,
                now_ms,
                format!("{name}: SOC 2 Type II report"),
                format!("{}-soc2.pdf.txt", name.to_ascii_lowercase().replace(' ', "-")),
                vec![("VEN-03".into(), None)],
                received,
                Some((end - Duration::days(364), end)),
                &format!("Independent service auditor's report for {name} ({service}), period ending {end}."),
            ));
        }
        let next_review = if rng.chance(950) {
            today + Duration::days(rng.range(10, 360))
        } else {
            today - Duration::days(rng.range(5, 120))
        };
        c.vendors.push((
            record(vec![
                ("name", text(&name)),
                ("service", text(service)),
                ("tier", text(tier)),
                (
                    "data_categories",
                    if rng.chance(40) {
                        Value::Null
                    } else {
                        Value::List(data.iter().map(|s| s.to_string()).collect())
                    },
                ),
                (
                    "owner",
                    if rng.chance(30) || owners.is_empty() {
                        Value::Null
                    } else {
                        text(&rng.pick(&owners).email)
                    },
                ),
                ("report_period_end", period_end),
                ("next_review", Value::Date(next_review)),
                ("cuecs", list(presentation.map(|p| p.cuecs).unwrap_or_default())),
                ("subservice", presentation.map_or(Value::Null, |p| text(p.presentation))),
                (
                    "dependent_criteria",
                    list(presentation.map(|p| p.criteria).unwrap_or_default()),
                ),
                ("csocs", list(presentation.map(|p| p.csocs).unwrap_or_default())),
            ]),
            report,
        ));
    }
}

fn risks(c: &mut Company, people: &[Person], dims: Dimensions, seed: u64, catalog: &Catalog) {
    let mut rng = Rng::new(seed, 6);
    let owners: Vec<&Person> = people.iter().filter(|p| p.leader).collect();
    let library = &catalog.risks;
    for i in 0..dims.risks.max(library.len()) {
        let t = &library[i % library.len()];
        let mut r = risk_from_template(t);
        if i >= library.len() {
            let n = i / library.len() + 1;
            let svc = SERVICES[i % SERVICES.len()];
            r.values.insert("id", text(format!("{}-{n}", t.id)));
            r.values.insert("title", text(format!("{} ({svc} service)", t.title)));
            r.values.insert("asset", text(format!("The {svc} service")));
        }
        if !rng.chance(40) {
            r.values.insert("owner", text(&rng.pick(&owners).email));
        }
        let id = r.get("id").to_text();
        if rng.chance(850) {
            c.risk_reviews.push(id.clone());
        }
        if rng.chance(950) {
            c.risk_sign_offs.push(id);
        }
        c.risks.push(r);
    }
}

fn code(c: &mut Company, people: &[Person], dims: Dimensions, seed: u64, now_ms: i64) {
    let mut rng = Rng::new(seed, 7);
    let engineers: Vec<&Person> = people
        .iter()
        .filter(|p| technical(p.department) || p.department == "Product")
        .collect();
    let org = c.domain.split('.').next().unwrap_or("acme").to_string();
    let repos: Vec<String> = (0..dims.repositories)
        .map(|i| {
            let svc = SERVICES[i % SERVICES.len()];
            match i / SERVICES.len() {
                0 => format!("{org}/{svc}"),
                n => format!("{org}/{svc}-{n}"),
            }
        })
        .collect();
    let doc = c.documents.len();
    let mut protections = Vec::new();
    for repo in &repos {
        protections.push(Protection {
            repository: repo.clone(),
            branch: "main".into(),
            source: "branch-protection".into(),
            required_approvals: if rng.chance(940) { rng.range(1, 2) } else { 0 },
            dismiss_stale_reviews: rng.chance(700),
            code_owner_reviews: rng.chance(400),
            status_checks: vec!["ci/test".into(), "ci/lint".into()],
            enforce_admins: rng.chance(700),
            allows_force_pushes: rng.chance(30),
        });
    }
    c.documents.push(export(
        "GitHub branch protection, all repositories".into(),
        "github-branch-protection.jsonl".into(),
        "github-branch-protection",
        now_ms - 3 * 3_600_000,
        &protections,
    ));
    c.facts.protections.extend(protections.into_iter().map(|p| (doc, p)));
    if engineers.len() < 2 {
        return;
    }
    // Pull requests: the busiest repositories take most changes; one export per repository and month.
    let mut by_batch: BTreeMap<(usize, i64), Vec<Change>> = BTreeMap::new();
    let mut numbers = vec![0i64; repos.len()];
    for _ in 0..dims.changes {
        let r = {
            let a = rng.below(repos.len() as u64);
            let b = rng.below(repos.len() as u64);
            a.min(b) as usize
        };
        numbers[r] += 1;
        let merged_at = now_ms - rng.range(0, 365 * 24 * 60) * 60_000;
        // Written and approved by people on the staff that day.
        let day = date_of_ms(merged_at).unwrap_or(Date::MIN);
        let author = pick_other(&mut rng, &engineers, "", day);
        let approvers = match rng.below(1000) {
            0..=7 => Vec::new(),
            8..=800 => vec![pick_other(&mut rng, &engineers, &author, day)],
            _ => vec![
                pick_other(&mut rng, &engineers, &author, day),
                pick_other(&mut rng, &engineers, &author, day),
            ],
        };
        let month = (now_ms - merged_at) / (30 * DAY_MS);
        by_batch.entry((r, month)).or_default().push(Change {
            repository: repos[r].clone(),
            number: numbers[r],
            title: format!("{} {}", rng.pick(CHANGE_VERBS), rng.pick(CHANGE_OBJECTS)),
            author,
            merged_at,
            approvers,
        });
    }
    for ((r, month), changes) in by_batch {
        let doc = c.documents.len();
        let at = now_ms - month * 30 * DAY_MS;
        c.documents.push(export(
            format!("Merged pull requests, {}, month -{month}", repos[r]),
            format!("{}-pulls-m{month}.jsonl", repos[r].replace('/', "-")),
            "github-pull-requests",
            at,
            &changes,
        ));
        c.facts.changes.extend(changes.into_iter().map(|ch| (doc, ch)));
    }
}

/// Someone other than `not` employed on `day`: drawn at random (most are), else the first
/// such person in the list (the leaders, who are always there).
fn pick_other(rng: &mut Rng, people: &[&Person], not: &str, day: Date) -> String {
    let fits = |p: &Person| p.login != not && p.employed(day);
    for _ in 0..64 {
        let p = rng.pick(people);
        if fits(p) {
            return p.login.clone();
        }
    }
    people
        .iter()
        .find(|p| fits(p))
        .map(|p| p.login.clone())
        .unwrap_or_default()
}

fn findings(c: &mut Company, dims: Dimensions, seed: u64, now_ms: i64) {
    let mut rng = Rng::new(seed, 8);
    let per_scope = (dims.findings / dims.scan_scopes.max(1)).max(1);
    for s in 0..dims.scan_scopes {
        let cloud = s % 10 == 9;
        let (source, scope) = if cloud {
            ("prowler", format!("aws:{}", 210_987_654_321u64 - s as u64))
        } else {
            let svc = SERVICES[s % SERVICES.len()];
            (
                if s % 2 == 0 { "trivy" } else { "grype" },
                format!("registry.example/{svc}:{}.{}", 1 + s / 20, s % 7),
            )
        };
        // Three in a hundred scopes have not been scanned for weeks.
        let last_scan = if rng.chance(30) {
            now_ms - rng.range(20, 60) * DAY_MS
        } else {
            now_ms - rng.range(1, 40) * 3_600_000
        };
        let mut lives = Vec::new();
        for f in 0..per_scope {
            let (id, resource, title, raw) = if cloud {
                let (check, title, sev) = *rng.pick(MISCONFIGS);
                (
                    check.to_string(),
                    format!("arn:aws:resource/{}-{f}", rng.pick(SERVICES)),
                    title.to_string(),
                    sev.to_string(),
                )
            } else {
                let pkg = rng.pick(PACKAGES);
                let sev = match rng.below(100) {
                    0..=2 => "CRITICAL",
                    3..=17 => "HIGH",
                    18..=57 => "MEDIUM",
                    _ => "LOW",
                };
                (
                    format!("CVE-{}-{}", 2021 + rng.below(6), 10_000 + rng.below(40_000)),
                    format!("{pkg} {}.{}.{}", rng.below(4), rng.below(20), rng.below(10)),
                    format!("{pkg}: memory safety flaw in a parser"),
                    if source == "grype" {
                        let mut s = sev.to_ascii_lowercase();
                        s[..1].make_ascii_uppercase();
                        s
                    } else {
                        sev.to_string()
                    },
                )
            };
            let severity = Severity::normalise(&raw);
            let first_seen = (last_scan - rng.range(0, 364) * DAY_MS).min(last_scan);
            // Fix times by severity: mostly inside the SLA, some late, some still open.
            let (fix_per_mille, lo, hi) = match severity {
                Severity::Critical => (950, 1, 9),
                Severity::High => (900, 2, 18),
                Severity::Medium => (920, 5, 40),
                _ => (850, 10, 120),
            };
            let fixed = first_seen + rng.range(lo, hi) * DAY_MS;
            let fixed_at = (rng.chance(fix_per_mille) && fixed <= last_scan).then_some(fixed);
            lives.push(FindingLife {
                finding: Finding {
                    source: source.into(),
                    external_id: id,
                    resource,
                    title,
                    severity,
                    severity_raw: raw,
                },
                scope: scope.clone(),
                first_seen,
                last_seen: fixed_at.unwrap_or(last_scan),
                fixed_at,
            });
        }
        // The same id on the same resource is one finding.
        lives.sort_by(|a, b| {
            (&a.finding.external_id, &a.finding.resource).cmp(&(&b.finding.external_id, &b.finding.resource))
        });
        lives.dedup_by(|a, b| {
            a.finding.external_id == b.finding.external_id && a.finding.resource == b.finding.resource
        });
        let open = lives.iter().filter(|l| l.fixed_at.is_none()).count() as i64;
        let doc = c.documents.len();
        let open_findings: Vec<&Finding> = lives
            .iter()
            .filter(|l| l.fixed_at.is_none())
            .map(|l| &l.finding)
            .collect();
        c.documents.push(export(
            format!("{source} scan of {scope}"),
            format!("{source}-{}.jsonl", scope.replace(['/', ':'], "-")),
            source,
            last_scan,
            &open_findings,
        ));
        c.facts.scans.push((
            doc,
            Scan {
                source: source.into(),
                scope: scope.clone(),
                observed_at: last_scan,
                findings: open,
            },
        ));
        c.facts.findings.extend(lives.into_iter().map(|l| (doc, l)));
    }
}

/// The observation window of a generated company: a year that opened on the first of the
/// month eight months ago, so its Type II story is well under way with a quarter to go.
pub fn observation_window(today: Date) -> (Date, Date) {
    let first = today.replace_day(1).expect("day 1 exists");
    let months = i32::from(u8::from(first.month())) - 1 + first.year() * 12 - 8;
    let from = Date::from_calendar_date(
        months.div_euclid(12),
        time::Month::try_from((months.rem_euclid(12) + 1) as u8).expect("1 to 12"),
        1,
    )
    .expect("the first of a month");
    (from, crate::add_months(from, 12).previous_day().expect("a real date"))
}

/// The quarter of the window in which the generated company skipped its access review, record
/// and evidence alike: the missed period its Type II story turns on (the window's second).
fn skipped_review(today: Date) -> (Date, Date) {
    let (from, _) = observation_window(today);
    (
        crate::add_months(from, 3),
        crate::add_months(from, 6).previous_day().expect("a real date"),
    )
}

/// The controls a built-in check tests, as the content says.
fn check_controls(id: &str) -> Vec<String> {
    crate::checks::BUILTIN
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.controls().map(str::to_string).collect())
        .unwrap_or_default()
}

/// (event kind, check whose controls it demonstrates, days ago it happened, title)
const RECURRING: &[(&str, &str, &[i64], &str)] = &[
    (
        "access_review",
        "access-review-quarter",
        &[25, 115, 205, 295],
        "Quarterly user access review",
    ),
    (
        "risk_assessment",
        "risk-assessment-annual",
        &[240],
        "Annual risk assessment",
    ),
    ("dr_test", "dr-test-annual", &[300], "Disaster recovery failover test"),
    // Last tabletop was over a year ago: the checklist should say so.
    (
        "tabletop_exercise",
        "tabletop-annual",
        &[410],
        "Incident response tabletop exercise",
    ),
    (
        "backup_restore_test",
        "restore-test-quarter",
        &[35, 125, 215, 305],
        "Backup restore test",
    ),
    (
        "penetration_test",
        "pentest-annual",
        &[150],
        "External penetration test",
    ),
    (
        "management_review",
        "management-review-quarter",
        &[60, 150, 240, 330],
        "Security management review",
    ),
];

fn events(c: &mut Company, people: &[Person], seed: u64, today: Date, now_ms: i64) {
    let mut rng = Rng::new(seed, 9);
    let skipped = skipped_review(today);
    let mut n = 0;
    let mut push = |c: &mut Company, rng: &mut Rng, kind: &str, title: String, day: Date, controls: Vec<String>| {
        n += 1;
        let id = format!("EV-{}-{n:04}", day.year());
        let mut docs = Vec::new();
        // One record in twenty-five has no evidence attached.
        if !rng.chance(40) {
            docs.push(c.documents.len());
            let links = controls.iter().map(|k| (k.clone(), None)).collect();
            c.documents.push(document(
                rng,
                now_ms,
                format!("{title}: record"),
                format!("{}.md", id.to_ascii_lowercase()),
                links,
                day,
                None,
                &format!("# {title}\n\nHeld on {day}. Participants, scope, results and follow-ups are recorded below."),
            ));
        }
        c.events.push((
            record(vec![
                ("id", text(id)),
                ("kind", text(kind)),
                ("title", text(&title)),
                ("date", Value::Date(day)),
                ("summary", text(format!("{title}, {day}"))),
                ("outcome", text("Completed; follow-ups tracked as tasks")),
                ("evidence", Value::Null),
                ("controls", Value::List(controls)),
            ]),
            docs,
        ));
    };
    for (kind, check, days, title) in RECURRING {
        for d in *days {
            let day = today - Duration::days(*d);
            if *kind == "access_review" && skipped.0 <= day && day <= skipped.1 {
                continue;
            }
            push(
                c,
                &mut rng,
                kind,
                title.to_string(),
                today - Duration::days(*d),
                check_controls(check),
            );
        }
    }
    let incidents = 3 + people.len() / 400;
    for _ in 0..incidents {
        let day = today - Duration::days(rng.range(3, 360));
        let what = rng.pick(&[
            "Phishing email reported by staff",
            "Lost laptop",
            "Elevated API error rate",
            "Misdirected customer email",
            "Credential exposed in a public repository",
        ]);
        push(c, &mut rng, "incident", what.to_string(), day, vec!["INC-03".into()]);
    }
}

fn policies(c: &mut Company, people: &[Person], seed: u64, today: Date, now_ms: i64, catalog: &Catalog) {
    let mut rng = Rng::new(seed, 10);
    // The library was adopted a quarter before the observation window opened; management
    // approved each policy weeks later and it went out days after that, all before the window
    // opened, so every day of the window is governed by a published policy.
    let (window_from, _) = observation_window(today);
    let drafted = window_from - Duration::days(90);
    c.policies_drafted = at_ms(drafted, &mut rng, now_ms);
    let mut published = Vec::new();
    for (i, p) in catalog.policies.iter().enumerate() {
        match i % 8 {
            // Two drafts still in review, one approved last week or so but not yet out: a real
            // suite mid-way.
            5 if i > 8 => continue,
            6 => {
                let approved = today - Duration::days(rng.range(2, 20));
                c.approve_only.push((p.id.clone(), at_ms(approved, &mut rng, now_ms)));
            }
            _ => {
                let approved = drafted + Duration::days(rng.range(14, 60));
                let out = approved + Duration::days(rng.range(1, 14));
                let (approved_at, out_at) = (at_ms(approved, &mut rng, now_ms), at_ms(out, &mut rng, now_ms));
                c.publish.push((p.id.clone(), approved_at, out_at));
                published.push((p.id.clone(), out));
            }
        }
    }
    // Whoever was on the staff when a policy went out accepted it within weeks, and joiners in
    // their first days; leavers did too while they were there. People who joined in the last
    // weeks may not have yet (not due), and one in twenty-five let one policy slip (overdue).
    let mut slipped: BTreeMap<&str, usize> = BTreeMap::new();
    for p in people.iter().filter(|p| !p.leader && p.employed(today)) {
        if rng.chance(40) {
            slipped.insert(&p.email, rng.below(published.len() as u64) as usize);
        }
    }
    for (k, (id, out)) in published.iter().enumerate() {
        let mut list = Vec::new();
        for p in people {
            let from = p.start.max(*out + Duration::days(1));
            let until = p.end.unwrap_or(today).min(today);
            let lag = if rng.chance(900) {
                rng.range(0, 10)
            } else {
                rng.range(11, 28)
            };
            let day = from + Duration::days(lag);
            if day <= until && slipped.get(p.email.as_str()) != Some(&k) {
                list.push((p.email.clone(), at_ms(day, &mut rng, now_ms)));
            }
        }
        c.acceptances.push((id.clone(), list));
    }
}

/// How a requirement's evidence is kept, in per mille of requirements.
fn upkeep(rng: &mut Rng) -> &'static str {
    match rng.below(1000) {
        0..=619 => "maintained",
        620..=699 => "expiring",
        700..=849 => "lapsed",
        _ => "missing",
    }
}

fn control_documents(
    c: &mut Company,
    people: &[Person],
    dims: Dimensions,
    seed: u64,
    today: Date,
    now_ms: i64,
    catalog: &Catalog,
) {
    let mut rng = Rng::new(seed, 11);
    let mut per_event = Vec::new();
    let skipped = skipped_review(today);
    let reviewed = check_controls("access-review-quarter");
    for t in &catalog.library.controls {
        let skips = reviewed.contains(&t.id);
        // A periodic control's record of each occurrence is kept up through the window (the
        // Type II story has one missed review, above); continuous and per-event controls carry
        // the readiness gaps.
        let periodic = !matches!(t.frequency, Frequency::Continuous | Frequency::PerEvent);
        for req in &t.evidence {
            let plan = match upkeep(&mut rng) {
                // Kept, but due for renewal: at risk in readiness, every period met so far.
                "lapsed" | "missing" if periodic => "expiring",
                plan => plan,
            };
            let Some(valid) = req.refresh.validity_days().map(i64::from) else {
                per_event.push((t.id.clone(), req.key.clone(), req.title.clone()));
                if plan != "missing" {
                    for _ in 0..rng.range(1, 3) {
                        let day = today - Duration::days(rng.range(1, 300));
                        push_requirement(c, &mut rng, now_ms, &t.id, &req.key, &req.title, day);
                    }
                }
                continue;
            };
            let latest = match plan {
                "maintained" => today - Duration::days(rng.range(0, (valid - 31).max(0))),
                // Expires within the month (never dated after today, however short the cycle).
                "expiring" => today - Duration::days(valid - rng.range(1, valid.min(29))),
                "lapsed" => today - Duration::days(valid + rng.range(5, 120)),
                _ => continue,
            };
            // Earlier cycles back through the year (at most 60 per requirement), at least once
            // per period of a periodic control.
            let step = match t.frequency {
                Frequency::Daily => 1,
                Frequency::Weekly => 7,
                Frequency::Monthly => 28,
                Frequency::Quarterly => 89,
                _ => valid,
            }
            .min(valid)
            .max(1);
            let mut day = latest;
            for _ in 0..60 {
                if !(skips && skipped.0 <= day && day <= skipped.1) {
                    push_requirement(c, &mut rng, now_ms, &t.id, &req.key, &req.title, day);
                }
                day -= Duration::days(step);
                if today - day > Duration::days(365)
                    || matches!(req.refresh, Refresh::Daily) && today - day > Duration::days(14)
                {
                    break;
                }
            }
        }
    }
    // The rest: the day-to-day trail (access requests, onboarding and offboarding tickets),
    // each about someone on the staff that day (in the last year, before today).
    let staff: Vec<(&Person, Date, Date)> = people
        .iter()
        .filter(|p| !p.leader)
        .map(|p| {
            let first = p.start.max(today - Duration::days(364));
            (p, first, p.end.unwrap_or(today).min(today - Duration::days(1)))
        })
        .filter(|(_, first, last)| first <= last)
        .collect();
    let mut i = 0;
    while c.documents.len() < dims.documents && !per_event.is_empty() && !staff.is_empty() {
        let (code, key, title) = &per_event[i % per_event.len()];
        let (who, first, last) = staff[rng.below(staff.len() as u64) as usize];
        let day = first + Duration::days(rng.range(0, (last - first).whole_days()));
        c.documents.push(document(
            &mut rng,
            now_ms,
            format!("{title}: {}", who.name),
            format!("{}-{}-{i}.md", code.to_ascii_lowercase(), key),
            vec![(code.clone(), Some(key.clone()))],
            day,
            None,
            &format!(
                "# {title}\n\nFor {} ({}), {day}. Requested, approved and completed.",
                who.name, who.email
            ),
        ));
        i += 1;
    }
}

fn push_requirement(c: &mut Company, rng: &mut Rng, now_ms: i64, code: &str, key: &str, title: &str, day: Date) {
    let n = c.documents.len();
    c.documents.push(document(
        rng,
        now_ms,
        format!("{title} ({day})"),
        format!("{}-{key}-{}.md", code.to_ascii_lowercase(), format_date(day)),
        vec![(code.to_string(), Some(key.to_string()))],
        day,
        None,
        &format!("# {title}\n\nControl {code}, requirement {key}; collected {day} (item {n})."),
    ));
}

#[allow(clippy::too_many_arguments)]
fn document(
    rng: &mut Rng,
    now_ms: i64,
    title: String,
    file_name: String,
    controls: Vec<(String, Option<String>)>,
    day: Date,
    period: Option<(Date, Date)>,
    body: &str,
) -> Document {
    Document {
        captured_at: at_ms(day, rng, now_ms),
        content: format!("{body}\n\n(Generated by evident generate.)\n").into_bytes(),
        media_type: if file_name.ends_with(".md") {
            "text/markdown"
        } else {
            "text/plain"
        },
        title,
        file_name,
        controls,
        effective_date: if period.is_some() { None } else { Some(day) },
        period,
        source_kind: crate::evidence::SourceKind::Person,
        source_ref: "evident generate".into(),
        added_by: String::new(),
    }
}

/// Who added each document: the holder of the owner role of the first control it serves, or
/// for a raw export whoever runs the system it comes from.
fn added_by(c: &mut Company, catalog: &Catalog) {
    let roles: BTreeMap<&str, &str> = catalog
        .library
        .controls
        .iter()
        .map(|t| (t.id.as_str(), t.owner_role.as_str()))
        .collect();
    for i in 0..c.documents.len() {
        let d = &c.documents[i];
        let role = match d.controls.first() {
            Some((code, _)) => roles.get(code.as_str()).copied().unwrap_or("compliance"),
            None => match d.source_ref.as_str() {
                "aws-credential-report" => "infrastructure",
                "trivy" | "grype" | "prowler" => "security",
                s if s.starts_with("github") => "engineering",
                _ => "it",
            },
        };
        let who = c.holder(role).to_string();
        c.documents[i].added_by = who;
    }
}

#[cfg(test)]
mod tests;
