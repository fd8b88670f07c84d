//! The readiness report as one self-contained HTML page (inline CSS and SVG; nothing fetched).

use std::fmt::Write;

use crate::readiness::{BLOCKING_RULE, NO_OWNER, ReadinessDoc, SCORE_FORMULA};

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2733;max-width:60rem;\
margin:2rem auto;padding:0 1rem;line-height:1.45}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;\
margin-top:2rem;border-bottom:1px solid #d5dde5;padding-bottom:.3rem}.meta{color:#56657a}.score{display:flex;\
gap:2rem;align-items:center;margin:1.5rem 0}.big{font-size:3.2rem;font-weight:700}table{border-collapse:collapse;\
width:100%;font-size:.92rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e8ee;\
vertical-align:top}th{background:#f2f5f8}.done{color:#1c7c3c;font-weight:600}.todo{color:#a4330d;font-weight:600}\
.current{background:#fff7e0}.owner{overflow-wrap:anywhere}.facts{width:auto;margin:1rem 0}\
.facts th{background:none;color:#56657a;font-weight:400}.facts td{font-weight:600;padding-right:2rem}.note{color:#56657a;font-size:.9rem}@media print{body{margin:0}}";

/// A horizontal stacked bar: covered (green), partial (amber), uncovered (red).
fn bar(covered: usize, partial: usize, uncovered: usize) -> String {
    let total = (covered + partial + uncovered).max(1) as f64;
    let w = |n: usize| n as f64 / total * 200.0;
    let (a, b, c) = (w(covered), w(partial), w(uncovered));
    format!(
        "<svg width=\"200\" height=\"14\" role=\"img\" aria-label=\"{covered} covered, {partial} partial, \
         {uncovered} uncovered\"><rect width=\"{a:.1}\" height=\"14\" fill=\"#2e8b57\"/><rect x=\"{a:.1}\" \
         width=\"{b:.1}\" height=\"14\" fill=\"#e0a526\"/><rect x=\"{:.1}\" width=\"{c:.1}\" height=\"14\" \
         fill=\"#c8452d\"/></svg>",
        a + b
    )
}

pub fn readiness_html(doc: &ReadinessDoc) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>Readiness report: {org}</title><style>{STYLE}</style>\
         </head><body><h1>SOC 2 readiness report: {org}</h1><p class=\"meta\">Prepared {date} · {scope}</p>",
        org = esc(&doc.organisation),
        date = esc(&doc.prepared_on),
        scope = esc(&doc.scope),
    );
    let c = &doc.controls;
    let _ = write!(
        h,
        "<div class=\"score\"><div><div class=\"big\">{}</div><div>Readiness score (out of 100)</div>\
         <div class=\"note\">{}</div></div><table style=\"width:auto\"><tr><th>Controls ready</th><td>{}</td></tr>\
         <tr><th>At risk</th><td>{}</td></tr><tr><th>Gaps</th><td>{}</td></tr><tr><th>Not applicable</th><td>{}</td>\
         </tr></table></div>",
        doc.score,
        esc(&doc.score_meaning()),
        c.ready,
        c.at_risk,
        c.gap,
        c.not_applicable,
    );
    let (phase, until) = match &doc.phase {
        Some((phase, until)) => (phase.as_str(), format!(" until {until}")),
        None => ("None under way", String::new()),
    };
    let _ = write!(
        h,
        "<table class=\"facts\"><tr><th>{}</th><th>Countdown</th><th>Current phase</th></tr><tr><td>{}</td><td>{}</td>\
         <td><strong>{}</strong>{}</td></tr></table>",
        esc(doc.audit.what()),
        esc(&doc.audit.dates()),
        esc(&doc.audit.countdown()),
        esc(phase),
        esc(&until)
    );
    h.push_str(
        "<h2>Coverage of the criteria in scope, by category</h2><p class=\"note\">Each bar is one category's \
         criteria, split into covered (green), partially covered because its controls are at risk (amber) and \
         uncovered (red).</p><table><tr><th>Category</th><th>Criteria</th><th>Covered</th><th>Partial</th>\
         <th>Uncovered</th><th></th></tr>",
    );
    for k in &doc.categories {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.category),
            k.criteria(),
            k.covered,
            k.partial,
            k.uncovered,
            bar(k.covered, k.partial, k.uncovered)
        );
    }
    h.push_str("</table>");
    let b = &doc.blocking;
    let _ = write!(
        h,
        "<h2>Blocking the audit: {} {} by owner</h2><p class=\"note\">{}</p>",
        b.total(),
        if b.total() == 1 { "gap" } else { "gaps" },
        esc(BLOCKING_RULE)
    );
    if b.owners.is_empty() {
        h.push_str("<p>Nothing blocks the audit.</p>");
    } else {
        h.push_str("<table><tr><th>Owner</th><th>Gaps</th>");
        for kind in &b.kinds {
            let _ = write!(h, "<th>{}</th>", esc(&evident_core::register::label_of(kind)));
        }
        h.push_str("</tr>");
        for o in &b.owners {
            let _ = write!(
                h,
                "<tr><td class=\"owner\">{}</td><td><strong>{}</strong></td>",
                esc(&o.owner),
                o.gaps
            );
            for n in &o.by_kind {
                // An empty cell is none.
                let _ = write!(h, "<td>{}</td>", if *n == 0 { String::new() } else { n.to_string() });
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
    let _ = write!(
        h,
        "<h2>Pre-audit checklist: {} of {} done</h2><table><tr><th>Item</th><th>Status</th><th>Why</th></tr>",
        doc.checklist.iter().filter(|i| i.done).count(),
        doc.checklist.len()
    );
    for i in &doc.checklist {
        let (class, word) = if i.done { ("done", "Done") } else { ("todo", "Not yet") };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td></tr>",
            esc(&i.item),
            esc(&i.why)
        );
    }
    h.push_str("</table><h2>Timeline</h2><table><tr><th>Phase</th><th>From</th><th>To</th></tr>");
    for p in &doc.timeline {
        let _ = write!(
            h,
            "<tr{}><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            if p.current { " class=\"current\"" } else { "" },
            esc(&p.phase),
            if p.current { " (now)" } else { "" },
            esc(&p.start),
            esc(&p.end)
        );
    }
    h.push_str("</table>");
    if doc.gaps.is_empty() {
        h.push_str("<h2>Appendix: every gap</h2><p>No gaps: every control in scope is ready.</p>");
    } else {
        let shown = doc.shown_gaps();
        if shown.len() == doc.gaps.len() {
            let _ = write!(h, "<h2>Appendix: every gap ({})</h2>", doc.gaps.len());
        } else {
            let _ = write!(
                h,
                "<h2>Appendix: the {} most severe of {} gaps</h2><p class=\"note\">The gap list export (CSV or \
                 XLSX) holds them all.</p>",
                shown.len(),
                doc.gaps.len()
            );
        }
        h.push_str(
            "<table><tr><th>Severity</th><th>Control</th><th>Criterion</th><th>Why</th><th>Owner</th><th>Fix</th></tr>",
        );
        for g in shown {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"owner\">{}</td><td>{}</td></tr>",
                esc(&g.severity),
                esc(&g.control),
                esc(&g.criterion),
                esc(&g.reason),
                esc(if g.owner.is_empty() { NO_OWNER } else { &g.owner }),
                esc(&g.fix)
            );
        }
        h.push_str("</table>");
    }
    let _ = writeln!(
        h,
        "<h2>How the figures are computed</h2><p class=\"note\">{} {}</p><p class=\"note\">Produced by Evident from \
         the workspace's records as of the date above.</p></body></html>",
        esc(SCORE_FORMULA),
        esc(BLOCKING_RULE)
    );
    h
}
