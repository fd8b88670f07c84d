//! Controls: the list with filters, the detail (mapping, owner, status and why, evidence,
//! checks with failing records, history), evidence upload and owner assignment.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Reach;
use evident_core::readiness::Status;
use serde::Deserialize;
use serde_json::json;

use super::{Layout, TablePage, flash_from, name_of, render};
use crate::ServerError;
use crate::access::Access;
use crate::state::{AppState, Snapshot};
use crate::table::{Cell, ListQuery, Row, col, page};

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

pub fn rows(snap: &Snapshot, access: &Access) -> Vec<Row> {
    let statuses = status_of(snap);
    visible(snap, access)
        .into_iter()
        .map(|c| {
            let status = statuses
                .get(c.code.as_str())
                .map(|s| status_name(*s))
                .unwrap_or_else(|| "unassessed".into());
            let owner = c.owner_email.clone().unwrap_or_default();
            Row {
                cells: vec![
                    Cell::link(&c.code, format!("/controls/{}", c.code)),
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
                json: json!({
                    "code": c.code, "title": c.title, "area": c.area, "owner": c.owner_email,
                    "frequency": c.frequency.to_string(), "status": status, "criteria": c.criteria,
                    "evidence_requirements": c.evidence.iter().map(|e| &e.key).collect::<Vec<_>>(),
                    "not_applicable_reason": c.na_reason,
                }),
                tags: vec![
                    ("status", status),
                    ("area", c.area.clone()),
                    ("owner", if owner.is_empty() { "none".into() } else { owner }),
                ],
            }
        })
        .collect()
}

pub const COLUMNS: [crate::table::Column; 7] = [
    col("code", "Control"),
    col("title", "Title"),
    col("area", "Area"),
    col("owner", "Owner"),
    col("frequency", "Frequency"),
    col("status", "Status"),
    col("criteria", "Criteria"),
];
pub const FILTERS: [(&str, &str); 3] = [("status", "Status"), ("area", "Area"), ("owner", "Owner")];

pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let q = ListQuery::parse(q)?;
    let p = page("/controls", &COLUMNS, &rows(&snap, &access), &q, FILTERS.to_vec());
    render(TablePage::new(
        Layout::new(&state, &access, "Controls", "/controls"),
        "Every control of the program, its owner and its readiness. Filter by status to see what needs work.".into(),
        p,
        "No controls yet: adopt the library with `evident controls adopt`.".into(),
    ))
}

/// (id, title, requirement, attests, captured, sha256, its first 12 characters)
type EvidenceView = (String, String, String, String, String, String, String);

/// (id, title, status, failing (record, reason), how many more fail)
type CheckView = (String, String, String, Vec<(String, String)>, usize);

#[derive(Template)]
#[template(path = "control.html")]
struct ControlPage {
    layout: Layout,
    code: String,
    title: String,
    description: String,
    status: String,
    owner: String,
    owner_value: String,
    area: String,
    frequency: String,
    criteria: Vec<String>,
    na_reason: String,
    reasons: Vec<(String, String, String)>,
    requirements: Vec<(String, String, String)>,
    evidence: Vec<EvidenceView>,
    /// (id, title, status, failing (record, reason), more)
    checks: Vec<CheckView>,
    history: Vec<(String, String, String)>,
    can_upload: bool,
    can_assign: bool,
    upload_error: String,
    upload_title: String,
    max_upload: String,
}

/// Whether the caller may write on this control: all of them, or the ones they own.
pub fn may_write(access: &Access, control: &evident_core::Control) -> bool {
    match access.reach {
        Reach::All => true,
        Reach::Own => control.owner_email.as_deref() == Some(access.user.email.as_str()),
        _ => false,
    }
}

async fn control_page(
    state: &AppState,
    access: &Access,
    code: &str,
    upload_error: String,
    upload_title: String,
) -> Result<ControlPage, ServerError> {
    let snap = state.snapshot().await?;
    let code = code.to_uppercase();
    let read_access = Access {
        reach: evident_core::access::reach(
            access.role(),
            evident_core::access::Area::Controls,
            evident_core::access::Action::Read,
        ),
        ..access.clone()
    };
    let c = visible(&snap, &read_access)
        .into_iter()
        .find(|c| c.code == code)
        .ok_or(ServerError::NotFound)?
        .clone();
    let status = snap
        .assessment
        .as_ref()
        .and_then(|a| a.readiness.controls.iter().find(|s| s.control == code));
    let write_access = Access {
        reach: evident_core::access::reach(
            access.role(),
            evident_core::access::Area::Evidence,
            evident_core::access::Action::Write,
        ),
        ..access.clone()
    };
    let mut current: Vec<&evident_store::EvidenceItem> =
        snap.program().evidence.iter().filter(|e| e.is_current()).collect();
    current.sort_by_key(|e| std::cmp::Reverse(e.captured_at));
    let evidence = current
        .into_iter()
        .flat_map(|e| {
            e.controls.iter().filter(|l| l.control == code).map(move |l| {
                (
                    e.id.clone(),
                    e.title.clone(),
                    l.requirement.clone().unwrap_or_default(),
                    evident_core::format_date(e.attests_to()),
                    crate::html::when(e.captured_at),
                    e.sha256.clone(),
                    e.sha256.chars().take(12).collect::<String>(),
                )
            })
        })
        .collect();
    let checks = snap
        .assessment
        .as_ref()
        .map(|a| {
            // The checks the content says test this control (`checks:` on its template).
            let tested_by: &[String] = snap
                .program()
                .controls
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.checks())
                .unwrap_or_default();
            a.checks
                .values()
                .filter(|r| tested_by.contains(&r.id))
                .map(|r| {
                    let failing: Vec<(String, String)> = r
                        .failures
                        .iter()
                        .take(20)
                        .map(|f| (f.record.clone(), f.reason.clone()))
                        .collect();
                    (
                        r.id.clone(),
                        r.title.clone(),
                        name_of(r.status),
                        failing,
                        r.failures.len().saturating_sub(20),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let history = state
        .ws
        .audit_about(&format!("control:{code}"))
        .await?
        .into_iter()
        .map(|e| (crate::html::when(e.at), e.actor, e.action))
        .collect();
    Ok(ControlPage {
        layout: Layout::new(state, access, format!("{code} {}", c.title), "/controls"),
        status: status
            .map(|s| status_name(s.status))
            .unwrap_or_else(|| "unassessed".into()),
        reasons: status
            .map(|s| {
                s.reasons
                    .iter()
                    .map(|r| (name_of(r.severity).replace('_', " "), r.text.clone(), r.fix.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        requirements: c
            .evidence
            .iter()
            .map(|q| {
                (
                    q.key.clone(),
                    q.title.clone(),
                    format!("refresh: {}", name_of(q.refresh).replace('_', " ")),
                )
            })
            .collect(),
        evidence,
        checks,
        history,
        can_upload: may_write(&write_access, &c),
        can_assign: access.may_write(evident_core::access::Area::Controls)
            && evident_core::access::reach(
                access.role(),
                evident_core::access::Area::Controls,
                evident_core::access::Action::Write,
            ) == Reach::All,
        owner: c.owner_email.clone().unwrap_or_else(|| "nobody yet".into()),
        owner_value: c.owner_email.clone().unwrap_or_default(),
        area: c.area.clone(),
        frequency: c.frequency.to_string(),
        criteria: c.criteria.clone(),
        na_reason: c.na_reason.clone().unwrap_or_default(),
        description: c.description.clone(),
        title: c.title.clone(),
        code,
        upload_error,
        upload_title,
        max_upload: crate::html::human_bytes(state.ws.config.server.max_upload_bytes),
    })
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut p = control_page(&state, &access, &code, String::new(), String::new()).await?;
    p.layout.flash = flash_from(&q);
    render(p)
}

/// A file received through the web form or the API, streamed to a temporary file with its
/// size and type checked before anything reaches the vault.
pub struct Upload {
    /// An unnamed temporary file: it has no name to leave behind if the server is killed.
    pub file: std::fs::File,
    pub file_name: String,
    pub fields: BTreeMap<String, String>,
}

impl Upload {
    /// The received bytes under the person's own file name, for the vault.
    pub fn file(&self) -> Result<evident_store::EvidenceFile<'static>, ServerError> {
        Ok(evident_store::EvidenceFile::Received {
            file: self
                .file
                .try_clone()
                .map_err(|e| ServerError::Internal(format!("upload file: {e}")))?,
            name: self.file_name.clone(),
        })
    }

    /// The upload as new evidence from the signed-in person; the caller fills in what the form
    /// said (title, controls, dates) and the store checks all of it.
    pub fn new_evidence(&self, access: &Access) -> Result<evident_store::NewEvidence<'static>, ServerError> {
        Ok(evident_store::NewEvidence::new(
            self.file()?,
            evident_store::SourceKind::Person,
            format!("web upload by {} ({})", access.user.email, self.file_name),
        ))
    }
}

/// Removes partial uploads an older version left named in the workspace's `tmp` folder when
/// it was killed mid-upload (uploads are unnamed temporary files now).
pub fn clear_partial_uploads(ws: &evident_store::Workspace) {
    let Ok(entries) = std::fs::read_dir(ws.dir.join("tmp")) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with("upload-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A refused upload, with the form's other fields so the page can show them again.
pub struct Refused {
    pub error: ServerError,
    pub fields: BTreeMap<String, String>,
}

impl From<Refused> for ServerError {
    fn from(r: Refused) -> Self {
        r.error
    }
}

/// Reads the multipart form: the file goes to a temporary file, checked for type and size as
/// it streams; nothing reaches the vault here. On a refusal the rest of the form is still read
/// so what the person typed can be shown again.
pub async fn receive(state: &AppState, mut mp: Multipart) -> Result<Upload, Refused> {
    let mut fields = BTreeMap::new();
    let mut upload: Option<(std::fs::File, String)> = None;
    let mut refused: Option<ServerError> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                refused.get_or_insert(ServerError::invalid("file", format!("the upload was cut short: {e}")));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name != "file" {
            match field.text().await {
                Ok(text) => {
                    fields.insert(name, text);
                }
                Err(e) => {
                    refused.get_or_insert(ServerError::invalid(&name, e));
                }
            }
            continue;
        }
        if refused.is_some() {
            continue;
        }
        if upload.is_some() {
            // Keeping the first or the last silently would store what the sender did not mean.
            refused = Some(ServerError::invalid("file", "send one file per upload"));
            continue;
        }
        match store_part(state, field).await {
            Ok(u) => upload = Some(u),
            Err(e) => refused = Some(e),
        }
    }
    match (refused, upload) {
        (Some(error), _) => Err(Refused { error, fields }),
        (None, None) => Err(Refused {
            error: ServerError::invalid("file", "choose a file to upload"),
            fields,
        }),
        (None, Some((file, file_name))) => Ok(Upload {
            file,
            file_name,
            fields,
        }),
    }
}

async fn store_part(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<(std::fs::File, String), ServerError> {
    use tokio::io::AsyncWriteExt;
    let limit = state
        .ws
        .config
        .server
        .max_upload_bytes
        .min(state.ws.config.max_evidence_bytes);
    // Browsers send an empty name when no file was chosen.
    let given = field.file_name().unwrap_or("").trim().to_string();
    if given.is_empty() {
        return Err(ServerError::invalid("file", "choose a file to upload"));
    }
    let file_name = evident_store::clean_file_name(&given);
    let media_type = evident_core::evidence::media_type_of(&file_name);
    if !state.ws.config.server.upload_types.contains(&media_type) {
        return Err(ServerError::invalid(
            "file",
            format!("{file_name}: files of this type ({media_type}) are not accepted as evidence"),
        ));
    }
    let dir = state.ws.dir.join("tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
    let temp = tempfile::tempfile_in(&dir).map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
    let mut out = tokio::fs::File::from_std(temp);
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ServerError::invalid("file", format!("the upload was cut short: {e}")))?
    {
        size += chunk.len() as u64;
        if size > limit {
            return Err(ServerError::invalid(
                "file",
                format!(
                    "{file_name} is larger than the limit of {}",
                    crate::html::human_bytes(limit)
                ),
            ));
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| ServerError::Internal(format!("upload file: {e}")))?;
    }
    out.flush().await.map_err(|e| ServerError::Internal(e.to_string()))?;
    if size == 0 {
        return Err(ServerError::invalid("file", format!("{file_name} is empty")));
    }
    Ok((out.into_std().await, file_name))
}

/// Stores an upload as evidence for one control, in the caller's name.
pub async fn store_upload(
    state: &AppState,
    access: &Access,
    code: &str,
    up: &Upload,
) -> Result<evident_store::EvidenceItem, ServerError> {
    let snap = state.snapshot().await?;
    let control = snap
        .program()
        .controls
        .iter()
        .find(|c| c.code == code)
        .ok_or(ServerError::NotFound)?;
    if !may_write(access, control) {
        return Err(ServerError::NotFound);
    }
    let field = |k: &str| up.fields.get(k).cloned();
    let ws = state.ws.as_actor(&access.user.email);
    let item = ws
        .add_evidence(
            evident_store::NewEvidence {
                title: field("title"),
                controls: vec![(code.to_string(), field("requirement"))],
                effective_date: field("effective_date"),
                period: field("period"),
                ..up.new_evidence(access)?
            },
            time::OffsetDateTime::now_utc().date(),
        )
        .await?;
    Ok(item)
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    mp: Multipart,
) -> Result<Response, ServerError> {
    let code = code.to_uppercase();
    let result = match receive(&state, mp).await {
        Ok(up) => store_upload(&state, &access, &code, &up)
            .await
            .map(|_| ())
            .map_err(|e| (e, up.fields.get("title").cloned())),
        Err(r) => Err((r.error, r.fields.get("title").cloned())),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/controls/{code}?done=uploaded#evidence")).into_response()),
        Err((ServerError::Invalid { reason, .. }, title)) => {
            let p = control_page(&state, &access, &code, reason, title.unwrap_or_default()).await?;
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                axum::response::Html(p.render()?),
            )
                .into_response())
        }
        Err((e, _)) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct OwnerForm {
    owner: String,
}

pub async fn set_owner(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(code): Path<String>,
    Form(form): Form<OwnerForm>,
) -> Result<Response, ServerError> {
    if access.reach != Reach::All {
        return Err(ServerError::NotFound);
    }
    let code = code.to_uppercase();
    let owner = form.owner.trim();
    let owner = (!owner.is_empty()).then_some(owner);
    if let Some(o) = owner {
        evident_core::parse_email(o).map_err(|e| ServerError::invalid("owner", e))?;
    }
    state
        .ws
        .as_actor(&access.user.email)
        .set_control_owner(&code, owner)
        .await?;
    Ok(Redirect::to(&format!("/controls/{code}?done=saved")).into_response())
}
