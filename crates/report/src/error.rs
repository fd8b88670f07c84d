use thiserror::Error;

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("writing the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The typesetter refused the document: a bug in our template, never in the data.
    #[error("typesetting the PDF: {0}")]
    Typeset(String),
    /// A workbook that could not be read as one.
    #[error("reading the workbook: {0}")]
    Read(String),
}
