//! Fieldwork records: engagements and their auditors, request lists and their threads,
//! population runs, samples and results. Who may do what is `evident_core::fieldwork::may`;
//! who may see what (an auditor their engagements, a control owner their requests) is here,
//! in one place every entry point goes through.

mod engagements;
mod populations;
mod requests;
mod samples;

use evident_core::access::Role;
use evident_core::fieldwork::{Act, FieldworkError, may};

pub use populations::{SPECS as POPULATIONS, Spec as PopulationSpec, spec as population_spec};
pub use requests::RequestFilter;

use crate::StoreError;

fn field(e: FieldworkError) -> StoreError {
    StoreError::Field {
        field: e.field,
        reason: e.reason,
    }
}

/// Refuses an act the role may not take. Answered as "not found" by the server's guard when
/// the role cannot reach the area at all; here it is a plain refusal naming the act.
fn allow(role: Role, act: Act) -> Result<(), StoreError> {
    if may(role, act) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "a {} may not {}",
            role.label().to_lowercase(),
            match act {
                Act::Manage => "manage engagements",
                Act::AddRequests => "add requests",
                Act::Answer => "answer requests",
                Act::Review => "accept or return requests",
                Act::Comment => "comment on requests",
                Act::RunPopulation => "produce populations",
                Act::Test => "draw samples or record results",
            }
        )))
    }
}

fn instant(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| {
            format!(
                "{} {:02}:{:02} UTC",
                evident_core::format_date(t.date()),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}
