//! The audit scope: its page and API.

pub mod api;
pub mod page;
