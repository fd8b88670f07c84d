//! One sheet of rows, written as CSV or as an Excel workbook.

use std::io::Write;

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use crate::ReportError;

#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Column widths in characters, for the workbook; missing ones get a default.
    pub widths: Vec<f64>,
}

pub fn write_csv(sheet: &Sheet, out: impl Write) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&sheet.headers)?;
    for row in &sheet.rows {
        w.write_record(row)?;
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
    for (c, h) in sheet.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &head)?;
        ws.set_column_width(c as u16, sheet.widths.get(c).copied().unwrap_or(18.0))?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string_with_format(r as u32 + 1, c as u16, fit(cell).as_ref(), &body)?;
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
