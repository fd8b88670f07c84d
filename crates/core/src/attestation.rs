//! What date an evidence item attests to: one day (its effective date) or a period it covers.
//! Evidence speaks about the past, so neither may lie in the future; an item given no date
//! attests to the day it was captured, so it ages like any other and is never fresh for ever.
//! Every entry point (CLI, web form, API) calls [`attestation`].

use time::Date;

use crate::{format_date, parse_date};

/// (effective date, or covered period) as stored, `YYYY-MM-DD`.
pub type Attestation = (Option<String>, Option<(String, String)>);

/// A refused date, naming the input it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct AttestationError {
    /// `effective_date` or `period`.
    pub field: &'static str,
    pub reason: String,
}

/// A field that was filled in (blank means not given).
fn given(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn refuse(field: &'static str, reason: String) -> AttestationError {
    AttestationError { field, reason }
}

/// Checks the dates an item speaks to against `today`. `period` is `FROM..TO`; when it is
/// given the effective date is not used. With neither, the item attests to `today`.
pub fn attestation(
    effective: Option<&str>,
    period: Option<&str>,
    today: Date,
) -> Result<Attestation, AttestationError> {
    if let Some(p) = given(period) {
        let (from, to) = p.split_once("..").ok_or_else(|| {
            refuse(
                "period",
                format!("'{p}' is not a period; write FROM..TO, e.g. 2026-01-01..2026-03-31"),
            )
        })?;
        let from = parse_date(from.trim()).map_err(|e| refuse("period", e.to_string()))?;
        let to = parse_date(to.trim()).map_err(|e| refuse("period", e.to_string()))?;
        if to < from {
            return Err(refuse(
                "period",
                format!(
                    "the period ends ({}) before it starts ({})",
                    format_date(to),
                    format_date(from)
                ),
            ));
        }
        if to > today {
            return Err(refuse(
                "period",
                format!(
                    "the period ends in the future ({}; today is {})",
                    format_date(to),
                    format_date(today)
                ),
            ));
        }
        return Ok((None, Some((format_date(from), format_date(to)))));
    }
    let date = match given(effective) {
        Some(d) => parse_date(d).map_err(|e| refuse("effective_date", e.to_string()))?,
        None => today,
    };
    if date > today {
        return Err(refuse(
            "effective_date",
            format!(
                "{} is in the future (today is {})",
                format_date(date),
                format_date(today)
            ),
        ));
    }
    Ok((Some(format_date(date)), None))
}

/// The day a stored item attests to: the end of the period it covers, else its effective date,
/// else (items stored undated before the rule above) the day it was captured.
pub fn attests_to(period_to: Option<&str>, effective_date: Option<&str>, captured_at_ms: i64) -> Date {
    period_to
        .or(effective_date)
        .and_then(|d| parse_date(d).ok())
        .or_else(|| crate::date_of_ms(captured_at_ms))
        // An instant out of the calendar's range: the safe reading is "long ago", never fresh.
        .unwrap_or(Date::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn a_stored_item_attests_to_its_period_end_its_date_or_its_capture_day() {
        let captured = 1_780_000_000_000; // 2026-05-28
        assert_eq!(
            attests_to(Some("2026-03-31"), Some("2026-01-05"), captured),
            day("2026-03-31")
        );
        assert_eq!(attests_to(None, Some("2026-01-05"), captured), day("2026-01-05"));
        assert_eq!(attests_to(None, None, captured), day("2026-05-28"), "never 'today'");
    }

    #[test]
    fn dates_are_in_the_past_and_undated_items_attest_to_today() {
        let today = day("2026-11-30");
        assert_eq!(attestation(None, None, today), Ok((Some("2026-11-30".into()), None)));
        assert_eq!(
            attestation(Some(" "), None, today),
            Ok((Some("2026-11-30".into()), None))
        );
        assert_eq!(
            attestation(Some("2026-10-01"), None, today),
            Ok((Some("2026-10-01".into()), None))
        );
        assert_eq!(
            attestation(Some("2026-12-01"), None, today).unwrap_err().field,
            "effective_date"
        );
        assert_eq!(
            attestation(Some("30/11/2026"), None, today).unwrap_err().field,
            "effective_date"
        );
        assert_eq!(
            attestation(Some("2026-10-01"), Some("2026-01-01..2026-03-31"), today),
            Ok((None, Some(("2026-01-01".into(), "2026-03-31".into()))))
        );
        for bad in ["2026-03-31..2026-01-01", "2026-01-01..2027-01-01", "2026-01-01", "x..y"] {
            assert_eq!(
                attestation(None, Some(bad), today).unwrap_err().field,
                "period",
                "{bad}"
            );
        }
    }
}
