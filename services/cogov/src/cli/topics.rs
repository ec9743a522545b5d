//! `cogov topics …`.

use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::*;

use super::{Paging, Session, failed, list, short, table};

/// Council work.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List topics (newest first).
    List {
        /// AIP-160 filter, e.g. `state = VOTING`.
        #[arg(long, default_value = "")]
        filter: String,
        #[command(flatten)]
        paging: Paging,
    },
    /// List a topic's polls.
    Polls {
        /// `topics/{id}`.
        topic: String,
    },
    /// Cast (or change) a ballot: `--choice agree`, or `--choice a=1
    /// --choice b=2` for ranks, scores and dots.
    Vote {
        /// `polls/{id}`.
        poll: String,
        /// `persons/{id}`: yourself, or the voter whose proxy you hold.
        #[arg(long)]
        voter: String,
        /// `option` or `option=value`, repeated.
        #[arg(long = "choice", required = true)]
        choices: Vec<String>,
        /// `persons/{id}` holding the proxy, for a proxy ballot.
        #[arg(long, default_value = "")]
        proxy_holder: String,
    },
}

fn choice(text: &str) -> Result<Choice, String> {
    let (option, value) = match text.split_once('=') {
        Some((o, v)) => (
            o,
            v.parse()
                .map_err(|_| format!("{text}: the value after `=` is a number"))?,
        ),
        None => (text, 1),
    };
    Ok(Choice {
        option: option.into(),
        value,
    })
}

/// Runs `cogov topics …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let mut c = DeliberationServiceClient::with_interceptor(channel, bearer);
    match command {
        Command::List { filter, paging } => {
            let request = ListTopicsRequest {
                filter,
                ..Default::default()
            };
            let r = list!(c, list_topics, request, topics, paging, "listing topics");
            s.print("cogov.deliberation.v1.ListTopicsResponse", &r, || {
                let mut t = table(&["NAME", "STATE", "SUPPORT", "TITLE"]);
                for x in &r.topics {
                    t.add_row(vec![
                        x.name.clone(),
                        short(
                            TopicState::try_from(x.state)
                                .unwrap_or_default()
                                .as_str_name(),
                            "TOPIC_STATE_",
                        ),
                        format!("{}/{}", x.support_count, x.support_threshold),
                        x.title.clone(),
                    ]);
                }
                t
            })
        }
        Command::Polls { topic } => {
            let r = c
                .list_polls(ListPollsRequest {
                    filter: format!("topic = {topic}"),
                    ..Default::default()
                })
                .await
                .map_err(failed("listing polls"))?
                .into_inner();
            s.print("cogov.deliberation.v1.ListPollsResponse", &r, || {
                let mut t = table(&["NAME", "STATE", "METHOD", "OPTIONS", "TITLE"]);
                for p in &r.polls {
                    t.add_row(vec![
                        p.name.clone(),
                        short(
                            PollState::try_from(p.state)
                                .unwrap_or_default()
                                .as_str_name(),
                            "POLL_STATE_",
                        ),
                        short(
                            PollMethod::try_from(p.method)
                                .unwrap_or_default()
                                .as_str_name(),
                            "POLL_METHOD_",
                        ),
                        p.options
                            .iter()
                            .map(|o| o.key.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        p.title.clone(),
                    ]);
                }
                t
            })
        }
        Command::Vote {
            poll,
            voter,
            choices,
            proxy_holder,
        } => {
            let choices = choices
                .iter()
                .map(|c| choice(c))
                .collect::<Result<Vec<_>, _>>()?;
            let b = c
                .cast_vote(CastVoteRequest {
                    poll,
                    voter,
                    choices,
                    proxy_holder,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    ..Default::default()
                })
                .await
                .map_err(failed("voting"))?
                .into_inner();
            s.print("cogov.deliberation.v1.Ballot", &b, || {
                let mut t = table(&["BALLOT", "CHOICES"]);
                t.add_row(vec![
                    b.name.clone(),
                    b.choices
                        .iter()
                        .map(|c| format!("{}={}", c.option, c.value))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]);
                t
            })
        }
    }
}
