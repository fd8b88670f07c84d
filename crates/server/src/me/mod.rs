//! What one person has to do: accept published policies (the exact version they read), their
//! tasks and their training. Every role has it; it shows only the caller's own items.

pub mod api;
pub mod page;

use evident_core::registers::{TASKS, TRAINING};

use crate::ServerError;
use crate::state::AppState;
use crate::web::markdown::SafeHtml;

/// Everything the page and the API say about the caller.
pub struct Mine {
    pub to_accept: Vec<(String, String, i64, SafeHtml)>,
    pub accepted: Vec<(String, i64, String)>,
    pub tasks: Vec<(String, String, String, String)>,
    pub training: Vec<(String, String)>,
    /// Whether the caller is on the staff (employed today in the people register): only staff
    /// are asked to accept policies.
    pub staff: bool,
}

pub async fn mine(state: &AppState, email: &str) -> Result<Mine, ServerError> {
    let today = time::OffsetDateTime::now_utc().date();
    let staff = state.ws.is_staff(email, today).await?;
    let mut to_accept = Vec::new();
    let mut accepted = Vec::new();
    for p in state.ws.policies().await? {
        let Some(v) = p.published() else { continue };
        let mine: Vec<_> = state
            .ws
            .acceptances(&p)
            .await?
            .into_iter()
            .filter(|a| a.email == email)
            .collect();
        match mine.iter().find(|a| a.version == v.version) {
            Some(a) => accepted.push((p.title.clone(), a.version, crate::web::html::when(a.accepted_at))),
            None if staff => to_accept.push((
                p.id.clone(),
                p.title.clone(),
                v.version,
                crate::web::markdown::render(&v.body),
            )),
            None => {}
        }
    }
    let tasks = state
        .ws
        .records(&TASKS)
        .await?
        .into_iter()
        .filter(|t| t.record.get("owner").as_str() == Some(email))
        .map(|t| {
            (
                t.record.get("id").to_text(),
                t.record.get("title").to_text(),
                t.record.get("status").to_text(),
                t.record.get("due_date").to_text(),
            )
        })
        .collect();
    let training = state
        .ws
        .records(&TRAINING)
        .await?
        .into_iter()
        .filter(|t| t.record.get("email").as_str() == Some(email))
        .map(|t| (t.record.get("course").to_text(), t.record.get("completed_on").to_text()))
        .collect();
    Ok(Mine {
        to_accept,
        accepted,
        tasks,
        training,
        staff,
    })
}
