//! The OSCAL export through the binary, checked by third parties: NIST's OSCAL 1.2.3 JSON
//! schemas and IBM's compliance-trestle (`.ci/oscal-validate`), on a generated company.

use serde_json::Value;

use super::common::*;

on_both_databases!(oscal_documents_validate_and_keep_their_uuids);

fn schemas() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/oscal/schemas-1.2.3");
    assert!(
        dir.is_dir(),
        "{} is missing: the OSCAL schemas come from ../shared/reference beside the clone",
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
        .arg(schemas())
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
