//! Vulnerability and posture scanners: Trivy, Grype, Prowler (OCSF).

use evident_core::facts::{Finding, Severity};
use serde_json::Value;

use crate::{ImportError, Imported, bad, json, looks_like};

/// The findings of one report, and a warning for each severity we do not recognise.
struct Findings<'a> {
    file: &'a str,
    source: &'static str,
    list: Vec<Finding>,
    warnings: Vec<String>,
}

impl<'a> Findings<'a> {
    fn new(file: &'a str, source: &'static str) -> Self {
        Findings {
            file,
            source,
            list: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The scanner's word is always kept; one we cannot rank counts as unknown, and is
    /// reported, so no finding's severity is guessed silently.
    fn push(&mut self, id: &str, resource: String, title: &str, severity: &str) {
        let normalised = Severity::recognise(severity).unwrap_or_else(|| {
            self.warnings.push(format!(
                "{}: {id} on {resource}: severity '{severity}' is not one we know; kept as the scanner's word and counted as unknown",
                self.file
            ));
            Severity::Unknown
        });
        self.list.push(Finding {
            source: self.source.into(),
            external_id: id.into(),
            resource,
            title: title.into(),
            severity: normalised,
            severity_raw: severity.into(),
        });
    }
}

pub(crate) fn trivy(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    if v.get("SchemaVersion").and_then(Value::as_i64) != Some(2) || v.get("Results").is_none() {
        return Err(bad(
            file,
            format!(
                "not a Trivy JSON report (SchemaVersion 2 with Results); it looks like {}",
                looks_like(&v)
            ),
        ));
    }
    let artifact = v
        .get("ArtifactName")
        .and_then(Value::as_str)
        .unwrap_or("unknown artifact");
    let mut findings = Findings::new(file, "trivy");
    for r in v["Results"].as_array().into_iter().flatten() {
        let target = r.get("Target").and_then(Value::as_str).unwrap_or(artifact);
        for vuln in r.get("Vulnerabilities").and_then(Value::as_array).into_iter().flatten() {
            let id = vuln
                .get("VulnerabilityID")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(file, "a vulnerability has no VulnerabilityID"))?;
            let pkg = vuln.get("PkgName").and_then(Value::as_str).unwrap_or("?");
            let version = vuln.get("InstalledVersion").and_then(Value::as_str).unwrap_or("?");
            let title = vuln.get("Title").and_then(Value::as_str).unwrap_or(id);
            let sev = vuln.get("Severity").and_then(Value::as_str).unwrap_or("UNKNOWN");
            findings.push(id, format!("{target} {pkg}@{version}"), title, sev);
        }
    }
    let observed_at = v.get("CreatedAt").and_then(Value::as_str).and_then(crate::instant);
    Ok(Imported {
        protections: Vec::new(),
        changes: Vec::new(),
        commits: Vec::new(),
        devices: Vec::new(),
        replaces_accounts: false,
        observed_at,
        system: "trivy".into(),
        accounts: Vec::new(),
        findings: findings.list,
        scope: Some(artifact.to_string()),
        warnings: findings.warnings,
    })
}

pub(crate) fn grype(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    let Some(matches) = v.get("matches").and_then(Value::as_array) else {
        return Err(bad(
            file,
            format!(
                "not a Grype JSON report (no 'matches'); it looks like {}",
                looks_like(&v)
            ),
        ));
    };
    let target = v
        .pointer("/source/target/userInput")
        .or_else(|| v.pointer("/source/target"))
        .and_then(Value::as_str)
        .unwrap_or("unknown target")
        .to_string();
    let mut findings = Findings::new(file, "grype");
    for m in matches {
        let id = m
            .pointer("/vulnerability/id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(file, "a match has no vulnerability.id"))?;
        let sev = m
            .pointer("/vulnerability/severity")
            .and_then(Value::as_str)
            .unwrap_or("Unknown");
        let name = m.pointer("/artifact/name").and_then(Value::as_str).unwrap_or("?");
        let version = m.pointer("/artifact/version").and_then(Value::as_str).unwrap_or("?");
        let title = m
            .pointer("/vulnerability/description")
            .and_then(Value::as_str)
            .unwrap_or(id);
        findings.push(id, format!("{target} {name}@{version}"), title, sev);
    }
    let observed_at = v
        .pointer("/descriptor/timestamp")
        .and_then(Value::as_str)
        .and_then(crate::instant);
    Ok(Imported {
        protections: Vec::new(),
        changes: Vec::new(),
        commits: Vec::new(),
        devices: Vec::new(),
        replaces_accounts: false,
        observed_at,
        system: "grype".into(),
        accounts: Vec::new(),
        findings: findings.list,
        scope: Some(target),
        warnings: findings.warnings,
    })
}

/// Prowler's OCSF output: only FAIL results are findings; PASS results prove the scan ran.
pub(crate) fn prowler(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    let items = v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]);
    if items.is_empty()
        || items
            .iter()
            .any(|i| i.get("class_uid").and_then(Value::as_i64) != Some(2004))
    {
        return Err(bad(
            file,
            format!(
                "not Prowler OCSF output (Detection Finding, class_uid 2004); it looks like {}",
                looks_like(&v)
            ),
        ));
    }
    let mut findings = Findings::new(file, "prowler");
    let mut accounts = std::collections::BTreeSet::new();
    for i in &items {
        let account = i
            .pointer("/cloud/account/uid")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        accounts.insert(account.to_string());
        if i.get("status_code").and_then(Value::as_str) != Some("FAIL") {
            continue;
        }
        let uid = i
            .pointer("/finding_info/uid")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(file, "a finding has no finding_info.uid"))?;
        let title = i.pointer("/finding_info/title").and_then(Value::as_str).unwrap_or(uid);
        let resource = i.pointer("/resources/0/uid").and_then(Value::as_str).unwrap_or(account);
        let sev = i.get("severity").and_then(Value::as_str).unwrap_or("Unknown");
        findings.push(uid, resource.to_string(), title, sev);
    }
    let scope = accounts.into_iter().collect::<Vec<_>>().join(",");
    let observed_at = items
        .iter()
        .filter_map(|i| i.get("time_dt").and_then(Value::as_str).and_then(crate::instant))
        .max();
    Ok(Imported {
        protections: Vec::new(),
        changes: Vec::new(),
        commits: Vec::new(),
        devices: Vec::new(),
        replaces_accounts: false,
        observed_at,
        system: "prowler".into(),
        accounts: Vec::new(),
        findings: findings.list,
        scope: Some(scope),
        warnings: findings.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIVY: &str = r#"{"SchemaVersion": 2, "ArtifactName": "api:1.4", "Results": [{"Target": "api:1.4 (alpine 3.19)",
      "Vulnerabilities": [{"VulnerabilityID": "CVE-2026-0001", "PkgName": "openssl", "InstalledVersion": "3.1.0",
       "Severity": "CRITICAL", "Title": "openssl: bad"}, {"VulnerabilityID": "CVE-2026-0002", "PkgName": "zlib",
       "InstalledVersion": "1.2", "Severity": "UNKNOWN"}]}]}"#;
    const GRYPE: &str = r#"{"matches": [{"vulnerability": {"id": "GHSA-1", "severity": "High"}, "artifact": {"name": "lodash", "version": "4.17.0"}}],
      "source": {"type": "image", "target": {"userInput": "web:2.0"}}, "descriptor": {"name": "grype"}}"#;

    #[test]
    fn trivy_and_grype() {
        let t = trivy("t.json", TRIVY.as_bytes()).unwrap();
        assert_eq!(t.scope.as_deref(), Some("api:1.4"));
        assert_eq!(t.findings[0].severity, Severity::Critical);
        assert_eq!(t.findings[1].severity, Severity::Unknown);
        assert_eq!(t.findings[1].severity_raw, "UNKNOWN", "the scanner's own word is kept");
        assert!(t.warnings.is_empty(), "UNKNOWN is Trivy's own word for not rated");
        let g = grype("g.json", GRYPE.as_bytes()).unwrap();
        assert_eq!(g.findings[0].resource, "web:2.0 lodash@4.17.0");
        assert_eq!(g.findings[0].severity, Severity::High);
    }

    #[test]
    fn a_severity_we_do_not_know_is_kept_counted_as_unknown_and_reported() {
        let t = trivy("t.json", TRIVY.replace("CRITICAL", "SEVERE").as_bytes()).unwrap();
        assert_eq!(
            (t.findings[0].severity, t.findings[0].severity_raw.as_str()),
            (Severity::Unknown, "SEVERE")
        );
        assert_eq!(
            t.warnings,
            vec![
                "t.json: CVE-2026-0001 on api:1.4 (alpine 3.19) openssl@3.1.0: severity 'SEVERE' is not one we know; \
                 kept as the scanner's word and counted as unknown"
                    .to_string()
            ]
        );
        let g = grype("g.json", GRYPE.replace("High", "P1").as_bytes()).unwrap();
        assert_eq!(g.findings[0].severity, Severity::Unknown);
        assert!(
            g.warnings[0].starts_with("g.json: GHSA-1 on web:2.0 lodash@4.17.0: severity 'P1'"),
            "{:?}",
            g.warnings
        );
    }

    #[test]
    fn text_that_cannot_be_stored_is_refused_with_its_place() {
        let err = trivy("t.json", TRIVY.replace("openssl: bad", "openssl:\\u0000bad").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.json: /Results/0/Vulnerabilities/0/Title: contains a NUL character (U+0000) at character 9, which cannot be stored"
        );
        let err = grype("g.json", GRYPE.replace("\"lodash\"", "\"lo\\u0000dash\"").as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("g.json: /matches/0/artifact/name: contains a NUL"),
            "{err}"
        );
    }

    #[test]
    fn the_wrong_scanner_is_named() {
        let err = trivy("scan.json", GRYPE.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scan.json: not a Trivy JSON report (SchemaVersion 2 with Results); it looks like a Grype report"
        );
        let err = grype("scan.json", TRIVY.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("it looks like a Trivy report"));
        let err = prowler("p.json", TRIVY.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("class_uid 2004"));
        assert!(
            trivy("cut.json", &TRIVY.as_bytes()[..80])
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn reference_samples_when_present() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/samples/");
        let files = [
            "trivy_report_alpine-310_golden_trimmed.json",
            "grype_report_TestJsonImgsPresenter.golden.json",
            "prowler_ocsf_detection_finding_sample_constructed.json",
        ];
        let Ok(bytes) = files
            .iter()
            .map(|f| std::fs::read(format!("{dir}{f}")))
            .collect::<Result<Vec<_>, _>>()
        else {
            eprintln!("SKIPPED: {dir} not found (../shared/reference is not beside this clone)");
            return;
        };
        assert!(!trivy(files[0], &bytes[0]).unwrap().findings.is_empty());
        assert!(!grype(files[1], &bytes[1]).unwrap().findings.is_empty());
        prowler(files[2], &bytes[2]).unwrap();
    }
}
