//! Controls: which a caller may see and write, their listing rows, evidence uploads for one control.

pub mod api;
pub mod page;

use std::collections::BTreeMap;

use evident_core::access::Reach;
use evident_core::control::ControlView;

use crate::ServerError;
use crate::access::Access;
use crate::state::{AppState, Snapshot};
use crate::web::name_of;
use crate::web::table::{Cell, Row, col};
use evident_core::readiness::Status;

use crate::evidence::upload::Upload;

fn status_name(s: Status) -> String {
    name_of(s)
}

/// The controls this caller may see (an auditor only those applicable in the audit's scope).
pub fn visible<'a>(snap: &'a Snapshot, access: &Access) -> Vec<&'a evident_core::Control> {
    let in_scope: Option<std::collections::HashSet<&str>> = (access.reach == Reach::InScope).then(|| {
        snap.assessment
            .as_ref()
            .map(|a| {
                a.readiness
                    .controls
                    .iter()
                    .filter(|c| c.status != Status::NotApplicable)
                    .map(|c| c.control.as_str())
                    .collect()
            })
            .unwrap_or_default()
    });
    snap.program()
        .controls
        .iter()
        .filter(|c| in_scope.as_ref().is_none_or(|s| s.contains(c.code.as_str())))
        .collect()
}

pub fn status_of(snap: &Snapshot) -> BTreeMap<&str, Status> {
    snap.assessment
        .as_ref()
        .map(|a| {
            a.readiness
                .controls
                .iter()
                .map(|c| (c.control.as_str(), c.status))
                .collect()
        })
        .unwrap_or_default()
}

/// Listing rows with each control's API form (`ControlView`, the CLI's shape too).
pub fn rows(snap: &Snapshot, access: &Access) -> Vec<Row> {
    let readiness: BTreeMap<&str, &evident_core::readiness::ControlStatus> = snap
        .assessment
        .as_ref()
        .map(|a| a.readiness.controls.iter().map(|c| (c.control.as_str(), c)).collect())
        .unwrap_or_default();
    let in_scope = snap.assessment.as_ref().map(|a| a.scope.categories.clone());
    visible(snap, access)
        .into_iter()
        .map(|c| {
            let applicability = evident_core::assessment::applicability_of(c, in_scope.as_ref());
            let view = ControlView::of(c, &applicability, readiness.get(c.code.as_str()).copied());
            let owner = c.owner_email.clone().unwrap_or_default();
            let status = view.status.clone();
            Row {
                cells: vec![
                    Cell::code_link(&c.code, format!("/controls/{}", c.code)),
                    Cell::text(&c.title),
                    Cell::text(&c.area),
                    Cell::text(if owner.is_empty() {
                        "—".to_string()
                    } else {
                        owner.clone()
                    }),
                    Cell::text(c.frequency.to_string()),
                    Cell::badge(&status),
                    Cell::text(c.criteria.join(", ")),
                ],
                json: serde_json::to_value(view).expect("serialises"),
                tags: vec![
                    ("status", status),
                    ("area", c.area.clone()),
                    ("owner", if owner.is_empty() { "none".into() } else { owner }),
                ],
            }
        })
        .collect()
}

pub const COLUMNS: [crate::web::table::Column; 7] = [
    col("code", "Control"),
    col("title", "Title"),
    col("area", "Area"),
    col("owner", "Owner"),
    col("frequency", "Frequency"),
    col("status", "Status"),
    col("criteria", "Criteria"),
];

pub const FILTERS: [(&str, &str); 3] = [("status", "Status"), ("area", "Area"), ("owner", "Owner")];

/// Whether the caller may write on this control: all of them, or the ones they own.
pub fn may_write(access: &Access, control: &evident_core::Control) -> bool {
    match access.reach {
        Reach::All => true,
        Reach::Own => control.owner_email.as_deref() == Some(access.user.email.as_str()),
        _ => false,
    }
}

/// Stores an upload as evidence for one control, in the caller's name.
pub async fn store_upload(
    state: &AppState,
    access: &Access,
    code: &str,
    up: &Upload,
) -> Result<evident_store::EvidenceItem, ServerError> {
    // The control as stored now: the upload is answered without waiting for readiness.
    let control = state.ws.stored_control(code).await?.ok_or(ServerError::NotFound)?;
    if !may_write(access, &control) {
        return Err(ServerError::NotFound);
    }
    let field = |k: &str| up.fields.get(k).cloned();
    let ws = state.ws.as_actor(&access.user.email);
    let item = ws
        .add_evidence(
            evident_store::NewEvidence {
                title: field("title"),
                controls: vec![evident_store::LinkTo {
                    control: code.to_string(),
                    requirement: field("requirement"),
                }],
                effective_date: field("effective_date"),
                period: field("period"),
                ..up.new_evidence(access)?
            },
            time::OffsetDateTime::now_utc().date(),
        )
        .await?;
    Ok(item)
}
