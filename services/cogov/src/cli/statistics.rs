//! `cogov statistics`: the issue rates and volunteer hours as tables, with
//! names (`cogov export` writes the same figures to a file).

use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_proto::volunteers::*;
use cogov_sheets::export::names::Names;

use super::export::{Window, hours_group, statistics_group};
use super::{Session, failed, table};

/// Which figures.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Response, resolution and satisfaction rates (the last 30 days by
    /// default), best score first.
    Issues {
        /// community, courtyard, assignee, sub-item, category, month or all.
        #[arg(long, default_value = "community")]
        by: String,
        /// On `community`, `courtyard`, `assignee`, `sub_item`, `category`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        window: Window,
    },
    /// Volunteer hours (this month by default), most first.
    Hours {
        /// team, volunteer, community or month.
        #[arg(long, default_value = "team")]
        by: String,
        /// On `community`, `team`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        window: Window,
    },
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// Runs `cogov statistics …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    match command {
        Command::Issues { by, filter, window } => {
            let r = IssuesServiceClient::with_interceptor(channel, bearer)
                .compute_issue_statistics(ComputeIssueStatisticsRequest {
                    group_by: statistics_group(&by)? as i32,
                    interval: window.interval(),
                    filter,
                    weights: None,
                })
                .await
                .map_err(failed("computing"))?
                .into_inner();
            let mut names = Names::new(s.clients());
            let mut t = table(&[
                "RANK",
                "NAME",
                "REPORTED",
                "RESPONSE",
                "RESOLUTION",
                "SATISFACTION",
                "OVERDUE",
                "SCORE",
            ]);
            for row in &r.rows {
                t.add_row(vec![
                    row.rank.to_string(),
                    names.of(&row.key).await,
                    row.reported.to_string(),
                    percent(row.response_rate),
                    percent(row.resolution_rate),
                    percent(row.satisfaction_rate),
                    row.overdue.to_string(),
                    format!("{:.1}", row.score),
                ]);
            }
            s.print("cogov.issues.v1.ComputeIssueStatisticsResponse", &r, || t)
        }
        Command::Hours { by, filter, window } => {
            let r = VolunteersServiceClient::with_interceptor(channel, bearer)
                .compute_volunteer_hours(ComputeVolunteerHoursRequest {
                    group_by: hours_group(&by)? as i32,
                    interval: window.interval(),
                    filter,
                    max_results: 1000,
                })
                .await
                .map_err(failed("computing"))?
                .into_inner();
            let mut t = table(&["RANK", "NAME", "HOURS", "RECORDS", "VOLUNTEERS"]);
            for row in &r.rows {
                t.add_row(vec![
                    row.rank.to_string(),
                    row.display_name.clone(),
                    format!("{:.1}", row.minutes as f64 / 60.0),
                    row.records.to_string(),
                    row.volunteers.to_string(),
                ]);
            }
            s.print(
                "cogov.volunteers.v1.ComputeVolunteerHoursResponse",
                &r,
                || t,
            )
        }
    }
}
