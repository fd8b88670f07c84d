//! Fieldwork files: a firm's request list read in, the list written back with where each request
//! stands, and the testing workbook. The CLI, the web pages and the API all call these.

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use evident_core::fieldwork::{EngagementView, RequestView, SampleView};

use crate::{ReportError, Sheet, read_xlsx};

/// A request list as sent: a workbook when its name ends in `.xlsx` or its bytes are a zip,
/// CSV otherwise. Rows are returned as they are; the core check names bad rows and fields.
pub fn read_request_list(name: &str, mut input: impl Read + Seek) -> Result<Vec<Vec<String>>, ReportError> {
    let mut magic = [0u8; 4];
    let n = input.read(&mut magic)?;
    input.rewind()?;
    if name.to_ascii_lowercase().ends_with(".xlsx") || (n == 4 && magic == *b"PK\x03\x04") {
        return read_xlsx(input);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut rows = Vec::new();
    for (i, r) in reader.records().enumerate() {
        let r = r.map_err(|e| ReportError::Read(format!("row {}: {e}", i + 1)))?;
        rows.push(r.iter().map(|c| c.trim_start_matches('\u{feff}').to_string()).collect());
    }
    Ok(rows)
}

/// The request list as the firm sent it, with where each request stands and what answers it.
pub fn request_sheet(list: &[RequestView]) -> Sheet {
    let extra: std::collections::BTreeSet<&String> = list.iter().flat_map(|r| r.extra.keys()).collect();
    let mut headers: Vec<String> = [
        "reference",
        "request",
        "criteria",
        "controls",
        "due",
        "assignee",
        "status",
        "evidence",
        "thread",
        "id",
    ]
    .map(String::from)
    .to_vec();
    headers.extend(extra.iter().map(|k| k.to_string()));
    let rows = list
        .iter()
        .map(|r| {
            let mut row = vec![
                r.reference.clone(),
                r.body.clone(),
                r.criteria.join(" "),
                r.controls.join(" "),
                r.due.clone().unwrap_or_default(),
                r.assignee.clone().unwrap_or_default(),
                r.status.to_string(),
                r.evidence
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} ({}{})",
                            e.id,
                            e.title,
                            e.attests,
                            if e.in_period { "" } else { ", outside the audit period" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                r.thread
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {}{}: {}",
                            c.at,
                            c.author,
                            c.step.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
                            c.body
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                r.id.clone(),
            ];
            row.extend(extra.iter().map(|k| r.extra.get(*k).cloned().unwrap_or_default()));
            row
        })
        .collect();
    Sheet {
        name: "Requests".into(),
        headers,
        rows,
        widths: vec![10.0, 50.0, 12.0, 12.0, 12.0, 24.0, 10.0, 50.0, 50.0, 28.0],
    }
}

/// The testing workbook: a summary sheet, then one sheet per control tested listing every
/// sampled item with its population, round, result and who tested it.
pub fn testing_workbook(e: &EngagementView, samples: &[SampleView]) -> Vec<Sheet> {
    let mut summary = Sheet {
        name: "Engagement".into(),
        headers: [
            "control",
            "population",
            "population run",
            "items in population",
            "population SHA-256",
            "sample",
            "seed",
            "sample size",
            "tested",
            "exceptions",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        widths: vec![12.0, 22.0, 28.0, 12.0, 66.0, 28.0, 20.0, 10.0, 10.0, 10.0],
    };
    summary.rows.push(vec![format!(
        "{} · {} · {} report · period {}..{} · status {} · auditors {}",
        e.name,
        e.firm,
        e.report_type,
        e.period_start,
        e.period_end,
        e.status,
        e.auditors.join(", ")
    )]);
    let mut by_control: BTreeMap<&str, Vec<&SampleView>> = BTreeMap::new();
    for s in samples {
        by_control.entry(&s.control).or_default().push(s);
        summary.rows.push(vec![
            s.control.clone(),
            s.population.kind.clone(),
            s.population.id.clone(),
            s.population.count.to_string(),
            s.population.sha256.clone(),
            s.id.clone(),
            s.seed.clone(),
            s.items.len().to_string(),
            s.items.iter().filter(|i| i.result.is_some()).count().to_string(),
            s.exceptions.to_string(),
        ]);
    }
    let mut sheets = vec![summary];
    for (control, samples) in by_control {
        let mut sheet = Sheet {
            // Sheet names: at most 31 characters; control codes are short and unique.
            name: control.chars().take(31).collect(),
            headers: [
                "sample",
                "population",
                "population SHA-256",
                "seed",
                "item",
                "date",
                "round",
                "key",
                "result",
                "note",
                "tested by",
                "tested at",
            ]
            .map(String::from)
            .to_vec(),
            rows: Vec::new(),
            widths: vec![28.0, 22.0, 66.0, 16.0, 28.0, 12.0, 8.0, 66.0, 14.0, 40.0, 26.0, 22.0],
        };
        for s in samples {
            for it in &s.items {
                sheet.rows.push(vec![
                    s.id.clone(),
                    format!(
                        "{} {} ({} items)",
                        s.population.kind, s.population.id, s.population.count
                    ),
                    s.population.sha256.clone(),
                    s.seed.clone(),
                    it.item.clone(),
                    it.date.clone(),
                    it.round.to_string(),
                    it.key.clone(),
                    it.result.map(|r| r.to_string()).unwrap_or_else(|| "untested".into()),
                    it.note.clone().unwrap_or_default(),
                    it.tested_by.clone().unwrap_or_default(),
                    it.tested_at.clone().unwrap_or_default(),
                ]);
            }
        }
        sheets.push(sheet);
    }
    sheets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_read_as_csv_or_as_a_workbook_by_its_bytes() {
        let csv = "\u{feff}PBC #,Request\n1,\"Access list, all systems\"\n";
        let rows = read_request_list("list.csv", std::io::Cursor::new(csv.as_bytes())).unwrap();
        assert_eq!(
            rows,
            vec![vec!["PBC #", "Request"], vec!["1", "Access list, all systems"]]
        );
        let sheet = Sheet {
            name: "IRL".into(),
            headers: vec!["PBC #".into(), "Request".into()],
            rows: vec![vec!["7".into(), "Change tickets".into()]],
            widths: vec![],
        };
        let mut book = Vec::new();
        crate::write_xlsx(&[sheet], &mut book).unwrap();
        // A workbook saved without its extension is still read as one.
        let rows = read_request_list("upload", std::io::Cursor::new(book)).unwrap();
        assert_eq!(rows[1], vec!["7", "Change tickets"]);
        let err = read_request_list("list.xlsx", std::io::Cursor::new(b"not a zip".to_vec())).unwrap_err();
        assert!(err.to_string().contains("not a workbook"), "{err}");
    }
}
