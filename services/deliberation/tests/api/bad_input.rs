//! Bad input gets INVALID_ARGUMENT naming the field, and changes nothing.

use cogov_kit::convert::timestamp;
use cogov_proto::deliberation::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(bad_fields_are_named);

async fn bad_fields_are_named(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let council = |f: fn(&mut Council)| {
        let mut x = Council {
            display_name: "ok".into(),
            place: w.a1.clone(),
            ..Default::default()
        };
        f(&mut x);
        CreateCouncilRequest {
            council: Some(x),
            request_id: String::new(),
        }
    };
    for (req, field) in [
        (council(|x| x.display_name.clear()), "council.display_name"),
        (council(|x| x.place = "streets/x".into()), "council.place"),
        (council(|x| x.quorum_share = 1.5), "council.quorum_share"),
        (
            council(|x| x.support_threshold = -1),
            "council.support_threshold",
        ),
        (
            council(|x| x.quorum_required_kinds = vec![99]),
            "council.quorum_required_kinds[0]",
        ),
        (
            council(|x| x.description = "x".repeat(4001)),
            "council.description",
        ),
    ] {
        assert_bad_field(c.create_council(req).await, field);
    }
    assert_bad_field(
        c.create_council(CreateCouncilRequest {
            council: Some(Council {
                display_name: "ok".into(),
                place: w.a1.clone(),
                ..Default::default()
            }),
            request_id: "not-a-uuid".into(),
        })
        .await,
        "request_id",
    );

    let seat_req = |f: fn(&mut Seat)| {
        let mut s = Seat {
            person: w.persons[PLAIN].clone(),
            kind: SeatKind::Volunteer as i32,
            start_date: date(2026, 5, 1),
            ..Default::default()
        };
        f(&mut s);
        CreateSeatRequest {
            parent: w.council.clone(),
            seat: Some(s),
            request_id: String::new(),
        }
    };
    for (req, field) in [
        (seat_req(|s| s.kind = 0), "seat.kind"),
        (seat_req(|s| s.person = "people/1".into()), "seat.person"),
        (seat_req(|s| s.start_date = None), "seat.start_date"),
        (
            seat_req(|s| s.start_date = date(2026, 2, 30)),
            "seat.start_date",
        ),
        (seat_req(|s| s.end_date = date(2026, 4, 1)), "seat.end_date"),
        (
            seat_req(|s| s.person = format!("persons/{}", uuid::Uuid::now_v7())),
            "seat.person",
        ),
    ] {
        assert_bad_field(c.create_seat(req).await, field);
    }

    let topic_req = |f: fn(&mut Topic)| {
        let mut t = Topic {
            council: w.council.clone(),
            title: "ok".into(),
            ..Default::default()
        };
        f(&mut t);
        CreateTopicRequest {
            topic: Some(t),
            request_id: String::new(),
        }
    };
    for (req, field) in [
        (topic_req(|t| t.title = "x".repeat(201)), "topic.title"),
        (topic_req(|t| t.title = "two\nlines".into()), "topic.title"),
        (topic_req(|t| t.council.clear()), "topic.council"),
        (
            topic_req(|t| t.evidence_issues = vec!["tickets/1".into()]),
            "topic.evidence_issues[0]",
        ),
        (topic_req(|t| t.cluster = "x".into()), "topic.cluster"),
    ] {
        assert_bad_field(c.create_topic(req).await, field);
    }

    let t = topic(&mut c, &w.council, "Polls", TopicState::InDiscussion).await;
    let close = Some(timestamp(start_time() + chrono::Duration::days(3)));
    let poll_req = |f: &dyn Fn(&mut Poll)| {
        let mut p = Poll {
            topic: t.name.clone(),
            title: "ok".into(),
            method: PollMethod::Choose as i32,
            options: vec![
                PollOption {
                    key: "a".into(),
                    title: "A".into(),
                    time: None,
                },
                PollOption {
                    key: "b".into(),
                    title: "B".into(),
                    time: None,
                },
            ],
            close_time: close,
            eligibility: Eligibility::CouncilVotingSeats as i32,
            ..Default::default()
        };
        f(&mut p);
        CreatePollRequest {
            poll: Some(p),
            request_id: String::new(),
        }
    };
    for (req, field) in [
        (poll_req(&|p| p.method = 0), "poll.method"),
        (poll_req(&|p| p.options.truncate(1)), "poll.options"),
        (
            poll_req(&|p| p.options[1].key = "a".into()),
            "poll.options[1].key",
        ),
        (
            poll_req(&|p| p.options[0].key = "Has Space".into()),
            "poll.options[0].key",
        ),
        (poll_req(&|p| p.max_choices = 3), "poll.max_choices"),
        (poll_req(&|p| p.close_time = None), "poll.close_time"),
        (poll_req(&|p| p.eligibility = 0), "poll.eligibility"),
        (
            poll_req(&|p| p.eligibility = Eligibility::NamedList as i32),
            "poll.eligible_persons",
        ),
        (poll_req(&|p| p.quorum_percent = 101), "poll.quorum_percent"),
        (
            poll_req(&|p| {
                p.method = PollMethod::Proposal as i32;
                p.options[0].key = "yes".into();
            }),
            "poll.options",
        ),
        (
            poll_req(&|p| p.method = PollMethod::TimePoll as i32),
            "poll.options[0].time",
        ),
        (
            poll_req(&|p| p.method = PollMethod::DotVote as i32),
            "poll.dots_per_voter",
        ),
        (
            poll_req(&|p| p.method = PollMethod::Count as i32),
            "poll.options",
        ),
    ] {
        assert_bad_field(c.create_poll(req).await, field);
    }
    // A poll must close in the future to open.
    let p = c.create_poll(poll_req(&|_| {})).await.unwrap().into_inner();
    env.clock.advance(chrono::Duration::days(4));
    assert_bad_field(
        c.open_poll(OpenPollRequest {
            name: p.name.clone(),
            ..Default::default()
        })
        .await,
        "poll.close_time",
    );
    // Bad names and filters.
    assert_bad_field(
        c.get_topic(GetTopicRequest {
            name: "topics/nope".into(),
        })
        .await,
        "name",
    );
    assert_bad_field(
        c.list_topics(ListTopicsRequest {
            filter: "state = NOT_A_STATE".into(),
            ..Default::default()
        })
        .await,
        "filter",
    );
    assert_bad_field(
        c.list_topics(ListTopicsRequest {
            order_by: "title".into(),
            ..Default::default()
        })
        .await,
        "order_by",
    );
    assert_bad_field(
        c.support_topic(SupportTopicRequest {
            name: t.name.clone(),
            supporter: "x".into(),
        })
        .await,
        "supporter",
    );
    assert_bad_field(
        c.list_seats(ListSeatsRequest {
            parent: w.council.clone(),
            filter: "active = maybe".into(),
            ..Default::default()
        })
        .await,
        "filter",
    );
    // Nothing was created by any of it.
    let topics = c
        .list_topics(ListTopicsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .topics;
    assert_eq!(topics.len(), 1);
    let polls = c
        .list_polls(ListPollsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .polls;
    assert_eq!(polls.len(), 1);
    let councils = c
        .list_councils(ListCouncilsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .councils;
    assert_eq!(councils.len(), 2);
    assert_status(
        c.get_council(GetCouncilRequest {
            name: format!("councils/{}", uuid::Uuid::now_v7()),
        })
        .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
}
