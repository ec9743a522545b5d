//! Polls over gRPC: online, proxy and show-of-hands votes merged; ballots
//! changed and raced; results hidden until they may be seen; each method's
//! tally against hand-computed cases is in the `tally` unit tests.

use cogov_proto::deliberation::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    proposal_with_proxies_and_hands,
    ranked_choice_and_dots,
    concurrent_ballots_count_once,
    ballots_racing_the_close_are_in_or_refused,
    results_stay_hidden_until_allowed
);

async fn proposal_with_proxies_and_hands(env: Env) {
    let w = World::build(&env).await;
    let mut secretary = env.as_person(w.person(SECRETARY));
    let t = topic(
        &mut secretary,
        &w.council,
        "Paint the stamp wall",
        TopicState::InDiscussion,
    )
    .await;
    let p = open_poll(
        &mut secretary,
        &t.name,
        Poll {
            method: PollMethod::Proposal as i32,
            quorum_percent: 50,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(p.options.len(), 4, "agree, abstain, disagree, block");
    assert_eq!(p.state, PollState::Open as i32);
    // Everyone who may vote is told the poll opened.
    let told = cogov_kit::testing::notices_in_outbox(&env.db).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        told[0].kind,
        cogov_proto::common::NoticeKind::PollOpened as i32
    );
    assert_eq!(told[0].subject, p.name);
    assert!(told[0].persons.len() >= 3, "the voting seats: {told:?}");
    assert!(
        told[0]
            .persons
            .contains(&w.person(BUILDING_HEAD).to_owned())
    );
    let topic_now = secretary
        .get_topic(GetTopicRequest {
            name: t.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(topic_now.state, TopicState::Voting as i32);

    // Online: two agree, one disagrees and then changes their mind.
    vote(
        &env,
        &p.name,
        w.person(BUILDING_HEAD),
        vec![choice("agree", 1)],
    )
    .await
    .unwrap();
    vote(
        &env,
        &p.name,
        w.person(DOUBLE_REPORT),
        vec![choice("agree", 1)],
    )
    .await
    .unwrap();
    vote(
        &env,
        &p.name,
        w.person(BACKBONE),
        vec![choice("disagree", 1)],
    )
    .await
    .unwrap();
    let changed = vote(
        &env,
        &p.name,
        w.person(BACKBONE),
        vec![choice("abstain", 1)],
    )
    .await
    .unwrap();
    assert_eq!(changed.choices, [choice("abstain", 1)]);
    // A proxy: volunteer 0 holds volunteer 1's vote, audited with its holder.
    let proxy = env
        .as_person(w.person(VOLUNTEERS[0]))
        .cast_vote(CastVoteRequest {
            poll: p.name.clone(),
            voter: w.person(VOLUNTEERS[1]).into(),
            proxy_holder: w.person(VOLUNTEERS[0]).into(),
            choices: vec![choice("disagree", 1)],
            request_id: request_id(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(proxy.channel, BallotChannel::Proxy as i32);
    assert_eq!(proxy.proxy_holder, w.person(VOLUNTEERS[0]));
    // Nobody votes for another without a proxy; outsiders are not eligible.
    assert_status(
        env.as_person(w.person(PLAIN))
            .cast_vote(CastVoteRequest {
                poll: p.name.clone(),
                voter: w.person(SECRETARY).into(),
                choices: vec![choice("agree", 1)],
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_status(
        vote(&env, &p.name, w.person(PLAIN), vec![choice("agree", 1)]).await,
        Code::FailedPrecondition,
        "NOT_ELIGIBLE",
    );
    assert_bad_field(
        vote(
            &env,
            &p.name,
            w.person(SECRETARY),
            vec![choice("agree", 1), choice("block", 1)],
        )
        .await,
        "choices",
    );
    let r = result(&mut secretary, &p.name).await;
    // agree 2, abstain 1, disagree 1, block 0 of 4 participants, 7 eligible.
    let voters: Vec<i32> = r.options.iter().map(|o| o.voters).collect();
    assert_eq!(voters, [2, 1, 1, 0]);
    assert_eq!((r.participants, r.eligible), (4, 7));
    assert!(r.quorum_met && r.passed && !r.r#final);

    // The secretary enters a show of hands from the meeting room: 1 agree,
    // 1 block. A block fails the proposal.
    let hands = secretary
        .create_offline_tally(CreateOfflineTallyRequest {
            parent: p.name.clone(),
            offline_tally: Some(OfflineTally {
                counts: [("agree".to_owned(), 1), ("block".to_owned(), 1)].into(),
                voters: 2,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hands.recorder, format!("resident:{}", w.person(SECRETARY)));
    assert_bad_field(
        secretary
            .create_offline_tally(CreateOfflineTallyRequest {
                parent: p.name.clone(),
                offline_tally: Some(OfflineTally {
                    counts: [("agree".to_owned(), 3)].into(),
                    voters: 2,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        "offline_tally.counts[agree]",
    );
    let r = result(&mut secretary, &p.name).await;
    let voters: Vec<i32> = r.options.iter().map(|o| o.voters).collect();
    assert_eq!(voters, [3, 1, 1, 1]);
    assert_eq!(r.participants, 6);
    assert!(!r.passed && r.winners.is_empty());

    let closed = secretary
        .close_poll(ClosePollRequest {
            name: p.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state, PollState::Closed as i32);
    assert_status(
        vote(&env, &p.name, w.person(SECRETARY), vec![choice("agree", 1)]).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert!(result(&mut secretary, &p.name).await.r#final);
    let ballots = secretary
        .list_ballots(ListBallotsRequest {
            parent: p.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ballots;
    assert_eq!(ballots.len(), 4);
    assert!(ballots.iter().any(|b| b.voter == w.person(VOLUNTEERS[1])));
}

async fn ranked_choice_and_dots(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let t = topic(
        &mut c,
        &w.council,
        "Which courtyard project first?",
        TopicState::InDiscussion,
    )
    .await;
    let options = |keys: &[&str]| -> Vec<PollOption> {
        keys.iter()
            .map(|k| PollOption {
                key: k.to_string(),
                title: k.to_uppercase(),
                time: None,
            })
            .collect()
    };
    let p = open_poll(
        &mut c,
        &t.name,
        Poll {
            method: PollMethod::RankedChoice as i32,
            options: options(&["garden", "parking", "lights"]),
            ..Default::default()
        },
    )
    .await;
    // garden 3 first, parking 2, lights 2 (whose voters prefer parking).
    let ranks = [
        (SECRETARY, vec![("garden", 1), ("parking", 2)]),
        (BUILDING_HEAD, vec![("garden", 1)]),
        (DOUBLE_REPORT, vec![("garden", 1), ("lights", 2)]),
        (BACKBONE, vec![("parking", 1), ("garden", 2)]),
        (PROPERTY_MANAGER, vec![("parking", 1)]),
        (VOLUNTEERS[0], vec![("lights", 1), ("parking", 2)]),
        (VOLUNTEERS[1], vec![("lights", 1), ("parking", 2)]),
    ];
    for (who, ranked) in ranks {
        vote(
            &env,
            &p.name,
            w.person(who),
            ranked.iter().map(|(k, r)| choice(k, *r)).collect(),
        )
        .await
        .unwrap();
    }
    let r = result(&mut c, &p.name).await;
    // Round 1: garden 3, parking 2, lights 2 → lights (tied with parking
    // on first preferences, later in order) goes. Round 2: parking 4 of 7.
    assert_eq!(r.rounds.len(), 2, "{r:?}");
    assert_eq!(r.rounds[0].eliminated, "lights");
    assert_eq!(r.rounds[1].counts["parking"], 4);
    assert_eq!(r.winners, ["parking"]);

    // Dots: five each, at most five.
    let d = open_poll(
        &mut c,
        &t.name,
        Poll {
            method: PollMethod::DotVote as i32,
            options: options(&["a", "b"]),
            dots_per_voter: 5,
            ..Default::default()
        },
    )
    .await;
    assert_bad_field(
        vote(
            &env,
            &d.name,
            w.person(SECRETARY),
            vec![choice("a", 4), choice("b", 2)],
        )
        .await,
        "choices",
    );
    vote(
        &env,
        &d.name,
        w.person(SECRETARY),
        vec![choice("a", 4), choice("b", 1)],
    )
    .await
    .unwrap();
    vote(&env, &d.name, w.person(BACKBONE), vec![choice("b", 5)])
        .await
        .unwrap();
    let r = result(&mut c, &d.name).await;
    let totals: Vec<i64> = r.options.iter().map(|o| o.total).collect();
    assert_eq!(totals, [4, 6]);
    assert_eq!(r.winners, ["b"]);
}

async fn concurrent_ballots_count_once(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let t = topic(
        &mut c,
        &w.council,
        "Night parking",
        TopicState::InDiscussion,
    )
    .await;
    let p = open_poll(
        &mut c,
        &t.name,
        Poll {
            method: PollMethod::Consent as i32,
            ..Default::default()
        },
    )
    .await;
    // One voter, sixteen clients at once, changing their mind as they go.
    let voter = w.person(BACKBONE).to_owned();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let mut me = env.as_person(&voter);
        let req = CastVoteRequest {
            poll: p.name.clone(),
            voter: voter.clone(),
            choices: vec![choice(if i % 2 == 0 { "consent" } else { "object" }, 1)],
            request_id: request_id(),
            ..Default::default()
        };
        tasks.push(tokio::spawn(async move { me.cast_vote(req).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // And one retry of a single request: the same ballot, nothing new.
    let req = CastVoteRequest {
        poll: p.name.clone(),
        voter: w.person(SECRETARY).into(),
        choices: vec![choice("consent", 1)],
        request_id: request_id(),
        ..Default::default()
    };
    let mut secretary = env.as_person(w.person(SECRETARY));
    let first = secretary.cast_vote(req.clone()).await.unwrap().into_inner();
    let again = secretary.cast_vote(req).await.unwrap().into_inner();
    assert_eq!(first, again);
    let poll = c
        .get_poll(GetPollRequest {
            name: p.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(poll.ballot_count, 2);
    let r = result(&mut c, &p.name).await;
    assert_eq!(r.participants, 2);
    let ballots = c
        .list_ballots(ListBallotsRequest {
            parent: p.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ballots;
    assert_eq!(ballots.len(), 2);
}

async fn ballots_racing_the_close_are_in_or_refused(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let t = topic(&mut c, &w.council, "Bike shed", TopicState::InDiscussion).await;
    let p = open_poll(
        &mut c,
        &t.name,
        Poll {
            method: PollMethod::Consent as i32,
            eligibility: Eligibility::Residents as i32,
            ..Default::default()
        },
    )
    .await;
    // Every resident of the courtyard votes twice at once (a change of
    // mind), while staff close the poll halfway.
    let residents = w.persons.clone();
    let mut tasks = Vec::new();
    for round in 0..2 {
        for voter in &residents {
            let mut me = env.as_person(voter);
            let req = CastVoteRequest {
                poll: p.name.clone(),
                voter: voter.clone(),
                choices: vec![choice(if round == 0 { "consent" } else { "object" }, 1)],
                request_id: request_id(),
                ..Default::default()
            };
            tasks.push(tokio::spawn(async move {
                (req.voter.clone(), me.cast_vote(req).await)
            }));
        }
    }
    let closed = c
        .close_poll(ClosePollRequest {
            name: p.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut voted = std::collections::BTreeSet::new();
    for task in tasks {
        match task.await.unwrap() {
            (voter, Ok(_)) => {
                voted.insert(voter);
            }
            (_, Err(refused)) => {
                assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
            }
        }
    }
    // Whatever got in before the close is counted, once a voter; nothing
    // got in after it.
    let late = vote(&env, &p.name, &residents[0], vec![choice("consent", 1)]).await;
    assert_eq!(late.unwrap_err().code(), Code::FailedPrecondition);
    let poll = c
        .get_poll(GetPollRequest {
            name: p.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(poll.state, PollState::Closed as i32);
    assert_eq!(poll.ballot_count, closed.ballot_count);
    assert_eq!(poll.ballot_count as usize, voted.len());
    let r = result(&mut c, &p.name).await;
    assert_eq!(r.participants as usize, voted.len());
    let ballots = c
        .list_ballots(ListBallotsRequest {
            parent: p.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ballots;
    let listed: std::collections::BTreeSet<String> = ballots.into_iter().map(|b| b.voter).collect();
    assert_eq!(listed, voted);
}

async fn results_stay_hidden_until_allowed(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let t = topic(&mut c, &w.council, "Bike shed", TopicState::InDiscussion).await;
    let after_voting = open_poll(
        &mut c,
        &t.name,
        Poll {
            method: PollMethod::Proposal as i32,
            results_visibility: ResultsVisibility::AfterVoting as i32,
            ..Default::default()
        },
    )
    .await;
    let mut voter = env.as_person(w.person(BACKBONE));
    let hidden = voter
        .get_poll_result(GetPollResultRequest {
            poll: after_voting.name.clone(),
        })
        .await;
    assert_status(hidden, Code::FailedPrecondition, "RESULTS_HIDDEN");
    assert_status(
        c.list_ballots(ListBallotsRequest {
            parent: after_voting.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "RESULTS_HIDDEN",
    );
    vote(
        &env,
        &after_voting.name,
        w.person(BACKBONE),
        vec![choice("agree", 1)],
    )
    .await
    .unwrap();
    assert_eq!(result(&mut voter, &after_voting.name).await.participants, 1);

    let after_closing = open_poll(
        &mut c,
        &t.name,
        Poll {
            method: PollMethod::Count as i32,
            count_target: 2,
            results_visibility: ResultsVisibility::AfterClosing as i32,
            ..Default::default()
        },
    )
    .await;
    vote(
        &env,
        &after_closing.name,
        w.person(BACKBONE),
        vec![choice("count_me_in", 1)],
    )
    .await
    .unwrap();
    assert_status(
        voter
            .get_poll_result(GetPollResultRequest {
                poll: after_closing.name.clone(),
            })
            .await,
        Code::FailedPrecondition,
        "RESULTS_HIDDEN",
    );
    // It closes by itself at its close time.
    env.clock.advance(chrono::Duration::days(8));
    let r = result(&mut voter, &after_closing.name).await;
    assert!(r.r#final);
    assert!(!r.passed, "1 of a target of 2");
    let p = c
        .get_poll(GetPollRequest {
            name: after_closing.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p.state, PollState::Closed as i32);
}
