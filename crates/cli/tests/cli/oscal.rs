//! The OSCAL export through the binary, checked by third parties: NIST's OSCAL 1.2.3 JSON
//! schemas and IBM's compliance-trestle (`.ci/oscal-validate`), on a generated company.

use serde_json::Value;

use super::common::*;

on_both_databases!(
    oscal_documents_validate_and_keep_their_uuids,
    an_oscal_catalog_and_profile_become_a_mappable_framework,
);

fn reference(sub: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/oscal")
        .join(sub);
    assert!(
        dir.is_dir(),
        "{} is missing: OSCAL's schemas and catalogs come from ../shared/reference beside the clone",
        dir.display()
    );
    dir
}

fn read(dir: &std::path::Path, file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap()
}

fn oscal_documents_validate_and_keep_their_uuids(b: Backend) {
    let env = Env::new(b);
    env.json(&["generate", "--size", "s", "--seed", "3"]);
    let out = env.dir.join("oscal");
    let written = env.json(&["oscal", "export", "--out", out.to_str().unwrap()]);
    assert_eq!(written.as_array().map(Vec::len), Some(7), "{written}");
    let files: Vec<String> = written
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["file"].as_str().unwrap().to_string())
        .collect();
    let validator = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/oscal-validate");
    let run = std::process::Command::new("python3")
        .arg(&validator)
        .arg(reference("schemas-1.2.3"))
        .args(&files)
        .output()
        .expect("python3 runs the validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{said}");
    assert_eq!(said.matches("(schema and compliance-trestle)").count(), 7, "{said}");

    // What the documents say comes from the records: the company, its controls and evidence.
    let ssp = read(&out, "evident-ssp.json");
    let name = ssp["system-security-plan"]["system-characteristics"]["system-name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!name.is_empty() && name != "My Company", "{name}");
    let results = read(&out, "evident-assessment-results.json");
    let resources = results["assessment-results"]["back-matter"]["resources"]
        .as_array()
        .unwrap();
    let hash = resources[0]["rlinks"][0]["hashes"][0]["value"].as_str().unwrap();
    assert_eq!(hash.len(), 64, "evidence is referenced by its SHA-256");
    let poam = read(&out, "evident-poam.json");
    assert!(
        !poam["plan-of-action-and-milestones"]["poam-items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the generated company's gaps are in the plan of action"
    );

    // Exported again with nothing changed: the same UUIDs, the same bytes.
    let again = env.dir.join("again");
    env.ok(&["oscal", "export", "--out", again.to_str().unwrap()]);
    for f in [
        "evident-soc2-catalog.json",
        "evident-component-definition.json",
        "evident-ssp.json",
    ] {
        assert_eq!(read(&out, f), read(&again, f), "{f} is stable");
    }
    // A control's owner changes: the system security plan is a new document, its components
    // keep their UUIDs.
    let controls = env.json(&["controls", "list"]);
    let code = controls[0]["code"].as_str().unwrap().to_string();
    let people = env.json(&["people", "list"]);
    let owner = controls[0]["owner"].as_str().unwrap_or_default();
    let other = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .find(|e| *e != owner)
        .unwrap();
    env.ok(&["controls", "set-owner", &code, other]);
    let third = env.dir.join("third");
    env.ok(&[
        "oscal",
        "export",
        "--out",
        third.to_str().unwrap(),
        "--kind",
        "system-security-plan",
    ]);
    let (before, after) = (read(&out, "evident-ssp.json"), read(&third, "evident-ssp.json"));
    assert_ne!(
        before["system-security-plan"]["uuid"],
        after["system-security-plan"]["uuid"]
    );
    assert_eq!(
        before["system-security-plan"]["system-implementation"]["components"][0]["uuid"],
        after["system-security-plan"]["system-implementation"]["components"][0]["uuid"]
    );
    assert!(
        !third.join("evident-soc2-catalog.json").exists(),
        "--kind writes one document"
    );
    env.refused(
        &["oscal", "export", "--out", third.to_str().unwrap(), "--kind", "ssp"],
        &["--kind", "'ssp'", "system-security-plan"],
    );
}

fn an_oscal_catalog_and_profile_become_a_mappable_framework(b: Backend) {
    let env = Env::new(b);
    env.init();
    let nist = reference("nist-800-53r5");
    let catalog = nist.join("NIST_SP-800-53_rev5_catalog_v5.0.1_2021-06.json");
    let profile = nist.join("NIST_SP-800-53_rev5_MODERATE-baseline_profile.json");
    let (catalog, profile) = (catalog.to_str().unwrap(), profile.to_str().unwrap());

    // A malformed catalog names the file, the JSON path and the reason; nothing is kept.
    let mut broken: Value = serde_json::from_slice(&std::fs::read(catalog).unwrap()).unwrap();
    broken["catalog"]["groups"][2]["controls"][1]["title"] = Value::Null;
    let bad = env.write_file("broken.json", broken.to_string().as_bytes());
    env.refused(
        &["frameworks", "import", bad.to_str().unwrap(), "--id", "nist"],
        &["broken.json", "/catalog/groups/2/controls/1/title", "not a string"],
    );
    let other = env.write_file("profile-as-catalog.json", &std::fs::read(profile).unwrap());
    env.refused(
        &["frameworks", "import", other.to_str().unwrap(), "--id", "nist"],
        &["/catalog", "not an OSCAL catalog"],
    );
    assert_eq!(env.json(&["frameworks", "list"]), serde_json::json!([]));

    let f = env.json(&[
        "frameworks",
        "import",
        catalog,
        "--id",
        "nist-moderate",
        "--profile",
        profile,
    ]);
    assert_eq!(
        (f["controls"].as_i64(), f["selected"].as_i64()),
        (Some(1189), Some(287)),
        "{f}"
    );
    env.refused(
        &["frameworks", "import", catalog, "--id", "nist-moderate"],
        &["already imported"],
    );
    let selected = env.json(&["frameworks", "controls", "nist-moderate", "--selected"]);
    assert_eq!(selected.as_array().map(Vec::len), Some(287));
    let ac2 = selected.as_array().unwrap().iter().find(|c| c["id"] == "ac-2").unwrap();
    assert_eq!(ac2["group"], "Access Control", "{ac2}");

    // Our controls mapped to theirs, and refusals naming what is wrong.
    env.ok(&["frameworks", "map", "nist-moderate", "AC-2", "ACC-08"]);
    env.ok(&["frameworks", "map", "nist-moderate", "ac-2", "ACC-02"]);
    env.refused(
        &["frameworks", "map", "nist-moderate", "ac-2", "ACC-08"],
        &["already mapped"],
    );
    env.refused(
        &["frameworks", "map", "nist-moderate", "zz-1", "ACC-08"],
        &["CONTROL", "'zz-1'"],
    );
    env.refused(
        &["frameworks", "map", "nist-moderate", "ac-2", "NOPE-1"],
        &["OURS", "'NOPE-1'"],
    );
    let shown = env.json(&["frameworks", "controls", "nist-moderate"]);
    let ac2 = shown.as_array().unwrap().iter().find(|c| c["id"] == "ac-2").unwrap();
    assert_eq!(ac2["mapped"], serde_json::json!(["ACC-02", "ACC-08"]));
    env.ok(&["frameworks", "unmap", "nist-moderate", "ac-2", "ACC-02"]);
    let list = env.json(&["frameworks", "list"]);
    assert_eq!(list[0]["mapped"], 1, "{list}");
    let unmapped = env.json(&["frameworks", "controls", "nist-moderate", "--selected", "--unmapped"]);
    assert_eq!(unmapped.as_array().map(Vec::len), Some(286));
    let actions = env.audit_actions();
    for a in ["framework.import", "framework.map", "framework.unmap"] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    env.assert_verified();
}
