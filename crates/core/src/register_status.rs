//! What a register's listing shows beside a record's own fields, drawn from other records:
//! a person's policy acceptances, training and screening; a vendor's review; a risk's
//! sign-off. Pure: the store gathers the inputs, the pages show the values.

use std::collections::{BTreeMap, HashSet};

use time::Date;

use crate::dates::{format_date, months_before};
use crate::register::{Record, Value};
use crate::registers::employed_on;

/// The published policies and who accepted the version in force, for the people listing.
pub struct Acceptances<'a> {
    /// Policies with a published version.
    pub in_force: usize,
    /// Per email, how many of those the person accepted (in their current version).
    pub accepted: &'a BTreeMap<String, usize>,
}

/// `x of y` policies accepted by someone on the staff today; others are not asked.
pub fn policies(person: &Record, acceptances: &Acceptances, today: Date) -> Value {
    if !employed_on(person, today) {
        return Value::Text("not on the staff".into());
    }
    let email = person.get("email").to_text().to_lowercase();
    let n = acceptances.accepted.get(&email).copied().unwrap_or(0);
    Value::Text(format!("{n} of {}", acceptances.in_force))
}

/// The person's last security awareness training and whether it is within the interval the
/// yearly-training check holds people to.
pub fn training<'a>(completions: impl Iterator<Item = &'a Record>, today: Date, interval_months: i64) -> Value {
    let last = completions
        .filter(|t| t.get("kind").as_str() == Some("security_awareness"))
        .filter_map(|t| t.get("completed_on").as_date())
        .max();
    Value::Text(match last {
        Some(d) if d >= months_before(today, interval_months) => format!("{} (current)", format_date(d)),
        Some(d) => format!("{} (overdue)", format_date(d)),
        None => "none on record".into(),
    })
}

/// The outcome of the person's latest background check.
pub fn screening<'a>(checks: impl Iterator<Item = &'a Record>) -> Value {
    let latest = checks.max_by_key(|c| c.get("completed_on").as_date());
    Value::Text(match latest {
        Some(c) => c.get("status").to_display(),
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

/// Emails in lower case with the number of `policies` (rows, versions in force) each accepted.
pub fn accepted_counts<'a>(
    in_force: &HashSet<(String, i64)>,
    acceptances: impl Iterator<Item = (&'a str, i64, &'a str)>,
) -> BTreeMap<String, usize> {
    let mut seen: HashSet<(String, &str)> = HashSet::new();
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for (policy, version, email) in acceptances {
        let email = email.to_lowercase();
        if in_force.contains(&(policy.to_string(), version)) && seen.insert((email.clone(), policy)) {
            *out.entry(email).or_default() += 1;
        }
    }
    out
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
        let in_force = HashSet::from([("p1".to_string(), 2), ("p2".to_string(), 1)]);
        let accepted = accepted_counts(
            &in_force,
            [
                ("p1", 2, "Ann@x.example"),
                ("p1", 1, "bob@x.example"), // an earlier version does not count
                ("p2", 1, "ann@x.example"),
                ("p2", 1, "ann@x.example"),
            ]
            .into_iter(),
        );
        let a = Acceptances {
            in_force: 2,
            accepted: &accepted,
        };
        let ann = record(&[("email", Value::Text("ann@x.example".into()))]);
        let bob = record(&[("email", Value::Text("bob@x.example".into()))]);
        let gone = record(&[
            ("email", Value::Text("cy@x.example".into())),
            ("end_date", Value::Date(date!(2026 - 01 - 01))),
        ]);
        assert_eq!(policies(&ann, &a, TODAY), Value::Text("2 of 2".into()));
        assert_eq!(policies(&bob, &a, TODAY), Value::Text("0 of 2".into()));
        assert_eq!(policies(&gone, &a, TODAY), Value::Text("not on the staff".into()));
    }

    #[test]
    fn training_is_current_within_the_interval() {
        let t = |kind: &str, d: Date| record(&[("kind", Value::Text(kind.into())), ("completed_on", Value::Date(d))]);
        let recent = [
            t("security_awareness", date!(2025 - 06 - 01)),
            t("security_awareness", date!(2026 - 03 - 01)),
        ];
        assert_eq!(
            training(recent.iter(), TODAY, 12),
            Value::Text("2026-03-01 (current)".into())
        );
        let old = [
            t("security_awareness", date!(2025 - 06 - 01)),
            t("privacy", date!(2026 - 06 - 01)),
        ];
        assert_eq!(
            training(old.iter(), TODAY, 12),
            Value::Text("2025-06-01 (overdue)".into())
        );
        assert_eq!(training([].iter(), TODAY, 12), Value::Text("none on record".into()));
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
