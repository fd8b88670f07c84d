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

/// Phrasings that belong to the AICPA's criteria and points of focus; no content file may
/// use them. Every file under `content/` is read from disk, so a new file is covered the day
/// it is added.
#[test]
fn content_is_in_our_own_words() {
    let signature = [
        "the entity demonstrates",
        "the entity selects and develops",
        "the entity specifies objectives with sufficient clarity",
        "the entity holds individuals accountable",
        "the entity obtains or generates and uses relevant, quality information",
        "the entity implements logical access security software, infrastructure, and architectures",
        "the entity internally communicates information",
        "the entity communicates with external parties",
        "the entity identifies risks to the achievement of its objectives",
        "the entity considers the potential for fraud",
        "the entity identifies and assesses changes",
        "selects, develops, and performs ongoing and/or separate evaluations",
        "evaluates and communicates internal control deficiencies in a timely manner",
        "deploys control activities through policies",
        "exercises oversight of the development and performance of internal control",
        "establishes, with board oversight, structures, reporting lines",
        "authorizes, designs, develops or acquires, configures, documents, tests, approves",
        "restricts the transmission, movement, and removal of information",
        "to prevent or detect and act upon the introduction of unauthorized or malicious software",
        "maintains, monitors, and evaluates current processing capacity",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("content folder") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 40, "only {} content files found", files.len());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("content is text");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        for s in signature {
            assert!(!flat.contains(s), "{} uses the phrase '{s}'", f.display());
        }
        assert!(
            !flat.contains("the entity "),
            "{} speaks of 'the entity' as the criteria do; say the company or the organisation",
            f.display()
        );
    }
    for c in &builtin().framework.criteria {
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
        "privacy",
        "code-of-conduct",
    ] {
        assert!(ids.contains(required), "policy template {required} missing");
    }
    let params: std::collections::BTreeMap<&str, String> = c
        .policies
        .iter()
        .flat_map(|p| p.parameters.iter().map(|x| (x.key.as_str(), x.default_text())))
        .collect();
    for (key, default) in [
        ("vuln_sla_critical_days", "14"),
        ("vuln_sla_high_days", "30"),
        ("vuln_sla_medium_days", "90"),
        ("vuln_sla_low_days", "180"),
        ("privileged_access_review_interval_months", "3"),
        ("board_security_update_interval_months", "12"),
        ("policy_acceptance_days", "30"),
        ("signed_commits_required", "false"),
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

// ---------------------------------------------------------------------------------------
// Content rules (issue 22). Each holds a property an auditor relies on.
// ---------------------------------------------------------------------------------------

/// The audit scopes a company can choose: Security alone, or Security plus one category.
fn scopes() -> Vec<BTreeSet<Category>> {
    let mut out = vec![BTreeSet::from([Category::Security])];
    for c in Category::ALL.iter().copied().filter(|c| *c != Category::Security) {
        out.push(BTreeSet::from([Category::Security, c]));
    }
    out
}

/// The engine's rule (evident_core::applicability): a control applies when any of its
/// criteria lies in a category in scope.
fn applies(c: &evident_catalog::ControlTemplate, scope: &BTreeSet<Category>) -> bool {
    let fw = &builtin().framework;
    c.criteria
        .iter()
        .any(|k| fw.criterion(k).is_some_and(|cr| scope.contains(&cr.category)))
}

#[test]
fn every_criterion_has_two_controls_in_every_scope() {
    let Catalog { framework, library, .. } = builtin();
    for scope in scopes() {
        for cr in framework.criteria.iter().filter(|c| scope.contains(&c.category)) {
            let n = library.mapped_to(&cr.id).filter(|c| applies(c, &scope)).count();
            assert!(n >= 2, "{} has {n} applicable control(s) in scope {scope:?}", cr.id);
        }
    }
}

#[test]
fn security_only_scope_leaves_privacy_and_processing_controls_out() {
    let security = BTreeSet::from([Category::Security]);
    let lib = &builtin().library;
    let mut ruled_out = 0;
    for c in &lib.controls {
        if matches!(c.category, Category::Privacy | Category::ProcessingIntegrity) {
            assert!(!applies(c, &security), "{} applies to a Security-only audit", c.id);
            ruled_out += 1;
        }
    }
    assert!(ruled_out >= 25, "{ruled_out} privacy and processing integrity controls");
    // The areas say which category they belong to.
    let category_of = |area: &str| lib.areas.iter().find(|a| a.id == area).map(|a| a.category);
    assert_eq!(category_of("privacy"), Some(Category::Privacy));
    assert_eq!(category_of("processing"), Some(Category::ProcessingIntegrity));
    assert_eq!(category_of("access"), Some(Category::Security));
}

#[test]
fn controls_map_to_their_own_category_unless_declared() {
    let Catalog { framework, library, .. } = builtin();
    let mut declared = 0;
    for c in &library.controls {
        let own: BTreeSet<Category> = c.categories().collect();
        for k in &c.criteria {
            let cat = framework.criterion(k).expect("known").category;
            assert!(own.contains(&cat), "{} maps to {k} ({cat}) undeclared", c.id);
        }
        declared += usize::from(!c.also_serves.is_empty());
        if matches!(c.category, Category::Privacy | Category::ProcessingIntegrity) {
            assert!(c.also_serves.is_empty(), "{} serves another category", c.id);
        }
    }
    assert!(declared > 0, "some deliberate exceptions exist and are declared");
    // The validator holds the rule for any content, not just ours.
    assert_error(
        with_replaced("controls/privacy.yaml", "criteria: [P4.3]", "criteria: [P4.3, CC6.5]"),
        &[
            "privacy.yaml",
            "PRV-06",
            "criteria",
            "'CC6.5' is a security criterion",
            "also_serves",
        ],
    );
    assert_error(
        with_replaced(
            "controls/privacy.yaml",
            "criteria: [P4.3]",
            "criteria: [P4.3, CC6.5]\n    also_serves: [security]",
        ),
        &["PRV-06", "also_serves", "may not serve security"],
    );
    assert_error(
        with_replaced(
            "controls/access.yaml",
            "    criteria: [CC6.1, CC6.2]\n",
            "    criteria: [CC6.1, CC6.2]\n    also_serves: [privacy]\n",
        ),
        &["ACC-01", "also_serves", "maps to no privacy criterion"],
    );
}

/// How many days a periodic control may go between occurrences.
fn period_days(f: evident_catalog::Frequency) -> Option<u32> {
    use evident_catalog::Frequency::*;
    match f {
        Daily => Some(1),
        Weekly => Some(7),
        Monthly => Some(31),
        Quarterly => Some(92),
        Annual => Some(366),
        Continuous | PerEvent => None,
    }
}

#[test]
fn periodic_controls_have_evidence_at_their_frequency() {
    let mut periodic = 0;
    for c in &builtin().library.controls {
        let Some(period) = period_days(c.frequency) else {
            continue;
        };
        periodic += 1;
        let ok = c
            .evidence
            .iter()
            .any(|e| e.refresh.validity_days().is_some_and(|d| d <= period));
        let refreshes: Vec<&str> = c.evidence.iter().map(|e| e.refresh.as_str()).collect();
        assert!(
            ok,
            "{} runs {} but no evidence is refreshed that often ({refreshes:?})",
            c.id, c.frequency
        );
    }
    assert!(periodic >= 40, "{periodic} periodic controls");
}

const SPELLED: [&str; 13] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
];

/// Places where `text` states `value` in `unit` as plain prose ("24 hours", "30-day",
/// "twelve months"), which a placeholder should say instead.
fn hard_coded(text: &str, value: i64, unit: &str) -> Vec<String> {
    let singular = unit.trim_end_matches('s');
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                .to_lowercase()
        })
        .collect();
    let mut names = vec![value.to_string()];
    if let Some(w) = usize::try_from(value).ok().and_then(|v| SPELLED.get(v)) {
        names.push(w.to_string());
    }
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        for n in &names {
            let hyphenated = w == &format!("{n}-{singular}");
            let spaced = w == n && words.get(i + 1).is_some_and(|next| next == unit || next == singular);
            // "3 business days": one qualifier between the number and the unit.
            let qualified = w == n
                && words
                    .get(i + 1)
                    .is_some_and(|q| q == "business" || q == "calendar" || q == "working")
                && words.get(i + 2).is_some_and(|next| next == unit || next == singular);
            if hyphenated || spaced || qualified {
                out.push(format!("{n} {unit}"));
            }
        }
    }
    out
}

#[test]
fn the_number_detector_finds_what_it_should() {
    assert_eq!(
        hard_coded("removed within 24 hours of the last day", 24, "hours"),
        ["24 hours"]
    );
    assert_eq!(hard_coded("a 30-day window", 30, "days"), ["30 days"]);
    assert_eq!(hard_coded("every twelve months.", 12, "months"), ["twelve months"]);
    assert_eq!(hard_coded("within three business days", 3, "days"), ["three days"]);
    assert!(hard_coded("within {{param.x.y}} hours; 240 hours", 24, "hours").is_empty());
}

/// Numbers that match a parameter's default by coincidence: each is a different rule that the
/// policy fixes in its text (control, phrase, why it is not the parameter).
const FIXED_NUMBERS: &[(&str, &str, &str)] = &[
    (
        "GOV-03",
        "30 days",
        "matrix updated after an owner change: Information Security Policy rule 5",
    ),
    (
        "POL-06",
        "30 days",
        "policy owner reassigned: Information Security Policy rule 2",
    ),
    (
        "GOV-09",
        "30 days",
        "target date for a high-severity deficiency, not policy acceptance",
    ),
    (
        "HRS-05",
        "30 days",
        "escalation after the refresher is overdue: HR Security Policy rule 6",
    ),
    (
        "VEN-06",
        "30 days",
        "notice before a new subprocessor: Vendor Risk Management Policy rule 11",
    ),
];

#[test]
fn numbers_a_policy_parameterises_come_from_the_parameter() {
    let c = builtin();
    let mut read = 0;
    for (control, phrase, _) in FIXED_NUMBERS {
        let t = c.library.control(control).expect("control");
        let text = [
            t.title.as_str(),
            t.description.as_str(),
            t.testing.as_deref().unwrap_or(""),
        ]
        .join(" ");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(phrase),
            "{control} no longer says '{phrase}': drop it from FIXED_NUMBERS"
        );
    }
    for t in &c.library.controls {
        let text = [
            t.title.as_str(),
            t.description.as_str(),
            t.testing.as_deref().unwrap_or(""),
        ]
        .join(" ");
        read += evident_catalog::placeholders(&text).len();
        for p in c.policies_implementing(&t.id) {
            for param in &p.parameters {
                let (Some(unit), Some(value)) = (param.unit.as_deref(), param.default.as_i64()) else {
                    continue;
                };
                let mut found = hard_coded(&text, value, unit);
                found.retain(|f| !FIXED_NUMBERS.iter().any(|(k, phrase, _)| *k == t.id && phrase == f));
                assert!(
                    found.is_empty(),
                    "{} states {found:?}, which {}'s parameter {} sets: write {{{{param.{}.{}}}}}",
                    t.id,
                    p.id,
                    param.key,
                    p.id,
                    param.key
                );
            }
        }
    }
    assert!(read >= 60, "controls read {read} parameters");
    // The controls the review named read their parameters.
    for (control, key) in [
        ("ACC-07", "leaver_deprovision_hours"),
        ("ACC-08", "access_review_interval_months"),
        ("ACC-10", "privileged_access_review_interval_months"),
        ("VUL-03", "vuln_sla_critical_days"),
        ("VUL-03", "vuln_sla_low_days"),
        ("HRS-04", "training_due_days_after_start"),
        ("CNF-03", "customer_export_window_days"),
        ("GOV-01", "board_security_update_interval_months"),
    ] {
        let t = c.library.control(control).expect("control");
        assert!(
            t.description.contains(&format!(".{key}}}}}")),
            "{control} does not read {key}"
        );
    }
}

#[test]
fn control_text_renders_with_the_organisations_values() {
    let c = builtin();
    let defaults = std::collections::BTreeMap::new();
    let text = c.control_text("ACC-07", &defaults).expect("ACC-07");
    assert!(text.description.contains("within\n24 hours") || text.description.contains("within 24 hours"));
    assert!(!text.description.contains("{{"), "{}", text.description);
    let values = std::collections::BTreeMap::from([("leaver_deprovision_hours".to_string(), "8".to_string())]);
    let text = c.control_text("ACC-07", &values).expect("ACC-07");
    let flat = text.description.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("within 8 hours of the end of the last working day"),
        "{flat}"
    );
    assert!(text.testing.unwrap().contains("8 hours"));
    // Every control renders completely from the defaults.
    for t in &c.library.controls {
        let r = c.control_text(&t.id, &defaults).expect("known");
        for s in [&r.title, &r.description] {
            assert!(!s.contains("{{"), "{}: {s}", t.id);
        }
    }
    // Text outside the placeholder grammar is left alone.
    assert_eq!(
        evident_catalog::render_control_text("a {{param.nope.x}} b {{other}}", &c.policies, &defaults),
        "a {{param.nope.x}} b {{other}}"
    );
    assert_eq!(
        evident_catalog::render_control_text(
            "{{param.access-control.password_min_length}} chars",
            &c.policies,
            &defaults
        ),
        "12 chars"
    );
}

/// Every source of the built-in content, with one replacement made in one file, loaded the
/// whole way (controls, risks, policies, topics).
fn full_with(file_suffix: &str, from: &str, to: &str) -> Result<Catalog, Vec<ContentError>> {
    let mut texts: Vec<(String, String)> = std::iter::once(Catalog::builtin_criteria_source())
        .chain(Catalog::builtin_control_sources())
        .chain(std::iter::once(Catalog::builtin_risk_source()))
        .chain(Catalog::builtin_policy_sources())
        .chain(std::iter::once(Catalog::builtin_topics_source()))
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
    let src: Vec<Source> = texts.iter().map(|(n, t)| Source { name: n, text: t }).collect();
    let controls = Catalog::builtin_control_sources().len();
    let policies = Catalog::builtin_policy_sources().len();
    let (criteria, rest) = src.split_first().expect("criteria");
    let (controls_src, rest) = rest.split_at(controls);
    let (risks, rest) = rest.split_first().expect("risks");
    let (policy_src, rest) = rest.split_at(policies);
    Catalog::from_sources(*criteria, controls_src)?
        .with_templates(*risks, policy_src)?
        .with_topics(rest[0])
}

#[test]
fn validator_rejects_broken_placeholders_retired_ids_and_topics() {
    assert!(
        full_with("topics.yaml", "criteria:\n", "criteria:\n").is_ok(),
        "unchanged content is valid"
    );
    assert_error(
        full_with(
            "controls/access.yaml",
            "{{param.access-control.leaver_deprovision_hours}} hours of the end",
            "{{param.access-contrl.leaver_deprovision_hours}} hours of the end",
        ),
        &["access.yaml", "ACC-07", "description", "unknown policy 'access-contrl'"],
    );
    assert_error(
        full_with(
            "controls/access.yaml",
            "{{param.access-control.leaver_deprovision_hours}} hours of the end",
            "{{param.access-control.leaver_hours}} hours of the end",
        ),
        &["ACC-07", "description", "has no parameter 'leaver_hours'"],
    );
    assert_error(
        with_replaced(
            "controls/access.yaml",
            "{{param.access-control.leaver_deprovision_hours}} hours of the end",
            "{{leaver_deprovision_hours}} hours of the end",
        ),
        &["ACC-07", "description", "not a placeholder of the form"],
    );
    assert_error(
        with_replaced("controls/physical.yaml", "id: PHY-06", "id: PHY-04"),
        &["physical.yaml", "PHY-04", "retired", "never reused"],
    );
    assert_error(
        full_with("topics.yaml", "criterion: CC1.2\n", "criterion: CC1.9\n"),
        &["topics.yaml", "CC1.9", "criterion", "unknown criterion"],
    );
    assert_error(
        full_with("topics.yaml", "controls: [GOV-13]", "controls: [GOV-99]"),
        &[
            "topics.yaml",
            "CC1.2/board-sets-direction",
            "controls",
            "unknown control 'GOV-99'",
        ],
    );
    assert_error(
        full_with("topics.yaml", "controls: [GOV-13]", "controls: [ACC-01]"),
        &[
            "CC1.2/board-sets-direction",
            "controls",
            "'ACC-01' does not map to CC1.2",
        ],
    );
    assert_error(
        full_with("topics.yaml", "  - criterion: P8.1\n", "  - criterion: P8.1x\n"),
        &["P8.1", "no topics for this criterion"],
    );
}

#[test]
fn topics_cover_every_criterion_and_name_the_gap() {
    let c = builtin();
    for cr in &c.framework.criteria {
        let topics = c.topics_of(&cr.id);
        assert!((3..=6).contains(&topics.len()), "{}: {} topics", cr.id, topics.len());
    }
    assert_eq!(c.topics.len(), 61);
    // With every library control applicable, every topic is covered.
    let all: BTreeSet<&str> = c.library.controls.iter().map(|t| t.id.as_str()).collect();
    for cr in &c.framework.criteria {
        for t in c.coverage_of(&cr.id, &all) {
            assert!(t.covered, "{}: {} has no control", cr.id, t.topic);
        }
    }
    // Take away the key controls and the gap is named at topic level.
    let mut some = all.clone();
    for gone in ["CRY-03", "CRY-04", "CRY-01", "CRY-02", "CRY-06", "BCP-02"] {
        some.remove(gone);
    }
    let cov = c.coverage_of("CC6.1", &some);
    let gaps: Vec<&str> = cov.iter().filter(|t| !t.covered).map(|t| t.topic).collect();
    assert_eq!(gaps, ["encryption-and-keys"]);
    let keys = cov.iter().find(|t| t.topic == "encryption-and-keys").unwrap();
    assert!(keys.covered_by.is_empty() && keys.missing.contains(&"CRY-04"));
    assert!(c.coverage_of("cc6.1", &all).len() == cov.len(), "ids ignore case");
    assert!(c.topics_of("CC9.9").is_empty());
}

#[test]
fn every_policy_names_controls_and_every_control_has_a_policy() {
    let c = builtin();
    for p in &c.policies {
        assert!(!p.controls.is_empty(), "{} names no control", p.id);
    }
    for t in &c.library.controls {
        let by: Vec<&str> = c.policies_implementing(&t.id).map(|p| p.id.as_str()).collect();
        match (&t.no_policy, by.is_empty()) {
            (None, true) => panic!("{} is implemented by no policy and does not say why", t.id),
            (Some(_), false) => panic!("{} says no policy implements it, but {by:?} do", t.id),
            _ => {}
        }
    }
    // The policies the controls and the security policy require are shipped.
    let ids: BTreeSet<&str> = c.policies.iter().map(|p| p.id.as_str()).collect();
    assert!(ids.contains("privacy") && ids.contains("code-of-conduct"));
    assert!(c.policies_implementing("GOV-04").any(|p| p.id == "code-of-conduct"));
}

#[test]
fn a_policy_is_owned_by_the_role_its_body_names() {
    let owner_of_role = |role: &str| match role {
        "security_officer" => "security",
        "ceo" | "cto" => "executive",
        "engineering_lead" => "engineering",
        "it_lead" => "it",
        "hr_lead" => "hr",
        "privacy_officer" => "privacy",
        "compliance_lead" => "compliance",
        "legal_counsel" => "legal",
        other => panic!("unknown role {other}"),
    };
    for p in &builtin().policies {
        let line = p
            .body
            .lines()
            .find(|l| l.contains("owns this"))
            .unwrap_or_else(|| panic!("{}: no role owns this policy in its body", p.id));
        let role = line
            .split("{{role.")
            .nth(1)
            .and_then(|r| r.split("}}").next())
            .unwrap_or_else(|| panic!("{}: the owner is not a role placeholder", p.id));
        assert_eq!(
            owner_of_role(role),
            p.owner_role.as_str(),
            "{}: body says {role} owns it",
            p.id
        );
    }
}

#[test]
fn retired_ids_are_kept_and_not_reused() {
    let lib = &builtin().library;
    let phy = lib.retired("PHY-04").expect("PHY-04 is retired");
    assert_eq!(phy.replaced_by, ["END-04", "PHY-06"]);
    assert!(lib.control("PHY-04").is_none());
    let changelog = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/CHANGELOG.md"))
        .expect("content/CHANGELOG.md");
    for r in &lib.retired {
        assert!(
            changelog.contains(&r.id),
            "the changelog does not mention retired {}",
            r.id
        );
    }
}
