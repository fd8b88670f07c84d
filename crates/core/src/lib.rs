//! The domain of one organisation's compliance program and the pure engines over it.
//! No database, no network, no clock: time is always a parameter.

pub mod access;
pub mod access_review;
pub mod applicability;
pub mod assessment;
pub mod attestation;
pub mod cells;
pub mod checklist;
pub mod checks;
pub mod control;
pub mod dates;
pub mod description;
pub mod evidence;
pub mod facts;
pub mod fieldwork;
pub mod fix;
mod fnv;
pub mod freshness;
pub mod generate;
pub mod oscal;
pub mod policy;
pub mod readiness;
pub mod register;
pub mod register_status;
pub mod registers;
pub mod remediation;
pub mod row_id;
pub mod scope;
pub mod text;
pub mod window;
pub mod write_effect;

/// The audit log's chain rules live in their own crate so the pack verifier can use them
/// without the domain; `evident_core::ledger::…` paths keep working.
pub use evident_ledger as ledger;

pub use applicability::{Applicability, NaSource, applicability};
pub use control::{Control, EmailError, parse_email};
pub use dates::{DateError, add_months, date_of_ms, day_start_ms, format_date, months_before, parse_date};
pub use freshness::{Freshness, FreshnessState, freshness, governing_refresh};
pub use row_id::RowId;
pub use scope::{
    AuditPeriod, ComponentKind, ReportType, Scope, ScopeError, ScopeWarning, parse_categories, parse_window,
};
