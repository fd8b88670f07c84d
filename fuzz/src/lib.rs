//! What the fuzz targets share: each importer is called as the product calls it, and what it
//! accepts is held to the rule every import must keep (no text that cannot be stored). Any
//! panic, hang or runaway allocation is a finding; an error is the expected answer to junk.

use std::sync::LazyLock;

use evident_core::checks::{self, Facts, FindingFact, RiskFact};
use evident_core::facts::{Account, Change, Finding, Imported, Protection, Severity};
use evident_core::register::{FieldKind, Known, Record, RegisterSpec, Value};
use evident_core::registers;
use time::macros::{date, datetime};

/// Between the main file and each companion file (`--with`) of one input. No JSON document
/// holds this line, so the seeds can be real exports joined by it.
pub const COMPANION: &[u8] = b"\n=====\n";

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(COMPANION.len()).position(|w| w == COMPANION) {
        parts.push(&rest[..at]);
        rest = &rest[at + COMPANION.len()..];
    }
    parts.push(rest);
    parts
}

/// One import of `kind`; for kinds that read companions, the input's later parts are those.
pub fn import(kind: &str, data: &[u8]) {
    let kind = evident_collect::kind(kind).expect("a kind the product has");
    let (main, with) = if kind.companions {
        let mut parts = split(data);
        let main = parts.remove(0);
        let with: Vec<(String, Vec<u8>)> = parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("with-{i}.json"), p.to_vec()))
            .collect();
        (main, with)
    } else {
        (data, Vec::new())
    };
    if let Ok(imported) = evident_collect::import(kind, "fuzz", main, &with) {
        assert_storable(&imported);
    }
}

fn assert_storable(i: &Imported) {
    let mut texts: Vec<&str> = vec![&i.system];
    texts.extend(i.scope.as_deref());
    texts.extend(i.warnings.iter().map(String::as_str));
    for a in &i.accounts {
        texts.extend([&a.system, &a.external_id, &a.username].map(String::as_str));
        texts.extend(a.email.as_deref());
        texts.extend(a.access_keys.iter().map(|k| k.label.as_str()));
    }
    for f in &i.findings {
        texts.extend([&f.source, &f.external_id, &f.resource, &f.title, &f.severity_raw].map(String::as_str));
    }
    for p in &i.protections {
        texts.extend([&p.repository, &p.branch, &p.source].map(String::as_str));
        texts.extend(p.status_checks.iter().map(String::as_str));
    }
    for c in &i.changes {
        texts.extend([&c.repository, &c.title, &c.author].map(String::as_str));
        texts.extend(c.approvers.iter().map(String::as_str));
    }
    for c in &i.commits {
        texts.extend([&c.repository, &c.sha, &c.title, &c.author].map(String::as_str));
    }
    for d in &i.devices {
        texts.push(&d.hostname);
        texts.extend(d.os.as_deref());
    }
    for t in texts {
        if let Err(e) = evident_core::text::storable(t) {
            panic!("an accepted import holds {t:?}, which {e}");
        }
    }
}

/// A register CSV read and validated as `evident import <register>` does. The input's first byte
/// chooses the register (`0` people … `9` access-grants, in the order of `registers::ALL`); the
/// rest is the file. One register per input: building the CSV reader is most of the cost.
pub fn register_csv(data: &[u8]) {
    static KNOWN: LazyLock<Known> = LazyLock::new(|| Known {
        people: ["ana@acme.example", "ben@acme.example"].map(String::from).into(),
        controls: ["AC-01", "HR-01", "VEN-01"].map(String::from).into(),
        evidence: ["01JEVIDENCE0000000000000001"].map(String::from).into(),
        today: Some(date!(2026 - 11 - 23)),
    });
    let Some((&which, file)) = data.split_first() else {
        return;
    };
    let spec = &registers::ALL[usize::from(which.wrapping_sub(b'0')) % registers::ALL.len()];
    if let Ok(rows) = evident_core::register::read_csv(spec, file) {
        let v = evident_core::register::validate(spec, &rows, &KNOWN);
        for (_, record) in &v.records {
            for value in record.values.values() {
                if let Err(e) = evident_core::text::storable(&value.to_text()) {
                    panic!("a valid {} record holds {value:?}, which {e}", spec.name);
                }
            }
        }
    }
}

/// An OSCAL catalog imported as a framework (`evident frameworks import`), narrowed by the
/// profile that follows it after a `=====` line, when there is one.
pub fn oscal_catalog(data: &[u8]) {
    use evident_core::oscal::import;
    let parts = split(data);
    let Ok(mut catalog) = import::catalog(parts[0]) else {
        return;
    };
    if let Some(profile) = parts.get(1)
        && import::apply_profile(&mut catalog, profile).is_err()
    {
        return;
    }
    let mut texts = vec![&catalog.title, &catalog.version];
    texts.extend(&catalog.profile);
    for c in &catalog.controls {
        texts.extend([&c.id, &c.title]);
        texts.extend(c.parent.iter().chain(&c.group));
    }
    for t in texts {
        if let Err(e) = evident_core::text::storable(t) {
            panic!("an accepted catalog holds {t:?}, which {e}");
        }
    }
}

/// A record of `spec` with a value in every field, so each operator meets each kind of value.
fn record(spec: &RegisterSpec) -> Record {
    let values = spec
        .fields
        .iter()
        .map(|f| {
            let v = match f.kind {
                FieldKind::Text | FieldKind::Control => Value::Text("CC6.1 text".into()),
                FieldKind::Email | FieldKind::Person => Value::Text("ana@acme.example".into()),
                FieldKind::Date { .. } => Value::Date(date!(2026 - 03 - 01)),
                FieldKind::Int { min, .. } => Value::Int(min),
                FieldKind::Enum(allowed) => Value::Text(allowed[0].into()),
                FieldKind::Bool => Value::Bool(true),
                FieldKind::List | FieldKind::Controls | FieldKind::Evidence => {
                    Value::List(vec!["AC-01".into(), "customer data".into()])
                }
            };
            (f.name, v)
        })
        .collect();
    Record { values }
}

static FACTS: LazyLock<Facts> = LazyLock::new(|| {
    let one = |spec: &RegisterSpec| vec![record(spec)];
    let day = 86_400_000;
    Facts {
        people: one(&registers::PEOPLE),
        training: one(&registers::TRAINING),
        background_checks: one(&registers::BACKGROUND_CHECKS),
        vendors: one(&registers::VENDORS),
        assets: one(&registers::ASSETS),
        events: one(&registers::EVENTS),
        risks: vec![RiskFact {
            record: record(&registers::RISKS),
            signed_off: None,
            sign_off_outdated: false,
            last_review: None,
        }],
        accounts: vec![Account {
            system: "okta".into(),
            external_id: "u1".into(),
            username: "ana".into(),
            email: Some("ana@acme.example".into()),
            human: true,
            mfa: Some(true),
            admin: true,
            root: false,
            created_at: Some(0),
            last_activity: Some(1_790_000_000_000),
            disabled_at: None,
            active: true,
            access_keys: Vec::new(),
        }],
        findings: vec![FindingFact {
            finding: Finding {
                source: "trivy".into(),
                external_id: "CVE-2026-1".into(),
                resource: "api".into(),
                title: "t".into(),
                severity: Severity::High,
                severity_raw: "HIGH".into(),
            },
            scope: "api".into(),
            first_seen: 1_790_000_000_000 - 40 * day,
            fixed_at: None,
        }],
        changes: vec![Change {
            repository: "acme/api".into(),
            number: 12,
            title: "t".into(),
            author: "ana".into(),
            merged_at: 1_790_000_000_000,
            approvers: vec!["ben".into()],
        }],
        protections: vec![Protection {
            repository: "acme/api".into(),
            branch: "main".into(),
            source: "branch-protection".into(),
            required_approvals: 1,
            dismiss_stale_reviews: true,
            code_owner_reviews: false,
            status_checks: vec!["ci".into()],
            enforce_admins: true,
            allows_force_pushes: false,
        }],
        ..Default::default()
    }
});

/// A custom check rule file parsed as the workspace's `checks/` folder is, and every rule in it
/// run over one record of each kind.
pub fn check_rules(data: &[u8]) {
    static CONTROLS: LazyLock<Vec<String>> = LazyLock::new(|| {
        evident_catalog::Catalog::builtin()
            .library
            .controls
            .iter()
            .map(|c| c.id.clone())
            .collect()
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let builtin: Vec<&str> = checks::BUILTIN.iter().map(|c| c.id).collect();
    if let Ok(rules) = checks::rules::parse("checks/fuzz.yaml", text, &builtin, &CONTROLS) {
        for rule in &rules {
            checks::run_rule(rule, &FACTS, &[], datetime!(2026-11-23 12:00 UTC));
        }
    }
}
