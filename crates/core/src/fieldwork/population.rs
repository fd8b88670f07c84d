//! A population: every occurrence of an event-driven control in a period, written so the auditor
//! can judge its completeness and accuracy — what it is, the exact rule that produced it, when it
//! ran and by whom, the count, and a SHA-256 anyone can recompute.
//!
//! The file is CSV. Its header block is lines starting with `#`; the data (a header row, then
//! one row per item) is every other line. The stated SHA-256 is of the data lines alone, each
//! ending in `\n` (`grep -v '^#' FILE | sha256sum`), so running the same rule over unchanged
//! records gives the same hash whenever and by whomever it runs.

use std::collections::BTreeMap;

use evident_catalog::PopulationKind;
use serde::Serialize;

/// One item of a population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Stable across runs: the record's own key (an email, `repo#number`, an event reference).
    pub id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// One value per column of the population.
    pub cells: Vec<String>,
    /// Evidence items the record came from (the import, the export, the upload).
    pub evidence: Vec<String>,
}

/// A population as it was produced.
#[derive(Debug, Clone)]
pub struct Population {
    pub kind: PopulationKind,
    /// `YYYY-MM-DD..YYYY-MM-DD`.
    pub period: String,
    /// What it is, in words.
    pub words: String,
    /// The exact query that produced it.
    pub rule: String,
    pub columns: Vec<String>,
    pub items: Vec<Item>,
}

/// Who ran it and when, written into the header block (never into the hashed data).
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    /// `YYYY-MM-DD HH:MM:SS UTC`.
    pub at: String,
    pub by: String,
    pub engagement: Option<String>,
}

/// The file, the hash of its data and one digest per item (to tell what changed next time).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub csv: Vec<u8>,
    pub sha256: String,
    pub digests: BTreeMap<String, String>,
}

/// Appends one CSV field, quoted when it must be (RFC 4180). Line breaks inside values become
/// spaces, so every record is one line and a value can never start a line with `#` (the header
/// block's mark).
fn push_field(out: &mut String, s: &str) {
    let breaks = s.contains(['\n', '\r']);
    if !breaks && !s.contains([',', '"']) {
        out.push_str(s);
        return;
    }
    let flat = if breaks {
        s.replace(['\n', '\r'], " ")
    } else {
        s.to_string()
    };
    if flat.contains([',', '"']) {
        out.push('"');
        out.push_str(&flat.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&flat);
    }
}

fn push_line<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, f);
    }
    out.push('\n');
}

/// A line's digest, only to tell next time which items changed (the population's own hash is
/// SHA-256 over all its data): 64-bit FNV-1a, as 16 hex digits.
fn line_digest(line: &str) -> String {
    format!("{:016x}", crate::fnv::hash(line.as_bytes()))
}

impl Population {
    /// The data lines: a header row and one row per item, in (date, id) order.
    pub fn data(&self) -> (String, BTreeMap<String, String>) {
        let mut items: Vec<&Item> = self.items.iter().collect();
        // Ids are unique within a population, so the order is total.
        items.sort_unstable_by(|a, b| (&a.date, &a.id).cmp(&(&b.date, &b.id)));
        let mut out = String::with_capacity(64 + items.len() * 128);
        push_line(
            &mut out,
            ["id", "date"]
                .into_iter()
                .chain(self.columns.iter().map(String::as_str))
                .chain(["evidence"]),
        );
        let mut digests = BTreeMap::new();
        let mut evidence = String::new();
        for i in items {
            let start = out.len();
            evidence.clear();
            for (n, e) in i.evidence.iter().enumerate() {
                if n > 0 {
                    evidence.push(' ');
                }
                evidence.push_str(e);
            }
            push_line(
                &mut out,
                [i.id.as_str(), i.date.as_str()]
                    .into_iter()
                    .chain(i.cells.iter().map(String::as_str))
                    .chain([evidence.as_str()]),
            );
            digests.insert(i.id.clone(), line_digest(&out[start..]));
        }
        (out, digests)
    }

    /// The header block, each line starting with `# `.
    pub fn header(&self, run: &Run, sha256: &str) -> String {
        let mut h = String::new();
        let mut line = |k: &str, v: &str| {
            for (n, part) in v.lines().enumerate() {
                let label = if n == 0 { k } else { "" };
                h.push_str(&format!("# {label:<10}{part}\n"));
            }
        };
        line("Population", self.kind.as_str());
        line("Period", &self.period);
        line("What", &self.words);
        line("Rule", &self.rule);
        line("Run", &run.id);
        if let Some(e) = &run.engagement {
            line("For", e);
        }
        line("Ran at", &run.at);
        line("Ran by", &run.by);
        line("Count", &self.items.len().to_string());
        line("SHA-256", sha256);
        line(
            "Check",
            "the SHA-256 is of the lines below that do not start with '#': grep -v '^#' FILE | sha256sum",
        );
        h
    }

    /// The SHA-256 of the data lines and each item's digest: what a re-run compares.
    pub fn fingerprint(&self) -> (String, BTreeMap<String, String>) {
        let (data, digests) = self.data();
        (evident_ledger::sha256_hex(data.as_bytes()), digests)
    }

    pub fn render(&self, run: &Run) -> Rendered {
        let (data, digests) = self.data();
        let sha256 = evident_ledger::sha256_hex(data.as_bytes());
        let mut csv = self.header(run, &sha256).into_bytes();
        csv.extend_from_slice(data.as_bytes());
        Rendered { csv, sha256, digests }
    }
}

/// What changed between two runs of one population.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Items in both whose row differs.
    pub changed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// "2 added (a, b); 1 changed (c)", or "no change".
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "no change".into();
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (&self.added, "added"),
            (&self.removed, "removed"),
            (&self.changed, "changed"),
        ] {
            if n.is_empty() {
                continue;
            }
            let mut shown: Vec<&str> = n.iter().take(5).map(String::as_str).collect();
            if n.len() > 5 {
                shown.push("…");
            }
            parts.push(format!("{} {what} ({})", n.len(), shown.join(", ")));
        }
        parts.join("; ")
    }
}

/// Compares the item digests of an earlier run with this one.
pub fn compare(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Changes {
    let mut c = Changes::default();
    for (id, d) in now {
        match before.get(id) {
            None => c.added.push(id.clone()),
            Some(old) if old != d => c.changed.push(id.clone()),
            Some(_) => {}
        }
    }
    c.removed = before.keys().filter(|k| !now.contains_key(*k)).cloned().collect();
    c
}

/// The column row and every data row of a population file.
pub fn read_table(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    let header = lines.next().map(split_csv).unwrap_or_default();
    (header, lines.map(split_csv).collect())
}

/// The id and date of every item of a population file (its data lines after the column row).
pub fn read_members(csv: &str) -> Result<Vec<super::Member>, String> {
    let mut out = Vec::new();
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    match lines.next() {
        Some(h) if h.starts_with("id,date,") => {}
        _ => return Err("not a population file: no 'id,date,…' column row".into()),
    }
    for (n, line) in lines.enumerate() {
        let mut fields = split_csv(line).into_iter();
        match (fields.next(), fields.next()) {
            (Some(id), Some(date)) if !id.is_empty() => out.push(super::Member { id, date }),
            _ => return Err(format!("data line {} has no id and date", n + 2)),
        }
    }
    Ok(out)
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside values).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}
