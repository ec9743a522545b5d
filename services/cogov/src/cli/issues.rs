//! `cogov issues …`.

use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;

use super::{Session, failed, short, table};

/// Issue work.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List issues in your reach.
    List {
        /// AIP-160 filter, e.g. `state = DISPATCHED AND overdue = true`.
        #[arg(long, default_value = "")]
        filter: String,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        page_size: i32,
    },
    /// Report an issue in a courtyard.
    Report {
        /// `courtyards/{id}`.
        #[arg(long)]
        courtyard: String,
        /// `subItems/{code}`, e.g. `subItems/clutter_piling`.
        #[arg(long)]
        sub_item: String,
        /// What is wrong, in a line.
        #[arg(long)]
        title: String,
        /// More words.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Dispatch an issue to an organisation (staff).
    Dispatch {
        /// `issues/{id}`.
        issue: String,
        /// `organizations/{id}`.
        #[arg(long)]
        to: String,
    },
    /// Start work on an issue dispatched to you.
    Start {
        /// `issues/{id}`.
        issue: String,
    },
    /// Resolve an issue, saying what was done.
    Resolve {
        /// `issues/{id}`.
        issue: String,
        /// What was done.
        #[arg(long)]
        note: String,
    },
}

fn rows(issues: &[Issue]) -> comfy_table::Table {
    let mut t = table(&["NAME", "STATE", "COURTYARD", "SUB-ITEM", "TITLE"]);
    for i in issues {
        t.add_row(vec![
            i.name.clone(),
            short(
                IssueState::try_from(i.state)
                    .unwrap_or_default()
                    .as_str_name(),
                "ISSUE_STATE_",
            ),
            i.courtyard.clone(),
            i.sub_item.trim_start_matches("subItems/").to_owned(),
            i.title.clone(),
        ]);
    }
    t
}

/// Runs `cogov issues …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let mut c = IssuesServiceClient::with_interceptor(channel, bearer);
    let one = |i: Issue| move || rows(std::slice::from_ref(&i));
    match command {
        Command::List { filter, page_size } => {
            let r = c
                .list_issues(ListIssuesRequest {
                    filter,
                    page_size,
                    ..Default::default()
                })
                .await
                .map_err(failed("listing issues"))?
                .into_inner();
            s.print("cogov.issues.v1.ListIssuesResponse", &r, || rows(&r.issues))
        }
        Command::Report {
            courtyard,
            sub_item,
            title,
            description,
        } => {
            let i = c
                .report_issue(ReportIssueRequest {
                    issue: Some(Issue {
                        courtyard,
                        sub_item,
                        title,
                        description,
                        ..Default::default()
                    }),
                    request_id: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .map_err(failed("reporting"))?
                .into_inner();
            s.print("cogov.issues.v1.Issue", &i.clone(), one(i))
        }
        Command::Dispatch { issue, to } => {
            let i = c
                .dispatch_issue(DispatchIssueRequest {
                    name: issue,
                    assignee: to,
                    ..Default::default()
                })
                .await
                .map_err(failed("dispatching"))?
                .into_inner();
            s.print("cogov.issues.v1.Issue", &i.clone(), one(i))
        }
        Command::Start { issue } => {
            let i = c
                .start_issue(StartIssueRequest {
                    name: issue,
                    ..Default::default()
                })
                .await
                .map_err(failed("starting"))?
                .into_inner();
            s.print("cogov.issues.v1.Issue", &i.clone(), one(i))
        }
        Command::Resolve { issue, note } => {
            let i = c
                .resolve_issue(ResolveIssueRequest {
                    name: issue,
                    note,
                    ..Default::default()
                })
                .await
                .map_err(failed("resolving"))?
                .into_inner();
            s.print("cogov.issues.v1.Issue", &i.clone(), one(i))
        }
    }
}
