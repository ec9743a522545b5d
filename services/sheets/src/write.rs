//! Writing rows out as CSV or XLSX, one row at a time.
//!
//! CSV is UTF-8 with a byte-order mark (so that Excel on Chinese Windows
//! opens it without garbling names); XLSX is written in rust_xlsxwriter's
//! constant-memory mode, rows going to a temporary file as they come, with
//! a new sheet after Excel's 1,048,576 rows. Text that a spreadsheet would
//! run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) gets an apostrophe in front, in both formats (OWASP's advice on
//! CSV injection); numbers are written as numbers.

use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{Format as CellFormat, Workbook, Worksheet, XlsxError};

/// A file format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UTF-8 CSV with a byte-order mark.
    Csv,
    /// Office Open XML.
    Xlsx,
}

impl Format {
    /// The format a file name's extension asks for (`.xlsx`, else CSV).
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("xlsx") => Format::Xlsx,
            _ => Format::Csv,
        }
    }

    /// `text/csv` or the XLSX media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// `csv` or `xlsx`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (neutralised when written).
    Text(String),
    /// A number.
    Number(f64),
    /// Nothing.
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Number(n as f64)
    }
}

impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Cell::Number(f64::from(n))
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Self {
        Cell::Number(n)
    }
}

/// Writing failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file or stream.
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The XLSX writer.
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] XlsxError),
}

/// Text a spreadsheet would take for a formula, with an apostrophe in front.
pub fn neutralised(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// Rows out, in either format.
pub struct Writer<W: Write + Send> {
    inner: Inner<W>,
    rows: u64,
}

enum Inner<W: Write + Send> {
    Csv(Box<csv::Writer<W>>),
    Xlsx(Box<Xlsx<W>>),
}

struct Xlsx<W: Write + Send> {
    out: W,
    book: Workbook,
    sheets: usize,
    row: u32,
    header: Vec<String>,
    bold: CellFormat,
}

/// Excel's rows per sheet.
const SHEET_ROWS: u32 = 1_048_576;

impl<W: Write + Send> Writer<W> {
    /// A writer of `format` to `out`, its first row `header`.
    pub fn new(format: Format, mut out: W, header: &[&str]) -> Result<Self, WriteError> {
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        let inner = match format {
            Format::Csv => {
                out.write_all(b"\xEF\xBB\xBF")?;
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(&header)?;
                Inner::Csv(Box::new(csv))
            }
            Format::Xlsx => {
                let mut x = Xlsx {
                    out,
                    book: Workbook::new(),
                    sheets: 0,
                    row: 0,
                    header,
                    bold: CellFormat::new().set_bold(),
                };
                x.new_sheet()?;
                Inner::Xlsx(Box::new(x))
            }
        };
        Ok(Writer { inner, rows: 0 })
    }

    /// Writes one row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), WriteError> {
        match &mut self.inner {
            Inner::Csv(csv) => {
                for cell in cells {
                    match cell {
                        Cell::Text(t) => csv.write_field(neutralised(t).as_ref())?,
                        Cell::Number(n) => csv.write_field(number_text(*n))?,
                        Cell::Empty => csv.write_field("")?,
                    }
                }
                csv.write_record(None::<&[u8]>)?;
            }
            Inner::Xlsx(x) => x.row(cells)?,
        }
        self.rows += 1;
        Ok(())
    }

    /// Rows written below the header.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Finishes the file and hands back the output.
    pub fn finish(self) -> Result<W, WriteError> {
        match self.inner {
            Inner::Csv(csv) => csv.into_inner().map_err(|e| WriteError::Io(e.into_error())),
            Inner::Xlsx(mut x) => {
                x.book.save_to_writer(&mut x.out)?;
                Ok(x.out)
            }
        }
    }
}

/// A whole number without `.0`.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl<W: Write + Send> Xlsx<W> {
    fn sheet(&mut self) -> Result<&mut Worksheet, XlsxError> {
        self.book.worksheet_from_index(self.sheets - 1)
    }

    fn new_sheet(&mut self) -> Result<(), XlsxError> {
        self.book.add_worksheet_with_constant_memory()?;
        self.sheets += 1;
        self.row = 0;
        let header = std::mem::take(&mut self.header);
        let bold = self.bold.clone();
        let sheet = self.sheet()?;
        for (column, text) in header.iter().enumerate() {
            sheet.write_string_with_format(0, column as u16, text, &bold)?;
            sheet.set_column_width(column as u16, 16)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        self.header = header;
        self.row = 1;
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        if self.row == SHEET_ROWS {
            self.new_sheet()?;
        }
        let row = self.row;
        let sheet = self.sheet()?;
        for (column, cell) in cells.iter().enumerate() {
            let column = column as u16;
            match cell {
                Cell::Text(t) if !t.is_empty() => {
                    sheet.write_string(row, column, neutralised(t))?;
                }
                Cell::Number(n) => {
                    sheet.write_number(row, column, *n)?;
                }
                Cell::Text(_) | Cell::Empty => {}
            }
        }
        self.row += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read;

    fn written(format: Format) -> Vec<u8> {
        let mut w = Writer::new(format, Vec::new(), &["名称", "数量", "备注"]).unwrap();
        w.row(&["牛街东里".into(), 3.into(), "=1+1".into()])
            .unwrap();
        w.row(&["@SUM(A1)".into(), Cell::Number(0.25), Cell::Empty])
            .unwrap();
        assert_eq!(w.rows(), 2);
        w.finish().unwrap()
    }

    #[test]
    fn csv_and_xlsx_read_back_the_same_rows() {
        for format in [Format::Csv, Format::Xlsx] {
            let bytes = written(format);
            let sheet = read::read(&bytes, &read::Limits::default()).unwrap();
            assert_eq!(sheet.headers, ["名称", "数量", "备注"], "{format:?}");
            // Our apostrophe is taken off again on reading.
            assert_eq!(sheet.rows[0].cells, ["牛街东里", "3", "=1+1"], "{format:?}");
            assert_eq!(sheet.rows[1].cells, ["@SUM(A1)", "0.25", ""], "{format:?}");
        }
    }

    #[test]
    fn formula_text_is_neutralised_in_the_file() {
        let csv = String::from_utf8(written(Format::Csv)).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("'=1+1"), "{csv}");
        assert!(csv.contains("'@SUM(A1)"), "{csv}");
        for text in ["-1", "+1", "\tx", "\rx"] {
            assert!(neutralised(text).starts_with('\''));
        }
        assert_eq!(neutralised("牛街"), "牛街");
    }
}
