//! Which audit-log entries are significant changes to the system (DC 200 point 9), in words.

use serde_json::Value;

use super::ChangeLine;

/// Actions that may be significant changes, as `LIKE` prefixes: the store reads only these
/// from the log, and [`significant_change`] words them.
pub const SIGNIFICANT_PREFIXES: &[&str] = &[
    "scope.set",
    "scope.component.",
    "controls.adopt",
    "control.not_applicable.",
    "policies.publish",
    "policies.adopt",
    "assets.",
    "vendors.",
];

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The subject's id after its `kind:` prefix.
fn subject_id(subject: &str) -> &str {
    subject.split_once(':').map(|(_, id)| id).unwrap_or(subject)
}

/// Names of the records in a register write's `created`/`updated` list.
fn names(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .map(|r| {
                    r.get("name")
                        .or_else(|| r.get("id"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| r.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn some(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut out = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}

/// The change in words, or `None` when the entry is not a significant change.
pub fn significant_change(c: &ChangeLine) -> Option<String> {
    let p = &c.payload;
    let action = c.action.as_str();
    Some(match action {
        "scope.set" => {
            let categories: Vec<&str> = p
                .get("categories")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let period = match (
                p.get("window_from").and_then(Value::as_str),
                p.get("window_to").and_then(Value::as_str),
            ) {
                (Some(f), Some(t)) => format!("period {f} to {t}"),
                _ => format!("as of {}", text(p, "as_of")),
            };
            format!(
                "audit scope set to Type {}, {}, categories {}",
                p.get("type").and_then(Value::as_i64).unwrap_or_default(),
                period,
                categories.join(", ")
            )
        }
        "scope.component.add" => format!(
            "{} component '{}' added to the system{}",
            text(p, "kind"),
            text(p, "name"),
            if p.get("in_scope").and_then(Value::as_bool) == Some(false) {
                " as outside its boundary"
            } else {
                ""
            }
        ),
        "scope.component.remove" => {
            format!(
                "{} component '{}' removed from the system",
                text(p, "kind"),
                text(p, "name")
            )
        }
        "controls.adopt" => {
            let n = p.get("controls").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
            format!("{n} controls adopted into the program")
        }
        "control.not_applicable.set" => format!(
            "control {} ruled not applicable{}",
            subject_id(&c.subject),
            match text(p, "na_reason") {
                "" => String::new(),
                r => format!(": {r}"),
            }
        ),
        "control.not_applicable.clear" => format!("control {} applies again", subject_id(&c.subject)),
        "policies.publish" => format!(
            "policy {} version {} published",
            subject_id(&c.subject),
            p.get("version").and_then(Value::as_i64).unwrap_or_default()
        ),
        "policies.adopt" => {
            let n = p.get("adopted").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
            format!("{n} policies adopted")
        }
        a if a.starts_with("assets.") || a.starts_with("vendors.") => {
            let register = if a.starts_with("assets.") { "asset" } else { "vendor" };
            let (created, updated) = (names(p, "created"), names(p, "updated"));
            let mut said = Vec::new();
            if !created.is_empty() {
                said.push(format!("{} added ({})", created.len(), some(&created)));
            }
            if !updated.is_empty() {
                said.push(format!("{} changed ({})", updated.len(), some(&updated)));
            }
            if said.is_empty() {
                return None;
            }
            format!("{register} register: {}", said.join("; "))
        }
        _ => return None,
    })
}
