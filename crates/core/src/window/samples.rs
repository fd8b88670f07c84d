//! Exceptions the auditor found in samples: each is one deviation against the sampled control,
//! rated on the size of the sample it came from.

use std::collections::BTreeMap;

use time::Date;

use super::{Exception, ExceptionKind, Period, exception_id};
use crate::fieldwork::SampleException;
use crate::parse_date;

/// The sample exceptions of one control inside the period (up to `as_of`), each with the
/// deviation rate of its sample.
pub(super) fn for_control(
    found: &[SampleException],
    control: &str,
    period: Period,
    as_of: Date,
    owners: &BTreeMap<&str, Option<&str>>,
) -> Vec<(f64, Vec<Exception>)> {
    let mut by_sample: BTreeMap<&str, Vec<&SampleException>> = BTreeMap::new();
    for e in found.iter().filter(|e| e.control.eq_ignore_ascii_case(control)) {
        if parse_date(&e.date).is_ok_and(|d| period.contains(d) && d <= as_of) {
            by_sample.entry(e.sample.as_str()).or_default().push(e);
        }
    }
    by_sample
        .into_values()
        .map(|list| {
            let size = list.iter().map(|e| e.sample_size).max().unwrap_or(1).max(list.len());
            let rate = list.len() as f64 / size as f64;
            let exceptions = list
                .into_iter()
                .map(|e| Exception {
                    id: exception_id(&["sample", &e.sample, &e.item]),
                    kind: ExceptionKind::SampleDeviation,
                    check: None,
                    control: Some(e.control.clone()),
                    controls: vec![e.control.clone()],
                    record: Some(e.item.clone()),
                    first_failed: e.date.clone(),
                    fixed: None,
                    deadline: None,
                    status: "sampled".into(),
                    days: 1,
                    reason: format!(
                        "sample {}: {} found an exception on {} ({}): {}",
                        e.sample, e.tested_by, e.item, e.tested_at, e.note
                    ),
                    owner: owners.get(e.control.as_str()).copied().flatten().map(String::from),
                    response: None,
                    earlier_responses: Vec::new(),
                })
                .collect();
            (rate, exceptions)
        })
        .collect()
}
