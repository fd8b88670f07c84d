//! Custom checks written as declarative rules (YAML or JSON) in the workspace's `checks/`
//! folder: the kind of record, a filter choosing the records in scope, and assertions each
//! of them must meet. Parsed and checked strictly: an unknown field or operator is an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::Duration;

use super::{Ctx, Outcome};
use crate::dates::format_date;
use crate::register::{Record, RegisterSpec, Value};
use crate::registers;

const OPS: &[&str] = &[
    "eq",
    "ne",
    "in",
    "not_in",
    "present",
    "absent",
    "contains",
    "not_contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "within_days",
    "older_than_days",
    "is_true",
    "is_false",
];

/// Kinds a rule can read, beyond the registers.
const FACT_KINDS: &[(&str, &[&str])] = &[
    (
        "accounts",
        &[
            "system",
            "username",
            "email",
            "human",
            "mfa",
            "admin",
            "root",
            "active",
            "created_at",
            "last_activity",
            "disabled_at",
            "active_access_keys",
        ],
    ),
    (
        "findings",
        &[
            "source",
            "scope",
            "external_id",
            "resource",
            "title",
            "severity",
            "open",
            "first_seen",
            "fixed_at",
            "age_days",
        ],
    ),
    (
        "changes",
        &[
            "repository",
            "number",
            "title",
            "author",
            "approvers",
            "approvals",
            "merged_at",
        ],
    ),
    (
        "repositories",
        &[
            "repository",
            "branch",
            "source",
            "required_approvals",
            "enforce_admins",
            "allows_force_pushes",
            "status_checks",
        ],
    ),
];

/// The longest span `within_days` and `older_than_days` take: a century, more than any record a
/// program keeps. Counting much further back leaves the calendar `time` holds, which panics.
const MAX_DAYS: i64 = 36_500;

const REGISTER_KINDS: &[&str] = &[
    "people",
    "training",
    "background-checks",
    "risks",
    "vendors",
    "assets",
    "events",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub op: String,
    #[serde(default)]
    pub value: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    /// The kind of record: a register name, or accounts, findings, changes, repositories.
    pub reads: String,
    #[serde(default)]
    pub controls: Vec<String>,
    #[serde(default, rename = "where")]
    pub filter: Vec<Condition>,
    #[serde(rename = "assert")]
    pub assertions: Vec<Condition>,
    /// The field that names a record in results (default: the kind's identifying field).
    #[serde(default)]
    pub record: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RuleFile {
    Many { rules: Vec<Rule> },
    One(Box<Rule>),
}

fn fields_of(kind: &str) -> Option<Vec<&'static str>> {
    if REGISTER_KINDS.contains(&kind) {
        return registers::by_name(kind).map(|s| s.fields.iter().map(|f| f.name).collect());
    }
    FACT_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, f)| f.to_vec())
}

/// Parses a rule file; `builtin_ids` and `controls` guard against clashes and typos.
pub fn parse(file: &str, text: &str, builtin_ids: &[&str], controls: &[String]) -> Result<Vec<Rule>, String> {
    let parsed: RuleFile = serde_yaml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    let rules = match parsed {
        RuleFile::Many { rules } => rules,
        RuleFile::One(r) => vec![*r],
    };
    for r in &rules {
        let at = |what: String| format!("{file}: rule '{}': {what}", r.id);
        if r.id.is_empty()
            || !r
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(at("id must be kebab-case".into()));
        }
        if builtin_ids.contains(&r.id.as_str()) {
            return Err(at("id is taken by a built-in check".into()));
        }
        let kinds: Vec<&str> = REGISTER_KINDS
            .iter()
            .copied()
            .chain(FACT_KINDS.iter().map(|(k, _)| *k))
            .collect();
        let fields = fields_of(&r.reads).ok_or_else(|| {
            at(format!(
                "reads: unknown kind '{}' (allowed: {})",
                r.reads,
                kinds.join(", ")
            ))
        })?;
        if r.assertions.is_empty() {
            return Err(at("assert: at least one assertion is needed".into()));
        }
        for c in &r.controls {
            if !controls.iter().any(|k| k == c) {
                return Err(at(format!("controls: unknown control '{c}'")));
            }
        }
        if let Some(f) = r.record.as_ref().filter(|f| !fields.contains(&f.as_str())) {
            return Err(at(format!(
                "record: unknown field '{f}' for {} (fields: {})",
                r.reads,
                fields.join(", ")
            )));
        }
        for (part, conds) in [("where", &r.filter), ("assert", &r.assertions)] {
            for c in conds {
                if !fields.contains(&c.field.as_str()) {
                    return Err(at(format!(
                        "{part}: unknown field '{}' for {} (fields: {})",
                        c.field,
                        r.reads,
                        fields.join(", ")
                    )));
                }
                if !OPS.contains(&c.op.as_str()) {
                    return Err(at(format!(
                        "{part}: unknown operator '{}' (operators: {})",
                        c.op,
                        OPS.join(", ")
                    )));
                }
                let whole = c.value.as_ref().and_then(serde_yaml::Value::as_i64);
                if matches!(c.op.as_str(), "within_days" | "older_than_days")
                    && !whole.is_some_and(|n| (0..=MAX_DAYS).contains(&n))
                {
                    return Err(at(format!(
                        "{part}: operator '{}' on '{}' takes a whole number of days from 0 to {MAX_DAYS}",
                        c.op, c.field
                    )));
                }
                let value_ok = match c.op.as_str() {
                    "present" | "absent" | "is_true" | "is_false" => c.value.is_none(),
                    "in" | "not_in" => matches!(c.value, Some(serde_yaml::Value::Sequence(_))),
                    // A fraction or a number beyond 64 bits would be compared as 0.
                    "gt" | "gte" | "lt" | "lte" => whole.is_some(),
                    "within_days" | "older_than_days" => true,
                    _ => matches!(
                        c.value,
                        Some(serde_yaml::Value::String(_) | serde_yaml::Value::Number(_) | serde_yaml::Value::Bool(_))
                    ),
                };
                if !value_ok {
                    return Err(at(format!(
                        "{part}: operator '{}' on '{}' has a missing or wrong kind of value",
                        c.op, c.field
                    )));
                }
            }
        }
    }
    Ok(rules)
}

fn yaml_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn day(ms: Option<i64>) -> Value {
    ms.and_then(crate::dates::date_of_ms)
        .map(Value::Date)
        .unwrap_or(Value::Null)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

type Row = (String, BTreeMap<&'static str, Value>);

fn register_rows(spec: &RegisterSpec, records: &[Record]) -> Vec<Row> {
    records
        .iter()
        .map(|r| {
            (
                spec.key
                    .iter()
                    .map(|k| r.get(k).to_text())
                    .collect::<Vec<_>>()
                    .join(" "),
                r.values.clone(),
            )
        })
        .collect()
}

fn rows(kind: &str, ctx: &Ctx) -> Vec<Row> {
    let f = ctx.facts;
    match kind {
        "people" => register_rows(&registers::PEOPLE, &f.people),
        "training" => register_rows(&registers::TRAINING, &f.training),
        "background-checks" => register_rows(&registers::BACKGROUND_CHECKS, &f.background_checks),
        "vendors" => register_rows(&registers::VENDORS, &f.vendors),
        "assets" => register_rows(&registers::ASSETS, &f.assets),
        "events" => register_rows(&registers::EVENTS, &f.events),
        "risks" => register_rows(
            &registers::RISKS,
            &f.risks.iter().map(|r| r.record.clone()).collect::<Vec<_>>(),
        ),
        "accounts" => f
            .accounts
            .iter()
            .map(|a| {
                let m = BTreeMap::from([
                    ("system", text(&a.system)),
                    ("username", text(&a.username)),
                    ("email", a.email.as_deref().map(text).unwrap_or(Value::Null)),
                    ("human", Value::Bool(a.human)),
                    ("mfa", a.mfa.map(Value::Bool).unwrap_or(Value::Null)),
                    ("admin", Value::Bool(a.admin)),
                    ("root", Value::Bool(a.root)),
                    ("active", Value::Bool(a.active)),
                    ("created_at", day(a.created_at)),
                    ("last_activity", day(a.last_activity)),
                    ("disabled_at", day(a.disabled_at)),
                    (
                        "active_access_keys",
                        Value::Int(a.access_keys.iter().filter(|k| k.active).count() as i64),
                    ),
                ]);
                (format!("{}/{}", a.system, a.username), m)
            })
            .collect(),
        "findings" => f
            .findings
            .iter()
            .map(|x| {
                let end = x.fixed_at.unwrap_or(ctx.now_ms);
                let m = BTreeMap::from([
                    ("source", text(&x.finding.source)),
                    ("scope", text(&x.scope)),
                    ("external_id", text(&x.finding.external_id)),
                    ("resource", text(&x.finding.resource)),
                    ("title", text(&x.finding.title)),
                    ("severity", text(x.finding.severity.as_str())),
                    ("open", Value::Bool(x.fixed_at.is_none())),
                    ("first_seen", day(Some(x.first_seen))),
                    ("fixed_at", day(x.fixed_at)),
                    ("age_days", Value::Int((end - x.first_seen) / 86_400_000)),
                ]);
                (format!("{} on {}", x.finding.external_id, x.finding.resource), m)
            })
            .collect(),
        "changes" => f
            .changes
            .iter()
            .map(|c| {
                let m = BTreeMap::from([
                    ("repository", text(&c.repository)),
                    ("number", Value::Int(c.number)),
                    ("title", text(&c.title)),
                    ("author", text(&c.author)),
                    ("approvers", Value::List(c.approvers.clone())),
                    ("approvals", Value::Int(c.approvers.len() as i64)),
                    ("merged_at", day(Some(c.merged_at))),
                ]);
                (format!("{}#{}", c.repository, c.number), m)
            })
            .collect(),
        "repositories" => f
            .protections
            .iter()
            .map(|p| {
                let m = BTreeMap::from([
                    ("repository", text(&p.repository)),
                    ("branch", text(&p.branch)),
                    ("source", text(&p.source)),
                    ("required_approvals", Value::Int(p.required_approvals)),
                    ("enforce_admins", Value::Bool(p.enforce_admins)),
                    ("allows_force_pushes", Value::Bool(p.allows_force_pushes)),
                    ("status_checks", Value::List(p.status_checks.clone())),
                ]);
                (format!("{} {} ({})", p.repository, p.branch, p.source), m)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a condition holds; `None` means it failed, with the reason.
fn holds(c: &Condition, v: &Value, ctx: &Ctx) -> Result<(), String> {
    let shown = match v {
        Value::Null => "absent".to_string(),
        other => format!("'{}'", other.to_text()),
    };
    let want = c.value.as_ref().map(yaml_text).unwrap_or_default();
    let list = || -> Vec<String> {
        match &c.value {
            Some(serde_yaml::Value::Sequence(items)) => items.iter().map(|i| yaml_text(i).to_lowercase()).collect(),
            _ => Vec::new(),
        }
    };
    let num = c.value.as_ref().and_then(|v| v.as_i64()).unwrap_or(0);
    let lower = v.to_text().to_lowercase();
    let ok = match c.op.as_str() {
        "present" => !matches!(v, Value::Null) && !matches!(v, Value::List(l) if l.is_empty()),
        "absent" => matches!(v, Value::Null) || matches!(v, Value::List(l) if l.is_empty()),
        "is_true" => *v == Value::Bool(true),
        "is_false" => *v == Value::Bool(false),
        "eq" => lower == want.to_lowercase(),
        "ne" => lower != want.to_lowercase(),
        "in" => list().contains(&lower),
        "not_in" => !list().contains(&lower),
        "contains" | "not_contains" => {
            let has = match v {
                Value::List(items) => items.iter().any(|i| i.eq_ignore_ascii_case(&want)),
                other => other.to_text().to_lowercase().contains(&want.to_lowercase()),
            };
            has == (c.op == "contains")
        }
        "gt" | "gte" | "lt" | "lte" => match v.as_int() {
            Some(n) => match c.op.as_str() {
                "gt" => n > num,
                "gte" => n >= num,
                "lt" => n < num,
                _ => n <= num,
            },
            None => false,
        },
        "within_days" => v.as_date().is_some_and(|d| d >= ctx.today - Duration::days(num)),
        "older_than_days" => v.as_date().is_some_and(|d| d < ctx.today - Duration::days(num)),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expectation = match c.op.as_str() {
        "present" | "absent" => c.op.clone(),
        "is_true" => "true".into(),
        "is_false" => "false".into(),
        "in" | "not_in" => format!("{} [{}]", c.op.replace('_', " "), list().join(", ")),
        "within_days" => format!(
            "within {num} days (since {})",
            format_date(ctx.today - Duration::days(num))
        ),
        "older_than_days" => format!("older than {num} days"),
        op => format!("{} {want}", op.replace('_', " ")),
    };
    Err(format!("{} is {shown}, expected {expectation}", c.field))
}

impl Rule {
    pub fn evaluate(&self, ctx: &Ctx) -> Vec<Outcome> {
        rows(&self.reads, ctx)
            .into_iter()
            .filter(|(_, row)| {
                self.filter
                    .iter()
                    .all(|c| holds(c, row.get(c.field.as_str()).unwrap_or(&Value::Null), ctx).is_ok())
            })
            .map(|(label, row)| {
                let label = match &self.record {
                    Some(f) => row.get(f.as_str()).map(|v| v.to_text()).unwrap_or(label),
                    None => label,
                };
                let failures: Vec<String> = self
                    .assertions
                    .iter()
                    .filter_map(|c| holds(c, row.get(c.field.as_str()).unwrap_or(&Value::Null), ctx).err())
                    .collect();
                if failures.is_empty() {
                    Outcome::pass(label, "meets every assertion")
                } else {
                    Outcome::fail(label, failures.join("; "))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckStatus, Facts, run_rule};
    use time::macros::datetime;

    const RULE: &str = "
id: vendors-have-owner-and-data
title: Important vendors have an owner and known data
reads: vendors
controls: [VEN-01]
where:
  - {field: tier, op: in, value: [critical, high]}
assert:
  - {field: owner, op: present}
  - {field: data_categories, op: contains, value: customer data}
";

    fn vendor(name: &str, tier: &str, owner: Option<&str>, data: &[&str]) -> Record {
        Record {
            values: BTreeMap::from([
                ("name", text(name)),
                ("tier", text(tier)),
                ("owner", owner.map(text).unwrap_or(Value::Null)),
                (
                    "data_categories",
                    Value::List(data.iter().map(|s| s.to_string()).collect()),
                ),
            ]),
        }
    }

    #[test]
    fn a_rule_filters_and_asserts() {
        let rules = parse("checks/vendors.yaml", RULE, &["vendors-owned"], &["VEN-01".into()]).unwrap();
        let facts = Facts {
            vendors: vec![
                vendor("AWS", "critical", Some("sam@x.io"), &["customer data"]),
                vendor("Slack", "high", None, &["internal chat"]),
                vendor("Lunch Co", "low", None, &[]),
            ],
            ..Default::default()
        };
        let r = run_rule(&rules[0], &facts, &[], datetime!(2026-11-23 12:00 UTC));
        assert_eq!(
            (r.status, r.passed, r.failed),
            (CheckStatus::Fail, 1, 1),
            "the low-tier vendor is out of scope"
        );
        assert_eq!(r.failures[0].record, "Slack");
        assert_eq!(
            r.failures[0].reason,
            "owner is absent, expected present; data_categories is 'internal chat', expected contains customer data"
        );
    }

    #[test]
    fn bad_rules_are_refused_with_file_and_reason() {
        let cases = [
            (
                RULE.replace("field: owner", "field: ownr"),
                "assert: unknown field 'ownr' for vendors",
            ),
            (
                RULE.replace("op: present", "op: exists"),
                "assert: unknown operator 'exists'",
            ),
            (
                RULE.replace("reads: vendors", "reads: laptops"),
                "reads: unknown kind 'laptops'",
            ),
            (
                RULE.replace("op: in, value: [critical, high]", "op: in, value: critical"),
                "operator 'in' on 'tier' has a missing or wrong kind of value",
            ),
            (
                RULE.replace("[VEN-01]", "[VEN-99]"),
                "controls: unknown control 'VEN-99'",
            ),
            (
                RULE.replace("id: vendors-have-owner-and-data", "id: vendors-owned"),
                "taken by a built-in check",
            ),
            (RULE.replace("title:", "titel:"), "checks/x.yaml"),
        ];
        for (text, needle) in cases {
            let err = parse("checks/x.yaml", &text, &["vendors-owned"], &["VEN-01".into()]).unwrap_err();
            assert!(
                err.contains(needle) && err.starts_with("checks/x.yaml"),
                "{needle}: {err}"
            );
        }
    }
}
