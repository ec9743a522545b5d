//! `cogov issues …`: every step of an issue's life, its comments and
//! timeline, as the caller.

use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_sheets::export::names::Names;

use super::{Paging, Session, call, enum_arg, failed, list, short, table};

/// Issue work.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List issues in your reach, with courtyard and assignee names.
    List {
        /// AIP-160 filter, e.g. `state = DISPATCHED AND overdue = true`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One issue.
    Get {
        /// `issues/{id}`.
        issue: String,
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
        /// The idempotency key: run the same command with the same id and
        /// it reports once. A new one by default (and reused on retries).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Acknowledge a reported issue (staff).
    Acknowledge {
        /// `issues/{id}`.
        issue: String,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Dispatch an issue to an organisation (staff).
    Dispatch {
        /// `issues/{id}`.
        issue: String,
        /// `organizations/{id}`.
        #[arg(long)]
        to: String,
    },
    /// Summon several parties at once (吹哨报到), one leading (staff).
    JointDispatch {
        /// `issues/{id}`.
        issue: String,
        /// The leading `organizations/{id}`.
        #[arg(long)]
        lead: String,
        /// Another summoned `organizations/{id}` (repeat).
        #[arg(long = "party", required = true)]
        parties: Vec<String>,
        /// Hours each party has to check in.
        #[arg(long, default_value_t = 24)]
        within_hours: i64,
        /// A note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Check in as a summoned party.
    CheckIn {
        /// `issues/{id}`.
        issue: String,
        /// The party checking in: `organizations/{id}`.
        #[arg(long = "as")]
        organization: String,
        /// What the party does.
        #[arg(long)]
        note: String,
    },
    /// Return an issue dispatched to you, with the reason.
    Return {
        /// `issues/{id}`.
        issue: String,
        /// not-our-duty, wrong-place, needs-other-party, insufficient-information.
        #[arg(long)]
        reason: String,
        /// More words.
        #[arg(long, default_value = "")]
        note: String,
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
    /// Confirm a resolved issue with a satisfaction score, 1 to 5.
    Confirm {
        /// `issues/{id}`.
        issue: String,
        /// 1 (very unsatisfied) to 5 (very satisfied).
        #[arg(long)]
        satisfaction: i32,
        /// A comment.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Reopen a resolved or closed issue.
    Reopen {
        /// `issues/{id}`.
        issue: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Reject an issue (staff).
    Reject {
        /// `issues/{id}`.
        issue: String,
        /// not-responsible, unreasonable, insufficient-information,
        /// out-of-area, other-procedure, spam.
        #[arg(long)]
        reason: String,
        /// More words.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Mark an issue a duplicate of another (staff).
    Duplicate {
        /// `issues/{id}`.
        issue: String,
        /// The original: `issues/{id}`.
        #[arg(long)]
        of: String,
    },
    /// Comment on an issue.
    Comment {
        /// `issues/{id}`.
        issue: String,
        /// The comment.
        #[arg(long)]
        text: String,
        /// Staff and assignees only.
        #[arg(long)]
        internal: bool,
        /// The idempotency key (a new one by default, reused on retries).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// An issue's timeline: every step and comment, oldest first.
    Timeline {
        /// `issues/{id}`.
        issue: String,
    },
}

async fn rows(s: &Session, issues: &[Issue]) -> comfy_table::Table {
    let mut names = Names::new(s.clients());
    let mut t = table(&[
        "NAME",
        "STATE",
        "COURTYARD",
        "ASSIGNEE",
        "SUB-ITEM",
        "TITLE",
    ]);
    for i in issues {
        t.add_row(vec![
            i.name.clone(),
            short(
                IssueState::try_from(i.state)
                    .unwrap_or_default()
                    .as_str_name(),
                "ISSUE_STATE_",
            ),
            names.of(&i.courtyard).await,
            names.of(&i.assignee).await,
            i.sub_item.trim_start_matches("subItems/").to_owned(),
            i.title.clone(),
        ]);
    }
    t
}

/// Runs `cogov issues …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = IssuesServiceClient::with_interceptor(channel, bearer);
    let issue = match command {
        Command::List { filter, paging } => {
            let request = ListIssuesRequest {
                filter,
                ..Default::default()
            };
            let out = list!(c, list_issues, request, issues, paging, "listing issues");
            let table = rows(s, &out.issues).await;
            return s.print("cogov.issues.v1.ListIssuesResponse", &out, || table);
        }
        Command::Timeline { issue } => {
            let request = ListIssueUpdatesRequest {
                parent: issue,
                ..Default::default()
            };
            let every = Paging {
                page_size: 1000,
                all: true,
            };
            let out = list!(
                c,
                list_issue_updates,
                request,
                updates,
                every,
                "reading the timeline"
            );
            let mut names = Names::new(s.clients());
            let mut t = table(&["WHEN", "WHAT", "STATE", "WHO", "TEXT"]);
            for u in &out.updates {
                t.add_row(vec![
                    cogov_sheets::export::beijing(u.create_time),
                    short(
                        IssueUpdateKind::try_from(u.kind)
                            .unwrap_or_default()
                            .as_str_name(),
                        "ISSUE_UPDATE_KIND_",
                    ),
                    short(
                        IssueState::try_from(u.to_state)
                            .unwrap_or_default()
                            .as_str_name(),
                        "ISSUE_STATE_",
                    ),
                    if u.organization.is_empty() {
                        names.of(&u.author).await
                    } else {
                        names.of(&u.organization).await
                    },
                    u.text.clone(),
                ]);
            }
            return s.print("cogov.issues.v1.ListIssueUpdatesResponse", &out, || t);
        }
        Command::Comment {
            issue,
            text,
            internal,
            request_id,
        } => {
            let request = CreateIssueCommentRequest {
                parent: issue,
                text,
                internal,
                media: Vec::new(),
                request_id: request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            };
            let u = call!(c, create_issue_comment, request)
                .await
                .map_err(failed("commenting"))?;
            return s.print("cogov.issues.v1.IssueUpdate", &u, || {
                let mut t = table(&["NAME", "TEXT"]);
                t.add_row(vec![u.name.clone(), u.text.clone()]);
                t
            });
        }
        Command::Get { issue } => {
            let request = GetIssueRequest { name: issue };
            call!(c, get_issue, request)
                .await
                .map_err(failed("reading"))?
        }
        Command::Report {
            courtyard,
            sub_item,
            title,
            description,
            request_id,
        } => {
            let request = ReportIssueRequest {
                issue: Some(Issue {
                    courtyard,
                    sub_item,
                    title,
                    description,
                    ..Default::default()
                }),
                request_id: request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            };
            call!(c, report_issue, request)
                .await
                .map_err(failed("reporting"))?
        }
        Command::Acknowledge { issue, note } => {
            let request = AcknowledgeIssueRequest {
                name: issue,
                note,
                ..Default::default()
            };
            call!(c, acknowledge_issue, request)
                .await
                .map_err(failed("acknowledging"))?
        }
        Command::Dispatch { issue, to } => {
            let request = DispatchIssueRequest {
                name: issue,
                assignee: to,
                ..Default::default()
            };
            call!(c, dispatch_issue, request)
                .await
                .map_err(failed("dispatching"))?
        }
        Command::JointDispatch {
            issue,
            lead,
            parties,
            within_hours,
            note,
        } => {
            let by = chrono::Utc::now() + chrono::Duration::hours(within_hours);
            let request = JointDispatchIssueRequest {
                name: issue,
                lead,
                parties: parties
                    .into_iter()
                    .map(|organization| PartySummons {
                        organization,
                        check_in_by: Some(cogov_kit::convert::timestamp(by)),
                    })
                    .collect(),
                note,
                ..Default::default()
            };
            call!(c, joint_dispatch_issue, request)
                .await
                .map_err(failed("summoning"))?
        }
        Command::CheckIn {
            issue,
            organization,
            note,
        } => {
            let request = CheckInIssueRequest {
                name: issue,
                organization,
                action_note: note,
                media: Vec::new(),
            };
            call!(c, check_in_issue, request)
                .await
                .map_err(failed("checking in"))?
        }
        Command::Return {
            issue,
            reason: r,
            note,
        } => {
            let request = ReturnIssueRequest {
                name: issue,
                reason: enum_arg(
                    "--reason",
                    &r,
                    "RETURN_REASON_",
                    ReturnReason::from_str_name,
                )? as i32,
                note,
                ..Default::default()
            };
            call!(c, return_issue, request)
                .await
                .map_err(failed("returning"))?
        }
        Command::Start { issue } => {
            let request = StartIssueRequest {
                name: issue,
                ..Default::default()
            };
            call!(c, start_issue, request)
                .await
                .map_err(failed("starting"))?
        }
        Command::Resolve { issue, note } => {
            let request = ResolveIssueRequest {
                name: issue,
                note,
                ..Default::default()
            };
            call!(c, resolve_issue, request)
                .await
                .map_err(failed("resolving"))?
        }
        Command::Confirm {
            issue,
            satisfaction,
            comment,
        } => {
            let request = ConfirmIssueRequest {
                name: issue,
                satisfaction,
                comment,
                ..Default::default()
            };
            call!(c, confirm_issue, request)
                .await
                .map_err(failed("confirming"))?
        }
        Command::Reopen { issue, reason } => {
            let request = ReopenIssueRequest {
                name: issue,
                reason,
                ..Default::default()
            };
            call!(c, reopen_issue, request)
                .await
                .map_err(failed("reopening"))?
        }
        Command::Reject {
            issue,
            reason: r,
            note,
        } => {
            let request = RejectIssueRequest {
                name: issue,
                reason: enum_arg(
                    "--reason",
                    &r,
                    "REJECT_REASON_",
                    RejectReason::from_str_name,
                )? as i32,
                note,
                ..Default::default()
            };
            call!(c, reject_issue, request)
                .await
                .map_err(failed("rejecting"))?
        }
        Command::Duplicate { issue, of } => {
            let request = MarkDuplicateIssueRequest {
                name: issue,
                original: of,
                ..Default::default()
            };
            call!(c, mark_duplicate_issue, request)
                .await
                .map_err(failed("marking a duplicate"))?
        }
    };
    let table = rows(s, std::slice::from_ref(&issue)).await;
    s.print("cogov.issues.v1.Issue", &issue, || table)
}
