//! What a register's listing shows beside a record's own fields, drawn from other records:
//! a person's policy acceptances, training and screening; a vendor's review; a risk's
//! sign-off. Pure: the store gathers the inputs, the pages show the values.

use time::Date;

use crate::dates::{format_date, months_before};
use crate::register::{Record, Value};
use crate::registers::employed_on;

/// `x of y` policies accepted (in their version in force) by someone on the staff today;
/// others are not asked.
pub fn policies(person: &Record, accepted: usize, in_force: usize, today: Date) -> Value {
    if !employed_on(person, today) {
        return Value::Text("not on the staff".into());
    }
    Value::Text(format!("{accepted} of {in_force}"))
}

/// The person's last security awareness training, and whether it is within the interval the
/// yearly-training check holds people to.
pub fn training(last: Option<Date>, today: Date, interval_months: i64) -> Value {
    Value::Text(match last {
        Some(d) if d >= months_before(today, interval_months) => format!("{} (current)", format_date(d)),
        Some(d) => format!("{} (overdue)", format_date(d)),
        None => "none on record".into(),
    })
}

/// The outcome of the person's latest background check, given as (completed on, status).
pub fn screening<'a>(checks: impl Iterator<Item = (Option<Date>, &'a str)>) -> Value {
    Value::Text(match checks.max_by_key(|(d, _)| *d) {
        Some((_, status)) => status.replace('_', " "),
        None => "none on record".into(),
    })
}

/// Whether a vendor's review is on schedule.
pub fn vendor_review(vendor: &Record, today: Date) -> Value {
    Value::Text(match vendor.get("next_review").as_date() {
        Some(d) if d < today => format!("overdue since {}", format_date(d)),
        Some(d) if (d - today).whole_days() <= 30 => format!("due {}", format_date(d)),
        Some(_) => "on schedule".into(),
        None => "no review planned".into(),
    })
}

/// Management's sign-off of a risk: `(signed on, changed since)`.
pub fn risk_sign_off(sign_off: Option<(Date, bool)>) -> Value {
    Value::Text(match sign_off {
        Some((_, true)) => "outdated (changed since)".into(),
        Some((d, false)) => format!("signed off {}", format_date(d)),
        None => "not signed off".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn record(values: &[(&'static str, Value)]) -> Record {
        Record {
            values: values.iter().cloned().collect(),
        }
    }

    const TODAY: Date = date!(2026 - 12 - 01);

    #[test]
    fn staff_show_how_many_policies_they_accepted_others_are_not_asked() {
        let ann = record(&[("email", Value::Text("ann@x.example".into()))]);
        let gone = record(&[
            ("email", Value::Text("cy@x.example".into())),
            ("end_date", Value::Date(date!(2026 - 01 - 01))),
        ]);
        assert_eq!(policies(&ann, 2, 2, TODAY), Value::Text("2 of 2".into()));
        assert_eq!(policies(&ann, 0, 13, TODAY), Value::Text("0 of 13".into()));
        assert_eq!(policies(&gone, 1, 2, TODAY), Value::Text("not on the staff".into()));
    }

    #[test]
    fn training_is_current_within_the_interval_and_screening_is_the_latest() {
        assert_eq!(
            training(Some(date!(2026 - 03 - 01)), TODAY, 12),
            Value::Text("2026-03-01 (current)".into())
        );
        assert_eq!(
            training(Some(date!(2025 - 06 - 01)), TODAY, 12),
            Value::Text("2025-06-01 (overdue)".into())
        );
        assert_eq!(training(None, TODAY, 12), Value::Text("none on record".into()));
        let checks = [
            (Some(date!(2024 - 01 - 01)), "failed"),
            (Some(date!(2025 - 01 - 01)), "passed"),
            (None, "pending"),
        ];
        assert_eq!(screening(checks.into_iter()), Value::Text("passed".into()));
        assert_eq!(screening([].into_iter()), Value::Text("none on record".into()));
    }

    #[test]
    fn vendor_reviews_and_risk_sign_offs_read_in_words() {
        let v = |d: Option<Date>| record(&[("next_review", d.map(Value::Date).unwrap_or(Value::Null))]);
        assert_eq!(
            vendor_review(&v(Some(date!(2026 - 11 - 01))), TODAY),
            Value::Text("overdue since 2026-11-01".into())
        );
        assert_eq!(
            vendor_review(&v(Some(date!(2026 - 12 - 20))), TODAY),
            Value::Text("due 2026-12-20".into())
        );
        assert_eq!(
            vendor_review(&v(Some(date!(2027 - 06 - 01))), TODAY),
            Value::Text("on schedule".into())
        );
        assert_eq!(vendor_review(&v(None), TODAY), Value::Text("no review planned".into()));
        assert_eq!(
            risk_sign_off(Some((date!(2026 - 02 - 03), false))),
            Value::Text("signed off 2026-02-03".into())
        );
        assert_eq!(
            risk_sign_off(Some((date!(2026 - 02 - 03), true))),
            Value::Text("outdated (changed since)".into())
        );
        assert_eq!(risk_sign_off(None), Value::Text("not signed off".into()));
    }
}
