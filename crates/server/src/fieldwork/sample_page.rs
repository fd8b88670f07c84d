//! A sample's page (its seed, the population it came from, every item with its result) and one
//! sampled item's packet: the records and evidence that prove it, and the auditor's result.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::fieldwork::{Act, EngagementStatus, SIZE_NOTE, SampleView, TestResult, may};
use serde::Deserialize;

use super::{off_thread, refusal, refused, ws};
use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{self, Block, Field, Inline, Input, Section, Table, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, flash_from, render};

pub fn href(id: &str) -> String {
    format!("/samples/{}", url_encode(id))
}

fn item_href(sample: &str, item: &str) -> String {
    format!("{}/items/{}", href(sample), url_encode(item))
}

fn result_badge(r: Option<TestResult>) -> Inline {
    match r {
        None => Inline::Badge {
            class: "pending".into(),
            text: "untested".into(),
        },
        Some(TestResult::NoException) => Inline::Badge {
            class: "met".into(),
            text: "no exception".into(),
        },
        Some(TestResult::Exception) => Inline::Badge {
            class: "gap".into(),
            text: "exception".into(),
        },
    }
}

/// The result form for one item; `inline` in the items table.
fn result_form(
    access: &Access,
    sample: &str,
    item: &str,
    current: Option<TestResult>,
    note: &str,
    inline: bool,
) -> blocks::Form {
    let mut f = blocks::Form::post(format!("{}/results", href(sample)), &access.csrf, "Record");
    f.inline = inline;
    let tag = crate::web::html::url_encode(item).replace('%', "_");
    f.fields = vec![
        Field::hidden("item", item),
        Field::new(
            format!("result-{tag}"),
            "result",
            format!("Result for {item}"),
            Input::Select(vec![
                ("no_exception".into(), "no exception".into()),
                ("exception".into(), "exception".into()),
            ]),
        )
        .value(current.map(|r| r.as_str()).unwrap_or("no_exception")),
        Field::new(format!("note-{tag}"), "note", format!("Note for {item}"), Input::Text).value(note),
    ];
    if inline {
        for x in &mut f.fields {
            x.label_hidden = true;
        }
    }
    f
}

async fn sample_of(state: &AppState, access: &Access, id: &str) -> Result<SampleView, ServerError> {
    Ok(ws(state, access).sample(access.role(), id).await?)
}

/// `/samples/{id}`.
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

async fn detail_page(state: &AppState, access: &Access, id: &str) -> Result<DetailPage, ServerError> {
    let role = access.role();
    let s = sample_of(state, access, id).await?;
    let e = ws(state, access).engagement(role, &s.engagement).await?;
    let testing = may(role, Act::Test) && e.status != EngagementStatus::Closed;
    let layout = Layout::new(state, access, format!("Sample of {}", s.control), "/audit");
    let p = &s.population;
    let facts = vec![
        (
            "Engagement".to_string(),
            vec![Inline::link(&e.name, super::engagement_page::href(&e.id))],
        ),
        (
            "Control".to_string(),
            vec![Inline::link(
                &s.control,
                format!("/controls/{}", url_encode(&s.control)),
            )],
        ),
        (
            "Population".to_string(),
            vec![
                Inline::text(format!(
                    "{}, {} items, {}",
                    p.kind.replace('_', " "),
                    p.count,
                    p.period.replace("..", " to ")
                )),
                Inline::Button {
                    text: "CSV".into(),
                    href: format!("/populations/{}/file", url_encode(&p.id)),
                    download: true,
                },
            ],
        ),
        ("SHA-256 of its rows".to_string(), vec![Inline::mono(&p.sha256)]),
        ("Seed".to_string(), vec![Inline::mono(&s.seed)]),
        (
            "Size".to_string(),
            text(format!(
                "{} in {} round(s) ({}); the table suggests {} ({SIZE_NOTE})",
                s.items.len(),
                s.rounds.len(),
                s.rounds.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" + "),
                s.suggested
            )),
        ),
        (
            "Exceptions".to_string(),
            text(format!(
                "{} of {} tested",
                s.exceptions,
                s.items.iter().filter(|i| i.result.is_some()).count()
            )),
        ),
        (
            "Drawn".to_string(),
            text(format!("{} by {}", s.created_at, s.created_by)),
        ),
    ];
    let mut sections = vec![Section::new(
        "",
        vec![
            Block::Facts(facts),
            Block::Para(vec![Inline::Button {
                text: "Download as a signed pack".into(),
                href: format!("{}/pack", href(&s.id)),
                download: true,
            }]),
            Block::Note(
                "Recompute it: python3 docs/sample.py with the population's CSV, the seed and the sizes of each round gives these items in this order."
                    .into(),
            ),
        ],
    )];
    let mut head: Vec<String> = ["Item", "Date", "Round", "Result", "Note"].map(String::from).to_vec();
    if testing {
        head.push("Record a result".into());
    }
    let rows = s
        .items
        .iter()
        .map(|it| {
            let mut row = vec![
                vec![Inline::link(&it.item, item_href(&s.id, &it.item))],
                text(&it.date),
                text(it.round.to_string()),
                vec![result_badge(it.result)],
                match &it.tested_by {
                    Some(by) => vec![
                        Inline::text(it.note.clone().unwrap_or_default()),
                        Inline::muted(format!("{by}, {}", it.tested_at.clone().unwrap_or_default())),
                    ],
                    None => Vec::new(),
                },
            ];
            if testing {
                row.push(vec![Inline::Form(Box::new(result_form(
                    access,
                    &s.id,
                    &it.item,
                    it.result,
                    it.note.as_deref().unwrap_or(""),
                    true,
                )))]);
            }
            row
        })
        .collect();
    let mut blocks = vec![Block::Table(Table {
        id: "sample-items".into(),
        head,
        rows,
    })];
    if testing {
        let mut f = blocks::Form::post(format!("{}/extension", href(&s.id)), &access.csrf, "Extend the sample");
        f.inline = true;
        f.fields = vec![Field::new("extend-more", "more", "More items", Input::Text).value("5")];
        f.hint = Some("Same seed and population; the items already drawn stay, the next ones are added.".into());
        blocks.push(Block::Form(f));
    }
    sections.push(Section::new(format!("Items ({})", s.items.len()), blocks).anchored("items"));
    Ok(DetailPage::new(layout, "", sections))
}

#[derive(Deserialize)]
pub struct ResultForm {
    item: String,
    result: String,
    #[serde(default)]
    note: String,
}

/// `POST /samples/{id}/results`; back to the item's packet when it came from there.
pub async fn record(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    Form(form): Form<ResultForm>,
) -> Result<Response, ServerError> {
    let done = async {
        let result = TestResult::parse(&form.result).map_err(|e| ServerError::invalid("result", e.to_string()))?;
        ws(&state, &access)
            .record_result(access.role(), &id, &form.item, result, &form.note)
            .await?;
        Ok::<_, ServerError>(())
    }
    .await;
    let from_packet = q.get("from").is_some_and(|f| f == "item");
    match done {
        Ok(()) if from_packet => {
            Ok(Redirect::to(&format!("{}?done=result", item_href(&id, &form.item))).into_response())
        }
        Ok(()) => Ok(Redirect::to(&format!("{}?done=result#items", href(&id))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let page = if from_packet {
                packet_page(&state, &access, &id, &form.item).await?
            } else {
                detail_page(&state, &access, &id).await?
            };
            refused(page, status, message)
        }
    }
}

#[derive(Deserialize)]
pub struct ExtendForm {
    more: String,
}

/// `POST /samples/{id}/extension`.
pub async fn extend(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Form(form): Form<ExtendForm>,
) -> Result<Response, ServerError> {
    let done = match form.more.trim().parse::<usize>() {
        Err(_) => Err(ServerError::invalid(
            "more",
            format!("'{}' is not a whole number", form.more.trim()),
        )),
        Ok(more) => {
            let (w, role, sample) = (ws(&state, &access), access.role(), id.clone());
            off_thread(move |h| h.block_on(w.extend_sample(role, &sample, more)))
                .await
                .map(|_| ())
        }
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("{}?done=extended#items", href(&id))).into_response()),
        Err(e) => {
            let (status, message) = refusal(e)?;
            refused(detail_page(&state, &access, &id).await?, status, message)
        }
    }
}

/// `/samples/{id}/items/{item}`: the packet of one sampled item.
pub async fn item(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path((id, item)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut page = packet_page(&state, &access, &id, &item).await?;
    page.layout.flash = flash_from(&q);
    render(page)
}

async fn packet_page(state: &AppState, access: &Access, id: &str, item: &str) -> Result<DetailPage, ServerError> {
    let role = access.role();
    let (w, sample, it) = (ws(state, access), id.to_string(), item.to_string());
    let p = off_thread(move |h| h.block_on(w.sample_packet(role, &sample, &it))).await?;
    let s = sample_of(state, access, id).await?;
    let e = ws(state, access).engagement(role, &s.engagement).await?;
    let layout = Layout::new(state, access, format!("{} · {}", p.control, p.item), "/audit");
    let mut facts = vec![
        (
            "Sample".to_string(),
            vec![Inline::link(
                format!("{} sample, seed {}", s.control, s.seed),
                href(&s.id),
            )],
        ),
        ("Date".to_string(), text(&p.date)),
        (
            "Rank key".to_string(),
            vec![Inline::mono(
                s.items
                    .iter()
                    .find(|i| i.item == p.item)
                    .map(|i| i.key.clone())
                    .unwrap_or_default(),
            )],
        ),
        ("Result".to_string(), vec![result_badge(p.result)]),
    ];
    if let Some(n) = &p.note {
        facts.push(("Note".to_string(), text(n)));
    }
    facts.extend(p.facts.iter().map(|f| (f.name.clone(), text(&f.value))));
    let mut sections = vec![Section::new("What the records say", vec![Block::Facts(facts)])];
    let mut blocks = Vec::new();
    if p.evidence.is_empty() {
        blocks.push(Block::Note("No evidence item speaks to this occurrence.".into()));
    } else {
        blocks.push(Block::Table(super::evidence_table("packet-evidence", &p.evidence)));
    }
    sections.push(Section::new("Evidence", blocks).anchored("evidence"));
    if may(role, Act::Test) && e.status != EngagementStatus::Closed {
        let mut f = result_form(access, &s.id, &p.item, p.result, p.note.as_deref().unwrap_or(""), false);
        f.action = format!("{}/results?from=item", href(&s.id));
        sections.push(Section::new("Your result", vec![Block::Form(f)]).anchored("result"));
    }
    Ok(DetailPage::new(layout, "", sections))
}
