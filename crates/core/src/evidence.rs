//! An evidence item: an immutable record of a file in the vault, the controls it serves, the day
//! or period it attests to, and where it came from. A correction is a new version that supersedes
//! the old; a withdrawal is a tombstone with a reason. The store loads and saves these; every
//! entry point (CLI, web, API, importers, connectors) writes them through one validating path
//! (`Workspace::add_evidence`) built on the rules here.

use evident_catalog::Refresh;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::{Control, FreshnessState, format_date, freshness, governing_refresh};

/// Where an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Uploaded by a person (CLI, web form, API).
    Person,
    /// A file an importer read (`evident facts import`).
    Import,
    /// Fetched by a connector from the system itself.
    Connector,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Person => "person",
            SourceKind::Import => "import",
            SourceKind::Connector => "connector",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "person" => Some(SourceKind::Person),
            "import" => Some(SourceKind::Import),
            "connector" => Some(SourceKind::Connector),
            _ => None,
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A link from an item to a control (and, optionally, the requirement it answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceLink {
    #[serde(skip)]
    pub control_id: crate::RowId,
    /// The control's code, e.g. `ACC-04`.
    pub control: String,
    pub requirement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub reason: String,
    /// Who withdrew it.
    pub by: String,
    /// Unix milliseconds.
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceItem {
    pub id: String,
    pub title: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub file_name: String,
    pub source_kind: SourceKind,
    pub source_ref: String,
    /// Unix milliseconds.
    pub captured_at: i64,
    pub effective_date: Option<String>,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub created_by: String,
    pub controls: Vec<EvidenceLink>,
    pub withdrawn: Option<Withdrawal>,
}

/// Where an item stands among its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    Current,
    Superseded,
    Withdrawn,
}

impl EvidenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceStatus::Current => "current",
            EvidenceStatus::Superseded => "superseded",
            EvidenceStatus::Withdrawn => "withdrawn",
        }
    }
}

impl EvidenceItem {
    pub fn status(&self) -> EvidenceStatus {
        if self.withdrawn.is_some() {
            EvidenceStatus::Withdrawn
        } else if self.superseded_by.is_some() {
            EvidenceStatus::Superseded
        } else {
            EvidenceStatus::Current
        }
    }

    /// Current items count towards readiness; superseded and withdrawn ones are history.
    pub fn is_current(&self) -> bool {
        self.status() == EvidenceStatus::Current
    }

    /// The day this item attests to (`attestation::attests_to`).
    pub fn attests_to(&self) -> Date {
        crate::attestation::attests_to(
            self.period_to.as_deref(),
            self.effective_date.as_deref(),
            self.captured_at,
        )
    }

    /// Why a new version cannot replace this one, if it cannot: a version is superseded once,
    /// and never after it was withdrawn.
    pub fn check_supersedable(&self) -> Result<(), String> {
        if self.withdrawn.is_some() {
            return Err(format!(
                "{} was withdrawn; add the evidence as a new item instead",
                self.id
            ));
        }
        if let Some(newer) = &self.superseded_by {
            return Err(format!(
                "{} is already superseded by {newer}; supersede that version",
                self.id
            ));
        }
        Ok(())
    }
}

/// The items a pack holds. `controls` limits it to items linked to one of them (codes; all
/// items when empty). Without a period: the current items. Over a period (inclusive): every
/// item not withdrawn that speaks to a day in it (a period item when the periods overlap,
/// otherwise the day it attests to), superseded versions included, since they were the
/// evidence for their part of the period. Sorted by id, the order a pack is written in.
pub fn pack_items<'a>(
    items: &'a [EvidenceItem],
    controls: &[String],
    period: Option<(Date, Date)>,
) -> Vec<&'a EvidenceItem> {
    let linked = |e: &EvidenceItem| {
        controls.is_empty()
            || e.controls
                .iter()
                .any(|l| controls.iter().any(|c| c.eq_ignore_ascii_case(&l.control)))
    };
    let in_period = |e: &EvidenceItem| match period {
        None => e.is_current(),
        Some((from, to)) => {
            if e.withdrawn.is_some() {
                return false;
            }
            let day = |d: &Option<String>| d.as_deref().and_then(|d| crate::parse_date(d).ok());
            match (day(&e.period_from), day(&e.period_to)) {
                (Some(f), Some(t)) => f <= to && t >= from,
                _ => {
                    let d = e.attests_to();
                    from <= d && d <= to
                }
            }
        }
    };
    let mut chosen: Vec<&EvidenceItem> = items.iter().filter(|e| linked(e) && in_period(e)).collect();
    chosen.sort_by(|a, b| a.id.cmp(&b.id));
    chosen
}

/// An item's version number: 1 for an original, n for the n-th in its chain of supersessions.
pub fn version_of(item: &EvidenceItem, by_id: &std::collections::HashMap<&str, &EvidenceItem>) -> u32 {
    let mut n = 1;
    let mut cur = item;
    while let Some(prev) = cur.supersedes.as_deref().and_then(|p| by_id.get(p)) {
        n += 1;
        cur = prev;
        if n > 100_000 {
            break;
        }
    }
    n
}

impl EvidenceItem {
    /// The cadence that decides when the item goes stale: its requirement's, or the most
    /// demanding of its controls' requirements. `control` finds an adopted control by code.
    pub fn refresh<'c>(&self, control: impl Fn(&str) -> Option<&'c Control>) -> Option<Refresh> {
        let mut cadences = Vec::new();
        for link in &self.controls {
            let Some(c) = control(&link.control) else { continue };
            match &link.requirement {
                Some(k) => cadences.extend(c.evidence.iter().filter(|e| &e.key == k).map(|e| e.refresh)),
                None => cadences.extend(c.evidence.iter().map(|e| e.refresh)),
            }
        }
        governing_refresh(cadences)
    }
}

/// An evidence item as it leaves Evident: the CLI's `--format json`, the API and the OpenAPI
/// schema (generated from this type) all use this one shape.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EvidenceView {
    pub id: String,
    pub title: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub file_name: String,
    pub source: SourceView,
    /// RFC 3339.
    pub captured_at: String,
    pub created_by: String,
    /// `YYYY-MM-DD`: the day the item speaks to, when it is one day.
    pub effective_date: Option<String>,
    /// The period the item covers, when it covers one.
    pub period: Option<PeriodView>,
    /// `YYYY-MM-DD`: the day the item attests to (the period's end, the effective date, or
    /// the capture day), from which its freshness counts.
    pub attests_to: String,
    pub controls: Vec<LinkView>,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub status: EvidenceStatus,
    pub withdrawn: Option<WithdrawalView>,
    /// The cadence that governs staleness (from the requirements it answers).
    pub refresh: Option<String>,
    /// `YYYY-MM-DD`: the last day the item counts as current.
    pub valid_until: Option<String>,
    pub freshness: Option<FreshnessState>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SourceView {
    pub kind: SourceKind,
    /// Who or what: the person, the import kind, the connector and its target.
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PeriodView {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LinkView {
    /// The control's code, e.g. `ACC-04`.
    pub control: String,
    /// The evidence requirement's key, when the item answers one.
    pub requirement: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WithdrawalView {
    pub reason: String,
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// Unix milliseconds as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

impl EvidenceView {
    pub fn of<'c>(item: &EvidenceItem, control: impl Fn(&str) -> Option<&'c Control>, today: Date) -> EvidenceView {
        let refresh = item.refresh(control);
        let attests = item.attests_to();
        let fresh = refresh.map(|r| freshness(attests, r, today));
        EvidenceView {
            id: item.id.clone(),
            title: item.title.clone(),
            sha256: item.sha256.clone(),
            size: item.size,
            media_type: item.media_type.clone(),
            file_name: item.file_name.clone(),
            source: SourceView {
                kind: item.source_kind,
                reference: item.source_ref.clone(),
            },
            captured_at: rfc3339(item.captured_at),
            created_by: item.created_by.clone(),
            effective_date: item.effective_date.clone(),
            period: match (&item.period_from, &item.period_to) {
                (Some(from), Some(to)) => Some(PeriodView {
                    from: from.clone(),
                    to: to.clone(),
                }),
                _ => None,
            },
            attests_to: format_date(attests),
            controls: item
                .controls
                .iter()
                .map(|l| LinkView {
                    control: l.control.clone(),
                    requirement: l.requirement.clone(),
                })
                .collect(),
            supersedes: item.supersedes.clone(),
            superseded_by: item.superseded_by.clone(),
            status: item.status(),
            withdrawn: item.withdrawn.as_ref().map(|w| WithdrawalView {
                reason: w.reason.clone(),
                by: w.by.clone(),
                at: rfc3339(w.at),
            }),
            refresh: refresh.map(|r| r.to_string()),
            valid_until: fresh.and_then(|f| f.valid_until).map(format_date),
            freshness: fresh.map(|f| f.state),
        }
    }
}

/// The name an item is stored and downloaded under: the last path component, without control
/// characters, at most 200 characters; "evidence" when nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "evidence".into()
    } else {
        cleaned.to_string()
    }
}

/// The media type of a file by its name: the one rule every entry point uses.
pub fn media_type_of(file_name: &str) -> String {
    mime_guess::from_path(file_name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

/// A media type given explicitly (`type/subtype`, RFC 6838 characters), lower-cased.
pub fn parse_media_type(given: &str) -> Result<String, String> {
    let t = given.trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty() && s.len() <= 127 && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match t.split_once('/') {
        Some((a, b)) if token(a) && token(b) => Ok(t),
        _ => Err(format!(
            "'{}' is not a media type (write type/subtype, e.g. application/pdf)",
            given.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_media_type_rule() {
        assert_eq!(media_type_of("report.PDF"), "application/pdf");
        assert_eq!(media_type_of("users.csv"), "text/csv");
        assert_eq!(media_type_of("bundle.json"), "application/json");
        assert_eq!(media_type_of("noext"), "application/octet-stream");
        assert_eq!(parse_media_type(" Text/CSV ").unwrap(), "text/csv");
        assert!(parse_media_type("csv").is_err());
        assert!(parse_media_type("text/csv; charset=utf-8").is_err());
    }

    #[test]
    fn names_keep_the_last_component_only() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\a\\q3 review.pdf"), "q3 review.pdf");
        assert_eq!(clean_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_file_name(".."), "evidence");
        assert_eq!(clean_file_name(""), "evidence");
    }
}
