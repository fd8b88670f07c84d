//! An access review's closing summary as a PDF: what was reviewed, by whom, what was removed and
//! when each removal was seen, and the campaign owner's sign-off. The CSV beside it lists every
//! account; the PDF stays short enough to read.

use evident_core::access_review::Closing;

use crate::ReportError;
use crate::pdf::{cells, s, typeset};

/// Rows of the revocations and open tables in the PDF; the CSV has them all.
const PDF_MAX_ROWS: usize = 300;

pub fn access_review_pdf(c: &Closing) -> Result<Vec<u8>, ReportError> {
    let k = &c.campaign;
    let p = &k.progress;
    let closed_on = evident_core::format_date(c.closed_on);
    let mut m = String::with_capacity(64 * 1024);
    m.push_str(&format!(
        "#set document(title: {title}, author: \"Evident\")\n\
         #set page(paper: \"a4\", margin: (x: 1.8cm, y: 1.8cm), footer: context [#set text(8pt, fill: luma(110)); \
         #{title} · page #counter(page).display() of #counter(page).final().first()])\n\
         #set text(font: \"Libertinus Serif\", size: 9.5pt)\n\
         #set table(stroke: (x, y) => (bottom: 0.4pt + luma(200)), inset: 4pt)\n\
         #show table.cell.where(y: 0): set text(weight: \"bold\")\n\
         #text(17pt, weight: \"bold\")[#{title}]\n\n",
        title = s(&format!("Access review: {}", k.name)),
    ));
    let systems = if k.systems.is_empty() {
        "every system with imported accounts".to_string()
    } else {
        k.systems.join(", ")
    };
    let rule = match k.named_reviewer.as_deref() {
        Some(n) => format!("{} ({n})", k.reviewer_rule.replace('_', " ")),
        None => k.reviewer_rule.replace('_', " "),
    };
    m.push_str("#table(columns: (auto, 1fr), stroke: none, ");
    let facts = [
        ("Systems", systems),
        ("Accounts", format!("{} ({} coverage)", p.items, k.coverage)),
        ("Reviewers by", rule),
        ("Started", format!("{} by {}", k.started_at, k.owner)),
        ("Due", k.due.clone()),
        ("Closed", format!("{closed_on} by {}", c.closed_by)),
        (
            "Decisions",
            format!(
                "{} of {} decided: {} kept, {} revoked, {} changed",
                p.decided, p.items, p.kept, p.revoked, p.changed
            ),
        ),
        (
            "Removals",
            format!(
                "{} seen carried out, {} not yet",
                p.revocations_done, p.revocations_open
            ),
        ),
        ("Frozen account list", format!("evidence {}", k.frozen_evidence)),
    ];
    let rows: Vec<String> = facts.iter().map(|(a, b)| cells(&[a, b])).collect();
    m.push_str(&rows.join(", "));
    m.push_str(")\n\n");

    let by_reviewer = evident_core::access_review::by_reviewer(&c.items);
    m.push_str(&format!("== Reviewers ({})\n", by_reviewer.len()));
    m.push_str("#table(columns: (1fr, auto, auto, auto, auto, auto), [Reviewer], [Items], [Undecided], [Kept], [Revoked], [Changed]");
    for (who, n) in &by_reviewer {
        m.push_str(", ");
        m.push_str(&cells(&[
            who,
            &n.items.to_string(),
            &(n.items - n.decided).to_string(),
            &n.kept.to_string(),
            &n.revoked.to_string(),
            &n.changed.to_string(),
        ]));
    }
    m.push_str(")\n\n");

    let removals: Vec<_> = c
        .items
        .iter()
        .filter(|i| matches!(i.decision.as_deref(), Some("revoke" | "change")))
        .collect();
    m.push_str(&format!("== Removals and changes ({})\n", removals.len()));
    if removals.is_empty() {
        m.push_str("Every reviewed account was kept.\n\n");
    } else {
        m.push_str(
            "#text(8.5pt)[#table(columns: (1.4fr, auto, 1.6fr, 1fr, auto, auto, 1.2fr), [Account], [Decision], [Reason], \
             [Reviewer], [Decided], [Seen done], [Proof]",
        );
        for i in removals.iter().take(PDF_MAX_ROWS) {
            let decision = match &i.change {
                Some(to) => format!("{} to: {to}", i.decision.clone().unwrap_or_default()),
                None => i.decision.clone().unwrap_or_default(),
            };
            let seen = match (&i.carried_out_at, &i.time_to_revoke) {
                (Some(at), Some(t)) => format!("{at} ({t})"),
                (Some(at), None) => at.clone(),
                _ => "not yet".into(),
            };
            m.push_str(", ");
            m.push_str(&cells(&[
                &format!("{}/{}", i.system, i.username),
                &decision,
                i.reason.as_deref().unwrap_or(""),
                &i.reviewer,
                i.decided_at.as_deref().unwrap_or(""),
                &seen,
                i.carried_out_by.as_deref().unwrap_or(""),
            ]));
        }
        m.push_str(")]\n\n");
    }
    let open: Vec<_> = c.items.iter().filter(|i| i.decision.is_none()).collect();
    if !open.is_empty() {
        m.push_str(&format!("== Undecided when closed ({})\n", open.len()));
        m.push_str("#text(8.5pt)[#table(columns: (1.6fr, 1fr), [Account], [Reviewer]");
        for i in open.iter().take(PDF_MAX_ROWS) {
            m.push_str(", ");
            m.push_str(&cells(&[&format!("{}/{}", i.system, i.username), &i.reviewer]));
        }
        m.push_str(")]\n\n");
    }
    if removals.len().max(open.len()) > PDF_MAX_ROWS {
        m.push_str(&format!(
            "#{}\n\n",
            s(&format!(
                "Tables list their first {PDF_MAX_ROWS} rows; the decisions CSV kept beside this summary lists every account."
            ))
        ));
    }
    m.push_str("== Sign-off\n");
    m.push_str(&format!(
        "#{}\n",
        s(&format!(
            "{} closed this review on {closed_on}, confirming that each account above was reviewed by the reviewer shown, \
             and that the removals marked as seen were carried out as the later imports recorded. The decisions CSV \
             and this summary are kept as evidence items, and the closing is an entry in the audit log.",
            c.closed_by
        ))
    ));
    typeset(m)
}

#[cfg(test)]
mod tests {
    use evident_core::access_review::{CampaignView, Closing, ItemView, Progress};

    use super::*;

    #[test]
    fn a_summary_typesets_hostile_text_as_text() {
        let item = ItemView {
            id: "01".into(),
            campaign: "c".into(),
            campaign_name: "Q4 #set [x]".into(),
            system: "okta".into(),
            username: "dev@x.io".into(),
            person: None,
            admin: true,
            root: false,
            mfa: Some(true),
            last_activity: None,
            source_evidence: "e1".into(),
            unchanged: false,
            reviewer: "cto@x.io".into(),
            note: None,
            decision: Some("revoke".into()),
            reason: Some("left the team \"#panic()\"".into()),
            change: None,
            decided_at: Some("2026-12-01 10:00:00 UTC".into()),
            decided_by: Some("cto@x.io".into()),
            task: Some("AR-1".into()),
            carried_out_at: None,
            carried_out_by: None,
            time_to_revoke: None,
            due: "2026-12-31".into(),
        };
        let closing = Closing {
            campaign: CampaignView {
                id: "c".into(),
                name: "Q4 $x$ <y>".into(),
                systems: vec!["okta".into()],
                coverage: "all".into(),
                reviewer_rule: "manager".into(),
                named_reviewer: None,
                due: "2026-12-31".into(),
                status: "open".into(),
                owner: "lead@x.io".into(),
                frozen_evidence: "e0".into(),
                started_at: "2026-12-01".into(),
                closed_at: None,
                closed_by: None,
                closing: None,
                progress: Progress::default(),
                overdue: false,
            },
            items: vec![item],
            closed_on: time::macros::date!(2026 - 12 - 02),
            closed_by: "lead@x.io".into(),
        };
        let pdf = access_review_pdf(&closing).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }
}
