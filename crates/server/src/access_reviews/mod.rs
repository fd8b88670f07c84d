//! Access reviews in the server: the campaigns, the reviewer's inbox and their API. Every rule
//! (who reviews what, what a decision must say, when a campaign may close) is the store's and
//! core's; this area hands down the caller's role and email.

pub mod api;
pub mod jml;
pub mod page;

pub(crate) use crate::fieldwork::{today, ws};

/// The closing summary's typesetter, for the store's `close_campaign`.
fn render(c: &evident_core::access_review::Closing) -> Result<Vec<u8>, String> {
    evident_report::access_review_pdf(c).map_err(|e| e.to_string())
}
