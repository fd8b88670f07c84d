//! Registers and policies: CSV import that validates the whole file first, idempotent
//! re-imports, the register commands, risk sign-off and reviews, and the policy lifecycle.

use serde_json::Value;

use super::common::*;

on_both_databases!(
    hr_import_is_validated_whole_and_idempotent,
    bad_files_list_every_problem_and_change_nothing,
    skip_invalid_imports_the_good_rows,
    training_and_background_checks_name_known_people,
    registers_add_update_show_and_round_trip_through_csv,
    risk_library_sign_off_and_reviews,
    policy_lifecycle_and_acceptance_per_version,
    exports_keep_formulas_inert_and_import_back_unchanged,
    text_with_nul_is_refused_naming_file_line_and_field,
);

const HR: &str = "email,name,title,department,manager_email,employment_type,start_date,end_date
ana@acme.example,Ana Lopez,CTO,Engineering,,employee,2022-01-10,
ben@acme.example,Ben Ito,Engineer,Engineering,ana@acme.example,employee,2023-03-01,
cy@acme.example,Cy Ray,Support agent,Support,ben@acme.example,contractor,2024-02-01,2025-06-30
";

fn import(env: &Env, register: &str, name: &str, csv: &str) -> Value {
    let f = env.write_file(name, csv.as_bytes());
    env.json(&["import", register, f.to_str().unwrap()])
}

fn hr_import_is_validated_whole_and_idempotent(b: Backend) {
    let env = Env::new(b);
    env.init();
    let first = import(&env, "people", "hr.csv", HR);
    assert_eq!(
        (
            first["created"].as_u64(),
            first["updated"].as_u64(),
            first["unchanged"].as_u64()
        ),
        (Some(3), Some(0), Some(0))
    );
    let log_len = env.audit_actions().len();
    let again = import(&env, "people", "hr.csv", HR);
    assert_eq!(
        (again["created"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        env.audit_actions().len(),
        log_len,
        "re-importing the same file writes nothing"
    );

    // A changed row updates that person only, keyed by email (case-insensitively).
    let changed = HR.replace(
        "ben@acme.example,Ben Ito,Engineer",
        "BEN@acme.example,Ben Ito,Senior Engineer",
    );
    let third = import(&env, "people", "hr2.csv", &changed);
    assert_eq!(
        (
            third["created"].as_u64(),
            third["updated"].as_u64(),
            third["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(2))
    );
    let ben = env.json(&["people", "show", "ben@acme.example"]);
    assert_eq!(ben["title"], "Senior Engineer");
    assert_eq!(ben["manager_email"], "ana@acme.example");
    let cy = env.json(&["people", "show", "cy@acme.example"]);
    assert_eq!(cy["end_date"], "2025-06-30");
    assert_eq!(
        env.json(&["people", "list", "--where", "employment_type=contractor"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let out = env.tmp.path().join("people.csv");
    env.ok(&["export", "people", "--out", out.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(exported.starts_with("email,name,title,department,manager_email,employment_type,start_date,end_date\n"));
    let round = env.json(&["import", "people", out.to_str().unwrap()]);
    assert_eq!(round["unchanged"], 3, "an export imports back unchanged");
    let log = env.json(&["audit-log"]);
    let imports: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "people.import")
        .collect();
    assert_eq!(imports.len(), 2);
    assert_eq!(imports[1]["payload"]["updated"][0]["title"], "Senior Engineer");
    env.assert_verified();
}

fn bad_files_list_every_problem_and_change_nothing(b: Backend) {
    let env = Env::new(b);
    env.init();
    import(&env, "people", "hr.csv", HR);
    let bad = "email,name,title,department,manager_email,employment_type,start_date,end_date
dee@acme.example,Dee,,,boss@acme.example,employee,2024-01-01,
eve@acme.example,Eve,,,,employee,2024-05-01,2024-01-01
ana@acme.example,Ana Again,,,,employee,2024-01-01,
fay@acme.example,Fay,,,,robot,2024-01-01,
ana@acme.example,Ana Twice,,,,employee,2024-01-01,
";
    let f = env.write_file("bad.csv", bad.as_bytes());
    let name = f.to_str().unwrap();
    env.refused(
        &["import", "people", name],
        &[
            &format!("{name}:2:manager_email: unknown person 'boss@acme.example'"),
            &format!("{name}:3:end_date: 2024-01-01 is before the start date 2024-05-01"),
            &format!("{name}:5:employment_type: 'robot' is not one of"),
            &format!("{name}:6:email: duplicate of line 4"),
            "nothing was imported",
        ],
    );
    let wrong_header = env.write_file("header.csv", b"mail,name,kind\nx@y.io,X,employee\n");
    let wh = wrong_header.to_str().unwrap();
    env.refused(&["import", "people", wh], &["unknown column 'mail'"]);
    let out = env.run(&["import", "people", wh]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{wh}:1: missing required column 'email'")),
        "{stderr}"
    );

    let risks = "id,title,likelihood,impact,treatment,controls,residual_likelihood,residual_impact
R-1,Laptop theft,7,3,mitigate,END-01,,
R-2,Phishing,4,4,mitigate,ACC-02;XYZ-99,2,5
R-3,Vendor breach,3,4,insure,VEN-03,,
";
    let rf = env.write_file("risks.csv", risks.as_bytes());
    let rn = rf.to_str().unwrap();
    env.refused(
        &["import", "risks", rn],
        &[
            &format!("{rn}:2:likelihood: '7' is not a whole number from 1 to 5"),
            &format!("{rn}:3:controls: unknown control id 'XYZ-99'"),
            &format!("{rn}:4:treatment: 'insure' is not one of: accept, mitigate, transfer, avoid"),
        ],
    );
    let residual = "id,title,likelihood,impact,treatment,residual_likelihood\nR-9,Outage,2,4,mitigate,3\n";
    let f = env.write_file("residual.csv", residual.as_bytes());
    env.refused(
        &["import", "risks", f.to_str().unwrap()],
        &["residual_likelihood: 3 is above the inherent likelihood 2"],
    );
    env.refused(
        &["import", "gadgets", f.to_str().unwrap()],
        &["unknown register 'gadgets'", "people"],
    );
    env.assert_verified();
}

fn skip_invalid_imports_the_good_rows(b: Backend) {
    let env = Env::new(b);
    env.init();
    let csv = "email,name,employment_type,start_date,manager_email
ana@acme.example,Ana,employee,2022-01-10,
bad-email,Nobody,employee,2022-01-10,
ben@acme.example,Ben,employee,2023-03-01,ana@acme.example
gus@acme.example,Gus,employee,2023-03-01,bad-email
";
    let f = env.write_file("mixed.csv", csv.as_bytes());
    let out = env
        .command(&[
            "import",
            "people",
            f.to_str().unwrap(),
            "--skip-invalid",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(":3:email:") && stderr.contains(":5:manager_email:"),
        "{stderr}"
    );
    let people: Vec<String> = env
        .json(&["people", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(people, ["ana@acme.example", "ben@acme.example"]);
}

fn training_and_background_checks_name_known_people(b: Backend) {
    let env = Env::new(b);
    env.init();
    import(&env, "people", "hr.csv", HR);
    let training = format!(
        "email,course,kind,completed_on\nana@acme.example,Security basics 2026,security_awareness,2026-02-01\nben@acme.example,OWASP top 10,secure_coding,2026-03-01\nzoe@acme.example,Security basics 2026,security_awareness,2026-02-01\nben@acme.example,Later,privacy,{}\n",
        day(3)
    );
    let f = env.write_file("training.csv", training.as_bytes());
    env.refused(
        &["import", "training", f.to_str().unwrap()],
        &[
            ":4:email: unknown person 'zoe@acme.example'",
            ":5:completed_on:",
            "in the future",
        ],
    );
    let ok = "email,course,kind,completed_on\nana@acme.example,Security basics 2026,security_awareness,2026-02-01\nana@acme.example,Security basics 2025,security_awareness,2025-02-01\n";
    assert_eq!(
        import(&env, "training", "t.csv", ok)["created"],
        2,
        "one person, two completions"
    );
    let checks = "email,status,completed_on,provider,notes\nana@acme.example,passed,2022-01-05,Checkr,\nben@acme.example,passed,,Checkr,\n";
    let f = env.write_file("checks.csv", checks.as_bytes());
    env.refused(
        &["import", "background-checks", f.to_str().unwrap()],
        &[":3:completed_on: required when the check is concluded"],
    );
    let checks = "email,status,completed_on,provider,notes\nana@acme.example,passed,2022-01-05,Checkr,\ncy@acme.example,waived,,,Contractor via agency\n";
    assert_eq!(import(&env, "background-checks", "c.csv", checks)["created"], 2);
    assert_eq!(
        env.json(&["background-checks", "show", "cy@acme.example"])["status"],
        "waived"
    );
}

fn registers_add_update_show_and_round_trip_through_csv(b: Backend) {
    let env = Env::new(b);
    env.init();
    let report = env.json(&[
        "evidence",
        "add",
        env.write_file("aws-soc2.pdf", b"%PDF report").to_str().unwrap(),
        "--control",
        "VEN-03",
    ]);
    let report_id = report["id"].as_str().unwrap();
    let v = env.json(&[
        "vendors",
        "add",
        "--name",
        "Amazon Web Services",
        "--service",
        "Cloud hosting",
        "--tier",
        "critical",
        "--data-categories",
        "customer data; logs",
        "--soc2-report",
        report_id,
        "--report-period-end",
        "2026-09-30",
        "--cuecs",
        "Enable MFA on root; Restrict IAM",
    ]);
    assert_eq!(v["data_categories"], serde_json::json!(["customer data", "logs"]));
    assert_eq!(v["soc2_report"], serde_json::json!([report_id]));
    env.refused(
        &["vendors", "add", "--name", "amazon web services", "--tier", "low"],
        &["already exists", "vendors update"],
    );
    env.refused(
        &["vendors", "add", "--name", "Stripe", "--tier", "vital"],
        &["--tier", "'vital'", "critical, high, medium, low"],
    );
    env.refused(
        &[
            "vendors",
            "add",
            "--name",
            "Stripe",
            "--tier",
            "high",
            "--soc2-report",
            "01NOPE",
        ],
        &["--soc2-report", "unknown evidence item"],
    );
    env.refused(&["vendors", "add", "--tier", "high"], &["--name"]);
    let updated = env.json(&[
        "vendors",
        "update",
        "Amazon Web Services",
        "--tier",
        "high",
        "--service",
        "",
    ]);
    assert_eq!(updated["tier"], "high");
    assert!(updated["service"].is_null(), "an empty value clears an optional field");
    env.refused(
        &["vendors", "update", "Nobody Inc", "--tier", "low"],
        &["unknown vendor"],
    );

    env.json(&[
        "assets",
        "add",
        "--name",
        "prod-db",
        "--kind",
        "data_store",
        "--classification",
        "restricted",
        "--in-scope",
        "yes",
        "--owner",
        "sam@acme.example",
    ]);
    env.refused(
        &[
            "assets",
            "add",
            "--name",
            "x",
            "--kind",
            "spaceship",
            "--classification",
            "public",
            "--in-scope",
            "true",
        ],
        &["--kind"],
    );
    env.json(&[
        "events",
        "add",
        "--id",
        "TT-2026-1",
        "--kind",
        "tabletop_exercise",
        "--title",
        "Ransomware tabletop",
        "--date",
        &day(-10),
        "--controls",
        "INC-05",
    ]);
    env.refused(
        &[
            "events",
            "add",
            "--id",
            "DR-1",
            "--kind",
            "dr_test",
            "--title",
            "DR",
            "--date",
            &day(10),
        ],
        &["--date", "in the future"],
    );
    env.json(&[
        "tasks",
        "add",
        "--id",
        "T-1",
        "--title",
        "Enable MFA on the VPN",
        "--status",
        "open",
        "--control",
        "ACC-02",
        "--due-date",
        &day(30),
    ]);
    env.refused(
        &[
            "tasks",
            "add",
            "--id",
            "T-2",
            "--title",
            "x",
            "--status",
            "open",
            "--control",
            "NOPE-1",
        ],
        &["--control", "unknown control id 'NOPE-1'"],
    );
    assert_eq!(
        env.json(&["tasks", "update", "t-1", "--status", "done"])["status"],
        "done"
    );

    for register in ["vendors", "assets", "events", "tasks"] {
        let out = env.tmp.path().join(format!("{register}.csv"));
        env.ok(&["export", register, "--out", out.to_str().unwrap()]);
        let before = env.audit_actions().len();
        let again = env.json(&["import", register, out.to_str().unwrap()]);
        assert_eq!(again["created"], 0, "{register}");
        assert_eq!(again["updated"], 0, "{register}: an export re-imports unchanged");
        assert_eq!(env.audit_actions().len(), before);
    }
    let actions = env.audit_actions();
    for a in [
        "vendors.add",
        "vendors.update",
        "assets.add",
        "events.add",
        "tasks.add",
        "tasks.update",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} logged");
    }
    env.assert_verified();
}

fn risk_library_sign_off_and_reviews(b: Backend) {
    let env = Env::new(b);
    env.init();
    let library = env.json(&["risks", "library"]);
    let n = library.as_array().unwrap().len();
    assert!(n >= 30);
    assert_eq!(env.json(&["risks", "adopt", "--all"])["adopted"], n);
    assert_eq!(
        env.json(&["risks", "adopt", "RL-01"])["already_in_register"],
        1,
        "adopting twice adds nothing"
    );
    let risks = env.json(&["risks", "list"]);
    assert_eq!(risks.as_array().unwrap().len(), n);
    let r1 = env.json(&["risks", "show", "rl-01"]);
    assert!(!r1["controls"].as_array().unwrap().is_empty());

    let signed = env.json(&["risks", "sign-off", "RL-01"]);
    assert_eq!(signed["signed_off_by"], "cli:tester");
    assert!(signed["signed_off_at"].as_str().unwrap().starts_with(&day(0)));
    let history = env.json(&["risks", "reviews", "RL-01"]);
    assert_eq!(history["sign_off"]["by"], "cli:tester");
    assert_eq!(history["sign_off"]["outdated"], false);

    std::thread::sleep(std::time::Duration::from_millis(5));
    env.json(&["risks", "update", "RL-01", "--likelihood", "5"]);
    assert_eq!(
        env.json(&["risks", "reviews", "RL-01"])["sign_off"]["outdated"],
        true,
        "a change after sign-off needs a new one"
    );
    env.json(&[
        "risks",
        "review",
        "RL-01",
        "--note",
        "Quarterly review: phishing up, likelihood raised",
    ]);
    let history = env.json(&["risks", "reviews", "RL-01"]);
    assert_eq!(history["reviews"][0]["likelihood"], 5);
    assert_eq!(history["reviews"][0]["actor"], "cli:tester");
    env.refused(&["risks", "review", "RL-01", "--note", " "], &["--note"]);
    env.refused(&["risks", "sign-off", "RL-999"], &["unknown risk"]);
    let actions = env.audit_actions();
    assert!(actions.contains(&"risks.sign_off".to_string()) && actions.contains(&"risks.review".to_string()));
    env.assert_verified();
}

fn policy_lifecycle_and_acceptance_per_version(b: Backend) {
    let env = Env::new(b);
    env.init();
    import(&env, "people", "hr.csv", HR);
    env.ok(&["policies", "set-role", "security_officer", "Dana Okafor"]);
    assert_eq!(
        env.json(&["policies", "adopt", "--all"])["adopted"]
            .as_array()
            .unwrap()
            .len(),
        library_policies()
    );
    let p = "vulnerability-management";
    let shown = env.json(&["policies", "show", p]);
    let body = shown["text"]["body"].as_str().unwrap();
    assert!(
        body.contains("Acme Test") && body.contains("Dana Okafor") && body.contains("| Critical | 14 days |"),
        "{body}"
    );
    assert!(!body.contains("{{"), "every placeholder is filled");

    env.refused(
        &["policies", "publish", p],
        &["only an approved version can be published"],
    );
    env.refused(
        &["policies", "accept", p, "--person", "ana@acme.example"],
        &["no published version"],
    );
    let approved = env.json(&["policies", "approve", p]);
    assert_eq!(approved["approved_by"], "cli:tester");
    env.refused(&["policies", "approve", p], &["not a draft"]);
    env.ok(&["policies", "publish", p]);
    env.ok(&["policies", "accept", p, "--person", "ana@acme.example"]);
    env.refused(
        &["policies", "accept", p, "--person", "ana@acme.example"],
        &["already accepted"],
    );
    env.refused(
        &["policies", "accept", p, "--person", "nobody@acme.example"],
        &["unknown person"],
    );
    env.refused(
        &[
            "policies",
            "accept",
            p,
            "--person",
            "ben@acme.example",
            "--version",
            "2",
        ],
        &["--version", "not the published one"],
    );
    let acc = env.json(&["policies", "acceptances", p]);
    assert_eq!(acc["accepted"].as_array().unwrap().len(), 1);
    assert_eq!(
        acc["missing"],
        serde_json::json!(["ben@acme.example"]),
        "the leaver is not asked"
    );

    // Control text reads the policy's parameter: it never contradicts the policy.
    let sla_control = || {
        env.json(&["controls", "show", "VUL-03"])["description"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(sla_control().contains("within 14 days"), "{}", sla_control());
    assert!(!sla_control().contains("{{"), "no placeholder reaches people");
    // A parameter change is a new draft; v1 stays published and accepted until v2 is.
    env.ok(&["policies", "set-param", p, "vuln_sla_critical_days", "5"]);
    assert!(sla_control().contains("within 5 days"), "{}", sla_control());
    env.refused(
        &["policies", "set-param", p, "vuln_sla_critical_days", "soon"],
        &["not a valid integer"],
    );
    env.refused(
        &["policies", "set-param", p, "colour", "blue"],
        &["no parameter 'colour'"],
    );
    let listed = env.json(&["policies", "list"]);
    let vm = listed.as_array().unwrap().iter().find(|x| x["id"] == p).unwrap();
    assert_eq!(
        (
            vm["latest_version"].as_i64(),
            vm["status"].as_str(),
            vm["published_version"].as_i64()
        ),
        (Some(2), Some("draft"), Some(1))
    );
    assert_eq!(vm["acceptance"], serde_json::json!({"accepted": 1, "required": 2}));
    assert!(
        env.json(&["policies", "show", p, "--version", "2"])["text"]["body"]
            .as_str()
            .unwrap()
            .contains("| Critical | 5 days |")
    );
    assert!(
        env.json(&["policies", "show", p, "--version", "1"])["text"]["body"]
            .as_str()
            .unwrap()
            .contains("| Critical | 14 days |"),
        "v1 never changes"
    );
    let params = env.json(&["policies", "params"]);
    let sla = params
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "vuln_sla_critical_days")
        .unwrap();
    assert_eq!(sla["value"], "5");

    env.ok(&["policies", "approve", p]);
    env.ok(&["policies", "publish", p]);
    let acc = env.json(&["policies", "acceptances", p]);
    assert_eq!(acc["published_version"], 2);
    assert_eq!(acc["accepted"], serde_json::json!([]), "acceptance is per version");
    assert_eq!(acc["earlier_versions"][0]["email"], "ana@acme.example");
    let v1 = env.json(&["policies", "show", p, "--version", "1"]);
    assert_eq!(v1["text"]["status"], "retired");

    let csv = format!(
        "email,policy,version,accepted_on\nana@acme.example,{p},2,{}\nben@acme.example,{p},2,{}\nben@acme.example,access-control,1,{}\n",
        day(0),
        day(0),
        day(0)
    );
    let f = env.write_file("acceptances.csv", csv.as_bytes());
    env.refused(
        &["import", "policy-acceptances", f.to_str().unwrap()],
        &[":4:version: access-control version 1 was never published"],
    );
    let csv = format!(
        "email,policy,version,accepted_on\nana@acme.example,{p},2,{}\nben@acme.example,{p},2,{}\n",
        day(0),
        day(0)
    );
    assert_eq!(import(&env, "policy-acceptances", "acc.csv", &csv)["created"], 2);
    assert_eq!(
        import(&env, "policy-acceptances", "acc.csv", &csv)["created"],
        0,
        "idempotent"
    );
    let out = env.tmp.path().join("policies.csv");
    env.ok(&["export", "policies", "--out", out.to_str().unwrap()]);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .any(|l| l.starts_with(&format!("{p},")) && l.ends_with(",2,2"))
    );
    env.assert_verified();
}

/// Cells of the first sheet of a workbook by reference ("B2"): the text stored, and whether the
/// cell's style carries Excel's quote prefix (text stays text even when edited).
fn xlsx_cells(path: &std::path::Path) -> std::collections::BTreeMap<String, (String, bool)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).expect("an XLSX is a zip");
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let (sheet, strings, styles) = (
        part("xl/worksheets/sheet1.xml"),
        part("xl/sharedStrings.xml"),
        part("xl/styles.xml"),
    );
    assert!(!sheet.contains("<f>") && !sheet.contains("<f "), "no cell is a formula");
    let unescape = |t: &str| {
        t.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    let shared: Vec<String> = strings
        .split("<si>")
        .skip(1)
        .map(|si| {
            let t = &si[si.find("<t").unwrap()..];
            let t = &t[t.find('>').unwrap() + 1..t.find("</t>").unwrap()];
            unescape(t)
        })
        .collect();
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    let quoted: Vec<bool> = xfs
        .split("<xf ")
        .skip(1)
        .map(|xf| xf.contains("quotePrefix=\"1\""))
        .collect();
    let attr = |cell: &str, name: &str| {
        let start = cell.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(cell[start..start + cell[start..].find('"')?].to_string())
    };
    sheet
        .split("<c ")
        .skip(1)
        .map(|c| {
            let cell = format!(" {}", &c[..c.find('>').unwrap()]);
            // A cell is a shared string, or empty (`<c r=".." s=".."/>`).
            let text = match attr(&cell, "t").as_deref() {
                Some("s") => shared[c[c.find("<v>").unwrap() + 3..c.find("</v>").unwrap()]
                    .parse::<usize>()
                    .unwrap()]
                .clone(),
                None if cell.ends_with('/') => String::new(),
                other => panic!("a cell that is not text: {other:?} {cell}"),
            };
            let style: usize = attr(&cell, "s").map_or(0, |s| s.parse().unwrap());
            (attr(&cell, "r").unwrap(), (text, quoted[style]))
        })
        .collect()
}

fn exports_keep_formulas_inert_and_import_back_unchanged(b: Backend) {
    let env = Env::new(b);
    env.init();
    let link = r#"=HYPERLINK("http://evil.example/","Open")"#;
    // One name per character that starts a formula; numbers stay numbers; `'=1+1` is how a
    // spreadsheet user types text that starts with `=`.
    let csv = format!(
        "email,name,title,department,employment_type,start_date
a@acme.example,\"{}\",-5,+1,employee,2022-01-10
b@acme.example,+cmd|' /C calc'!A0,,,employee,2022-01-10
c@acme.example,-2+3,,,employee,2022-01-10
d@acme.example,@SUM(1+1),,,employee,2022-01-10
e@acme.example,'=1+1,,,employee,2022-01-10
f@acme.example,Ana Lopez,,,employee,2022-01-10
",
        link.replace('"', "\"\"")
    );
    assert_eq!(import(&env, "people", "in.csv", &csv)["created"], 6);
    let name = |email: &str| {
        env.json(&["people", "show", email])["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(name("a@acme.example"), link, "stored exactly as given");
    assert_eq!(
        name("e@acme.example"),
        "=1+1",
        "the spreadsheet's text marker is not part of the value"
    );
    let a = env.json(&["people", "show", "a@acme.example"]);
    assert_eq!(
        (a["title"].as_str(), a["department"].as_str()),
        (Some("-5"), Some("+1"))
    );

    let expected = [
        ("a@acme.example", format!("'{link}")),
        ("b@acme.example", "'+cmd|' /C calc'!A0".to_string()),
        ("c@acme.example", "'-2+3".to_string()),
        ("d@acme.example", "'@SUM(1+1)".to_string()),
        ("e@acme.example", "'=1+1".to_string()),
        ("f@acme.example", "Ana Lopez".to_string()),
    ];
    let out = env.tmp.path().join("people.csv");
    env.ok(&["export", "people", "--out", out.to_str().unwrap()]);
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for (email, cell) in &expected {
        let row = rows.iter().find(|r| &r[0] == *email).unwrap();
        assert_eq!(&row[1], cell.as_str(), "CSV name of {email}");
    }
    let a = rows.iter().find(|r| &r[0] == "a@acme.example").unwrap();
    assert_eq!((&a[2], &a[3]), ("-5", "+1"), "plain numbers stay readable");
    let again = env.json(&["import", "people", out.to_str().unwrap()]);
    assert_eq!(again["unchanged"], 6, "the export imports back unchanged");
    assert_eq!(name("a@acme.example"), link);
    assert_eq!(name("e@acme.example"), "=1+1");

    // The workbook stores each value exactly, as text, with the quote prefix on the same cells.
    let book = env.tmp.path().join("people.xlsx");
    env.ok(&["export", "people", "--out", book.to_str().unwrap()]);
    let cells = xlsx_cells(&book);
    for (email, cell) in &expected {
        let (row, _) = cells
            .iter()
            .find(|(r, (text, _))| r.starts_with('A') && text == email)
            .unwrap_or_else(|| panic!("{email} in the workbook"));
        let (text, quoted) = &cells[&format!("B{}", &row[1..])];
        let value = cell.strip_prefix('\'').unwrap_or(cell);
        assert_eq!(
            (text.as_str(), *quoted),
            (value, cell.starts_with('\'')),
            "XLSX name of {email}"
        );
    }
    let (row, _) = cells.iter().find(|(_, (t, _))| t == "a@acme.example").unwrap();
    assert_eq!(cells[&format!("C{}", &row[1..])], ("-5".to_string(), false));
    env.assert_verified();
}

fn text_with_nul_is_refused_naming_file_line_and_field(b: Backend) {
    let env = Env::new(b);
    env.init();
    import(&env, "people", "hr.csv", HR);
    let (people, log) = (env.json(&["people", "list"]), env.audit_actions());
    // PostgreSQL cannot hold a NUL and SQLite would keep it silently: refused on both.
    let bad = "email,name,title,department,manager_email,employment_type,start_date,end_date
ana@acme.example,Ana Lopez,C\0TO,Engineering,,employee,2022-01-10,
dee@acme.example,Dee,Engineer,Eng\0ineering,,employee,2024-01-01,
";
    let f = env.write_file("nul.csv", bad.as_bytes());
    let name = f.to_str().unwrap();
    env.refused(
        &["import", "people", name],
        &[
            &format!("{name}:2:title: contains a NUL character (U+0000) at character 2, which cannot be stored"),
            &format!("{name}:3:department: contains a NUL character (U+0000) at character 4"),
            "nothing was imported",
        ],
    );
    let out = env.run(&["import", "people", name, "--skip-invalid", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["rejected"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(env.json(&["people", "list"]), people, "nothing stored");
    assert_eq!(env.audit_actions(), log, "nothing logged");
    env.assert_verified();
}
