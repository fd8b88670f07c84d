//! Files that leave Evident: tables as CSV and XLSX, the readiness report as HTML and PDF.
//! Takes plain values and returns bytes; knows nothing of the database.

mod access_review;
// The formula rules live in core, beside the register CSV reader that undoes them.
pub use evident_core::cells;
mod description;
mod error;
mod fieldwork;
mod html;
mod matrix;
mod pdf;
mod read_xlsx;
pub mod readiness;
mod tabular;
mod window;

pub use access_review::access_review_pdf;
pub use description::{
    DESCRIPTION_FORMATS, DescriptionDoc, description_docx, description_file, description_html, description_markdown,
    description_pdf,
};
pub use error::ReportError;
pub use fieldwork::{read_request_list, request_sheet, testing_workbook};
pub use html::readiness_html;
pub use matrix::{control_matrix, controls_sheet, evidence_sheet, gap_rows, gaps_sheet};
pub use pdf::readiness_pdf;
pub use read_xlsx::read_xlsx;
pub use readiness::{
    AuditDates, Blocking, CategoryLine, ChecklistLine, ControlCounts, GapLine, OwnerLine, PhaseLine, ReadinessDoc,
};
pub use tabular::{Sheet, write_csv, write_xlsx};
pub use window::{WindowMeta, window_pdf, window_sheets};
