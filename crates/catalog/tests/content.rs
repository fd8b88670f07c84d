//! Integrity of the built-in content, and proof that the validator catches broken content.

use std::collections::BTreeSet;
use std::path::Path;

use evident_catalog::{Catalog, Category, ContentError, Source};

fn builtin() -> &'static Catalog {
    Catalog::builtin()
}

#[test]
fn sixty_one_criteria_each_once() {
    let fw = &builtin().framework;
    assert_eq!(fw.criteria.len(), 61);
    let ids: BTreeSet<&str> = fw.criteria.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 61, "no duplicate criterion ids");
    let per_category = |cat| fw.criteria.iter().filter(|c| c.category == cat).count();
    assert_eq!(per_category(Category::Security), 33);
    assert_eq!(per_category(Category::Availability), 3);
    assert_eq!(per_category(Category::Confidentiality), 2);
    assert_eq!(per_category(Category::ProcessingIntegrity), 5);
    assert_eq!(per_category(Category::Privacy), 18);
    for c in &fw.criteria {
        let words = c.explanation.split_whitespace().count();
        assert!((50..=200).contains(&words), "{}: explanation has {words} words", c.id);
        assert!(!c.title.trim().is_empty() && !c.title.ends_with('.'), "{}: title", c.id);
    }
}

/// The facts file lives outside the repository; when it is there, every id, category,
/// series, COSO principle and points-of-focus count must agree with it.
#[test]
fn criteria_match_the_reference_facts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/tsc/criteria-facts.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: {} not found (../shared/reference is not beside this clone)",
            path.display()
        );
        return;
    };
    let fw = &builtin().framework;
    let mut rows = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        rows.push(split_csv(line));
    }
    assert_eq!(rows.len(), fw.criteria.len());
    for (row, c) in rows.iter().zip(&fw.criteria) {
        let category = match row[1].as_str() {
            "Common Criteria (Security)" => Category::Security,
            "Availability" => Category::Availability,
            "Confidentiality" => Category::Confidentiality,
            "Processing Integrity" => Category::ProcessingIntegrity,
            "Privacy" => Category::Privacy,
            other => panic!("unexpected category {other}"),
        };
        assert_eq!(c.id, row[0]);
        assert_eq!(c.category, category, "{}", c.id);
        assert_eq!(c.series, row[2], "{}", c.id);
        assert_eq!(fw.series(&c.series).unwrap().name, row[3], "{}", c.id);
        assert_eq!(c.coso_principle, row[4].parse().ok(), "{}", c.id);
        assert_eq!(c.points_of_focus.to_string(), row[5], "{}", c.id);
    }
}

fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn library_covers_every_criterion_with_unique_controls() {
    let Catalog { framework, library, .. } = builtin();
    assert!(library.controls.len() >= 120, "{} controls", library.controls.len());
    let ids: BTreeSet<&str> = library.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), library.controls.len(), "no duplicate control ids");
    for cr in &framework.criteria {
        assert!(library.mapped_to(&cr.id).next().is_some(), "{} has no control", cr.id);
    }
    let known: BTreeSet<&str> = framework.criteria.iter().map(|c| c.id.as_str()).collect();
    let mut multi = 0;
    for c in &library.controls {
        for k in &c.criteria {
            assert!(known.contains(k.as_str()), "{} maps to unknown {k}", c.id);
        }
        assert!(!c.evidence.is_empty(), "{} needs evidence", c.id);
        multi += usize::from(c.criteria.len() > 1);
    }
    assert!(
        multi * 2 > library.controls.len(),
        "most controls map to several criteria"
    );
    // The areas the SOC 2 guides agree on are all present.
    let areas: BTreeSet<&str> = library.areas.iter().map(|a| a.id.as_str()).collect();
    for a in [
        "governance",
        "policies",
        "risk",
        "assets",
        "access",
        "change",
        "configuration",
        "logging",
        "vulnerability",
        "incident",
        "continuity",
        "confidentiality",
        "cryptography",
        "vendors",
        "hr",
        "physical",
        "privacy",
    ] {
        assert!(areas.contains(a), "area {a} missing");
    }
}

/// A few phrasings that belong to the AICPA's criteria text; our content must not use them.
#[test]
fn content_is_in_our_own_words() {
    let fw = &builtin().framework;
    let signature = [
        "the entity demonstrates",
        "the entity selects and develops",
        "the entity specifies objectives with sufficient clarity",
        "the entity holds individuals accountable",
        "the entity obtains or generates and uses relevant, quality information",
        "the entity implements logical access security software, infrastructure, and architectures",
    ];
    for c in &fw.criteria {
        let text = format!("{} {}", c.title, c.explanation).to_lowercase();
        for s in signature {
            assert!(!text.contains(s), "{} uses the phrase '{s}'", c.id);
        }
        assert!(!c.explanation.starts_with("The entity"), "{}", c.id);
    }
}

fn with_replaced(file_suffix: &str, from: &str, to: &str) -> Result<Catalog, Vec<ContentError>> {
    let criteria = Catalog::builtin_criteria_source();
    let controls = Catalog::builtin_control_sources();
    let mut texts: Vec<(String, String)> = std::iter::once(criteria)
        .chain(controls.iter().copied())
        .map(|s| (s.name.to_string(), s.text.to_string()))
        .collect();
    let target = texts
        .iter_mut()
        .find(|(n, _)| n.ends_with(file_suffix))
        .expect("file exists");
    assert!(
        target.1.contains(from),
        "fixture text '{from}' not found in {file_suffix}"
    );
    target.1 = target.1.replacen(from, to, 1);
    let sources: Vec<Source> = texts.iter().map(|(n, t)| Source { name: n, text: t }).collect();
    Catalog::from_sources(sources[0], &sources[1..])
}

fn assert_error(result: Result<Catalog, Vec<ContentError>>, needles: &[&str]) {
    let errors = result.expect_err("broken content must be rejected");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let joined = text.join("\n");
    for n in needles {
        assert!(joined.contains(n), "expected {n:?} in:\n{joined}");
    }
}

#[test]
fn validator_rejects_broken_content() {
    assert!(
        with_replaced("criteria.yaml", "id: CC1.1\n", "id: CC1.1\n").is_ok(),
        "unchanged content is valid"
    );
    assert_error(
        with_replaced("controls/access.yaml", "id: ACC-02", "id: ACC-01"),
        &["ACC-01", "used twice"],
    );
    assert_error(
        with_replaced("controls/access.yaml", "id: ACC-02", "id: XYZ-02"),
        &["access.yaml", "XYZ-02", "ACC-NN"],
    );
    assert_error(
        with_replaced("controls/access.yaml", "criteria: [", "criteria: [CC9.9, "),
        &["access.yaml", "unknown criterion 'CC9.9'"],
    );
    assert_error(
        with_replaced(
            "controls/access.yaml",
            "frequency: ",
            "frequency: hourly\n    x_frequency: ",
        ),
        &["access.yaml"],
    );
    assert_error(
        with_replaced("controls/access.yaml", "refresh: ", "refresh: fortnightly #"),
        &["access.yaml", "fortnightly"],
    );
    assert_error(
        with_replaced("controls/access.yaml", "    testing:", "    tested_by: x\n    testing:"),
        &["access.yaml", "tested_by"],
    );
    assert_error(
        with_replaced("criteria.yaml", "id: CC1.2\n", "id: CC1.1\n"),
        &["criteria.yaml", "CC1.1", "listed twice"],
    );
    assert_error(
        with_replaced("criteria.yaml", "    coso_principle: 1\n", ""),
        &["CC1.1", "coso_principle", "required"],
    );
    // Remove every mapping to one criterion: it becomes an orphan.
    let orphan = {
        let criteria = Catalog::builtin_criteria_source();
        let controls = Catalog::builtin_control_sources();
        let texts: Vec<(String, String)> = controls
            .iter()
            .map(|s| {
                (
                    s.name.to_string(),
                    s.text
                        .replace("P7.1, ", "")
                        .replace(", P7.1", "")
                        .replace("[P7.1]", "[P8.1]"),
                )
            })
            .collect();
        let sources: Vec<Source> = texts.iter().map(|(n, t)| Source { name: n, text: t }).collect();
        Catalog::from_sources(criteria, &sources)
    };
    assert_error(orphan, &["P7.1", "no control maps to this criterion"]);
}

#[test]
fn risk_library_is_large_and_linked_to_controls() {
    let c = builtin();
    assert!(c.risks.len() >= 30, "{} risks", c.risks.len());
    for r in &c.risks {
        assert!(!r.controls.is_empty(), "{} has no control", r.id);
        for k in &r.controls {
            assert!(c.library.control(k).is_some(), "{} names unknown control {k}", r.id);
        }
        assert!(
            r.residual_likelihood <= r.likelihood && r.residual_impact <= r.impact,
            "{}",
            r.id
        );
    }
    let ids: BTreeSet<&str> = c.risks.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), c.risks.len());
}

#[test]
fn policy_templates_cover_the_required_suite_and_parameters() {
    let c = builtin();
    let ids: BTreeSet<&str> = c.policies.iter().map(|p| p.id.as_str()).collect();
    for required in [
        "acceptable-use",
        "information-security",
        "access-control",
        "change-management",
        "secure-development",
        "vendor-risk-management",
        "incident-response",
        "business-continuity",
        "data-classification",
        "cryptography",
        "logging-monitoring",
        "vulnerability-management",
        "workstation-security",
        "hr-security",
        "record-retention",
    ] {
        assert!(ids.contains(required), "policy template {required} missing");
    }
    let params: std::collections::BTreeMap<&str, String> = c
        .policies
        .iter()
        .flat_map(|p| p.parameters.iter().map(|x| (x.key.as_str(), x.default_text())))
        .collect();
    for (key, default) in [
        ("vuln_sla_critical_days", "7"),
        ("vuln_sla_high_days", "14"),
        ("vuln_sla_medium_days", "30"),
        ("access_review_interval_months", "3"),
        ("leaver_deprovision_hours", "24"),
        ("inactive_account_days", "90"),
        ("access_key_rotation_days", "90"),
        ("password_min_length", "12"),
        ("training_due_days_after_start", "30"),
        ("policy_review_interval_months", "12"),
    ] {
        assert_eq!(params.get(key).map(String::as_str), Some(default), "parameter {key}");
    }
    for p in &c.policies {
        assert!(!p.controls.is_empty(), "{} implements no control", p.id);
        assert!(
            p.body.contains("{{organisation}}"),
            "{} never names the organisation",
            p.id
        );
        let words = p.body.split_whitespace().count();
        assert!((250..=1200).contains(&words), "{}: {words} words", p.id);
    }
}

#[test]
fn validator_rejects_broken_templates() {
    let base = || {
        Catalog::from_sources(Catalog::builtin_criteria_source(), &Catalog::builtin_control_sources()).expect("valid")
    };
    let risks = Catalog::builtin_risk_source();
    let bad_risks = risks.text.replacen("controls: [", "controls: [NOPE-01, ", 1);
    let errs = base()
        .with_templates(
            Source {
                name: risks.name,
                text: &bad_risks,
            },
            &[],
        )
        .unwrap_err();
    assert!(
        errs.iter().any(|e| e.to_string().contains("unknown control 'NOPE-01'")),
        "{errs:?}"
    );
    let policy = "---\nid: x\ntitle: X\nowner_role: security\nreview_interval_months: 12\ncontrols: [ACC-01]\nparameters: []\n---\n# {{organisation}} uses {{param.missing}} and {{role.janitor}}\n";
    let errs = base()
        .with_templates(
            risks,
            &[Source {
                name: "content/policies/x.md",
                text: policy,
            }],
        )
        .unwrap_err();
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|e| e.contains("{{param.missing}}")), "{text:?}");
    assert!(text.iter().any(|e| e.contains("{{role.janitor}}")), "{text:?}");
}
