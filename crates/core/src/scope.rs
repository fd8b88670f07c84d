//! The audit scope: report type, Trust Services Categories and the period the report covers,
//! plus the components of the system description.

use std::collections::BTreeSet;

use evident_catalog::{Category, UnknownValue};
use time::Date;

use crate::dates::{DateError, add_months, format_date, parse_date};

evident_catalog::string_enum! {
    /// A part of the system description (the five components an auditor expects).
    pub enum ComponentKind: "component kind" {
        Infrastructure = "infrastructure",
        Software = "software",
        People = "people",
        Procedures = "procedures",
        Data = "data",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportType {
    /// Design of controls at a point in time.
    Type1,
    /// Design and operating effectiveness over an observation window.
    Type2,
}

impl ReportType {
    pub fn number(self) -> i64 {
        match self {
            ReportType::Type1 => 1,
            ReportType::Type2 => 2,
        }
    }

    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(ReportType::Type1),
            2 => Some(ReportType::Type2),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        match s.trim().to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
            "1" | "i" | "type1" | "typei" => Ok(ReportType::Type1),
            "2" | "ii" | "type2" | "typeii" => Ok(ReportType::Type2),
            _ => Err(ScopeError::UnknownType(s.to_string())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPeriod {
    AsOf(Date),
    Window { from: Date, to: Date },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub report_type: ReportType,
    /// Always contains Security.
    pub categories: BTreeSet<Category>,
    pub period: AuditPeriod,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("--type: unknown report type '{0}' (allowed: 1, 2)")]
    UnknownType(String),
    #[error("--categories: {0}")]
    UnknownCategory(UnknownValue),
    #[error("--categories: no category given (allowed: {})", Category::allowed().join(", "))]
    NoCategories,
    #[error("--as-of: a Type 1 report needs its point-in-time date (--as-of YYYY-MM-DD)")]
    MissingAsOf,
    #[error("--window: a Type 2 report needs its observation window (--window FROM..TO)")]
    MissingWindow,
    #[error("--window: a Type 1 report has no observation window; use --as-of YYYY-MM-DD")]
    WindowOnType1,
    #[error("--as-of: a Type 2 report covers a window, not a date; use --window FROM..TO")]
    AsOfOnType2,
    #[error("{arg}: {source}")]
    BadDate { arg: &'static str, source: DateError },
    #[error("--window: '{0}' is not a window in the form YYYY-MM-DD..YYYY-MM-DD")]
    BadWindow(String),
    #[error("--window: the window ends ({to}) before it starts ({from})", from = format_date(*from), to = format_date(*to))]
    WindowOrder { from: Date, to: Date },
}

impl ScopeError {
    /// The part of the scope at fault, for a form to mark: `type`, `categories`, `as_of` or
    /// `window`.
    pub fn field(&self) -> &'static str {
        match self {
            ScopeError::UnknownType(_) => "type",
            ScopeError::UnknownCategory(_) | ScopeError::NoCategories => "categories",
            ScopeError::MissingAsOf | ScopeError::AsOfOnType2 => "as_of",
            ScopeError::BadDate { arg, .. } if *arg == "--as-of" => "as_of",
            _ => "window",
        }
    }

    /// Why, without the command line's flag in front (forms name their own fields).
    pub fn reason(&self) -> String {
        match self {
            ScopeError::MissingAsOf => "a Type 1 report needs the date the controls are assessed on".into(),
            ScopeError::MissingWindow => "a Type 2 report needs its observation window: a first and a last day".into(),
            ScopeError::WindowOnType1 => "a Type 1 report has no observation window, only a date".into(),
            ScopeError::AsOfOnType2 => "a Type 2 report covers a window, not a single date".into(),
            ScopeError::BadDate { source, .. } => source.to_string(),
            ScopeError::BadWindow(_) => "give the window's first and last day".into(),
            e => {
                let text = e.to_string();
                text.split_once(": ").map(|(_, r)| r.to_string()).unwrap_or(text)
            }
        }
    }
}

/// Accepted but worth a second look; printed, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeWarning {
    SecurityAdded,
    WindowShorterThan3Months { days: i64 },
    WindowLongerThan12Months { days: i64 },
}

impl std::fmt::Display for ScopeWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeWarning::SecurityAdded => {
                f.write_str("security added to the categories: the common criteria are always in scope")
            }
            ScopeWarning::WindowShorterThan3Months { days } => write!(
                f,
                "the window is {days} days long; auditors expect a Type 2 window of 3 to 12 months"
            ),
            ScopeWarning::WindowLongerThan12Months { days } => write!(
                f,
                "the window is {days} days long; a Type 2 window is normally at most 12 months"
            ),
        }
    }
}

/// Parses a comma-separated category list. Security is added when missing.
pub fn parse_categories(list: &str) -> Result<(BTreeSet<Category>, Vec<ScopeWarning>), ScopeError> {
    let mut set = BTreeSet::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        set.insert(Category::parse(part).map_err(ScopeError::UnknownCategory)?);
    }
    if set.is_empty() {
        return Err(ScopeError::NoCategories);
    }
    let mut warnings = Vec::new();
    if set.insert(Category::Security) {
        warnings.push(ScopeWarning::SecurityAdded);
    }
    Ok((set, warnings))
}

/// Parses `FROM..TO` (both dates inclusive; TO not before FROM).
pub fn parse_window(s: &str) -> Result<(Date, Date), ScopeError> {
    let (from, to) = s.split_once("..").ok_or_else(|| ScopeError::BadWindow(s.to_string()))?;
    let from = parse_date(from).map_err(|source| ScopeError::BadDate {
        arg: "--window",
        source,
    })?;
    let to = parse_date(to).map_err(|source| ScopeError::BadDate {
        arg: "--window",
        source,
    })?;
    if to < from {
        return Err(ScopeError::WindowOrder { from, to });
    }
    Ok((from, to))
}

/// A period given outside the scope (a pack's `--period`, the API's `period=`): `FROM..TO`
/// as [`parse_window`] reads it, refused in words that name no flag of the scope's.
pub fn parse_period(s: &str) -> Result<(Date, Date), String> {
    parse_window(s).map_err(|e| match e {
        ScopeError::BadDate { source, .. } => source.to_string(),
        ScopeError::WindowOrder { from, to } => format!(
            "the period ends ({}) before it starts ({})",
            format_date(to),
            format_date(from)
        ),
        _ => format!("'{s}' is not a period in the form YYYY-MM-DD..YYYY-MM-DD"),
    })
}

impl Scope {
    /// Builds a scope from what the user gave, checking the combination fits the report type.
    pub fn new(
        report_type: ReportType,
        categories: BTreeSet<Category>,
        as_of: Option<Date>,
        window: Option<(Date, Date)>,
    ) -> Result<(Scope, Vec<ScopeWarning>), ScopeError> {
        let mut warnings = Vec::new();
        let period = match (report_type, as_of, window) {
            (ReportType::Type1, Some(d), None) => AuditPeriod::AsOf(d),
            (ReportType::Type1, _, Some(_)) => return Err(ScopeError::WindowOnType1),
            (ReportType::Type1, None, None) => return Err(ScopeError::MissingAsOf),
            (ReportType::Type2, Some(_), _) => return Err(ScopeError::AsOfOnType2),
            (ReportType::Type2, None, None) => return Err(ScopeError::MissingWindow),
            (ReportType::Type2, None, Some((from, to))) => {
                if to <= from {
                    return Err(ScopeError::WindowOrder { from, to });
                }
                let days = (to - from).whole_days() + 1;
                if to < add_months(from, 3).previous_day().expect("not the first day of time") {
                    warnings.push(ScopeWarning::WindowShorterThan3Months { days });
                } else if to > add_months(from, 12).previous_day().expect("not the first day of time") {
                    warnings.push(ScopeWarning::WindowLongerThan12Months { days });
                }
                AuditPeriod::Window { from, to }
            }
        };
        let mut categories = categories;
        if categories.insert(Category::Security) {
            warnings.push(ScopeWarning::SecurityAdded);
        }
        Ok((
            Scope {
                report_type,
                categories,
                period,
            },
            warnings,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cats(list: &str) -> BTreeSet<Category> {
        parse_categories(list).unwrap().0
    }

    #[test]
    fn categories_parse_with_aliases_and_always_hold_security() {
        let (set, warnings) = parse_categories("availability, processing-integrity").unwrap();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![
                Category::Security,
                Category::Availability,
                Category::ProcessingIntegrity
            ]
        );
        assert_eq!(warnings, vec![ScopeWarning::SecurityAdded]);
        assert!(matches!(
            parse_categories("security,avail"),
            Err(ScopeError::UnknownCategory(_))
        ));
        assert_eq!(parse_categories(" , "), Err(ScopeError::NoCategories));
        let msg = parse_categories("integrity").unwrap_err().to_string();
        assert!(
            msg.contains("--categories") && msg.contains("processing_integrity"),
            "{msg}"
        );
    }

    #[test]
    fn period_must_fit_the_report_type() {
        let c = cats("security");
        let d = date!(2026 - 06 - 30);
        let w = (date!(2026 - 01 - 01), date!(2026 - 06 - 30));
        assert_eq!(
            Scope::new(ReportType::Type1, c.clone(), None, None),
            Err(ScopeError::MissingAsOf)
        );
        assert_eq!(
            Scope::new(ReportType::Type1, c.clone(), None, Some(w)),
            Err(ScopeError::WindowOnType1)
        );
        assert_eq!(
            Scope::new(ReportType::Type2, c.clone(), None, None),
            Err(ScopeError::MissingWindow)
        );
        assert_eq!(
            Scope::new(ReportType::Type2, c.clone(), Some(d), Some(w)),
            Err(ScopeError::AsOfOnType2)
        );
        let (s, warnings) = Scope::new(ReportType::Type1, c.clone(), Some(d), None).unwrap();
        assert_eq!(s.period, AuditPeriod::AsOf(d));
        assert!(warnings.is_empty());
    }

    #[test]
    fn window_rules() {
        let c = cats("security");
        let w = |a, b| Scope::new(ReportType::Type2, c.clone(), None, Some((a, b)));
        assert!(matches!(
            w(date!(2026 - 06 - 01), date!(2026 - 05 - 01)),
            Err(ScopeError::WindowOrder { .. })
        ));
        assert!(matches!(
            w(date!(2026 - 06 - 01), date!(2026 - 06 - 01)),
            Err(ScopeError::WindowOrder { .. })
        ));
        // Exactly three and exactly twelve months are fine.
        assert!(w(date!(2026 - 01 - 01), date!(2026 - 03 - 31)).unwrap().1.is_empty());
        assert!(w(date!(2026 - 01 - 01), date!(2026 - 12 - 31)).unwrap().1.is_empty());
        assert_eq!(
            w(date!(2026 - 01 - 01), date!(2026 - 03 - 30)).unwrap().1,
            vec![ScopeWarning::WindowShorterThan3Months { days: 89 }]
        );
        assert_eq!(
            w(date!(2026 - 01 - 01), date!(2027 - 01 - 01)).unwrap().1,
            vec![ScopeWarning::WindowLongerThan12Months { days: 366 }]
        );
    }

    #[test]
    fn window_syntax() {
        assert_eq!(
            parse_window("2026-01-01..2026-06-30").unwrap(),
            (date!(2026 - 01 - 01), date!(2026 - 06 - 30))
        );
        assert!(matches!(
            parse_window("2026-01-01/2026-06-30"),
            Err(ScopeError::BadWindow(_))
        ));
        assert!(matches!(
            parse_window("2026-01-01..2026-06-31"),
            Err(ScopeError::BadDate { .. })
        ));
    }

    #[test]
    fn report_type_spellings() {
        assert_eq!(ReportType::parse("2").unwrap(), ReportType::Type2);
        assert_eq!(ReportType::parse("Type-I").unwrap(), ReportType::Type1);
        assert!(ReportType::parse("3").is_err());
    }
}
