//! Reads the first sheet of a workbook (XLSX) into rows of text, as a CSV would give them:
//! shared and inline strings as written, numbers as their shortest text (a date cell is the
//! spreadsheet's day number; the caller reads it as a date where it expects one).

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use crate::ReportError;

/// Workbooks larger than this when unpacked are refused (a request list is a few hundred rows).
const MAX_PART: u64 = 64 * 1024 * 1024;
const MAX_ROWS: usize = 100_000;
const MAX_COLS: usize = 200;

fn bad(reason: impl Into<String>) -> ReportError {
    ReportError::Read(reason.into())
}

fn part(zip: &mut zip::ZipArchive<impl Read + Seek>, name: &str) -> Result<Option<String>, ReportError> {
    let mut f = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(bad(format!("{name}: {e}"))),
    };
    if f.size() > MAX_PART {
        return Err(bad(format!("{name} unpacks to {} bytes; at most {MAX_PART}", f.size())));
    }
    let mut s = String::new();
    f.by_ref()
        .take(MAX_PART + 1)
        .read_to_string(&mut s)
        .map_err(|e| bad(format!("{name}: {e}")))?;
    if s.len() as u64 > MAX_PART {
        return Err(bad(format!("{name} unpacks to more than {MAX_PART} bytes")));
    }
    Ok(Some(s))
}

fn text_of(node: roxmltree::Node) -> String {
    node.descendants()
        .filter(|n| n.has_tag_name("t"))
        .filter_map(|n| n.text())
        .collect()
}

/// Column index of a cell reference (`C7` → 2).
fn column(reference: &str) -> Option<usize> {
    let letters: String = reference.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    Some(
        letters.chars().fold(0usize, |n, c| {
            n * 26 + (c.to_ascii_uppercase() as usize - 'A' as usize + 1)
        }) - 1,
    )
}

/// The first worksheet's rows; empty trailing cells dropped.
pub fn read_xlsx(input: impl Read + Seek) -> Result<Vec<Vec<String>>, ReportError> {
    let mut zip = zip::ZipArchive::new(input).map_err(|e| bad(format!("not a workbook: {e}")))?;
    let shared: Vec<String> = match part(&mut zip, "xl/sharedStrings.xml")? {
        Some(xml) => {
            let doc = roxmltree::Document::parse(&xml).map_err(|e| bad(format!("shared strings: {e}")))?;
            doc.root_element()
                .children()
                .filter(|n| n.has_tag_name("si"))
                .map(text_of)
                .collect()
        }
        None => Vec::new(),
    };
    let sheet = first_sheet(&mut zip)?;
    let xml = part(&mut zip, &sheet)?.ok_or_else(|| bad(format!("the workbook has no {sheet}")))?;
    let doc = roxmltree::Document::parse(&xml).map_err(|e| bad(format!("{sheet}: {e}")))?;
    let mut rows: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut next_row = 1;
    for row in doc.descendants().filter(|n| n.has_tag_name("row")) {
        let r: usize = row.attribute("r").and_then(|v| v.parse().ok()).unwrap_or(next_row);
        next_row = r + 1;
        if r > MAX_ROWS {
            return Err(bad(format!("more than {MAX_ROWS} rows")));
        }
        let mut cells: Vec<String> = Vec::new();
        for (i, c) in row.children().filter(|n| n.has_tag_name("c")).enumerate() {
            let col = c.attribute("r").and_then(column).unwrap_or(i);
            if col >= MAX_COLS {
                return Err(bad(format!("row {r}: more than {MAX_COLS} columns")));
            }
            let value = c
                .children()
                .find(|n| n.has_tag_name("v"))
                .and_then(|v| v.text())
                .unwrap_or("");
            let text = match c.attribute("t") {
                Some("s") => {
                    let i: usize = value
                        .trim()
                        .parse()
                        .map_err(|_| bad(format!("row {r}: bad shared string")))?;
                    shared
                        .get(i)
                        .cloned()
                        .ok_or_else(|| bad(format!("row {r}: shared string {i} is missing")))?
                }
                Some("inlineStr") => text_of(c),
                Some("b") => if value == "1" { "TRUE" } else { "FALSE" }.to_string(),
                _ => value.to_string(),
            };
            if cells.len() <= col {
                cells.resize(col + 1, String::new());
            }
            cells[col] = text;
        }
        while cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        rows.insert(r, cells);
    }
    let last = rows.keys().next_back().copied().unwrap_or(0);
    Ok((1..=last).map(|r| rows.remove(&r).unwrap_or_default()).collect())
}

/// The path of the first sheet, from the workbook's relationships.
fn first_sheet(zip: &mut zip::ZipArchive<impl Read + Seek>) -> Result<String, ReportError> {
    let fallback = "xl/worksheets/sheet1.xml".to_string();
    let (Some(book), Some(rels)) = (part(zip, "xl/workbook.xml")?, part(zip, "xl/_rels/workbook.xml.rels")?) else {
        return Ok(fallback);
    };
    let book = roxmltree::Document::parse(&book).map_err(|e| bad(format!("workbook: {e}")))?;
    let Some(rid) = book
        .descendants()
        .find(|n| n.has_tag_name("sheet"))
        .and_then(|n| {
            n.attributes()
                .find(|a| a.name() == "id" && a.namespace().is_some_and(|ns| ns.contains("relationships")))
        })
        .map(|a| a.value().to_string())
    else {
        return Ok(fallback);
    };
    let rels = roxmltree::Document::parse(&rels).map_err(|e| bad(format!("workbook relationships: {e}")))?;
    let target = rels
        .descendants()
        .find(|n| n.has_tag_name("Relationship") && n.attribute("Id") == Some(rid.as_str()))
        .and_then(|n| n.attribute("Target"))
        .map(|t| t.trim_start_matches('/').to_string());
    Ok(match target {
        Some(t) if t.starts_with("xl/") => t,
        Some(t) => format!("xl/{t}"),
        None => fallback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sheet, write_xlsx};

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let sheet = Sheet {
            name: "Requests".into(),
            headers: vec!["Ref".into(), "Request".into(), "Due".into()],
            rows: vec![
                vec!["1.01".into(), "Leavers, with dates".into(), "2026-12-15".into()],
                vec!["1.02".into(), "Change tickets".into(), "".into()],
            ],
            widths: Vec::new(),
        };
        let mut buf = std::io::Cursor::new(Vec::new());
        write_xlsx(std::slice::from_ref(&sheet), &mut buf).unwrap();
        buf.set_position(0);
        let rows = read_xlsx(buf).unwrap();
        assert_eq!(rows[0], ["Ref", "Request", "Due"]);
        assert_eq!(rows[1], ["1.01", "Leavers, with dates", "2026-12-15"]);
        assert_eq!(rows[2], ["1.02", "Change tickets"]);
        assert!(read_xlsx(std::io::Cursor::new(b"not a zip".to_vec())).is_err());
    }

    #[test]
    fn columns_are_read_from_cell_references() {
        assert_eq!(column("A1"), Some(0));
        assert_eq!(column("Z9"), Some(25));
        assert_eq!(column("AA10"), Some(26));
        assert_eq!(column("7"), None);
    }
}
