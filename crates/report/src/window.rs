//! The observation window as files: a workbook laid out like a Type II report's Section 4
//! (criterion → control → what was tested → result → exceptions → management response), with
//! the exceptions, the periods and the forecast on sheets of their own; and the same as a PDF.

use std::collections::BTreeMap;

use evident_core::window::{CriterionOutcome, Exception, OccurrenceStatus, PredictedOpinion, Window};

use crate::ReportError;
use crate::pdf::{cells, s, typeset};
use crate::tabular::Sheet;

/// What the window itself does not hold.
#[derive(Debug, Clone, Default)]
pub struct WindowMeta {
    pub organisation: String,
    pub prepared_on: String,
    /// How an auditor tests each control, by control code (from the content).
    pub testing: BTreeMap<String, String>,
}

fn predicted(p: PredictedOpinion) -> &'static str {
    match p {
        PredictedOpinion::Unmodified => "Unmodified",
        PredictedOpinion::Qualified => "Qualified",
        PredictedOpinion::Adverse => "Adverse",
    }
}

fn outcome(o: CriterionOutcome) -> &'static str {
    match o {
        CriterionOutcome::Met => "Met",
        CriterionOutcome::MetWithExceptions => "Met with exceptions",
        CriterionOutcome::NotMet => "Not met",
    }
}

fn rule_text(w: &Window) -> String {
    format!(
        "{}. Rule: a criterion is not met when a control mapped to it deviates in more than {:.1} % of its \
         occurrences or population (or none addresses it), met with exceptions when any of its controls \
         has a deviation; the prediction is adverse from {} criteria not met ({:.0} % of {}), qualified \
         from one, otherwise unmodified.",
        w.opinion.label,
        w.opinion.rule.tolerable_rate * 100.0,
        w.opinion.pervasive_at,
        w.opinion.rule.pervasive_share * 100.0,
        w.opinion.in_scope
    )
}

fn exception_line(e: &Exception) -> String {
    let what = match (&e.check, &e.record) {
        (Some(check), Some(record)) => format!("{record} ({check})"),
        (Some(check), None) => check.clone(),
        _ => e.control.clone().unwrap_or_default(),
    };
    format!(
        "{} {}: {} for {} day(s)",
        e.id,
        what,
        e.status.replace('_', " "),
        e.days
    )
}

/// One row per criterion and control: Section 4 of a Type II report.
fn section4_rows(w: &Window, meta: &WindowMeta) -> Vec<Vec<String>> {
    let by_id: BTreeMap<&str, &Exception> = w.exceptions.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut rows = Vec::new();
    for k in &w.opinion.criteria {
        if k.controls.is_empty() {
            rows.push(vec![
                k.criterion.clone(),
                outcome(k.result).into(),
                String::new(),
                String::new(),
                String::new(),
                "No control addresses this criterion".into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for code in &k.controls {
            let Some(c) = w.controls.iter().find(|c| &c.id == code) else {
                continue;
            };
            let found: Vec<&Exception> = c
                .exceptions
                .iter()
                .filter_map(|id| by_id.get(id.as_str()).copied())
                .collect();
            let result = if w.period.report_type == "type1" {
                match c.in_place {
                    Some(true) => "In place on the date".to_string(),
                    _ => "Not shown in place on the date".to_string(),
                }
            } else if found.is_empty() {
                "No exceptions noted".to_string()
            } else {
                format!(
                    "{} exception(s); deviation rate {:.1} %",
                    found.len(),
                    c.deviation_rate * 100.0
                )
            };
            let responses: Vec<String> = found
                .iter()
                .filter_map(|e| {
                    e.response
                        .as_ref()
                        .map(|r| format!("{}: {} ({}, {})", e.id, r.text, r.by, r.at))
                })
                .collect();
            rows.push(vec![
                k.criterion.clone(),
                outcome(k.result).into(),
                c.id.clone(),
                c.title.clone(),
                c.frequency.to_string(),
                meta.testing.get(&c.id).cloned().unwrap_or_default(),
                result,
                found.iter().map(|e| exception_line(e)).collect::<Vec<_>>().join("\n"),
                responses.join("\n"),
            ]);
        }
    }
    rows
}

/// The workbook's sheets: Section 4, Exceptions, Periods, Forecast, Opinion.
pub fn window_sheets(w: &Window, meta: &WindowMeta) -> Vec<Sheet> {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let section4 = Sheet {
        name: "Section 4".into(),
        headers: strings(&[
            "criterion",
            "criterion result (predicted)",
            "control",
            "title",
            "frequency",
            "what was tested",
            "result",
            "exceptions",
            "management response",
        ]),
        rows: section4_rows(w, meta),
        widths: vec![10.0, 18.0, 10.0, 36.0, 11.0, 60.0, 26.0, 60.0, 60.0],
    };
    let exceptions = Sheet {
        name: "Exceptions".into(),
        headers: strings(&[
            "id",
            "kind",
            "status",
            "control",
            "controls",
            "check",
            "record",
            "first failed",
            "fixed",
            "deadline",
            "days",
            "reason",
            "owner",
            "response",
            "response by",
            "response at",
            "earlier responses",
        ]),
        rows: w
            .exceptions
            .iter()
            .map(|e| {
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                vec![
                    e.id.clone(),
                    kind,
                    e.status.clone(),
                    e.control.clone().unwrap_or_default(),
                    e.controls.join("; "),
                    e.check.clone().unwrap_or_default(),
                    e.record.clone().unwrap_or_default(),
                    e.first_failed.clone(),
                    e.fixed.clone().unwrap_or_default(),
                    e.deadline.clone().unwrap_or_default(),
                    e.days.to_string(),
                    e.reason.clone(),
                    e.owner.clone().unwrap_or_default(),
                    e.response.as_ref().map(|r| r.text.clone()).unwrap_or_default(),
                    e.response.as_ref().map(|r| r.by.clone()).unwrap_or_default(),
                    e.response.as_ref().map(|r| r.at.clone()).unwrap_or_default(),
                    e.earlier_responses.len().to_string(),
                ]
            })
            .collect(),
        widths: vec![
            17.0, 16.0, 12.0, 10.0, 16.0, 26.0, 30.0, 12.0, 12.0, 12.0, 6.0, 60.0, 28.0, 60.0, 24.0, 20.0, 8.0,
        ],
    };
    let mut period_rows = Vec::new();
    for c in &w.controls {
        for p in &c.periods {
            let status = match p.status {
                OccurrenceStatus::Met => "met",
                OccurrenceStatus::Missed => "missed",
                OccurrenceStatus::Pending => "pending",
                OccurrenceStatus::Upcoming => "upcoming",
            };
            period_rows.push(vec![
                c.id.clone(),
                c.frequency.to_string(),
                p.start.clone(),
                p.end.clone(),
                status.into(),
                p.evidence
                    .iter()
                    .map(|x| format!("{} {} ({}, {})", x.source, x.reference, x.title, x.date))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]);
        }
    }
    let periods = Sheet {
        name: "Periods".into(),
        headers: strings(&["control", "frequency", "start", "end", "status", "what attests to it"]),
        rows: period_rows,
        widths: vec![10.0, 11.0, 12.0, 12.0, 10.0, 80.0],
    };
    let forecast = Sheet {
        name: "Forecast".into(),
        headers: strings(&["date", "control", "check", "owner", "what will happen", "fix"]),
        rows: w
            .forecast
            .iter()
            .map(|f| {
                vec![
                    f.date.clone(),
                    f.control.clone().unwrap_or_default(),
                    f.check.clone().unwrap_or_default(),
                    f.owner.clone().unwrap_or_default(),
                    f.what.clone(),
                    f.fix_text.clone(),
                ]
            })
            .collect(),
        widths: vec![12.0, 10.0, 26.0, 28.0, 80.0, 60.0],
    };
    let mut opinion_rows = vec![vec![
        "Predicted opinion".to_string(),
        predicted(w.opinion.predicted).into(),
        rule_text(w),
        String::new(),
    ]];
    for k in &w.opinion.criteria {
        opinion_rows.push(vec![
            k.criterion.clone(),
            outcome(k.result).into(),
            k.why.clone(),
            k.exceptions.join("; "),
        ]);
    }
    let opinion = Sheet {
        name: "Opinion".into(),
        headers: strings(&["criterion", "result", "why", "driven by exceptions"]),
        rows: opinion_rows,
        widths: vec![18.0, 20.0, 90.0, 60.0],
    };
    vec![section4, exceptions, periods, forecast, opinion]
}

/// At most this many exceptions are listed in the PDF; the workbook lists them all.
pub const PDF_MAX_EXCEPTIONS: usize = 400;

/// The window as a PDF for the compliance lead and the board.
pub fn window_pdf(w: &Window, meta: &WindowMeta) -> Result<Vec<u8>, ReportError> {
    let p = &w.period;
    let mut m = String::with_capacity(256 * 1024);
    m.push_str(&format!(
        "#set document(title: {title}, author: \"Evident\")\n\
         #set page(paper: \"a4\", flipped: true, margin: (x: 1.6cm, y: 1.8cm), footer: context [#set text(8pt, fill: luma(110)); \
         #{org} · observation window {start}..{end} · page #counter(page).display() of #counter(page).final().first()])\n\
         #set text(font: \"Libertinus Serif\", size: 9.5pt)\n\
         #set table(stroke: (x, y) => (bottom: 0.4pt + luma(200)), inset: 4pt)\n\
         #show table.cell.where(y: 0): set text(weight: \"bold\")\n\
         #text(17pt, weight: \"bold\")[SOC 2 observation window: #{org}]\n\n\
         #text(fill: luma(90))[Period #{start} to #{end} · as of #{as_of} (day #{elapsed} of #{days}, #{left} left) · prepared #{prepared}]\n\n\
         #text(13pt)[Predicted opinion: *#{opinion}* · #{not_met} of #{in_scope} criteria not met, #{mwe} met with exceptions, #{n} exception(s)]\n\n\
         #text(8.5pt, fill: luma(90))[#{rule}]\n\n",
        title = s(&format!("Observation window: {}", meta.organisation)),
        org = s(&meta.organisation),
        start = s(&p.start),
        end = s(&p.end),
        as_of = s(&p.as_of),
        elapsed = s(&p.elapsed.to_string()),
        days = s(&p.days.to_string()),
        left = s(&p.days_left.to_string()),
        prepared = s(&meta.prepared_on),
        opinion = s(predicted(w.opinion.predicted)),
        not_met = s(&w.opinion.not_met.to_string()),
        in_scope = s(&w.opinion.in_scope.to_string()),
        mwe = s(&w.opinion.met_with_exceptions.to_string()),
        n = s(&w.exceptions.len().to_string()),
        rule = s(&rule_text(w)),
    ));
    m.push_str(
        "== Criteria, controls, tests and results\n#table(columns: (auto, auto, auto, 1.6fr, 2.2fr, 1.3fr, 2fr, 2fr), \
         [Criterion], [Result], [Control], [Title], [What was tested], [Result], [Exceptions], [Management response]",
    );
    for r in section4_rows(w, meta) {
        m.push_str(", ");
        let keep = [0, 1, 2, 3, 5, 6, 7, 8];
        let v: Vec<&str> = keep.iter().map(|i| r[*i].as_str()).collect();
        m.push_str(&cells(&v));
    }
    m.push_str(")\n\n");
    m.push_str(&format!("== Exceptions ({})\n", w.exceptions.len()));
    if w.exceptions.is_empty() {
        m.push_str("No exceptions in the period so far.\n\n");
    } else {
        m.push_str(
            "#text(8.5pt)[#table(columns: (auto, auto, auto, 1.4fr, auto, auto, auto, 2fr, 2fr), [Id], [Status], \
             [Control], [Check / record], [First], [Fixed], [Days], [Reason], [Response]",
        );
        for e in w.exceptions.iter().take(PDF_MAX_EXCEPTIONS) {
            m.push_str(", ");
            let what = match (&e.check, &e.record) {
                (Some(c), Some(r)) => format!("{c}: {r}"),
                (Some(c), None) => c.clone(),
                _ => String::new(),
            };
            let response = e
                .response
                .as_ref()
                .map(|r| format!("{} ({}, {})", r.text, r.by, r.at))
                .unwrap_or_else(|| "none yet".into());
            m.push_str(&cells(&[
                &e.id,
                &e.status.replace('_', " "),
                e.control.as_deref().unwrap_or(""),
                &what,
                &e.first_failed,
                e.fixed.as_deref().unwrap_or(""),
                &e.days.to_string(),
                &e.reason,
                &response,
            ]));
        }
        m.push_str(")]\n\n");
        if w.exceptions.len() > PDF_MAX_EXCEPTIONS {
            m.push_str(&format!(
                "#{}\n\n",
                s(&format!(
                    "The first {PDF_MAX_EXCEPTIONS} of {} exceptions are listed; the workbook (evident report window --out F.xlsx) lists them all.",
                    w.exceptions.len()
                ))
            ));
        }
    }
    m.push_str(&format!("== Forecast ({})\n", w.forecast.len()));
    if w.forecast.is_empty() {
        m.push_str("Nothing is forecast to surface before the period ends.\n");
    } else {
        m.push_str(
            "#table(columns: (auto, auto, 1.2fr, 3fr, 2fr), [Date], [Control], [Owner], [What will happen], [Fix]",
        );
        for f in &w.forecast {
            m.push_str(", ");
            m.push_str(&cells(&[
                &f.date,
                f.control.as_deref().unwrap_or(""),
                f.owner.as_deref().unwrap_or("no owner"),
                &f.what,
                &f.fix_text,
            ]));
        }
        m.push_str(")\n");
    }
    typeset(m)
}
