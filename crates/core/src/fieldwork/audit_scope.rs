//! What an auditor reads of the registers: only what their engagements need. People employed
//! during one of their periods (and those people's training and background checks), systems
//! marked in scope, events of their periods. Risks and vendors are tested as a whole (the risk
//! assessment, vendor management), so they stay complete.

use std::collections::BTreeSet;

use time::Date;

use crate::register::Record;

#[derive(Debug, Clone, Default)]
pub struct AuditScope {
    /// The periods of the auditor's engagements, both ends included.
    periods: Vec<(Date, Date)>,
    /// Emails (lower case) of people employed during one of the periods.
    people: BTreeSet<String>,
}

impl AuditScope {
    /// From the periods of the engagements the auditor is bound to and the people register.
    pub fn new<'a>(periods: Vec<(Date, Date)>, people: impl IntoIterator<Item = &'a Record>) -> AuditScope {
        let mut scope = AuditScope {
            periods,
            people: BTreeSet::new(),
        };
        scope.people = people
            .into_iter()
            .filter(|p| scope.employed_during(p))
            .filter_map(|p| p.get("email").as_str().map(str::to_lowercase))
            .collect();
        scope
    }

    fn employed_during(&self, person: &Record) -> bool {
        let Some(start) = person.get("start_date").as_date() else {
            return false;
        };
        let end = person.get("end_date").as_date();
        self.periods
            .iter()
            .any(|(from, to)| start <= *to && end.is_none_or(|e| e >= *from))
    }

    fn in_a_period(&self, day: Option<Date>) -> bool {
        day.is_some_and(|d| self.periods.iter().any(|(from, to)| d >= *from && d <= *to))
    }

    /// Whether the auditor reads this record of the register named `register`.
    pub fn admits(&self, register: &str, record: &Record) -> bool {
        let person = |field: &str| {
            record
                .get(field)
                .as_str()
                .is_some_and(|e| self.people.contains(&e.to_lowercase()))
        };
        match register {
            "people" => person("email"),
            "training" | "background-checks" => person("email"),
            "assets" => matches!(record.get("in_scope"), crate::register::Value::Bool(true)),
            "events" => self.in_a_period(record.get("date").as_date()),
            _ => true,
        }
    }

    /// What a narrowed register says to the auditor above its list.
    pub fn note(register: &str) -> Option<&'static str> {
        Some(match register {
            "people" => "People employed during the period of one of your engagements.",
            "training" | "background-checks" => {
                "Records of people employed during the period of one of your engagements."
            }
            "assets" => "Systems marked in the audit scope.",
            "events" => "Events dated inside the period of one of your engagements.",
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::Value;

    fn d(s: &str) -> Date {
        crate::parse_date(s).unwrap()
    }

    fn rec(values: &[(&'static str, Value)]) -> Record {
        Record {
            values: values.iter().cloned().collect(),
        }
    }

    fn person(email: &str, start: &str, end: Option<&str>) -> Record {
        let mut v = vec![
            ("email", Value::Text(email.into())),
            ("start_date", Value::Date(d(start))),
        ];
        if let Some(e) = end {
            v.push(("end_date", Value::Date(d(e))));
        }
        rec(&v)
    }

    #[test]
    fn an_auditor_reads_the_people_systems_and_events_of_their_periods() {
        let people = [
            person("stays@x.test", "2020-01-01", None),
            person("left-before@x.test", "2020-01-01", Some("2025-12-31")),
            person("left-during@x.test", "2020-01-01", Some("2026-03-01")),
            person("joins-after@x.test", "2027-01-05", None),
        ];
        let s = AuditScope::new(vec![(d("2026-01-01"), d("2026-12-31"))], &people);
        let seen: Vec<bool> = people.iter().map(|p| s.admits("people", p)).collect();
        assert_eq!(seen, [true, false, true, false]);
        let training = |e: &str| rec(&[("email", Value::Text(e.into()))]);
        assert!(s.admits("training", &training("STAYS@x.test")));
        assert!(!s.admits("background-checks", &training("left-before@x.test")));
        assert!(s.admits("assets", &rec(&[("in_scope", Value::Bool(true))])));
        assert!(!s.admits("assets", &rec(&[("in_scope", Value::Bool(false))])));
        let event = |day: &str| rec(&[("date", Value::Date(d(day)))]);
        assert!(s.admits("events", &event("2026-12-31")));
        assert!(!s.admits("events", &event("2025-12-31")));
        assert!(s.admits("risks", &rec(&[])), "the risk register is read whole");
        // No engagement: nothing dated, nobody.
        let none = AuditScope::new(vec![], &people);
        assert!(!none.admits("people", &people[0]) && !none.admits("events", &event("2026-06-01")));
    }
}
