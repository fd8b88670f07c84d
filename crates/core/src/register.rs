//! Registers: the records a program keeps (people, risks, vendors, assets, events, tasks…),
//! each described as data. Validation is pure: it takes the raw text of rows plus what is
//! already known (people, controls, evidence) and returns typed records or every problem.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::Date;

use crate::dates::{format_date, parse_date};
use crate::parse_email;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Email,
    /// YYYY-MM-DD; `past` refuses dates after today.
    Date {
        past: bool,
    },
    Int {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    Bool,
    /// `;`-separated free text items.
    List,
    /// `;`-separated control codes that must exist.
    Controls,
    /// One control code that must exist.
    Control,
    /// A person's email that must be in the people register (or in the same import).
    Person,
    /// `;`-separated evidence item ids that must exist.
    Evidence,
}

#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub help: &'static str,
}

/// A rule across fields of one record: returns (field, reason) for each problem.
pub type RecordRule = fn(&Record) -> Vec<(&'static str, String)>;

#[derive(Debug, Clone, Copy)]
pub struct RegisterSpec {
    /// CLI and file name: `people`, `background-checks`.
    pub name: &'static str,
    /// Table name.
    pub table: &'static str,
    /// One record, for messages: "person", "vendor".
    pub noun: &'static str,
    pub fields: &'static [FieldSpec],
    /// Fields whose values together identify a record across imports.
    pub key: &'static [&'static str],
    pub rules: &'static [RecordRule],
    /// The columns a listing shows, in order: what a reader scans the register for.
    pub list: &'static [ListColumn],
}

/// A column of a register's listing: a field, or a figure derived from fields.
#[derive(Debug, Clone, Copy)]
pub enum ListColumn {
    Field(&'static str),
    /// The product of two 1–5 ratings (likelihood × impact), empty when either is missing.
    Score {
        key: &'static str,
        label: &'static str,
        of: (&'static str, &'static str),
    },
    /// A figure drawn from other records ([`crate::register_status`]), filled in by the
    /// listing; the record alone does not hold it.
    Derived {
        key: &'static str,
        label: &'static str,
    },
}

impl ListColumn {
    /// The column's key in a listing's query (`sort=score`).
    pub fn key(&self) -> &'static str {
        match self {
            ListColumn::Field(name) => name,
            ListColumn::Score { key, .. } | ListColumn::Derived { key, .. } => key,
        }
    }

    /// The header a person reads.
    pub fn label(&self) -> String {
        match self {
            ListColumn::Field(name) => label_of(name),
            ListColumn::Score { label, .. } | ListColumn::Derived { label, .. } => label.to_string(),
        }
    }

    pub fn value(&self, r: &Record) -> Value {
        match self {
            ListColumn::Field(name) => r.get(name).clone(),
            ListColumn::Score { of: (a, b), .. } => match (r.get(a).as_int(), r.get(b).as_int()) {
                (Some(x), Some(y)) => Value::Int(x * y),
                _ => Value::Null,
            },
            ListColumn::Derived { .. } => Value::Null,
        }
    }
}

/// A field's name as a header: `report_period_end` reads "Report period end".
pub fn label_of(name: &str) -> String {
    let words = name.replace('_', " ").replace("soc2", "SOC 2");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Value {
    /// The value as a person reads it in a listing: `per_event` reads "per event", a yes/no
    /// field "yes" or "no", a list with commas.
    pub fn to_display(&self) -> String {
        match self {
            Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Value::Text(s) if !s.contains(' ') && !s.contains('@') => s.replace('_', " "),
            Value::List(items) => items.join(", "),
            other => other.to_text(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Date(Date),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// The canonical text form: what CSV export writes and import reads back.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Date(d) => format_date(*d),
            Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
            Value::List(items) => items.join("; "),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// A list field's items; nothing for an empty or other value.
    pub fn as_list(&self) -> &[String] {
        match self {
            Value::List(items) => items,
            _ => &[],
        }
    }
}

/// A validated record: one value per field of its register, in field order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub values: BTreeMap<&'static str, Value>,
}

impl Record {
    pub fn get(&self, field: &str) -> &Value {
        self.values.get(field).unwrap_or(&Value::Null)
    }

    pub fn key(&self, spec: &RegisterSpec) -> String {
        spec.key
            .iter()
            .map(|k| self.get(k).to_text().to_lowercase())
            .collect::<Vec<_>>()
            .join("|")
    }
}

/// What validation may look up: records that already exist elsewhere.
#[derive(Debug, Default, Clone)]
pub struct Known {
    pub people: BTreeSet<String>,
    pub controls: BTreeSet<String>,
    pub evidence: BTreeSet<String>,
    pub today: Option<Date>,
}

/// A problem in one cell (or, with an empty column, one row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// 1-based line in the file (the header is line 1); 0 outside files.
    pub line: usize,
    pub column: String,
    pub reason: String,
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn truthy(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// Parses one cell. References (people, controls, evidence) are checked by [`validate`].
pub fn parse_value(field: &FieldSpec, raw: &str, today: Option<Date>) -> Result<Value, String> {
    crate::text::storable(raw).map_err(|e| e.to_string())?;
    let t = raw.trim();
    if t.is_empty() {
        return if field.required {
            Err("required".into())
        } else {
            Ok(Value::Null)
        };
    }
    match field.kind {
        FieldKind::Text => Ok(Value::Text(t.to_string())),
        FieldKind::Email | FieldKind::Person => parse_email(t).map(Value::Text).map_err(|e| e.to_string()),
        FieldKind::Date { past } => {
            let d = parse_date(t).map_err(|e| e.to_string())?;
            if past && today.is_some_and(|today| d > today) {
                return Err(format!("{t} is in the future"));
            }
            Ok(Value::Date(d))
        }
        FieldKind::Int { min, max } => match t.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Value::Int(n)),
            _ => Err(format!("'{t}' is not a whole number from {min} to {max}")),
        },
        FieldKind::Enum(allowed) => {
            let norm = t.to_ascii_lowercase().replace([' ', '-'], "_");
            allowed
                .iter()
                .find(|a| **a == norm)
                .map(|a| Value::Text(a.to_string()))
                .ok_or_else(|| format!("'{t}' is not one of: {}", allowed.join(", ")))
        }
        FieldKind::Bool => truthy(t)
            .map(Value::Bool)
            .ok_or_else(|| format!("'{t}' is not true or false")),
        FieldKind::List => Ok(Value::List(split_list(t))),
        FieldKind::Controls => Ok(Value::List(
            split_list(t).into_iter().map(|c| c.to_ascii_uppercase()).collect(),
        )),
        FieldKind::Control => Ok(Value::Text(t.to_ascii_uppercase())),
        FieldKind::Evidence => Ok(Value::List(
            split_list(t).into_iter().map(|c| c.to_ascii_uppercase()).collect(),
        )),
    }
}

/// One input row: its line in the file and its cells by column name.
pub type RawRow = (usize, HashMap<String, String>);

/// The outcome of validating a batch of rows.
#[derive(Debug, Default)]
pub struct Validated {
    /// (line, record) for every valid row, in file order.
    pub records: Vec<(usize, Record)>,
    pub errors: Vec<CellError>,
}

/// Validates rows given as (line, field → raw text). Checks every cell, the register's
/// rules, references, and duplicate keys within the batch; a row with any problem is left out.
pub fn validate(spec: &RegisterSpec, rows: &[RawRow], known: &Known) -> Validated {
    let mut out = Validated::default();
    // People in the same batch count as known, so a file can name managers it also adds.
    let mut people = known.people.clone();
    if spec.table == "people" {
        for (_, row) in rows {
            if let Some(e) = row.get("email").and_then(|e| parse_email(e).ok()) {
                people.insert(e);
            }
        }
    }
    let mut keys: HashMap<String, usize> = HashMap::new();
    for (line, row) in rows {
        let mut errors = Vec::new();
        let mut values = BTreeMap::new();
        for f in spec.fields {
            let raw = row.get(f.name).map(String::as_str).unwrap_or("");
            match parse_value(f, raw, known.today) {
                Ok(v) => {
                    let missing: Vec<String> = match (&f.kind, &v) {
                        (FieldKind::Person, Value::Text(e)) if !people.contains(e) => {
                            vec![format!("unknown person '{e}'")]
                        }
                        (FieldKind::Control, Value::Text(c)) if !known.controls.contains(c) => {
                            vec![format!("unknown control id '{c}'")]
                        }
                        (FieldKind::Controls, Value::List(cs)) => cs
                            .iter()
                            .filter(|c| !known.controls.contains(*c))
                            .map(|c| format!("unknown control id '{c}'"))
                            .collect(),
                        (FieldKind::Evidence, Value::List(ids)) => ids
                            .iter()
                            .filter(|i| !known.evidence.contains(*i))
                            .map(|i| format!("unknown evidence item '{i}'"))
                            .collect(),
                        _ => Vec::new(),
                    };
                    errors.extend(missing.into_iter().map(|reason| (f.name.to_string(), reason)));
                    values.insert(f.name, v);
                }
                Err(reason) => errors.push((f.name.to_string(), reason)),
            }
        }
        let record = Record { values };
        if errors.is_empty() {
            for rule in spec.rules {
                errors.extend(rule(&record).into_iter().map(|(f, r)| (f.to_string(), r)));
            }
        }
        // Whatever else is wrong with the row, a repeated key is its own problem.
        let key_parsed = spec
            .key
            .iter()
            .all(|k| !errors.iter().any(|(f, _)| f == k) && record.get(k) != &Value::Null);
        if key_parsed {
            let key = record.key(spec);
            if let Some(first) = keys.get(&key) {
                errors.push((
                    spec.key.join("+"),
                    format!("duplicate of line {first} ({})", key.replace('|', ", ")),
                ));
            } else {
                keys.insert(key, *line);
            }
        }
        if errors.is_empty() {
            out.records.push((*line, record));
        } else {
            out.errors.extend(errors.into_iter().map(|(column, reason)| CellError {
                line: *line,
                column,
                reason,
            }));
        }
    }
    out
}

/// Checks a file's header: every column known, every required field present.
pub fn check_header(spec: &RegisterSpec, header: &[String]) -> Vec<String> {
    let names: BTreeSet<&str> = spec.fields.iter().map(|f| f.name).collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for h in header {
        if !names.contains(h.as_str()) {
            problems.push(format!(
                "unknown column '{h}' (columns: {})",
                spec.fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ));
        } else if !seen.insert(h.as_str()) {
            problems.push(format!("column '{h}' appears twice"));
        }
    }
    for f in spec.fields.iter().filter(|f| f.required) {
        if !seen.contains(f.name) {
            problems.push(format!("missing required column '{}'", f.name));
        }
    }
    problems
}

/// Why a register CSV was not read; nothing of it may be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvError {
    /// The header row is not CSV.
    Header(String),
    /// No header row at all.
    Empty,
    /// The header does not fit the register: every problem, for line 1.
    Columns(Vec<String>),
    /// A row is not CSV (or has a different number of cells); `line` is 0 when unknown.
    Row { line: u64, reason: String },
}

/// Reads a register CSV into (line, column → cell) rows: the header lower-cased and checked
/// ([`check_header`]), blank rows skipped, cells trimmed and the formula quote our exports add
/// removed ([`crate::cells::restore`]). The cells are validated by [`validate`].
pub fn read_csv(spec: &RegisterSpec, bytes: &[u8]) -> Result<Vec<RawRow>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CsvError::Header(e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(CsvError::Empty);
    }
    let problems = check_header(spec, &header);
    if !problems.is_empty() {
        return Err(CsvError::Columns(problems));
    }
    let mut rows = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| CsvError::Row {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            reason: e.to_string(),
        })?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows.push((
            line,
            header
                .iter()
                .cloned()
                .zip(record.iter().map(|c| crate::cells::restore(c).into_owned()))
                .collect(),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const KINDS: &[&str] = &["employee", "contractor"];
    fn end_after_start(r: &Record) -> Vec<(&'static str, String)> {
        match (r.get("start").as_date(), r.get("end").as_date()) {
            (Some(s), Some(e)) if e < s => vec![("end", "ends before it starts".into())],
            _ => vec![],
        }
    }
    const SPEC: RegisterSpec = RegisterSpec {
        list: &[ListColumn::Field("email")],
        name: "people",
        table: "people",
        noun: "person",
        fields: &[
            FieldSpec {
                name: "email",
                kind: FieldKind::Email,
                required: true,
                help: "",
            },
            FieldSpec {
                name: "manager",
                kind: FieldKind::Person,
                required: false,
                help: "",
            },
            FieldSpec {
                name: "kind",
                kind: FieldKind::Enum(KINDS),
                required: true,
                help: "",
            },
            FieldSpec {
                name: "level",
                kind: FieldKind::Int { min: 1, max: 5 },
                required: false,
                help: "",
            },
            FieldSpec {
                name: "start",
                kind: FieldKind::Date { past: false },
                required: true,
                help: "",
            },
            FieldSpec {
                name: "end",
                kind: FieldKind::Date { past: false },
                required: false,
                help: "",
            },
            FieldSpec {
                name: "controls",
                kind: FieldKind::Controls,
                required: false,
                help: "",
            },
        ],
        key: &["email"],
        rules: &[end_after_start],
    };

    fn row(line: usize, cells: &[(&str, &str)]) -> (usize, HashMap<String, String>) {
        (
            line,
            cells.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        )
    }

    #[test]
    fn every_problem_is_located() {
        let known = Known {
            controls: ["ACC-01".to_string()].into(),
            today: Some(date!(2026 - 11 - 23)),
            ..Default::default()
        };
        let rows = vec![
            row(
                2,
                &[
                    ("email", "a@x.io"),
                    ("kind", "Employee"),
                    ("start", "2024-01-01"),
                    ("controls", "acc-01"),
                ],
            ),
            row(
                3,
                &[
                    ("email", "b@x.io"),
                    ("manager", "a@x.io"),
                    ("kind", "employee"),
                    ("start", "2024-01-01"),
                ],
            ),
            row(
                4,
                &[
                    ("email", "c@x.io"),
                    ("manager", "nobody@x.io"),
                    ("kind", "employee"),
                    ("start", "2024-01-01"),
                ],
            ),
            row(
                5,
                &[
                    ("email", "d@x.io"),
                    ("kind", "employee"),
                    ("start", "2024-05-01"),
                    ("end", "2024-01-01"),
                ],
            ),
            row(
                6,
                &[
                    ("email", "e@x.io"),
                    ("kind", "robot"),
                    ("level", "7"),
                    ("start", "2024-01-01"),
                    ("controls", "ACC-01;ZZ-9"),
                ],
            ),
            row(7, &[("email", "A@x.io"), ("kind", "employee"), ("start", "2024-01-01")]),
            row(
                8,
                &[("email", "not-an-email"), ("kind", "employee"), ("start", "2024-02-30")],
            ),
        ];
        let v = validate(&SPEC, &rows, &known);
        assert_eq!(v.records.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(v.records[0].1.get("kind"), &Value::Text("employee".into()));
        assert_eq!(v.records[0].1.get("controls"), &Value::List(vec!["ACC-01".into()]));
        let found: Vec<(usize, &str)> = v.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (4, "manager"),
                (5, "end"),
                (6, "kind"),
                (6, "level"),
                (6, "controls"),
                (7, "email"),
                (8, "email"),
                (8, "start")
            ]
        );
        assert!(v.errors[0].reason.contains("unknown person 'nobody@x.io'"));
        assert!(v.errors[3].reason.contains("from 1 to 5"));
        assert!(v.errors[5].reason.contains("duplicate of line 2"));
    }

    #[test]
    fn nul_is_refused_in_every_kind_of_field() {
        let known = Known {
            controls: ["ACC-01".to_string()].into(),
            ..Default::default()
        };
        let rows = vec![
            row(
                2,
                &[("email", "a@x.io"), ("kind", "employee\0"), ("start", "2024-01-01")],
            ),
            row(
                3,
                &[
                    ("email", "b@x.io"),
                    ("kind", "employee"),
                    ("start", "2024-01-01"),
                    ("controls", "ACC-01;\0"),
                ],
            ),
        ];
        let v = validate(&SPEC, &rows, &known);
        assert!(v.records.is_empty());
        let found: Vec<(usize, &str)> = v.errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(found, vec![(2, "kind"), (3, "controls")]);
        assert!(
            v.errors[1].reason.contains("NUL character (U+0000) at character 8"),
            "{:?}",
            v.errors
        );
    }

    #[test]
    fn header_problems() {
        let h = |cols: &[&str]| check_header(&SPEC, &cols.iter().map(|c| c.to_string()).collect::<Vec<_>>());
        assert!(h(&["email", "kind", "start"]).is_empty());
        let p = h(&["email", "kind", "colour", "email"]);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].contains("unknown column 'colour'"));
        assert!(p[1].contains("twice"));
        assert!(p[2].contains("missing required column 'start'"));
    }

    #[test]
    fn values_round_trip_through_text() {
        let known = Known::default();
        for (kind, raw) in [
            (FieldKind::Date { past: false }, "2026-01-31"),
            (FieldKind::Int { min: 1, max: 5 }, "3"),
            (FieldKind::Bool, "true"),
            (FieldKind::List, "pii; payment data"),
        ] {
            let f = FieldSpec {
                name: "x",
                kind,
                required: false,
                help: "",
            };
            let v = parse_value(&f, raw, known.today).unwrap();
            assert_eq!(parse_value(&f, &v.to_text(), None).unwrap(), v);
        }
    }
}
