//! Generated organisations through the binary: realistic, deterministic, verifiable, and the
//! readiness report in every format it is written in.

use std::process::Command;

use serde_json::Value;

use super::common::*;

on_both_databases!(
    a_generated_company_is_realistic_and_deterministic,
    reports_in_every_format,
    a_generated_company_survives_an_auditors_eye
);

const AS_OF: &str = "2026-11-20";

fn generate(env: &Env, seed: &str) -> Value {
    env.json(&["generate", "--size", "s", "--seed", seed, "--as-of", AS_OF])
}

fn a_generated_company_is_realistic_and_deterministic(b: Backend) {
    let env = Env::new(b);
    let g = generate(&env, "3");
    assert_eq!(g["counts"]["people"], 60);
    // 1,500 documents, and a record of every occurrence of the periodic controls through the
    // year (weekly ones included), none dated after the generation day.
    assert_eq!(g["counts"]["evidence"], 1564);
    assert_eq!(g["counts"]["changes"], 2000);
    let accounts = g["counts"]["accounts"].as_u64().unwrap();
    assert!((300..=420).contains(&accounts), "{accounts} accounts");
    assert_eq!(
        g["counts"]["check_runs"].as_u64().unwrap() % 365,
        0,
        "a year of daily runs"
    );
    env.refused(
        &["generate", "--size", "s"],
        &["already a workspace", "another --workspace"],
    );

    // Every evidence item recorded in the audit log, every blob intact.
    let v = env.json(&["verify"]);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["evidence_items"], 1564);

    // Neither all green nor all red: the periodic controls operate (the Type II story), while
    // continuous and per-event controls carry most gaps, so criteria are mostly covered.
    let r = env.json(&["readiness"]);
    let score = r["score"].as_u64().unwrap();
    assert!((15..=95).contains(&score), "score {score}");
    assert!(r["controls"]["ready"].as_u64().unwrap() >= 20, "{}", r["controls"]);
    assert!(r["controls"]["gap"].as_u64().unwrap() >= 10, "{}", r["controls"]);
    let checklist = r["checklist"].as_array().unwrap();
    assert!(checklist.iter().any(|i| i["done"] == true) && checklist.iter().any(|i| i["done"] == false));
    let tabletop = checklist
        .iter()
        .find(|i| i["item"].as_str().unwrap().contains("tabletop"))
        .unwrap();
    assert_eq!(tabletop["done"], false, "the last tabletop is over a year old");

    // Today's run is real; the year before it replays.
    let history = env.json(&[
        "check",
        "history",
        "changes-independently-approved",
        "--from",
        "2025-11-01",
        "--to",
        "2026-12-31",
    ]);
    let runs = history.as_array().unwrap();
    assert_eq!(runs.len(), 365);
    let last = runs.last().unwrap();
    assert_eq!(last["status"], "fail");
    assert_eq!(
        last["failures"].as_array().unwrap().len() as u64,
        last["failed"].as_u64().unwrap()
    );
    let run_now = env.json(&["check", "run", "--check", "changes-independently-approved"]);
    assert_eq!(
        run_now[0]["failed"], last["failed"],
        "the stored run is what the engine says"
    );

    // Same seed and date, same company; another seed, another company.
    let twin = Env::new(b);
    generate(&twin, "3");
    let other = Env::new(b);
    generate(&other, "4");
    let export = |e: &Env, register: &str| {
        let out = e.tmp.path().join(format!("{register}.csv"));
        e.ok(&["export", register, "--out", out.to_str().unwrap()]);
        std::fs::read_to_string(out).unwrap()
    };
    // (Vendors name evidence ids, which are new on every run.)
    for register in ["people", "assets", "risks", "training", "background-checks"] {
        assert_eq!(export(&env, register), export(&twin, register), "{register}");
    }
    assert_ne!(export(&env, "people"), export(&other, "people"));
    assert_eq!(env.json(&["readiness"])["score"], twin.json(&["readiness"])["score"]);
}

fn pdftotext(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// One page's text, laid out as on the page.
fn pdftotext_page(pdf: &std::path::Path, page: usize) -> String {
    let n = page.to_string();
    let out = Command::new("pdftotext")
        .args(["-layout", "-f", &n, "-l", &n, pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// One page's words with where they sit: (left, top, right, text), in points.
fn pdf_words(pdf: &std::path::Path, page: usize) -> Vec<(f64, f64, f64, String)> {
    let n = page.to_string();
    let out = Command::new("pdftotext")
        .args(["-bbox", "-f", &n, "-l", &n, pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let html = String::from_utf8(out.stdout).unwrap();
    let attr = |line: &str, name: &str| -> f64 {
        let at = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        line[at..].split('"').next().unwrap().parse().unwrap()
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word "))
        .map(|l| {
            let text = l.split('>').nth(1).unwrap().split('<').next().unwrap();
            (attr(l, "xMin"), attr(l, "yMin"), attr(l, "xMax"), text.to_string())
        })
        .collect()
}

/// The rows of a workbook's sheet (1 = the first), counted from its XML.
fn sheet_rows(path: &std::path::Path, n: usize) -> usize {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).expect("an XLSX is a zip");
    let mut sheet = String::new();
    let name = format!("xl/worksheets/sheet{n}.xml");
    std::io::Read::read_to_string(&mut zip.by_name(&name).unwrap(), &mut sheet).unwrap();
    sheet.matches("<row ").count()
}

fn xlsx_rows(path: &std::path::Path) -> usize {
    sheet_rows(path, 1)
}

fn reports_in_every_format(b: Backend) {
    let env = Env::new(b);
    generate(&env, "5");
    let r = env.json(&["readiness"]);
    let score = r["score"].as_u64().unwrap().to_string();
    let gaps = r["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty());
    let first = &gaps[0];

    let pdf = env.tmp.path().join("readiness.pdf");
    env.ok(&["report", "readiness", "--out", pdf.to_str().unwrap()]);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf);
    let scope = env.json(&["scope", "show"]);
    let in_scope: Vec<&str> = scope["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let timeline = r["timeline"].as_array().unwrap();
    // What blocks the audit: every gap but those that only put a control at risk.
    let blocking: Vec<&Value> = gaps
        .iter()
        .filter(|g| !["expiring_evidence", "failing_check_in_grace"].contains(&g["severity"].as_str().unwrap()))
        .collect();
    let mut by_owner: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for g in &blocking {
        *by_owner
            .entry(g["owner"].as_str().unwrap_or("No owner yet"))
            .or_default() += 1;
    }

    // Page one is the summary: the score, the window and the phase, coverage of each category
    // in scope (and no other), and who owns what blocks the audit; no gap table.
    let one = pdftotext_page(&pdf, 1);
    assert!(one.contains("Readiness score"), "{one}");
    assert!(
        one.lines().any(|l| l.trim() == score),
        "score {score} on its own line:\n{one}"
    );
    let window = timeline
        .iter()
        .find(|p| ["observation window", "audit date"].contains(&p["phase"].as_str().unwrap()))
        .unwrap();
    let (from, to) = (window["start"].as_str().unwrap(), window["end"].as_str().unwrap());
    let (what, dates) = if from == to {
        ("Type I date", from.to_string())
    } else {
        ("Observation window", format!("{from} to {to}"))
    };
    assert!(
        one.contains(what) && one.contains(&dates),
        "the window on page one:\n{one}"
    );
    // Past the auditor's report no phase is under way (the report is dated by the clock).
    let phase = match timeline.iter().find(|p| p["current"] == true) {
        Some(p) => {
            let phase = p["phase"].as_str().unwrap();
            phase[..1].to_uppercase() + &phase[1..]
        }
        None => "None under way".into(),
    };
    assert!(one.contains("Current phase") && one.contains(&phase), "{phase}:\n{one}");
    for c in &evident_catalog::Catalog::builtin().framework.categories {
        assert_eq!(
            one.contains(&c.name),
            in_scope.contains(&c.id.as_str()),
            "{} on page one only when in scope:\n{one}",
            c.name
        );
    }
    assert!(
        one.contains(&format!("Blocking the audit: {} gaps by owner", blocking.len())),
        "{one}"
    );
    let (top, most) = by_owner.iter().max_by_key(|(_, n)| **n).unwrap();
    let row = one
        .lines()
        .find(|l| l.contains(top))
        .unwrap_or_else(|| panic!("{top}:\n{one}"));
    assert!(
        row.split_whitespace().any(|w| w == most.to_string()),
        "{top} has {most} blocking gaps: {row}"
    );
    assert!(!one.contains("Appendix"), "the gap table is not on page one:\n{one}");

    // Page two: the checklist and the timeline; then the appendix with every gap.
    let two = pdftotext_page(&pdf, 2);
    assert!(two.contains("Pre-audit checklist") && two.contains("Timeline"), "{two}");
    assert!(!two.contains("Appendix"));
    let three = pdftotext_page(&pdf, 3);
    assert!(
        three.contains(&format!("Appendix: every gap ({})", gaps.len())),
        "{three}"
    );
    let control = first["control"].as_str().or(first["criterion"].as_str()).unwrap();
    assert!(three.contains(control), "first gap {control} listed");

    // A report for the board: no command lines, closed vocabularies in words.
    assert!(!text.contains("evident "), "a command in the report:\n{text}");
    for wire in [
        "uncovered_criterion",
        "failing_check",
        "missing_evidence",
        "policy_not_approved",
        "stale_evidence",
        "missing_owner",
        "expiring_evidence",
        "at_risk",
        "not_applicable",
    ] {
        assert!(!text.contains(wire), "{wire} in the report");
    }
    // Owners' addresses wrap inside their column rather than run into the fix beside them.
    let words = pdf_words(&pdf, 3);
    let header = words.iter().find(|w| w.3 == "Severity").unwrap().1;
    let fix = words.iter().find(|w| w.3 == "Fix" && w.1 == header).unwrap().0;
    for (_, _, right, word) in words.iter().filter(|w| w.3.contains('@')) {
        assert!(*right < fix, "'{word}' runs into the Fix column ({right} > {fix})");
    }

    let html = env.tmp.path().join("board.html");
    env.ok(&["report", "readiness", "--out", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains(&format!("<div class=\"big\">{score}</div>")));
    assert!(page.contains(&format!("Blocking the audit: {} gaps by owner", blocking.len())));
    assert!(page.contains(&format!("Appendix: every gap ({})", gaps.len())));
    assert!(!page.contains("evident "), "no commands in the HTML report either");

    let xlsx = env.tmp.path().join("matrix.xlsx");
    env.ok(&["report", "controls", "--out", xlsx.to_str().unwrap()]);
    assert_eq!(
        xlsx_rows(&xlsx),
        1 + library_controls(),
        "a header and one row per control"
    );
    // The second sheet: one row per control and current evidence item.
    let links: usize = env
        .json(&["evidence", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["superseded_by"].is_null() && e["withdrawn"].is_null())
        .map(|e| e["controls"].as_array().unwrap().len())
        .sum();
    assert_eq!(sheet_rows(&xlsx, 2), 1 + links);
    let forced = env.tmp.path().join("matrix.data");
    env.ok(&[
        "report",
        "controls",
        "--format",
        "xlsx",
        "--out",
        forced.to_str().unwrap(),
    ]);
    assert_eq!(xlsx_rows(&forced), 1 + library_controls());
    let gaps_xlsx = env.tmp.path().join("gaps.xlsx");
    env.ok(&["report", "gaps", "--out", gaps_xlsx.to_str().unwrap()]);
    assert_eq!(xlsx_rows(&gaps_xlsx), 1 + gaps.len());

    let wrong = env.tmp.path().join("r.xlsx");
    env.refused(
        &[
            "report",
            "readiness",
            "--format",
            "xlsx",
            "--out",
            wrong.to_str().unwrap(),
        ],
        &["the readiness report is written as pdf or html"],
    );
    assert!(!wrong.exists());
    env.refused(&["controls", "list", "--format", "pdf"], &["that is a report format"]);
    let nowhere = env.tmp.path().join("no/such/dir/r.pdf");
    env.refused(
        &["report", "readiness", "--out", nowhere.to_str().unwrap()],
        &["--out", "cannot write"],
    );
    let leftovers: Vec<_> = std::fs::read_dir(env.tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}

/// 2026-11-20 at noon UTC, the instant `generate --as-of 2026-11-20` makes the company at.
const AS_OF_MS: i64 = 1_795_176_000_000;

/// Rows of a query whose every column is text, split on `|`.
fn rows(env: &Env, query: &str) -> Vec<Vec<String>> {
    env.sql_strings(query)
        .into_iter()
        .map(|r| r.split('|').map(str::to_string).collect())
        .collect()
}

fn day_of(ms: &str) -> String {
    let ms: i64 = ms.parse().unwrap();
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap();
    t.date().to_string()
}

/// What an auditor would catch in a generated company, checked in the stored records: nothing
/// captured after the generation instant, every policy acceptance after its version went out
/// and while the person worked there, policy steps in order, and an audit log of the company's
/// own people (the CLI only creates the workspace and runs the daily checks).
fn a_generated_company_survives_an_auditors_eye(b: Backend) {
    let env = Env::new(b);
    generate(&env, "7");
    let now = AS_OF_MS.to_string();
    let count = |query: &str| env.sql_strings(query)[0].clone();

    // Evidence: captured by now, attesting to no later day than it was captured.
    assert_eq!(
        count(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM evidence WHERE captured_at > {now}"
        )),
        "0",
        "evidence captured after the generation instant"
    );
    for r in rows(
        &env,
        "SELECT CAST(captured_at AS TEXT) || '|' || COALESCE(effective_date, period_to) FROM evidence \
         WHERE COALESCE(effective_date, period_to) IS NOT NULL",
    ) {
        assert!(
            r[1] <= day_of(&r[0]),
            "evidence for {} captured on {}",
            r[1],
            day_of(&r[0])
        );
    }

    // Policy versions: drafted, approved, published in that order, none after now.
    let versions = rows(
        &env,
        "SELECT p.ref || '|' || CAST(v.created_at AS TEXT) || '|' || COALESCE(CAST(v.approved_at AS TEXT), '') \
         || '|' || COALESCE(CAST(v.published_at AS TEXT), '') FROM policy_versions v JOIN policies p ON p.id = v.policy_id",
    );
    assert!(
        versions.iter().filter(|v| !v[3].is_empty()).count() >= 10,
        "{versions:?}"
    );
    for v in &versions {
        let steps: Vec<i64> = v[1..]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(
            steps.windows(2).all(|w| w[0] <= w[1]),
            "{} steps out of order: {v:?}",
            v[0]
        );
        assert!(steps.iter().all(|s| *s <= AS_OF_MS), "{} dated after now: {v:?}", v[0]);
    }

    // Acceptances: of a published version, after it went out, by now, inside employment.
    let acceptances = rows(
        &env,
        "SELECT a.email || '|' || CAST(a.accepted_at AS TEXT) || '|' || COALESCE(CAST(v.published_at AS TEXT), '') \
         || '|' || p.start_date || '|' || COALESCE(p.end_date, '') FROM policy_acceptances a \
         JOIN policy_versions v ON v.policy_id = a.policy_id AND v.version = a.version \
         JOIN people p ON p.email = a.email",
    );
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS TEXT) FROM policy_acceptances"),
        acceptances.len().to_string(),
        "every acceptance is of a stored version, by a person of the register"
    );
    assert!(acceptances.len() > 500, "{}", acceptances.len());
    for a in &acceptances {
        let at: i64 = a[1].parse().unwrap();
        assert!(!a[2].is_empty(), "{} accepted a version never published", a[0]);
        assert!(
            a[2].parse::<i64>().unwrap() <= at,
            "{} accepted before publication: {a:?}",
            a[0]
        );
        assert!(at <= AS_OF_MS, "{} accepted after now", a[0]);
        let on = day_of(&a[1]);
        assert!(
            a[3] <= on && (a[4].is_empty() || on <= a[4]),
            "{} accepted outside employment: {a:?}",
            a[0]
        );
    }

    // Training completed inside employment.
    for t in rows(
        &env,
        "SELECT t.email || '|' || t.completed_on || '|' || p.start_date || '|' || COALESCE(p.end_date, '') \
         FROM training_completions t JOIN people p ON p.email = t.email",
    ) {
        assert!(t[2] <= t[1] && (t[3].is_empty() || t[1] <= t[3]), "{t:?}");
        assert!(t[1].as_str() <= AS_OF, "{t:?}");
    }

    // The audit log names the company's people, and so do the records of who did what.
    let people: std::collections::BTreeSet<String> = env.sql_strings("SELECT email FROM people").into_iter().collect();
    let mut actors = std::collections::BTreeSet::new();
    for e in env.json(&["audit-log"]).as_array().unwrap() {
        let (actor, action) = (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap());
        if ["workspace.init", "checks.run"].contains(&action) {
            assert_eq!(actor, "cli:tester", "{action} is the CLI's own");
        } else {
            assert!(
                people.contains(actor),
                "{action} by {actor}, not one of the company's people"
            );
            actors.insert(actor.to_string());
        }
    }
    assert!(actors.len() >= 5, "the work is shared out: {actors:?}");
    for who in [
        "SELECT DISTINCT created_by FROM evidence",
        "SELECT DISTINCT created_by FROM policy_versions",
        "SELECT DISTINCT approved_by FROM policy_versions WHERE approved_by IS NOT NULL",
        "SELECT DISTINCT published_by FROM policy_versions WHERE published_by IS NOT NULL",
        "SELECT DISTINCT recorded_by FROM policy_acceptances",
        "SELECT DISTINCT signed_off_by FROM risks WHERE signed_off_by IS NOT NULL",
        "SELECT DISTINCT approved_by FROM audits WHERE approved_by IS NOT NULL",
    ] {
        for actor in env.sql_strings(who) {
            assert!(people.contains(&actor), "{who}: {actor}");
        }
    }
    // Management approves: the chief executive, not whoever ran the generator.
    let ceo = env.sql_strings("SELECT email FROM people WHERE title = 'Chief Executive Officer'");
    assert_eq!(ceo.len(), 1);
    assert_eq!(
        env.sql_strings("SELECT DISTINCT approved_by FROM policy_versions WHERE approved_by IS NOT NULL"),
        ceo
    );
    assert_eq!(env.sql_strings("SELECT approved_by FROM audits"), ceo);

    // Nothing of it is an alteration.
    let v = env.json(&["verify"]);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0, "{v}");
}
