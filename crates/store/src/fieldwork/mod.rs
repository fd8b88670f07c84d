//! Fieldwork records: engagements and their auditors, request lists and their threads,
//! population runs, samples and results. Who may do what is `evident_core::fieldwork::may`;
//! who may see what (an auditor their engagements, a control owner their requests) is here,
//! in one place every entry point goes through.

mod engagements;
mod packs;
mod populations;
pub(crate) use populations::utc;
mod requests;
mod samples;

use std::collections::BTreeMap;

use evident_catalog::Frequency;
use evident_core::access::Role;
use evident_core::fieldwork::{Act, FieldworkError, may};

pub use populations::{SPECS as POPULATIONS, Spec as PopulationSpec, spec as population_spec};
pub use requests::RequestFilter;

use sqlx::Row;

use crate::StoreError;
use crate::clock::instant;

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

/// What fieldwork needs of each adopted control (its code, frequency and owner), read without
/// rendering the controls' text as `Workspace::controls` does.
struct ControlFacts {
    code: String,
    frequency: Frequency,
    owner: Option<String>,
}

const SELECT_CONTROL_FACTS: &str = "SELECT code, frequency, owner_email FROM controls ORDER BY code";

impl crate::Workspace {
    async fn control_facts(&self) -> Result<Vec<ControlFacts>, StoreError> {
        let mut out = Vec::new();
        for r in sqlx::query(SELECT_CONTROL_FACTS).fetch_all(&self.db.pool).await? {
            let frequency: String = r.try_get("frequency")?;
            out.push(ControlFacts {
                code: r.try_get("code")?,
                frequency: Frequency::parse(&frequency)
                    .map_err(|_| StoreError::Invalid(format!("stored control frequency '{frequency}'")))?,
                owner: r.try_get("owner_email")?,
            });
        }
        Ok(out)
    }

    /// Each adopted control's frequency, by code (what a sample's suggested size depends on).
    async fn control_frequencies(&self) -> Result<BTreeMap<String, Frequency>, StoreError> {
        Ok(self
            .control_facts()
            .await?
            .into_iter()
            .map(|c| (c.code, c.frequency))
            .collect())
    }
}
