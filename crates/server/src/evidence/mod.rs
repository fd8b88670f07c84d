//! Evidence: who may see and change an item, its listing rows and API form, withdrawal and new versions.

pub mod api;
pub mod download;
pub mod pack;
pub mod page;
pub mod upload;

use evident_core::access::Reach;

use crate::ServerError;
use crate::access::Access;
use crate::state::{AppState, Snapshot};
use crate::web::table::{Cell, Row, col};
use evident_store::EvidenceItem;

/// Items this caller may see: an auditor only those linked to in-scope controls.
pub fn visible<'a>(snap: &'a Snapshot, access: &Access) -> Vec<&'a EvidenceItem> {
    let scoped: Option<std::collections::HashSet<&str>> = (access.reach == Reach::InScope).then(|| {
        crate::controls::visible(snap, access)
            .into_iter()
            .map(|c| c.code.as_str())
            .collect()
    });
    snap.program()
        .evidence
        .iter()
        .filter(|e| {
            scoped
                .as_ref()
                .is_none_or(|s| e.controls.iter().any(|l| s.contains(l.control.as_str())))
        })
        .collect()
}

/// Whether `access` may change this item (withdraw it, add a version): everyone who writes
/// evidence at all, or control owners for items on a control they own. `reach` is the caller's
/// reach for writing evidence, whatever route they came through.
pub fn may_change(snap: &Snapshot, access: &Access, item: &EvidenceItem) -> bool {
    may_change_where(access, item, |code| {
        snap.program()
            .controls
            .iter()
            .any(|c| c.code == code && c.owner_email.as_deref() == Some(access.user.email.as_str()))
    })
}

/// [`may_change`], with `owns(code)` saying whether the caller owns a control.
fn may_change_where(access: &Access, item: &EvidenceItem, owns: impl Fn(&str) -> bool) -> bool {
    let write = evident_core::access::reach(
        access.role(),
        evident_core::access::Area::Evidence,
        evident_core::access::Action::Write,
    );
    match write {
        Reach::All => true,
        // An item that also evidences someone else's control is theirs to keep: an owner
        // changes it only when every control it serves is their own.
        Reach::Own => !item.controls.is_empty() && item.controls.iter().all(|l| owns(&l.control)),
        _ => false,
    }
}

/// The item `id` as stored now when the caller may change it; not found otherwise (as for one
/// that does not exist). Read from the store, not the snapshot: a write never waits for
/// readiness to be recomputed.
async fn changeable(state: &AppState, access: &Access, id: &str) -> Result<EvidenceItem, ServerError> {
    let item = state.ws.evidence_item(id).await?;
    let mut owned = std::collections::HashSet::new();
    // Only an owner's right depends on the controls; everyone else needs no read.
    let write = evident_core::access::reach(
        access.role(),
        evident_core::access::Area::Evidence,
        evident_core::access::Action::Write,
    );
    for l in item.controls.iter().filter(|_| write == Reach::Own) {
        if state
            .ws
            .stored_control(&l.control)
            .await?
            .is_some_and(|c| c.owner_email.as_deref() == Some(access.user.email.as_str()))
        {
            owned.insert(l.control.clone());
        }
    }
    if may_change_where(access, &item, |code| owned.contains(code)) {
        Ok(item)
    } else {
        Err(ServerError::NotFound)
    }
}

/// The item as the API answers it: `EvidenceView`, the shape the CLI's JSON and the OpenAPI
/// schema share.
pub fn json_of(snap: &Snapshot, e: &EvidenceItem) -> serde_json::Value {
    view_json(e, &by_code(snap), time::OffsetDateTime::now_utc().date())
}

/// The item just written, with the controls it serves as stored (not waiting for the next
/// snapshot, and reading only those).
pub async fn json_after_write(state: &AppState, e: &EvidenceItem) -> Result<serde_json::Value, ServerError> {
    let mut controls = Vec::new();
    for l in &e.controls {
        controls.extend(state.ws.stored_control(&l.control).await?);
    }
    let by_code = controls.iter().map(|c| (c.code.as_str(), c)).collect();
    Ok(view_json(e, &by_code, time::OffsetDateTime::now_utc().date()))
}

fn by_code(snap: &Snapshot) -> std::collections::HashMap<&str, &evident_core::Control> {
    snap.program().controls.iter().map(|c| (c.code.as_str(), c)).collect()
}

fn view_json(
    e: &EvidenceItem,
    controls: &std::collections::HashMap<&str, &evident_core::Control>,
    today: time::Date,
) -> serde_json::Value {
    serde_json::to_value(evident_core::evidence::EvidenceView::of(
        e,
        |code| controls.get(code).copied(),
        today,
    ))
    .expect("serialises")
}

/// Listing rows with each item's API form. The whole library's are built once per snapshot
/// and shared by every request (20,000 items take tens of milliseconds to lay out).
pub fn rows<'a>(snap: &'a Snapshot, access: &Access) -> std::borrow::Cow<'a, [Row]> {
    if access.reach == Reach::All {
        std::borrow::Cow::Borrowed(
            snap.evidence_rows
                .get_or_init(|| build_rows(snap, snap.program().evidence.iter())),
        )
    } else {
        std::borrow::Cow::Owned(build_rows(snap, visible(snap, access).into_iter()))
    }
}

fn build_rows<'a>(snap: &Snapshot, items: impl Iterator<Item = &'a EvidenceItem>) -> Vec<Row> {
    let by_code = by_code(snap);
    let today = time::OffsetDateTime::now_utc().date();
    items
        .into_iter()
        .map(|e| {
            let view = evident_core::evidence::EvidenceView::of(e, |code| by_code.get(code).copied(), today);
            let controls: Vec<&str> = e.controls.iter().map(|l| l.control.as_str()).collect();
            // Withdrawn and superseded items are not current whatever their age.
            let freshness = match (e.status(), view.freshness) {
                (evident_core::evidence::EvidenceStatus::Current, Some(f)) => crate::web::name_of(f),
                (evident_core::evidence::EvidenceStatus::Current, None) => "no refresh rule".into(),
                _ => "not in use".into(),
            };
            let mut tags = vec![
                ("state", e.status().as_str().to_string()),
                ("source", e.source_kind.as_str().to_string()),
                ("freshness", freshness.clone()),
                // A month is the date filter's step: "what did we collect for March".
                ("month", view.attests_to.get(..7).unwrap_or_default().to_string()),
            ];
            tags.extend(e.controls.iter().map(|l| ("control", l.control.clone())));
            tags.extend(
                e.controls
                    .iter()
                    .filter_map(|l| l.requirement.clone())
                    .map(|r| ("requirement", r)),
            );
            let valid = view.valid_until.clone().unwrap_or_default();
            Row {
                cells: vec![
                    Cell::link(&e.title, format!("/evidence/{}", e.id)),
                    Cell::text(&e.file_name),
                    Cell::text(controls.join(", ")),
                    Cell::text(&view.attests_to),
                    Cell::text(crate::web::html::when(e.captured_at)),
                    Cell::text(e.source_kind.as_str()),
                    Cell::badge(e.status().as_str()),
                    Cell {
                        text: freshness.replace('_', " "),
                        // Its own classes: "per event" is neutral here, unlike a per-event exception.
                        badge: Some(format!("fresh-{}", freshness.replace(' ', "_"))),
                        ..Cell::default()
                    },
                    Cell::text(valid),
                ],
                json: serde_json::to_value(view).expect("serialises"),
                tags,
            }
        })
        .collect()
}

pub const COLUMNS: [crate::web::table::Column; 9] = [
    col("title", "Title"),
    col("file", "File"),
    col("controls", "Controls"),
    col("attests", "Attests to"),
    col("captured", "Captured"),
    col("source", "Source"),
    col("state", "State"),
    col("freshness", "Freshness"),
    col("valid_until", "Valid until"),
];

pub const FILTERS: [(&str, &str); 6] = [
    ("state", "State"),
    ("freshness", "Freshness"),
    ("control", "Control"),
    ("requirement", "Requirement"),
    ("month", "Attests to (month)"),
    ("source", "Source"),
];

pub async fn withdraw_item(
    state: &AppState,
    access: &Access,
    id: &str,
    reason: &str,
) -> Result<EvidenceItem, ServerError> {
    changeable(state, access, id).await?;
    if reason.trim().is_empty() {
        return Err(ServerError::invalid("reason", "say why the evidence is withdrawn"));
    }
    Ok(state
        .ws
        .as_actor(&access.user.email)
        .withdraw_evidence(id, reason.trim())
        .await?)
}

/// Where an item may be moved: `CODE|requirement` (or `CODE|` for none) with its words, for
/// every control the caller may write evidence for.
pub fn link_targets(snap: &Snapshot, access: &Access) -> Vec<(String, String)> {
    let write = access.as_in(
        evident_core::access::Area::Evidence,
        evident_core::access::Action::Write,
    );
    let mut out = Vec::new();
    for c in snap
        .program()
        .controls
        .iter()
        .filter(|c| crate::controls::may_write(&write, c))
    {
        for r in &c.evidence {
            out.push((format!("{}|{}", c.code, r.key), format!("{}: {}", c.code, r.title)));
        }
        out.push((format!("{}|", c.code), format!("{}: no particular requirement", c.code)));
    }
    out
}

/// Moves one of an item's links (`from`, a control code) to `to` (`CODE|requirement`),
/// keeping its other links (the page's form).
pub async fn relink_item(
    state: &AppState,
    access: &Access,
    id: &str,
    from: &str,
    to: &str,
    reason: &str,
) -> Result<EvidenceItem, ServerError> {
    let e = changeable(state, access, id).await?;
    let (code, requirement) = to
        .split_once('|')
        .ok_or_else(|| ServerError::invalid("to", "choose the control (and requirement) to link it to"))?;
    if !e.controls.iter().any(|l| l.control == from) {
        return Err(ServerError::invalid(
            "from",
            format!("the item is not linked to {from}"),
        ));
    }
    let mut links: Vec<evident_store::LinkTo> = e
        .controls
        .iter()
        .filter(|l| l.control != from)
        .map(|l| evident_store::LinkTo {
            control: l.control.clone(),
            requirement: l.requirement.clone(),
        })
        .collect();
    links.push(evident_store::LinkTo {
        control: code.to_string(),
        requirement: (!requirement.is_empty()).then(|| requirement.to_string()),
    });
    relink_in(state, access, id, links, reason).await
}

/// Links an item to exactly `links` (the page and the API): the caller must be allowed to
/// change the item and to add evidence to every control it is linked to after the move (an
/// owner moves their own evidence onto their own controls only).
pub async fn relink_to(
    state: &AppState,
    access: &Access,
    id: &str,
    links: Vec<evident_store::LinkTo>,
    reason: &str,
) -> Result<EvidenceItem, ServerError> {
    relink_in(state, access, id, links, reason).await
}

async fn relink_in(
    state: &AppState,
    access: &Access,
    id: &str,
    links: Vec<evident_store::LinkTo>,
    reason: &str,
) -> Result<EvidenceItem, ServerError> {
    changeable(state, access, id).await?;
    let write = access.as_in(
        evident_core::access::Area::Evidence,
        evident_core::access::Action::Write,
    );
    for l in &links {
        let target = state.ws.stored_control(&l.control).await?;
        if !target.is_some_and(|c| crate::controls::may_write(&write, &c)) {
            return Err(ServerError::invalid(
                "controls",
                format!("you cannot link evidence to {}", l.control.trim()),
            ));
        }
    }
    Ok(state
        .ws
        .as_actor(&access.user.email)
        .relink_evidence(id, links, reason)
        .await?)
}

/// Stores an upload as the next version of `id` (the web form and the API).
pub async fn store_version(
    state: &AppState,
    access: &Access,
    id: &str,
    mp: axum::extract::Multipart,
) -> Result<EvidenceItem, ServerError> {
    let old = changeable(state, access, id).await?;
    // Refused before the upload is read; the store checks again inside its transaction.
    old.check_supersedable().map_err(ServerError::Conflict)?;
    let up = crate::evidence::upload::receive(state, mp).await?;
    let field = |k: &str| up.fields.get(k).cloned();
    let item = state
        .ws
        .as_actor(&access.user.email)
        .add_evidence(
            evident_store::NewEvidence {
                title: field("title"),
                effective_date: field("effective_date"),
                period: field("period"),
                supersedes: Some(old.id.clone()),
                ..up.new_evidence(access)?
            },
            time::OffsetDateTime::now_utc().date(),
        )
        .await?;
    Ok(item)
}
