use time::macros::date;

use super::*;
use crate::control::Control;
use crate::readiness::Readiness;

fn control(code: &str, criteria: &[&str]) -> Control {
    let t = evident_catalog::Catalog::builtin()
        .library
        .control(code)
        .expect("a library control");
    Control {
        id: crate::RowId::new(code),
        code: code.into(),
        template_id: Some(code.into()),
        area: t.area.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        frequency: t.frequency,
        nature: t.nature,
        owner_role: t.owner_role,
        owner_email: Some("lead@acme.example".into()),
        testing: None,
        criteria: criteria.iter().map(|c| c.to_string()).collect(),
        evidence: t.evidence.clone(),
        na_reason: None,
    }
}

fn records(controls: Vec<Control>) -> Records {
    Records {
        organisation: "Acme".into(),
        last_modified: "2026-12-01T10:00:00Z".into(),
        scope: None,
        components: Vec::new(),
        controls,
        readiness: Readiness {
            score: 40,
            controls: Vec::new(),
            criteria: Vec::new(),
            gaps: Vec::new(),
        },
        evidence: Vec::new(),
        tasks: Vec::new(),
        departments: vec![("Engineering".into(), 12)],
        today: date!(2026 - 12 - 01),
        services: Some("Brightwave runs payroll for dentists.".into()),
    }
}

#[test]
fn documents_are_the_same_for_the_same_records_and_change_with_them() {
    let a = records(vec![control("ACC-01", &["CC6.1"])]);
    for (kind, _) in DOCUMENTS {
        let once = document(kind, &a).expect("a known kind");
        assert_eq!(Some(&once), document(kind, &a).as_ref(), "{kind} is deterministic");
        assert!(once.get(*kind).and_then(|d| d.get("uuid")).is_some(), "{kind}: {once}");
    }
    let b = records(vec![control("ACC-01", &["CC6.1", "CC6.2"])]);
    let (x, y) = (
        document("component-definition", &a).unwrap(),
        document("component-definition", &b).unwrap(),
    );
    let doc = |v: &Value| v["component-definition"]["uuid"].clone();
    assert_ne!(doc(&x), doc(&y), "a changed mapping is a new document");
    let comp = |v: &Value| v["component-definition"]["components"][0]["uuid"].clone();
    assert_eq!(comp(&x), comp(&y), "the same component keeps its UUID");
    assert!(document("ssp-ish", &a).is_none());
    // The plan describes the system in management's words first.
    let ssp = document("system-security-plan", &a).unwrap();
    let said = ssp["system-security-plan"]["system-characteristics"]["description"]
        .as_str()
        .unwrap();
    assert!(said.starts_with("Brightwave runs payroll for dentists.\n\n"), "{said}");
}

#[test]
fn the_catalog_holds_every_criterion_in_our_words_with_token_ids() {
    let r = records(Vec::new());
    let text = document("catalog", &r).unwrap().to_string();
    for c in &evident_catalog::Catalog::builtin().framework.criteria {
        assert!(text.contains(&format!("\"id\":\"{}\"", token(&c.id))), "{}", c.id);
        assert!(text.contains(&serde_json::to_string(&c.title).unwrap()), "{}", c.id);
    }
    // The profile selects Security alone before a scope is set.
    let p = document("profile", &r).unwrap();
    let ids = p["profile"]["imports"][0]["include-controls"][0]["with-ids"]
        .as_array()
        .unwrap();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.as_str().unwrap().starts_with("cc")),
        "{p}"
    );
}
