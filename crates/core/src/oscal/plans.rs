//! The system security plan (the system, its boundary, its people and components, and how each
//! criterion in scope is implemented) and the plan of Evident's readiness assessment.

use crate::readiness::{Coverage, Status};
use crate::scope::{AuditPeriod, ReportType};
use serde_json::{Value, json};

use super::catalog::in_scope_criteria;
use super::{Records, file_name, metadata, prop, sealed, token, uuid5};

pub(super) fn this_system() -> String {
    uuid5("component this-system")
}

fn period_words(input: &Records) -> String {
    match &input.scope {
        None => "No audit scope has been set yet.".into(),
        Some(s) => {
            let kind = match s.report_type {
                ReportType::Type1 => "SOC 2 Type I",
                ReportType::Type2 => "SOC 2 Type II",
            };
            let when = match s.period {
                AuditPeriod::AsOf(d) => format!("as of {}", crate::format_date(d)),
                AuditPeriod::Window { from, to } => format!(
                    "over the window {} to {}",
                    crate::format_date(from),
                    crate::format_date(to)
                ),
            };
            let cats: Vec<&str> = s.categories.iter().map(|c| c.as_str()).collect();
            format!("{kind} {when}, categories: {}.", cats.join(", "))
        }
    }
}

fn component_type(kind: &str) -> &'static str {
    match kind {
        "infrastructure" => "service",
        "software" => "software",
        "people" => "process-procedure",
        "procedures" => "process-procedure",
        "data" => "guidance",
        _ => "service",
    }
}

fn state(s: Status) -> &'static str {
    match s {
        Status::Ready | Status::AtRisk => "implemented",
        Status::Gap => "partial",
        Status::NotApplicable => "not-applicable",
    }
}

pub(super) fn ssp(input: &Records) -> Value {
    let included: Vec<_> = input.components.iter().filter(|c| c.in_scope).collect();
    let excluded: Vec<_> = input.components.iter().filter(|c| !c.in_scope).collect();
    let list = |v: &[&super::SystemComponent]| {
        if v.is_empty() {
            "none recorded".to_string()
        } else {
            v.iter()
                .map(|c| format!("{} ({}: {})", c.name, c.kind, c.reason))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    let data: Vec<Value> = input
        .components
        .iter()
        .filter(|c| c.in_scope && c.kind == "data")
        .map(|c| {
            json!({
                "uuid": uuid5(&format!("information-type {}", c.name)),
                "title": c.name,
                "description": if c.reason.is_empty() { format!("{} held by the system.", c.name) } else { c.reason.clone() }
            })
        })
        .collect();
    let data = if data.is_empty() {
        vec![json!({
            "uuid": uuid5("information-type customer data"),
            "title": "Customer data",
            "description": "Data customers entrust to the system; no data component is recorded in the scope yet."
        })]
    } else {
        data
    };
    let mut components = vec![json!({
        "uuid": this_system(),
        "type": "this-system",
        "title": input.organisation,
        "description": format!("The system {} describes for its SOC 2 report.", input.organisation),
        "status": {"state": "operational"}
    })];
    for c in &included {
        components.push(json!({
            "uuid": uuid5(&format!("component {} {}", c.kind, c.name)),
            "type": component_type(&c.kind),
            "title": c.name,
            "description": if c.reason.is_empty() { format!("{} ({})", c.name, c.kind) } else { c.reason.clone() },
            "props": [prop("scope-kind", c.kind.clone())],
            "status": {"state": "operational"}
        }));
    }
    let users: Vec<Value> = input
        .departments
        .iter()
        .map(|(d, n)| {
            json!({
                "uuid": uuid5(&format!("user department {d}")),
                "title": d,
                "props": [prop("head-count", n.to_string())],
                "role-ids": ["control-owner"]
            })
        })
        .collect();
    // Each criterion in scope: the controls that serve it, their state, and how.
    let requirements: Vec<Value> = in_scope_criteria(input)
        .iter()
        .map(|criterion| {
            let by: Vec<Value> = input
                .serving(criterion)
                .iter()
                .map(|c| {
                    let mut v = json!({
                        "component-uuid": this_system(),
                        "uuid": uuid5(&format!("ssp {criterion} by {}", c.code)),
                        "description": format!("{} {}: {}", c.code, c.title, c.description.trim()),
                        "props": [prop("control", c.code.clone())],
                        "implementation-status": {"state": state(input.status(&c.code).map(|s| s.status).unwrap_or(Status::Gap))}
                    });
                    if let Some(owner) = &c.owner_email {
                        v["props"].as_array_mut().expect("props").push(prop("owner", owner.clone()));
                    }
                    v
                })
                .collect();
            let covered = match input.coverage(criterion) {
                Some(Coverage::Covered) => "covered",
                Some(Coverage::Partial) => "partial",
                _ => "uncovered",
            };
            let mut r = json!({
                "uuid": uuid5(&format!("ssp requirement {criterion}")),
                "control-id": token(criterion),
                "props": [prop("coverage", covered)]
            });
            if by.is_empty() {
                r["remarks"] = json!("No applicable control serves this criterion yet.");
            } else {
                r["by-components"] = Value::Array(by);
            }
            r
        })
        .collect();
    let mut description = format!(
        "{} prepares for {} In scope: {}. Excluded: {}.",
        input.organisation,
        period_words(input),
        list(&included),
        list(&excluded)
    );
    if let Some(services) = input.services.as_deref().filter(|s| !s.trim().is_empty()) {
        description = format!("{}\n\n{description}", services.trim());
    }
    sealed(
        "system-security-plan",
        json!({
            "metadata": metadata(input, &format!("{}: system security plan", input.organisation), "1"),
            "import-profile": {"href": file_name("profile").expect("a profile")},
            "system-characteristics": {
                "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": uuid5("system")}],
                "system-name": input.organisation,
                "description": description,
                "system-information": {"information-types": data},
                "status": {"state": "operational"},
                "authorization-boundary": {
                    "description": format!("In scope: {}. Excluded: {}.", list(&included), list(&excluded))
                }
            },
            "system-implementation": {
                "users": users,
                "components": components
            },
            "control-implementation": {
                "description": format!("How {}'s controls meet each SOC 2 criterion in scope, and where each stands today.", input.organisation),
                "implemented-requirements": requirements
            }
        }),
    )
}

pub(super) fn assessment_plan(input: &Records) -> Value {
    sealed(
        "assessment-plan",
        json!({
            "metadata": metadata(input, &format!("{}: readiness assessment plan", input.organisation), "1"),
            "import-ssp": {"href": file_name("system-security-plan").expect("an SSP")},
            "reviewed-controls": {
                "description": "Every criterion in scope: each control's evidence requirements, its built-in checks and its policies, as Evident's readiness assessment tests them.",
                "control-selections": [{"include-all": {}}]
            },
            "assessment-subjects": [{
                "type": "component",
                "include-subjects": [{"subject-uuid": this_system(), "type": "component"}]
            }]
        }),
    )
}
