//! The readiness dashboard and its API.

pub mod api;
pub mod page;
