//! The system description through the binary: drafted from a generated company's records with
//! every statement's sources, narratives versioned, drift after an asset and a scope component
//! change, management's assertion signed and outdated, and the four file formats.

use serde_json::Value;

use super::common::*;

on_both_databases!(the_description_is_drafted_from_the_records_and_drifts_with_them,);

fn statements(state: &Value) -> Vec<&Value> {
    state["description"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["statements"].as_array().unwrap())
        .collect()
}

fn statement<'a>(state: &'a Value, key: &str) -> &'a Value {
    statements(state)
        .into_iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no statement {key}"))
}

fn the_description_is_drafted_from_the_records_and_drifts_with_them(b: Backend) {
    let env = Env::new(b);
    env.json(&["generate", "--size", "s", "--seed", "1"]);
    let state = env.json(&["description", "show"]);
    let org = state["description"]["organisation"].as_str().unwrap().to_string();

    // Specific to the company, every statement with a source.
    let services = statement(&state, "narrative:services");
    assert_eq!(services["kind"], "narrative");
    assert!(services["text"].as_str().unwrap().contains(&org), "{services}");
    for s in statements(&state) {
        assert!(!s["sources"].as_array().unwrap().is_empty(), "{s}");
    }
    let people = statement(&state, "people:total")["text"].as_str().unwrap().to_string();
    assert!(people.contains(&org) && people.contains("department"), "{people}");
    let carve = statements(&state)
        .into_iter()
        .find(|s| s["key"].as_str().unwrap().starts_with("vendor:") && s["kind"] == "fact")
        .expect("a subservice organisation");
    assert!(carve["text"].as_str().unwrap().contains("carve-out"), "{carve}");
    assert!(carve["text"].as_str().unwrap().contains("CC6.4"), "{carve}");
    // Generation approved the description: nothing has drifted yet.
    assert_eq!(state["approved"]["version"], 1);
    assert_eq!(state["drift"].as_array().unwrap().len(), 0, "{}", state["drift"]);

    // Narratives keep their versions; a bad part names itself and changes nothing.
    env.ok(&[
        "description",
        "write",
        "services",
        "--text",
        "We host analytics for 40 shops.",
    ]);
    let history = env.json(&["description", "history", "services"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["text"], "We host analytics for 40 shops.");
    env.refused(
        &["description", "write", "pricing", "--text", "x"],
        &["PART", "'pricing'", "services, commitments"],
    );
    env.refused(&["description", "write", "services"], &["--text", "--file"]);

    // An asset and a scope component change: both show as drift.
    let assets = env.json(&["assets", "list"]);
    let store = assets
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "data_store" && a["in_scope"] == true && a["classification"] != "public")
        .expect("a data store in scope");
    let name = store["name"].as_str().unwrap();
    env.ok(&["assets", "update", name, "--classification", "public"]);
    env.ok(&[
        "scope",
        "component",
        "add",
        "--kind",
        "software",
        "--name",
        "Billing service",
        "--in-scope",
        "--reason",
        "Invoices customers",
    ]);
    let drift = env.json(&["description", "drift"]);
    let changes = drift["drift"].as_array().unwrap();
    let find = |key: &str| {
        changes
            .iter()
            .find(|d| d["key"] == key)
            .unwrap_or_else(|| panic!("{key} not in {changes:?}"))
    };
    let asset = find(&format!("asset:{name}"));
    assert_eq!(asset["kind"], "changed");
    assert!(asset["today"].as_str().unwrap().contains("(public)"), "{asset}");
    assert_eq!(find("component:software:Billing service")["kind"], "added");
    assert_eq!(find("narrative:services")["kind"], "changed");

    // The assertion is refused over a drifted description, then signed over a new approval.
    env.refused(
        &["description", "sign", "--name", "Ana Diaz", "--title", "CEO"],
        &["approve the description again"],
    );
    env.refused(
        &["description", "sign", "--name", " ", "--title", "CEO"],
        &["--name", "required"],
    );
    assert_eq!(env.json(&["description", "approve"])["version"], 2);
    env.refused(&["description", "approve"], &["version 2", "nothing was changed"]);
    let signed = env.json(&[
        "description",
        "sign",
        "--name",
        "Ana Diaz",
        "--title",
        "Chief Executive Officer",
    ]);
    assert_eq!(signed["description_version"], 2);
    let text = signed["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("management of {org}")) && text.contains("throughout the period"),
        "{text}"
    );
    let a = env.json(&["description", "assertion"]);
    assert_eq!(a["signed"]["outdated"], false);
    assert!(env.audit_actions().iter().any(|x| x == "description.assertion.sign"));

    // A later change outdates the signed assertion.
    env.ok(&[
        "scope",
        "component",
        "remove",
        "--kind",
        "software",
        "--name",
        "Billing service",
    ]);
    let a = env.json(&["description", "assertion"]);
    assert_eq!(a["signed"]["outdated"], true, "{a}");

    // The four files.
    for ext in ["pdf", "docx", "html", "md"] {
        let out = env.dir.join(format!("description.{ext}"));
        env.ok(&["report", "description", "--out", out.to_str().unwrap()]);
        let bytes = std::fs::read(&out).unwrap();
        match ext {
            "pdf" => assert!(bytes.starts_with(b"%PDF")),
            "docx" => assert!(bytes.starts_with(b"PK\x03\x04")),
            _ => {
                let t = String::from_utf8(bytes).unwrap();
                assert!(t.contains("We host analytics for 40 shops."), "{ext}");
                assert!(t.contains("Management"), "{ext}");
            }
        }
    }
    env.refused(
        &[
            "report",
            "description",
            "--out",
            env.dir.join("d.xlsx").to_str().unwrap(),
        ],
        &[
            "--out xlsx",
            "description report is written as pdf or html or md or docx",
        ],
    );

    // A vendor's dependent criteria must be criteria.
    let vendors = env.json(&["vendors", "list"]);
    let vendor = vendors[0]["name"].as_str().unwrap();
    env.refused(
        &["vendors", "update", vendor, "--dependent-criteria", "CC6.4;CC99.1"],
        &["--dependent-criteria", "'CC99.1' is not a SOC 2 criterion"],
    );
    env.assert_verified();
}
