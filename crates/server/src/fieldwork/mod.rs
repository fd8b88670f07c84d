//! Fieldwork in the server: the auditor's engagements, request lists, populations and samples.
//! Every rule (who may take which step, what an auditor or owner sees) is the store's; this area
//! only reads requests and hands the caller's role and email down.

pub mod api;
pub mod engagement_page;
pub mod files;
pub mod request_page;
pub mod sample_page;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use evident_store::{RequestFilter, Workspace};

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::DetailPage;

/// The workspace acting as the caller (the audit log names them).
pub(crate) fn ws(state: &AppState, access: &Access) -> Workspace {
    state.ws.as_actor(&access.user.email)
}

pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Runs a store call that reads the vault (its decryptor is not `Send`) on a blocking thread.
pub(crate) async fn off_thread<T, F>(f: F) -> Result<T, ServerError>
where
    T: Send + 'static,
    F: FnOnce(tokio::runtime::Handle) -> Result<T, evident_store::StoreError> + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || f(handle))
        .await
        .map_err(|e| ServerError::Internal(format!("fieldwork task: {e}")))?
        .map_err(ServerError::from)
}

/// A form's refusal the person can act on (bad input, a step out of turn, a role's limit):
/// its status and words. Anything else (not found, a failure) stays an error page.
pub(crate) fn refusal(e: ServerError) -> Result<(StatusCode, String), ServerError> {
    let (status, message) = crate::error::classify(&e);
    match message {
        Some(m) if status.is_client_error() && status != StatusCode::NOT_FOUND => Ok((status, m)),
        _ => Err(e),
    }
}

/// The page a form came from, shown again with why the form was refused.
pub(crate) fn refused(mut page: DetailPage, status: StatusCode, message: String) -> Result<Response, ServerError> {
    page.layout.error = Some(message);
    Ok((status, Html(askama::Template::render(&page)?)).into_response())
}

/// Whether an evidence item speaks to the engagement's period, in words as well as colour.
pub fn period_badge(in_period: bool) -> crate::web::blocks::Inline {
    crate::web::blocks::Inline::Badge {
        class: if in_period { "met" } else { "gap" }.into(),
        text: if in_period {
            "inside the audit period"
        } else {
            "outside the audit period"
        }
        .into(),
    }
}

/// A request list's filters from a query (`status`, `due_by`, `mine=true|1`), for the API and
/// the pages alike.
fn request_filter(q: &std::collections::BTreeMap<String, String>) -> Result<RequestFilter, ServerError> {
    use evident_core::fieldwork::requests::RequestStatus;
    Ok(RequestFilter {
        status: q
            .get("status")
            .filter(|s| !s.is_empty())
            .map(|s| RequestStatus::parse(s).map_err(|e| ServerError::invalid("status", e.to_string())))
            .transpose()?,
        due_by: q
            .get("due_by")
            .filter(|s| !s.is_empty())
            .map(|d| {
                evident_core::parse_date(d)
                    .map(evident_core::format_date)
                    .map_err(|e| ServerError::invalid("due_by", e.to_string()))
            })
            .transpose()?,
        mine: q.get("mine").is_some_and(|v| v == "true" || v == "1"),
    })
}

/// Linked evidence as a table: title, what it attests to, its standing against the audit
/// period, and a download.
fn evidence_table(id: &str, items: &[evident_core::fieldwork::LinkedEvidence]) -> crate::web::blocks::Table {
    use crate::web::blocks::{Inline, text};
    use crate::web::html::url_encode;
    crate::web::blocks::Table {
        id: id.into(),
        head: ["Evidence", "Attests to", "Audit period", "File"]
            .map(String::from)
            .to_vec(),
        rows: items
            .iter()
            .map(|l| {
                vec![
                    vec![Inline::link(&l.title, format!("/evidence/{}", url_encode(&l.id)))],
                    text(if l.attests.is_empty() {
                        "no date".to_string()
                    } else {
                        l.attests.replace("..", " to ")
                    }),
                    vec![period_badge(l.in_period)],
                    vec![Inline::Button {
                        text: "Download".into(),
                        href: format!("/evidence/{}/download", url_encode(&l.id)),
                        download: true,
                    }],
                ]
            })
            .collect(),
    }
}

/// The periods of the engagements an auditor is bound to.
pub async fn auditor_periods(state: &AppState, access: &Access) -> Result<Vec<(time::Date, time::Date)>, ServerError> {
    Ok(ws(state, access)
        .engagements(evident_core::access::Role::Auditor)
        .await?
        .iter()
        .filter_map(|e| {
            Some((
                evident_core::parse_date(&e.period_start).ok()?,
                evident_core::parse_date(&e.period_end).ok()?,
            ))
        })
        .collect())
}
