//! Calendar dates as `YYYY-MM-DD`, the only date form the product reads or writes.

use time::{Date, Month, format_description::BorrowedFormatItem, macros::format_description};

const ISO_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{given}' is not a date in the form YYYY-MM-DD")]
pub struct DateError {
    pub given: String,
}

pub fn parse_date(s: &str) -> Result<Date, DateError> {
    let t = s.trim();
    // `time` accepts years beyond four digits with a sign; we only want the plain form.
    if t.len() != 10 {
        return Err(DateError { given: s.to_string() });
    }
    Date::parse(t, ISO_DATE).map_err(|_| DateError { given: s.to_string() })
}

/// The UTC calendar day of an instant in milliseconds since the epoch.
pub fn date_of_ms(ms: i64) -> Option<Date> {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .map(|t| t.date())
}

/// Midnight UTC starting `d`, in Unix milliseconds: where a day's instants begin.
pub fn day_start_ms(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

pub fn format_date(d: Date) -> String {
    d.format(ISO_DATE).expect("a calendar date always formats")
}

/// The same day `months` later, clamped to the end of a shorter month (31 Jan + 1 → 28/29 Feb).
pub fn add_months(d: Date, months: u32) -> Date {
    let zero_based = d.month() as i32 - 1 + months as i32;
    let year = d.year() + zero_based.div_euclid(12);
    let month = Month::try_from((zero_based.rem_euclid(12) + 1) as u8).expect("1..=12");
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).expect("clamped day is valid")
}

/// The same day `months` earlier (clamped to the month's last day).
pub fn months_before(d: Date, months: i64) -> Date {
    let months = months.max(0) as i32;
    let zero = d.year() * 12 + d.month() as i32 - 1 - months;
    let (year, month) = (
        zero.div_euclid(12),
        Month::try_from((zero.rem_euclid(12) + 1) as u8).expect("1..=12"),
    );
    Date::from_calendar_date(year, month, d.day().min(time::util::days_in_month(month, year))).expect("clamped day")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_only_plain_iso_dates() {
        assert_eq!(parse_date("2026-03-01").unwrap(), date!(2026 - 03 - 01));
        for bad in ["2026-3-1", "2026-02-30", "01/03/2026", "", "+02026-03-01", "2026-13-01"] {
            assert!(parse_date(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 11 - 15), 3), date!(2027 - 02 - 15));
        assert_eq!(add_months(date!(2026 - 01 - 01), 12), date!(2027 - 01 - 01));
    }
}
