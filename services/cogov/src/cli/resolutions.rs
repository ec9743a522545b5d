//! `cogov polls …` (hands counted at a meeting, results) and `cogov
//! resolutions …` (what a council decided, and the action items that carry
//! it out: 落地).

use std::collections::BTreeMap;

use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::*;

use super::reflect::{Column, print_list, print_one};
use super::{Paging, Session, call, enum_arg, failed, mask_of, show_list};

const RESOLUTION_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("STATE", "state"),
    ("PROGRESS", "progress"),
    ("COUNCIL", "council"),
    ("REVIEW", "review_date"),
    ("STATEMENT", "statement"),
];

const ACTION_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("STATUS", "status"),
    ("PROGRESS", "progress"),
    ("OWNER", "owner"),
    ("DUE", "due_date"),
    ("DESCRIPTION", "description"),
];

const OPTION_COLUMNS: &[Column] = &[
    ("OPTION", "option"),
    ("VOTERS", "voters"),
    ("TOTAL", "total"),
    ("SHARE", "share"),
];

/// Poll work beyond voting (see `cogov topics vote`).
#[derive(Debug, clap::Subcommand)]
pub enum PollCommand {
    /// Enter the hands counted at a meeting: `--count agree=12 --count
    /// disagree=3`.
    Tally {
        /// `polls/{id}`.
        poll: String,
        /// `meetings/{id}` where hands were counted.
        #[arg(long, default_value = "")]
        meeting: String,
        /// `option=hands`, repeated.
        #[arg(long = "count", required = true)]
        counts: Vec<String>,
        /// People who voted by hand.
        #[arg(long)]
        voters: i32,
    },
    /// The result: online and offline votes together.
    Result {
        /// `polls/{id}`.
        poll: String,
    },
}

/// Resolution work.
#[derive(Debug, clap::Subcommand)]
pub enum ResolutionCommand {
    /// List resolutions.
    List {
        /// AIP-160 filter, e.g. `state = IMPLEMENTING`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// One resolution.
    Get {
        /// `resolutions/{id}`.
        resolution: String,
    },
    /// Record what a council decided on a topic.
    Create {
        /// `topics/{id}`.
        #[arg(long)]
        topic: String,
        /// The decision, in words.
        #[arg(long)]
        statement: String,
        /// `polls/{id}` that decided it.
        #[arg(long, default_value = "")]
        poll: String,
        /// The option chosen.
        #[arg(long, default_value = "")]
        chosen_option: String,
    },
    /// A resolution's action items.
    Actions {
        /// `resolutions/{id}`.
        resolution: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// Add an action item.
    AddAction {
        /// `resolutions/{id}`.
        resolution: String,
        /// What is to be done.
        #[arg(long)]
        description: String,
        /// Who does it: `organizations/{id}` or `persons/{id}`.
        #[arg(long)]
        owner: String,
    },
    /// Report an action item's progress.
    Progress {
        /// `resolutions/{id}/actionItems/{id}`.
        action: String,
        /// 0 to 100.
        #[arg(long)]
        progress: Option<i32>,
        /// not-started, in-progress, done, blocked, cancelled.
        #[arg(long)]
        status: Option<String>,
        /// `issues/{id}` that carries it out.
        #[arg(long)]
        issue: Option<String>,
        /// A note.
        #[arg(long)]
        notes: Option<String>,
    },
}

/// `option=hands` pairs.
fn counts(pairs: &[String]) -> Result<BTreeMap<String, i32>, String> {
    pairs
        .iter()
        .map(|p| {
            let (option, hands) = p
                .split_once('=')
                .ok_or_else(|| format!("--count {p}: write option=hands"))?;
            let hands = hands
                .parse()
                .map_err(|_| format!("--count {p}: hands are a whole number"))?;
            Ok((option.to_owned(), hands))
        })
        .collect()
}

/// Runs `cogov polls …`.
pub async fn polls(s: &Session, command: PollCommand) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = DeliberationServiceClient::with_interceptor(channel, bearer);
    match command {
        PollCommand::Tally {
            poll,
            meeting,
            counts: pairs,
            voters,
        } => {
            let request = CreateOfflineTallyRequest {
                parent: poll,
                offline_tally: Some(OfflineTally {
                    meeting,
                    counts: counts(&pairs)?,
                    voters,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let t = call!(c, create_offline_tally, request)
                .await
                .map_err(failed("entering the tally"))?;
            print_one(s, &t).await
        }
        PollCommand::Result { poll } => {
            let r = call!(c, get_poll_result, GetPollResultRequest { poll })
                .await
                .map_err(failed("getting the result"))?;
            if !s.json() {
                println!(
                    "{}: {} of {} took part; quorum {}; {}{}",
                    r.poll,
                    r.participants,
                    r.eligible,
                    if r.quorum_met { "met" } else { "not met" },
                    if r.passed { "passed" } else { "not passed" },
                    if r.r#final { "" } else { " (not final)" },
                );
            }
            print_list(s, &r, "options", OPTION_COLUMNS).await
        }
    }
}

/// Runs `cogov resolutions …`.
pub async fn resolutions(s: &Session, command: ResolutionCommand) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = DeliberationServiceClient::with_interceptor(channel, bearer);
    let resolution = match command {
        ResolutionCommand::List { filter, paging } => {
            let request = ListResolutionsRequest {
                filter,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_resolutions,
                request,
                resolutions,
                paging,
                "listing resolutions",
                RESOLUTION_COLUMNS
            );
        }
        ResolutionCommand::Get { resolution } => {
            call!(c, get_resolution, GetResolutionRequest { name: resolution })
                .await
                .map_err(failed("getting the resolution"))?
        }
        ResolutionCommand::Create {
            topic,
            statement,
            poll,
            chosen_option,
        } => {
            let request = CreateResolutionRequest {
                resolution: Some(Resolution {
                    topic,
                    statement,
                    poll,
                    chosen_option,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            call!(c, create_resolution, request)
                .await
                .map_err(failed("recording the resolution"))?
        }
        ResolutionCommand::Actions { resolution, paging } => {
            let request = ListActionItemsRequest {
                parent: resolution,
                ..Default::default()
            };
            return show_list!(
                s,
                c,
                list_action_items,
                request,
                action_items,
                paging,
                "listing action items",
                ACTION_COLUMNS
            );
        }
        ResolutionCommand::AddAction {
            resolution,
            description,
            owner,
        } => {
            let request = CreateActionItemRequest {
                parent: resolution,
                action_item: Some(ActionItem {
                    description,
                    owner,
                    ..Default::default()
                }),
                request_id: uuid::Uuid::new_v4().to_string(),
            };
            let a = call!(c, create_action_item, request)
                .await
                .map_err(failed("adding the action item"))?;
            return print_one(s, &a).await;
        }
        ResolutionCommand::Progress {
            action,
            progress,
            status,
            issue,
            notes,
        } => {
            let mut item = ActionItem {
                name: action,
                ..Default::default()
            };
            let mut given = Vec::new();
            if let Some(p) = progress {
                item.progress = p;
                given.push("progress");
            }
            if let Some(text) = status {
                item.status = enum_arg(
                    "--status",
                    &text,
                    "ACTION_ITEM_STATUS_",
                    ActionItemStatus::from_str_name,
                )? as i32;
                given.push("status");
            }
            if let Some(i) = issue {
                item.issue = i;
                given.push("issue");
            }
            if let Some(n) = notes {
                item.notes = n;
                given.push("notes");
            }
            let request = UpdateActionItemRequest {
                action_item: Some(item),
                update_mask: mask_of(&given)?,
            };
            let a = call!(c, update_action_item, request)
                .await
                .map_err(failed("updating the action item"))?;
            return print_one(s, &a).await;
        }
    };
    print_one(s, &resolution).await
}
