//! The remediation plan: one task per gap, in the tasks register. One rule for the CLI's
//! `readiness --plan` and the web's "Create the remediation plan".

use std::collections::BTreeMap;

use time::Date;

use crate::readiness::Gap;
use crate::register::{Record, Value};

/// The task id a gap is planned under: stable while the gap stands, so planning again
/// updates the same task instead of adding one.
pub fn task_id(gap: &Gap) -> String {
    let anchor = gap.control.as_deref().or(gap.criterion.as_deref()).unwrap_or_default();
    format!("GAP-{anchor}-{}-{}", gap.severity.as_str(), gap.subject)
        .to_uppercase()
        .replace(['_', ' '], "-")
}

/// The tasks for `gaps`, given the tasks already kept (by lower-case key). A person's
/// progress on a task (its status, its owner) is theirs to keep; the title, due date and
/// reason follow the gap as it stands today.
pub fn plan(gaps: &[Gap], existing: &BTreeMap<String, Record>, start: Option<Date>, today: Date) -> Vec<Record> {
    gaps.iter()
        .map(|g| {
            let id = task_id(g);
            let kept = existing.get(&id.to_lowercase());
            let status = kept
                .map(|k| k.get("status").clone())
                .unwrap_or_else(|| Value::Text("open".into()));
            let owner = kept
                .and_then(|k| k.get("owner").as_str().map(|o| Value::Text(o.into())))
                .or_else(|| g.owner.clone().map(Value::Text))
                .unwrap_or(Value::Null);
            let values = [
                ("id", Value::Text(id)),
                ("title", Value::Text(g.fix.clone())),
                ("owner", owner),
                ("due_date", Value::Date(g.due(start, today))),
                ("status", status),
                ("control", g.control.clone().map(Value::Text).unwrap_or(Value::Null)),
                ("gap", Value::Text(g.reason.clone())),
            ];
            Record {
                values: values.into_iter().collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Fix;
    use crate::readiness::Severity;

    fn gap(owner: Option<&str>) -> Gap {
        Gap {
            severity: Severity::MissingEvidence,
            control: Some("ACC-08".into()),
            criterion: Some("CC6.2".into()),
            reason: "no access review for this quarter".into(),
            owner: owner.map(String::from),
            fix: "Upload this quarter's access review for ACC-08".into(),
            action: Fix::AddEvidence {
                control: "ACC-08".into(),
                requirement: "access_review".into(),
                title: "Quarterly access review".into(),
            },
            subject: "access_review".into(),
        }
    }

    fn day(d: &str) -> Date {
        crate::parse_date(d).unwrap()
    }

    #[test]
    fn a_new_gap_becomes_an_open_task_titled_in_words() {
        let tasks = plan(&[gap(Some("a@x.example"))], &BTreeMap::new(), None, day("2026-12-01"));
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!(t.get("id").as_str(), Some("GAP-ACC-08-MISSING-EVIDENCE-ACCESS-REVIEW"));
        assert_eq!(
            t.get("title").as_str(),
            Some("Upload this quarter's access review for ACC-08")
        );
        assert_eq!(t.get("status").as_str(), Some("open"));
        assert_eq!(t.get("owner").as_str(), Some("a@x.example"));
        assert_eq!(t.get("control").as_str(), Some("ACC-08"));
    }

    #[test]
    fn planning_again_keeps_what_a_person_changed() {
        let g = gap(Some("a@x.example"));
        let mut kept = plan(std::slice::from_ref(&g), &BTreeMap::new(), None, day("2026-12-01")).remove(0);
        kept.values.insert("status", Value::Text("in_progress".into()));
        kept.values.insert("owner", Value::Text("b@x.example".into()));
        let existing = BTreeMap::from([(task_id(&g).to_lowercase(), kept)]);
        let again = plan(&[g], &existing, None, day("2026-12-02")).remove(0);
        assert_eq!(again.get("status").as_str(), Some("in_progress"));
        assert_eq!(again.get("owner").as_str(), Some("b@x.example"));
    }

    #[test]
    fn an_unowned_gap_stays_unowned() {
        let t = plan(&[gap(None)], &BTreeMap::new(), None, day("2026-12-01")).remove(0);
        assert_eq!(t.get("owner"), &Value::Null);
    }
}
