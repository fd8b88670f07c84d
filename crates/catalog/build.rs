//! Embeds every control-library file under `content/soc2/controls/` so adding a file needs no code change.
use std::{env, fs, path::PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let content = manifest.join("../../content").canonicalize().expect("content/ folder");
    let controls = content.join("soc2/controls");
    println!("cargo:rerun-if-changed={}", content.join("soc2").display());
    println!("cargo:rerun-if-changed={}", controls.display());

    let mut files: Vec<_> = fs::read_dir(&controls)
        .expect("content/soc2/controls")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();

    let mut out = String::from("pub(crate) const CONTROL_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            format!("content/soc2/controls/{name}"),
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let criteria = content.join("soc2/criteria.yaml");
    println!("cargo:rerun-if-changed={}", criteria.display());
    out.push_str(&format!(
        "pub(crate) const CRITERIA_FILE: (&str, &str) = (\"content/soc2/criteria.yaml\", include_str!({:?}));\n",
        criteria.display().to_string()
    ));
    let topics = content.join("soc2/topics.yaml");
    println!("cargo:rerun-if-changed={}", topics.display());
    out.push_str(&format!(
        "pub(crate) const TOPICS_FILE: (&str, &str) = (\"content/soc2/topics.yaml\", include_str!({:?}));\n",
        topics.display().to_string()
    ));
    let risks = content.join("risks/library.yaml");
    println!("cargo:rerun-if-changed={}", content.join("risks").display());
    // An absent library embeds as empty; the content tests then fail on the count.
    let risk_text = if risks.exists() {
        format!("include_str!({:?})", risks.display().to_string())
    } else {
        "\"risks: []\"".into()
    };
    out.push_str(&format!(
        "pub(crate) const RISK_FILE: (&str, &str) = (\"content/risks/library.yaml\", {risk_text});\n"
    ));
    let policies = content.join("policies");
    println!("cargo:rerun-if-changed={}", policies.display());
    let mut policy_files: Vec<_> = fs::read_dir(&policies)
        .expect("content/policies")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md") && p.file_name().is_some_and(|n| n != "SCHEMA.md"))
        .collect();
    policy_files.sort();
    out.push_str("pub(crate) const POLICY_FILES: &[(&str, &str)] = &[\n");
    for path in &policy_files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            format!("content/policies/{name}"),
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("embedded.rs");
    fs::write(dest, out).unwrap();
}
