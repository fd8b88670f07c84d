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
use crate::readiness::{MAX_GAPS, ReadinessDoc, SCORE_FORMULA};

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

fn markup(doc: &ReadinessDoc) -> String {
    let c = &doc.controls;
    let mut m = String::with_capacity(64 * 1024);
    m.push_str(&format!(
        "#set document(title: {title}, author: \"Evident\")\n\
         #set page(paper: \"a4\", margin: (x: 2cm, y: 2.2cm), footer: context [#set text(8pt, fill: luma(110)); \
         #{org} · readiness report · page #counter(page).display() of #counter(page).final().first()])\n\
         #set text(font: \"Libertinus Serif\", size: 10.5pt)\n\
         #set table(stroke: (x, y) => (bottom: 0.4pt + luma(200)), inset: 5pt)\n\
         #show table.cell.where(y: 0): set text(weight: \"bold\")\n\
         #text(18pt, weight: \"bold\")[SOC 2 readiness report: #{org}]\n\n\
         #text(fill: luma(90))[Prepared #{date} · #{scope}]\n\n\
         #v(8pt)\n\
         #grid(columns: (auto, 1fr), column-gutter: 24pt, align: horizon,\n\
           [#text(36pt, weight: \"bold\")[#{score}] \\ Readiness score (out of 100)],\n\
           table(columns: 2, [Controls], [], [Ready], [#{ready}], [At risk], [#{at_risk}], [Gaps], [#{gap}], \
         [Not applicable], [#{na}]))\n\n\
         #text(9pt, fill: luma(90))[#{formula}]\n\n",
        title = s(&format!("Readiness report: {}", doc.organisation)),
        org = s(&doc.organisation),
        date = s(&doc.prepared_on),
        scope = s(&doc.scope),
        score = s(&doc.score.to_string()),
        ready = s(&c.ready.to_string()),
        at_risk = s(&c.at_risk.to_string()),
        gap = s(&c.gap.to_string()),
        na = s(&c.not_applicable.to_string()),
        formula = s(SCORE_FORMULA),
    ));
    m.push_str(
        "== Coverage by category\n#table(columns: (2fr, 1fr, 1fr, 1fr), [Category], [Covered], [Partial], [Uncovered]",
    );
    for k in &doc.categories {
        m.push_str(", ");
        m.push_str(&cells(&[
            &k.category,
            &k.covered.to_string(),
            &k.partial.to_string(),
            &k.uncovered.to_string(),
        ]));
    }
    m.push_str(")\n\n");
    m.push_str(&format!("== Gaps ({})\n", doc.gaps.len()));
    if doc.gaps.is_empty() {
        m.push_str("No gaps: every control in scope is ready.\n\n");
    } else {
        m.push_str(
            "#text(9pt)[#table(columns: (auto, auto, auto, 2fr, 1.2fr, 2fr), [Severity], [Control], [Criterion], \
             [Why], [Owner], [Fix]",
        );
        for g in doc.shown_gaps() {
            m.push_str(", ");
            let owner = if g.owner.is_empty() { "unassigned" } else { &g.owner };
            m.push_str(&cells(&[
                &g.severity,
                &g.control,
                &g.criterion,
                &g.reason,
                owner,
                &g.fix,
            ]));
        }
        m.push_str(")]\n\n");
        if doc.gaps.len() > MAX_GAPS {
            m.push_str(&format!(
                "#{}\n\n",
                s(&format!(
                    "The {MAX_GAPS} most severe of {} gaps are listed; evident report gaps lists them all.",
                    doc.gaps.len()
                ))
            ));
        }
    }
    m.push_str("== Pre-audit checklist\n#table(columns: (2fr, auto, 3fr), [Item], [Status], [Why]");
    for i in &doc.checklist {
        m.push_str(", ");
        m.push_str(&cells(&[&i.item, if i.done { "Done" } else { "Not yet" }, &i.why]));
    }
    m.push_str(")\n\n== Timeline\n#table(columns: (2fr, 1fr, 1fr), [Phase], [From], [To]");
    for p in &doc.timeline {
        m.push_str(", ");
        let phase = if p.current {
            format!("{} (now)", p.phase)
        } else {
            p.phase.clone()
        };
        m.push_str(&cells(&[&phase, &p.start, &p.end]));
    }
    m.push_str(")\n");
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
            scope: "SOC 2 Type 2".into(),
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
}
