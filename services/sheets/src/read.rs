//! Reading an uploaded spreadsheet into rows of text.
//!
//! CSV comes in UTF-8 (with or without a byte-order mark), UTF-16 with a
//! byte-order mark (Excel's "Unicode text") or GB18030 (what Excel and WPS
//! write on Chinese Windows; GBK and GB2312 are subsets of it), separated by
//! commas, tabs or semicolons. XLSX is read from its first sheet, each cell
//! by the value a person sees. A cell that would run as a formula when the
//! file is opened again (`=…` in CSV) is refused rather than stored; the
//! apostrophe our own exports put before such text is taken off again.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

/// How much one import reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes in the file.
    pub max_bytes: usize,
    /// Rows below the header.
    pub max_rows: usize,
    /// Bytes an XLSX inflates to.
    pub max_inflated: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 32 << 20,
            max_rows: 50_000,
            max_inflated: 512 << 20,
        }
    }
}

/// What could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing in the file.
    #[error("the file is empty")]
    Empty,
    /// Above [`Limits::max_bytes`].
    #[error("the file has {size} bytes; at most {max} are read at once: split it")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Above [`Limits::max_rows`].
    #[error("the file has more than {max} rows: split it")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// Above [`Limits::max_inflated`].
    #[error("the XLSX inflates to more than {max} bytes: split it")]
    TooLargeInflated {
        /// The limit.
        max: u64,
    },
    /// Neither UTF-8, UTF-16 nor GB18030.
    #[error("the file is not text in UTF-8 or GB18030 (nor an XLSX): save it as CSV UTF-8 or XLSX")]
    Encoding,
    /// Excel 97–2003.
    #[error("XLS (Excel 97–2003) files are not read: save it as XLSX or CSV")]
    LegacyExcel,
    /// A broken CSV.
    #[error("the CSV cannot be read: {0}")]
    Csv(String),
    /// A broken XLSX.
    #[error("the XLSX cannot be read: {0}")]
    Xlsx(String),
    /// Only blank rows.
    #[error("no header row: the first row must name the columns")]
    NoHeader,
}

/// The file's format, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-, tab- or semicolon-separated text.
    Csv {
        /// Its encoding's name (`UTF-8`, `UTF-16LE`, `gb18030`).
        encoding: &'static str,
        /// Its separator.
        delimiter: u8,
    },
    /// Office Open XML.
    Xlsx,
}

/// A cell that was read but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCell {
    /// Its column, from 0.
    pub column: usize,
    /// Why.
    pub reason: String,
}

/// One row below the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its number as the spreadsheet shows it (the header row is 1 when it
    /// is the first).
    pub number: usize,
    /// Its cells, trimmed; as many as the header has.
    pub cells: Vec<String>,
    /// Cells refused while reading.
    pub bad: Vec<BadCell>,
}

/// A file, read.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// How it was read.
    pub format: Format,
    /// The header row's cells, trimmed.
    pub headers: Vec<String>,
    /// The rows below it that are not blank.
    pub rows: Vec<Row>,
}

/// Reads `bytes` (CSV or XLSX) within `limits`.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Sheet, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ReadError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes, limits);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(ReadError::LegacyExcel);
    }
    let (text, encoding) = decode(bytes)?;
    read_csv(&text, encoding, limits)
}

/// The text of a CSV and the name of its encoding.
fn decode(bytes: &[u8]) -> Result<(String, &'static str), ReadError> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(ReadError::Encoding);
        }
        return Ok((text.into_owned(), encoding.name()));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), "UTF-8"));
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| (text.into_owned(), encoding_rs::GB18030.name()))
        .ok_or(ReadError::Encoding)
}

/// The separator the first line uses most: comma, tab or semicolon.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (first.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

fn read_csv(text: &str, encoding: &'static str, limits: &Limits) -> Result<Sheet, ReadError> {
    let delimiter = delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // A record's row is the line it starts on, as a spreadsheet shows it;
    // the reader's own position counts a blank line before a record as
    // part of it, so lines are counted here.
    let (mut line, mut counted) = (1, 0);
    for record in reader.records() {
        let record = record.map_err(|e| ReadError::Csv(e.to_string()))?;
        let start = record.position().map_or(0, |p| p.byte() as usize);
        let blank_end = start
            + text.as_bytes()[start..]
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
        line += text.as_bytes()[counted..blank_end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted = blank_end;
        let number = line;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        push(&mut rows, number, cells, limits, |text| {
            text.starts_with('=')
                .then(|| "a formula (starts with =); type the value itself".to_owned())
        })?;
    }
    finish(
        Format::Csv {
            encoding,
            delimiter,
        },
        rows,
    )
}

fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Sheet, ReadError> {
    check_inflated(bytes, limits.max_inflated)?;
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| ReadError::Xlsx("the workbook has no sheet".into()))?
        .map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let first = range.start().map_or(0, |(row, _)| row as usize);
    let offset = range.start().map_or(0, |(_, column)| column as usize);
    let mut rows = Vec::new();
    for (index, cells) in range.rows().enumerate() {
        let mut errors = Vec::new();
        let mut texts: Vec<String> = vec![String::new(); offset];
        for (column, cell) in cells.iter().enumerate() {
            match cell_text(cell) {
                Ok(text) => texts.push(text),
                Err(reason) => {
                    errors.push(BadCell {
                        column: offset + column,
                        reason,
                    });
                    texts.push(String::new());
                }
            }
        }
        let number = first + index + 1;
        push(&mut rows, number, texts, limits, |_| None)?;
        if let Some(row) = rows.last_mut().filter(|r| r.number == number) {
            row.bad.extend(errors);
        }
    }
    finish(Format::Xlsx, rows)
}

/// Refuses an archive whose members inflate beyond `max` bytes in all:
/// first by the sizes they declare, then by inflating them, since a member
/// may declare less than it holds.
fn check_inflated(bytes: &[u8], max: u64) -> Result<(), ReadError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let mut declared = 0u64;
    for index in 0..archive.len() {
        let member = archive
            .by_index_raw(index)
            .map_err(|e| ReadError::Xlsx(e.to_string()))?;
        declared = declared.saturating_add(member.size());
    }
    if declared > max {
        return Err(ReadError::TooLargeInflated { max });
    }
    let mut sink = [0u8; 64 << 10];
    let mut read = 0u64;
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .map_err(|e| ReadError::Xlsx(e.to_string()))?;
        loop {
            let n = member
                .read(&mut sink)
                .map_err(|e| ReadError::Xlsx(e.to_string()))?;
            if n == 0 {
                break;
            }
            read += n as u64;
            if read > max {
                return Err(ReadError::TooLargeInflated { max });
            }
        }
    }
    Ok(())
}

/// What a person sees in an XLSX cell.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        // Phone numbers typed into Excel become numbers: no ".0" on whole ones.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => return Err(format!("the cell shows an error ({e})")),
    })
}

/// Our exports put an apostrophe before text that would run as a formula;
/// reading it back takes it off.
fn unneutralised(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => text,
    }
}

/// Adds a non-blank row, refusing rows beyond the limit.
fn push(
    rows: &mut Vec<Row>,
    number: usize,
    cells: Vec<String>,
    limits: &Limits,
    refuse: impl Fn(&str) -> Option<String>,
) -> Result<(), ReadError> {
    if cells.iter().all(String::is_empty) {
        return Ok(());
    }
    // The header is the first row kept.
    if rows.len() > limits.max_rows {
        return Err(ReadError::TooManyRows {
            max: limits.max_rows,
        });
    }
    let mut bad = Vec::new();
    let cells = cells
        .into_iter()
        .enumerate()
        .map(|(column, text)| {
            if let Some(reason) = refuse(&text) {
                bad.push(BadCell { column, reason });
            }
            unneutralised(&text).to_owned()
        })
        .collect();
    rows.push(Row { number, cells, bad });
    Ok(())
}

fn finish(format: Format, mut rows: Vec<Row>) -> Result<Sheet, ReadError> {
    if rows.is_empty() {
        return Err(ReadError::NoHeader);
    }
    let header = rows.remove(0);
    let width = header.cells.len();
    for row in &mut rows {
        row.cells.resize(width.max(row.cells.len()), String::new());
    }
    Ok(Sheet {
        format,
        headers: header.cells,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn utf8_with_and_without_a_bom() {
        for bytes in [
            "姓名,手机\n张三,13800138000\n".as_bytes().to_vec(),
            [
                b"\xEF\xBB\xBF".as_slice(),
                "姓名,手机\n张三,13800138000\n".as_bytes(),
            ]
            .concat(),
        ] {
            let sheet = read(&bytes, &limits()).unwrap();
            assert_eq!(sheet.headers, ["姓名", "手机"]);
            assert_eq!(sheet.rows[0].cells, ["张三", "13800138000"]);
            assert_eq!(sheet.rows[0].number, 2);
        }
    }

    #[test]
    fn gb18030_is_read() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名,手机\n牛街李四,13900139000\n");
        let sheet = read(&bytes, &limits()).unwrap();
        assert_eq!(
            sheet.format,
            Format::Csv {
                encoding: "gb18030",
                delimiter: b','
            }
        );
        assert_eq!(sheet.rows[0].cells[0], "牛街李四");
    }

    #[test]
    fn utf16_and_tabs_as_excel_saves_unicode_text() {
        let text = "姓名\t手机\n王五\t13700137000\n";
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let sheet = read(&bytes, &limits()).unwrap();
        assert_eq!(sheet.headers, ["姓名", "手机"]);
        assert_eq!(sheet.rows[0].cells, ["王五", "13700137000"]);
    }

    #[test]
    fn bytes_that_are_no_text_are_refused() {
        assert_eq!(
            read(&[0x81, 0x20, 0xFF, 0xFF], &limits()).unwrap_err(),
            ReadError::Encoding
        );
        assert_eq!(read(b"", &limits()).unwrap_err(), ReadError::Empty);
        assert_eq!(
            read(b"\n , \n", &limits()).unwrap_err(),
            ReadError::NoHeader
        );
        assert_eq!(
            read(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0], &limits()).unwrap_err(),
            ReadError::LegacyExcel
        );
    }

    #[test]
    fn limits_are_enforced_with_their_figures() {
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            read(b"a,b\n1,2\n3,4\n", &small).unwrap_err(),
            ReadError::TooLarge { size: 12, max: 10 }
        );
        let few = Limits {
            max_rows: 2,
            ..Limits::default()
        };
        assert!(read(b"a\n1\n2\n", &few).is_ok());
        assert_eq!(
            read(b"a\n1\n2\n3\n", &few).unwrap_err(),
            ReadError::TooManyRows { max: 2 }
        );
    }

    #[test]
    fn formulas_are_refused_and_our_apostrophe_is_taken_off() {
        let sheet = read(b"name,note\n=HYPERLINK(\"x\"),'-5\n", &limits()).unwrap();
        assert_eq!(sheet.rows[0].bad.len(), 1);
        assert_eq!(sheet.rows[0].bad[0].column, 0);
        assert_eq!(sheet.rows[0].cells[1], "-5");
    }

    #[test]
    fn blank_rows_are_skipped_and_numbers_stay_those_people_see() {
        let sheet = read(b"a,b\n\n1,2\n,\n3\n", &limits()).unwrap();
        let numbers: Vec<_> = sheet.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [3, 5]);
        assert_eq!(sheet.rows[1].cells, ["3", ""]);
    }
}
