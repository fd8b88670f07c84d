//! The system description: a page with every statement's sources one click away, its
//! narratives written in place, approval, drift and management's assertion; and the API.

pub mod api;
pub mod page;
