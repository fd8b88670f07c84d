//! One sheet of rows, written as CSV or as an Excel workbook.

use std::io::Write;

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use crate::ReportError;
use crate::cells::{formula_like, neutralise};

#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Column widths in characters, for the workbook; missing ones get a default.
    pub widths: Vec<f64>,
}

/// Every cell, headers included, goes through [`neutralise`]: the file may be opened in a
/// spreadsheet, and its text comes from people and outside systems.
pub fn write_csv(sheet: &Sheet, out: impl Write) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    for row in std::iter::once(&sheet.headers).chain(&sheet.rows) {
        for cell in row {
            w.write_field(neutralise(cell).as_bytes())?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()?;
    Ok(())
}

/// Excel refuses longer cell text.
const CELL_LIMIT: usize = 32_767;

/// Text that fits a cell: cut at a character boundary with a note saying where the rest is.
fn fit(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.len() <= CELL_LIMIT {
        return cell.into();
    }
    const NOTE: &str = "\n… (cut: Excel cells hold 32,767 characters; the full text is in the CSV)";
    let mut end = CELL_LIMIT - NOTE.len();
    while !cell.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{NOTE}", &cell[..end]).into()
}

/// A workbook, one worksheet per sheet: bold frozen header row, filter on every column,
/// wrapped text.
///
/// Cells are always written as text, never as formulas. Formula-like text (the same rule as
/// the CSV, [`formula_like`]) keeps its exact value and gets Excel's quote-prefix style instead
/// of a literal `'`: a stored string is already inert, the style keeps it text when someone
/// edits the cell, and the sheet then shows what a spreadsheet shows for the CSV's `'=…` cell.
pub fn write_xlsx(sheets: &[Sheet], mut out: impl Write) -> Result<(), ReportError> {
    let mut book = Workbook::new();
    for sheet in sheets {
        add_sheet(&mut book, sheet)?;
    }
    out.write_all(&book.save_to_buffer()?)?;
    Ok(())
}

fn add_sheet(book: &mut Workbook, sheet: &Sheet) -> Result<(), ReportError> {
    let ws = book.add_worksheet();
    ws.set_name(&sheet.name)?;
    let head = Format::new().set_bold().set_background_color("E8EEF4");
    let body = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let (head_text, body_text) = (head.clone().set_quote_prefix(), body.clone().set_quote_prefix());
    for (c, h) in sheet.headers.iter().enumerate() {
        let format = if formula_like(h) { &head_text } else { &head };
        ws.write_string_with_format(0, c as u16, h, format)?;
        ws.set_column_width(c as u16, sheet.widths.get(c).copied().unwrap_or(18.0))?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let format = if formula_like(cell) { &body_text } else { &body };
            ws.write_string_with_format(r as u32 + 1, c as u16, fit(cell).as_ref(), format)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !sheet.headers.is_empty() {
        ws.autofilter(0, 0, sheet.rows.len() as u32, sheet.headers.len() as u16 - 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            name: "Controls".into(),
            headers: vec!["control".into(), "evidence".into()],
            rows: vec![
                vec!["ACC-01".into(), "a, \"quoted\"\nsecond line".into()],
                vec!["ACC-02".into(), String::new()],
            ],
            widths: vec![10.0],
        }
    }

    #[test]
    fn csv_round_trips_quotes_and_newlines() {
        let mut buf = Vec::new();
        write_csv(&sheet(), &mut buf).unwrap();
        let mut r = csv::Reader::from_reader(buf.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][1], "a, \"quoted\"\nsecond line");
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_prefixed() {
        let people = Sheet {
            name: "people".into(),
            headers: vec!["name".into(), "title".into()],
            rows: vec![vec!["=1+1".into(), "-5".into()], vec!["@SUM(A1)".into(), "CTO".into()]],
            widths: Vec::new(),
        };
        let mut buf = Vec::new();
        write_csv(&people, &mut buf).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "name,title\n'=1+1,-5\n'@SUM(A1),CTO\n");
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let mut buf = Vec::new();
        write_xlsx(&[sheet()], &mut buf).unwrap();
        assert_eq!(&buf[..2], b"PK");
        assert!(buf.len() > 1000);
    }

    #[test]
    fn overlong_cells_are_cut_with_a_note_not_refused() {
        let mut long = sheet();
        long.rows[0][1] = "é".repeat(20_000);
        let mut buf = Vec::new();
        write_xlsx(&[long], &mut buf).expect("written");
        let cut = fit(&"é".repeat(20_000)).into_owned();
        assert!(cut.len() <= CELL_LIMIT && cut.ends_with("the full text is in the CSV)"));
    }
}
