//! The dashboard for the compliance lead: where the audit stands (period, phase, days left),
//! the score with what it means, the gaps blocking the audit by owner, the pre-audit checklist,
//! then the window, the charts, top gaps, tasks due and stale evidence; all from the snapshot.

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
use evident_core::readiness::{self, Coverage, Gap, Severity, Status};
use evident_core::registers::TASKS;
use evident_core::{AuditPeriod, format_date};

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
    stale: Vec<StaleLine>,
    /// (item, done, why)
    checklist: Vec<(String, bool, String)>,
    /// Points auditors look for that no applicable control covers: (criterion, topic, controls).
    topic_gaps: Vec<(String, String, String)>,
    window: Option<WindowCard>,
    standing: Option<Standing>,
    /// Criteria in scope, and those a ready control covers (partial ones count half).
    criteria: usize,
    covered: usize,
    partial: usize,
    not_applicable: usize,
    blocking: usize,
    owners: Vec<OwnerLine>,
}

/// Evidence gone stale: the control, what it is, and the link that replaces it.
struct StaleLine {
    control: String,
    what: String,
    label: String,
    href: String,
}

/// The audit's period and where the program is on its timeline.
struct Standing {
    period: String,
    phase: String,
    days: i64,
    until: String,
    date: String,
}

/// One owner's gaps that block the audit, linked to the gaps page filtered to them.
struct OwnerLine {
    owner: String,
    href: String,
    gaps: usize,
    worst: String,
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
        standing: None,
        criteria: 0,
        covered: 0,
        partial: 0,
        not_applicable: 0,
        blocking: 0,
        owners: Vec::new(),
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
    d.not_applicable = r.count(Status::NotApplicable);
    d.criteria = r.criteria.len();
    d.covered = r.criteria.iter().filter(|k| k.status == Coverage::Covered).count();
    d.partial = r.criteria.iter().filter(|k| k.status == Coverage::Partial).count();
    let today = crate::fieldwork::today();
    let countdown = evident_core::checklist::countdown(a.scope.period, &a.timeline, today);
    d.standing = Some(Standing {
        period: match a.scope.period {
            AuditPeriod::AsOf(day) => format!("Type 1 as of {}", format_date(day)),
            AuditPeriod::Window { from, to } => {
                format!("Type 2, window {} to {}", format_date(from), format_date(to))
            }
        },
        phase: countdown
            .phase
            .map(evident_core::register::label_of)
            .unwrap_or_else(|| "Done".into()),
        days: countdown.days,
        until: countdown.until.into(),
        date: format_date(countdown.date),
    });

    // Status by category: a control counts under each category its criteria belong to.
    let fw = &Catalog::builtin().framework;
    let mut by_cat: BTreeMap<&str, BTreeMap<&'static str, usize>> = BTreeMap::new();
    let codes: BTreeMap<&str, &evident_core::Control> =
        a.program.controls.iter().map(|c| (c.code.as_str(), c)).collect();
    for c in &r.controls {
        let Some(control) = codes.get(c.control.as_str()) else {
            continue;
        };
        let mut cats: Vec<&str> = control
            .criteria
            .iter()
            .filter_map(|k| fw.criterion(k))
            .filter(|x| a.scope.categories.contains(&x.category))
            .map(|x| {
                fw.category(x.category)
                    .map(|c| c.name.as_str())
                    .unwrap_or(x.category.as_str())
            })
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
            let parts = ["ready", "at_risk", "gap", "not_applicable"]
                .into_iter()
                .map(|k| (k, m.get(k).copied().unwrap_or(0)))
                .collect();
            (cat.to_string(), parts)
        })
        .collect();
    d.chart = StackedBars::new(&rows);

    d.trend = Trend::new(&snap.trend);
    d.topic_gaps = a
        .topic_gaps
        .iter()
        .map(|t| (t.criterion.clone(), t.title.clone(), t.controls.join(", ")))
        .collect();

    let controls_access = crate::gaps::controls_reach(&access);
    let in_scope_only = controls_access.reach == evident_core::access::Reach::InScope;
    let readable: std::collections::HashSet<&str> = if in_scope_only {
        crate::controls::visible(&snap, &controls_access)
            .into_iter()
            .map(|c| c.code.as_str())
            .collect()
    } else {
        Default::default()
    };
    let visible = |code: &str| !in_scope_only || readable.contains(code);
    let shown: Vec<&Gap> = r
        .gaps
        .iter()
        .filter(|g| g.control.as_deref().is_none_or(visible))
        .collect();
    d.blocking = shown.iter().filter(|g| g.blocks_audit()).count();
    d.owners = readiness::blocking_by_owner(shown.iter().copied())
        .into_iter()
        .map(|o| OwnerLine {
            href: format!(
                "/gaps?owner={}",
                crate::web::html::url_encode(o.owner.as_deref().unwrap_or("none"))
            ),
            owner: o.owner.unwrap_or_else(|| "Nobody yet".into()),
            gaps: o.gaps,
            worst: o.worst.label(),
        })
        .collect();
    d.gaps = shown
        .iter()
        .take(5)
        .map(|g| {
            let (href, place) = match (&g.control, &g.criterion) {
                (Some(c), _) => (format!("/controls/{c}"), c.clone()),
                (None, Some(k)) => (format!("/criteria/{k}"), k.clone()),
                _ => (String::new(), String::new()),
            };
            let (action_label, action_href) = crate::web::fix::target(&g.action);
            GapRow {
                severity: g.severity.label(),
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
        .filter(|c| visible(&c.control))
        .flat_map(|c| {
            c.reasons
                .iter()
                .filter(|x| x.severity == Severity::StaleEvidence)
                .map(|x| {
                    let what = match &x.action {
                        evident_core::fix::Fix::ReplaceEvidence { title, .. } => title.clone(),
                        _ => x.subject.replace('_', " "),
                    };
                    let (label, href) = crate::web::fix::target(&x.action);
                    StaleLine {
                        control: c.control.clone(),
                        what,
                        label,
                        href,
                    }
                })
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
