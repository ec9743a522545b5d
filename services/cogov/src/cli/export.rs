//! `cogov export …`: lists and statistics as CSV or XLSX, as the caller
//! sees them, written page by page.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone};
use cogov_proto::common::Interval;
use cogov_proto::issues::StatisticsGroup;
use cogov_proto::volunteers::HoursGroup;
use cogov_sheets::export::{self, Export};
use cogov_sheets::write::Format;
use indicatif::ProgressBar;

use super::Session;

/// What to export.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Issues matching a ListIssues filter.
    Issues {
        /// AIP-160 filter, e.g. `state = RESOLVED`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        out: Output,
    },
    /// Response, resolution and satisfaction rates by a grouping.
    Statistics {
        /// community, courtyard, assignee, sub-item, category, month or all.
        #[arg(long, default_value = "community")]
        by: String,
        /// On `community`, `courtyard`, `assignee`, `sub_item`, `category`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        window: Window,
        #[command(flatten)]
        out: Output,
    },
    /// Volunteer hours by team, volunteer, community or month.
    Hours {
        /// team, volunteer, community or month.
        #[arg(long, default_value = "team")]
        by: String,
        /// On `community`, `team`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        window: Window,
        #[command(flatten)]
        out: Output,
    },
    /// Councils' implementation rates (落地率).
    Councils {
        /// On `place`, `community`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        out: Output,
    },
    /// Each courtyard's two-nos standing (两无).
    TwoNos {
        /// On `community`, `met`, e.g. `met = false`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        out: Output,
    },
}

/// Where the file goes.
#[derive(Debug, clap::Args)]
pub struct Output {
    /// The file; `.xlsx` writes XLSX, anything else CSV.
    #[arg(long, short)]
    output: PathBuf,
}

/// A window of days, in Beijing time.
#[derive(Debug, clap::Args)]
pub struct Window {
    /// First day, `YYYY-MM-DD`.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Day after the last, `YYYY-MM-DD`.
    #[arg(long)]
    to: Option<NaiveDate>,
}

impl Window {
    /// The window as an interval; none when neither end is given.
    pub fn interval(&self) -> Option<Interval> {
        let beijing = cogov_kit::convert::beijing();
        let at = |d: NaiveDate| {
            let t = beijing
                .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
                .single()?;
            Some(prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: 0,
            })
        };
        if self.from.is_none() && self.to.is_none() {
            return None;
        }
        Some(Interval {
            start_time: self.from.and_then(at),
            end_time: self.to.and_then(at),
        })
    }
}

/// `--by` for issue statistics.
pub fn statistics_group(by: &str) -> Result<StatisticsGroup, String> {
    let name = format!("STATISTICS_GROUP_{}", by.replace('-', "_").to_uppercase());
    StatisticsGroup::from_str_name(&name)
        .filter(|g| *g != StatisticsGroup::Unspecified)
        .ok_or_else(|| format!("--by {by}: expected community, courtyard, assignee, sub-item, category, month or all"))
}

/// `--by` for volunteer hours.
pub fn hours_group(by: &str) -> Result<HoursGroup, String> {
    let name = format!("HOURS_GROUP_{}", by.to_uppercase());
    HoursGroup::from_str_name(&name)
        .filter(|g| *g != HoursGroup::Unspecified)
        .ok_or_else(|| format!("--by {by}: expected team, volunteer, community or month"))
}

/// Runs `cogov export …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (what, output) = match command {
        Command::Issues { filter, out } => (Export::Issues { filter }, out.output),
        Command::Statistics {
            by,
            filter,
            window,
            out,
        } => (
            Export::Statistics {
                group_by: statistics_group(&by)?,
                interval: window.interval(),
                filter,
            },
            out.output,
        ),
        Command::Hours {
            by,
            filter,
            window,
            out,
        } => (
            Export::Hours {
                group_by: hours_group(&by)?,
                interval: window.interval(),
                filter,
            },
            out.output,
        ),
        Command::Councils { filter, out } => (Export::Councils { filter }, out.output),
        Command::TwoNos { filter, out } => (Export::TwoNos { filter }, out.output),
    };
    let format = Format::of_path(&output);
    let file = std::fs::File::create(&output).map_err(|e| format!("{}: {e}", output.display()))?;
    let bar = ProgressBar::new_spinner();
    if s.json() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let progress = |rows: u64| bar.set_message(format!("{rows} rows"));
    let result = export::run(
        &s.clients(),
        &what,
        format,
        std::io::BufWriter::new(file),
        &progress,
    )
    .await;
    bar.finish_and_clear();
    let (out, rows) = match result {
        Ok(done) => done,
        Err(e) => {
            // A half-written file must not pass for an export.
            let _ = std::fs::remove_file(&output);
            return Err(format!("exporting: {e}"));
        }
    };
    drop(out);
    if s.json() {
        println!(
            "{:#}",
            serde_json::json!({"file": output.display().to_string(), "rows": rows})
        );
    } else {
        println!("wrote {rows} rows to {}", output.display());
    }
    Ok(())
}
