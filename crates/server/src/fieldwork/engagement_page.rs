//! The engagements list and an engagement's home: its requests (with filters), the populations
//! produced for it, the samples drawn and their results, and what the team and the auditor can
//! do from there. Each form is shown only to the roles the store lets take that step.

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_catalog::PopulationKind;
use evident_core::access::Role;
use evident_core::fieldwork::requests::{RequestDraft, RequestStatus};
use evident_core::fieldwork::{Act, EngagementStatus, EngagementView, SIZE_NOTE, SizeTable, may};
use evident_store::RequestFilter;
use serde::Deserialize;

use super::{off_thread, refusal, refused, today, ws};
use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, flash_from, render};

pub fn href(id: &str) -> String {
    format!("/audit/{}", url_encode(id))
}

fn period_of(e: &EngagementView) -> String {
    format!("{} to {}", e.period_start, e.period_end)
}

fn report_label(t: &str) -> &'static str {
    if t == "type1" { "Type I" } else { "Type II" }
}

/// The status after this one, if any (engagements move forward only).
fn next_status(s: EngagementStatus) -> Option<EngagementStatus> {
    let all = EngagementStatus::ALL;
    all.iter().position(|x| *x == s).and_then(|i| all.get(i + 1)).copied()
}

/// `/audit`: the engagements the caller may see. An auditor bound to one lands in it.
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let list = ws(&state, &access).engagements(access.role()).await?;
    if access.role() == Role::Auditor && list.len() == 1 {
        return Ok(Redirect::to(&href(&list[0].id)).into_response());
    }
    let mut page = list_page(&state, &access, list, None).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn list_page(
    state: &AppState,
    access: &Access,
    list: Vec<EngagementView>,
    typed: Option<&NewEngagement>,
) -> Result<DetailPage, ServerError> {
    let layout = Layout::new(state, access, "Audit engagements", "/audit");
    let mut sections = Vec::new();
    let blocks = if list.is_empty() {
        vec![Block::Note(if access.role() == Role::Auditor {
            "You are not bound to an engagement yet. The compliance lead adds you to theirs.".into()
        } else {
            "No engagement yet. Open one when the audit firm starts fieldwork: its requests, populations and samples live there.".into()
        })]
    } else {
        vec![Block::Table(Table {
            id: "engagements".into(),
            head: ["Engagement", "Firm", "Report", "Period", "Status", "Auditors"]
                .map(String::from)
                .to_vec(),
            rows: list
                .iter()
                .map(|e| {
                    vec![
                        vec![Inline::link(&e.name, href(&e.id))],
                        text(&e.firm),
                        text(report_label(&e.report_type)),
                        text(period_of(e)),
                        vec![Inline::badge(e.status.as_str())],
                        text(if e.auditors.is_empty() {
                            "none bound yet".to_string()
                        } else {
                            e.auditors.join(", ")
                        }),
                    ]
                })
                .collect(),
        })]
    };
    sections.push(Section::new("", blocks));
    if may(access.role(), Act::Manage) {
        let mut f = blocks::Form::post("/audit", &access.csrf, "Open the engagement");
        f.submit_class = "primary";
        f.fields = vec![
            Field::new("engagement-name", "name", "Name", Input::Text)
                .required()
                .value(typed.map(|t| t.name.clone()).unwrap_or_default()),
            Field::new("engagement-firm", "firm", "Audit firm", Input::Text)
                .required()
                .value(typed.map(|t| t.firm.clone()).unwrap_or_default()),
            Field::new("engagement-period", "period", "Report period (optional)", Input::Text)
                .value(typed.map(|t| t.period.clone()).unwrap_or_default()),
        ];
        f.hint = Some(
            "The period is START..END of a report period the scope names (2026-01-01..2026-12-31); empty for the scope's current one."
                .into(),
        );
        sections.push(Section::new("Open an engagement", vec![Block::Form(f)]).anchored("new"));
    }
    Ok(DetailPage::new(layout, "", sections))
}

#[derive(Deserialize)]
pub struct NewEngagement {
    name: String,
    firm: String,
    #[serde(default)]
    period: String,
}

/// `POST /audit`: opens an engagement.
pub async fn create(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Form(form): Form<NewEngagement>,
) -> Result<Response, ServerError> {
    let made = async {
        let period = crate::web::api::period_param(Some(form.period.trim()).filter(|p| !p.is_empty()))?;
        Ok::<_, ServerError>(
            ws(&state, &access)
                .create_engagement(access.role(), &form.name, &form.firm, period)
                .await?,
        )
    }
    .await;
    match made {
        Ok(e) => Ok(Redirect::to(&format!("{}?done=saved", href(&e.id))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let list = ws(&state, &access).engagements(access.role()).await?;
            refused(list_page(&state, &access, list, Some(&form)).await?, status, message)
        }
    }
}

/// `/audit/{id}`: the engagement's home.
pub async fn home(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = home_page(&state, &access, &id, &q).await?;
    page.layout.flash = match (q.get("done").map(String::as_str), q.get("added"), q.get("updated")) {
        (Some("imported"), Some(a), Some(u)) if a.parse::<usize>().is_ok() && u.parse::<usize>().is_ok() => {
            Some(format!("Request list imported: {a} request(s) added, {u} updated."))
        }
        _ => flash_from(&q),
    };
    render(page)
}

/// The home again with a form's refusal at its top.
async fn home_refused(state: &AppState, access: &Access, id: &str, e: ServerError) -> Result<Response, ServerError> {
    let (status, message) = refusal(e)?;
    refused(home_page(state, access, id, &BTreeMap::new()).await?, status, message)
}

async fn home_page(
    state: &AppState,
    access: &Access,
    id: &str,
    q: &BTreeMap<String, String>,
) -> Result<DetailPage, ServerError> {
    let role = access.role();
    let w = ws(state, access);
    let e = w.engagement(role, id).await?;
    let filter = super::request_filter(q)?;
    let all = w.requests(role, &e.id, &RequestFilter::default(), today()).await?;
    // Status and due date filter what was read; only "mine" needs the store again.
    let shown = if filter.mine {
        w.requests(role, &e.id, &filter, today()).await?
    } else {
        all.iter().filter(|r| filter.keeps(r)).cloned().collect()
    };
    let runs = w.population_runs(role, Some(&e.id)).await?;
    let samples = w.samples(role, &e.id).await?;
    let mut layout = Layout::new(state, access, e.name.clone(), "/audit");
    layout.title = e.name.clone();
    let base = href(&e.id);
    let mut sections = Vec::new();

    // The engagement itself.
    let mut facts = vec![
        ("Audit firm".to_string(), text(&e.firm)),
        ("Report".to_string(), text(report_label(&e.report_type))),
        ("Period".to_string(), text(period_of(&e))),
        ("Status".to_string(), vec![Inline::badge(e.status.as_str())]),
        (
            "Auditors".to_string(),
            text(if e.auditors.is_empty() {
                "none bound yet".to_string()
            } else {
                e.auditors.join(", ")
            }),
        ),
        ("Opened by".to_string(), text(&e.created_by)),
    ];
    let open = all
        .iter()
        .filter(|r| matches!(r.status, RequestStatus::Open | RequestStatus::Returned))
        .count();
    facts.push((
        "Requests".to_string(),
        text(format!(
            "{} in all: {} waiting on the team, {} submitted, {} accepted, {} overdue",
            all.len(),
            open,
            all.iter().filter(|r| r.status == RequestStatus::Submitted).count(),
            all.iter().filter(|r| r.status == RequestStatus::Accepted).count(),
            all.iter().filter(|r| r.overdue).count()
        )),
    ));
    let mut blocks = vec![Block::Facts(facts)];
    if may(role, Act::Manage) {
        let mut row = Vec::new();
        if let Some(next) = next_status(e.status) {
            let mut f = blocks::Form::post(format!("{base}/status"), &access.csrf, format!("Move to {next}"));
            f.inline = true;
            f.fields = vec![Field::hidden("status", next.as_str())];
            f.confirm = Some(format!("Move the engagement to {next}? Status only moves forward."));
            row.push(Inline::Form(Box::new(f)));
        }
        if !row.is_empty() {
            blocks.push(Block::Para(row));
        }
        let users = state.ws.users().await?;
        let unbound: Vec<(String, String)> = users
            .iter()
            .filter(|u| u.role == Role::Auditor && u.disabled_at.is_none() && !e.auditors.contains(&u.email))
            .map(|u| (u.email.clone(), u.email.clone()))
            .collect();
        if !unbound.is_empty() {
            let mut f = blocks::Form::post(format!("{base}/auditors"), &access.csrf, "Bind the auditor");
            f.inline = true;
            f.fields = vec![Field::new("auditor-add", "add", "Auditor", Input::Select(unbound))];
            blocks.push(Block::Form(f));
        }
        for a in &e.auditors {
            let mut f = blocks::Form::post(format!("{base}/auditors"), &access.csrf, format!("Unbind {a}"));
            f.inline = true;
            f.fields = vec![];
            f.intro = None;
            f.confirm = Some(format!("Unbind {a}? They will no longer see this engagement."));
            f.action = format!("{base}/auditors?remove={}", url_encode(a));
            blocks.push(Block::Form(f));
        }
    }
    sections.push(Section::new("Engagement", blocks).anchored("engagement"));

    // Requests.
    let mut filter_form = blocks::Form::post(&base, &None, "Filter");
    filter_form.get = true;
    filter_form.inline = true;
    let mut statuses = vec![(String::new(), "any status".to_string())];
    statuses.extend(
        RequestStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.as_str().to_string())),
    );
    filter_form.fields = vec![
        Field::new("filter-status", "status", "Status", Input::Select(statuses))
            .value(q.get("status").cloned().unwrap_or_default()),
        Field::new("filter-due", "due_by", "Due by", Input::Date).value(q.get("due_by").cloned().unwrap_or_default()),
    ];
    if role != Role::Auditor && role != Role::ControlOwner {
        filter_form.fields.push(
            Field::new(
                "filter-mine",
                "mine",
                "Whose",
                Input::Select(vec![
                    (String::new(), "everyone's".into()),
                    ("true".into(), "assigned to me or my controls".into()),
                ]),
            )
            .value(q.get("mine").cloned().unwrap_or_default()),
        );
    }
    let mut blocks = vec![Block::Form(filter_form)];
    if shown.is_empty() {
        blocks.push(Block::Note(if all.is_empty() {
            "No request yet. Import the firm's list or add requests one by one.".into()
        } else {
            "No request matches these filters.".into()
        }));
    } else {
        blocks.push(Block::Table(super::request_page::request_table(&shown, None)));
    }
    blocks.push(Block::Para(vec![Inline::Button {
        text: "Download the request list (XLSX)".into(),
        href: format!("{base}/requests.xlsx"),
        download: true,
    }]));
    sections.push(Section::new(format!("Requests ({})", shown.len()), blocks).anchored("request-list"));

    if may(role, Act::AddRequests) && e.status != EngagementStatus::Closed {
        let mut import = blocks::Form::post(format!("{base}/import"), &access.csrf, "Import the list");
        import.multipart = true;
        import.fields =
            vec![Field::new("request-list-file", "file", "Request list (CSV or XLSX)", Input::File).required()];
        import.hint = Some(
            "Columns are found by their usual names (PBC #, Request, TSC, Control, Due Date, Assigned To); other columns are kept. A bad row refuses the whole list and is named; a reference already listed is updated."
                .into(),
        );
        let users: Vec<(String, String)> = std::iter::once((String::new(), "nobody yet".to_string()))
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
        let mut add = blocks::Form::post(format!("{base}/requests"), &access.csrf, "Add the request");
        add.fields = vec![
            Field::new("request-ref", "reference", "Reference", Input::Text).required(),
            Field::new("request-body", "request", "Request", Input::TextArea).required(),
            Field::new(
                "request-controls",
                "controls",
                "Controls (codes, space-separated)",
                Input::Text,
            ),
            Field::new(
                "request-criteria",
                "criteria",
                "Criteria (CC6.1 …, space-separated)",
                Input::Text,
            ),
            Field::new("request-due", "due", "Due", Input::Date),
            Field::new("request-assignee", "assignee", "Assigned to", Input::Select(users)),
        ];
        sections.push(
            Section::new(
                "Add requests",
                vec![
                    Block::Form(import),
                    Block::Heading("Or one by one".into()),
                    Block::Form(add),
                ],
            )
            .anchored("add-requests"),
        );
    }

    // Populations.
    let mut blocks = Vec::new();
    if runs.is_empty() {
        blocks.push(Block::Note(
            "No population produced yet. Each one lists every occurrence in the period, with the exact rule that found them and the SHA-256 of its rows.".into(),
        ));
    } else {
        blocks.push(Block::Table(Table {
            id: "populations".into(),
            head: [
                "Population",
                "Period",
                "Items",
                "SHA-256 of the rows",
                "Produced",
                "Since the last run",
                "File",
            ]
            .map(String::from)
            .to_vec(),
            rows: runs
                .iter()
                .map(|r| {
                    let title = PopulationKind::parse(&r.kind)
                        .map(|k| evident_store::population_spec(k).title.to_string())
                        .unwrap_or_else(|_| r.kind.clone());
                    vec![
                        vec![Inline::text(title), Inline::muted(&r.id)],
                        text(r.period.replace("..", " to ")),
                        text(r.count.to_string()),
                        // The first 16 hex digits tell runs apart; the file's header and the
                        // sample's page carry all 64.
                        vec![Inline::mono(format!(
                            "{}…",
                            r.sha256.chars().take(16).collect::<String>()
                        ))],
                        text(format!("{} by {}", r.ran_at, r.ran_by)),
                        text(match &r.changes {
                            None => "first run".to_string(),
                            Some(c) if c.is_empty() => "same items".to_string(),
                            Some(c) => c.summary(),
                        }),
                        vec![
                            Inline::Button {
                                text: "CSV".into(),
                                href: format!("/populations/{}/file", url_encode(&r.id)),
                                download: true,
                            },
                            Inline::link("evidence", format!("/evidence/{}", url_encode(&r.evidence))),
                        ],
                    ]
                })
                .collect(),
        }));
    }
    if may(role, Act::RunPopulation) && e.status != EngagementStatus::Closed {
        let mut f = blocks::Form::post(format!("{base}/populations"), &access.csrf, "Produce the population");
        f.inline = true;
        f.fields = vec![Field::new(
            "population-kind",
            "kind",
            "Population",
            Input::Select(
                evident_store::POPULATIONS
                    .iter()
                    .map(|s| (s.kind.as_str().to_string(), s.title.to_string()))
                    .collect(),
            ),
        )];
        f.hint = Some(format!(
            "Over the engagement's period ({}); kept as evidence and linked to the controls that test it. Running it again says what changed.",
            period_of(&e)
        ));
        blocks.push(Block::Form(f));
    }
    sections.push(Section::new(format!("Populations ({})", runs.len()), blocks).anchored("population-list"));

    // Samples and results.
    let mut blocks = Vec::new();
    if samples.is_empty() {
        blocks.push(Block::Note("No sample drawn yet.".into()));
    } else {
        blocks.push(Block::Table(Table {
            id: "samples".into(),
            head: [
                "Control",
                "Population",
                "Seed",
                "Items",
                "Tested",
                "Exceptions",
                "Drawn",
            ]
            .map(String::from)
            .to_vec(),
            rows: samples
                .iter()
                .map(|s| {
                    let tested = s.items.iter().filter(|i| i.result.is_some()).count();
                    vec![
                        vec![Inline::link(&s.control, super::sample_page::href(&s.id))],
                        text(format!(
                            "{} ({} items)",
                            s.population.kind.replace('_', " "),
                            s.population.count
                        )),
                        vec![Inline::mono(&s.seed)],
                        text(s.items.len().to_string()),
                        text(format!("{tested} of {}", s.items.len())),
                        if s.exceptions > 0 {
                            vec![Inline::Badge {
                                class: "gap".into(),
                                text: s.exceptions.to_string(),
                            }]
                        } else {
                            text("0")
                        },
                        text(format!("{} by {}", s.created_at, s.created_by)),
                    ]
                })
                .collect(),
        }));
    }
    blocks.push(Block::Para(vec![
        Inline::Button {
            text: "Download the testing workbook (XLSX)".into(),
            href: format!("{base}/workbook.xlsx"),
            download: true,
        },
        Inline::Button {
            text: "Download the engagement as a signed pack".into(),
            href: format!("{base}/pack"),
            download: true,
        },
    ]));
    if may(role, Act::Test) && e.status != EngagementStatus::Closed && !runs.is_empty() {
        let snap = state.snapshot().await?;
        let kinds: std::collections::BTreeSet<&str> = runs.iter().map(|r| r.kind.as_str()).collect();
        let controls: Vec<(String, String)> = snap
            .program()
            .controls
            .iter()
            .filter(|c| {
                c.template()
                    .is_some_and(|t| t.populations.iter().any(|k| kinds.contains(k.as_str())))
            })
            .map(|c| (c.code.clone(), format!("{} {}", c.code, c.title)))
            .collect();
        let mut f = blocks::Form::post(format!("{base}/samples"), &access.csrf, "Draw the sample");
        f.submit_class = "primary";
        f.fields = vec![
            Field::new("sample-control", "control", "Control tested", Input::Select(controls)),
            Field::new(
                "sample-population",
                "population",
                "From the population",
                Input::Select(
                    runs.iter()
                        .map(|r| {
                            (
                                r.id.clone(),
                                format!("{} · {} items · {}", r.kind.replace('_', " "), r.count, r.ran_at),
                            )
                        })
                        .collect(),
                ),
            ),
            Field::new("sample-seed", "seed", "Seed (yours: any word or number)", Input::Text).required(),
            Field::new(
                "sample-size",
                "size",
                "Size (empty: the table's size for the control)",
                Input::Text,
            ),
        ];
        f.hint = Some(
            "Items are ranked by SHA-256 of seed:id within equal strata of the period, so the sample spreads over it; anyone can recompute it with docs/sample.py."
                .into(),
        );
        blocks.push(Block::Heading("Draw a sample".into()));
        blocks.push(Block::Form(f));
    }
    sections.push(Section::new(format!("Samples and results ({})", samples.len()), blocks).anchored("sample-list"));

    // Sample sizes.
    let s = &e.sizes;
    let sizes = [
        ("annual", "Annual", s.annual),
        ("quarterly", "Quarterly", s.quarterly),
        ("monthly", "Monthly", s.monthly),
        ("weekly", "Weekly", s.weekly),
        ("daily", "Daily", s.daily),
        ("continuous", "Several times a day", s.continuous),
        (
            "event_percent",
            "Event-driven: percent of the population",
            s.event_percent,
        ),
        ("event_min", "Event-driven: at least", s.event_min),
        ("event_max", "Event-driven: at most", s.event_max),
    ];
    let mut blocks = vec![Block::Note(SIZE_NOTE.into())];
    if may(role, Act::Manage) && e.status != EngagementStatus::Closed {
        let mut f = blocks::Form::post(format!("{base}/sizes"), &access.csrf, "Save the sizes");
        f.fields = sizes
            .iter()
            .map(|(name, label, n)| Field::new(format!("size-{name}"), *name, *label, Input::Text).value(n.to_string()))
            .collect();
        blocks.push(Block::Form(f));
    } else {
        blocks.push(Block::Facts(
            sizes
                .iter()
                .map(|(_, label, n)| (label.to_string(), text(n.to_string())))
                .collect(),
        ));
    }
    sections.push(Section::new("Sample sizes", blocks).anchored("sizes"));
    Ok(DetailPage::new(layout, e.status.as_str(), sections))
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

/// `POST /audit/{id}/status`.
pub async fn set_status(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, ServerError> {
    let done = async {
        let status =
            EngagementStatus::parse(&form.status).map_err(|e| ServerError::invalid("status", e.to_string()))?;
        ws(&state, &access)
            .set_engagement_status(access.role(), &id, status)
            .await?;
        Ok::<_, ServerError>(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("{}?done=saved#engagement", href(&id))).into_response()),
        Err(e) => home_refused(&state, &access, &id, e).await,
    }
}

#[derive(Deserialize)]
pub struct AuditorForm {
    #[serde(default)]
    add: String,
}

/// `POST /audit/{id}/auditors` (`add` in the form, or `?remove=EMAIL`).
pub async fn auditors(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    Form(form): Form<AuditorForm>,
) -> Result<Response, ServerError> {
    let w = ws(&state, &access);
    let done = match q.get("remove") {
        Some(email) => w.bind_auditor(access.role(), &id, email, false).await,
        None => w.bind_auditor(access.role(), &id, &form.add, true).await,
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=saved#engagement", href(&id))).into_response()),
        Err(e) => home_refused(&state, &access, &id, e.into()).await,
    }
}

#[derive(Deserialize)]
pub struct RequestForm {
    reference: String,
    request: String,
    #[serde(default)]
    controls: String,
    #[serde(default)]
    criteria: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    assignee: String,
}

fn words(s: &str) -> Vec<String> {
    s.split([' ', ',', ';'])
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /audit/{id}/requests`: a request typed in.
pub async fn add_request(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<RequestForm>,
) -> Result<Response, ServerError> {
    let draft = RequestDraft {
        reference: form.reference,
        body: form.request,
        criteria: words(&form.criteria),
        controls: words(&form.controls),
        due: Some(form.due).filter(|d| !d.trim().is_empty()),
        assignee: Some(form.assignee).filter(|a| !a.trim().is_empty()),
        extra: Default::default(),
    };
    match ws(&state, &access)
        .add_request(access.role(), &id, draft, today())
        .await
    {
        Ok(r) => Ok(Redirect::to(&format!("{}?done=saved", super::request_page::href(&r.id))).into_response()),
        Err(e) => home_refused(&state, &access, &id, e.into()).await,
    }
}

/// `POST /audit/{id}/import`: the firm's list, uploaded.
pub async fn import(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, ServerError> {
    let done = super::files::import_upload(&state, &access, &id, mp).await;
    match done {
        Ok((added, updated)) => Ok(Redirect::to(&format!(
            "{}?done=imported&added={added}&updated={updated}#request-list",
            href(&id)
        ))
        .into_response()),
        Err(e) => home_refused(&state, &access, &id, e).await,
    }
}

#[derive(Deserialize)]
pub struct PopulationForm {
    kind: String,
}

/// `POST /audit/{id}/populations`.
pub async fn run_population(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<PopulationForm>,
) -> Result<Response, ServerError> {
    let done = async {
        let kind = PopulationKind::parse(&form.kind).map_err(|e| ServerError::invalid("kind", e.to_string()))?;
        ws(&state, &access)
            .run_population(access.role(), Some(&id), kind, None, today())
            .await?;
        Ok::<_, ServerError>(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("{}?done=population#population-list", href(&id))).into_response()),
        Err(e) => home_refused(&state, &access, &id, e).await,
    }
}

#[derive(Deserialize)]
pub struct DrawForm {
    control: String,
    population: String,
    seed: String,
    #[serde(default)]
    size: String,
}

/// `POST /audit/{id}/samples`.
pub async fn draw(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<DrawForm>,
) -> Result<Response, ServerError> {
    let size = match form.size.trim() {
        "" => None,
        n => match n.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return home_refused(
                    &state,
                    &access,
                    &id,
                    ServerError::invalid("size", format!("'{n}' is not a whole number")),
                )
                .await;
            }
        },
    };
    let (w, role, engagement) = (ws(&state, &access), access.role(), id.clone());
    let drawn = off_thread(move |h| {
        h.block_on(w.draw_sample(role, &engagement, &form.control, &form.population, &form.seed, size))
    })
    .await;
    match drawn {
        Ok(s) => Ok(Redirect::to(&format!("{}?done=drawn", super::sample_page::href(&s.id))).into_response()),
        Err(e) => home_refused(&state, &access, &id, e).await,
    }
}

/// `POST /audit/{id}/sizes`: every size in one form.
pub async fn set_sizes(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let done = async {
        let e = ws(&state, &access).engagement(access.role(), &id).await?;
        let mut t: SizeTable = e.sizes;
        for (name, slot) in [
            ("annual", &mut t.annual),
            ("quarterly", &mut t.quarterly),
            ("monthly", &mut t.monthly),
            ("weekly", &mut t.weekly),
            ("daily", &mut t.daily),
            ("continuous", &mut t.continuous),
            ("event_percent", &mut t.event_percent),
            ("event_min", &mut t.event_min),
            ("event_max", &mut t.event_max),
        ] {
            if let Some(v) = form.get(name) {
                *slot = v
                    .trim()
                    .parse()
                    .map_err(|_| ServerError::invalid(name, format!("'{}' is not a whole number", v.trim())))?;
            }
        }
        ws(&state, &access)
            .set_engagement_sizes(access.role(), &e.id, t)
            .await?;
        Ok::<_, ServerError>(())
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("{}?done=saved#sizes", href(&id))).into_response()),
        Err(e) => home_refused(&state, &access, &id, e).await,
    }
}
