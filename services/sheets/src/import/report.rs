//! The report of refused rows as a file the user fixes and imports again:
//! the original columns of each refused row, then its row number, the
//! columns at fault and the reasons (columns the import ignores).

use std::collections::BTreeMap;
use std::io::Write;

use super::Report;
use super::columns::REPORT_COLUMNS;
use crate::write::{Cell, Format, WriteError, Writer};

/// Writes `report`'s refused rows to `out` in `format`.
pub fn write<W: Write + Send>(report: &Report, format: Format, out: W) -> Result<W, WriteError> {
    let mut header: Vec<&str> = report
        .headers
        .iter()
        .map(String::as_str)
        .filter(|h| !REPORT_COLUMNS.contains(h))
        .collect();
    let kept = header.len();
    header.extend(REPORT_COLUMNS);
    let mut w = Writer::new(format, out, &header)?;
    let mut by_row: BTreeMap<usize, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for p in &report.problems {
        let (columns, reasons) = by_row.entry(p.row).or_default();
        columns.extend(p.columns.iter().cloned());
        reasons.push(p.reason.clone());
    }
    for (row, (columns, reasons)) in by_row {
        let cells = report.refused.get(&row).cloned().unwrap_or_default();
        let mut out: Vec<Cell> = report
            .headers
            .iter()
            .zip(cells.into_iter().chain(std::iter::repeat(String::new())))
            .filter(|(h, _)| !REPORT_COLUMNS.contains(&h.as_str()))
            .map(|(_, c)| Cell::Text(c))
            .take(kept)
            .collect();
        out.push(Cell::Number(row as f64));
        out.push(Cell::Text(columns.join("、")));
        out.push(Cell::Text(reasons.join("; ")));
        w.row(&out)?;
    }
    w.finish()
}
