//! The program's registers, as data. Column names here are the CSV headers, the CLI flags
//! (`--start-date`) and the database columns alike.

use crate::register::ListColumn::{self, Field as F};
use crate::register::{FieldKind as K, FieldSpec, Record, RegisterSpec, Value};

const fn f(name: &'static str, kind: K, required: bool, help: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required,
        help,
    }
}

pub const EMPLOYMENT_TYPES: &[&str] = &["employee", "contractor", "intern"];
pub const TRAINING_KINDS: &[&str] = &[
    "security_awareness",
    "secure_coding",
    "privacy",
    "incident_response",
    "other",
];
pub const CHECK_STATUSES: &[&str] = &["passed", "failed", "pending", "waived"];
pub const TREATMENTS: &[&str] = &["accept", "mitigate", "transfer", "avoid"];
pub const TIERS: &[&str] = &["critical", "high", "medium", "low"];
pub const ASSET_KINDS: &[&str] = &["hardware", "software", "cloud_resource", "data_store"];
pub const CLASSIFICATIONS: &[&str] = &["public", "internal", "confidential", "restricted"];
pub const EVENT_KINDS: &[&str] = &[
    "incident",
    "tabletop_exercise",
    "backup_restore_test",
    "dr_test",
    "access_review",
    "privileged_access_review",
    "risk_assessment",
    "management_review",
    "penetration_test",
];
pub const TASK_STATUSES: &[&str] = &["open", "in_progress", "blocked", "done"];
/// How the report presents a vendor the system relies on.
pub const SUBSERVICE: &[&str] = &["carve_out", "inclusive", "not_subservice"];

/// The criteria a subservice organisation's controls support must be criteria we know.
fn dependent_criteria_exist(r: &Record) -> Vec<(&'static str, String)> {
    let fw = &evident_catalog::Catalog::builtin().framework;
    r.get("dependent_criteria")
        .as_list()
        .iter()
        .filter(|id| !fw.criteria.iter().any(|k| k.id == **id))
        .map(|id| {
            (
                "dependent_criteria",
                format!("'{id}' is not a SOC 2 criterion id (e.g. CC6.4, A1.2)"),
            )
        })
        .collect()
}

fn end_not_before_start(r: &Record) -> Vec<(&'static str, String)> {
    match (r.get("start_date").as_date(), r.get("end_date").as_date()) {
        (Some(s), Some(e)) if e < s => vec![("end_date", format!("{e} is before the start date {s}"))],
        _ => vec![],
    }
}

fn residual_not_above_inherent(r: &Record) -> Vec<(&'static str, String)> {
    let mut out = vec![];
    for (residual, inherent) in [("residual_likelihood", "likelihood"), ("residual_impact", "impact")] {
        if let (Some(res), Some(inh)) = (r.get(residual).as_int(), r.get(inherent).as_int())
            && res > inh
        {
            out.push((residual, format!("{res} is above the inherent {inherent} {inh}")));
        }
    }
    out
}

fn concluded_checks_have_a_date(r: &Record) -> Vec<(&'static str, String)> {
    match (r.get("status").as_str(), r.get("completed_on")) {
        (Some("passed" | "failed"), Value::Null) => {
            vec![("completed_on", "required when the check is concluded".into())]
        }
        _ => vec![],
    }
}

pub const PEOPLE: RegisterSpec = RegisterSpec {
    list: &[
        F("name"),
        F("email"),
        F("department"),
        F("employment_type"),
        F("start_date"),
        ListColumn::Derived {
            key: "policies",
            label: "Policies accepted",
        },
        ListColumn::Derived {
            key: "training",
            label: "Security training",
        },
        ListColumn::Derived {
            key: "screening",
            label: "Background check",
        },
    ],
    name: "people",
    table: "people",
    noun: "person",
    fields: &[
        f("email", K::Email, true, "work email; identifies the person"),
        f("name", K::Text, true, "full name"),
        f("title", K::Text, false, "job title"),
        f("department", K::Text, false, ""),
        f(
            "manager_email",
            K::Person,
            false,
            "the manager's email (a person in the register or in the same file)",
        ),
        f(
            "employment_type",
            K::Enum(EMPLOYMENT_TYPES),
            true,
            "employee, contractor or intern",
        ),
        f("start_date", K::Date { past: false }, true, "first working day"),
        f(
            "end_date",
            K::Date { past: false },
            false,
            "last working day, for leavers",
        ),
    ],
    key: &["email"],
    rules: &[end_not_before_start],
};

pub const TRAINING: RegisterSpec = RegisterSpec {
    list: &[F("email"), F("course"), F("kind"), F("completed_on")],
    name: "training",
    table: "training_completions",
    noun: "training completion",
    fields: &[
        f("email", K::Person, true, "who completed it"),
        f("course", K::Text, true, "course name"),
        f(
            "kind",
            K::Enum(TRAINING_KINDS),
            true,
            "security_awareness, secure_coding, privacy, incident_response, other",
        ),
        f("completed_on", K::Date { past: true }, true, "completion date"),
    ],
    key: &["email", "course", "completed_on"],
    rules: &[],
};

pub const BACKGROUND_CHECKS: RegisterSpec = RegisterSpec {
    list: &[F("email"), F("status"), F("completed_on"), F("provider")],
    name: "background-checks",
    table: "background_checks",
    noun: "background check",
    fields: &[
        f("email", K::Person, true, "who was checked"),
        f(
            "status",
            K::Enum(CHECK_STATUSES),
            true,
            "passed, failed, pending or waived",
        ),
        f("completed_on", K::Date { past: true }, false, "when it concluded"),
        f("provider", K::Text, false, "screening provider"),
        f("notes", K::Text, false, "e.g. why it was waived"),
    ],
    key: &["email"],
    rules: &[concluded_checks_have_a_date],
};

pub const RISKS: RegisterSpec = RegisterSpec {
    list: &[
        F("id"),
        F("title"),
        ListColumn::Score {
            key: "score",
            label: "Inherent score",
            of: ("likelihood", "impact"),
        },
        F("treatment"),
        ListColumn::Score {
            key: "residual_score",
            label: "Residual score",
            of: ("residual_likelihood", "residual_impact"),
        },
        F("owner"),
        F("due_date"),
        ListColumn::Derived {
            key: "sign_off",
            label: "Sign-off",
        },
    ],
    name: "risks",
    table: "risks",
    noun: "risk",
    fields: &[
        f("id", K::Text, true, "your reference, e.g. R-014"),
        f("title", K::Text, true, ""),
        f("category", K::Text, false, "e.g. access, vendor, availability"),
        f("asset", K::Text, false, "the asset or process at risk"),
        f("threat", K::Text, false, "what could happen"),
        f("likelihood", K::Int { min: 1, max: 5 }, true, "inherent, 1–5"),
        f("impact", K::Int { min: 1, max: 5 }, true, "inherent, 1–5"),
        f(
            "treatment",
            K::Enum(TREATMENTS),
            true,
            "accept, mitigate, transfer or avoid",
        ),
        f("treatment_plan", K::Text, false, ""),
        f("controls", K::Controls, false, "mitigating control ids, ;-separated"),
        f(
            "residual_likelihood",
            K::Int { min: 1, max: 5 },
            false,
            "after controls, 1–5",
        ),
        f(
            "residual_impact",
            K::Int { min: 1, max: 5 },
            false,
            "after controls, 1–5",
        ),
        f("owner", K::Email, false, "who owns the risk"),
        f("due_date", K::Date { past: false }, false, "treatment due"),
    ],
    key: &["id"],
    rules: &[residual_not_above_inherent],
};

pub const VENDORS: RegisterSpec = RegisterSpec {
    list: &[
        F("name"),
        F("service"),
        F("tier"),
        F("owner"),
        F("report_period_end"),
        F("next_review"),
        ListColumn::Derived {
            key: "review",
            label: "Review",
        },
    ],
    name: "vendors",
    table: "vendors",
    noun: "vendor",
    fields: &[
        f("name", K::Text, true, "identifies the vendor"),
        f("service", K::Text, false, "what they provide"),
        f(
            "tier",
            K::Enum(TIERS),
            true,
            "criticality: critical, high, medium or low",
        ),
        f("data_categories", K::List, false, "data shared with them, ;-separated"),
        f("owner", K::Email, false, "who manages the relationship"),
        f(
            "soc2_report",
            K::Evidence,
            false,
            "evidence id of their SOC 2 (or equivalent) report",
        ),
        f(
            "report_period_end",
            K::Date { past: true },
            false,
            "end of the period their report covers",
        ),
        f(
            "next_review",
            K::Date { past: false },
            false,
            "next due-diligence review",
        ),
        f(
            "cuecs",
            K::List,
            false,
            "complementary user-entity controls they expect of us, ;-separated",
        ),
        f(
            "subservice",
            K::Enum(SUBSERVICE),
            false,
            "how the report presents them: carve_out, inclusive or not_subservice",
        ),
        f(
            "dependent_criteria",
            K::List,
            false,
            "criteria that depend on their controls, ;-separated (e.g. CC6.4;A1.2)",
        ),
        f(
            "csocs",
            K::List,
            false,
            "controls we rely on them to operate (CSOCs), ;-separated",
        ),
    ],
    key: &["name"],
    rules: &[dependent_criteria_exist],
};

pub const ASSETS: RegisterSpec = RegisterSpec {
    list: &[F("name"), F("kind"), F("owner"), F("classification"), F("in_scope")],
    name: "assets",
    table: "assets",
    noun: "asset",
    fields: &[
        f("name", K::Text, true, "identifies the asset"),
        f(
            "kind",
            K::Enum(ASSET_KINDS),
            true,
            "hardware, software, cloud_resource or data_store",
        ),
        f("owner", K::Email, false, ""),
        f("purpose", K::Text, false, ""),
        f(
            "classification",
            K::Enum(CLASSIFICATIONS),
            true,
            "public, internal, confidential or restricted",
        ),
        f("in_scope", K::Bool, true, "true if in the audit scope"),
    ],
    key: &["name"],
    rules: &[],
};

pub const EVENTS: RegisterSpec = RegisterSpec {
    list: &[F("id"), F("date"), F("kind"), F("title"), F("outcome")],
    name: "events",
    table: "events",
    noun: "event",
    fields: &[
        f("id", K::Text, true, "your reference, e.g. INC-2026-004"),
        f("kind", K::Enum(EVENT_KINDS), true, ""),
        f("title", K::Text, true, ""),
        f("date", K::Date { past: true }, true, "when it happened"),
        f("summary", K::Text, false, ""),
        f("outcome", K::Text, false, "result, findings, follow-ups"),
        f("evidence", K::Evidence, false, "evidence ids, ;-separated"),
        f(
            "controls",
            K::Controls,
            false,
            "control ids it demonstrates, ;-separated",
        ),
    ],
    key: &["id"],
    rules: &[],
};

pub const TASKS: RegisterSpec = RegisterSpec {
    // The title is what a person reads and opens; the reference comes last.
    list: &[
        F("title"),
        F("owner"),
        F("due_date"),
        F("status"),
        F("control"),
        F("id"),
    ],
    name: "tasks",
    table: "tasks",
    noun: "task",
    fields: &[
        f("id", K::Text, true, "your reference, e.g. T-102"),
        f("title", K::Text, true, ""),
        f("owner", K::Email, false, ""),
        f("due_date", K::Date { past: false }, false, ""),
        f(
            "status",
            K::Enum(TASK_STATUSES),
            true,
            "open, in_progress, blocked or done",
        ),
        f("control", K::Control, false, "the control it belongs to"),
        f("gap", K::Text, false, "the gap it closes"),
    ],
    key: &["id"],
    rules: &[],
};

/// Service accounts, API keys and other non-human identities found in the imports, with who
/// owns each, what it is for, and how often its keys must rotate.
pub const MACHINE_IDENTITIES: RegisterSpec = RegisterSpec {
    list: &[F("system"), F("account"), F("owner"), F("purpose"), F("rotation_days")],
    name: "machine-identities",
    table: "machine_identities",
    noun: "machine identity",
    fields: &[
        f(
            "system",
            K::Text,
            true,
            "the system as imported, e.g. aws:123456789012, github, okta",
        ),
        f("account", K::Text, true, "the account's name in that system"),
        f("owner", K::Email, true, "who answers for it"),
        f("purpose", K::Text, true, "what uses it and why"),
        f(
            "rotation_days",
            K::Int { min: 1, max: 3650 },
            false,
            "longest age of its keys; empty: the access-control policy's",
        ),
        f("notes", K::Text, false, ""),
    ],
    key: &["system", "account"],
    rules: &[],
};

fn grant_ends_after_it_starts(r: &Record) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let (Some(s), Some(e)) = (r.get("starts_on").as_date(), r.get("ends_on").as_date())
        && e < s
    {
        out.push(("ends_on", format!("{e} is before the start {s}")));
    }
    if let (Some(who), Some(by)) = (r.get("email").as_str(), r.get("approved_by").as_str())
        && who.eq_ignore_ascii_case(by)
    {
        out.push(("approved_by", "nobody approves their own elevation".to_string()));
    }
    out
}

/// Time-bound elevations of access: who, what, why, approved by whom, from when until when.
pub const ACCESS_GRANTS: RegisterSpec = RegisterSpec {
    list: &[
        F("id"),
        F("email"),
        F("system"),
        F("access"),
        F("starts_on"),
        F("ends_on"),
        F("approved_by"),
    ],
    name: "access-grants",
    table: "access_grants",
    noun: "access grant",
    fields: &[
        f("id", K::Text, true, "your reference, e.g. AG-12"),
        f("email", K::Person, true, "who is elevated"),
        f(
            "system",
            K::Text,
            true,
            "the system as imported, e.g. aws:123456789012, github, okta",
        ),
        f("access", K::Text, true, "what it grants, e.g. administrator"),
        f("reason", K::Text, true, "why it is needed"),
        f(
            "approved_by",
            K::Email,
            true,
            "who approved it (never the person elevated)",
        ),
        f("starts_on", K::Date { past: false }, true, "first day"),
        f("ends_on", K::Date { past: false }, true, "last day"),
    ],
    key: &["id"],
    rules: &[grant_ends_after_it_starts],
};

/// A register row from the risk library, without owner or due date.
pub fn risk_from_template(t: &evident_catalog::RiskTemplate) -> Record {
    let text = |s: &str| Value::Text(s.to_string());
    let values = [
        ("id", text(&t.id)),
        ("title", text(&t.title)),
        ("category", text(&t.category)),
        ("asset", text(&t.asset)),
        ("threat", text(t.threat.trim())),
        ("likelihood", Value::Int(t.likelihood.into())),
        ("impact", Value::Int(t.impact.into())),
        ("treatment", text(&t.treatment)),
        ("treatment_plan", text(t.treatment_plan.trim())),
        ("controls", Value::List(t.controls.clone())),
        ("residual_likelihood", Value::Int(t.residual_likelihood.into())),
        ("residual_impact", Value::Int(t.residual_impact.into())),
        ("owner", Value::Null),
        ("due_date", Value::Null),
    ];
    Record {
        values: values.into_iter().collect(),
    }
}

/// Whether a person in the people register is employed on `day`: started, and not yet left.
pub fn employed_on(person: &Record, day: time::Date) -> bool {
    person.get("start_date").as_date().is_none_or(|d| d <= day)
        && person.get("end_date").as_date().is_none_or(|d| d >= day)
}

pub const ALL: &[RegisterSpec] = &[
    PEOPLE,
    TRAINING,
    BACKGROUND_CHECKS,
    RISKS,
    VENDORS,
    ASSETS,
    EVENTS,
    TASKS,
    MACHINE_IDENTITIES,
    ACCESS_GRANTS,
];

pub fn by_name(name: &str) -> Option<&'static RegisterSpec> {
    ALL.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    /// docs/registers.md is what people read to build their CSV files: it must name every
    /// register and every column.
    #[test]
    fn every_column_is_documented() {
        let doc = include_str!("../../../docs/registers.md");
        for spec in super::ALL {
            let section = format!("## `{}`", spec.name);
            let start = doc
                .find(&section)
                .unwrap_or_else(|| panic!("docs/registers.md lacks {section}"));
            let body = &doc[start..];
            let body = &body[..body[3..].find("\n## ").map(|i| i + 3).unwrap_or(body.len())];
            for f in spec.fields {
                assert!(
                    body.contains(&format!("| `{}` |", f.name)),
                    "docs/registers.md: {} lacks column {}",
                    spec.name,
                    f.name
                );
            }
        }
    }
}
