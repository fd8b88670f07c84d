//! The dashboard: score and its trend, status by category, top gaps, tasks due, stale evidence
//! and the pre-audit checklist, all from the current snapshot.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use crate::web::charts::{StackedBars, Trend};
use crate::web::{Layout, name_of, render};
use evident_catalog::Catalog;
use evident_core::readiness::{Severity, Status};
use evident_core::registers::TASKS;

/// One gap on the dashboard, with the link that closes it.
struct GapRow {
    severity: String,
    /// The control's or criterion's page, and its code.
    href: String,
    place: String,
    reason: String,
    fix: String,
    action_label: String,
    action_href: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    computed: String,
    scoped: bool,
    score: u32,
    ready: usize,
    at_risk: usize,
    gap: usize,
    chart: StackedBars,
    trend: Option<Trend>,
    trend_days: usize,
    gaps: Vec<GapRow>,
    /// (due, title, owner)
    tasks: Vec<(String, String, String)>,
    /// (control, reason)
    stale: Vec<(String, String)>,
    /// (item, done, why)
    checklist: Vec<(String, bool, String)>,
    /// Points auditors look for that no applicable control covers: (criterion, topic, controls).
    topic_gaps: Vec<(String, String, String)>,
    window: Option<WindowCard>,
}

/// The observation window at a glance.
struct WindowCard {
    type2: bool,
    start: String,
    end: String,
    days_left: i64,
    elapsed: i64,
    days: i64,
    predicted: String,
    exceptions: usize,
    forecast: usize,
    next: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Response, ServerError> {
    let snap = state.snapshot().await?;
    let mut d = Dashboard {
        layout: Layout::new(&state, &access, "Dashboard", "/"),
        computed: crate::web::html::when(snap.computed_at.unix_timestamp() * 1000),
        scoped: snap.assessment.is_some(),
        score: 0,
        ready: 0,
        at_risk: 0,
        gap: 0,
        chart: StackedBars::new(&[]),
        trend: None,
        trend_days: crate::state::TREND_DAYS as usize,
        gaps: Vec::new(),
        tasks: Vec::new(),
        stale: Vec::new(),
        checklist: Vec::new(),
        topic_gaps: Vec::new(),
        window: None,
    };
    let Some(a) = &snap.assessment else {
        return render(d);
    };
    if access.may_read(evident_core::access::Area::Window)
        && let Some(w) = crate::window::current(&state, &snap).await?
    {
        d.window = Some(WindowCard {
            type2: w.period.report_type == "type2",
            start: w.period.start.clone(),
            end: w.period.end.clone(),
            days_left: w.period.days_left,
            elapsed: w.period.elapsed,
            days: w.period.days,
            predicted: name_of(w.opinion.predicted),
            exceptions: w.exceptions.len(),
            forecast: w.forecast.len(),
            next: w.forecast.first().map(|f| format!("{}: {}", f.date, f.what)),
        });
    }
    let r = &a.readiness;
    d.score = r.score;
    d.ready = r.count(Status::Ready);
    d.at_risk = r.count(Status::AtRisk);
    d.gap = r.count(Status::Gap);

    // Status by category: a control counts under each category its criteria belong to.
    let fw = &Catalog::builtin().framework;
    let mut by_cat: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    let codes: BTreeMap<&str, &evident_core::Control> =
        a.program.controls.iter().map(|c| (c.code.as_str(), c)).collect();
    for c in &r.controls {
        let Some(control) = codes.get(c.control.as_str()) else {
            continue;
        };
        let mut cats: Vec<String> = control
            .criteria
            .iter()
            .filter_map(|k| fw.criterion(k).map(|x| name_of(x.category)))
            .collect();
        cats.sort();
        cats.dedup();
        let class = match c.status {
            Status::Ready => "ready",
            Status::AtRisk => "at_risk",
            Status::Gap => "gap",
            Status::NotApplicable => "not_applicable",
        };
        for cat in cats {
            *by_cat.entry(cat).or_default().entry(class).or_default() += 1;
        }
    }
    let rows: Vec<(String, Vec<(&'static str, usize)>)> = by_cat
        .into_iter()
        .map(|(cat, m)| {
            let label = cat.replace('_', " ");
            let parts = ["ready", "at_risk", "gap", "not_applicable"]
                .into_iter()
                .map(|k| (k, m.get(k).copied().unwrap_or(0)))
                .collect();
            (format!("{}{}", label[..1].to_uppercase(), &label[1..]), parts)
        })
        .collect();
    d.chart = StackedBars::new(&rows);

    d.trend = Trend::new(&snap.trend);
    d.topic_gaps = a
        .topic_gaps
        .iter()
        .map(|t| (t.criterion.clone(), t.title.clone(), t.controls.join(", ")))
        .collect();

    let visible = |code: &str| access.reach != evident_core::access::Reach::InScope || codes.contains_key(code);
    d.gaps = r
        .gaps
        .iter()
        .filter(|g| g.control.as_deref().is_none_or(visible))
        .take(10)
        .map(|g| {
            let (href, place) = match (&g.control, &g.criterion) {
                (Some(c), _) => (format!("/controls/{c}"), c.clone()),
                (None, Some(k)) => (format!("/criteria/{k}"), k.clone()),
                _ => (String::new(), String::new()),
            };
            let (action_label, action_href) = crate::web::fix::target(&g.action);
            GapRow {
                severity: name_of(g.severity).replace('_', " "),
                href,
                place,
                reason: g.reason.clone(),
                fix: g.fix.clone(),
                action_label,
                action_href,
                owner: g.owner.clone().unwrap_or_else(|| "nobody yet".into()),
            }
        })
        .collect();
    d.stale = r
        .controls
        .iter()
        .flat_map(|c| {
            c.reasons
                .iter()
                .filter(|x| x.severity == Severity::StaleEvidence)
                .map(|x| (c.control.clone(), x.text.clone()))
        })
        .take(10)
        .collect();
    if access.may_read(evident_core::access::Area::Tasks) {
        let mut tasks: Vec<(String, String, String)> = state
            .ws
            .records(&TASKS)
            .await?
            .into_iter()
            .filter(|t| t.record.get("status").as_str() != Some("done"))
            .filter_map(|t| {
                let due = t.record.get("due_date").to_text();
                (!due.is_empty()).then(|| (due, t.record.get("title").to_text(), t.record.get("owner").to_text()))
            })
            .collect();
        tasks.sort();
        tasks.truncate(8);
        d.tasks = tasks;
    }
    d.checklist = a
        .checklist
        .iter()
        .map(|c| (c.item.to_string(), c.done, c.why.clone()))
        .collect();
    render(d)
}
