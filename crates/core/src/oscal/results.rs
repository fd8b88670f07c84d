//! The readiness assessment's results (a finding per criterion in scope, an observation per
//! current evidence item, each item referenced by its SHA-256 in the back matter) and the plan
//! of action and milestones for the open gaps and tasks.

use std::collections::BTreeSet;

use crate::evidence::rfc3339;
use crate::readiness::{Coverage, Status};
use crate::scope::AuditPeriod;
use serde_json::{Value, json};

use super::catalog::in_scope_criteria;
use super::{Records, file_name, metadata, prop, sealed, token, uuid5};

fn observation_uuid(evidence: &str) -> String {
    uuid5(&format!("observation evidence {evidence}"))
}

fn resource_uuid(evidence: &str) -> String {
    uuid5(&format!("resource evidence {evidence}"))
}

fn back_matter(input: &Records) -> Value {
    let resources: Vec<Value> = input
        .evidence
        .iter()
        .map(|e| {
            json!({
                "uuid": resource_uuid(&e.id),
                "title": e.title,
                "props": [prop("evidence-id", e.id.clone())],
                "rlinks": [{
                    "href": format!("evidence/{}/{}", e.id, e.file_name),
                    "media-type": e.media_type,
                    "hashes": [{"algorithm": "SHA-256", "value": e.sha256}]
                }]
            })
        })
        .collect();
    json!({"resources": resources})
}

pub(super) fn assessment_results(input: &Records) -> Value {
    let r = &input.readiness;
    let observations: Vec<Value> = input
        .evidence
        .iter()
        .map(|e| {
            let controls: Vec<&str> = e.controls.iter().map(|l| l.control.as_str()).collect();
            let mut o = json!({
                "uuid": observation_uuid(&e.id),
                "title": e.title,
                "description": format!(
                    "Evidence {} ({}, {} bytes) for {}.",
                    e.id,
                    e.media_type,
                    e.size,
                    controls.join(", ")
                ),
                "props": controls.iter().map(|c| prop("control", c.to_string())).collect::<Vec<_>>(),
                "methods": ["EXAMINE"],
                "collected": rfc3339(e.captured_at),
                "relevant-evidence": [{
                    "href": format!("#{}", resource_uuid(&e.id)),
                    "description": format!("The file as kept in the vault, SHA-256 {}", e.sha256)
                }]
            });
            if let Some(d) = &e.effective_date {
                o["props"]
                    .as_array_mut()
                    .expect("props")
                    .push(prop("attests-to", d.clone()));
            }
            o
        })
        .collect();
    let findings: Vec<Value> = in_scope_criteria(input)
        .iter()
        .map(|criterion| {
            let serving = input.serving(criterion);
            let mut lines = Vec::new();
            let mut ready = input.coverage(criterion) == Some(Coverage::Covered);
            for c in &serving {
                let st = input.status(&c.code);
                let status = st.map(|s| s.status).unwrap_or(Status::Gap);
                ready &= matches!(status, Status::Ready | Status::AtRisk);
                let reasons: Vec<&str> = st
                    .map(|s| s.reasons.iter().map(|x| x.text.as_str()).collect())
                    .unwrap_or_default();
                lines.push(if reasons.is_empty() {
                    format!("{} {}: {}.", c.code, c.title, status.as_str())
                } else {
                    format!("{} {}: {} ({}).", c.code, c.title, status.as_str(), reasons.join("; "))
                });
            }
            if serving.is_empty() {
                lines.push("No applicable control serves this criterion.".into());
            }
            let codes: BTreeSet<&str> = serving.iter().map(|c| c.code.as_str()).collect();
            let related: Vec<Value> = input
                .evidence
                .iter()
                .filter(|e| e.controls.iter().any(|l| codes.contains(l.control.as_str())))
                .map(|e| json!({"observation-uuid": observation_uuid(&e.id)}))
                .collect();
            let mut f = json!({
                "uuid": uuid5(&format!("finding {criterion}")),
                "title": format!("{criterion}: {}", if ready { "ready" } else { "not ready" }),
                "description": lines.join("\n"),
                "target": {
                    "type": "objective-id",
                    "target-id": token(criterion),
                    "status": {"state": if ready { "satisfied" } else { "not-satisfied" }}
                }
            });
            if !related.is_empty() {
                f["related-observations"] = Value::Array(related);
            }
            f
        })
        .collect();
    let mut result = json!({
        "uuid": uuid5("result readiness"),
        "title": "Readiness assessment",
        "description": format!(
            "Evident's readiness assessment of {}: score {} of 100; {} controls ready, {} at risk, {} with gaps.",
            input.organisation,
            r.score,
            r.count(Status::Ready),
            r.count(Status::AtRisk),
            r.count(Status::Gap)
        ),
        "start": input.last_modified,
        "reviewed-controls": {"control-selections": [{"include-all": {}}]}
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }
    let mut body = json!({
        "metadata": metadata(input, &format!("{}: readiness assessment results", input.organisation), "1"),
        "import-ap": {"href": file_name("assessment-plan").expect("an assessment plan")},
        "results": [result]
    });
    if !input.evidence.is_empty() {
        body["back-matter"] = back_matter(input);
    }
    sealed("assessment-results", body)
}

pub(super) fn poam(input: &Records) -> Value {
    let start = input.scope.as_ref().map(|s| match s.period {
        AuditPeriod::AsOf(d) => d,
        AuditPeriod::Window { from, .. } => from,
    });
    let mut items: Vec<Value> = input
        .readiness
        .gaps
        .iter()
        .map(|g| {
            let about = g.control.as_deref().or(g.criterion.as_deref()).unwrap_or("program");
            let mut props = vec![
                prop("severity", g.severity.as_str()),
                prop("due", crate::format_date(g.due(start, input.today))),
            ];
            if let Some(o) = &g.owner {
                props.push(prop("owner", o.clone()));
            }
            if let Some(c) = &g.control {
                props.push(prop("control", c.clone()));
            }
            json!({
                "uuid": uuid5(&format!("gap {} {about} {}", g.severity.as_str(), g.subject)),
                "title": format!("{about}: {}", g.severity.as_str().replace('_', " ")),
                "description": g.reason,
                "props": props,
                "remarks": g.fix
            })
        })
        .collect();
    for t in input.tasks.iter().filter(|t| t.status != "done") {
        let mut props = vec![prop("task", t.id.clone()), prop("status", t.status.clone())];
        if let Some(o) = &t.owner {
            props.push(prop("owner", o.clone()));
        }
        if let Some(d) = &t.due {
            props.push(prop("due", d.clone()));
        }
        for c in &t.controls {
            props.push(prop("control", c.clone()));
        }
        items.push(json!({
            "uuid": uuid5(&format!("task {}", t.id)),
            "title": format!("{}: {}", t.id, t.title),
            "description": t.title,
            "props": props
        }));
    }
    sealed(
        "plan-of-action-and-milestones",
        json!({
            "metadata": metadata(input, &format!("{}: plan of action and milestones", input.organisation), "1"),
            "import-ssp": {"href": file_name("system-security-plan").expect("an SSP")},
            "system-id": {"identifier-type": "https://ietf.org/rfc/rfc4122", "id": uuid5("system")},
            "poam-items": items
        }),
    )
}
