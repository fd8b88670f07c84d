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
use evident_store::Workspace;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::DetailPage;

fn ws(state: &AppState, access: &Access) -> Workspace {
    state.ws.as_actor(&access.user.email)
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Runs a store call that reads the vault (its decryptor is not `Send`) on a blocking thread.
async fn off_thread<T, F>(f: F) -> Result<T, ServerError>
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
fn refusal(e: ServerError) -> Result<(StatusCode, String), ServerError> {
    let (status, message) = crate::error::classify(&e);
    match message {
        Some(m) if status.is_client_error() && status != StatusCode::NOT_FOUND => Ok((status, m)),
        _ => Err(e),
    }
}

/// The page a form came from, shown again with why the form was refused.
fn refused(mut page: DetailPage, status: StatusCode, message: String) -> Result<Response, ServerError> {
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
