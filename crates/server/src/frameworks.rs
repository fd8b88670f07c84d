//! Frameworks in the browser: the program's OSCAL documents to download, the frameworks imported
//! from OSCAL catalogs, and one framework's controls with ours mapped to each. Importing and
//! mapping are the store's (`evident frameworks …` today).

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Area;
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::fieldwork::{refusal, refused};
use crate::state::AppState;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, flash_from, render};

fn href(id: &str) -> String {
    format!("/frameworks/{}", url_encode(id))
}

fn what(kind: &str) -> &'static str {
    match kind {
        "catalog" => "The SOC 2 criteria as Evident models them (our titles and explanations)",
        "profile" => "The criteria of the categories in scope",
        "component-definition" => "Your controls that apply, by area, against the criteria",
        "system-security-plan" => {
            "The system, its boundary, people and components, and each criterion's implementation"
        }
        "assessment-plan" => "What the readiness assessment covers",
        "assessment-results" => "A finding per criterion; an observation per evidence item, by SHA-256",
        _ => "Open gaps and tasks, with owners and due dates",
    }
}

/// `/frameworks`: the OSCAL documents and the imported frameworks.
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = list_page(&state, &access).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn list_page(state: &AppState, access: &Access) -> Result<DetailPage, ServerError> {
    let layout = Layout::new(state, access, "Frameworks and OSCAL", "/frameworks");
    let downloads = evident_core::oscal::DOCUMENTS
        .iter()
        .map(|(kind, file)| {
            vec![
                vec![Inline::link(*file, format!("/frameworks/oscal/{kind}"))],
                text(what(kind)),
            ]
        })
        .collect();
    let mut sections = vec![Section::new(
        "Your program in OSCAL",
        vec![
            Block::Para(vec![Inline::text(
                "OSCAL 1.2.3 JSON, valid against NIST's schemas: download all seven into one folder and their references to one another resolve. Unchanged records keep their UUIDs from one export to the next.",
            )]),
            Block::Table(Table {
                id: "oscal-documents".into(),
                head: vec!["Document".into(), "What it holds".into()],
                rows: downloads,
            }),
        ],
    )];
    let frameworks = state.ws.frameworks().await?;
    let mut blocks = if frameworks.is_empty() {
        vec![Block::Note(
            "No other framework yet: import an OSCAL catalog (such as NIST SP 800-53), narrowed by a profile (such as its MODERATE baseline) if you like, then map your controls to its controls."
                .into(),
        )]
    } else {
        vec![Block::Table(Table {
            id: "framework-list".into(),
            head: [
                "Framework",
                "Title",
                "Version",
                "Controls",
                "Selected",
                "Mapped to ours",
                "Profile",
            ]
            .map(String::from)
            .to_vec(),
            rows: frameworks
                .iter()
                .map(|f| {
                    vec![
                        vec![Inline::link(&f.id, href(&f.id))],
                        text(&f.title),
                        text(&f.version),
                        text(f.controls.to_string()),
                        text(f.selected.to_string()),
                        text(f.mapped.to_string()),
                        text(f.profile.clone().unwrap_or_default()),
                    ]
                })
                .collect(),
        })]
    };
    if access.may_write(Area::Criteria) {
        let mut form = blocks::Form::post("/frameworks", &access.csrf, "Import");
        form.multipart = true;
        form.intro = Some("An OSCAL catalog in JSON, and optionally a profile that selects from it.".into());
        form.fields = vec![
            Field::new("fw-id", "id", "Id in Evident", Input::Text).required(),
            Field::new("fw-catalog", "catalog", "Catalog (OSCAL JSON)", Input::File).required(),
            Field::new("fw-profile", "profile", "Profile (optional)", Input::File),
        ];
        blocks.push(Block::Form(form));
    }
    sections.push(Section::new("Imported frameworks", blocks));
    Ok(DetailPage::new(layout, "", sections))
}

/// The most a catalog or profile may weigh; NIST SP 800-53 rev 5 is 3.2 MB.
const MAX_DOCUMENT: usize = 64 << 20;

/// `POST /frameworks`: imports an uploaded catalog (and profile) as a framework.
pub async fn import(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    mut mp: Multipart,
) -> Result<Response, ServerError> {
    let mut id = String::new();
    let mut files: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
    let mut problem: Option<ServerError> = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ServerError::invalid("catalog", format!("the upload was cut short: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().unwrap_or(&name).to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ServerError::invalid(&name, format!("the upload was cut short: {e}")))?;
        match name.as_str() {
            "id" => id = String::from_utf8_lossy(&bytes).trim().to_string(),
            "catalog" | "profile" if bytes.len() > MAX_DOCUMENT => {
                problem.get_or_insert(ServerError::invalid(
                    &name,
                    format!("over the {MAX_DOCUMENT}-byte limit"),
                ));
            }
            "catalog" | "profile" if !bytes.is_empty() => {
                files.insert(name, (file_name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let done = match (problem, files.get("catalog")) {
        (Some(p), _) => Err(p),
        (None, None) => Err(ServerError::invalid("catalog", "choose the catalog file")),
        (None, Some((cname, cbytes))) => state
            .ws
            .as_actor(&access.user.email)
            .import_framework(
                &id,
                (cname, cbytes),
                files.get("profile").map(|(n, b)| (n.as_str(), b.as_slice())),
            )
            .await
            .map_err(ServerError::from),
    };
    match done {
        Ok(f) => Ok(Redirect::to(&format!("{}?done=imported", href(&f.id))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            refused(list_page(&state, &access).await?, status, message)
        }
    }
}

#[derive(Deserialize)]
pub struct MappingForm {
    control: String,
    ours: String,
    #[serde(default)]
    remove: String,
}

/// `POST /frameworks/{id}/mappings`: maps (or unmaps) one of ours to one of theirs.
pub async fn mapping(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<MappingForm>,
) -> Result<Response, ServerError> {
    let remove = !form.remove.is_empty();
    let done = state
        .ws
        .as_actor(&access.user.email)
        .map_framework_control(&id, &form.control, &form.ours, remove)
        .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!(
            "{}?done={}#framework-controls",
            href(&id),
            if remove { "unmapped" } else { "mapped" }
        ))
        .into_response()),
        Err(e) => {
            let (status, message) = refusal(e.into())?;
            refused(framework_page(&state, &access, &id, "").await?, status, message)
        }
    }
}

/// `/frameworks/{id}`: the framework's controls (`?show=selected|unmapped`), ours mapped to each.
pub async fn framework(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let show = q.get("show").cloned().unwrap_or_default();
    let mut page = framework_page(&state, &access, &id, &show).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn framework_page(state: &AppState, access: &Access, id: &str, show: &str) -> Result<DetailPage, ServerError> {
    let id = id.to_string();
    let f = state.ws.framework(&id).await?;
    let mut controls = state.ws.framework_controls(&id).await?;
    match show {
        "selected" => controls.retain(|c| c.control.selected),
        "unmapped" => controls.retain(|c| c.control.selected && c.mapped.is_empty()),
        _ => {}
    }
    let layout = Layout::new(state, access, f.title.clone(), "/frameworks");
    let filters = vec![
        Inline::link(format!("all {}", f.controls), href(&id)),
        Inline::text(" · "),
        Inline::link(
            format!("{} selected", f.selected),
            format!("{}?show=selected", href(&id)),
        ),
        Inline::text(" · "),
        Inline::link("selected, none of ours mapped", format!("{}?show=unmapped", href(&id))),
    ];
    let rows = controls
        .iter()
        .map(|c| {
            let mut title = vec![Inline::text(&c.control.title)];
            if c.control.withdrawn {
                title.push(Inline::muted(" withdrawn"));
            }
            vec![
                vec![Inline::mono(&c.control.id)],
                title,
                text(c.control.group.clone().unwrap_or_default()),
                text(if c.control.selected { "selected" } else { "" }),
                if c.mapped.is_empty() {
                    vec![Inline::muted("none")]
                } else {
                    c.mapped
                        .iter()
                        .flat_map(|m| {
                            [
                                Inline::link(m, format!("/controls/{}", url_encode(m))),
                                Inline::text(" "),
                            ]
                        })
                        .collect()
                },
            ]
        })
        .collect();
    let sections = vec![
        Section::new(
            "",
            vec![
                Block::Facts(vec![
                    ("Version".into(), text(&f.version)),
                    (
                        "Profile".into(),
                        text(f.profile.clone().unwrap_or_else(|| "none: every control".into())),
                    ),
                    (
                        "Imported".into(),
                        text(format!("{} by {}", f.imported_at, f.imported_by)),
                    ),
                    (
                        "Mapped".into(),
                        text(format!(
                            "{} of its {} controls to one or more of ours",
                            f.mapped, f.controls
                        )),
                    ),
                ]),
                Block::Para(filters),
            ],
        ),
        Section::new(
            "Controls",
            vec![Block::Table(Table {
                id: "framework-controls".into(),
                head: ["Control", "Title", "Group", "Profile", "Ours"]
                    .map(String::from)
                    .to_vec(),
                rows,
            })],
        ),
    ];
    let mut sections = sections;
    if access.may_write(Area::Criteria) {
        let ours: Vec<(String, String)> = state
            .ws
            .controls()
            .await?
            .into_iter()
            .map(|c| (c.code.clone(), format!("{} {}", c.code, c.title)))
            .collect();
        let mut form = blocks::Form::post(format!("{}/mappings", href(&id)), &access.csrf, "Map");
        form.inline = true;
        form.fields = vec![
            Field::new("map-control", "control", "Their control (e.g. ac-2)", Input::Text).required(),
            Field::new("map-ours", "ours", "Our control", Input::Select(ours)).required(),
        ];
        form.hint =
            Some("Each mapping is kept in the audit log; map several of ours to one of theirs as needed.".into());
        let mut unmap = blocks::Form::post(format!("{}/mappings", href(&id)), &access.csrf, "Remove the mapping");
        unmap.inline = true;
        unmap.fields = vec![
            Field::new("unmap-control", "control", "Their control", Input::Text).required(),
            Field::new("unmap-ours", "ours", "Our control", Input::Text).required(),
            Field::hidden("remove", "1"),
        ];
        sections.insert(1, Section::new("Map your controls", vec![Block::Form(form)]));
        sections.push(Section::new("Remove a mapping", vec![Block::Form(unmap)]));
    }
    Ok(DetailPage::new(layout, "", sections))
}

/// One OSCAL document of the program and the file name it goes by; an unknown kind is not
/// found. The page's download and `GET /api/v1/oscal/{kind}` both serve this.
pub(crate) async fn oscal_document(
    state: &AppState,
    kind: &str,
) -> Result<(&'static str, serde_json::Value), ServerError> {
    let file = evident_core::oscal::file_name(kind).ok_or(ServerError::NotFound)?;
    let now = time::OffsetDateTime::now_utc();
    let records = state.ws.oscal_records(now.date(), now).await?;
    let doc = evident_core::oscal::document(kind, &records).ok_or(ServerError::NotFound)?;
    Ok((file, doc))
}

/// `/frameworks/oscal/{kind}`: one OSCAL document as a download.
pub async fn oscal(State(state): State<AppState>, Path(kind): Path<String>) -> Result<Response, ServerError> {
    let (file, doc) = oscal_document(&state, &kind).await?;
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| ServerError::Internal(format!("OSCAL: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response())
}
