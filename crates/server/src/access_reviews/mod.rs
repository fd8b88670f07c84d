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

/// An inbox page's `limit` (1 to the most a page holds) and `offset` (0 or more) from a query:
/// a value that is not a number is 400, one out of range 422.
fn inbox_window(q: &std::collections::BTreeMap<String, String>) -> Result<(Option<i64>, i64), crate::ServerError> {
    use evident_core::access_review::INBOX_PAGE_MAX;
    let number = |k: &str| -> Result<Option<i64>, crate::ServerError> {
        match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| crate::ServerError::Malformed {
                field: k.into(),
                reason: format!("'{v}' is not a whole number"),
            }),
        }
    };
    let limit = number("limit")?;
    if let Some(l) = limit.filter(|l| !(1..=INBOX_PAGE_MAX).contains(l)) {
        return Err(crate::ServerError::invalid(
            "limit",
            format!("{l} is not between 1 and {INBOX_PAGE_MAX}"),
        ));
    }
    let offset = number("offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(crate::ServerError::invalid("offset", format!("{offset} is below 0")));
    }
    Ok((limit, offset))
}
