//! The system description as a file: Markdown, self-contained HTML, PDF (typst) and DOCX (a
//! minimal WordprocessingML package written with the zip crate we already carry; a DOCX crate
//! would add a dependency for four small XML parts). Every statement keeps its sources.

use std::fmt::Write as _;
use std::io::Write as _;

use evident_core::description::{Description, Statement, StatementKind};

use crate::ReportError;
use crate::html::esc;
use crate::pdf::{s, typeset};

/// What the file says beyond the description itself.
#[derive(Debug, Clone)]
pub struct DescriptionDoc<'a> {
    pub description: &'a Description,
    pub prepared_on: String,
    /// "Version 3, approved by … on …" or that it is not approved.
    pub status: String,
    /// Management's assertion as signed (or its draft), and who signed it.
    pub assertion: Option<(String, String)>,
}

fn title(d: &Description) -> String {
    format!("Description of the system: {}", d.organisation)
}

fn sources_line(st: &Statement) -> String {
    st.sources
        .iter()
        .map(|src| format!("{} <{}>", src.label, src.href()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn marker(st: &Statement) -> &'static str {
    match st.kind {
        StatementKind::Narrative => "Written by management",
        StatementKind::Fact => "From the records",
        StatementKind::Missing => "Missing",
    }
}

fn headings(d: &Description) -> Vec<(Option<String>, &evident_core::description::Part)> {
    let mut last = 0;
    d.parts
        .iter()
        .map(|p| {
            let point = (p.point != last).then(|| {
                last = p.point;
                if p.point == 3 {
                    "3. System components and boundaries".to_string()
                } else {
                    format!("{}. {}", p.point, p.title)
                }
            });
            (point, p)
        })
        .collect()
}

pub fn description_markdown(doc: &DescriptionDoc) -> String {
    let d = doc.description;
    let mut m = format!("# {}\n\n", md(&title(d)));
    if let Some(r) = &d.report {
        let _ = writeln!(m, "{}\n", md(r));
    }
    let _ = writeln!(
        m,
        "Drafted from the records on {}. {}. Each statement names the record it came from.\n",
        doc.prepared_on,
        md(&doc.status)
    );
    for (point, p) in headings(d) {
        if let Some(h) = point {
            let _ = writeln!(m, "## {}\n", md(&h));
        }
        if p.point == 3 {
            let _ = writeln!(m, "### {}\n", md(&p.title));
        }
        for st in &p.statements {
            let text = md(&st.text).replace('\n', "  \n");
            match st.kind {
                StatementKind::Missing => {
                    let _ = writeln!(m, "> **Missing:** {text}\n");
                }
                _ => {
                    let _ = writeln!(m, "{text}\n");
                }
            }
            let _ = writeln!(m, "<sub>{}: {}</sub>\n", marker(st), md(&sources_line(st)));
        }
    }
    if let Some((text, signed)) = &doc.assertion {
        let _ = writeln!(m, "## Management's assertion\n");
        for para in text.split("\n\n").skip(1) {
            let _ = writeln!(m, "{}\n", md(para));
        }
        let _ = writeln!(m, "*{}*", md(signed));
    }
    m
}

/// Escapes Markdown's inline markup so record text cannot format or link.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_{}[]<>()#+!|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2733;max-width:54rem;\
margin:2rem auto;padding:0 1rem;line-height:1.5}h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;\
border-bottom:1px solid #d5dde5}h3{font-size:1.05rem}.meta{color:#56657a}.src{font-size:.8rem;color:#56657a;\
margin:-.6rem 0 .9rem}.missing{border-left:3px solid #a4330d;padding-left:.6rem;color:#7a2609}\
.narrative{white-space:pre-line}";

/// One self-contained page; `base` prefixes the sources' links (the server's address), or
/// they stay paths.
pub fn description_html(doc: &DescriptionDoc, base: &str) -> String {
    let d = doc.description;
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style>\
         </head><body><h1>{t}</h1>",
        t = esc(&title(d))
    );
    if let Some(r) = &d.report {
        let _ = write!(h, "<p class=\"meta\">{}</p>", esc(r));
    }
    let _ = write!(
        h,
        "<p class=\"meta\">Drafted from the records on {}. {}. Each statement names the record it came from.</p>",
        esc(&doc.prepared_on),
        esc(&doc.status)
    );
    for (point, p) in headings(d) {
        if let Some(t) = point {
            let _ = write!(h, "<h2>{}</h2>", esc(&t));
        }
        if p.point == 3 {
            let _ = write!(h, "<h3>{}</h3>", esc(&p.title));
        }
        for st in &p.statements {
            let class = match st.kind {
                StatementKind::Narrative => "narrative",
                StatementKind::Fact => "fact",
                StatementKind::Missing => "missing",
            };
            let _ = write!(
                h,
                "<p class=\"{class}\">{}</p><p class=\"src\">{}: ",
                esc(&st.text),
                marker(st)
            );
            let links: Vec<String> = st
                .sources
                .iter()
                .map(|src| format!("<a href=\"{}{}\">{}</a>", esc(base), esc(&src.href()), esc(&src.label)))
                .collect();
            let _ = write!(h, "{}</p>", links.join(" · "));
        }
    }
    if let Some((text, signed)) = &doc.assertion {
        h.push_str("<h2>Management's assertion</h2>");
        for para in text.split("\n\n").skip(1) {
            let _ = write!(h, "<p>{}</p>", esc(para));
        }
        let _ = write!(h, "<p><em>{}</em></p>", esc(signed));
    }
    h.push_str("</body></html>\n");
    h
}

pub fn description_pdf(doc: &DescriptionDoc) -> Result<Vec<u8>, ReportError> {
    let d = doc.description;
    let mut m = String::with_capacity(128 * 1024);
    let _ = write!(
        m,
        "#set document(title: {t}, author: \"Evident\")\n\
         #set page(paper: \"a4\", margin: (x: 2.2cm, y: 2.2cm), footer: context [#set text(8pt, fill: luma(110)); \
         #{t} · page #counter(page).display() of #counter(page).final().first()])\n\
         #set text(font: \"Libertinus Serif\", size: 10.5pt)\n\
         #set par(justify: false)\n\
         #text(18pt, weight: \"bold\")[#{t}]\n\n",
        t = s(&title(d))
    );
    if let Some(r) = &d.report {
        let _ = writeln!(m, "#text(fill: luma(90))[#{}]\n", s(r));
    }
    let _ = writeln!(
        m,
        "#text(9pt, fill: luma(90))[#{}]\n",
        s(&format!(
            "Drafted from the records on {}. {}. Each statement names the record it came from.",
            doc.prepared_on, doc.status
        ))
    );
    for (point, p) in headings(d) {
        if let Some(t) = point {
            let _ = writeln!(m, "#heading(level: 1, {})\n", s(&t));
        }
        if p.point == 3 {
            let _ = writeln!(m, "#heading(level: 2, {})\n", s(&p.title));
        }
        for st in &p.statements {
            match st.kind {
                StatementKind::Missing => {
                    let _ = writeln!(
                        m,
                        "#block(stroke: (left: 2pt + rgb(\"#a4330d\")), inset: (left: 6pt))[#text(fill: rgb(\"#7a2609\"))[#{}]]",
                        s(&format!("Missing: {}", st.text))
                    );
                }
                _ => {
                    let _ = writeln!(m, "#{}", s(&st.text));
                }
            }
            let _ = writeln!(
                m,
                "\n#text(7.5pt, fill: luma(110))[#{}]\n",
                s(&format!("{}: {}", marker(st), sources_line(st)))
            );
        }
    }
    if let Some((text, signed)) = &doc.assertion {
        m.push_str("#pagebreak()\n#heading(level: 1, \"Management's assertion\")\n\n");
        for para in text.split("\n\n").skip(1) {
            let _ = writeln!(m, "#{}\n", s(para));
        }
        let _ = writeln!(m, "#emph[#{}]", s(signed));
    }
    typeset(m)
}

/// XML text with the five predefined entities escaped and the characters XML 1.0 forbids
/// dropped.
fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || *c >= ' ')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn para(style: Option<&str>, runs: &[(&str, &str)]) -> String {
    let mut p = String::from("<w:p>");
    if let Some(st) = style {
        let _ = write!(p, "<w:pPr><w:pStyle w:val=\"{st}\"/></w:pPr>");
    }
    for (props, text) in runs {
        for (i, line) in text.split('\n').enumerate() {
            p.push_str("<w:r>");
            if !props.is_empty() {
                let _ = write!(p, "<w:rPr>{props}</w:rPr>");
            }
            if i > 0 {
                p.push_str("<w:br/>");
            }
            let _ = write!(p, "<w:t xml:space=\"preserve\">{}</w:t></w:r>", xml(line));
        }
    }
    p.push_str("</w:p>");
    p
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
</Types>";

const ROOT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
</Relationships>";

const DOCUMENT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
</Relationships>";

fn styles() -> String {
    let heading = |id: &str, name: &str, size: u32, level: u32| {
        format!(
            "<w:style w:type=\"paragraph\" w:styleId=\"{id}\"><w:name w:val=\"{name}\"/><w:basedOn w:val=\"Normal\"/>\
             <w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"120\"/>\
             <w:outlineLvl w:val=\"{level}\"/></w:pPr><w:rPr><w:b/><w:sz w:val=\"{size}\"/></w:rPr></w:style>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:styles xmlns:w=\"{W}\">\
         <w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Calibri\" w:hAnsi=\"Calibri\" w:cs=\"Calibri\"/>\
         <w:sz w:val=\"21\"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"100\"/></w:pPr>\
         </w:pPrDefault></w:docDefaults>\
         <w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
         {}{}{}\
         <w:style w:type=\"paragraph\" w:styleId=\"Source\"><w:name w:val=\"Source\"/><w:basedOn w:val=\"Normal\"/>\
         <w:pPr><w:spacing w:after=\"200\"/></w:pPr><w:rPr><w:color w:val=\"6B7785\"/><w:sz w:val=\"15\"/></w:rPr></w:style>\
         </w:styles>",
        heading("Title", "Title", 36, 0),
        heading("Heading1", "heading 1", 28, 0),
        heading("Heading2", "heading 2", 24, 1),
    )
}

fn document_xml(doc: &DescriptionDoc) -> String {
    let d = doc.description;
    let mut body = para(Some("Title"), &[("", &title(d))]);
    if let Some(r) = &d.report {
        body.push_str(&para(None, &[("", r)]));
    }
    body.push_str(&para(
        Some("Source"),
        &[(
            "",
            &format!(
                "Drafted from the records on {}. {}. Each statement names the record it came from.",
                doc.prepared_on, doc.status
            ),
        )],
    ));
    for (point, p) in headings(d) {
        if let Some(t) = point {
            body.push_str(&para(Some("Heading1"), &[("", &t)]));
        }
        if p.point == 3 {
            body.push_str(&para(Some("Heading2"), &[("", &p.title)]));
        }
        for st in &p.statements {
            match st.kind {
                StatementKind::Missing => body.push_str(&para(
                    None,
                    &[
                        ("<w:b/><w:color w:val=\"A4330D\"/>", "Missing: "),
                        ("<w:color w:val=\"7A2609\"/>", &st.text),
                    ],
                )),
                _ => body.push_str(&para(None, &[("", &st.text)])),
            }
            body.push_str(&para(
                Some("Source"),
                &[("", &format!("{}: {}", marker(st), sources_line(st)))],
            ));
        }
    }
    if let Some((text, signed)) = &doc.assertion {
        body.push_str("<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
        body.push_str(&para(Some("Heading1"), &[("", "Management's assertion")]));
        for p in text.split("\n\n").skip(1) {
            body.push_str(&para(None, &[("", p)]));
        }
        body.push_str(&para(None, &[("<w:i/>", signed)]));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"{W}\"><w:body>{body}\
         <w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1247\" w:right=\"1247\" w:bottom=\"1247\" \
         w:left=\"1247\" w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    )
}

pub fn description_docx(doc: &DescriptionDoc) -> Result<Vec<u8>, ReportError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        // A fixed time: the same description gives the same bytes.
        .last_modified_time(zip::DateTime::default());
    let parts: [(&str, String); 5] = [
        ("[Content_Types].xml", CONTENT_TYPES.to_string()),
        ("_rels/.rels", ROOT_RELS.to_string()),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS.to_string()),
        ("word/styles.xml", styles()),
        ("word/document.xml", document_xml(doc)),
    ];
    for (name, content) in parts {
        zip.start_file(name, options)
            .map_err(|e| ReportError::Read(format!("writing {name}: {e}")))?;
        zip.write_all(content.as_bytes())?;
    }
    let cursor = zip
        .finish()
        .map_err(|e| ReportError::Read(format!("finishing the DOCX: {e}")))?;
    Ok(cursor.into_inner())
}

/// The formats a description is written in: (extension, media type).
pub const DESCRIPTION_FORMATS: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("html", "text/html; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
];

/// The description as a file of the format `ext` names; `None` for a format not written.
pub fn description_file(doc: &DescriptionDoc, ext: &str) -> Option<Result<Vec<u8>, ReportError>> {
    Some(match ext {
        "pdf" => description_pdf(doc),
        "docx" => description_docx(doc),
        "html" => Ok(description_html(doc, "").into_bytes()),
        "md" => Ok(description_markdown(doc).into_bytes()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use evident_core::description::{Part, Source, SourceKind};

    use super::*;

    fn description() -> Description {
        Description {
            organisation: "Brightwave <&> \"Co\"".into(),
            report: Some("SOC 2 Type 2 for the period 2026-01-01 to 2026-12-31".into()),
            parts: vec![
                Part {
                    point: 1,
                    key: "services".into(),
                    title: "Services provided".into(),
                    statements: vec![Statement {
                        key: "narrative:services".into(),
                        kind: StatementKind::Narrative,
                        text: "We run payroll.\n#set page(width: 1pt) ]] <script>alert(1)</script> *bold* \u{1}".into(),
                        sources: vec![Source::new(SourceKind::Narrative, "services", "Written by ana")],
                    }],
                },
                Part {
                    point: 3,
                    key: "data".into(),
                    title: "System components: data".into(),
                    statements: vec![Statement {
                        key: "asset:prod-db".into(),
                        kind: StatementKind::Missing,
                        text: "prod-db (restricted).".into(),
                        sources: vec![Source::new(SourceKind::Asset, "prod db/1", "Asset prod db/1")],
                    }],
                },
            ],
        }
    }

    fn doc(d: &Description) -> DescriptionDoc<'_> {
        DescriptionDoc {
            description: d,
            prepared_on: "2026-12-01".into(),
            status: "Not approved yet".into(),
            assertion: Some((
                "Management's assertion\n\nWe prepared it.\n\nWe confirm it.".into(),
                "Signed by Ana Diaz, CEO".into(),
            )),
        }
    }

    #[test]
    fn every_format_keeps_statements_and_their_sources_as_text() {
        let d = description();
        let doc = doc(&d);
        let html = description_html(&doc, "https://evident.example");
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
        assert!(
            html.contains("href=\"https://evident.example/assets/prod%20db%2F1\""),
            "{html}"
        );
        assert!(html.contains("We confirm it.") && html.contains("Signed by Ana Diaz, CEO"));
        let md = description_markdown(&doc);
        assert!(
            md.contains("\\*bold\\*") && md.contains("> **Missing:** prod-db"),
            "{md}"
        );
        assert!(md.contains("## 3. System components and boundaries\n\n### System components: data"));
        let pdf = description_pdf(&doc).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let docx = description_docx(&doc).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&docx)).unwrap();
        let mut body = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut body).unwrap();
        let tree = roxmltree::Document::parse(&body).expect("document.xml is well-formed XML");
        let text: String = tree
            .descendants()
            .filter(|n| n.has_tag_name((W, "t")))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            text.contains("<script>alert(1)</script>") && text.contains("Brightwave <&> \"Co\""),
            "{text}"
        );
        assert!(text.contains("Asset prod db/1 </assets/prod%20db%2F1>"), "{text}");
        for part in [
            "[Content_Types].xml",
            "_rels/.rels",
            "word/_rels/document.xml.rels",
            "word/styles.xml",
        ] {
            let mut x = String::new();
            std::io::Read::read_to_string(&mut zip.by_name(part).unwrap(), &mut x).unwrap();
            roxmltree::Document::parse(&x).unwrap_or_else(|e| panic!("{part}: {e}"));
        }
        assert_eq!(
            docx,
            description_docx(&doc).unwrap(),
            "the same description, the same bytes"
        );
    }
}
