//! The foundation: workspace, catalog, controls, scope.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::common::*;

on_both_databases!(
    init_adopts_library_and_catalog_is_complete,
    second_init_refuses_and_changes_nothing,
    scope_categories_drive_applicability,
    manual_not_applicable_survives_scope_and_can_be_withdrawn,
    scope_show_and_components,
    owners,
    bad_input_is_refused_and_changes_nothing,
    commands_outside_a_workspace_say_so,
    demo_builds_a_program,
    new_library_controls_can_be_adopted,
);

/// A workspace made before a content update adopts the library's new controls on request;
/// nothing already adopted is touched.
fn new_library_controls_can_be_adopted(b: Backend) {
    let env = Env::new(b);
    env.init();
    assert_eq!(
        env.json(&["controls", "adopt", "--all-new"])["adopted"],
        serde_json::json!([])
    );
    env.refused(&["controls", "adopt", "ACC-01"], &["ACC-01 is already adopted"]);
    env.refused(
        &["controls", "adopt", "NOPE-01"],
        &["'NOPE-01' is not a control of the library"],
    );
    env.refused(&["controls", "adopt"], &["--all-new"]);
    // As a workspace adopted before GOV-11 and GOV-12 were in the library.
    for code in ["GOV-11", "GOV-12"] {
        let id = format!("(SELECT id FROM controls WHERE code = '{code}')");
        env.sql(&[
            &format!("DELETE FROM control_criteria WHERE control_id = {id}"),
            &format!("DELETE FROM control_evidence_requirements WHERE control_id = {id}"),
            &format!("DELETE FROM controls WHERE code = '{code}'"),
        ])
        .unwrap();
    }
    let before = env.json(&["controls", "show", "ACC-01"]);
    assert_eq!(
        env.json(&["controls", "adopt", "GOV-12"])["adopted"],
        serde_json::json!(["GOV-12"])
    );
    env.refused(
        &["controls", "adopt", "GOV-11", "GOV-12"],
        &["GOV-12 is already adopted"],
    );
    assert_eq!(
        env.json(&["controls", "adopt", "--all-new"])["adopted"],
        serde_json::json!(["GOV-11"])
    );
    let library = evident_catalog::Catalog::builtin();
    let gov11 = env.json(&["controls", "show", "GOV-11"]);
    assert_eq!(
        gov11["title"],
        library.library.control("GOV-11").unwrap().title.as_str()
    );
    assert_eq!(
        env.json(&["controls", "show", "ACC-01"]),
        before,
        "adopted controls untouched"
    );
    assert_eq!(
        env.json(&["controls", "list"]).as_array().unwrap().len(),
        library_controls()
    );
    env.assert_verified();
}

fn init_adopts_library_and_catalog_is_complete(b: Backend) {
    let env = Env::new(b);
    let init = env.init();
    assert_eq!(
        init["database"],
        if b == Backend::Sqlite { "sqlite" } else { "postgres" }
    );
    assert!(env.dir.join("evident.toml").is_file());
    assert!(env.dir.join("vault").is_dir());
    let key = std::fs::read_to_string(env.dir.join("keys/instance.key")).unwrap();
    assert_eq!(key.trim().len(), 64, "a 32-byte key in hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.dir.join("keys/instance.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the instance key is private to its owner");
    }
    assert_eq!(env.dir.join("evident.db").exists(), b == Backend::Sqlite);

    let criteria = env.json(&["catalog", "criteria"]);
    let ids = strings(&Value::Array(
        criteria.as_array().unwrap().iter().map(|c| c["id"].clone()).collect(),
    ));
    assert_eq!(ids.len(), 61);
    for c in criteria.as_array().unwrap() {
        assert_eq!(c["category"], category_of(c["id"].as_str().unwrap()), "{c}");
        assert!(!c["title"].as_str().unwrap().is_empty());
        let in_coso = ["CC1", "CC2", "CC3", "CC4", "CC5"].contains(&c["series"].as_str().unwrap());
        assert_eq!(c["coso_principle"].is_number(), in_coso, "{c}");
    }
    for (cat, n) in [
        ("security", 33),
        ("availability", 3),
        ("confidentiality", 2),
        ("processing_integrity", 5),
        ("privacy", 18),
    ] {
        assert_eq!(
            env.json(&["catalog", "criteria", "--category", cat])
                .as_array()
                .unwrap()
                .len(),
            n,
            "{cat}"
        );
    }

    let controls = env.json(&["controls", "list"]);
    let controls = controls.as_array().unwrap();
    assert!(controls.len() >= 120, "{} controls", controls.len());
    assert_eq!(init["controls_adopted"], controls.len());
    let mapped: std::collections::BTreeSet<String> = controls.iter().flat_map(|c| strings(&c["criteria"])).collect();
    let all: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        mapped, all,
        "every criterion has a control and no control maps to an unknown criterion"
    );
    for c in controls {
        assert_eq!(c["applicable"], true, "no scope yet, so nothing is ruled out: {c}");
        assert!(c["owner"].is_null());
    }

    let cc61 = env.json(&["catalog", "show", "cc6.1"]);
    assert_eq!(cc61["id"], "CC6.1");
    assert_eq!(cc61["controls_source"], "workspace");
    assert!(cc61["explanation"].as_str().unwrap().split_whitespace().count() > 40);
    let expected: Vec<&str> = controls
        .iter()
        .filter(|c| strings(&c["criteria"]).contains(&"CC6.1".to_string()))
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    let shown: Vec<&str> = cc61["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown, expected);
}

fn second_init_refuses_and_changes_nothing(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.ok(&["controls", "set-owner", "ACC-01", "it@acme.example"]);
    let toml = std::fs::read(env.dir.join("evident.toml")).unwrap();
    let key = std::fs::read(env.dir.join("keys/instance.key")).unwrap();
    env.refused(
        &["init", "--organisation", "Other"],
        &["already holds an Evident workspace", "nothing was changed"],
    );
    assert_eq!(std::fs::read(env.dir.join("evident.toml")).unwrap(), toml);
    assert_eq!(std::fs::read(env.dir.join("keys/instance.key")).unwrap(), key);
    assert_eq!(
        control(&env.json(&["controls", "list"]), "ACC-01")["owner"],
        "it@acme.example"
    );
}

fn scope_categories_drive_applicability(b: Backend) {
    let env = Env::new(b);
    env.init();
    let all = env.json(&["controls", "list"]);

    for (cats, in_scope) in [
        ("security", vec!["security"]),
        (
            "security,availability,privacy",
            vec!["security", "availability", "privacy"],
        ),
        (
            "confidentiality,processing-integrity",
            vec!["security", "confidentiality", "processing_integrity"],
        ),
    ] {
        let stderr = env.ok(&[
            "scope",
            "set",
            "--type",
            "1",
            "--categories",
            cats,
            "--as-of",
            "2026-12-31",
        ]);
        assert_eq!(
            stderr.contains("security added"),
            !cats.contains("security"),
            "{stderr}"
        );
        let scope = env.json(&["scope", "show"]);
        assert_eq!(strings(&scope["categories"]), in_scope);
        let listed = env.json(&["controls", "list"]);
        let mut ruled_out = 0;
        for c in all.as_array().unwrap() {
            let applies = strings(&c["criteria"])
                .iter()
                .any(|k| in_scope.contains(&category_of(k)));
            let now = control(&listed, c["code"].as_str().unwrap());
            assert_eq!(now["applicable"], applies, "{cats}: {now}");
            if !applies {
                ruled_out += 1;
                assert_eq!(now["not_applicable_source"], "scope");
                let reason = now["not_applicable_reason"].as_str().unwrap();
                assert!(reason.contains("outside the audit scope"), "{reason}");
            }
        }
        assert!(ruled_out > 0, "{cats}: some controls should fall outside");
        let only_na = env.json(&["controls", "list", "--only", "not-applicable"]);
        assert_eq!(only_na.as_array().unwrap().len(), ruled_out);
    }
    // A privacy-only control is applicable once privacy is in scope, and not otherwise.
    let privacy_only = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| strings(&c["criteria"]).iter().all(|k| category_of(k) == "privacy"))
        .expect("the library has privacy-only controls");
    let id = privacy_only["code"].as_str().unwrap();
    assert_eq!(env.json(&["controls", "show", id])["applicable"], false);
    env.ok(&[
        "scope",
        "set",
        "--type",
        "2",
        "--categories",
        "privacy",
        "--window",
        "2027-01-01..2027-06-30",
    ]);
    assert_eq!(env.json(&["controls", "show", id])["applicable"], true);
}

fn manual_not_applicable_survives_scope_and_can_be_withdrawn(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.ok(&[
        "controls",
        "not-applicable",
        "phy-01",
        "--reason",
        "Fully remote company with no offices",
    ]);
    let shown = env.json(&["controls", "show", "PHY-01"]);
    assert_eq!(shown["applicable"], false);
    assert_eq!(shown["not_applicable_source"], "manual");
    assert_eq!(shown["not_applicable_reason"], "Fully remote company with no offices");
    env.scope_type2("2027-01-01..2027-06-30");
    let listed = control(&env.json(&["controls", "list"]), "PHY-01").clone();
    assert_eq!(
        listed["not_applicable_source"], "manual",
        "a person's ruling wins over the scope"
    );
    env.ok(&["controls", "applicable", "PHY-01"]);
    assert_eq!(env.json(&["controls", "show", "PHY-01"])["applicable"], true);
    env.refused(&["controls", "applicable", "PHY-01"], &["no not-applicable ruling"]);
}

fn scope_show_and_components(b: Backend) {
    let env = Env::new(b);
    env.init();
    let empty = env.json(&["scope", "show"]);
    assert!(empty["type"].is_null());
    assert_eq!(empty["components"], serde_json::json!([]));

    env.ok(&[
        "scope",
        "set",
        "--type",
        "2",
        "--categories",
        "security,availability",
        "--window",
        "2027-01-01..2027-06-30",
    ]);
    env.ok(&[
        "scope",
        "component",
        "add",
        "--kind",
        "infrastructure",
        "--name",
        "AWS production",
        "--in-scope",
        "--reason",
        "Runs the service",
    ]);
    env.ok(&[
        "scope",
        "component",
        "add",
        "--kind",
        "software",
        "--name",
        "Marketing site",
        "--out-of-scope",
        "--reason",
        "No customer data",
    ]);
    let s = env.json(&["scope", "show"]);
    assert_eq!(s["type"], 2);
    assert_eq!(
        s["window"],
        serde_json::json!({"from": "2027-01-01", "to": "2027-06-30"})
    );
    assert!(s.get("as_of").is_none());
    assert_eq!(strings(&s["categories"]), ["security", "availability"]);
    assert_eq!(
        s["components"],
        serde_json::json!([
            {"kind": "infrastructure", "name": "AWS production", "in_scope": true, "reason": "Runs the service"},
            {"kind": "software", "name": "Marketing site", "in_scope": false, "reason": "No customer data"},
        ])
    );
    env.refused(
        &[
            "scope",
            "component",
            "add",
            "--kind",
            "software",
            "--name",
            "Marketing site",
            "--in-scope",
            "--reason",
            "x",
        ],
        &["already in the system description"],
    );
    env.ok(&[
        "scope",
        "component",
        "remove",
        "--kind",
        "software",
        "--name",
        "Marketing site",
    ]);
    assert_eq!(env.json(&["scope", "show"])["components"].as_array().unwrap().len(), 1);
    env.refused(
        &[
            "scope",
            "component",
            "remove",
            "--kind",
            "software",
            "--name",
            "Marketing site",
        ],
        &["unknown component"],
    );

    // Type 1 replaces the window with a date.
    env.ok(&[
        "scope",
        "set",
        "--type",
        "1",
        "--categories",
        "security",
        "--as-of",
        "2026-12-31",
    ]);
    let s = env.json(&["scope", "show"]);
    assert_eq!(s["type"], 1);
    assert_eq!(s["as_of"], "2026-12-31");
    assert!(s.get("window").is_none());

    // Outside 3–12 months: accepted with a warning.
    let stderr = env.scope_type2("2027-01-01..2027-02-28");
    assert!(
        stderr.contains("warning") && stderr.contains("3 to 12 months"),
        "{stderr}"
    );
    let stderr = env.scope_type2("2027-01-01..2028-03-01");
    assert!(
        stderr.contains("warning") && stderr.contains("at most 12 months"),
        "{stderr}"
    );
}

fn owners(b: Backend) {
    let env = Env::new(b);
    env.init();
    let shown = env.json(&["controls", "set-owner", "acc-02", "  Dana.Okafor@Acme.Example "]);
    assert_eq!(shown["owner"], "dana.okafor@acme.example");
    assert_eq!(
        control(&env.json(&["controls", "list"]), "ACC-02")["owner"],
        "dana.okafor@acme.example"
    );
    env.refused(
        &["controls", "set-owner", "ACC-02", "dana"],
        &["EMAIL", "not an email address"],
    );
}

fn bad_input_is_refused_and_changes_nothing(b: Backend) {
    let env = Env::new(b);
    env.init();
    env.ok(&[
        "scope",
        "set",
        "--type",
        "1",
        "--categories",
        "security",
        "--as-of",
        "2026-12-31",
    ]);
    let cats = [
        "security",
        "availability",
        "confidentiality",
        "processing_integrity",
        "privacy",
    ];

    let set = |extra: &[&'static str]| with(&["scope", "set"], extra);
    env.refused(
        &set(&["--type", "1", "--categories", "security,avail", "--as-of", "2026-12-31"]),
        &["--categories", "'avail'"],
    );
    env.refused(
        &set(&["--type", "1", "--categories", "security,avail", "--as-of", "2026-12-31"]),
        &cats,
    );
    env.refused(
        &set(&["--type", "1", "--categories", ",", "--as-of", "2026-12-31"]),
        &["--categories"],
    );
    env.refused(
        &set(&["--type", "3", "--categories", "security", "--as-of", "2026-12-31"]),
        &["--type", "1, 2"],
    );
    env.refused(
        &set(&["--type", "1", "--categories", "security", "--as-of", "2026-02-30"]),
        &["--as-of", "YYYY-MM-DD"],
    );
    env.refused(
        &set(&["--type", "1", "--categories", "security", "--as-of", "31/12/2026"]),
        &["--as-of", "YYYY-MM-DD"],
    );
    env.refused(&set(&["--type", "1", "--categories", "security"]), &["--as-of"]);
    env.refused(&set(&["--type", "2", "--categories", "security"]), &["--window"]);
    env.refused(
        &set(&[
            "--type",
            "1",
            "--categories",
            "security",
            "--window",
            "2027-01-01..2027-06-30",
        ]),
        &["--window", "Type 1"],
    );
    env.refused(
        &set(&[
            "--type",
            "2",
            "--categories",
            "security",
            "--window",
            "2027-06-30..2027-01-01",
        ]),
        &["--window", "ends", "before it starts"],
    );
    env.refused(
        &set(&[
            "--type",
            "2",
            "--categories",
            "security",
            "--window",
            "2027-01-01..2027-13-01",
        ]),
        &["--window", "YYYY-MM-DD"],
    );
    env.refused(
        &set(&["--type", "2", "--categories", "security", "--window", "2027-01-01"]),
        &["--window", "YYYY-MM-DD..YYYY-MM-DD"],
    );

    env.refused(
        &["catalog", "criteria", "--category", "secrets"],
        &["--category", "'secrets'", "processing_integrity"],
    );
    env.refused(&["catalog", "show", "CC9.9"], &["unknown criterion id 'CC9.9'"]);
    env.refused(
        &["controls", "list", "--criterion", "X1.1"],
        &["unknown criterion id 'X1.1'"],
    );
    env.refused(
        &["controls", "list", "--area", "magic"],
        &["--area", "'magic'", "access"],
    );

    env.refused(&["controls", "show", "ZZZ-99"], &["unknown control 'ZZZ-99'"]);
    env.refused(
        &["controls", "set-owner", "ZZZ-99", "a@acme.example"],
        &["unknown control 'ZZZ-99'"],
    );
    env.refused(
        &["controls", "not-applicable", "ZZZ-99", "--reason", "x"],
        &["unknown control 'ZZZ-99'"],
    );
    env.refused(
        &["controls", "not-applicable", "ACC-01", "--reason", ""],
        &["--reason", "cannot be empty"],
    );
    env.refused(
        &["controls", "not-applicable", "ACC-01", "--reason", "   "],
        &["--reason", "cannot be empty"],
    );
    env.refused(&["controls", "not-applicable", "ACC-01"], &["--reason"]);

    let add = |extra: &[&'static str]| with(&["scope", "component", "add"], extra);
    env.refused(
        &add(&["--kind", "network", "--name", "VPC", "--in-scope", "--reason", "r"]),
        &[
            "--kind",
            "'network'",
            "infrastructure, software, people, procedures, data",
        ],
    );
    env.refused(
        &add(&["--kind", "data", "--name", "DB", "--in-scope", "--reason", " "]),
        &["--reason", "cannot be empty"],
    );
    env.refused(
        &add(&["--kind", "data", "--name", " ", "--in-scope", "--reason", "r"]),
        &["--name"],
    );
    env.refused(
        &add(&["--kind", "data", "--name", "DB", "--reason", "r"]),
        &["--in-scope"],
    );
    env.refused(
        &add(&[
            "--kind",
            "data",
            "--name",
            "DB",
            "--in-scope",
            "--out-of-scope",
            "--reason",
            "r",
        ]),
        &["--out-of-scope"],
    );
}

fn commands_outside_a_workspace_say_so(b: Backend) {
    let env = Env::new(b);
    let out = env.run(&["controls", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not an Evident workspace") && stderr.contains("evident init"),
        "{stderr}"
    );
    assert!(!env.dir.exists(), "nothing is created by a failed command");
    // The catalog itself needs no workspace.
    assert_eq!(env.json(&["catalog", "criteria"]).as_array().unwrap().len(), 61);
    assert_eq!(env.json(&["catalog", "show", "A1.2"])["controls_source"], "library");
}

fn demo_builds_a_program(b: Backend) {
    let env = Env::new(b);
    let demo = env.json(&["demo", "--no-serve"]);
    assert_eq!(demo["created"], true);
    assert_eq!(demo["scope"]["type"], 2);
    assert!(demo["controls"]["applicable"].as_u64().unwrap() < demo["controls"]["total"].as_u64().unwrap());
    assert!(demo["controls"]["without_owner"].as_u64().unwrap() > 0);
    let again = env.json(&["demo", "--no-serve"]);
    assert_eq!(again["created"], false, "a second demo reuses the workspace");
    assert_eq!(again["controls"], demo["controls"]);
}

#[test]
fn both_databases_give_the_same_answers() {
    let (lite, pg) = (Env::new(Backend::Sqlite), Env::new(Backend::Postgres));
    for env in [&lite, &pg] {
        env.init();
        env.ok(&[
            "scope",
            "set",
            "--type",
            "2",
            "--categories",
            "security,privacy",
            "--window",
            "2027-01-01..2027-09-30",
        ]);
        env.ok(&[
            "scope",
            "component",
            "add",
            "--kind",
            "people",
            "--name",
            "Support team",
            "--in-scope",
            "--reason",
            "Handles tickets",
        ]);
        env.ok(&["controls", "set-owner", "CHG-01", "lee@acme.example"]);
        env.ok(&["controls", "not-applicable", "PHY-02", "--reason", "No offices"]);
    }
    for args in [
        &["controls", "list"][..],
        &["scope", "show"],
        &["catalog", "show", "CC6.1"],
        &["controls", "show", "CHG-01"],
    ] {
        assert_eq!(lite.json(args), pg.json(args), "{args:?}");
    }
}

#[test]
fn failed_init_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    // Nothing listens on port 9: the database step fails after the folder was made.
    let out = Command::new(BIN)
        .args(["init", "--workspace"])
        .arg(&dir)
        .env("EVIDENT_DATABASE_URL", "postgres://nobody@127.0.0.1:9/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open database"), "{stderr}");
    assert!(!dir.exists(), "the half-made workspace was removed");
}

#[test]
fn sqlite_workspace_without_its_database_fails_clearly() {
    let env = Env::new(Backend::Sqlite);
    env.init();
    for f in ["evident.db", "evident.db-wal", "evident.db-shm"] {
        let _ = std::fs::remove_file(env.dir.join(f));
    }
    let out = env.run(&["controls", "list"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no database file") && stderr.contains("EVIDENT_DATABASE_URL"),
        "{stderr}"
    );
    assert!(
        !Path::new(&env.dir.join("evident.db")).exists(),
        "no empty database is created in its place"
    );
}
