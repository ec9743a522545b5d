//! `cogov import KIND FILE`: a roster into the caller's community, through
//! the gateway as the caller, with a progress bar and a report of the rows
//! refused, written as a file to fix and import again.

use std::path::{Path, PathBuf};

use cogov_sheets::import::{self, Kind, Options, Report};
use cogov_sheets::read::{self, Limits};
use cogov_sheets::write::Format;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Session, table};

/// `cogov import`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the file holds.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(Kind::ALL.map(Kind::as_str)))]
    kind: String,
    /// A CSV (UTF-8 or GB18030) or XLSX file; Chinese or English headers.
    file: Option<PathBuf>,
    /// The community: `communities/{id}` or its name; may be left out when
    /// you see only one.
    #[arg(long, default_value = "")]
    community: String,
    /// Check every row and report, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where to write the refused rows (default: beside the file,
    /// `NAME.errors.csv` or `.xlsx`).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write an empty template with the headers this kind reads, then stop.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    template: Option<PathBuf>,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

/// Runs `cogov import …`.
pub async fn run(s: &Session, args: Args) -> Result<(), String> {
    let kind = Kind::parse(&args.kind).ok_or("no such kind")?;
    if let Some(path) = &args.template {
        return template(kind, path);
    }
    let file = args
        .file
        .as_ref()
        .ok_or("name the FILE to import (or --template FILE)")?;
    let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} eta {eta}")
            .map_err(|e| e.to_string())?,
    );
    if s.json() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let options = Options {
        community: args.community,
        dry_run: args.dry_run,
        concurrency: args.concurrency,
        limits: Limits::default(),
    };
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let report = import::run(&s.clients(), kind, &bytes, &options, &progress)
        .await
        .map_err(|e| format!("importing {}: {e}", file.display()))?;
    bar.finish_and_clear();
    let written = if report.problems.is_empty() {
        None
    } else {
        let path = args
            .report
            .unwrap_or_else(|| report_path(file, report.format));
        write_report(&report, &path)?;
        Some(path)
    };
    print(s, &report, written.as_deref());
    match written {
        Some(path) => Err(format!(
            "{} row(s) refused; fix them in {} and import that file again",
            refused_rows(&report),
            path.display()
        )),
        None => Ok(()),
    }
}

fn refused_rows(report: &Report) -> usize {
    report.refused.len()
}

/// `NAME.errors.csv` (or `.xlsx` for an XLSX) beside `file`.
fn report_path(file: &Path, format: read::Format) -> PathBuf {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("import");
    let ext = match format {
        read::Format::Xlsx => "xlsx",
        read::Format::Csv { .. } => "csv",
    };
    file.with_file_name(format!("{stem}.errors.{ext}"))
}

fn write_report(report: &Report, path: &Path) -> Result<(), String> {
    let out = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    import::report::write(report, Format::of_path(path), std::io::BufWriter::new(out))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

fn template(kind: Kind, path: &Path) -> Result<(), String> {
    let out = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let header: Vec<&str> = kind
        .columns()
        .iter()
        .map(|c| c.names.first().copied().unwrap_or(c.key))
        .collect();
    let w = cogov_sheets::write::Writer::new(Format::of_path(path), out, &header)
        .map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

fn print(s: &Session, report: &Report, written: Option<&Path>) {
    if s.json() {
        let problems: Vec<_> = report
            .problems
            .iter()
            .map(|p| serde_json::json!({"row": p.row, "columns": p.columns, "reason": p.reason}))
            .collect();
        let json = serde_json::json!({
            "kind": report.kind.as_str(),
            "community": report.community,
            "dryRun": report.dry_run,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": refused_rows(report),
            "problems": problems,
            "ignoredColumns": report.ignored_columns,
            "report": written.map(|p| p.display().to_string()),
        });
        println!("{json:#}");
        return;
    }
    let verb = if report.dry_run { "would be " } else { "" };
    println!(
        "{} into {}{}: {} rows; {} {verb}created, {} {verb}updated, {} unchanged, {} refused",
        report.kind.as_str(),
        report.community,
        if report.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        },
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        refused_rows(report)
    );
    if !report.ignored_columns.is_empty() {
        println!("columns not read: {}", report.ignored_columns.join(", "));
    }
    if !report.problems.is_empty() {
        let mut t = table(&["ROW", "COLUMN", "REASON"]);
        for p in report.problems.iter().take(20) {
            t.add_row(vec![
                p.row.to_string(),
                p.columns.join(", "),
                p.reason.clone(),
            ]);
        }
        println!("{t}");
        if report.problems.len() > 20 {
            println!("… and {} more", report.problems.len() - 20);
        }
    }
    if let Some(path) = written {
        println!("refused rows written to {}", path.display());
    }
}
