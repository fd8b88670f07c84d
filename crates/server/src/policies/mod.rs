//! Policies: their listing rows and API form.

pub mod api;
pub mod page;

use std::collections::HashMap;

use evident_core::policy::{PolicyDetailView, PolicyView};

use crate::ServerError;
use crate::state::AppState;
use crate::web::table::{Cell, Column, Row, col};
use evident_store::Policy;

/// Acceptance of each policy's version in force by the people employed today, by policy id.
pub async fn acceptance_counts(
    state: &AppState,
    policies: &[Policy],
) -> Result<HashMap<String, (usize, usize)>, ServerError> {
    let staff = state.ws.staff_on(time::OffsetDateTime::now_utc().date()).await?;
    let mut counts = HashMap::new();
    for p in policies {
        counts.insert(p.id.clone(), state.ws.acceptance_count(p, &staff).await?);
    }
    Ok(counts)
}

/// The policy as the API answers it: `PolicyView`, the shape the CLI's JSON shares.
pub fn json_of(p: &Policy, acceptance: Option<(usize, usize)>) -> serde_json::Value {
    serde_json::to_value(PolicyView::of(p, time::OffsetDateTime::now_utc().date(), acceptance)).expect("serialises")
}

/// One policy with its text and parameters, as the API and `evident policies show` answer.
pub async fn detail_json(state: &AppState, id: &str) -> Result<serde_json::Value, ServerError> {
    let p = state.ws.policy(id).await?;
    let staff = state.ws.staff_on(time::OffsetDateTime::now_utc().date()).await?;
    let counted = state.ws.acceptance_count(&p, &staff).await?;
    let view = PolicyDetailView::of(&p, None, time::OffsetDateTime::now_utc().date(), Some(counted))
        .map_err(ServerError::Conflict)?;
    Ok(serde_json::to_value(view).expect("serialises"))
}

pub fn rows(policies: &[Policy], counts: &HashMap<String, (usize, usize)>) -> Vec<Row> {
    policies
        .iter()
        .map(|p| {
            let status = p.status().as_str().to_string();
            let counted = counts.get(&p.id).copied();
            Row {
                cells: vec![
                    Cell::link(&p.title, format!("/policies/{}", p.id)),
                    Cell::text(&p.id),
                    Cell::text(p.owner_role.replace('_', " ")),
                    Cell::num(p.latest().map(|v| v.version).unwrap_or(0)),
                    Cell::badge(&status),
                    Cell::text(
                        p.published()
                            .map(|v| format!("v{}", v.version))
                            .unwrap_or_else(|| "not yet".into()),
                    ),
                    Cell::text(match (p.published(), counted) {
                        (Some(_), Some((a, r))) => format!("{a} of {r}"),
                        _ => "—".into(),
                    }),
                ],
                json: json_of(p, counted),
                tags: vec![("status", status)],
            }
        })
        .collect()
}

pub const COLUMNS: [Column; 7] = [
    col("title", "Policy"),
    col("id", "Id"),
    col("owner", "Owner"),
    col("version", "Latest version"),
    col("status", "Status"),
    col("published", "Published"),
    col("accepted", "Accepted"),
];
