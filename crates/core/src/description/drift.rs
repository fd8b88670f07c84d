//! Drift: what the records say today that the approved description does not, statement by
//! statement.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Description, Source, Statement};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Said today, not in the approved description.
    Added,
    /// In the approved description, no longer true.
    Removed,
    /// Said of the same record, differently.
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Drift {
    pub part: String,
    pub part_title: String,
    pub key: String,
    pub kind: DriftKind,
    pub approved: Option<String>,
    pub today: Option<String>,
    pub sources: Vec<Source>,
}

fn index(d: &Description) -> BTreeMap<(&str, &str), (&str, &Statement)> {
    d.parts
        .iter()
        .flat_map(|p| {
            p.statements
                .iter()
                .map(move |s| ((p.key.as_str(), s.key.as_str()), (p.title.as_str(), s)))
        })
        .collect()
}

/// Every statement added, removed or reworded between `approved` and `today`, in the order of
/// the description's parts.
pub fn drift(approved: &Description, today: &Description) -> Vec<Drift> {
    let (before, after) = (index(approved), index(today));
    let mut out = Vec::new();
    if approved.report != today.report {
        out.push(Drift {
            part: "report".into(),
            part_title: "Report".into(),
            key: "report".into(),
            kind: DriftKind::Changed,
            approved: approved.report.clone(),
            today: today.report.clone(),
            sources: vec![Source::new(super::SourceKind::Scope, "scope", "Audit scope")],
        });
    }
    let order: Vec<&str> = today.parts.iter().map(|p| p.key.as_str()).collect();
    let position = |part: &str| order.iter().position(|k| *k == part).unwrap_or(usize::MAX);
    let mut keys: Vec<&(&str, &str)> = before.keys().chain(after.keys()).collect();
    keys.sort_by_key(|(part, key)| (position(part), *part, *key));
    keys.dedup();
    for k in keys {
        let (title, kind, was, now, sources) = match (before.get(k), after.get(k)) {
            (Some((t, a)), None) => (t, DriftKind::Removed, Some(a), None, &a.sources),
            (None, Some((t, b))) => (t, DriftKind::Added, None, Some(b), &b.sources),
            (Some((_, a)), Some((t, b))) if a.text != b.text || a.kind != b.kind => {
                (t, DriftKind::Changed, Some(a), Some(b), &b.sources)
            }
            _ => continue,
        };
        out.push(Drift {
            part: k.0.to_string(),
            part_title: title.to_string(),
            key: k.1.to_string(),
            kind,
            approved: was.map(|s| s.text.clone()),
            today: now.map(|s| s.text.clone()),
            sources: sources.clone(),
        });
    }
    out
}
