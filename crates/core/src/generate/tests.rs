use std::collections::BTreeSet;

use evident_catalog::Catalog;
use time::macros::datetime;

use super::*;
use crate::checks::{self, BUILTIN};

const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn small(seed: u64) -> Company {
    company(Size::S, seed, NOW, Catalog::builtin())
}

fn emails(c: &Company) -> Vec<String> {
    c.people.iter().map(|p| p.get("email").to_text()).collect()
}

#[test]
fn the_same_seed_gives_the_same_company_and_another_seed_another() {
    let (a, b, other) = (small(7), small(7), small(8));
    assert_eq!(emails(&a), emails(&b));
    assert_eq!(a.documents.len(), b.documents.len());
    let contents = |c: &Company| c.documents.iter().map(|d| d.content.clone()).collect::<Vec<_>>();
    assert_eq!(contents(&a), contents(&b));
    assert_eq!(a.facts.changes.len(), b.facts.changes.len());
    assert_ne!(emails(&a), emails(&other));
}

#[test]
fn sizes_reach_their_targets() {
    for size in [Size::S, Size::M] {
        let d = size.dimensions();
        let c = company(size, 1, NOW, Catalog::builtin());
        assert_eq!(c.people.len(), d.people, "{size:?}");
        assert_eq!(c.assets.len(), d.assets);
        assert_eq!(c.vendors.len(), d.vendors);
        assert_eq!(c.risks.len(), d.risks.max(Catalog::builtin().risks.len()));
        assert_eq!(c.facts.changes.len(), d.changes);
        assert_eq!(c.facts.protections.len(), d.repositories);
        // The target, or more where every occurrence of the periodic controls needs its record.
        assert!(c.documents.len() >= d.documents, "{size:?}: documents");
        let findings = c.facts.findings.len();
        assert!(findings > d.findings * 9 / 10 && findings <= d.findings, "{findings}");
        let per_person = c.facts.accounts.len() as f64 / d.people as f64;
        assert!((5.0..7.0).contains(&per_person), "{per_person} accounts per person");
        let systems: BTreeSet<_> = c.facts.accounts.iter().map(|(_, a)| a.system.clone()).collect();
        assert_eq!(systems.len(), 8);
        // Every fact points at a real document.
        assert!(c.facts.accounts.iter().all(|(d, _)| *d < c.documents.len()));
        assert!(c.facts.changes.iter().all(|(d, _)| *d < c.documents.len()));
    }
}

#[test]
fn keys_are_unique_where_the_registers_need_them() {
    let c = company(Size::M, 3, NOW, Catalog::builtin());
    let unique = |v: Vec<String>| {
        let n = v.len();
        v.into_iter().collect::<BTreeSet<_>>().len() == n
    };
    assert!(unique(emails(&c)));
    assert!(unique(c.assets.iter().map(|a| a.get("name").to_text()).collect()));
    assert!(unique(c.vendors.iter().map(|(v, _)| v.get("name").to_text()).collect()));
    assert!(unique(c.risks.iter().map(|r| r.get("id").to_text()).collect()));
    assert!(unique(c.events.iter().map(|(e, _)| e.get("id").to_text()).collect()));
    assert!(unique(
        c.facts
            .accounts
            .iter()
            .map(|(_, a)| format!("{} {}", a.system, a.external_id))
            .collect()
    ));
    assert!(unique(
        c.facts
            .changes
            .iter()
            .map(|(_, ch)| format!("{} {}", ch.repository, ch.number))
            .collect()
    ));
    let every_record_is_valid = |spec: &crate::register::RegisterSpec, records: &[Record]| {
        for r in records {
            for f in spec.fields.iter().filter(|f| f.required) {
                assert_ne!(
                    r.get(f.name),
                    &Value::Null,
                    "{} {} missing {}",
                    spec.name,
                    r.key(spec),
                    f.name
                );
            }
        }
    };
    every_record_is_valid(&crate::registers::PEOPLE, &c.people);
    every_record_is_valid(&crate::registers::ASSETS, &c.assets);
    every_record_is_valid(&crate::registers::RISKS, &c.risks);
}

/// The point of the generator: neither all green nor all red, through the real checks.
#[test]
fn checks_over_the_company_give_a_mix() {
    let c = company(Size::S, 42, NOW, Catalog::builtin());
    let facts = c.check_facts();
    let results: Vec<_> = BUILTIN.iter().map(|d| checks::run(d, &facts, &[], NOW)).collect();
    let failing: Vec<_> = results
        .iter()
        .filter(|r| r.status == checks::CheckStatus::Fail)
        .map(|r| &r.id)
        .collect();
    let passing = results.iter().filter(|r| r.status == checks::CheckStatus::Pass).count();
    for must_fail in [
        "tabletop-annual",
        "aws-root-no-access-keys",
        "changes-independently-approved",
    ] {
        assert!(
            failing.iter().any(|f| *f == must_fail),
            "{must_fail} should fail: {failing:?}"
        );
    }
    assert!(passing >= 8, "{passing} passing: {failing:?}");
    assert!(failing.len() >= 8, "{failing:?}");

    let h = history(&results, 42, NOW.unix_timestamp() * 1000, 30);
    let days: Vec<_> = (1..=30).rev().map(|ago| h.day(ago)).collect();
    assert!(days.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
    for (_, runs) in &days {
        for (past, now) in runs.iter().zip(&results) {
            assert_eq!(past.id, now.id);
            assert_eq!(past.passed + past.failed, now.passed + now.failed, "{}", now.id);
            assert!(past.failed <= now.failed);
            assert_eq!(past.failed, past.failures.len());
        }
    }
}

/// What an auditor would catch: nothing after the company's instant, policies accepted only
/// after they went out and while the person worked there, training and changes inside
/// employment, accounts used between creation and leaving, every document added by someone
/// of the company. At noon, early in the morning (today's working hours not begun) and at
/// midnight.
#[test]
fn nothing_contradicts_the_calendar() {
    for now in [NOW, datetime!(2026-11-23 07:15 UTC), datetime!(2026-11-23 00:00 UTC)] {
        for seed in [7, 42] {
            let c = company(Size::S, seed, now, Catalog::builtin());
            let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
            let today = now.date();
            let day = |ms: i64| date_of_ms(ms).unwrap();
            let people: BTreeMap<String, (Date, Option<Date>)> = c
                .people
                .iter()
                .map(|p| {
                    let start = p.get("start_date").as_date().unwrap();
                    (p.get("email").to_text(), (start, p.get("end_date").as_date()))
                })
                .collect();
            let employed = |email: &str, on: Date| {
                let (start, end) = people[email];
                start <= on && end.is_none_or(|e| on <= e)
            };
            let login = |email: &str| email.split('@').next().unwrap().replace('.', "-");
            let by_login: BTreeMap<String, String> = people.keys().map(|e| (login(e), e.clone())).collect();

            for d in &c.documents {
                assert!(d.captured_at <= now_ms, "{now} {}: captured after now", d.title);
                let attests = d.period.map(|p| p.1).or(d.effective_date);
                assert!(attests.is_none_or(|a| a <= day(d.captured_at)), "{}", d.title);
                assert!(
                    people.contains_key(&d.added_by) && employed(&d.added_by, today),
                    "{}: added by {:?}",
                    d.title,
                    d.added_by
                );
            }

            assert!(c.policies_drafted <= now_ms);
            for (_, approved) in &c.approve_only {
                assert!(c.policies_drafted < *approved && *approved <= now_ms);
            }
            let (window_from, _) = observation_window(today);
            for (id, approved, published) in &c.publish {
                assert!(c.policies_drafted < *approved && approved < published, "{id}");
                assert!(day(*published) < window_from, "{id} in force all through the window");
                let accepted = &c.acceptances.iter().find(|(p, _)| p == id).unwrap().1;
                assert!(!accepted.is_empty(), "{id}");
                for (email, at) in accepted {
                    assert!(published < at && *at <= now_ms, "{id} {email}");
                    assert!(employed(email, day(*at)), "{id}: {email} accepted outside employment");
                }
            }

            for t in &c.training {
                let on = t.get("completed_on").as_date().unwrap();
                let email = t.get("email").to_text();
                assert!(on <= today && employed(&email, on), "{email} trained on {on}");
            }
            for (_, ch) in &c.facts.changes {
                let on = day(ch.merged_at);
                assert!(ch.merged_at <= now_ms);
                for who in std::iter::once(&ch.author).chain(&ch.approvers) {
                    assert!(employed(&by_login[who], on), "{who} on {}#{}", ch.repository, ch.number);
                }
            }
            for (_, a) in &c.facts.accounts {
                let created = a.created_at.unwrap();
                assert!(created <= now_ms && a.disabled_at.is_none_or(|d| created <= d && d <= now_ms));
                if let Some(last) = a.last_activity {
                    assert!(created <= last && last <= now_ms, "{} {}", a.system, a.username);
                    if let Some((start, end)) = a.email.as_deref().and_then(|e| people.get(e)) {
                        assert!(*start <= day(created), "{}", a.username);
                        assert!(
                            end.is_none_or(|e| e >= today || day(last) <= e),
                            "{} used after leaving",
                            a.username
                        );
                    }
                }
            }
            for g in &c.grants {
                let email = g.get("email").to_text();
                let from = g.get("starts_on").as_date().unwrap();
                assert!(people[&email].0 <= from, "{email} granted before joining");
                assert!(employed(&g.get("approved_by").to_text(), from));
            }
            for (e, _) in &c.events {
                assert!(e.get("date").as_date().unwrap() <= today);
            }
            for (_, l) in &c.facts.findings {
                assert!(l.first_seen <= l.last_seen && l.last_seen <= now_ms);
            }
        }
    }
}
