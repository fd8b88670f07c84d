//! The auditor's fieldwork through the binary: an engagement over a generated company's year, a
//! request list imported (a bad one refused whole), answered, returned and accepted; populations
//! re-run to the same hash and then telling what changed; samples re-drawn from their seed,
//! extended, recomputed by the published Python script; results flowing into the window.

use std::process::Command;

use serde_json::Value;

use super::common::*;

on_both_databases!(an_engagement_runs_from_request_list_to_tested_sample);

const AS_OF: &str = "2026-11-20";

fn ids(sample: &Value) -> Vec<String> {
    sample["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].as_str().unwrap().to_string())
        .collect()
}

/// The hash the population file states, recomputed as `grep -v '^#' FILE | sha256sum` would.
fn data_sha(text: &str) -> String {
    let data: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), data).unwrap();
    sha256sum(f.path())
}

fn python_sample(file: &std::path::Path, seed: &str, rounds: &[&str]) -> Vec<String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/sample.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(file)
        .arg(seed)
        .args(rounds)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn an_engagement_runs_from_request_list_to_tested_sample(b: Backend) {
    let env = Env::new(b);
    env.json(&["generate", "--size", "s", "--seed", "3", "--as-of", AS_OF]);
    env.json(&["users", "add", "auditor@firm.example", "--role", "auditor"]);
    env.json(&["users", "add", "owner@acme.example", "--role", "control_owner"]);

    let e = env.json(&["audit", "create", "--name", "FY26 SOC 2", "--firm", "Example LLP"]);
    assert_eq!(e["status"], "planned");
    assert_eq!(e["period_start"], "2026-03-01");
    assert_eq!(e["sizes"]["daily"], 25);
    env.refused(
        &["audit", "create", "--name", "fy26 soc 2", "--firm", "Other"],
        &["already exists"],
    );
    env.refused(
        &["audit", "auditor", "FY26 SOC 2", "owner@acme.example"],
        &["not an auditor"],
    );
    let e = env.json(&["audit", "auditor", "FY26 SOC 2", "auditor@firm.example"]);
    assert_eq!(e["auditors"][0], "auditor@firm.example");
    let e = env.json(&["audit", "status", "FY26 SOC 2", "fieldwork"]);
    assert_eq!(e["status"], "fieldwork");
    env.refused(&["audit", "status", "FY26 SOC 2", "planned"], &["only move forward"]);
    env.refused(
        &["audit", "sizes", "FY26 SOC 2", "--set", "event_min=99"],
        &["--set", "event_min"],
    );
    let e = env.json(&["audit", "sizes", "FY26 SOC 2", "--set", "event_max=20"]);
    assert_eq!(e["sizes"]["event_max"], 20);

    // A list with bad rows is refused whole, naming the file, row and field of each.
    let bad = env.write_file(
        "pbc-bad.csv",
        b"PBC #,Request Description,TSC,Due Date,Assigned To\n\
          1.01,Terminated employees,CC6.2,2026-12-15,\n\
          1.02,Change tickets,CC99.1,15/12/2026,nobody@acme.example\n",
    );
    let out = env.run(&["requests", "import", "FY26 SOC 2", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "pbc-bad.csv: row 3, criteria",
        "row 3, due",
        "row 3, assignee",
        "nothing was imported",
    ] {
        assert!(said.contains(needle), "{needle}: {said}");
    }
    assert_eq!(env.json(&["requests", "list", "FY26 SOC 2"]), Value::Array(vec![]));

    let good = env.write_file(
        "pbc.csv",
        b"PBC #,Request Description,TSC,Control,Due Date,Assigned To,Walkthrough\n\
          1.01,Population of terminated employees with termination dates,CC6.2,ACC-07,2026-12-15,owner@acme.example,yes\n\
          1.02,All merged changes in the period,CC8.1,CHG-01,2026-12-20,,\n\
          1.03,Information security policy,CC5.3,,2026-11-01,,\n",
    );
    let imported = env.json(&["requests", "import", "FY26 SOC 2", good.to_str().unwrap()]);
    assert_eq!(
        (imported["added"].as_u64(), imported["updated"].as_u64()),
        (Some(3), Some(0))
    );
    let again = env.json(&["requests", "import", "FY26 SOC 2", good.to_str().unwrap()]);
    assert_eq!((again["added"].as_u64(), again["updated"].as_u64()), (Some(0), Some(3)));
    let list = env.json(&["requests", "list", "FY26 SOC 2"]);
    let r101 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == "1.01")
        .unwrap()
        .clone();
    assert_eq!(r101["extra"]["Walkthrough"], "yes");
    assert_eq!(r101["assignee"], "owner@acme.example");
    let overdue = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == "1.03")
        .unwrap();
    assert_eq!(overdue["overdue"], true, "due before today and still open");
    let mine = env
        .command(&["requests", "list", "FY26 SOC 2", "--mine", "--format", "json"])
        .env("EVIDENT_ACTOR", "owner@acme.example")
        .output()
        .unwrap();
    let mine: Value = serde_json::from_slice(&mine.stdout).unwrap();
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "only the request assigned to the owner"
    );

    // Answered with evidence, returned with a comment, answered again, accepted.
    let id = r101["id"].as_str().unwrap();
    env.refused(&["requests", "submit", id], &["evidence linked"]);
    env.refused(&["requests", "accept", id], &["open cannot be accepted"]);
    let evidence = env.json(&["evidence", "list"]);
    let ev = evidence.as_array().unwrap()[0]["id"].as_str().unwrap().to_string();
    let linked = env.json(&["requests", "link", id, &ev]);
    assert_eq!(linked["evidence"][0]["id"], ev.as_str());
    env.json(&["requests", "submit", id, "--comment", "HR export attached"]);
    env.refused(&["requests", "return", id, "--comment", " "], &["comment"]);
    let returned = env.json(&[
        "requests",
        "return",
        id,
        "--comment",
        "Need the disable dates per account",
    ]);
    assert_eq!(returned["status"], "returned");
    env.json(&["requests", "comment", id, "Added the IdP log export"]);
    env.json(&["requests", "submit", id]);
    let accepted = env.json(&["requests", "accept", id]);
    assert_eq!(accepted["status"], "accepted");
    let steps: Vec<&str> = accepted["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["step"].as_str().unwrap_or("comment"))
        .collect();
    assert_eq!(steps, ["submit", "return", "comment", "submit", "accept"]);
    let actions = env.audit_actions();
    for a in [
        "requests.import",
        "requests.evidence.link",
        "requests.submit",
        "requests.return",
        "requests.accept",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} is audit-logged");
    }
    let export = env.tmp.path().join("pbc-status.xlsx");
    env.ok(&["requests", "export", "FY26 SOC 2", "--out", export.to_str().unwrap()]);
    // The export reads back as a request list (its status columns kept as extra columns).
    env.json(&["audit", "create", "--name", "Re-import", "--firm", "Example LLP"]);
    let back = env.json(&["requests", "import", "Re-import", export.to_str().unwrap()]);
    assert_eq!(back["added"], 3);
    let relist = env.json(&["requests", "list", "Re-import", "--status", "open"]);
    let r = relist
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == "1.01")
        .unwrap();
    assert_eq!(r["extra"]["status"], "accepted");

    // A population twice: the same hash; then a new leaver, and the re-run says so.
    let run = env.json(&["populations", "run", "changes", "--engagement", "FY26 SOC 2"]);
    let count = run["count"].as_u64().unwrap();
    assert!(count > 20, "{run}");
    assert!(run["changes"].is_null(), "first run");
    let second = env.json(&["populations", "run", "changes", "--engagement", "FY26 SOC 2"]);
    assert_eq!(second["sha256"], run["sha256"]);
    assert_eq!(second["changes"]["added"], Value::Array(vec![]));
    let file = env.tmp.path().join("changes.csv");
    env.ok(&[
        "populations",
        "get",
        run["id"].as_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(data_sha(&text), run["sha256"].as_str().unwrap());
    assert!(
        text.contains("# Rule      SELECT repository, number"),
        "{}",
        &text[..600]
    );
    assert!(text.contains(&format!("# Count     {count}\n")));

    let leavers = env.json(&["populations", "run", "leavers", "--engagement", "FY26 SOC 2"]);
    let rerun = env.json(&["populations", "rerun", leavers["id"].as_str().unwrap()]);
    assert_eq!(rerun["same"], true);
    let hr = env.write_file(
        "leaver.csv",
        b"email,name,title,department,manager_email,employment_type,start_date,end_date\n\
          zed.leaver@acme.example,Zed Leaver,Engineer,Engineering,,employee,2024-01-08,2026-09-30\n",
    );
    env.json(&["import", "people", hr.to_str().unwrap()]);
    let rerun = env.json(&["populations", "rerun", leavers["id"].as_str().unwrap()]);
    assert_eq!(rerun["same"], false);
    assert_eq!(rerun["changes"]["added"][0], "zed.leaver@acme.example");
    let third = env.json(&["populations", "run", "leavers", "--engagement", "FY26 SOC 2"]);
    assert_eq!(third["changes"]["added"][0], "zed.leaver@acme.example");
    assert_eq!(third["count"].as_u64(), leavers["count"].as_u64().map(|n| n + 1));
    env.refused(
        &["populations", "run", "hires", "--engagement", "FY26 SOC 2"],
        &["kind", "new_hires"],
    );
    // Every kind runs on both databases, and its file states the hash of its data.
    let kinds = env.json(&["populations", "kinds"]);
    assert_eq!(kinds.as_array().unwrap().len(), 10);
    for k in kinds.as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        let run = env.json(&["populations", "run", kind, "--engagement", "FY26 SOC 2"]);
        assert_eq!(run["kind"], kind);
        let out = env.tmp.path().join(format!("{kind}.csv"));
        env.ok(&[
            "populations",
            "get",
            run["id"].as_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(out).unwrap();
        assert_eq!(data_sha(&text), run["sha256"].as_str().unwrap(), "{kind}");
        if ["changes", "access_reviews"].contains(&kind) {
            assert!(run["count"].as_u64().unwrap() > 0, "{kind}: {run}");
        }
    }
    // A new hire's packet gathers their background check, training and acceptances.
    let hires = env.json(&["populations", "run", "new_hires", "--engagement", "FY26 SOC 2"]);
    assert!(hires["count"].as_u64().unwrap() > 0, "{hires}");
    let hire_sample = env.json(&[
        "samples",
        "draw",
        "FY26 SOC 2",
        "--control",
        "HRS-01",
        "--population",
        hires["id"].as_str().unwrap(),
        "--seed",
        "hires",
        "--size",
        "1",
    ]);
    let hire = hire_sample["items"][0]["item"].as_str().unwrap();
    let packet = env.json(&["samples", "packet", hire_sample["id"].as_str().unwrap(), hire]);
    let facts: Vec<&str> = packet["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(facts.contains(&"email") && facts.contains(&"title"), "{facts:?}");
    assert!(
        facts
            .iter()
            .any(|f| ["background check", "training", "policy accepted"].contains(f)),
        "a generated hire has HR records: {facts:?}"
    );
    // A role change recorded through the register is in the next run of role changes.
    let moved = env.write_file(
        "mover.csv",
        b"email,name,title,department,manager_email,employment_type,start_date,end_date\n\
          zed.leaver@acme.example,Zed Leaver,Staff engineer,Platform,,employee,2024-01-08,2026-09-30\n",
    );
    env.json(&["import", "people", moved.to_str().unwrap()]);
    let roles = env.json(&["populations", "run", "role_changes", "--engagement", "FY26 SOC 2"]);
    let added: Vec<String> = strings(&roles["changes"]["added"]);
    assert!(
        added.iter().any(|a| a.starts_with("zed.leaver@acme.example:title:")),
        "{roles}"
    );
    assert!(
        added
            .iter()
            .any(|a| a.starts_with("zed.leaver@acme.example:department:")),
        "{roles}"
    );

    // A sample: the same seed draws the same items, another seed others; extended, the first
    // ones kept; the Python script recomputes it from the exported file.
    let pop = run["id"].as_str().unwrap();
    let draw = |seed: &str| {
        env.json(&[
            "samples",
            "draw",
            "FY26 SOC 2",
            "--control",
            "CHG-01",
            "--population",
            pop,
            "--seed",
            seed,
        ])
    };
    let s1 = draw("fy26-chg");
    let n = s1["items"].as_array().unwrap().len();
    assert_eq!(n, s1["suggested"].as_u64().unwrap() as usize);
    assert!((3..=20).contains(&n), "10 % of {count}, at least 3, at most 20: {n}");
    assert_eq!(ids(&draw("fy26-chg")), ids(&s1));
    assert_ne!(ids(&draw("another seed")), ids(&s1));
    assert_eq!(python_sample(&file, "fy26-chg", &[&n.to_string()]), ids(&s1));
    let sid = s1["id"].as_str().unwrap();
    let extended = env.json(&["samples", "extend", sid, "--more", "5"]);
    assert_eq!(ids(&extended)[..n], ids(&s1)[..]);
    assert_eq!(ids(&extended).len(), n + 5);
    assert_eq!(python_sample(&file, "fy26-chg", &[&n.to_string(), "5"]), ids(&extended));
    // Two extensions at once: each one that lands adds its own items; one that read a stale
    // sample is refused, and no item is ever drawn twice.
    let racers: Vec<_> = (0..2)
        .map(|_| {
            env.command(&["samples", "extend", sid, "--more", "2"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let landed = racers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .filter(|o| {
            let said = String::from_utf8_lossy(&o.stderr);
            assert!(o.status.success() || said.contains("reload it"), "{said}");
            o.status.success()
        })
        .count();
    let raced = env.json(&["samples", "show", sid]);
    let all = ids(&raced);
    assert_eq!(all.len(), n + 5 + 2 * landed);
    assert_eq!(all.iter().collect::<std::collections::BTreeSet<_>>().len(), all.len());
    let rounds: Vec<String> = raced["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    let rounds: Vec<&str> = rounds.iter().map(String::as_str).collect();
    assert_eq!(
        python_sample(&file, "fy26-chg", &rounds),
        all,
        "the rounds recompute the whole sample"
    );
    env.refused(
        &[
            "samples",
            "draw",
            "FY26 SOC 2",
            "--control",
            "CHG-01",
            "--population",
            pop,
            "--seed",
            " padded",
        ],
        &["--seed"],
    );

    // Results: an exception needs a note and becomes an exception of the window.
    let first = ids(&s1)[0].clone();
    let second_item = ids(&s1)[1].clone();
    env.json(&["samples", "result", sid, &first, "--result", "no_exception"]);
    env.refused(
        &["samples", "result", sid, &second_item, "--result", "exception"],
        &["--note"],
    );
    let tested = env.json(&[
        "samples",
        "result",
        sid,
        &second_item,
        "--result",
        "exception",
        "--note",
        "approved after merge",
    ]);
    assert_eq!(tested["exceptions"], 1);
    let packet = env.json(&["samples", "packet", sid, &second_item]);
    let facts: Vec<&str> = packet["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for f in ["author", "approvers", "merged_at"] {
        assert!(facts.contains(&f), "{facts:?}");
    }
    assert!(
        !packet["evidence"].as_array().unwrap().is_empty(),
        "the import it came from"
    );
    let w = env.json(&["window", "--as-of", AS_OF]);
    let found: Vec<&Value> = w["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "sample_deviation")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["control"], "CHG-01");
    assert_eq!(found[0]["record"], second_item.as_str());
    let ex = found[0]["id"].as_str().unwrap();
    env.ok(&[
        "exceptions",
        "respond",
        ex,
        "--text",
        "Approval was given in chat before merge; tooling now blocks it.",
    ]);
    let w = env.json(&["window", "--as-of", AS_OF]);
    let answered = w["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == ex)
        .unwrap();
    assert!(
        answered["response"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Approval was given")
    );

    let book = env.tmp.path().join("testing.xlsx");
    env.ok(&["audit", "workbook", "FY26 SOC 2", "--out", book.to_str().unwrap()]);
    assert!(std::fs::metadata(&book).unwrap().len() > 1000);

    // Signed packs of a request and of a sample, checked with no workspace.
    let raw = |pack: &std::path::Path| {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(pack).unwrap()).unwrap();
        let mut f = archive.by_name("manifest.json").unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        bytes
    };
    let manifest_of = |pack: &std::path::Path| -> Value { serde_json::from_slice(&raw(pack)).unwrap() };
    let verified = |pack: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_evident"))
            .args(["pack", "verify", pack.to_str().unwrap()])
            .current_dir(env.tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    };
    let request_pack = env.tmp.path().join("request.zip");
    env.json(&[
        "pack",
        "create",
        "--request",
        id,
        "--out",
        request_pack.to_str().unwrap(),
    ]);
    verified(&request_pack);
    let m = manifest_of(&request_pack);
    assert_eq!(
        (m["of"]["kind"].as_str(), m["of"]["refs"][0].as_str()),
        (Some("request"), Some(id))
    );
    // Made again, the same items give the same manifest, byte for byte: two packs of one
    // request can be compared.
    let again = env.tmp.path().join("request-again.zip");
    env.json(&["pack", "create", "--request", id, "--out", again.to_str().unwrap()]);
    assert_eq!(raw(&again), raw(&request_pack));
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0]["evidence_id"].as_str(), files[0]["requests"][0].as_str()),
        (Some(ev.as_str()), Some(id))
    );
    let empty = r101_other(&env);
    env.refused(
        &[
            "pack",
            "create",
            "--request",
            &empty,
            "--out",
            env.tmp.path().join("none.zip").to_str().unwrap(),
        ],
        &["no evidence is linked"],
    );
    assert!(!env.tmp.path().join("none.zip").exists(), "nothing is written");
    let sample_pack = env.tmp.path().join("sample.zip");
    env.json(&[
        "pack",
        "create",
        "--sample",
        sid,
        "--out",
        sample_pack.to_str().unwrap(),
    ]);
    verified(&sample_pack);
    let m = manifest_of(&sample_pack);
    assert_eq!(m["of"]["kind"], "sample");
    let held: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["evidence_id"].as_str().unwrap())
        .collect();
    let run = env.json(&["samples", "show", sid]);
    assert!(
        held.contains(&run["population"]["evidence"].as_str().unwrap()),
        "the population file"
    );
    for e in packet["evidence"].as_array().unwrap() {
        assert!(
            held.contains(&e["id"].as_str().unwrap()),
            "the item's evidence is in the pack"
        );
    }
    // The whole engagement: the request's evidence and the sample's, each file once.
    let whole = env.tmp.path().join("engagement.zip");
    env.json(&[
        "pack",
        "create",
        "--engagement",
        "FY26 SOC 2",
        "--out",
        whole.to_str().unwrap(),
    ]);
    verified(&whole);
    let m = manifest_of(&whole);
    assert_eq!(m["of"]["kind"], "engagement");
    let all: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["evidence_id"].as_str().unwrap())
        .collect();
    assert!(all.contains(&ev.as_str()) && held.iter().all(|h| all.contains(h)));
    let unique: std::collections::BTreeSet<&&str> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "each file once");
    env.assert_verified();
}

/// A request of the list with nothing linked.
fn r101_other(env: &Env) -> String {
    env.json(&["requests", "list", "FY26 SOC 2"])
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["evidence"].as_array().unwrap().is_empty())
        .expect("a request without evidence")["id"]
        .as_str()
        .unwrap()
        .to_string()
}
