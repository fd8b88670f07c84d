//! `/description`: the system description as the records say it today, every statement with its
//! sources one click away; the narratives written in place (every version kept); approval,
//! drift since the approved version, and management's assertion with its sign-off.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Area;
use evident_core::description::{DriftKind, NARRATIVES, Statement, StatementKind};
use evident_store::DescriptionState;
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::fieldwork::{refusal, refused, today, ws};
use crate::state::AppState;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::{DetailPage, Layout, flash_from, render};

/// The statement's sources, said after it in the same paragraph.
fn sources(st: &Statement) -> Vec<Inline> {
    let mut out = vec![Inline::muted(" — ")];
    for (i, s) in st.sources.iter().enumerate() {
        if i > 0 {
            out.push(Inline::muted(" · "));
        }
        out.push(Inline::link(&s.label, s.href()));
    }
    out
}

fn statement(st: &Statement) -> Vec<Block> {
    let mut lead = match st.kind {
        StatementKind::Missing => Some(Inline::Badge {
            class: "gap".into(),
            text: "missing".into(),
        }),
        StatementKind::Narrative => Some(Inline::Badge {
            class: "approved".into(),
            text: "written by management".into(),
        }),
        StatementKind::Fact => None,
    };
    let lines: Vec<&str> = st.text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut p = Vec::new();
        if let Some(l) = lead.take() {
            p.push(l);
            p.push(Inline::text(" "));
        }
        p.push(Inline::text(*line));
        if i + 1 == lines.len() {
            p.extend(sources(st));
        }
        blocks.push(Block::Para(p));
    }
    if lines.is_empty() {
        blocks.push(Block::Para(sources(st)));
    }
    blocks
}

fn approval_fact(s: &DescriptionState) -> Vec<Inline> {
    match &s.approved {
        Some(_) => text(s.status_line()),
        None => vec![Inline::Badge {
            class: "draft".into(),
            text: "not approved yet".into(),
        }],
    }
}

fn assertion_fact(s: &DescriptionState) -> Vec<Inline> {
    match &s.assertion {
        Some(a) if a.outdated => vec![
            Inline::Badge {
                class: "gap".into(),
                text: "outdated".into(),
            },
            Inline::text(format!(
                " signed by {}, {} on {}; the description changed since",
                a.signer_name,
                a.signer_title,
                a.signed_at.get(..10).unwrap_or(&a.signed_at)
            )),
        ],
        Some(a) => vec![
            Inline::badge("done"),
            Inline::text(format!(
                " signed by {}, {} on {} over version {}",
                a.signer_name,
                a.signer_title,
                a.signed_at.get(..10).unwrap_or(&a.signed_at),
                a.description_version
            )),
        ],
        None => vec![Inline::link("draft, not signed", "#assertion")],
    }
}

async fn build(state: &AppState, access: &Access) -> Result<DetailPage, ServerError> {
    let s = state.ws.description_state(today()).await?;
    let d = &s.description;
    let writer = access.may_write(Area::Scope);
    let layout = Layout::new(state, access, "Description of the system", "/description");
    let downloads: Vec<Inline> = [
        ("PDF", "description.pdf"),
        ("Word (DOCX)", "description.docx"),
        ("HTML", "description.html"),
        ("Markdown", "description.md"),
    ]
    .into_iter()
    .map(|(label, file)| Inline::Button {
        text: label.into(),
        href: format!("/description/{file}"),
        download: true,
    })
    .collect();
    let mut head = vec![
        Block::Facts(vec![
            (
                "Report".into(),
                match &d.report {
                    Some(r) => text(r),
                    None => vec![Inline::link("no scope set yet", "/scope")],
                },
            ),
            ("Approval".into(), approval_fact(&s)),
            (
                "Drift".into(),
                match (&s.approved, s.drift.len()) {
                    (None, _) => text("measured once the description is approved"),
                    (Some(a), 0) => text(format!("none: the records still say what version {} says", a.version)),
                    (Some(a), n) => vec![Inline::link(
                        format!("{n} statements changed since version {}", a.version),
                        "#drift",
                    )],
                },
            ),
            ("Missing".into(), text(format!("{} statements still to write or record", d.missing()))),
            ("Management's assertion".into(), assertion_fact(&s)),
        ]),
        Block::Para(downloads),
        Block::Note(
            "Drafted from the records: each statement names the record it came from. Management writes the parts marked written; everything else refreshes as the records change."
                .into(),
        ),
    ];
    if writer && d.report.is_some() {
        let mut f = blocks::Form::post("/description/approve", &access.csrf, "Approve this description");
        f.submit_class = "primary";
        f.hint = Some(
            "Freezes the description as it reads now as a new version; drift is measured from it and management signs the assertion over it."
                .into(),
        );
        head.push(Block::Form(f));
    }
    let mut sections = vec![Section::new("", head)];
    let mut last_point = 0;
    for p in &d.parts {
        let title = if p.point == last_point {
            p.title.clone()
        } else {
            format!("{}. {}", p.point, p.title)
        };
        last_point = p.point;
        let mut blocks: Vec<Block> = p.statements.iter().flat_map(statement).collect();
        if writer && let Some((key, _, prompt)) = NARRATIVES.iter().find(|(k, _, _)| *k == p.key) {
            let current = s.narratives.iter().find(|n| n.part == *key);
            let next = current.map_or(1, |n| n.version + 1);
            let mut f = blocks::Form::post(
                format!("/description/narratives/{key}"),
                &access.csrf,
                format!("Save as version {next}"),
            );
            f.intro = Some(prompt.to_string());
            f.fields = vec![
                Field::new(format!("narrative-{key}"), "text", "Narrative", Input::TextArea)
                    .value(current.map(|n| n.text.clone()).unwrap_or_default()),
            ];
            let written = current.is_some();
            if written {
                f.hint = Some("Earlier versions are kept.".into());
            }
            blocks.push(Block::Form(f));
            if written {
                blocks.push(Block::Para(vec![Inline::link(
                    "Every version of this narrative",
                    format!("/description/narratives/{key}"),
                )]));
            }
        }
        sections.push(Section::new(title, blocks).anchored(&format!("part-{}", p.key)));
    }
    sections.push(drift_section(&s));
    sections.push(assertion_section(&s, access));
    Ok(DetailPage::new(layout, "", sections))
}

fn drift_section(s: &DescriptionState) -> Section {
    let blocks = match (&s.approved, s.drift.is_empty()) {
        (None, _) => vec![Block::Note(
            "Not approved yet: once approved, every statement the records change afterwards shows here.".into(),
        )],
        (Some(a), true) => vec![Block::Note(format!(
            "The records still say exactly what version {} says.",
            a.version
        ))],
        (Some(a), false) => vec![
            Block::Para(vec![Inline::text(format!(
                "{} statements differ from version {} approved by {}. Approve the description again once they are right.",
                s.drift.len(),
                a.version,
                a.approved_by
            ))]),
            Block::Table(Table {
                id: "description-drift".into(),
                head: ["Part", "Change", "Approved", "Today", "Source"]
                    .map(String::from)
                    .to_vec(),
                rows: s
                    .drift
                    .iter()
                    .map(|d| {
                        let (class, word) = match d.kind {
                            DriftKind::Added => ("approved", "added"),
                            DriftKind::Removed => ("gap", "removed"),
                            DriftKind::Changed => ("at_risk", "changed"),
                        };
                        let sources = d
                            .sources
                            .iter()
                            .flat_map(|x| [Inline::link(&x.label, x.href()), Inline::text(" ")])
                            .collect();
                        vec![
                            text(&d.part_title),
                            vec![Inline::Badge {
                                class: class.into(),
                                text: word.into(),
                            }],
                            text(d.approved.clone().unwrap_or_default()),
                            text(d.today.clone().unwrap_or_default()),
                            sources,
                        ]
                    })
                    .collect(),
            }),
        ],
    };
    Section::new("Drift since approval", blocks).anchored("drift")
}

fn assertion_section(s: &DescriptionState, access: &Access) -> Section {
    let mut blocks = Vec::new();
    let text_of = match (&s.assertion, &s.draft_assertion) {
        (Some(a), _) => Some(a.text.clone()),
        (None, Some(d)) => Some(d.text()),
        _ => None,
    };
    let Some(body) = text_of else {
        return Section::new(
            "Management's assertion",
            vec![Block::Note(
                "Set the audit scope first: the assertion names the report type and its period.".into(),
            )],
        )
        .anchored("assertion");
    };
    blocks.push(Block::Facts(vec![("Status".into(), assertion_fact(s))]));
    for (i, para) in body.split("\n\n").enumerate() {
        blocks.push(if i == 0 {
            Block::Heading(para.to_string())
        } else {
            Block::Para(vec![Inline::text(para)])
        });
    }
    if access.may_write(Area::Scope) {
        match (&s.approved, s.drift.is_empty()) {
            (None, _) => blocks.push(Block::Note(
                "Approve the description first: the assertion is signed over an approved version.".into(),
            )),
            (Some(_), false) => blocks.push(Block::Note(
                "The records changed since the approved version: review the drift and approve again before signing."
                    .into(),
            )),
            (Some(a), true) => {
                let mut f = blocks::Form::post("/description/assertion", &access.csrf, "Sign the assertion");
                f.submit_class = "primary";
                f.intro = Some(format!(
                    "Signing records the name and position of the person who signs for management, over version {} of the description, in the audit log.",
                    a.version
                ));
                f.fields = vec![
                    Field::new("signer-name", "name", "Full name", Input::Text).required(),
                    Field::new("signer-title", "title", "Position", Input::Text).required(),
                ];
                blocks.push(Block::Form(f));
            }
        }
    }
    Section::new("Management's assertion", blocks).anchored("assertion")
}

/// `GET /description`.
pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut p = build(&state, &access).await?;
    p.layout.flash = flash_from(&q);
    render(p)
}

#[derive(Deserialize)]
pub struct NarrativeForm {
    #[serde(default)]
    text: String,
}

async fn after(state: &AppState, access: &Access, done: Result<String, ServerError>) -> Result<Response, ServerError> {
    match done {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            refused(build(state, access).await?, status, message)
        }
    }
}

/// `POST /description/narratives/{part}`.
pub async fn write_narrative(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(part): Path<String>,
    Form(form): Form<NarrativeForm>,
) -> Result<Response, ServerError> {
    let done = ws(&state, &access)
        .set_narrative(&part, &form.text)
        .await
        .map(|n| format!("/description?done=narrative-{}#part-{}", n.version, n.part))
        .map_err(ServerError::from);
    after(&state, &access, done).await
}

/// `POST /description/approve`.
pub async fn approve(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let done = ws(&state, &access)
        .approve_description(today())
        .await
        .map(|a| format!("/description?done=description-{}", a.version))
        .map_err(ServerError::from);
    after(&state, &access, done).await
}

#[derive(Deserialize)]
pub struct SignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
}

/// `POST /description/assertion`.
pub async fn sign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<SignForm>,
) -> Result<Response, ServerError> {
    let done = ws(&state, &access)
        .sign_assertion(today(), &form.name, &form.title)
        .await
        .map(|_| "/description?done=signed#assertion".to_string())
        .map_err(ServerError::from);
    after(&state, &access, done).await
}

/// `GET /description/narratives/{part}`: every version of one narrative.
pub async fn history(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(part): Path<String>,
) -> Result<Response, ServerError> {
    if !evident_core::description::is_narrative(&part) {
        return Err(ServerError::NotFound);
    }
    let versions = state.ws.narrative_history(&part).await?;
    let layout = Layout::new(
        &state,
        &access,
        format!("Narrative: {}", part.replace('_', " ")),
        "/description",
    );
    let mut blocks = vec![Block::Para(vec![Inline::link(
        "Back to the description",
        format!("/description#part-{part}"),
    )])];
    if versions.is_empty() {
        blocks.push(Block::Note("Not written yet.".into()));
    }
    let mut sections = vec![Section::new("", blocks)];
    for v in versions {
        let mut b = vec![Block::Facts(vec![
            ("Written by".into(), text(&v.author)),
            ("At".into(), text(&v.written_at)),
        ])];
        b.extend(
            v.text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Block::Para(text(l))),
        );
        sections.push(Section::new(format!("Version {}", v.version), b));
    }
    render(DetailPage::new(layout, "", sections))
}

/// `GET /description/{file}`: the description as PDF, DOCX, HTML or Markdown.
pub async fn download(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, ServerError> {
    let ext = file.strip_prefix("description.").ok_or(ServerError::NotFound)?;
    let (ext, media) = evident_report::DESCRIPTION_FORMATS
        .iter()
        .find(|(e, _)| *e == ext)
        .copied()
        .ok_or(ServerError::NotFound)?;
    let s = state.ws.description_state(today()).await?;
    let bytes = tokio::task::spawn_blocking(move || {
        let doc = evident_report::DescriptionDoc {
            description: &s.description,
            prepared_on: evident_core::format_date(today()),
            status: s.status_line(),
            assertion: s.assertion_for_file(),
        };
        evident_report::description_file(&doc, ext).expect("a listed format")
    })
    .await
    .map_err(|e| ServerError::Internal(format!("description download: {e}")))?
    .map_err(|e| ServerError::Internal(format!("description download: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, media.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"evident-description.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
