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

/// One request as typed or as its row reads, before it is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawRequest<'a> {
    pub reference: &'a str,
    pub body: &'a str,
    /// Criterion ids separated by commas, semicolons, slashes or spaces.
    pub criteria: &'a str,
    /// Control codes, separated the same way.
    pub controls: &'a str,
    /// `YYYY-MM-DD` or a spreadsheet's day number; empty for none.
    pub due: &'a str,
    /// A user's email; empty for nobody.
    pub assignee: &'a str,
}

/// Checks one request against what it may refer to: the request it makes (extra columns
/// empty) and every field refused, with why. The one rule for a list's rows and a request
/// typed in by hand.
pub fn check_request(raw: &RawRequest, known: &Known) -> (RequestDraft, Vec<(&'static str, String)>) {
    let mut refused = Vec::new();
    let find = |set: &BTreeSet<String>, wanted: &str| set.iter().find(|k| k.eq_ignore_ascii_case(wanted)).cloned();
    let mut criteria = Vec::new();
    for c in split_list(raw.criteria) {
        match find(&known.criteria, c) {
            Some(k) => criteria.push(k),
            None => refused.push(("criteria", format!("'{c}' is not a criterion of the framework"))),
        }
    }
    let mut controls = Vec::new();
    for c in split_list(raw.controls) {
        match find(&known.controls, c) {
            Some(k) => controls.push(k),
            None => refused.push(("controls", format!("'{c}' is not an adopted control"))),
        }
    }
    let due = match raw.due.trim() {
        "" => None,
        d => match parse_due(d) {
            Ok(day) => Some(format_date(day)),
            Err(e) => {
                refused.push(("due", e));
                None
            }
        },
    };
    let assignee = match raw.assignee.trim() {
        "" => None,
        a if known.users.contains(&a.to_lowercase()) => Some(a.to_lowercase()),
        a => {
            refused.push(("assignee", format!("'{a}' is not a user of this instance")));
            None
        }
    };
    let reference = raw.reference.trim();
    if let Err(e) = crate::text::storable(reference) {
        refused.push(("reference", e.to_string()));
    } else if reference.is_empty() {
        refused.push(("reference", "empty".into()));
    } else if reference.chars().count() > REFERENCE_MAX {
        refused.push(("reference", format!("longer than {REFERENCE_MAX} characters")));
    }
    let body = raw.body.trim();
    if let Err(e) = crate::text::storable(body) {
        refused.push(("request", e.to_string()));
    } else if body.is_empty() {
        refused.push(("request", "empty".into()));
    } else if body.chars().count() > BODY_MAX {
        refused.push(("request", format!("longer than {BODY_MAX} characters")));
    }
    criteria.dedup();
    controls.dedup();
    let draft = RequestDraft {
        reference: reference.to_string(),
        body: body.to_string(),
        criteria,
        controls,
        due,
        assignee,
        extra: BTreeMap::new(),
    };
    (draft, refused)
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
    let mut out = Vec::new();
    let mut refs = BTreeMap::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        let n = i + 1;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut raw = RawRequest::default();
        let mut extra = BTreeMap::new();
        for (j, cell) in row.iter().enumerate() {
            let value = cell.trim();
            if let Err(e) = crate::text::storable(value) {
                errors.push(err(n, header.get(j).map_or("?", |h| h.as_str()), e.to_string()));
                continue;
            }
            match cols.get(j).copied().flatten() {
                Some(Column::Reference) => raw.reference = value,
                Some(Column::Body) => raw.body = value,
                Some(Column::Criteria) => raw.criteria = value,
                Some(Column::Controls) => raw.controls = value,
                Some(Column::Due) => raw.due = value,
                Some(Column::Assignee) => raw.assignee = value,
                None if !value.is_empty() => {
                    let name = header
                        .get(j)
                        .map_or_else(|| format!("column {}", j + 1), |h| h.trim().to_string());
                    extra.insert(name, value.to_string());
                }
                None => {}
            }
        }
        let (mut d, mut refused) = check_request(&raw, known);
        if !d.reference.is_empty()
            && d.reference.chars().count() <= REFERENCE_MAX
            && let Some(first) = refs.insert(d.reference.to_lowercase(), n)
        {
            // Named with the reference's other faults, before the request text's.
            let at = refused
                .iter()
                .position(|(f, _)| *f == "request")
                .unwrap_or(refused.len());
            refused.insert(at, ("reference", format!("'{}' is also on row {first}", d.reference)));
        }
        errors.extend(refused.into_iter().map(|(field, reason)| err(n, field, reason)));
        d.extra = extra;
        out.push(d);
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}
