//! Does the audit-log entry that recorded an item say what the manifest says? The entry's
//! payload is the record as `evident-store` logged it (`evidence.add` / `evidence.supersede`).

use serde_json::{Value, json};

use crate::manifest::FileEntry;

/// The actions that record a new evidence item (a correction is a new, superseding item).
pub(crate) const RECORDING_ACTIONS: [&str; 2] = ["evidence.add", "evidence.supersede"];

/// The audit subject of an item.
pub(crate) fn subject_of(evidence_id: &str) -> String {
    format!("evidence:{evidence_id}")
}

/// The first field where `payload` and the manifest's entry differ, as
/// `(field, recorded, manifest)`, both values as compact JSON.
pub(crate) fn first_difference(payload: &str, f: &FileEntry) -> Option<(&'static str, String, String)> {
    let recorded: Value = match serde_json::from_str(payload) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Some(("payload", payload.to_string(), "a JSON object".to_string())),
    };
    let mut links: Vec<_> = f.controls.iter().collect();
    links.sort_by(|a, b| a.control_id.cmp(&b.control_id));
    let links: Vec<Value> = links
        .iter()
        .map(|l| json!({"control_id": l.control_id, "requirement": l.requirement}))
        .collect();
    let expected: [(&'static str, Value); 15] = [
        ("id", json!(f.evidence_id)),
        ("sha256", json!(f.sha256)),
        ("size", json!(f.size)),
        ("title", json!(f.title)),
        ("file_name", json!(f.file_name)),
        ("media_type", json!(f.media_type)),
        ("source_kind", json!(f.source.kind)),
        ("source_ref", json!(f.source.reference)),
        ("captured_at", json!(f.captured_at_ms)),
        ("effective_date", json!(f.effective_date)),
        ("period_from", json!(f.period.as_ref().map(|p| &p.from))),
        ("period_to", json!(f.period.as_ref().map(|p| &p.to))),
        ("supersedes", json!(f.supersedes)),
        ("created_by", json!(f.created_by)),
        ("controls", Value::Array(links)),
    ];
    expected.into_iter().find_map(|(field, want)| {
        let got = recorded.get(field).unwrap_or(&Value::Null);
        (got != &want).then(|| (field, got.to_string(), want.to_string()))
    })
}
