//! The evidence library: search and paging over every item, the item's record and versions,
//! download (decrypted and checked against its hash on the way out) and withdrawal.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Reach;
use evident_store::EvidenceItem;
use serde::Deserialize;

use super::{Layout, TablePage, flash_from, render};
use crate::ServerError;
use crate::access::Access;
use crate::html::esc;
use crate::state::{AppState, Snapshot};
use crate::table::{Cell, ListQuery, Row, col, page};

/// Items this caller may see: an auditor only those linked to in-scope controls.
pub fn visible<'a>(snap: &'a Snapshot, access: &Access) -> Vec<&'a EvidenceItem> {
    let scoped: Option<std::collections::HashSet<&str>> = (access.reach == Reach::InScope).then(|| {
        super::controls::visible(snap, access)
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
    let write = evident_core::access::reach(
        access.role(),
        evident_core::access::Area::Evidence,
        evident_core::access::Action::Write,
    );
    match write {
        Reach::All => true,
        // An item that also evidences someone else's control is theirs to keep: an owner
        // changes it only when every control it serves is their own.
        Reach::Own => {
            !item.controls.is_empty()
                && item.controls.iter().all(|l| {
                    snap.program()
                        .controls
                        .iter()
                        .any(|c| c.code == l.control && c.owner_email.as_deref() == Some(access.user.email.as_str()))
                })
        }
        _ => false,
    }
}

/// The item as the API answers it: `EvidenceView`, the shape the CLI's JSON and the OpenAPI
/// schema share.
pub fn json_of(snap: &Snapshot, e: &EvidenceItem) -> serde_json::Value {
    view_json(e, &by_code(snap), time::OffsetDateTime::now_utc().date())
}

/// The item just written, from the controls as stored (not waiting for the next snapshot).
pub async fn json_after_write(state: &AppState, e: &EvidenceItem) -> Result<serde_json::Value, ServerError> {
    let controls = state.ws.controls().await?;
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
            let controls: Vec<&str> = e.controls.iter().map(|l| l.control.as_str()).collect();
            Row {
                cells: vec![
                    Cell::link(&e.title, format!("/evidence/{}", e.id)),
                    Cell::text(&e.file_name),
                    Cell::text(controls.join(", ")),
                    Cell::text(evident_core::format_date(e.attests_to())),
                    Cell::text(crate::html::when(e.captured_at)),
                    Cell::text(e.source_kind.as_str()),
                    Cell::badge(e.status().as_str()),
                ],
                json: view_json(e, &by_code, today),
                tags: vec![
                    ("state", e.status().as_str().into()),
                    ("source", e.source_kind.as_str().into()),
                ],
            }
        })
        .collect()
}

pub const COLUMNS: [crate::table::Column; 7] = [
    col("title", "Title"),
    col("file", "File"),
    col("controls", "Controls"),
    col("attests", "Attests to"),
    col("captured", "Captured"),
    col("source", "Source"),
    col("state", "State"),
];
pub const FILTERS: [(&str, &str); 2] = [("state", "State"), ("source", "Source")];

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
    let p = page("/evidence", &COLUMNS, &rows(&snap, &access), &q, FILTERS.to_vec());
    render(TablePage::new(
        Layout::new(&state, &access, "Evidence", "/evidence"),
        "Every item in the vault: encrypted at rest, addressed by its SHA-256, never edited. Upload new evidence from a control's page.".into(),
        p,
        "No evidence yet.".into(),
    ))
}

#[derive(Template)]
#[template(path = "detail.html")]
pub struct DetailPage {
    pub layout: Layout,
    badge: String,
    sections: Vec<(String, String)>,
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
    let mut facts = String::from("<dl class=\"facts\">");
    let mut fact = |k: &str, v: &str| facts.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v)));
    fact("File", &e.file_name);
    fact("Type", &e.media_type);
    fact("Size", &format!("{} bytes", e.size));
    fact("SHA-256", &e.sha256);
    fact("Captured", &crate::html::when(e.captured_at));
    fact("Added by", &e.created_by);
    fact("Source", &format!("{}: {}", e.source_kind, e.source_ref));
    if let Some(d) = &e.effective_date {
        fact("Attests to", d);
    }
    if let (Some(f), Some(t)) = (&e.period_from, &e.period_to) {
        fact("Period", &format!("{f} to {t}"));
    }
    if let Some(w) = &e.withdrawn {
        fact(
            "Withdrawn",
            &format!("{} by {}: {}", crate::html::when(w.at), w.by, w.reason),
        );
    }
    facts.push_str("</dl>");
    facts.push_str(&format!(
        "<p><a class=\"button\" href=\"/evidence/{}/download\" download>Download</a> <span class=\"small muted\">decrypted and checked against its SHA-256 as it is sent</span></p>",
        esc(&e.id)
    ));
    let links: String = e
        .controls
        .iter()
        .map(|l| {
            format!(
                "<li><a href=\"/controls/{0}\">{0}</a>{1}</li>",
                esc(&l.control),
                l.requirement
                    .as_deref()
                    .map(|r| format!(" · {}", esc(r)))
                    .unwrap_or_default()
            )
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
    let versions: String = chain
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "<li>{}. <a href=\"/evidence/{}\">{}</a> · {} · <span class=\"badge {}\">{}</span>{}</li>",
                i + 1,
                esc(&v.id),
                esc(&v.title),
                crate::html::when(v.captured_at),
                v.status().as_str(),
                v.status().as_str(),
                if v.id == e.id { " (this one)" } else { "" }
            )
        })
        .collect();
    let mut sections = vec![
        (String::new(), facts),
        ("Controls".into(), format!("<ul>{links}</ul>")),
        ("Versions".into(), format!("<ol class=\"reasons\">{versions}</ol>")),
    ];
    let may_withdraw = e.withdrawn.is_none() && may_change(&snap, &access, e);
    if may_withdraw && e.superseded_by.is_none() {
        sections.push((
            "Upload a new version".into(),
            format!(
                "<p class=\"small muted\">The new file supersedes this one for the same controls; this version stays in the record, marked superseded.</p>\
                 <form class=\"stack\" method=\"post\" action=\"/evidence/{id}/versions?csrf={csrf}\" enctype=\"multipart/form-data\" data-progress>\
                 <div class=\"field\"><label for=\"file\">File</label><div class=\"dropzone\"><input type=\"file\" id=\"file\" name=\"file\" required><span class=\"chosen\">Drop a file here or choose one</span></div></div>\
                 <div class=\"field\"><label for=\"vtitle\">Title</label><input type=\"text\" id=\"vtitle\" name=\"title\" value=\"{title}\"></div>\
                 <div class=\"field\"><label for=\"veffective\">Date it attests to</label><input type=\"date\" id=\"veffective\" name=\"effective_date\"></div>\
                 <button class=\"primary\" type=\"submit\">Upload new version</button><progress hidden aria-label=\"Upload progress\"></progress></form>",
                id = esc(&e.id),
                csrf = esc(access.csrf.as_deref().unwrap_or("")),
                title = esc(&e.title),
            ),
        ));
    }
    if may_withdraw {
        sections.push((
            "Withdraw".into(),
            format!(
                "<form class=\"stack\" method=\"post\" action=\"/evidence/{}/withdraw\" data-confirm=\"Withdraw this evidence? It stays in the record, marked withdrawn.\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <div class=\"field\"><label for=\"reason\">Reason</label><input type=\"text\" id=\"reason\" name=\"reason\" required></div>\
                 <button class=\"danger\" type=\"submit\">Withdraw</button></form>",
                esc(&e.id),
                esc(access.csrf.as_deref().unwrap_or(""))
            ),
        ));
    }
    let mut layout = Layout::new(&state, &access, e.title.clone(), "/evidence");
    layout.flash = flash_from(&q);
    render(DetailPage {
        layout,
        badge: e.status().as_str().into(),
        sections,
    })
}

pub async fn download(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let e = visible(&snap, &access)
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?;
    let body = stream_blob(&state, e.sha256.clone(), e.file_name.clone());
    let disposition = format!(
        "attachment; filename=\"{}\"",
        e.file_name.replace(['"', '\\', '\r', '\n'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, e.media_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, e.size.to_string()),
            (header::HeaderName::from_static("x-content-sha256"), e.sha256.clone()),
        ],
        body,
    )
        .into_response())
}

/// A blob decrypted as it is sent: memory stays a few chunks whatever the file's size. The
/// last chunk is held back until the whole blob has matched its hash, so an altered blob never
/// arrives complete: the connection is cut instead, short of the declared length.
pub fn stream_blob(state: &AppState, sha256: String, name: String) -> axum::body::Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let vault = state.ws.vault.clone();
    let handle = tokio::runtime::Handle::current();
    // The vault's reader is not Send; it runs on a blocking thread of its own.
    tokio::task::spawn_blocking(move || {
        let mut sink = ChannelSink {
            tx: tx.clone(),
            held: None,
        };
        let read = handle.block_on(vault.read_into(&sha256, &mut sink, std::path::Path::new(&name)));
        let last = match read {
            Ok(_) => sink.held.take().map(Ok),
            Err(e) => {
                tracing::error!(sha256 = %sha256, error = %e, "evidence download stopped");
                Some(Err(std::io::Error::other("the evidence could not be read in full")))
            }
        };
        if let Some(last) = last {
            let _ = futures::executor::block_on(tokio::task::unconstrained(tx.send(last)));
        }
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    axum::body::Body::from_stream(chunks)
}

/// Hands decrypted chunks to the response one behind, waiting while the client is slow.
struct ChannelSink {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    held: Option<bytes::Bytes>,
}

impl std::io::Write for ChannelSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(previous) = self.held.replace(bytes::Bytes::copy_from_slice(buf)) {
            // A plain wait on a blocking thread that is already inside the vault reader's
            // `block_on`: outside tokio's cooperative budget, which would otherwise run out
            // and leave this wait spinning on a budget that never refills.
            futures::executor::block_on(tokio::task::unconstrained(self.tx.send(Ok(previous))))
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    reason: String,
}

pub async fn withdraw_item(
    state: &AppState,
    access: &Access,
    id: &str,
    reason: &str,
) -> Result<EvidenceItem, ServerError> {
    let snap = state.snapshot().await?;
    let e = snap
        .program()
        .evidence
        .iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?;
    if !may_change(&snap, access, e) {
        return Err(ServerError::NotFound);
    }
    if reason.trim().is_empty() {
        return Err(ServerError::invalid("reason", "say why the evidence is withdrawn"));
    }
    Ok(state
        .ws
        .as_actor(&access.user.email)
        .withdraw_evidence(id, reason.trim())
        .await?)
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

pub type Detail = DetailPage;

impl DetailPage {
    pub fn new(layout: Layout, badge: impl Into<String>, sections: Vec<(String, String)>) -> DetailPage {
        DetailPage {
            layout,
            badge: badge.into(),
            sections,
        }
    }
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

/// Stores an upload as the next version of `id` (the web form and the API).
pub async fn store_version(
    state: &AppState,
    access: &Access,
    id: &str,
    mp: axum::extract::Multipart,
) -> Result<EvidenceItem, ServerError> {
    let snap = state.snapshot().await?;
    let old = snap
        .program()
        .evidence
        .iter()
        .find(|e| e.id == id)
        .ok_or(ServerError::NotFound)?
        .clone();
    if !may_change(&snap, access, &old) {
        return Err(ServerError::NotFound);
    }
    // Refused before the upload is read; the store checks again inside its transaction.
    old.check_supersedable().map_err(ServerError::Conflict)?;
    let up = super::controls::receive(state, mp).await?;
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
