//! The authorisation matrix: every RPC of the deliberation service,
//! enumerated from the descriptor set, called by every kind of principal
//! on courtyard a1's council.
//!
//! Principals, in column order: street admin; community admin of A; of B;
//! firm A (serves a1, its manager holds a seat); firm B (serves b1 only);
//! the area unit (co-builds with all of A); the council's secretary; a
//! resident of a1 without a seat; a resident of b1; no credentials.

use std::sync::Arc;

use cogov_kit::convert::timestamp;
use cogov_kit::testing::matrix::{done, listed};
use cogov_proto::deliberation::*;

use crate::support::*;

struct Fixture {
    w: World,
    plain_client: Client,
    now: chrono::DateTime<chrono::Utc>,
}

type Case = cogov_kit::testing::matrix::Case<Client, Fixture>;

macro_rules! case {
    ($method:literal, $expect:expr, |$c:ident, $f:ident, $admin:ident| $body:expr) => {
        cogov_kit::authz_case!(Client, Fixture, $method, $expect, |$c, $f, $admin| $body)
    };
}

/// Who sees a1's council and what is in it.
const VISIBLE: &str = "ok ok deny ok deny ok ok ok deny anon";
/// The same for lists: `hid` where the target is left out.
const LISTED: &str = "ok ok hid ok hid ok ok ok hid anon";
/// Who runs a1's council: staff of A and the secretary.
const MANAGERS: &str = "ok ok deny deny deny deny ok deny deny anon";
/// Staff of A only.
const STAFF: &str = "ok ok deny deny deny deny deny deny deny anon";
/// Managers, and the resident acting for themselves.
const SELF_OR_MANAGERS: &str = "ok ok deny deny deny deny ok ok deny anon";

async fn fresh_topic(admin: &mut Client, f: &Fixture, state: TopicState) -> Topic {
    topic(admin, &f.w.council, "case", state).await
}

async fn fresh_poll(admin: &mut Client, f: &Fixture, open: bool) -> Poll {
    let t = fresh_topic(admin, f, TopicState::InDiscussion).await;
    let p = Poll {
        topic: t.name.clone(),
        title: "case".into(),
        method: PollMethod::Proposal as i32,
        close_time: Some(timestamp(f.now + chrono::Duration::days(3))),
        eligibility: Eligibility::CouncilVotingSeats as i32,
        ..Default::default()
    };
    if open {
        return open_poll(admin, &t.name, p).await;
    }
    admin
        .create_poll(CreatePollRequest {
            poll: Some(p),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn meeting_request(f: &Fixture) -> CreateMeetingRequest {
    CreateMeetingRequest {
        meeting: Some(Meeting {
            council: f.w.council.clone(),
            title: "case".into(),
            mode: MeetingMode::Online as i32,
            online_url: "https://meet.example.org/x".into(),
            start_time: Some(timestamp(f.now + chrono::Duration::hours(1))),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn fresh_meeting(admin: &mut Client, f: &Fixture, started: bool) -> Meeting {
    let m = admin
        .create_meeting(meeting_request(f))
        .await
        .unwrap()
        .into_inner();
    if !started {
        return m;
    }
    admin
        .start_meeting(StartMeetingRequest {
            name: m.name,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn fresh_resolution(admin: &mut Client, f: &Fixture) -> Resolution {
    let t = fresh_topic(admin, f, TopicState::InDiscussion).await;
    admin
        .create_resolution(CreateResolutionRequest {
            resolution: Some(Resolution {
                topic: t.name,
                statement: "case".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn item_request(
    f: &Fixture,
    resolution: &str,
    status: ActionItemStatus,
) -> CreateActionItemRequest {
    CreateActionItemRequest {
        parent: resolution.into(),
        action_item: Some(ActionItem {
            description: "case".into(),
            owner: f.w.firm_b.clone(),
            due_date: date(2026, 7, 1),
            status: status as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

/// An action item of a1's council owned by firm B (out of its reach).
async fn fresh_item(admin: &mut Client, f: &Fixture) -> ActionItem {
    let r = fresh_resolution(admin, f).await;
    admin
        .create_action_item(item_request(f, &r.name, ActionItemStatus::NotStarted))
        .await
        .unwrap()
        .into_inner()
}

fn opinion(f: &Fixture, topic: &str) -> CreateOpinionRequest {
    CreateOpinionRequest {
        parent: topic.into(),
        opinion: Some(Opinion {
            author: f.w.person(PLAIN).into(),
            stance: Stance::Support as i32,
            text: "case".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn council_request(f: &Fixture) -> CreateCouncilRequest {
    CreateCouncilRequest {
        council: Some(Council {
            display_name: "case".into(),
            place: f.w.a1.clone(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn cases() -> Vec<Case> {
    vec![
        case!("GetCouncil", VISIBLE, |c, f, a| c
            .get_council(GetCouncilRequest {
                name: f.w.council.clone(),
            })
            .await
            .map(done)),
        case!("ListCouncils", LISTED, |c, f, a| c
            .list_councils(ListCouncilsRequest::default())
            .await
            .map(|r| listed(
                r.into_inner().councils.into_iter().map(|x| x.name),
                &f.w.council
            ))),
        case!("CreateCouncil", STAFF, |c, f, a| c
            .create_council(council_request(&f))
            .await
            .map(done)),
        case!("UpdateCouncil", STAFF, |c, f, a| c
            .update_council(UpdateCouncilRequest {
                council: Some(Council {
                    name: f.w.council.clone(),
                    description: "case".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            })
            .await
            .map(done)),
        case!("DeleteCouncil", STAFF, |c, f, a| {
            let x = a
                .create_council(council_request(&f))
                .await
                .unwrap()
                .into_inner();
            c.delete_council(DeleteCouncilRequest {
                name: x.name,
                etag: String::new(),
            })
            .await
            .map(done)
        }),
        case!("CheckCouncilComposition", VISIBLE, |c, f, a| c
            .check_council_composition(CheckCouncilCompositionRequest {
                name: f.w.council.clone(),
            })
            .await
            .map(done)),
        case!("GetCouncilStatistics", VISIBLE, |c, f, a| c
            .get_council_statistics(GetCouncilStatisticsRequest {
                name: f.w.council.clone(),
            })
            .await
            .map(done)),
        case!("GetSeat", VISIBLE, |c, f, a| {
            let s = a
                .list_seats(ListSeatsRequest {
                    parent: f.w.council.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .seats
                .remove(0);
            c.get_seat(GetSeatRequest { name: s.name }).await.map(done)
        }),
        case!("ListSeats", VISIBLE, |c, f, a| c
            .list_seats(ListSeatsRequest {
                parent: f.w.council.clone(),
                ..Default::default()
            })
            .await
            .map(done)),
        case!("CreateSeat", STAFF, |c, f, a| {
            let end = date(2026, 5, 2);
            c.create_seat(CreateSeatRequest {
                parent: f.w.council.clone(),
                seat: Some(Seat {
                    person: f.w.person(PLAIN + 1).into(),
                    kind: SeatKind::Backbone as i32,
                    start_date: date(2026, 5, 1),
                    end_date: end,
                    ..Default::default()
                }),
                request_id: request_id(),
            })
            .await
            .map(done)
            .or_else(|s| {
                // Earlier principals' seats overlap this one: that is an ok.
                if s.code() == tonic::Code::AlreadyExists {
                    Ok(done(()))
                } else {
                    Err(s)
                }
            })
        }),
        case!("UpdateSeat", STAFF, |c, f, a| {
            let s = a
                .list_seats(ListSeatsRequest {
                    parent: f.w.council.clone(),
                    filter: "kind = EXPERT_ADVISER".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .seats
                .remove(0);
            c.update_seat(UpdateSeatRequest {
                seat: Some(Seat {
                    name: s.name,
                    end_date: date(2027, 5, 1),
                    ..Default::default()
                }),
                update_mask: mask(&["end_date"]),
            })
            .await
            .map(done)
        }),
        case!("DeleteSeat", STAFF, |c, f, a| {
            let s = seat(
                &mut a,
                &f.w.council,
                f.w.person(PLAIN),
                SeatKind::Volunteer,
                "",
            )
            .await
            .unwrap();
            let out = c
                .delete_seat(DeleteSeatRequest {
                    name: s.name.clone(),
                    etag: String::new(),
                })
                .await
                .map(done);
            if out.is_err() {
                a.delete_seat(DeleteSeatRequest {
                    name: s.name,
                    etag: String::new(),
                })
                .await
                .unwrap();
            }
            out
        }),
        case!("GetTopic", VISIBLE, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::Proposed).await;
            c.get_topic(GetTopicRequest { name: t.name })
                .await
                .map(done)
        }),
        case!("ListTopics", LISTED, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::Proposed).await;
            c.list_topics(ListTopicsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| listed(r.into_inner().topics.into_iter().map(|x| x.name), &t.name))
        }),
        case!("CreateTopic", VISIBLE, |c, f, a| c
            .create_topic(CreateTopicRequest {
                topic: Some(Topic {
                    council: f.w.council.clone(),
                    title: "case".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .map(done)),
        case!("UpdateTopic", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::Proposed).await;
            c.update_topic(UpdateTopicRequest {
                topic: Some(Topic {
                    name: t.name,
                    title: "edited".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["title"]),
            })
            .await
            .map(done)
        }),
        case!("SupportTopic", SELF_OR_MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::Proposed).await;
            c.support_topic(SupportTopicRequest {
                name: t.name,
                supporter: f.w.person(PLAIN).into(),
            })
            .await
            .map(done)
        }),
        case!("ScheduleTopic", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::Proposed).await;
            c.schedule_topic(ScheduleTopicRequest {
                name: t.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("OpenTopicDiscussion", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::OnAgenda).await;
            c.open_topic_discussion(OpenTopicDiscussionRequest {
                name: t.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("RejectTopic", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::Proposed).await;
            c.reject_topic(RejectTopicRequest {
                name: t.name,
                reason: "case".into(),
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("WithdrawTopic", SELF_OR_MANAGERS, |c, f, a| {
            // Proposed by the resident of a1 without a seat.
            let t = f
                .plain()
                .create_topic(CreateTopicRequest {
                    topic: Some(Topic {
                        council: f.w.council.clone(),
                        title: "mine".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .unwrap()
                .into_inner();
            c.withdraw_topic(WithdrawTopicRequest {
                name: t.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("CompleteTopic", MANAGERS, |c, f, a| {
            let r = fresh_resolution(&mut a, &f).await;
            a.create_action_item(item_request(&f, &r.name, ActionItemStatus::Done))
                .await
                .unwrap();
            c.complete_topic(CompleteTopicRequest {
                name: r.topic,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("CreateOpinion", SELF_OR_MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::InDiscussion).await;
            c.create_opinion(opinion(&f, &t.name)).await.map(done)
        }),
        case!("ListOpinions", LISTED, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::InDiscussion).await;
            let o = a
                .create_opinion(opinion(&f, &t.name))
                .await
                .unwrap()
                .into_inner();
            match c
                .list_opinions(ListOpinionsRequest {
                    parent: t.name,
                    ..Default::default()
                })
                .await
            {
                Ok(r) => Ok(listed(
                    r.into_inner().opinions.into_iter().map(|x| x.name),
                    &o.name,
                )),
                // Out of reach, the list itself is refused: as good as hidden.
                Err(s) if s.code() == tonic::Code::PermissionDenied => {
                    Ok(listed(Vec::new(), &o.name))
                }
                Err(s) => Err(s),
            }
        }),
        case!("HideOpinion", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::InDiscussion).await;
            let o = a
                .create_opinion(opinion(&f, &t.name))
                .await
                .unwrap()
                .into_inner();
            c.hide_opinion(HideOpinionRequest {
                name: o.name,
                reason: "case".into(),
            })
            .await
            .map(done)
        }),
        case!("GetMeeting", VISIBLE, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, false).await;
            c.get_meeting(GetMeetingRequest { name: m.name })
                .await
                .map(done)
        }),
        case!("ListMeetings", LISTED, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, false).await;
            c.list_meetings(ListMeetingsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| listed(r.into_inner().meetings.into_iter().map(|x| x.name), &m.name))
        }),
        case!("CreateMeeting", MANAGERS, |c, f, a| c
            .create_meeting(meeting_request(&f))
            .await
            .map(done)),
        case!("UpdateMeeting", MANAGERS, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, false).await;
            c.update_meeting(UpdateMeetingRequest {
                meeting: Some(Meeting {
                    name: m.name,
                    title: "renamed".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["title"]),
            })
            .await
            .map(done)
        }),
        case!("StartMeeting", MANAGERS, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, false).await;
            c.start_meeting(StartMeetingRequest {
                name: m.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("EndMeeting", MANAGERS, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, true).await;
            c.end_meeting(EndMeetingRequest {
                name: m.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("CancelMeeting", MANAGERS, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, false).await;
            c.cancel_meeting(CancelMeetingRequest {
                name: m.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!(
            "CreateAttendance",
            "ok ok deny ok deny deny ok deny deny anon",
            |c, f, a| {
                // The property manager, seated for firm A.
                let m = fresh_meeting(&mut a, &f, true).await;
                c.create_attendance(CreateAttendanceRequest {
                    parent: m.name,
                    attendance: Some(Attendance {
                        person: f.w.person(PROPERTY_MANAGER).into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!("ListAttendances", VISIBLE, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, true).await;
            c.list_attendances(ListAttendancesRequest {
                parent: m.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("CheckQuorum", VISIBLE, |c, f, a| {
            let m = fresh_meeting(&mut a, &f, true).await;
            c.check_quorum(CheckQuorumRequest { name: m.name })
                .await
                .map(done)
        }),
        case!("GetPoll", VISIBLE, |c, f, a| {
            let p = fresh_poll(&mut a, &f, false).await;
            c.get_poll(GetPollRequest { name: p.name }).await.map(done)
        }),
        case!("ListPolls", LISTED, |c, f, a| {
            let p = fresh_poll(&mut a, &f, false).await;
            c.list_polls(ListPollsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| listed(r.into_inner().polls.into_iter().map(|x| x.name), &p.name))
        }),
        case!("CreatePoll", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::InDiscussion).await;
            c.create_poll(CreatePollRequest {
                poll: Some(Poll {
                    topic: t.name,
                    title: "case".into(),
                    method: PollMethod::Consent as i32,
                    close_time: Some(timestamp(f.now + chrono::Duration::days(3))),
                    eligibility: Eligibility::CouncilVotingSeats as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .map(done)
        }),
        case!("UpdatePoll", MANAGERS, |c, f, a| {
            let p = fresh_poll(&mut a, &f, false).await;
            c.update_poll(UpdatePollRequest {
                poll: Some(Poll {
                    name: p.name,
                    title: "renamed".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["title"]),
            })
            .await
            .map(done)
        }),
        case!("OpenPoll", MANAGERS, |c, f, a| {
            let p = fresh_poll(&mut a, &f, false).await;
            c.open_poll(OpenPollRequest {
                name: p.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("ClosePoll", MANAGERS, |c, f, a| {
            let p = fresh_poll(&mut a, &f, true).await;
            c.close_poll(ClosePollRequest {
                name: p.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!(
            "CastVote",
            "deny deny deny deny deny deny ok deny deny anon",
            |c, f, a| {
                // The secretary's own ballot: nobody else casts it.
                let p = fresh_poll(&mut a, &f, true).await;
                c.cast_vote(CastVoteRequest {
                    poll: p.name,
                    voter: f.w.person(SECRETARY).into(),
                    choices: vec![choice("agree", 1)],
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!("ListBallots", VISIBLE, |c, f, a| {
            let p = fresh_poll(&mut a, &f, true).await;
            c.list_ballots(ListBallotsRequest {
                parent: p.name,
                ..Default::default()
            })
            .await
            .map(done)
        }),
        case!("CreateOfflineTally", MANAGERS, |c, f, a| {
            let p = fresh_poll(&mut a, &f, true).await;
            c.create_offline_tally(CreateOfflineTallyRequest {
                parent: p.name,
                offline_tally: Some(OfflineTally {
                    counts: [("agree".to_owned(), 2)].into(),
                    voters: 2,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .map(done)
        }),
        case!("GetPollResult", VISIBLE, |c, f, a| {
            let p = fresh_poll(&mut a, &f, true).await;
            c.get_poll_result(GetPollResultRequest { poll: p.name })
                .await
                .map(done)
        }),
        case!("GetResolution", VISIBLE, |c, f, a| {
            let r = fresh_resolution(&mut a, &f).await;
            c.get_resolution(GetResolutionRequest { name: r.name })
                .await
                .map(done)
        }),
        case!("ListResolutions", LISTED, |c, f, a| {
            let r = fresh_resolution(&mut a, &f).await;
            c.list_resolutions(ListResolutionsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|x| {
                listed(
                    x.into_inner().resolutions.into_iter().map(|x| x.name),
                    &r.name,
                )
            })
        }),
        case!("CreateResolution", MANAGERS, |c, f, a| {
            let t = fresh_topic(&mut a, &f, TopicState::InDiscussion).await;
            c.create_resolution(CreateResolutionRequest {
                resolution: Some(Resolution {
                    topic: t.name,
                    statement: "case".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .map(done)
        }),
        case!("UpdateResolution", MANAGERS, |c, f, a| {
            let r = fresh_resolution(&mut a, &f).await;
            c.update_resolution(UpdateResolutionRequest {
                resolution: Some(Resolution {
                    name: r.name,
                    statement: "amended".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["statement"]),
            })
            .await
            .map(done)
        }),
        case!(
            "GetActionItem",
            "ok ok deny ok ok ok ok ok deny anon",
            |c, f, a| {
                let i = fresh_item(&mut a, &f).await;
                c.get_action_item(GetActionItemRequest { name: i.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListActionItems",
            "ok ok hid ok ok ok ok ok hid anon",
            |c, f, a| {
                let i = fresh_item(&mut a, &f).await;
                c.list_action_items(ListActionItemsRequest {
                    parent: "resolutions/-".into(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map(|r| {
                    listed(
                        r.into_inner().action_items.into_iter().map(|x| x.name),
                        &i.name,
                    )
                })
            }
        ),
        case!("CreateActionItem", MANAGERS, |c, f, a| {
            let r = fresh_resolution(&mut a, &f).await;
            c.create_action_item(item_request(&f, &r.name, ActionItemStatus::NotStarted))
                .await
                .map(done)
        }),
        case!(
            "UpdateActionItem",
            "ok ok deny deny ok deny ok deny deny anon",
            |c, f, a| {
                // Firm B owns it: it reports progress though out of reach.
                let i = fresh_item(&mut a, &f).await;
                c.update_action_item(UpdateActionItemRequest {
                    action_item: Some(ActionItem {
                        name: i.name,
                        progress: 30,
                        ..Default::default()
                    }),
                    update_mask: mask(&["progress"]),
                })
                .await
                .map(done)
            }
        ),
    ]
}

impl Fixture {
    /// The resident of a1 without a seat.
    fn plain(&self) -> Client {
        self.plain_client.clone()
    }
}

#[test]
fn every_rpc_has_a_case() {
    cogov_kit::testing::matrix::assert_covers(
        &cases(),
        "cogov.deliberation.v1",
        "DeliberationService",
    );
}

crate::both!(matrix);

async fn matrix(env: Env) {
    let w = World::build(&env).await;
    let principals: Vec<(&str, Client)> = vec![
        ("street admin", env.admin()),
        (
            "community admin of A",
            env.client(community_admin(&w.community_a)),
        ),
        (
            "community admin of B",
            env.client(community_admin(&w.community_b)),
        ),
        ("firm A", env.client(partner(&w.firm_a))),
        ("firm B", env.client(partner(&w.firm_b))),
        ("area unit", env.client(partner(&w.unit))),
        ("secretary", env.as_person(w.person(SECRETARY))),
        ("resident of a1", env.as_person(w.person(PLAIN))),
        ("resident of b1", env.as_person(&w.outsider)),
        ("no credentials", env.anonymous()),
    ];
    let fixture = Arc::new(Fixture {
        plain_client: env.as_person(w.person(PLAIN)),
        now: env.clock.now(),
        w,
    });
    cogov_kit::testing::matrix::run(cases(), &principals, &env.admin(), fixture).await;
}
