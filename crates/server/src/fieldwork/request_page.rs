//! A request's page (what is asked, the evidence that answers it, the thread, and the next step
//! for whoever is looking) and "Requests": every request the caller may see across their
//! engagements, a control owner's being those assigned to them or about their controls.

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Role;
use evident_core::fieldwork::requests::{RequestStatus, RequestStep};
use evident_core::fieldwork::{Act, EngagementStatus, RequestView, may};
use evident_store::RequestFilter;
use serde::Deserialize;

use super::{refusal, refused, today, ws};
use crate::ServerError;
use crate::access::Access;
use crate::evidence::upload::receive;
use crate::state::AppState;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, flash_from, render};

pub fn href(id: &str) -> String {
    format!("/requests/{}", url_encode(id))
}

/// Requests as rows: reference, what is asked (a link to the request), controls, who, due,
/// status, evidence; with the engagement's name first when `engagements` names them.
pub fn request_table(list: &[RequestView], engagements: Option<&BTreeMap<String, String>>) -> Table {
    let mut head: Vec<String> = ["Ref", "Request", "Controls", "Assigned to", "Due", "Status", "Evidence"]
        .map(String::from)
        .to_vec();
    if engagements.is_some() {
        head.insert(0, "Engagement".into());
    }
    let rows = list
        .iter()
        .map(|r| {
            let mut body: String = r.body.chars().take(140).collect();
            if body.len() < r.body.len() {
                body.push('…');
            }
            let mut row = vec![
                vec![Inline::mono(&r.reference)],
                vec![Inline::link(body, href(&r.id))],
                r.controls
                    .iter()
                    .map(|c| Inline::link(c, format!("/controls/{}", url_encode(c))))
                    .collect(),
                text(r.assignee.clone().unwrap_or_else(|| "nobody yet".into())),
                match (&r.due, r.overdue) {
                    (Some(d), true) => vec![
                        Inline::text(d),
                        Inline::Badge {
                            class: "gap".into(),
                            text: "overdue".into(),
                        },
                    ],
                    (Some(d), false) => text(d),
                    (None, _) => vec![Inline::muted("none")],
                },
                vec![Inline::badge(r.status.as_str())],
                text(match r.evidence.iter().filter(|e| !e.in_period).count() {
                    0 => r.evidence.len().to_string(),
                    out => format!("{} ({out} outside the period)", r.evidence.len()),
                }),
            ];
            if let Some(names) = engagements {
                row.insert(
                    0,
                    vec![Inline::link(
                        names
                            .get(&r.engagement)
                            .cloned()
                            .unwrap_or_else(|| r.engagement.clone()),
                        super::engagement_page::href(&r.engagement),
                    )],
                );
            }
            row
        })
        .collect();
    Table {
        id: "requests".into(),
        head,
        rows,
    }
}

/// `/requests`: every request the caller may see, across engagements.
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let role = access.role();
    let w = ws(&state, &access);
    let status = super::request_filter(&q)?.status;
    // A manager starts on their own; everyone else sees what the store lets them see.
    let mine = match q.get("mine").map(String::as_str) {
        Some("false") => false,
        Some(_) => true,
        None => matches!(role, Role::Admin | Role::ComplianceManager),
    };
    let filter = RequestFilter {
        status,
        due_by: None,
        mine: mine && role != Role::Auditor,
    };
    let mut names = BTreeMap::new();
    let mut all = Vec::new();
    for e in w.engagements(role).await? {
        if e.status == EngagementStatus::Closed {
            continue;
        }
        all.extend(w.requests(role, &e.id, &filter, today()).await?);
        names.insert(e.id.clone(), e.name.clone());
    }
    // What needs doing first: overdue, then by due date.
    all.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then_with(|| a.due.is_none().cmp(&b.due.is_none()))
            .then_with(|| a.due.cmp(&b.due))
    });
    let title = if role == Role::Auditor {
        "Requests of my engagements"
    } else if filter.mine {
        "Requests assigned to me"
    } else {
        "Requests"
    };
    let mut layout = Layout::new(&state, &access, title, "/requests");
    layout.flash = flash_from(&q);
    let mut f = blocks::Form::post("/requests", &None, "Filter");
    f.get = true;
    f.inline = true;
    let mut statuses = vec![(String::new(), "any status".to_string())];
    statuses.extend(
        RequestStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.as_str().to_string())),
    );
    f.fields = vec![
        Field::new("filter-status", "status", "Status", Input::Select(statuses))
            .value(q.get("status").cloned().unwrap_or_default()),
    ];
    if matches!(role, Role::Admin | Role::ComplianceManager) {
        f.fields.push(
            Field::new(
                "filter-mine",
                "mine",
                "Whose",
                Input::Select(vec![
                    ("true".into(), "assigned to me or my controls".into()),
                    ("false".into(), "everyone's".into()),
                ]),
            )
            .value(if filter.mine { "true" } else { "false" }),
        );
    }
    let mut blocks = vec![Block::Form(f)];
    if all.is_empty() {
        blocks.push(Block::Note(match role {
            Role::Auditor => "No request in your engagements yet.".into(),
            Role::ControlOwner => {
                "Nothing asked of you: no open engagement has a request assigned to you or about a control you own."
                    .into()
            }
            _ => "No request matches.".into(),
        }));
    } else {
        blocks.push(Block::Table(request_table(&all, Some(&names))));
    }
    render(DetailPage::new(
        layout,
        "",
        vec![Section::new(format!("{} request(s)", all.len()), blocks)],
    ))
}

/// `/requests/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = detail_page(&state, &access, &id).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn detail_refused(state: &AppState, access: &Access, id: &str, e: ServerError) -> Result<Response, ServerError> {
    let (status, message) = refusal(e)?;
    refused(detail_page(state, access, id).await?, status, message)
}

async fn detail_page(state: &AppState, access: &Access, id: &str) -> Result<DetailPage, ServerError> {
    let role = access.role();
    let (e, r) = ws(state, access).request(role, id, today()).await?;
    let base = href(&r.id);
    let layout = Layout::new(state, access, format!("Request {}", r.reference), "/requests");
    let mut sections = Vec::new();
    let closed = e.status == EngagementStatus::Closed;

    let mut facts = vec![
        (
            "Engagement".to_string(),
            vec![
                Inline::link(&e.name, super::engagement_page::href(&e.id)),
                Inline::muted(format!("period {} to {}", e.period_start, e.period_end)),
            ],
        ),
        ("Asked".to_string(), text(&r.body)),
        (
            "Controls".to_string(),
            if r.controls.is_empty() {
                vec![Inline::muted("none named")]
            } else {
                r.controls
                    .iter()
                    .map(|c| Inline::link(c, format!("/controls/{}", url_encode(c))))
                    .collect()
            },
        ),
        (
            "Criteria".to_string(),
            if r.criteria.is_empty() {
                vec![Inline::muted("none named")]
            } else {
                r.criteria
                    .iter()
                    .map(|c| Inline::link(c, format!("/criteria/{}", url_encode(c))))
                    .collect()
            },
        ),
        (
            "Due".to_string(),
            match (&r.due, r.overdue) {
                (Some(d), true) => vec![
                    Inline::text(d),
                    Inline::Badge {
                        class: "gap".into(),
                        text: "overdue".into(),
                    },
                ],
                (Some(d), false) => text(d),
                (None, _) => vec![Inline::muted("no date")],
            },
        ),
        (
            "Assigned to".to_string(),
            text(r.assignee.clone().unwrap_or_else(|| "nobody yet".into())),
        ),
        ("Status".to_string(), vec![Inline::badge(r.status.as_str())]),
    ];
    facts.extend(r.extra.iter().map(|(k, v)| (k.clone(), text(v))));
    let mut blocks = vec![Block::Facts(facts)];
    if may(role, Act::Manage) && !closed {
        let users: Vec<(String, String)> = std::iter::once((String::new(), "nobody".to_string()))
            .chain(
                state
                    .ws
                    .users()
                    .await?
                    .into_iter()
                    .filter(|u| u.disabled_at.is_none() && u.role != Role::Auditor)
                    .map(|u| (u.email.clone(), u.email)),
            )
            .collect();
        let mut f = blocks::Form::post(format!("{base}/assignee"), &access.csrf, "Assign");
        f.inline = true;
        f.fields = vec![
            Field::new("assignee", "assignee", "Assigned to", Input::Select(users))
                .value(r.assignee.clone().unwrap_or_default()),
        ];
        blocks.push(Block::Form(f));
    }
    sections.push(Section::new("", blocks));

    // Evidence.
    let mut blocks = Vec::new();
    if r.evidence.is_empty() {
        blocks.push(Block::Note("No evidence linked yet.".into()));
    } else {
        blocks.push(Block::Table(super::evidence_table("request-evidence", &r.evidence)));
    }
    if !r.evidence.is_empty() {
        blocks.push(Block::Para(vec![
            Inline::Button {
                text: "Download as a signed pack".into(),
                href: format!("{base}/pack"),
                download: true,
            },
            Inline::muted(
                "every file with its hash, origin and audit-log record; check it offline with evident pack verify",
            ),
        ]));
    }
    let answering =
        may(role, Act::Answer) && !closed && matches!(r.status, RequestStatus::Open | RequestStatus::Returned);
    if answering {
        let snap = state.snapshot().await?;
        let linked: std::collections::BTreeSet<&str> = r.evidence.iter().map(|l| l.id.as_str()).collect();
        let candidates: Vec<(String, String)> = snap
            .program()
            .evidence
            .iter()
            .filter(|ev| ev.is_current() && !linked.contains(ev.id.as_str()))
            .filter(|ev| ev.controls.iter().any(|l| r.controls.contains(&l.control)))
            .map(|ev| {
                (
                    ev.id.clone(),
                    format!("{} · {}", ev.title, evident_core::format_date(ev.attests_to())),
                )
            })
            .collect();
        if !candidates.is_empty() {
            let mut f = blocks::Form::post(format!("{base}/evidence"), &access.csrf, "Link");
            f.inline = true;
            f.fields = vec![Field::new(
                "link-evidence",
                "evidence",
                "Evidence of its controls",
                Input::Select(candidates),
            )];
            blocks.push(Block::Heading("Link evidence you already have".into()));
            blocks.push(Block::Form(f));
        }
        let controls: Vec<(String, String)> = snap
            .program()
            .controls
            .iter()
            .filter(|c| r.controls.contains(&c.code))
            .filter(|c| crate::controls::may_write(access, c))
            .map(|c| (c.code.clone(), format!("{} {}", c.code, c.title)))
            .collect();
        if !controls.is_empty() {
            let mut f = blocks::Form::post(format!("{base}/upload"), &access.csrf, "Upload and link");
            f.multipart = true;
            f.fields = vec![
                Field::new("upload-file", "file", "File", Input::File).required(),
                Field::new("upload-title", "title", "Title", Input::Text).required(),
                Field::new("upload-control", "control", "Evidence of", Input::Select(controls)),
                Field::new(
                    "upload-date",
                    "effective_date",
                    "Date it attests to (optional)",
                    Input::Date,
                ),
            ];
            f.hint = Some("Kept in the vault as evidence of the control, and linked to this request.".into());
            blocks.push(Block::Heading("Upload new evidence".into()));
            blocks.push(Block::Form(f));
        }
    }
    sections.push(Section::new(format!("Evidence ({})", r.evidence.len()), blocks).anchored("evidence"));

    // The next step, for whoever may take it.
    let mut blocks = Vec::new();
    if answering {
        let mut f = blocks::Form::post(format!("{base}/steps"), &access.csrf, "Submit to the auditor");
        f.submit_class = "primary";
        f.fields = vec![
            Field::hidden("step", "submit"),
            Field::new("submit-comment", "comment", "Note for the auditor", Input::TextArea),
        ];
        f.hint = Some("Submitting needs linked evidence or a note saying why there is none.".into());
        blocks.push(Block::Form(f));
    }
    if may(role, Act::Review) && !closed && r.status == RequestStatus::Submitted {
        let mut accept = blocks::Form::post(format!("{base}/steps"), &access.csrf, "Accept");
        accept.submit_class = "primary";
        accept.fields = vec![
            Field::hidden("step", "accept"),
            Field::new("accept-comment", "comment", "Comment (optional)", Input::TextArea),
        ];
        let mut ret = blocks::Form::post(format!("{base}/steps"), &access.csrf, "Return to the team");
        ret.submit_class = "danger";
        ret.fields = vec![
            Field::hidden("step", "return"),
            Field::new("return-comment", "comment", "What is missing", Input::TextArea).required(),
        ];
        blocks.push(Block::Form(accept));
        blocks.push(Block::Form(ret));
    }
    if !blocks.is_empty() {
        sections.push(Section::new("Next step", blocks).anchored("step"));
    }

    // The thread.
    let mut blocks = Vec::new();
    if r.thread.is_empty() {
        blocks.push(Block::Note("No comment yet.".into()));
    } else {
        blocks.push(Block::List(
            r.thread
                .iter()
                .map(|c| {
                    let mut line = vec![Inline::Muted(format!("{} · {}", c.at, c.author))];
                    if let Some(step) = &c.step {
                        line.push(Inline::badge(match step.as_str() {
                            "submit" => "submitted",
                            "accept" => "accepted",
                            "return" => "returned",
                            s => s,
                        }));
                    }
                    line.push(Inline::text(&c.body));
                    line
                })
                .collect(),
        ));
    }
    if may(role, Act::Comment) && !closed {
        let mut f = blocks::Form::post(format!("{base}/comments"), &access.csrf, "Comment");
        f.fields = vec![Field::new("comment-text", "text", "Comment", Input::TextArea).required()];
        blocks.push(Block::Form(f));
    }
    sections.push(Section::new("Thread", blocks).anchored("thread"));
    Ok(DetailPage::new(layout, r.status.as_str(), sections))
}

#[derive(Deserialize)]
pub struct StepForm {
    step: String,
    #[serde(default)]
    comment: String,
}

/// `POST /requests/{id}/steps`: submit, accept or return.
pub async fn step(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, ServerError> {
    let done = async {
        let step = RequestStep::parse(&form.step).map_err(|e| ServerError::invalid("step", e.to_string()))?;
        ws(&state, &access)
            .request_step(access.role(), &id, step, &form.comment, today())
            .await?;
        Ok::<_, ServerError>(step)
    }
    .await;
    match done {
        Ok(step) => {
            let done = match step {
                RequestStep::Submit => "submitted",
                RequestStep::Accept => "accepted-request",
                RequestStep::Return => "returned",
            };
            Ok(Redirect::to(&format!("{}?done={done}", href(&id))).into_response())
        }
        Err(e) => detail_refused(&state, &access, &id, e).await,
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    text: String,
}

/// `POST /requests/{id}/comments`.
pub async fn comment(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<CommentForm>,
) -> Result<Response, ServerError> {
    match ws(&state, &access)
        .comment_request(access.role(), &id, &form.text, today())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=commented#thread", href(&id))).into_response()),
        Err(e) => detail_refused(&state, &access, &id, e.into()).await,
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    evidence: String,
}

/// `POST /requests/{id}/evidence`: links an item already in the vault.
pub async fn link(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<LinkForm>,
) -> Result<Response, ServerError> {
    match ws(&state, &access)
        .link_request_evidence(access.role(), &id, &form.evidence, today())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=linked#evidence", href(&id))).into_response()),
        Err(e) => detail_refused(&state, &access, &id, e.into()).await,
    }
}

/// `POST /requests/{id}/upload`: new evidence of one of the request's controls, linked to it.
/// The request is checked first, so nothing is stored for a request that cannot take it.
pub async fn upload(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, ServerError> {
    let done = async {
        let (e, r) = ws(&state, &access).request(access.role(), &id, today()).await?;
        if !may(access.role(), Act::Answer)
            || e.status == EngagementStatus::Closed
            || !matches!(r.status, RequestStatus::Open | RequestStatus::Returned)
        {
            return Err(ServerError::Conflict(format!(
                "request {} is {} and takes no more evidence",
                r.reference, r.status
            )));
        }
        let up = receive(&state, mp).await?;
        let control = up.fields.get("control").cloned().unwrap_or_default();
        if !r.controls.contains(&control) {
            return Err(ServerError::invalid(
                "control",
                format!("'{control}' is not one of the request's controls"),
            ));
        }
        let item = crate::controls::store_upload(&state, &access, &control, &up).await?;
        ws(&state, &access)
            .link_request_evidence(access.role(), &id, &item.id, today())
            .await?;
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("{}?done=linked#evidence", href(&id))).into_response()),
        Err(e) => detail_refused(&state, &access, &id, e).await,
    }
}

#[derive(Deserialize)]
pub struct AssigneeForm {
    #[serde(default)]
    assignee: String,
}

/// `POST /requests/{id}/assignee`.
pub async fn assign(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<AssigneeForm>,
) -> Result<Response, ServerError> {
    let who = Some(form.assignee.trim()).filter(|a| !a.is_empty());
    match ws(&state, &access)
        .assign_request(access.role(), &id, who, today())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=saved", href(&id))).into_response()),
        Err(e) => detail_refused(&state, &access, &id, e.into()).await,
    }
}
