//! The control matrix and the gap list as sheets: one shape for `evident report controls|gaps`
//! and the web's downloads.

use std::collections::HashMap;

use evident_core::Control;
use evident_core::evidence::EvidenceItem;
use evident_core::readiness::{GAP_HEADERS, Gap, Readiness};
use time::Date;

use crate::Sheet;

/// Every gap given, with the day each is due.
pub fn gaps_sheet<'a>(gaps: impl IntoIterator<Item = &'a Gap>, start: Option<Date>, today: Date) -> Sheet {
    gap_rows(gaps.into_iter().map(|g| g.cells(g.due(start, today))).collect())
}

/// Gap rows already cut to [`Gap::cells`], under the gap headers.
pub fn gap_rows(rows: Vec<Vec<String>>) -> Sheet {
    Sheet {
        name: "Gaps".into(),
        headers: GAP_HEADERS.map(String::from).to_vec(),
        rows,
        widths: vec![18.0, 10.0, 10.0, 60.0, 28.0, 60.0, 12.0],
    }
}

/// One row per control: its criteria, owner, how it operates, its status with the reasons,
/// and the current evidence with each item's date and hash.
pub fn controls_sheet(readiness: &Readiness, controls: &[&Control], evidence: &[EvidenceItem]) -> Sheet {
    let mut current: HashMap<&str, Vec<String>> = HashMap::new();
    for e in evidence.iter().filter(|e| e.is_current()) {
        let date = evident_core::format_date(e.attests_to());
        for l in &e.controls {
            current
                .entry(l.control.as_str())
                .or_default()
                .push(format!("{} {} ({date}) sha256:{}", e.id, e.title, e.sha256));
        }
    }
    let status: HashMap<&str, _> = readiness.controls.iter().map(|s| (s.control.as_str(), s)).collect();
    let rows = controls
        .iter()
        .map(|c| {
            let s = status.get(c.code.as_str());
            let reasons: Vec<&str> = s
                .map(|s| s.reasons.iter().map(|r| r.text.as_str()).collect())
                .unwrap_or_default();
            vec![
                c.code.clone(),
                c.title.clone(),
                c.criteria.join("; "),
                c.owner_email.clone().unwrap_or_default(),
                c.frequency.to_string().replace('_', " "),
                format!("{}, {}", c.nature.kind, c.nature.execution).replace('_', " "),
                s.map(|s| s.status.label()).unwrap_or_default(),
                reasons.join("; "),
                current.get(c.code.as_str()).map(|v| v.join("\n")).unwrap_or_default(),
            ]
        })
        .collect();
    Sheet {
        name: "Controls".into(),
        headers: [
            "Control",
            "Title",
            "Criteria",
            "Owner",
            "Frequency",
            "Nature",
            "Status",
            "Why",
            "Current evidence",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        widths: vec![10.0, 40.0, 16.0, 28.0, 12.0, 20.0, 12.0, 50.0, 80.0],
    }
}

/// One row per control given and current evidence item linked to it.
pub fn evidence_sheet(controls: &[&Control], evidence: &[EvidenceItem]) -> Sheet {
    let shown: std::collections::HashSet<&str> = controls.iter().map(|c| c.code.as_str()).collect();
    let mut rows = Vec::new();
    for e in evidence.iter().filter(|e| e.is_current()) {
        let date = evident_core::format_date(e.attests_to());
        for l in e.controls.iter().filter(|l| shown.contains(l.control.as_str())) {
            rows.push(vec![
                l.control.clone(),
                l.requirement.clone().unwrap_or_default(),
                e.id.clone(),
                e.title.clone(),
                date.clone(),
                e.sha256.clone(),
            ]);
        }
    }
    rows.sort();
    Sheet {
        name: "Evidence".into(),
        headers: ["Control", "Requirement", "Evidence", "Title", "Date", "SHA-256"]
            .map(String::from)
            .to_vec(),
        rows,
        widths: vec![10.0, 24.0, 28.0, 50.0, 12.0, 66.0],
    }
}

/// The workbook: the controls, then their current evidence.
pub fn control_matrix(readiness: &Readiness, controls: &[&Control], evidence: &[EvidenceItem]) -> [Sheet; 2] {
    [
        controls_sheet(readiness, controls, evidence),
        evidence_sheet(controls, evidence),
    ]
}
