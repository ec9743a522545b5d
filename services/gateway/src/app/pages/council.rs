//! The council: what the resident's community's council has on its table,
//! a topic with its co-signatures and discussion (stances and replies;
//! authors shown as "a resident", never by name), and its polls — a ballot
//! in whichever of the eight methods the poll uses, each with an input that
//! fits it, and the result when the poll lets it be seen.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::deliberation::*;
use http::StatusCode;
use serde::Deserialize;

use super::reports::Paging;
use super::{me, path_id};
use crate::app::view::{Failure, Frame, id_of, render, time, url_encode};
use crate::app::{Resident, Shared};
use crate::console::i18n::Catalog;

fn topic_state(t: &Catalog, state: i32) -> String {
    t.label(
        TopicState::try_from(state)
            .unwrap_or_default()
            .as_str_name(),
    )
}

/// A topic in the list.
pub struct TopicCard {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Where it stands, in words.
    pub state: String,
    /// Co-signatures of the threshold, while it is proposed.
    pub support: String,
}

/// An open poll in the list.
pub struct PollCard {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its method, in words.
    pub method: String,
    /// When it closes.
    pub closes: String,
}

fn poll_card(t: &Catalog, p: &Poll) -> PollCard {
    PollCard {
        id: id_of(&p.name).to_owned(),
        title: p.title.clone(),
        method: t.label(
            PollMethod::try_from(p.method)
                .unwrap_or_default()
                .as_str_name(),
        ),
        closes: time(p.close_time.as_ref()),
    }
}

#[derive(Template)]
#[template(path = "app/council.html")]
struct CouncilPage {
    f: Frame,
    polls: Vec<PollCard>,
    topics: Vec<TopicCard>,
    next_page: String,
}

/// GET /app/council: open polls, then the community's topics.
pub async fn page(
    State(_app): State<Shared>,
    resident: Resident,
    Query(paging): Query<Paging>,
) -> Result<Response, Failure> {
    let f = Frame::new(&resident, "council");
    let t = f.t;
    let person = me(&resident.calls, resident.person).await?;
    let calls = &resident.calls;
    let (polls, topics) = tokio::try_join!(
        async {
            calls
                .deliberation()
                .list_polls(ListPollsRequest {
                    page_size: 20,
                    filter: format!("state = {}", PollState::Open.as_str_name()),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().polls)
                .map_err(Failure::from)
        },
        async {
            calls
                .deliberation()
                .list_topics(ListTopicsRequest {
                    page_size: 20,
                    page_token: paging.page.clone(),
                    filter: format!("community = \"{}\"", person.community),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner())
                .map_err(Failure::from)
        },
    )?;
    let next_page = if topics.next_page_token.is_empty() {
        String::new()
    } else {
        format!("/app/council?page={}", url_encode(&topics.next_page_token))
    };
    let view = CouncilPage {
        polls: polls.iter().map(|p| poll_card(t, p)).collect(),
        topics: topics
            .topics
            .iter()
            .map(|topic| TopicCard {
                id: id_of(&topic.name).to_owned(),
                title: topic.title.clone(),
                state: topic_state(t, topic.state),
                support: if topic.state == TopicState::Proposed as i32 {
                    t.fmt(
                        "council.support",
                        &[&topic.support_count, &topic.support_threshold],
                    )
                } else {
                    String::new()
                },
            })
            .collect(),
        next_page,
        f,
    };
    Ok(render(&view))
}

/// An opinion, with the replies to it.
pub struct OpinionView {
    /// Its id (to reply to).
    pub id: String,
    /// Its stance, in words.
    pub stance: String,
    /// Its stance's name, for its badge.
    pub stance_class: &'static str,
    /// Who: "you" or "a resident" (never a name).
    pub who: String,
    /// What they said.
    pub text: String,
    /// When.
    pub time: String,
    /// Replies, oldest first.
    pub replies: Vec<OpinionView>,
}

#[derive(Template)]
#[template(path = "app/topic.html")]
struct TopicPage {
    f: Frame,
    id: String,
    title: String,
    description: String,
    state: String,
    support: String,
    can_support: bool,
    can_discuss: bool,
    polls: Vec<PollCard>,
    opinions: Vec<OpinionView>,
    next_page: String,
    request_id: String,
    stances: Vec<(String, String)>,
}

const STANCES: [Stance; 4] = [
    Stance::Support,
    Stance::Oppose,
    Stance::Neutral,
    Stance::Concern,
];

/// Opinions shown on a topic's page, with their replies.
const OPINIONS_PER_PAGE: i32 = 30;

/// GET /app/topics/{id}.
pub async fn topic(
    State(_app): State<Shared>,
    resident: Resident,
    Path(id): Path<String>,
    Query(paging): Query<Paging>,
) -> Result<Response, Failure> {
    let id = path_id(&id)?;
    let f = Frame::new(&resident, "council");
    let t = f.t;
    let name = cogov_kit::names::format("topics", id);
    let calls = &resident.calls;
    let (topic, polls, opinions) = tokio::try_join!(
        async {
            calls
                .deliberation()
                .get_topic(GetTopicRequest { name: name.clone() })
                .await
                .map(|r| r.into_inner())
                .map_err(Failure::from)
        },
        async {
            calls
                .deliberation()
                .list_polls(ListPollsRequest {
                    page_size: 50,
                    filter: format!("topic = \"{name}\""),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().polls)
                .map_err(Failure::from)
        },
        async {
            // A page of the opinions that answer none, oldest first.
            calls
                .deliberation()
                .list_opinions(ListOpinionsRequest {
                    parent: name.clone(),
                    page_size: OPINIONS_PER_PAGE,
                    page_token: paging.page.clone(),
                    filter: "reply_to = \"\"".into(),
                })
                .await
                .map(|r| r.into_inner())
                .map_err(Failure::from)
        },
    )?;
    // … and the replies to them: a filter holds at most 2,000 characters,
    // so a call per 15 opinions, side by side.
    let asks = opinions.opinions.chunks(15).map(|chunk| {
        let answering: Vec<String> = chunk
            .iter()
            .map(|o| format!("reply_to = \"{}\"", o.name))
            .collect();
        let mut c = calls.deliberation();
        let parent = name.clone();
        async move {
            c.list_opinions(ListOpinionsRequest {
                parent,
                page_size: 1000,
                page_token: String::new(),
                filter: answering.join(" OR "),
            })
            .await
            .map(|r| r.into_inner().opinions)
        }
    });
    let replies: Vec<Opinion> = futures_util::future::try_join_all(asks)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let next_page = if opinions.next_page_token.is_empty() {
        String::new()
    } else {
        format!(
            "/app/topics/{id}?page={}",
            url_encode(&opinions.next_page_token)
        )
    };
    let state = TopicState::try_from(topic.state).unwrap_or_default();
    let me = resident.person_name();
    let view_of = |o: &Opinion| OpinionView {
        id: id_of(&o.name).to_owned(),
        stance: t.label(Stance::try_from(o.stance).unwrap_or_default().as_str_name()),
        stance_class: match Stance::try_from(o.stance).unwrap_or_default() {
            Stance::Support => "done",
            Stance::Oppose => "new",
            Stance::Concern => "moving",
            _ => "closed",
        },
        who: if o.author == me {
            t.get("issue.by_you").to_owned()
        } else {
            t.get("issue.by_resident").to_owned()
        },
        text: o.text.clone(),
        time: time(o.create_time.as_ref()),
        replies: Vec::new(),
    };
    // Replies under what they answer.
    let mut threads: Vec<OpinionView> = Vec::new();
    let mut thread_of: HashMap<&str, usize> = HashMap::new();
    for o in opinions.opinions.iter().filter(|o| !o.hidden) {
        thread_of.insert(&o.name, threads.len());
        threads.push(view_of(o));
    }
    for r in replies.iter().filter(|r| !r.hidden) {
        if let Some(&at) = thread_of.get(r.reply_to.as_str()) {
            threads[at].replies.push(view_of(r));
        }
    }
    let view = TopicPage {
        id: id.to_string(),
        title: topic.title.clone(),
        description: topic.description.clone(),
        state: topic_state(t, topic.state),
        support: t.fmt(
            "council.support",
            &[&topic.support_count, &topic.support_threshold],
        ),
        can_support: state == TopicState::Proposed,
        can_discuss: matches!(
            state,
            TopicState::Proposed
                | TopicState::OnAgenda
                | TopicState::InDiscussion
                | TopicState::Voting
        ),
        polls: polls.iter().map(|p| poll_card(t, p)).collect(),
        opinions: threads,
        next_page,
        request_id: uuid::Uuid::new_v4().to_string(),
        stances: STANCES
            .iter()
            .map(|s| (s.as_str_name().to_owned(), t.label(s.as_str_name())))
            .collect(),
        f,
    };
    Ok(render(&view))
}

/// A step on a topic.
#[derive(Deserialize)]
pub struct TopicForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    stance: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    request_id: String,
}

/// POST /app/topics/{id}/{support|opinion}.
pub async fn topic_act(
    State(_app): State<Shared>,
    resident: Resident,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<TopicForm>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    let name = cogov_kit::names::format("topics", id);
    let back = format!("/app/topics/{id}");
    let mut deliberation = resident.calls.deliberation();
    let done = match action.as_str() {
        "support" => deliberation
            .support_topic(SupportTopicRequest {
                name,
                supporter: resident.person_name(),
            })
            .await
            .map(|_| ()),
        "opinion" => {
            let reply_to = if form.reply_to.is_empty() {
                String::new()
            } else {
                format!("{name}/opinions/{}", path_id(&form.reply_to)?)
            };
            deliberation
                .create_opinion(CreateOpinionRequest {
                    parent: name,
                    opinion: Some(Opinion {
                        author: resident.person_name(),
                        stance: Stance::from_str_name(&form.stance)
                            .map(|s| s as i32)
                            .unwrap_or_default(),
                        text: form.text.trim().to_owned(),
                        reply_to,
                        ..Default::default()
                    }),
                    request_id: form.request_id,
                })
                .await
                .map(|_| ())
        }
        _ => return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    };
    done.map_err(|s| Failure::from(s).back_to(back.clone()))?;
    Ok(Redirect::to(&back).into_response())
}

/// One option on a ballot, with the input its method needs.
pub struct OptionInput {
    /// Its key.
    pub key: String,
    /// Its title (for a time poll, with the time).
    pub title: String,
}

/// One option's line in the result.
pub struct ResultLine {
    /// Its title.
    pub title: String,
    /// The figure: votes, mean score, dots, share.
    pub figure: String,
    /// Its share of the bar, 0 to 100.
    pub width: u32,
    /// A winner.
    pub winner: bool,
}

#[derive(Template)]
#[template(path = "app/poll.html")]
struct PollPage {
    f: Frame,
    id: String,
    topic: String,
    title: String,
    details: String,
    method: &'static str,
    method_label: String,
    hint: String,
    closes: String,
    open: bool,
    options: Vec<OptionInput>,
    ranks: Vec<i32>,
    dots: i32,
    voted: bool,
    result: Option<(Vec<ResultLine>, String)>,
    request_id: String,
}

/// How a method is voted, for the template: one short word each.
fn method_word(m: PollMethod) -> &'static str {
    match m {
        PollMethod::Proposal | PollMethod::Consent | PollMethod::Count => "one",
        PollMethod::Choose => "many",
        PollMethod::Score => "score",
        PollMethod::RankedChoice => "rank",
        PollMethod::DotVote => "dots",
        PollMethod::TimePoll => "time",
        PollMethod::Unspecified => "none",
    }
}

/// How shown.
#[derive(Deserialize, Default)]
pub struct PollShown {
    #[serde(default)]
    voted: String,
}

/// GET /app/polls/{id}: the ballot, and the result when it may be seen.
pub async fn poll(
    State(_app): State<Shared>,
    resident: Resident,
    Path(id): Path<String>,
    Query(shown): Query<PollShown>,
) -> Result<Response, Failure> {
    let id = path_id(&id)?;
    let f = Frame::new(&resident, "council");
    let t = f.t;
    let name = cogov_kit::names::format("polls", id);
    let calls = &resident.calls;
    let poll = calls
        .deliberation()
        .get_poll(GetPollRequest { name: name.clone() })
        .await?
        .into_inner();
    // Not visible yet (before voting, before closing) is no failure.
    let result = calls
        .deliberation()
        .get_poll_result(GetPollResultRequest { poll: name.clone() })
        .await
        .ok()
        .map(|r| r.into_inner());
    let method = PollMethod::try_from(poll.method).unwrap_or_default();
    let title_of = |key: &str| {
        poll.options
            .iter()
            .find(|o| o.key == key)
            .map(option_title)
            .unwrap_or_else(|| key.to_owned())
    };
    let result = result.map(|r| {
        let lines: Vec<ResultLine> = r
            .options
            .iter()
            .map(|o| ResultLine {
                title: title_of(&o.option),
                figure: match method {
                    PollMethod::Score => t.fmt("poll.mean", &[&format!("{:.1}", o.mean)]),
                    PollMethod::DotVote => t.fmt("poll.dots_total", &[&o.total]),
                    _ => t.fmt("poll.voters", &[&o.voters]),
                },
                width: (o.share.clamp(0.0, 1.0) * 100.0).round() as u32,
                winner: r.winners.contains(&o.option),
            })
            .collect();
        let summary = t.fmt("poll.participants", &[&r.participants, &r.eligible])
            + if r.r#final {
                t.get("poll.final")
            } else {
                t.get("poll.so_far")
            };
        (lines, summary)
    });
    let hint = match method {
        PollMethod::Choose => t.fmt("poll.hint_choose", &[&poll.min_choices, &poll.max_choices]),
        PollMethod::DotVote => t.fmt("poll.hint_dots", &[&poll.dots_per_voter]),
        PollMethod::RankedChoice => t.get("poll.hint_rank").to_owned(),
        PollMethod::Score => t.get("poll.hint_score").to_owned(),
        PollMethod::TimePoll => t.get("poll.hint_time").to_owned(),
        PollMethod::Count => t.fmt("poll.hint_count", &[&poll.count_target]),
        _ => String::new(),
    };
    let view = PollPage {
        id: id.to_string(),
        topic: id_of(&poll.topic).to_owned(),
        title: poll.title.clone(),
        details: poll.details.clone(),
        method: method_word(method),
        method_label: t.label(method.as_str_name()),
        hint,
        closes: time(poll.close_time.as_ref()),
        open: poll.state == PollState::Open as i32,
        options: poll
            .options
            .iter()
            .map(|o| OptionInput {
                key: o.key.clone(),
                title: option_title(o),
            })
            .collect(),
        ranks: (1..=poll.options.len() as i32).collect(),
        dots: poll.dots_per_voter,
        voted: shown.voted == "1",
        result,
        request_id: uuid::Uuid::new_v4().to_string(),
        f,
    };
    Ok(render(&view))
}

/// An option's title; a time poll's with its time.
fn option_title(o: &PollOption) -> String {
    match &o.time {
        Some(i) => format!(
            "{} ({} – {})",
            o.title,
            time(i.start_time.as_ref()),
            time(i.end_time.as_ref())
        ),
        None => o.title.clone(),
    }
}

/// The choices a ballot form makes, by the poll's method: `choice` for
/// the options picked (one or many), else `<input>.<option key>` with a
/// number (score, rank, dots, or 2/1/0 for yes/maybe/no). An empty rank
/// or a zero is no choice.
pub fn choices(fields: &[(String, String)]) -> Result<Vec<Choice>, String> {
    let mut out = Vec::new();
    for (field, value) in fields {
        if field == "choice" {
            out.push(Choice {
                option: value.clone(),
                value: 1,
            });
            continue;
        }
        let Some((input, option)) = field.split_once('.') else {
            continue;
        };
        if !matches!(input, "score" | "rank" | "dots" | "time") || value.trim().is_empty() {
            continue;
        }
        let value: i32 = value
            .trim()
            .parse()
            .map_err(|_| format!("{field}: not a whole number"))?;
        // A score of 0 and a "no" are answers; unranked and no dots are not.
        if value == 0 && matches!(input, "rank" | "dots") {
            continue;
        }
        out.push(Choice {
            option: option.to_owned(),
            value,
        });
    }
    Ok(out)
}

/// POST /app/polls/{id}/vote.
pub async fn vote(
    State(_app): State<Shared>,
    resident: Resident,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    resident.check_form(&field("csrf"))?;
    let id = path_id(&id)?;
    let back = format!("/app/polls/{id}");
    let choices = choices(&fields).map_err(|_| {
        Failure::new(StatusCode::BAD_REQUEST, "error.invalid").back_to(back.clone())
    })?;
    resident
        .calls
        .deliberation()
        .cast_vote(CastVoteRequest {
            poll: cogov_kit::names::format("polls", id),
            voter: resident.person_name(),
            choices,
            reason: field("reason").trim().to_owned(),
            proxy_holder: String::new(),
            request_id: field("request_id"),
        })
        .await
        .map_err(|s| Failure::from(s).back_to(back.clone()))?;
    Ok(Redirect::to(&format!("{back}?voted=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_input_makes_its_choices() {
        let picked = choices(&form(&[("csrf", "x"), ("choice", "a"), ("choice", "b")])).unwrap();
        assert_eq!(
            picked
                .iter()
                .map(|c| (c.option.as_str(), c.value))
                .collect::<Vec<_>>(),
            [("a", 1), ("b", 1)]
        );
        let scored = choices(&form(&[("score.a", "0"), ("score.b", "5")])).unwrap();
        assert_eq!(scored.len(), 2, "a score of 0 is an answer");
        let ranked = choices(&form(&[("rank.a", "2"), ("rank.b", ""), ("rank.c", "1")])).unwrap();
        assert_eq!(
            ranked
                .iter()
                .map(|c| (c.option.as_str(), c.value))
                .collect::<Vec<_>>(),
            [("a", 2), ("c", 1)]
        );
        let dots = choices(&form(&[("dots.a", "3"), ("dots.b", "0")])).unwrap();
        assert_eq!(dots.len(), 1);
        let times = choices(&form(&[("time.a", "2"), ("time.b", "0")])).unwrap();
        assert_eq!(times.len(), 2, "a no is an answer");
        assert!(choices(&form(&[("dots.a", "lots")])).is_err());
        assert!(
            choices(&form(&[("reason", "because"), ("request_id", "r")]))
                .unwrap()
                .is_empty()
        );
    }
}
