use std::collections::BTreeSet;

use evident_catalog::{Frequency, PopulationKind};

use super::population::{Item, Population, Run, compare};
use super::requests::{Known, RequestStatus, RequestStep, next_status, read_list};
use super::sampling::{Member, SizeTable, draw, key};
use super::*;

fn members(n: usize) -> Vec<Member> {
    (0..n)
        .map(|i| Member {
            id: format!("repo#{i}"),
            date: format!("2026-{:02}-{:02}", 1 + (i % 12), 1 + (i % 28)),
        })
        .collect()
}

fn ids(d: &[Drawn]) -> Vec<String> {
    d.iter().map(|x| x.id.clone()).collect()
}

#[test]
fn the_same_seed_draws_the_same_items_and_another_seed_others() {
    let pop = members(500);
    let a = draw("audit-2026", &pop, &[25]);
    assert_eq!(a.len(), 25);
    assert_eq!(ids(&a), ids(&draw("audit-2026", &pop, &[25])));
    // Input order does not matter: the population is ordered by (date, id) first.
    let mut shuffled = pop.clone();
    shuffled.reverse();
    assert_eq!(ids(&a), ids(&draw("audit-2026", &shuffled, &[25])));
    let b = draw("audit-2027", &pop, &[25]);
    assert_ne!(ids(&a), ids(&b));
    let unique: BTreeSet<String> = ids(&a).into_iter().collect();
    assert_eq!(unique.len(), 25, "no item twice");
}

#[test]
fn a_sample_is_spread_over_the_period_one_item_per_stratum() {
    // 100 items on 100 consecutive days, 10 drawn: one from each block of 10 days.
    let pop: Vec<Member> = (0..100)
        .map(|i| Member {
            id: format!("x{i:03}"),
            date: crate::format_date(time::macros::date!(2026 - 01 - 01) + time::Duration::days(i)),
        })
        .collect();
    let d = draw("seed", &pop, &[10]);
    let mut blocks: Vec<usize> = d.iter().map(|x| x.id[1..].parse::<usize>().unwrap() / 10).collect();
    blocks.sort();
    assert_eq!(blocks, (0..10).collect::<Vec<_>>());
    // Within its block, each pick has the smallest key.
    for x in &d {
        let block = x.id[1..].parse::<usize>().unwrap() / 10;
        let smallest = (block * 10..block * 10 + 10)
            .map(|i| key("seed", &format!("x{i:03}")))
            .min()
            .unwrap();
        assert_eq!(x.key, smallest);
        assert_eq!(x.key, key("seed", &x.id));
    }
}

#[test]
fn extending_keeps_the_first_items_and_adds_new_ones() {
    let pop = members(200);
    let first = draw("s", &pop, &[20]);
    let extended = draw("s", &pop, &[20, 5]);
    assert_eq!(ids(&first), ids(&extended[..20]));
    assert_eq!(extended.len(), 25);
    assert!(extended[20..].iter().all(|d| d.round == 2));
    let unique: BTreeSet<String> = ids(&extended).into_iter().collect();
    assert_eq!(unique.len(), 25);
    // Asking for more than is left takes everything once.
    let all = draw("s", &pop[..7], &[5, 5]);
    assert_eq!(all.len(), 7);
    assert!(draw("s", &[], &[5]).is_empty());
}

#[test]
fn sizes_follow_the_typical_table() {
    let t = SizeTable::default();
    assert_eq!(t.suggest(Frequency::Quarterly, 4), 2);
    assert_eq!(t.suggest(Frequency::Daily, 250), 25);
    assert_eq!(t.suggest(Frequency::Annual, 0), 0);
    assert_eq!(t.suggest(Frequency::PerEvent, 2), 2, "all items when very small");
    assert_eq!(t.suggest(Frequency::PerEvent, 40), 4);
    assert_eq!(t.suggest(Frequency::PerEvent, 20), 3, "at least the minimum");
    assert_eq!(t.suggest(Frequency::PerEvent, 200_000), 30, "at most the maximum");
    assert!(t.check().is_ok());
    let bad = SizeTable {
        event_min: 40,
        ..SizeTable::default()
    };
    assert!(bad.check().unwrap_err().contains("event_min"));
}

fn population(items: Vec<Item>) -> Population {
    Population {
        kind: PopulationKind::Leavers,
        period: "2026-01-01..2026-12-31".into(),
        words: "Everyone whose employment ended in the period".into(),
        rule: "SELECT email FROM people\nWHERE end_date BETWEEN $1 AND $2".into(),
        columns: vec!["name".into()],
        items,
    }
}

fn item(id: &str, date: &str, name: &str) -> Item {
    Item {
        id: id.into(),
        date: date.into(),
        cells: vec![name.into()],
        evidence: vec!["01EV".into()],
    }
}

#[test]
fn a_population_hash_covers_its_data_not_when_it_ran() {
    let run = |at: &str| Run {
        id: "01RUN".into(),
        at: at.into(),
        by: "ana@example.com".into(),
        engagement: None,
    };
    let p = population(vec![
        item("b@x", "2026-03-01", "Bo, Jr."),
        item("a@x", "2026-02-01", "Al \"Al\""),
    ]);
    let one = p.render(&run("2026-11-30 10:00:00 UTC"));
    let two = p.render(&run("2026-12-01 09:00:00 UTC"));
    assert_eq!(one.sha256, two.sha256);
    assert_ne!(one.csv, two.csv, "the header says when it ran");
    let text = String::from_utf8(one.csv.clone()).unwrap();
    let data: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(evident_ledger::sha256_hex(data.as_bytes()), one.sha256);
    assert!(text.contains(&format!("# SHA-256   {}", one.sha256)));
    assert!(text.contains("# Count     2\n"));
    assert!(text.contains("#           WHERE end_date BETWEEN $1 AND $2\n"));
    assert!(data.starts_with("id,date,name,evidence\na@x,2026-02-01,\"Al \"\"Al\"\"\",01EV\n"));
    assert!(data.contains("\"Bo, Jr.\""));

    let mut changed = p.clone();
    changed.items[0].cells[0] = "Bo".into();
    changed.items.push(item("c@x", "2026-04-01", "Cy"));
    let three = changed.render(&run("x"));
    assert_ne!(three.sha256, one.sha256);
    let c = compare(&one.digests, &three.digests);
    assert_eq!(c.added, vec!["c@x".to_string()]);
    assert_eq!(c.changed, vec!["b@x".to_string()]);
    assert!(c.removed.is_empty());
    assert_eq!(c.summary(), "1 added (c@x); 1 changed (b@x)");
    assert!(compare(&one.digests, &two.digests).is_empty());
}

fn known() -> Known {
    Known {
        criteria: ["CC6.1", "CC6.2", "CC8.1"].map(String::from).into(),
        controls: ["ACC-07", "CHG-01"].map(String::from).into(),
        users: ["owner@example.com"].map(String::from).into(),
    }
}

fn rows(lines: &[&[&str]]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[test]
fn a_request_list_is_read_with_the_firms_headers_and_keeps_unknown_columns() {
    let list = rows(&[
        &[
            "PBC #",
            "Request Description",
            "TSC",
            "Control",
            "Due Date",
            "Assigned To",
            "Auditor Notes",
        ],
        &[
            "1.01",
            "Population of terminated employees",
            "cc6.1, CC6.2",
            "acc-07",
            "2026-12-15",
            "Owner@example.com",
            "walkthrough",
        ],
        &["", "", "", "", "", "", ""],
        &["1.02", "Change tickets", "CC8.1", "", "46022", "", ""],
    ]);
    let got = read_list(&list, &known()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].reference, "1.01");
    assert_eq!(got[0].criteria, vec!["CC6.1", "CC6.2"]);
    assert_eq!(got[0].controls, vec!["ACC-07"]);
    assert_eq!(got[0].assignee.as_deref(), Some("owner@example.com"));
    assert_eq!(
        got[0].extra.get("Auditor Notes").map(String::as_str),
        Some("walkthrough")
    );
    assert_eq!(got[1].due.as_deref(), Some("2025-12-31"), "a spreadsheet day number");
}

#[test]
fn a_bad_request_list_names_every_row_and_field() {
    let list = rows(&[
        &["ref", "request", "criteria", "due", "owner"],
        &["1", "ok", "CC6.1", "2026-12-01", ""],
        &["1", "dup", "CC9.9", "31/12/2026", "nobody@example.com"],
        &["", "", "", "", ""],
        &["3", "", "", "", ""],
    ]);
    let errors = read_list(&list, &known()).unwrap_err();
    let said: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(
        said,
        vec![
            (3, "criteria"),
            (3, "due"),
            (3, "assignee"),
            (3, "reference"),
            (5, "request")
        ]
    );
    assert!(errors[3].reason.contains("also on row 2"));
    let no_body = read_list(&rows(&[&["ref", "notes"], &["1", "x"]]), &known()).unwrap_err();
    assert_eq!(no_body[0].field, "request");
}

#[test]
fn requests_move_open_submitted_accepted_or_returned() {
    use RequestStatus::*;
    assert_eq!(next_status(Open, RequestStep::Submit, "", 1), Ok(Submitted));
    assert!(
        next_status(Open, RequestStep::Submit, "", 0).is_err(),
        "nothing to hand in"
    );
    assert_eq!(
        next_status(Open, RequestStep::Submit, "not applicable: no leavers", 0),
        Ok(Submitted)
    );
    assert_eq!(next_status(Submitted, RequestStep::Accept, "", 1), Ok(Accepted));
    assert!(
        next_status(Submitted, RequestStep::Return, " ", 1).is_err(),
        "return says why"
    );
    assert_eq!(
        next_status(Submitted, RequestStep::Return, "need dates", 1),
        Ok(Returned)
    );
    assert_eq!(next_status(Returned, RequestStep::Submit, "", 2), Ok(Submitted));
    assert!(next_status(Open, RequestStep::Accept, "", 1).is_err());
    assert!(next_status(Accepted, RequestStep::Submit, "", 1).is_err());
}

#[test]
fn engagements_only_move_forward_and_seeds_are_kept_exactly() {
    use EngagementStatus::*;
    assert!(check_status_change(Planned, Fieldwork).is_ok());
    assert!(check_status_change(Planned, Closed).is_ok());
    assert!(check_status_change(Reporting, Fieldwork).is_err());
    assert!(check_status_change(Closed, Closed).is_err());
    assert_eq!(check_seed("Ab 12").unwrap(), "Ab 12");
    assert!(check_seed(" x").is_err());
    assert!(check_seed("").is_err());
    assert!(check_seed("a\u{7}").is_err());
}
