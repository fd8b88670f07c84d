//! Generated organisations through the binary: realistic, deterministic, verifiable, and the
//! readiness report in every format it is written in.

use std::process::Command;

use serde_json::Value;

use super::common::*;

on_both_databases!(
    a_generated_company_is_realistic_and_deterministic,
    reports_in_every_format
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
    // year (weekly ones included).
    assert_eq!(g["counts"]["evidence"], 1563);
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
    assert_eq!(v["evidence_items"], 1563);

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
    assert!(text.contains("Readiness score"), "{text}");
    assert!(
        text.lines().any(|l| l.trim() == score),
        "score {score} on its own line:\n{text}"
    );
    assert!(text.contains(&format!("Gaps ({})", gaps.len())), "{text}");
    let control = first["control"].as_str().or(first["criterion"].as_str()).unwrap();
    assert!(text.contains(control), "first gap {control} listed");
    assert!(text.contains("Pre-audit checklist") && text.contains("Timeline"));

    let html = env.tmp.path().join("board.html");
    env.ok(&["report", "readiness", "--out", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains(&format!("<div class=\"big\">{score}</div>")));
    assert!(page.contains(&format!("Gaps ({})", gaps.len())));

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
