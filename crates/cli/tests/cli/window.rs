//! The Type II window through the binary: a generated company's year read as an auditor will
//! read it, management's responses, the Section 4 report, earlier periods, a Type I scope, and
//! every refusal changing nothing.

use serde_json::Value;

use super::common::*;

on_both_databases!(
    a_generated_year_reads_as_a_qualified_window,
    periods_roll_forward_and_type_1_reads_design
);

const AS_OF: &str = "2026-11-20";

fn exceptions(w: &Value) -> &Vec<Value> {
    w["exceptions"].as_array().unwrap()
}

fn a_generated_year_reads_as_a_qualified_window(b: Backend) {
    let env = Env::new(b);
    env.json(&["generate", "--size", "s", "--seed", "3", "--as-of", AS_OF]);
    let w = env.json(&["window", "--as-of", AS_OF]);

    // The generated year opened on the first of the month eight months ago.
    assert_eq!(w["period"]["start"], "2026-03-01");
    assert_eq!(w["period"]["end"], "2027-02-28");
    assert_eq!(w["period"]["as_of"], AS_OF);
    assert_eq!(w["period"]["days_left"], 100);
    assert_eq!(w["period"]["report_type"], "type2");

    // The quarterly access review was skipped in the second quarter: a missed period.
    let acc08 = w["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ACC-08")
        .unwrap();
    let statuses: Vec<&str> = acc08["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["met", "missed", "met", "upcoming"]);
    assert!(
        acc08["periods"][0]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["source"] == "access_review"),
        "the review event attests to its quarter"
    );
    let missed = exceptions(&w)
        .iter()
        .find(|e| e["kind"] == "missed_period" && e["control"] == "ACC-08")
        .expect("the missed quarter is an exception");
    assert_eq!(missed["first_failed"], "2026-06-01");
    assert_eq!(missed["deadline"], "2026-08-31");

    // Changes merged without a second approver are exceptions one by one; some failures were
    // put right within their deadline (shown, not exceptions) and some after it.
    let kinds: Vec<&str> = exceptions(&w).iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"per_event"), "{kinds:?}");
    assert!(kinds.contains(&"fixed_late"), "{kinds:?}");
    assert!(
        exceptions(&w)
            .iter()
            .any(|e| e["check"] == "changes-independently-approved" && e["status"] == "per_event")
    );
    let in_time: u64 = w["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["counts"]["remediated_in_time"].as_u64().unwrap())
        .sum();
    assert!(in_time > 0, "some failures were fixed within the deadline");
    let records_in_time = w["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["records"].as_array().unwrap())
        .filter(|r| r["status"] == "remediated_in_time")
        .all(|r| r["exception"].is_null());
    assert!(records_in_time, "fixed in time is never an exception");

    // A qualified prediction, and the criteria it names as not met are those of the missed
    // review, each naming the exceptions that drive it.
    assert_eq!(w["opinion"]["predicted"], "qualified", "{}", w["opinion"]);
    assert!(
        w["opinion"]["label"]
            .as_str()
            .unwrap()
            .contains("not an auditor's opinion")
    );
    let not_met: Vec<&Value> = w["opinion"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["result"] == "not_met")
        .collect();
    assert!(not_met.iter().any(|k| k["criterion"] == "CC6.2"), "{not_met:?}");
    for k in &not_met {
        assert!(
            !k["exceptions"].as_array().unwrap().is_empty() || k["controls"].as_array().unwrap().is_empty(),
            "{k}"
        );
    }
    assert!(!w["forecast"].as_array().unwrap().is_empty(), "something is forecast");

    // Replayed as of a day in June, the second quarter is still pending, not missed.
    let june = env.json(&["window", "--as-of", "2026-06-15"]);
    let acc08 = june["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ACC-08")
        .unwrap();
    assert_eq!(acc08["periods"][1]["status"], "pending");
    assert!(
        !exceptions(&june)
            .iter()
            .any(|e| e["kind"] == "missed_period" && e["control"] == "ACC-08"),
        "nothing after as_of counts"
    );

    // The per-record history is derived from the kept runs: rebuilt from them, it reads the same.
    env.sql(&["DELETE FROM check_spans"]).unwrap();
    let rebuilt = env.json(&["window", "--as-of", AS_OF]);
    assert_eq!(rebuilt["exceptions"], w["exceptions"]);
    assert_eq!(rebuilt["checks"], w["checks"]);
    assert!(env.audit_actions().contains(&"checks.history_rebuilt".to_string()));

    // Management responds; a second response supersedes the first, which stays on record.
    let id = missed["id"].as_str().unwrap();
    env.ok(&[
        "exceptions",
        "respond",
        id,
        "--text",
        "The Q2 review was postponed during the office move; it was held on 26 October and now has a calendar owner.",
    ]);
    env.ok(&[
        "exceptions",
        "respond",
        id,
        "--text",
        "Reviewed by the CTO: reviews now recur in the ticketing system.",
    ]);
    let listed = env.json(&["exceptions", "list", "--as-of", AS_OF]);
    let e = listed.as_array().unwrap().iter().find(|e| e["id"] == id).unwrap();
    assert!(
        e["response"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Reviewed by the CTO")
    );
    assert_eq!(e["earlier_responses"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.audit_actions()
            .iter()
            .filter(|a| *a == "exceptions.respond")
            .count(),
        2
    );

    // Bad input: exit 2 naming the flag, nothing written.
    let log = env.json(&["audit-log"]).as_array().unwrap().len();
    env.refused(
        &["window", "--as-of", "2027-03-01"],
        &["--as-of", "outside the period 2026-03-01..2027-02-28"],
    );
    env.refused(
        &["window", "--period", "2025-01-01..2025-12-31"],
        &["period", "no report period"],
    );
    env.refused(&["window", "--as-of", "20261120"], &["--as-of"]);
    env.refused(&["window", "--tolerable-rate", "250"], &["--tolerable-rate"]);
    env.refused(
        &["exceptions", "respond", id, "--text", "   "],
        &["--text", "needs text"],
    );
    env.refused(
        &["exceptions", "respond", "EX-000000000000", "--text", "Looked into it"],
        &["unknown exception", "EX-000000000000"],
    );
    assert_eq!(
        env.json(&["audit-log"]).as_array().unwrap().len(),
        log,
        "refusals wrote nothing"
    );

    // Section 4 as a workbook and as a PDF.
    let xlsx = env.tmp.path().join("window.xlsx");
    env.ok(&["report", "window", "--out", xlsx.to_str().unwrap(), "--as-of", AS_OF]);
    let bytes = std::fs::read(&xlsx).unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
    let pdf = env.tmp.path().join("window.pdf");
    let said = env.ok_stdout(&["report", "window", "--out", pdf.to_str().unwrap(), "--as-of", AS_OF]);
    assert!(said.contains("predicted qualified"), "{said}");
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8_lossy(&text.stdout);
    for needle in ["Predicted opinion", "Qualified", "ACC-08", "not an auditor", id] {
        assert!(text.contains(needle), "the PDF says {needle}");
    }
}

fn periods_roll_forward_and_type_1_reads_design(b: Backend) {
    let env = Env::new(b);
    env.init();
    let scope = |window: &str| env.scope_type2(window);
    scope("2025-01-01..2025-12-31");
    scope("2026-01-01..2026-12-31");

    let current = env.json(&["window", "--as-of", "2026-06-30"]);
    assert_eq!(current["period"]["start"], "2026-01-01");
    let earlier = env.json(&["window", "--period", "2025-01-01..2025-12-31"]);
    assert_eq!(earlier["period"]["end"], "2025-12-31");
    assert_eq!(
        earlier["period"]["as_of"], "2025-12-31",
        "a past period is read as of its end"
    );
    assert_eq!(earlier["period"]["days_left"], 0);
    // Nothing attests to any period of a program with no records: every elapsed one is missed.
    let missed = exceptions(&earlier)
        .iter()
        .filter(|e| e["kind"] == "missed_period")
        .count();
    assert!(missed > 20, "{missed}");
    assert_eq!(earlier["opinion"]["predicted"], "adverse");

    // An event recorded in the earlier period attests to the access review's first quarter.
    let csv = env.write_file(
        "events.csv",
        b"id,kind,title,date,summary,outcome,evidence,controls\nAR-1,access_review,Q1 access review,2025-02-10,,,,\n",
    );
    env.ok(&["import", "events", csv.to_str().unwrap()]);
    let earlier = env.json(&["window", "--period", "2025-01-01..2025-12-31"]);
    let acc08 = earlier["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ACC-08")
        .unwrap();
    assert_eq!(acc08["periods"][0]["status"], "met");
    assert_eq!(acc08["periods"][0]["evidence"][0]["reference"], "AR-1");
    assert_eq!(acc08["periods"][1]["status"], "missed");

    // A Type I scope reads design on its date: no periods, no exceptions.
    env.ok(&[
        "scope",
        "set",
        "--type",
        "1",
        "--categories",
        "security",
        "--as-of",
        "2026-06-30",
    ]);
    let t1 = env.json(&["window"]);
    assert_eq!(t1["period"]["report_type"], "type1");
    assert_eq!(t1["period"]["start"], "2026-06-30");
    assert!(exceptions(&t1).is_empty());
    let acc08 = t1["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ACC-08")
        .unwrap();
    assert_eq!(
        acc08["in_place"], false,
        "nothing shows the review in the year before the date"
    );
    // The earlier Type II periods stay readable.
    assert_eq!(
        env.json(&["window", "--period", "2026-01-01..2026-12-31"])["period"]["report_type"],
        "type2"
    );
}
