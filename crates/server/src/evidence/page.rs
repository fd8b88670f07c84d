//! The evidence library's pages: the listing, an item's record and versions, withdrawal and new versions.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Field, Form as FormBlock, Inline, Input, Section, text};
use crate::web::html::{url_encode, when};
use crate::web::table::{ListQuery, page};
use crate::web::{DetailPage, Layout, TablePage, flash_from, render};
use evident_store::EvidenceItem;

use super::{COLUMNS, FILTERS, may_change, rows, store_version, visible, withdraw_item};

pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let mut q = ListQuery::parse(q)?;
    if q.sort.is_none() {
        q.sort = Some("captured".into());
        q.dir = Some("desc".into());
    }
    let mut listed = rows(&snap, &access);
    if access.role() == evident_core::access::Role::Auditor {
        mark_outside_periods(&state, &access, &snap, listed.to_mut()).await?;
    }
    let p = page("/evidence", &COLUMNS, &listed, &q, FILTERS.to_vec());
    render(TablePage::new(
        Layout::new(&state, &access, "Evidence", "/evidence"),
        "Every item in the vault: encrypted at rest, addressed by its SHA-256, never edited. Upload new evidence from a control's page.".into(),
        p,
        "No evidence yet.".into(),
    ))
}

/// An auditor's list says which items attest to nothing inside their engagements' periods
/// (the rows are `visible`'s items, in its order).
async fn mark_outside_periods(
    state: &AppState,
    access: &Access,
    snap: &crate::state::Snapshot,
    rows: &mut [crate::web::table::Row],
) -> Result<(), ServerError> {
    let periods: Vec<(String, String)> = state
        .ws
        .as_actor(&access.user.email)
        .engagements(evident_core::access::Role::Auditor)
        .await?
        .into_iter()
        .map(|g| (g.period_start, g.period_end))
        .collect();
    for (row, e) in rows.iter_mut().zip(visible(snap, access)) {
        let day = evident_core::format_date(e.attests_to());
        let inside = periods.iter().any(|(from, to)| {
            evident_core::fieldwork::LinkedEvidence::new(
                e.id.clone(),
                String::new(),
                (e.period_from.as_deref(), e.period_to.as_deref(), Some(day.as_str())),
                (from, to),
            )
            .in_period
        });
        if !inside && let Some(cell) = row.cells.get_mut(3) {
            cell.text.push_str(" · outside the audit period");
        }
    }
    Ok(())
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let e = visible(&snap, &access)
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?;
    let mut facts = vec![
        ("File".to_string(), text(&e.file_name)),
        ("Type".into(), text(&e.media_type)),
        ("Size".into(), text(crate::web::html::human_bytes(e.size as u64))),
        ("SHA-256".into(), vec![Inline::mono(&e.sha256)]),
        ("Captured".into(), text(when(e.captured_at))),
        ("Added by".into(), text(&e.created_by)),
        ("Source".into(), text(format!("{}: {}", e.source_kind, e.source_ref))),
    ];
    if let Some(d) = &e.effective_date {
        facts.push(("Attests to".into(), text(d)));
    }
    if let (Some(f), Some(t)) = (&e.period_from, &e.period_to) {
        facts.push(("Period".into(), text(format!("{f} to {t}"))));
    }
    // An auditor reads, for each engagement, whether the item speaks to its period.
    if access.role() == evident_core::access::Role::Auditor {
        let day = evident_core::format_date(e.attests_to());
        for g in state
            .ws
            .as_actor(&access.user.email)
            .engagements(evident_core::access::Role::Auditor)
            .await?
        {
            let l = evident_core::fieldwork::LinkedEvidence::new(
                e.id.clone(),
                e.title.clone(),
                (e.period_from.as_deref(), e.period_to.as_deref(), Some(day.as_str())),
                (&g.period_start, &g.period_end),
            );
            facts.push((
                "Audit period".into(),
                vec![
                    crate::fieldwork::period_badge(l.in_period),
                    Inline::muted(format!("{}: {} to {}", g.name, g.period_start, g.period_end)),
                ],
            ));
        }
    }
    if let Some(w) = &e.withdrawn {
        facts.push((
            "Withdrawn".into(),
            text(format!("{} by {}: {}", when(w.at), w.by, w.reason)),
        ));
    }
    let links: Vec<Vec<Inline>> = e
        .controls
        .iter()
        .map(|l| {
            let mut parts = vec![Inline::link(
                &l.control,
                format!("/controls/{}", url_encode(&l.control)),
            )];
            if let Some(r) = &l.requirement {
                parts.push(Inline::muted(format!("· {r}")));
            }
            parts
        })
        .collect();
    // Versions: walk the supersedes chain both ways.
    let by_id: BTreeMap<&str, &EvidenceItem> = snap.program().evidence.iter().map(|x| (x.id.as_str(), x)).collect();
    let mut chain = vec![e];
    let mut cur = e;
    while let Some(prev) = cur.supersedes.as_deref().and_then(|p| by_id.get(p)) {
        chain.insert(0, prev);
        cur = prev;
    }
    cur = e;
    while let Some(next) = cur.superseded_by.as_deref().and_then(|p| by_id.get(p)) {
        chain.push(next);
        cur = next;
    }
    let versions = chain
        .iter()
        .map(|v| {
            let mut parts = vec![
                Inline::link(&v.title, format!("/evidence/{}", url_encode(&v.id))),
                Inline::text(format!("· {} ·", when(v.captured_at))),
                Inline::badge(v.status().as_str()),
            ];
            if v.id == e.id {
                parts.push(Inline::muted("(this one)"));
            }
            parts
        })
        .collect();
    let mut sections = vec![
        Section::new(
            "",
            vec![
                Block::Facts(facts),
                Block::Para(vec![
                    Inline::Button {
                        text: "Download".into(),
                        href: format!("/evidence/{}/download", url_encode(&e.id)),
                        download: true,
                    },
                    Inline::muted("decrypted and checked against its SHA-256 as it is sent"),
                ]),
            ],
        ),
        Section::new("Controls", vec![Block::List(links)]),
        Section::new("Versions", vec![Block::Ordered(versions)]),
    ];
    let may_withdraw = e.withdrawn.is_none() && may_change(&snap, &access, e);
    if may_withdraw && e.superseded_by.is_none() {
        let mut form = FormBlock::post(
            format!("/evidence/{}/versions", url_encode(&e.id)),
            &access.csrf,
            "Upload new version",
        );
        form.multipart = true;
        form.submit_class = "primary";
        form.intro = Some(
            "The new file supersedes this one for the same controls; this version stays in the record, marked superseded."
                .into(),
        );
        form.fields = vec![
            Field::new("file", "file", "File", Input::File).required(),
            Field::new("vtitle", "title", "Title", Input::Text).value(&e.title),
            Field::new("veffective", "effective_date", "Date it attests to", Input::Date),
        ];
        sections.push(Section::new("Upload a new version", vec![Block::Form(form)]).anchored("new-version"));
    }
    if may_withdraw && e.superseded_by.is_none() {
        let mut form = FormBlock::post(
            format!("/evidence/{}/relink", url_encode(&e.id)),
            &access.csrf,
            "Move the link",
        );
        form.intro = Some(
            "Linked to the wrong control or requirement? Move it: the file stays as it is, a new version of the record carries the new link and this one is kept, marked superseded. It keeps the day it attests to.".into(),
        );
        let mut from = Field::new(
            "relink-from",
            "from",
            "Move the link to",
            Input::Select(
                e.controls
                    .iter()
                    .map(|l| (l.control.clone(), l.control.clone()))
                    .collect(),
            ),
        );
        from.value = e.controls.first().map(|l| l.control.clone()).unwrap_or_default();
        if e.controls.len() < 2 {
            from.input = Input::Hidden;
        }
        form.fields = vec![
            from,
            Field::new(
                "relink-to",
                "to",
                "Link it instead to",
                Input::Select(super::link_targets(&snap, &access)),
            ),
            Field::new("relink-reason", "reason", "Why", Input::Text).required(),
        ];
        sections.push(Section::new("Link it elsewhere", vec![Block::Form(form)]).anchored("relink"));
    }
    if may_withdraw {
        let mut form = FormBlock::post(
            format!("/evidence/{}/withdraw", url_encode(&e.id)),
            &access.csrf,
            "Withdraw",
        );
        form.submit_class = "danger";
        form.confirm = Some("Withdraw this evidence? It stays in the record, marked withdrawn.".into());
        form.fields = vec![Field::new("reason", "reason", "Reason", Input::Text).required()];
        sections.push(Section::new("Withdraw", vec![Block::Form(form)]));
    }
    let mut layout = Layout::new(&state, &access, e.title.clone(), "/evidence");
    layout.flash = flash_from(&q);
    render(DetailPage::new(layout, e.status().as_str(), sections))
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    reason: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, ServerError> {
    withdraw_item(&state, &access, &id, &form.reason).await?;
    Ok(Redirect::to(&format!("/evidence/{id}?done=withdrawn")).into_response())
}

#[derive(Deserialize)]
pub struct RelinkForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// `POST /evidence/{id}/relink`: the item's new version, linked where the form says.
pub async fn relink(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<RelinkForm>,
) -> Result<Response, ServerError> {
    let item = super::relink_item(&state, &access, &id, &form.from, &form.to, &form.reason).await?;
    Ok(Redirect::to(&format!("/evidence/{}?done=relinked", item.id)).into_response())
}

/// A new version of an item, for the same controls and requirements; the old one is kept and
/// marked superseded.
pub async fn new_version(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    mp: axum::extract::Multipart,
) -> Result<Response, ServerError> {
    let item = store_version(&state, &access, &id, mp).await?;
    Ok(Redirect::to(&format!("/evidence/{}?done=uploaded", item.id)).into_response())
}
