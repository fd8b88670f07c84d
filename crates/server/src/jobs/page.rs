//! The jobs page: each job's schedule, last run, result and next run, with Run now and the
//! schedule for administrators; and each connector's health (last success, last error, what it
//! collected).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use evident_core::access::Area;
use evident_store::{ConnectorHealth, JobView, StoreError};
use serde::Deserialize;
use serde_json::Value;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::blocks::{Block, Field, Form as FormBlock, Inline, Input, Section, Table, text};
use crate::web::html::{url_encode, when};
use crate::web::{DetailPage, Layout, flash_from, render};

/// What a run did, in words, from its summary.
pub fn summary_words(summary: &Value) -> String {
    let n = |k: &str| summary[k].as_i64();
    if let Some(c) = summary.get("collected") {
        return collected_words(c);
    }
    if let Some(checks) = n("checks") {
        return format!("{checks} checks run, {} failing", n("failing").unwrap_or(0));
    }
    if let Some(started) = summary["started"].as_array() {
        return match started.len() {
            0 => "no access review was due".into(),
            k => format!("started {k} access review(s)"),
        };
    }
    String::new()
}

/// What a collection brought, in words.
pub fn collected_words(c: &Value) -> String {
    let mut parts = Vec::new();
    for (key, label) in [
        ("requests", "requests"),
        ("protections", "branch protections"),
        ("changes", "merged changes"),
        ("commits", "commits"),
    ] {
        if let Some(v) = c[key].as_i64() {
            parts.push(format!("{v} {label}"));
        }
    }
    parts.join(", ")
}

/// A schedule as the form takes it back: `1d`, `6h`, `30m`, `90s`.
fn short(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn job_rows(jobs: &[JobView], access: &Access) -> Vec<Vec<Vec<Inline>>> {
    let admin = access.may_write(Area::Jobs);
    jobs.iter()
        .map(|j| {
            let target = url_encode(&j.name);
            let (last, result) = match &j.last_run {
                Some(r) => (
                    vec![Inline::text(when(r.finished_at)), Inline::badge(r.status.clone())],
                    match &r.error {
                        Some(e) => vec![Inline::text(e.clone())],
                        None => text(summary_words(&r.summary)),
                    },
                ),
                None => (vec![Inline::muted("never")], Vec::new()),
            };
            let running = match (&j.lease_holder, j.lease_until) {
                (Some(h), Some(until)) => vec![
                    Inline::badge("running"),
                    Inline::mono(h.clone()),
                    Inline::muted(format!("lease until {}", when(until))),
                ],
                _ => vec![Inline::muted("idle")],
            };
            let mut row = vec![
                vec![Inline::text(j.title.clone()), Inline::mono(j.name.clone())],
                text(&j.schedule),
                last,
                result,
                text(if j.failures > 0 {
                    format!("{} (retry after {} failure(s))", when(j.next_run_at), j.failures)
                } else {
                    when(j.next_run_at)
                }),
                running,
            ];
            if admin {
                let mut run = FormBlock::post(format!("/jobs/{target}/run"), &access.csrf, "Run now");
                run.inline = true;
                run.submit_class = "primary";
                let mut schedule = FormBlock::post(format!("/jobs/{target}/schedule"), &access.csrf, "Set schedule");
                schedule.inline = true;
                schedule.fields = vec![
                    Field::new(
                        format!("every-{target}"),
                        "every",
                        format!("Schedule of {}", j.name),
                        Input::Text,
                    )
                    .in_row("6h, 30m, 1d")
                    .value(short(j.schedule_secs)),
                ];
                row.push(vec![Inline::Form(Box::new(run)), Inline::Form(Box::new(schedule))]);
            }
            row
        })
        .collect()
}

fn connector_rows(connectors: &[ConnectorHealth]) -> Vec<Vec<Vec<Inline>>> {
    connectors
        .iter()
        .map(|c| {
            let mut collected = text(collected_words(&c.collected));
            if let Some(id) = &c.evidence {
                collected.push(Inline::link("responses kept", format!("/evidence/{}", url_encode(id))));
            }
            vec![
                vec![Inline::text(c.name.clone())],
                vec![Inline::badge(c.state.clone())],
                text(c.last_success_at.map(when).unwrap_or_else(|| "never".into())),
                match &c.last_error {
                    Some(e) => vec![
                        Inline::text(e.clone()),
                        Inline::muted(format!("{} failed run(s) since the last success", c.failures)),
                    ],
                    None => vec![Inline::muted("none")],
                },
                collected,
            ]
        })
        .collect()
}

async fn jobs_page(state: &AppState, access: &Access) -> Result<DetailPage, ServerError> {
    let now = super::now_ms();
    state.ws.sync_jobs(now).await?;
    let jobs = state.ws.jobs(now).await?;
    let connectors = state.ws.connectors_health(now).await?;
    let mut head: Vec<String> = ["Job", "Schedule", "Last run", "Result", "Next run", "Running"]
        .map(String::from)
        .to_vec();
    if access.may_write(Area::Jobs) {
        head.push("Actions".into());
    }
    let mut job_blocks = vec![Block::Table(Table {
        id: "jobs".into(),
        head,
        rows: job_rows(&jobs, access),
    })];
    job_blocks.push(Block::Note(if state.ws.config.server.run_jobs {
        "The server runs each job when it falls due; with several servers, one of them does. A failed run is retried after 1 minute, then 2, 4 … up to its schedule.".into()
    } else {
        "Scheduled jobs are off on this server: they run only when started here, or by a scheduler outside it such as cron.".into()
    }));
    let connection_blocks = if connectors.is_empty() {
        vec![Block::Note(
            "No connector is configured yet. Once one is connected, its collection appears here and runs every 6 hours.".into(),
        )]
    } else {
        vec![
            Block::Table(Table {
                id: "connectors".into(),
                head: ["Connector", "State", "Last success", "Last error", "What it collected"]
                    .map(String::from)
                    .to_vec(),
                rows: connector_rows(&connectors),
            }),
            Block::Para(vec![
                Inline::text("A connector with no success for more than a day fails the check"),
                Inline::link("Connectors keep collecting evidence", "/checks/connectors-collecting"),
                Inline::text(": evidence has stopped flowing."),
            ]),
        ]
    };
    Ok(DetailPage::new(
        Layout::new(state, access, "Jobs and connections", "/jobs"),
        "",
        vec![
            Section::new("Jobs", job_blocks),
            Section::new("Connections", connection_blocks).anchored("connections"),
        ],
    ))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, ServerError> {
    let mut p = jobs_page(&state, &access).await?;
    p.layout.flash = flash_from(&q);
    render(p)
}

/// The page again with why the form was refused, answered with `status`.
async fn refused(state: &AppState, access: &Access, status: StatusCode, why: String) -> Result<Response, ServerError> {
    let mut p = jobs_page(state, access).await?;
    p.layout.error = Some(why);
    Ok((status, render(p)?).into_response())
}

pub async fn run(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(name): Path<String>,
) -> Result<Response, ServerError> {
    match super::start_now(&state.ws.as_actor(&access.user.email), &name).await {
        Ok(_) => Ok(Redirect::to("/jobs?done=job-started").into_response()),
        Err(StoreError::Conflict(why)) => refused(&state, &access, StatusCode::CONFLICT, why).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    every: String,
}

pub async fn schedule(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    Path(name): Path<String>,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, ServerError> {
    let every = match evident_store::parse_every(&form.every) {
        Ok(secs) => secs,
        Err(why) => {
            return refused(
                &state,
                &access,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Schedule of {name}: {why}"),
            )
            .await;
        }
    };
    state
        .ws
        .as_actor(&access.user.email)
        .set_job_schedule(&name, every, None, super::now_ms())
        .await?;
    Ok(Redirect::to("/jobs?done=saved").into_response())
}
