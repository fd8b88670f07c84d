//! The readiness report as a PDF, typeset by typst from markup we generate. Data enters the
//! markup only as string literals, so nothing in it is ever read as markup or code.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::ReportError;
use crate::readiness::{BLOCKING_RULE, NO_OWNER, ReadinessDoc, SCORE_FORMULA};

/// The fonts shipped inside the binary (typst's own set): nothing is read from the system.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

struct OneFile {
    main: Source,
}

impl World for OneFile {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, _: FileId) -> FileResult<Bytes> {
        Err(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.get(index).cloned()
    }

    fn today(&self, _: Option<Duration>) -> Option<Datetime> {
        // The report carries its own date; typst's clock is never consulted.
        None
    }
}

/// A typst string literal.
pub(crate) fn s(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Table cells, each a string literal in content brackets.
pub(crate) fn cells(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("[#{}]", s(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table cell holding an e-mail address that may wrap after its dots and its `@`: each piece
/// is a box, and a line may break between boxes, so a long address stays inside its column
/// without adding a character to the text (a zero-width space would be copied with it).
fn address_cell(address: &str) -> String {
    let mut pieces = Vec::new();
    let mut rest = address;
    while let Some(at) = rest.find(['.', '@']) {
        pieces.push(&rest[..=at]);
        rest = &rest[at + 1..];
    }
    pieces.push(rest);
    let boxes: String = pieces
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("#box({})", s(p)))
        .collect();
    format!("[{boxes}]")
}

/// The page setup and the coverage chart, drawn by typst from the numbers it is given:
/// one 100% bar per category (covered, partial, uncovered), an axis in percent and a legend.
const PREAMBLE: &str = r##"
#set text(font: "Libertinus Serif", size: 10.5pt)
#set table(stroke: (x, y) => (bottom: 0.4pt + luma(200)), inset: 5pt)
#show table.cell.where(y: 0): set text(weight: "bold")
#set table.cell(breakable: false)
#show heading.where(level: 2): set block(above: 16pt, below: 8pt)
#let fills = (rgb("#2e8b57"), rgb("#e0a526"), rgb("#c8452d"))
#let inks = (white, black, white)
#let muted(body) = text(9pt, fill: luma(80), body)
#let coverage(rows) = {
  let bar(counts) = {
    let total = calc.max(1, counts.sum())
    box(width: 100%, height: 15pt, stack(dir: ltr, ..range(3).filter(i => counts.at(i) > 0).map(i => {
      let share = counts.at(i) / total
      box(width: share * 100%, height: 100%, fill: fills.at(i),
        if share >= 0.06 { align(center + horizon, text(8.5pt, fill: inks.at(i), str(counts.at(i)))) })
    })))
  }
  let axis = box(width: 100%, height: 18pt, {
    place(top + left, line(length: 100%, stroke: 0.5pt + luma(120)))
    for t in (0, 25, 50, 75, 100) {
      place(top + left, dx: t * 1%, line(length: 3pt, angle: 90deg, stroke: 0.5pt + luma(120)))
      place(top + left, dx: t * 1% - 15pt, dy: 5pt, box(width: 30pt, align(center, text(8pt, fill: luma(80), str(t) + "%"))))
    }
  })
  let key(name, i) = box[#box(width: 8pt, height: 8pt, fill: fills.at(i)) #text(8.5pt, name)]
  grid(columns: (auto, 1fr), column-gutter: 8pt, row-gutter: 5pt, align: (right + horizon, left + horizon),
    ..rows.map(r => (
      [#r.at(0) #text(fill: luma(100))[(#(r.at(1) + r.at(2) + r.at(3)))]],
      bar((r.at(1), r.at(2), r.at(3))),
    )).flatten(),
    [], axis,
    [], stack(dir: ltr, spacing: 14pt, key("Covered", 0), key("Partially covered (controls at risk)", 1), key("Uncovered", 2)),
  )
}
"##;

/// Owners listed on page one; the rest are summed in one line so the page never overflows.
const OWNERS_ON_PAGE_ONE: usize = 10;

fn markup(doc: &ReadinessDoc) -> String {
    let c = &doc.controls;
    let mut m = String::with_capacity(64 * 1024);
    m.push_str(&format!(
        "#set document(title: {title}, author: \"Evident\")\n\
         #set page(paper: \"a4\", margin: (x: 2cm, y: 2cm), footer: context [#set text(8pt, fill: luma(110)); \
         #{org} · readiness report · page #counter(page).display() of #counter(page).final().first()])\n",
        title = s(&format!("Readiness report: {}", doc.organisation)),
        org = s(&doc.organisation),
    ));
    m.push_str(PREAMBLE);

    // Page one: what a founder hands over.
    let (phase, until) = match &doc.phase {
        Some((phase, until)) => (phase.clone(), format!("until {until}")),
        None => ("None under way".to_string(), String::new()),
    };
    m.push_str(&format!(
        "#text(18pt, weight: \"bold\")[SOC 2 readiness report: #{org}]\n\n\
         #text(fill: luma(80))[Prepared #{date} · #{scope}]\n\n\
         #v(4pt)\n\
         #grid(columns: (auto, 1fr, auto), column-gutter: 16pt, align: horizon,\n\
           text(40pt, weight: \"bold\")[#{score}],\n\
           [#text(weight: \"bold\")[Readiness score, out of 100] \\ #muted[#{meaning}]],\n\
           table(columns: 2, inset: 3pt, align: (left, right), [Controls], [], [Ready], [#{ready}], [At risk], \
         [#{at_risk}], [Gaps], [#{gap}], [Not applicable], [#{na}]))\n\n\
         #block(fill: luma(245), inset: 8pt, radius: 3pt, width: 100%, grid(columns: (1.5fr, 1fr, 1.5fr), \
         column-gutter: 12pt, row-gutter: 4pt,\n\
           muted({what}), muted[Countdown], muted[Current phase],\n\
           strong({dates}), strong({countdown}), [#strong({phase}) #{until}]))\n\n",
        org = s(&doc.organisation),
        date = s(&doc.prepared_on),
        scope = s(&doc.scope),
        score = s(&doc.score.to_string()),
        meaning = s(&doc.score_meaning()),
        ready = s(&c.ready.to_string()),
        at_risk = s(&c.at_risk.to_string()),
        gap = s(&c.gap.to_string()),
        na = s(&c.not_applicable.to_string()),
        what = s(doc.audit.what()),
        dates = s(&doc.audit.dates()),
        countdown = s(&doc.audit.countdown()),
        phase = s(&phase),
        until = s(&until),
    ));
    m.push_str("== Coverage of the criteria in scope, by category\n#muted[Each bar is one category's criteria (how many in brackets), split by coverage.]\n\n#coverage((");
    for k in &doc.categories {
        m.push_str(&format!(
            "({}, {}, {}, {}), ",
            s(&k.category),
            k.covered,
            k.partial,
            k.uncovered
        ));
    }
    m.push_str("))\n\n");
    let b = &doc.blocking;
    m.push_str(&format!(
        "== Blocking the audit: {}\n#muted[#{}]\n\n",
        match b.total() {
            1 => "1 gap by owner".to_string(),
            n => format!("{n} gaps by owner"),
        },
        s(BLOCKING_RULE)
    ));
    if b.owners.is_empty() {
        m.push_str("Nothing blocks the audit.\n\n");
    } else {
        // One column per kind of gap, a count in each; an empty cell is none.
        let count = |n: usize| if n == 0 { String::new() } else { n.to_string() };
        m.push_str(&format!(
            "#table(columns: (auto, auto{}), align: (x, y) => (if x == 0 {{ left }} else {{ right }}) + \
             (if y == 0 {{ bottom }} else {{ horizon }}), table.header([Owner], [Gaps]",
            ", 1fr".repeat(b.kinds.len())
        ));
        for kind in &b.kinds {
            m.push_str(&format!(", text(9pt, {})", s(&evident_core::register::label_of(kind))));
        }
        m.push(')');
        let row = |m: &mut String, owner: String, gaps: usize, by_kind: &[usize]| {
            m.push_str(&format!(", {owner}, [#strong({})]", s(&gaps.to_string())));
            for n in by_kind {
                m.push_str(&format!(", [#{}]", s(&count(*n))));
            }
        };
        for o in b.owners.iter().take(OWNERS_ON_PAGE_ONE) {
            row(&mut m, address_cell(&o.owner), o.gaps, &o.by_kind);
        }
        let rest = &b.owners[b.owners.len().min(OWNERS_ON_PAGE_ONE)..];
        if !rest.is_empty() {
            let by_kind: Vec<usize> = (0..b.kinds.len())
                .map(|k| rest.iter().map(|o| o.by_kind[k]).sum())
                .collect();
            let gaps = rest.iter().map(|o| o.gaps).sum();
            row(
                &mut m,
                format!("[#{}]", s(&format!("{} more owners", rest.len()))),
                gaps,
                &by_kind,
            );
        }
        m.push_str(")\n\n");
    }

    // Page two: what is left to do before the audit, and when.
    let done = doc.checklist.iter().filter(|i| i.done).count();
    m.push_str(&format!(
        "#pagebreak()\n== Pre-audit checklist: {done} of {} done\n\
         #table(columns: (2fr, auto, 3fr), [Item], [Status], [Why]",
        doc.checklist.len()
    ));
    for i in &doc.checklist {
        m.push_str(", ");
        let status = if i.done {
            "text(fill: rgb(\"#1c7c3c\"))[Done]"
        } else {
            "text(fill: rgb(\"#a4330d\"))[Not yet]"
        };
        m.push_str(&format!("{}, [#{status}], {}", cells(&[&i.item]), cells(&[&i.why])));
    }
    m.push_str(")\n\n== Timeline\n#table(columns: (2fr, 1fr, 1fr), [Phase], [From], [To]");
    for p in &doc.timeline {
        m.push_str(", ");
        if p.current {
            let phase = format!("{} (now)", p.phase);
            m.push_str(
                &[&phase, &p.start, &p.end]
                    .map(|v| format!("[#strong({})]", s(v)))
                    .join(", "),
            );
        } else {
            m.push_str(&cells(&[&p.phase, &p.start, &p.end]));
        }
    }
    m.push_str(")\n\n");

    // The appendix: every gap, for whoever does the work.
    m.push_str("#pagebreak()\n");
    if doc.gaps.is_empty() {
        m.push_str("== Appendix: every gap\nNo gaps: every control in scope is ready.\n\n");
    } else {
        let shown = doc.shown_gaps();
        if shown.len() == doc.gaps.len() {
            m.push_str(&format!("== Appendix: every gap ({})\n", doc.gaps.len()));
        } else {
            m.push_str(&format!(
                "== Appendix: the {} most severe of {} gaps\n#muted[The gap list export (CSV or XLSX) holds them all.]\n\n",
                shown.len(),
                doc.gaps.len()
            ));
        }
        m.push_str(
            "#text(8.5pt)[#table(columns: (0.9fr, 0.7fr, 0.65fr, 2.1fr, 1.3fr, 2.1fr), inset: 4pt, \
             table.header([Severity], [Control], [Criterion], [Why], [Owner], [Fix])",
        );
        for g in shown {
            m.push_str(", ");
            let owner = address_cell(if g.owner.is_empty() { NO_OWNER } else { &g.owner });
            m.push_str(&format!(
                "{}, {owner}, {}",
                cells(&[&g.severity, &g.control, &g.criterion, &g.reason]),
                cells(&[&g.fix])
            ));
        }
        m.push_str(")]\n\n");
    }
    m.push_str(&format!(
        "== How the figures are computed\n#muted[#{} #{}]\n",
        s(SCORE_FORMULA),
        s(BLOCKING_RULE)
    ));
    m
}

pub fn readiness_pdf(doc: &ReadinessDoc) -> Result<Vec<u8>, ReportError> {
    typeset(markup(doc))
}

/// Typesets generated markup into a PDF.
pub(crate) fn typeset(markup: String) -> Result<Vec<u8>, ReportError> {
    let world = OneFile {
        main: Source::detached(markup),
    };
    let document: PagedDocument = typst::compile(&world).output.map_err(|errors| {
        ReportError::Typeset(
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|errors| {
        ReportError::Typeset(
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readiness::*;

    pub(crate) fn doc() -> ReadinessDoc {
        ReadinessDoc {
            organisation: "Quote \"Co\" #set [x] $y$ <z> @w \\ *b* _i_".into(),
            prepared_on: "2026-11-23".into(),
            scope: "SOC 2 Type II · Security".into(),
            audit: AuditDates {
                type_ii: true,
                start: "2027-02-01".into(),
                end: "2027-07-31".into(),
                days_to_start: 70,
                days_to_end: 250,
            },
            phase: Some(("Remediation".into(), "2027-01-04".into())),
            score: 63,
            controls: ControlCounts {
                ready: 70,
                at_risk: 10,
                gap: 40,
                not_applicable: 38,
            },
            categories: vec![CategoryLine {
                category: "Security".into(),
                covered: 20,
                partial: 5,
                uncovered: 8,
            }],
            blocking: Blocking {
                kinds: vec!["failing check".into(), "missing evidence".into()],
                owners: (0..12)
                    .map(|i| OwnerLine {
                        owner: format!("a.rather.long.name.{i}@engineering.example.com"),
                        gaps: 12 - i,
                        by_kind: vec![1, 11 - i],
                    })
                    .collect(),
            },
            gaps: vec![GapLine {
                severity: "uncovered criterion".into(),
                control: "ACC-01".into(),
                criterion: "CC6.1".into(),
                reason: "Evidence missing: quarterly review".into(),
                owner: String::new(),
                fix: "Upload it".into(),
            }],
            checklist: vec![ChecklistLine {
                item: "Scope signed".into(),
                done: true,
                why: "approved".into(),
            }],
            timeline: vec![PhaseLine {
                phase: "Remediation".into(),
                start: "2026-11-01".into(),
                end: "2027-01-31".into(),
                current: true,
            }],
        }
    }

    /// Markup characters in the data come out as text, never as markup.
    #[test]
    fn data_is_quoted_not_interpreted() {
        let m = markup(&doc());
        assert!(m.contains(r#"#"Quote \"Co\" #set [x] $y$ <z> @w \\ *b* _i_""#), "{m}");
        let pdf = readiness_pdf(&doc()).expect("typesets");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    /// Page one lists the first owners and sums the rest, so it never runs onto page two.
    #[test]
    fn page_one_sums_the_owners_it_does_not_list() {
        let m = markup(&doc());
        let page_one = &m[..m.find("#pagebreak()").expect("page one ends")];
        assert!(page_one.contains("Blocking the audit: 78 gaps by owner"), "{page_one}");
        assert!(
            page_one.contains(r#"#box("name.")#box("9@")#box("engineering.")"#),
            "the tenth owner is listed, breakable at its dots and @: {page_one}"
        );
        assert!(!page_one.contains(r#"#box("10@")"#), "the eleventh is not");
        assert!(
            page_one.contains(r#"[#"2 more owners"], [#strong("3")], [#"2"], [#"1"]"#),
            "the two owners not listed are summed per kind: {page_one}"
        );
        let e = empty();
        let m = markup(&e);
        assert!(m.contains("Nothing blocks the audit.") && m.contains("No gaps: every control in scope is ready."));
        readiness_pdf(&e).expect("an empty report typesets too");
    }

    fn empty() -> ReadinessDoc {
        ReadinessDoc {
            phase: None,
            blocking: Blocking::default(),
            gaps: vec![],
            checklist: vec![],
            timeline: vec![],
            ..doc()
        }
    }
}
