//! The auditor's request list (PBC / IRL / DRL): reading a firm's list, and the steps a request
//! moves through.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::Date;

use super::FieldworkError;
use crate::{format_date, parse_date};

evident_catalog::string_enum! {
    /// Where a request stands.
    pub enum RequestStatus: "request status" {
        Open = "open",
        Submitted = "submitted",
        Accepted = "accepted",
        Returned = "returned",
    }
}

evident_catalog::string_enum! {
    /// A step on a request: the team submits what it linked; the auditor accepts it, or
    /// returns it saying what is missing.
    pub enum RequestStep: "request step" {
        Submit = "submit",
        Accept = "accept",
        Return = "return",
    }
}

impl RequestStep {
    /// Whether the auditor takes this step (accept, return) or the team (submit).
    pub fn by_auditor(self) -> bool {
        matches!(self, RequestStep::Accept | RequestStep::Return)
    }
}

/// The status a step leads to, or why it cannot be taken from here.
pub fn next_status(
    from: RequestStatus,
    step: RequestStep,
    comment: &str,
    evidence: usize,
) -> Result<RequestStatus, FieldworkError> {
    use RequestStatus::*;
    let refuse = |reason: String| FieldworkError::new("step", reason);
    match (step, from) {
        (RequestStep::Submit, Open | Returned) if evidence == 0 && comment.trim().is_empty() => Err(refuse(
            "submit needs evidence linked to the request or a comment saying why there is none".into(),
        )),
        (RequestStep::Submit, Open | Returned) => Ok(Submitted),
        (RequestStep::Accept, Submitted) => Ok(Accepted),
        (RequestStep::Return, Submitted | Accepted) if comment.trim().is_empty() => {
            Err(refuse("return needs a comment telling the team what is missing".into()))
        }
        (RequestStep::Return, Submitted | Accepted) => Ok(Returned),
        (step, from) => Err(refuse(format!("a request that is {from} cannot be {}", past(step)))),
    }
}

fn past(step: RequestStep) -> &'static str {
    match step {
        RequestStep::Submit => "submitted",
        RequestStep::Accept => "accepted",
        RequestStep::Return => "returned",
    }
}

/// One request as read from a list or typed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestDraft {
    pub reference: String,
    pub body: String,
    pub criteria: Vec<String>,
    pub controls: Vec<String>,
    pub due: Option<String>,
    pub assignee: Option<String>,
    /// Columns Evident does not know, kept as the firm wrote them.
    pub extra: BTreeMap<String, String>,
}

/// What a list may refer to.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Criterion ids as the framework spells them (`CC6.1`).
    pub criteria: BTreeSet<String>,
    /// Adopted control codes.
    pub controls: BTreeSet<String>,
    /// Users who may own a request (lower-case emails).
    pub users: BTreeSet<String>,
}

/// A row that cannot be stored, named by its line in the file (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub reason: String,
}

pub const REFERENCE_MAX: usize = 64;
pub const BODY_MAX: usize = 10_000;
/// More than this is not a request list.
pub const ROWS_MAX: usize = 5_000;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Reference,
    Body,
    Criteria,
    Controls,
    Due,
    Assignee,
}

fn column(header: &str) -> Option<Column> {
    let h: String = header
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '#' { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(match h.as_str() {
        "reference" | "ref" | "#" | "no" | "number" | "request id" | "request ref" | "request #" | "pbc #"
        | "pbc ref" | "item" | "item #" => Column::Reference,
        "request" | "description" | "request text" | "details" | "item description" | "request description" => {
            Column::Body
        }
        "criteria" | "criterion" | "tsc" | "criteria references" | "criteria reference" | "tsc reference" => {
            Column::Criteria
        }
        "controls" | "control" | "control references" | "control reference" | "control id" | "control ids" => {
            Column::Controls
        }
        "due" | "due date" | "date due" | "due by" => Column::Due,
        "assignee" | "owner" | "assigned to" | "responsible" => Column::Assignee,
        _ => return None,
    })
}

/// A due date as people and spreadsheets write it: `YYYY-MM-DD`, or a spreadsheet's day number.
pub fn parse_due(s: &str) -> Result<Date, String> {
    let t = s.trim();
    if let Ok(serial) = t.parse::<f64>()
        && (20_000.0..80_000.0).contains(&serial)
    {
        // Spreadsheet day numbers count from 1899-12-30.
        let base = time::macros::date!(1899 - 12 - 30);
        return Ok(base + time::Duration::days(serial.trunc() as i64));
    }
    parse_date(t).map_err(|e| e.to_string())
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ';', '\n', '/', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Reads a request list: the first row names the columns (a reference and the request text are
/// required, other known columns optional, unknown ones kept). Every bad row is reported; a list
/// with any bad row gives no requests.
pub fn read_list(rows: &[Vec<String>], known: &Known) -> Result<Vec<RequestDraft>, Vec<RowError>> {
    let err = |row: usize, field: &str, reason: String| RowError {
        row,
        field: field.to_string(),
        reason,
    };
    let Some(header) = rows.first() else {
        return Err(vec![err(1, "header", "the list is empty".into())]);
    };
    let mut cols: Vec<Option<Column>> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut errors = Vec::new();
    for h in header {
        let c = column(h);
        if let Some(c) = c
            && !seen.insert(c)
        {
            errors.push(err(1, h, "names a column a previous header already named".into()));
        }
        cols.push(c);
    }
    for (need, name) in [(Column::Reference, "reference"), (Column::Body, "request")] {
        if !seen.contains(&need) {
            errors.push(err(
                1,
                name,
                format!("no '{name}' column; the header row is: {}", header.join(", ")),
            ));
        }
    }
    if rows.len() - 1 > ROWS_MAX {
        errors.push(err(
            1,
            "rows",
            format!("{} rows; a request list holds at most {ROWS_MAX}", rows.len() - 1),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let criteria_by_lower: BTreeMap<String, &String> = known.criteria.iter().map(|c| (c.to_lowercase(), c)).collect();
    let controls_by_lower: BTreeMap<String, &String> = known.controls.iter().map(|c| (c.to_lowercase(), c)).collect();
    let mut out = Vec::new();
    let mut refs = BTreeMap::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        let n = i + 1;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut d = RequestDraft {
            reference: String::new(),
            body: String::new(),
            criteria: Vec::new(),
            controls: Vec::new(),
            due: None,
            assignee: None,
            extra: BTreeMap::new(),
        };
        for (j, cell) in row.iter().enumerate() {
            let value = cell.trim();
            if let Err(e) = crate::text::storable(value) {
                errors.push(err(n, header.get(j).map_or("?", |h| h.as_str()), e.to_string()));
                continue;
            }
            match cols.get(j).copied().flatten() {
                Some(Column::Reference) => d.reference = value.to_string(),
                Some(Column::Body) => d.body = value.to_string(),
                Some(Column::Criteria) => {
                    for c in split_list(value) {
                        match criteria_by_lower.get(&c.to_lowercase()) {
                            Some(k) => d.criteria.push((*k).clone()),
                            None => {
                                errors.push(err(n, "criteria", format!("'{c}' is not a criterion of the framework")))
                            }
                        }
                    }
                }
                Some(Column::Controls) => {
                    for c in split_list(value) {
                        match controls_by_lower.get(&c.to_lowercase()) {
                            Some(k) => d.controls.push((*k).clone()),
                            None => errors.push(err(n, "controls", format!("'{c}' is not an adopted control"))),
                        }
                    }
                }
                Some(Column::Due) if !value.is_empty() => match parse_due(value) {
                    Ok(day) => d.due = Some(format_date(day)),
                    Err(e) => errors.push(err(n, "due", e)),
                },
                Some(Column::Due) => {}
                Some(Column::Assignee) if !value.is_empty() => {
                    let email = value.to_lowercase();
                    if known.users.contains(&email) {
                        d.assignee = Some(email);
                    } else {
                        errors.push(err(n, "assignee", format!("'{value}' is not a user of this instance")));
                    }
                }
                Some(Column::Assignee) => {}
                None if !value.is_empty() => {
                    let name = header
                        .get(j)
                        .map_or_else(|| format!("column {}", j + 1), |h| h.trim().to_string());
                    d.extra.insert(name, value.to_string());
                }
                None => {}
            }
        }
        if d.reference.is_empty() {
            errors.push(err(n, "reference", "empty".into()));
        } else if d.reference.chars().count() > REFERENCE_MAX {
            errors.push(err(n, "reference", format!("longer than {REFERENCE_MAX} characters")));
        } else if let Some(first) = refs.insert(d.reference.to_lowercase(), n) {
            errors.push(err(n, "reference", format!("'{}' is also on row {first}", d.reference)));
        }
        if d.body.is_empty() {
            errors.push(err(n, "request", "empty".into()));
        } else if d.body.chars().count() > BODY_MAX {
            errors.push(err(n, "request", format!("longer than {BODY_MAX} characters")));
        }
        d.criteria.dedup();
        d.controls.dedup();
        out.push(d);
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}
