//! When a piece of evidence stops being current, from the date it speaks to and the cadence
//! its control asks for.

use evident_catalog::Refresh;
use serde::Serialize;
use time::{Date, Duration};

/// Evidence expiring this soon counts as "at risk".
pub const EXPIRY_WARNING_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessState {
    Current,
    ExpiringSoon,
    Stale,
    /// Evidence of one occurrence (a ticket, an incident): it never goes stale.
    PerEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub valid_until: Option<Date>,
    pub state: FreshnessState,
}

/// `attests_to` is the effective date, or the end of the period covered.
pub fn freshness(attests_to: Date, refresh: Refresh, today: Date) -> Freshness {
    let Some(days) = refresh.validity_days() else {
        return Freshness {
            valid_until: None,
            state: FreshnessState::PerEvent,
        };
    };
    let valid_until = attests_to + Duration::days(i64::from(days));
    let state = if valid_until < today {
        FreshnessState::Stale
    } else if valid_until - today <= Duration::days(EXPIRY_WARNING_DAYS) {
        FreshnessState::ExpiringSoon
    } else {
        FreshnessState::Current
    };
    Freshness {
        valid_until: Some(valid_until),
        state,
    }
}

/// The cadence that governs an item linked to several requirements: the most demanding one.
pub fn governing_refresh(cadences: impl IntoIterator<Item = Refresh>) -> Option<Refresh> {
    cadences
        .into_iter()
        .min_by_key(|r| r.validity_days().unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn table() {
        let today = date!(2026 - 11 - 23);
        let cases = [
            (
                date!(2026 - 11 - 01),
                Refresh::Quarterly,
                Some(date!(2027 - 02 - 01)),
                FreshnessState::Current,
            ),
            (
                date!(2026 - 08 - 01),
                Refresh::Quarterly,
                Some(date!(2026 - 11 - 01)),
                FreshnessState::Stale,
            ),
            (
                date!(2026 - 09 - 01),
                Refresh::Quarterly,
                Some(date!(2026 - 12 - 02)),
                FreshnessState::ExpiringSoon,
            ),
            (
                date!(2026 - 11 - 22),
                Refresh::Daily,
                Some(date!(2026 - 11 - 23)),
                FreshnessState::ExpiringSoon,
            ),
            (
                date!(2026 - 11 - 21),
                Refresh::Daily,
                Some(date!(2026 - 11 - 22)),
                FreshnessState::Stale,
            ),
            (date!(2020 - 01 - 01), Refresh::PerEvent, None, FreshnessState::PerEvent),
        ];
        for (attests, refresh, until, state) in cases {
            let f = freshness(attests, refresh, today);
            assert_eq!((f.valid_until, f.state), (until, state), "{attests} {refresh}");
        }
    }

    #[test]
    fn most_demanding_cadence_governs() {
        assert_eq!(
            governing_refresh([Refresh::Annual, Refresh::Quarterly, Refresh::PerEvent]),
            Some(Refresh::Quarterly)
        );
        assert_eq!(governing_refresh([Refresh::PerEvent]), Some(Refresh::PerEvent));
        assert_eq!(governing_refresh([]), None);
    }
}
