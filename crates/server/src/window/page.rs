//! The window page (periods, day strips, exceptions, forecast, predicted opinion), one
//! exception with its responses and the response form, and the Section 4 downloads.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use evident_core::access::Area;
use evident_core::window::{Exception, OccurrenceStatus, Window};
use serde::Deserialize;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Field, Form, Inline, Input, Section, Strip, Table, runs, text};
use crate::web::html::url_encode;
use crate::web::{DetailPage, Layout, flash_from, name_of, render};

/// Exceptions listed on the page; the downloads hold them all.
const MAX_LISTED: usize = 300;

fn control_link(code: &str) -> Inline {
    Inline::link(code, format!("/controls/{}", url_encode(code)))
}

fn exception_href(id: &str) -> String {
    format!("/window/exceptions/{}", url_encode(id))
}

/// An exception's status as a badge (`open` reads "still open").
fn status_badge(e: &Exception) -> Inline {
    match e.status.as_str() {
        "open" => Inline::badge("still_open"),
        s => Inline::badge(s),
    }
}

fn what(e: &Exception) -> Vec<Inline> {
    let mut out = Vec::new();
    if let Some(c) = &e.check {
        out.push(Inline::link(c.clone(), format!("/checks/{}", url_encode(c))));
    }
    if let Some(r) = &e.record {
        out.push(Inline::mono(r.clone()));
    }
    if out.is_empty() {
        out.push(Inline::muted("period of the control"));
    }
    out
}

fn summary_section(w: &Window, layout_query: &str) -> Section {
    let p = &w.period;
    let o = &w.opinion;
    let phase = if p.report_type == "type1" {
        format!("Type I: controls in place on {}", p.start)
    } else if p.days_left == 0 {
        "Type II: the period has ended".to_string()
    } else {
        format!("Type II: day {} of {}", p.elapsed, p.days)
    };
    let mut as_of = Form::post("/window", &None, "Show");
    as_of.get = true;
    as_of.inline = true;
    as_of.fields = vec![Field::new("as-of", "as_of", "Read it as of", Input::Date).value(&p.as_of)];
    Section::new(
        "",
        vec![
            Block::Facts(vec![
                ("Period".into(), text(format!("{} to {}", p.start, p.end))),
                ("Phase".into(), text(phase)),
                ("As of".into(), text(&p.as_of)),
                ("Days left".into(), text(p.days_left.to_string())),
                (
                    "Predicted opinion".into(),
                    vec![
                        Inline::badge(name_of(o.predicted)),
                        Inline::text(format!(
                            "{} of {} criteria not met, {} met with exceptions; {} exception(s), {} forecast",
                            o.not_met,
                            o.in_scope,
                            o.met_with_exceptions,
                            w.exceptions.len(),
                            w.forecast.len()
                        )),
                    ],
                ),
            ]),
            Block::Note(format!(
                "{}. A criterion is not met when one of its controls deviates in more than {:.1} % of its periods or population (or no control addresses it); the prediction is adverse from {} criteria not met ({:.0} % of those in scope), qualified from one. Both figures are typical defaults: confirm them with your auditor.",
                o.label,
                o.rule.tolerable_rate * 100.0,
                o.pervasive_at,
                o.rule.pervasive_share * 100.0
            )),
            Block::Form(as_of),
            Block::Para(vec![
                Inline::text("Download Section 4 (criteria, controls, tests, results, exceptions, responses):"),
                Inline::Button {
                    text: "PDF".into(),
                    href: format!("/window/download.pdf{layout_query}"),
                    download: true,
                },
                Inline::Button {
                    text: "Excel".into(),
                    href: format!("/window/download.xlsx{layout_query}"),
                    download: true,
                },
            ]),
        ],
    )
}

/// Forecast items listed on the page, soonest first; the downloads hold them all.
const FORECAST_LISTED: usize = 25;

fn forecast_section(w: &Window) -> Section {
    use evident_core::window::ForecastKind as K;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &w.forecast {
        let k = match f.kind {
            K::DeadlineInWindow => "checks whose failing records reach their deadline",
            K::PeriodEnding => "periods ending with nothing attesting to them",
            K::EvidenceExpires => "evidence to renew",
            K::StoppedReporting => "checks whose scanners or agents went quiet",
        };
        *kinds.entry(k).or_default() += 1;
    }
    let mut blocks = Vec::new();
    if w.forecast.is_empty() {
        blocks.push(Block::Para(text(
            "Nothing is forecast to become an exception before the period ends.",
        )));
    } else {
        blocks.push(Block::Para(text(
            kinds
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(" · "),
        )));
        blocks.push(Block::Table(Table {
            id: "forecast-table".into(),
            head: ["When", "What will happen", "Owner", "Fix"].map(String::from).to_vec(),
            rows: w
                .forecast
                .iter()
                .take(FORECAST_LISTED)
                .map(|f| {
                    let (label, href) = crate::web::fix::target(&f.fix);
                    vec![
                        text(&f.date),
                        text(&f.what),
                        text(f.owner.clone().unwrap_or_else(|| "nobody yet".into())),
                        vec![Inline::text(&f.fix_text), Inline::link(label, href)],
                    ]
                })
                .collect(),
        }));
        if w.forecast.len() > FORECAST_LISTED {
            blocks.push(Block::Note(format!(
                "The {FORECAST_LISTED} soonest of {} are listed; the Excel download holds them all.",
                w.forecast.len()
            )));
        }
    }
    let mut s = Section::new(
        format!("Forecast: what surfaces before {} if nothing changes", w.period.end),
        blocks,
    );
    s.anchor = "forecast".into();
    s
}

/// The exception kinds a listing can be narrowed to (`?kind=`), with their labels.
const KINDS: [(&str, &str); 4] = [
    ("missed_period", "Missed periods"),
    ("late_remediation", "Fixed late or still open"),
    ("event", "One-off events"),
    ("no_evidence", "No evidence"),
];

fn exceptions_section(w: &Window, kind: Option<&str>, query: &str) -> Section {
    let mut blocks = Vec::new();
    if w.exceptions.is_empty() {
        blocks.push(Block::Para(text("No exceptions in the period so far.")));
    } else {
        let sep = if query.is_empty() { "?" } else { "&" };
        let all = format!("All ({})", w.exceptions.len());
        let mut filters = vec![match kind {
            None => Inline::text(all),
            Some(_) => Inline::link(all, format!("/window{query}#exceptions")),
        }];
        for (k, label) in KINDS {
            let n = w.exceptions.iter().filter(|e| name_of(e.kind) == k).count();
            if n == 0 {
                continue;
            }
            let label = format!("{label} ({n})");
            filters.push(if kind == Some(k) {
                Inline::text(label)
            } else {
                Inline::link(label, format!("/window{query}{sep}kind={k}#exceptions"))
            });
        }
        blocks.push(Block::Para(filters));
        let shown: Vec<&Exception> = w
            .exceptions
            .iter()
            .filter(|e| kind.is_none_or(|k| name_of(e.kind) == k))
            .collect();
        blocks.push(Block::Table(Table {
            id: "exceptions-table".into(),
            head: [
                "Exception",
                "Status",
                "Control",
                "Check and record",
                "From",
                "Fixed",
                "Days",
                "Management response",
            ]
            .map(String::from)
            .to_vec(),
            rows: shown
                .iter()
                .take(MAX_LISTED)
                .map(|e| {
                    let response = match &e.response {
                        Some(r) => vec![Inline::text(&r.text), Inline::muted(format!("{}, {}", r.by, r.at))],
                        None => vec![Inline::link("Respond", format!("{}#response", exception_href(&e.id)))],
                    };
                    vec![
                        vec![Inline::link(e.id.clone(), exception_href(&e.id))],
                        vec![status_badge(e)],
                        e.control.as_deref().map(|c| vec![control_link(c)]).unwrap_or_default(),
                        what(e),
                        text(&e.first_failed),
                        text(e.fixed.clone().unwrap_or_default()),
                        text(e.days.to_string()),
                        response,
                    ]
                })
                .collect(),
        }));
        if shown.len() > MAX_LISTED {
            blocks.push(Block::Note(format!(
                "The first {MAX_LISTED} of {} are listed; the Excel download holds them all.",
                shown.len()
            )));
        }
    }
    let mut s = Section::new(format!("Exceptions ({})", w.exceptions.len()), blocks);
    s.anchor = "exceptions".into();
    s
}

fn periods_section(w: &Window) -> Section {
    let strips: Vec<Strip> = w
        .controls
        .iter()
        .filter(|c| !c.periods.is_empty())
        .map(|c| {
            let missed = c
                .periods
                .iter()
                .filter(|p| p.status == OccurrenceStatus::Missed)
                .count();
            let met = c.periods.iter().filter(|p| p.status == OccurrenceStatus::Met).count();
            Strip {
                label: vec![
                    control_link(&c.id),
                    Inline::muted(format!("{} · {}", c.frequency, c.title)),
                ],
                note: format!("{met} met, {missed} missed of {} periods", c.periods.len()),
                summary: format!("{}: {met} periods met, {missed} missed", c.id),
                runs: runs(
                    c.periods
                        .iter()
                        .map(|p| (name_of(p.status), p.start.clone(), p.end.clone())),
                ),
            }
        })
        .collect();
    let blocks = if strips.is_empty() {
        vec![Block::Para(text("No periodic control is in scope."))]
    } else {
        vec![
            Block::Para(vec![
                Inline::badge("met"),
                Inline::badge("missed"),
                Inline::badge("pending"),
                Inline::muted(
                    "upcoming in grey; each period needs something dated inside it that shows the control ran",
                ),
            ]),
            Block::Strips(strips),
        ]
    };
    Section::new("Periodic controls: each period met, missed or pending", blocks)
}

fn checks_section(w: &Window) -> Section {
    let strips: Vec<Strip> = w
        .checks
        .iter()
        .filter(|c| !c.controls.is_empty())
        .map(|c| {
            let n = &c.counts;
            Strip {
                label: vec![
                    Inline::link(c.id.clone(), format!("/checks/{}", url_encode(&c.id))),
                    Inline::muted(c.controls.join(", ")),
                ],
                note: {
                    let parts: Vec<String> = [
                        (n.remediated_in_time, "fixed in time"),
                        (n.fixed_late, "fixed late"),
                        (n.open_past_deadline, "open past the deadline"),
                        (n.open_within_deadline, "open, still in time"),
                        (n.per_event, "one-off events"),
                        (n.excluded, "set aside"),
                        (c.no_data_days, "days without data"),
                    ]
                    .iter()
                    .filter(|(k, _)| *k > 0)
                    .map(|(k, what)| format!("{k} {what}"))
                    .collect();
                    if parts.is_empty() {
                        "no failing record".to_string()
                    } else {
                        parts.join(", ")
                    }
                },
                summary: format!("{}: {} days, {} without data", c.id, c.days.len(), c.no_data_days),
                runs: runs(
                    c.days
                        .iter()
                        .map(|d| (name_of(d.status), d.date.clone(), d.date.clone())),
                ),
            }
        })
        .collect();
    Section::new(
        "Automated checks: every day of the period",
        vec![
            Block::Para(vec![
                Inline::badge("pass"),
                Inline::badge("fail"),
                Inline::muted("grey: no result that day, which counts as no evidence, never as a pass"),
            ]),
            Block::Strips(strips),
        ],
    )
}

fn criteria_section(w: &Window) -> Section {
    Section::new(
        "Criteria (predicted)",
        vec![Block::Table(Table {
            id: "criteria-table".into(),
            head: ["Criterion", "Result", "Why", "Driven by"].map(String::from).to_vec(),
            rows: w
                .opinion
                .criteria
                .iter()
                .map(|k| {
                    let mut driven: Vec<Inline> = k
                        .exceptions
                        .iter()
                        .take(5)
                        .map(|id| Inline::link(id.clone(), exception_href(id)))
                        .collect();
                    if k.exceptions.len() > 5 {
                        driven.push(Inline::muted(format!("and {} more", k.exceptions.len() - 5)));
                    }
                    vec![
                        vec![Inline::link(
                            k.criterion.clone(),
                            format!("/criteria/{}", url_encode(&k.criterion)),
                        )],
                        vec![Inline::badge(name_of(k.result))],
                        text(&k.why),
                        driven,
                    ]
                })
                .collect(),
        })],
    )
}

pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let mut layout = Layout::new(&state, &access, "Observation window", "/window");
    layout.flash = flash_from(&q);
    let Some(w) = super::requested(&state, &snap, &q).await? else {
        return render(DetailPage::new(
            layout,
            "",
            vec![Section::new(
                "",
                vec![Block::Para(text(
                    "No audit scope is set yet, so there is no period to observe. An administrator sets the report type, the categories and the window on the Scope page.",
                ))],
            )],
        ));
    };
    let kind = match q.get("kind").map(String::as_str).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(
            KINDS
                .iter()
                .map(|(name, _)| *name)
                .find(|name| *name == k)
                .ok_or_else(|| ServerError::invalid("kind", format!("'{k}' is not a kind of exception")))?,
        ),
    };
    let query = crate::web::html::keep_query(&q, &["as_of", "period", "tolerable_rate", "pervasive_share"]);
    let sections = vec![
        summary_section(&w, &query),
        exceptions_section(&w, kind, &query),
        forecast_section(&w),
        periods_section(&w),
        checks_section(&w),
        criteria_section(&w),
    ];
    render(DetailPage::new(layout, name_of(w.opinion.predicted), sections))
}

#[derive(Deserialize)]
pub struct ResponseForm {
    response: String,
}

async fn exception_page(
    state: &AppState,
    access: &Access,
    id: &str,
    flash: Option<String>,
    refused: Option<(&str, String)>,
) -> Result<DetailPage, ServerError> {
    let snap = state.snapshot().await?;
    let w = super::current(state, &snap).await?.ok_or(ServerError::NotFound)?;
    let e = w.exceptions.iter().find(|e| e.id == id).ok_or(ServerError::NotFound)?;
    let mut layout = Layout::new(state, access, format!("Exception {}", e.id), "/window");
    layout.flash = flash;
    let mut facts = vec![
        ("Kind".into(), text(name_of(e.kind).replace('_', " "))),
        ("Status".into(), vec![status_badge(e)]),
        (
            "Controls".into(),
            e.controls.iter().map(|c| control_link(c)).collect::<Vec<_>>(),
        ),
        ("Check and record".into(), what(e)),
        ("From".into(), text(&e.first_failed)),
    ];
    if let Some(d) = &e.deadline {
        facts.push(("Deadline".into(), text(d)));
    }
    facts.push((
        "Fixed".into(),
        text(e.fixed.clone().unwrap_or_else(|| "not yet".into())),
    ));
    facts.push(("Duration".into(), text(format!("{} day(s)", e.days))));
    facts.push(("What happened".into(), text(&e.reason)));
    facts.push((
        "Owner".into(),
        text(e.owner.clone().unwrap_or_else(|| "nobody yet".into())),
    ));
    let mut sections = vec![Section::new("", vec![Block::Facts(facts)])];

    let mut blocks = Vec::new();
    match &e.response {
        Some(r) => blocks.push(Block::Facts(vec![(
            "Current".into(),
            vec![Inline::text(&r.text), Inline::muted(format!("{}, {}", r.by, r.at))],
        )])),
        None => blocks.push(Block::Para(text("No response yet."))),
    }
    if !e.earlier_responses.is_empty() {
        blocks.push(Block::Heading("Superseded, kept on record".into()));
        blocks.push(Block::List(
            e.earlier_responses
                .iter()
                .map(|r| vec![Inline::text(&r.text), Inline::muted(format!("{}, {}", r.by, r.at))])
                .collect(),
        ));
    }
    if access.may_write(Area::Window) {
        let (value, error) = match refused {
            Some((v, reason)) => (v.to_string(), Some(reason)),
            None => (String::new(), None),
        };
        let mut f = Form::post(exception_href(&e.id), &access.csrf, "Record the response");
        f.submit_class = "primary";
        f.intro = Some(
            "What went wrong, why, and what management did about it. It appears wherever the exception does (the window, Section 4, the downloads); a new response supersedes this one, which stays on record."
                .into(),
        );
        f.fields = vec![
            Field::new("response-text", "response", "Management response", Input::TextArea)
                .required()
                .value(value)
                .error(error),
        ];
        blocks.push(Block::Form(f));
    }
    let mut s = Section::new("Management response", blocks);
    s.anchor = "response".into();
    sections.push(s);
    sections.push(Section::new(
        "",
        vec![Block::Para(vec![Inline::link(
            "Back to the window",
            "/window#exceptions",
        )])],
    ));
    Ok(DetailPage::new(layout, "", sections))
}

pub async fn exception(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    render(exception_page(&state, &access, &id, flash_from(&q), None).await?)
}

pub async fn respond(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ResponseForm>,
) -> Result<Response, ServerError> {
    let today = time::OffsetDateTime::now_utc().date();
    match state
        .ws
        .as_actor(&access.user.email)
        .respond_to_exception(None, &id, &form.response, today)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=responded#response", exception_href(&id))).into_response()),
        Err(evident_store::StoreError::Field { reason, .. }) => {
            let page = exception_page(&state, &access, &id, None, Some((&form.response, reason))).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::response::Html(askama::Template::render(&page)?),
            )
                .into_response())
        }
        Err(evident_store::StoreError::NotFound { .. }) => Err(ServerError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// `/window/download.pdf` and `.xlsx`: Section 4 of the window the query selects.
pub async fn download(
    State(state): State<AppState>,
    Extension(_access): Extension<Access>,
    Path(file): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let xlsx = match file.as_str() {
        "download.pdf" => false,
        "download.xlsx" => true,
        _ => return Err(ServerError::NotFound),
    };
    let snap = state.snapshot().await?;
    let w = super::requested(&state, &snap, &q)
        .await?
        .ok_or(ServerError::NotFound)?;
    let meta = evident_report::WindowMeta {
        organisation: state.ws.organisation.clone(),
        prepared_on: evident_core::format_date(snap.day),
        testing: snap
            .program()
            .controls
            .iter()
            .filter_map(|c| c.testing.clone().map(|t| (c.code.clone(), t)))
            .collect(),
    };
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, evident_report::ReportError> {
        if xlsx {
            let mut out = Vec::new();
            evident_report::write_xlsx(&evident_report::window_sheets(&w, &meta), &mut out)?;
            Ok(out)
        } else {
            evident_report::window_pdf(&w, &meta)
        }
    })
    .await
    .map_err(|e| ServerError::Internal(format!("window download: {e}")))?
    .map_err(|e| ServerError::Internal(format!("window download: {e}")))?;
    let (media, name) = if xlsx {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "evident-window.xlsx",
        )
    } else {
        ("application/pdf", "evident-window.pdf")
    };
    Ok((
        [
            (header::CONTENT_TYPE, media.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
