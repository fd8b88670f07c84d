use std::collections::BTreeMap;

use super::*;

fn account(system: &str, email: &str, admin: bool) -> Account {
    Account {
        system: system.into(),
        external_id: format!("{system}-{email}"),
        username: email.into(),
        email: Some(email.into()),
        human: true,
        mfa: Some(true),
        admin,
        root: false,
        created_at: None,
        last_activity: None,
        disabled_at: None,
        active: true,
        access_keys: Vec::new(),
    }
}

fn people() -> Directory {
    let p = |email: &str, manager: Option<&str>| Person {
        email: email.into(),
        name: email.into(),
        manager: manager.map(String::from),
    };
    Directory::new([
        p("ceo@x.io", None),
        p("cto@x.io", Some("ceo@x.io")),
        p("dev@x.io", Some("cto@x.io")),
        p("ops@x.io", Some("cto@x.io")),
    ])
}

fn draft(rule: ReviewerRule, named: Option<&str>) -> CampaignDraft {
    CampaignDraft {
        name: "Q4".into(),
        systems: vec!["okta".into()],
        coverage: Coverage::All,
        rule,
        named: named.map(String::from),
        due: time::macros::date!(2026 - 12 - 31),
    }
}

fn accounts() -> Vec<Account> {
    let mut stranger = account("okta", "old@x.io", false);
    stranger.email = Some("old@x.io".into());
    let mut gone = account("okta", "gone@x.io", false);
    gone.active = false;
    vec![
        account("okta", "cto@x.io", true),
        account("okta", "dev@x.io", false),
        account("okta", "ops@x.io", false),
        account("github", "dev@x.io", true),
        stranger,
        gone,
    ]
}

#[test]
fn managers_review_their_reports_and_nobody_reviews_themselves() {
    let owners = BTreeMap::from([("okta".to_string(), "ops@x.io".to_string())]);
    let plan = plan(
        &draft(ReviewerRule::Manager, None),
        &accounts(),
        &people(),
        &owners,
        "lead@x.io",
    )
    .unwrap();
    let by: BTreeMap<&str, (&str, Option<&str>)> = plan
        .iter()
        .map(|a| (a.account.username.as_str(), (a.reviewer.as_str(), a.note.as_deref())))
        .collect();
    // Only okta, only active accounts.
    assert_eq!(by.len(), 4, "{by:?}");
    assert_eq!(by["dev@x.io"].0, "cto@x.io");
    assert_eq!(by["cto@x.io"].0, "ceo@x.io");
    assert_eq!(by["dev@x.io"].1, None);
    // Nobody in the register: the system's owner.
    assert_eq!(by["old@x.io"].0, "ops@x.io");
    assert!(by["old@x.io"].1.unwrap().contains("system's owner"));
}

#[test]
fn a_named_reviewer_never_gets_their_own_account() {
    let plan = plan(
        &draft(ReviewerRule::Named, Some("dev@x.io")),
        &accounts(),
        &people(),
        &BTreeMap::new(),
        "lead@x.io",
    )
    .unwrap();
    let own = plan.iter().find(|a| a.account.username == "dev@x.io").unwrap();
    assert_eq!(own.reviewer, "cto@x.io");
    assert!(own.note.as_deref().unwrap().contains("dev@x.io holds this account"));
    assert!(
        plan.iter()
            .filter(|a| a.account.username != "dev@x.io")
            .all(|a| a.reviewer == "dev@x.io")
    );
}

#[test]
fn privileged_coverage_takes_admins_only_and_unknown_systems_are_named() {
    let mut d = draft(ReviewerRule::Named, Some("ceo@x.io"));
    d.systems = vec![];
    d.coverage = Coverage::Privileged;
    let plan_all = plan(&d, &accounts(), &people(), &BTreeMap::new(), "lead@x.io").unwrap();
    let mut names: Vec<String> = plan_all
        .iter()
        .map(|a| format!("{}/{}", a.account.system, a.account.username))
        .collect();
    names.sort();
    assert_eq!(names, ["github/dev@x.io", "okta/cto@x.io"]);
    d.systems = vec!["jira".into()];
    let e = plan(&d, &accounts(), &people(), &BTreeMap::new(), "lead@x.io").unwrap_err();
    assert_eq!(e.field, "systems");
    assert!(e.reason.contains("'jira'") && e.reason.contains("github, okta"), "{e}");
    let e = plan(&d, &[], &people(), &BTreeMap::new(), "lead@x.io").unwrap_err();
    assert!(e.reason.contains("import its account export"), "{e}");
    let e = plan(
        &draft(ReviewerRule::Named, None),
        &accounts(),
        &people(),
        &BTreeMap::new(),
        "x@x.io",
    )
    .unwrap_err();
    assert_eq!(e.field, "reviewer");
}

#[test]
fn decisions_need_their_reviewer_a_reason_and_never_the_holder() {
    let a = account("okta", "dev@x.io", false);
    let input = |d: &str, reason: &str, change: &str| DecisionInput {
        decision: d.into(),
        reason: reason.into(),
        change: change.into(),
    };
    assert_eq!(
        check_decision("cto@x.io", "cto@x.io", &a, &input("keep", "", "")),
        Ok(Some(Decision::Keep))
    );
    assert_eq!(
        check_decision("ops@x.io", "cto@x.io", &a, &input("keep", "", "")),
        Ok(None)
    );
    assert_eq!(
        check_decision("CTO@x.io", "cto@x.io", &a, &input("revoke", "", ""))
            .unwrap_err()
            .field,
        "reason"
    );
    assert_eq!(
        check_decision("cto@x.io", "cto@x.io", &a, &input("change", "too much", ""))
            .unwrap_err()
            .field,
        "change"
    );
    assert_eq!(
        check_decision("cto@x.io", "cto@x.io", &a, &input("change", "too much", "member")),
        Ok(Some(Decision::Change))
    );
    let own = check_decision("dev@x.io", "dev@x.io", &a, &input("keep", "", "")).unwrap_err();
    assert!(own.reason.contains("own account"), "{own}");
    assert_eq!(
        check_decision("cto@x.io", "cto@x.io", &a, &input("drop", "", ""))
            .unwrap_err()
            .field,
        "decision"
    );
    let e = check_reassign(&a, "dev@x.io", &people()).unwrap_err();
    assert!(e.reason.contains("their manager is cto@x.io"), "{e}");
    assert!(check_reassign(&a, "ops@x.io", &people()).is_ok());
    assert!(check_reassign(&a, "not an email", &people()).is_err());
}

#[test]
fn a_revocation_is_seen_when_the_account_goes_or_loses_admin() {
    let admin = account("okta", "dev@x.io", true);
    let mut member = admin.clone();
    member.admin = false;
    let mut disabled = admin.clone();
    disabled.active = false;
    let cases = [
        (Decision::Revoke, None, true),
        (Decision::Revoke, Some(&disabled), true),
        (Decision::Revoke, Some(&admin), false),
        (Decision::Revoke, Some(&member), false),
        (Decision::Change, Some(&member), true),
        (Decision::Change, Some(&admin), false),
        (Decision::Change, None, true),
        (Decision::Keep, None, false),
    ];
    for (d, now, want) in cases {
        assert_eq!(carried_out(d, &admin, now), want, "{d:?} {now:?}");
    }
    // A change of a non-administrator cannot be seen in a snapshot: it needs a confirmation.
    assert!(!carried_out(Decision::Change, &member, Some(&member)));
}

#[test]
fn a_campaign_closes_when_everything_is_done_or_when_told_to() {
    let mut p = Progress::default();
    p.add(Some(Decision::Keep), false);
    p.add(Some(Decision::Revoke), false);
    p.add(None, false);
    assert_eq!((p.items, p.decided, p.revocations_open, p.percent()), (3, 2, 1, 66));
    let e = check_close(&p, false).unwrap_err();
    assert!(e.reason.contains("1 of 3 items are undecided and 1 revocations"), "{e}");
    assert!(check_close(&p, true).is_ok());
    let mut done = Progress::default();
    done.add(Some(Decision::Revoke), true);
    assert!(done.complete() && check_close(&done, false).is_ok());
    assert_eq!(Progress::default().percent(), 100);
    assert_eq!(time_to_revoke(0, 5 * 3_600_000), "5 h");
    assert_eq!(time_to_revoke(0, 72 * 3_600_000), "3 days");
}

mod jml_rules {
    use std::collections::HashMap;

    use time::macros::date;

    use super::account;
    use crate::access_review::jml::*;

    fn ms(d: time::Date) -> i64 {
        d.midnight().assume_utc().unix_timestamp() * 1000
    }

    fn member(email: &str, start: time::Date, end: Option<time::Date>, contractor: bool) -> Member {
        Member {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            contractor,
            start: Some(start),
            end,
        }
    }

    #[test]
    fn leavers_movers_joiners_and_orphans_are_found() {
        let today = date!(2026 - 12 - 01);
        let now = ms(today) + 12 * 3_600_000;
        let people = vec![
            member("stay@x.io", date!(2024 - 01 - 01), None, false),
            member("left@x.io", date!(2024 - 01 - 01), Some(date!(2026 - 11 - 20)), false),
            member("late@x.io", date!(2024 - 01 - 01), Some(date!(2026 - 11 - 10)), false),
            member("temp@x.io", date!(2025 - 01 - 01), Some(date!(2026 - 11 - 25)), true),
            member("new@x.io", date!(2026 - 10 - 01), None, false),
            member("moved@x.io", date!(2024 - 01 - 01), None, false),
            member("ok-mover@x.io", date!(2024 - 01 - 01), None, false),
        ];
        let mut late = account("okta", "late@x.io", false);
        late.active = false;
        late.disabled_at = Some(ms(date!(2026 - 11 - 14)));
        let mut svc = account("okta", "svc-ci", false);
        svc.email = None;
        svc.human = false;
        let accounts = vec![
            account("okta", "stay@x.io", false),
            account("okta", "left@x.io", false),
            late,
            account("github", "temp@x.io", false),
            account("okta", "moved@x.io", false),
            account("okta", "ok-mover@x.io", false),
            account("okta", "stranger@x.io", false),
            svc,
        ];
        let moves = vec![
            Move {
                email: "moved@x.io".into(),
                field: "department".into(),
                from: "Engineering".into(),
                to: "Sales".into(),
                on: date!(2026 - 09 - 01),
            },
            Move {
                email: "ok-mover@x.io".into(),
                field: "title".into(),
                from: "Engineer".into(),
                to: "Manager".into(),
                on: date!(2026 - 09 - 01),
            },
            // Too recent to be late.
            Move {
                email: "stay@x.io".into(),
                field: "title".into(),
                from: "A".into(),
                to: "B".into(),
                on: date!(2026 - 11 - 20),
            },
        ];
        let reviews = HashMap::from([("ok-mover@x.io".to_string(), vec![ms(date!(2026 - 09 - 20))])]);
        let trained = HashMap::from([
            ("stay@x.io".to_string(), date!(2024 - 01 - 10)),
            ("moved@x.io".to_string(), date!(2024 - 01 - 10)),
            ("ok-mover@x.io".to_string(), date!(2024 - 01 - 10)),
        ]);
        let baseline = vec!["okta".to_string()];
        let r = Records {
            people: &people,
            accounts: &accounts,
            moves: &moves,
            reviews: &reviews,
            trained: &trained,
            baseline: &baseline,
            limits: Limits {
                leaver_hours: 24,
                mover_days: 30,
                training_days: 30,
            },
            today,
            now_ms: now,
        };
        let found = reconcile(&r);
        let said = |kind: &str, who: &str| -> Vec<String> {
            found
                .iter()
                .filter(|f| f.kind == kind && (f.person.as_deref() == Some(who) || f.account.as_deref() == Some(who)))
                .map(|f| f.reason.clone())
                .collect()
        };
        let left = said("leaver", "left@x.io");
        assert!(
            left.len() == 1 && left[0].contains("still active") && left[0].contains("past the 24-hour limit"),
            "{left:?}"
        );
        let late = said("leaver", "late@x.io");
        assert!(
            late.len() == 1 && late[0].contains("disabled 2026-11-14, 48 hours after the limit"),
            "{late:?}"
        );
        let temp = said("contractor_past_end", "temp@x.io");
        assert!(
            temp.len() == 1 && temp[0].starts_with("contract ended 2026-11-25"),
            "{temp:?}"
        );
        let moved = said("mover", "moved@x.io");
        assert!(
            moved.len() == 1 && moved[0].contains("from 'Engineering' to 'Sales'"),
            "{moved:?}"
        );
        assert!(said("mover", "ok-mover@x.io").is_empty(), "reviewed within 30 days");
        assert!(said("mover", "stay@x.io").is_empty(), "not yet due");
        let joiner = said("joiner", "new@x.io");
        assert!(
            joiner.iter().any(|r| r.contains("no active account in okta"))
                && joiner
                    .iter()
                    .any(|r| r.contains("no security awareness training, due by 2026-10-31")),
            "{joiner:?}"
        );
        assert_eq!(said("orphan", "okta/stranger@x.io").len(), 1);
        assert!(
            found.iter().all(|f| f.account.as_deref() != Some("okta/svc-ci")),
            "machine identities are not orphans"
        );
        assert_eq!(counts(&found)["leaver"], 2);

        let t = timeline(
            &r,
            "moved@x.io",
            &[(ms(date!(2026 - 06 - 01)), "access kept by cto@x.io".into())],
        );
        let dates: Vec<&str> = t.iter().map(|m| m.date.as_str()).collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted, "oldest first");
        assert!(
            t.iter().any(|m| m.problem && m.what.contains("no access review")),
            "{t:?}"
        );
        assert!(t.iter().any(|m| m.what == "access kept by cto@x.io"));
    }
}

#[test]
fn campaigns_recur_by_the_policy_and_an_all_accounts_review_covers_administrators() {
    use time::macros::date;
    let today = date!(2026 - 12 - 01);
    let never = schedule(&[], 6, 3, today);
    assert_eq!((never[0].due.as_str(), never[0].overdue), ("2026-12-01", false));
    let campaigns = vec![
        (Coverage::All, Some(date!(2026 - 05 - 15)), "a".to_string()),
        (Coverage::Privileged, Some(date!(2026 - 07 - 10)), "p".to_string()),
    ];
    let s = schedule(&campaigns, 6, 3, today);
    assert_eq!(
        (s[0].coverage.as_str(), s[0].due.as_str(), s[0].overdue),
        ("all", "2026-11-15", true)
    );
    assert_eq!(
        (s[1].last.as_deref(), s[1].due.as_str(), s[1].overdue),
        (Some("2026-07-10"), "2026-10-10", true)
    );
    let mut running = campaigns.clone();
    running.push((Coverage::All, None, "open".to_string()));
    let s = schedule(&running, 6, 3, today);
    assert!(
        !s[0].overdue && !s[1].overdue,
        "a running campaign over every account covers both"
    );
    assert_eq!(s[1].running.as_deref(), Some("open"));
    running.push((Coverage::All, Some(date!(2026 - 11 - 20)), "b".to_string()));
    assert_eq!(schedule(&running, 6, 3, today)[1].due, "2027-02-20");
}

#[test]
fn the_schedule_starts_what_is_due_and_one_review_of_everyone_serves_both() {
    use time::macros::date;
    let today = date!(2026 - 12 - 01);
    let closed = |c, d| (c, Some(d), "x".to_string());
    // Administrators due 2026-12-10 (within 14 days), everyone not before 2027-03.
    let s = schedule(
        &[
            closed(Coverage::All, date!(2026 - 09 - 10)),
            closed(Coverage::Privileged, date!(2026 - 09 - 10)),
        ],
        6,
        3,
        today,
    );
    let d = due_to_start(&s, today, 14);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].coverage, d[0].due, d[0].name.as_str()),
        (
            Coverage::Privileged,
            date!(2026 - 12 - 10),
            "Privileged access review 2026-12"
        )
    );
    assert!(due_to_start(&s, today, 5).is_empty(), "not within 5 days");
    // Never reviewed: both due today; one campaign over every account, due in 14 days.
    let d = due_to_start(&schedule(&[], 6, 3, today), today, 14);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].coverage, d[0].due), (Coverage::All, date!(2026 - 12 - 15)));
    // A running campaign covering a kind starts nothing more for it.
    let s = schedule(&[(Coverage::All, None, "open".to_string())], 6, 3, today);
    assert!(due_to_start(&s, today, 14).is_empty());
}
