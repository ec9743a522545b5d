//! Anonymous polls never reveal a voter, to anyone, in any response.

use cogov_proto::deliberation::*;
use prost::Message;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(anonymous_ballots_never_name_the_voter);

/// The bare id of a `persons/{id}` name.
fn id(name: &str) -> String {
    name.trim_start_matches("persons/").to_owned()
}

/// Fails if any response bytes contain any of the voters' ids, as a name,
/// a bare id or its raw bytes.
fn assert_no_voter(what: &str, bytes: &[u8], voters: &[String]) {
    let text = String::from_utf8_lossy(bytes);
    for v in voters {
        let raw = uuid::Uuid::parse_str(&id(v)).unwrap();
        assert!(
            !text.contains(&id(v)) && !bytes.windows(16).any(|w| w == raw.as_bytes()),
            "{what} names voter {v}"
        );
    }
}

async fn anonymous_ballots_never_name_the_voter(env: Env) {
    let w = World::build(&env).await;
    let mut secretary = env.as_person(w.person(SECRETARY));
    let t = topic(
        &mut secretary,
        &w.council,
        "Secret ballot",
        TopicState::InDiscussion,
    )
    .await;
    let p = open_poll(
        &mut secretary,
        &t.name,
        Poll {
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
            ..Default::default()
        },
    )
    .await;
    // Two ballots before the poll turns anonymous, by the voter and by proxy.
    vote(&env, &p.name, w.person(BUILDING_HEAD), vec![choice("a", 1)])
        .await
        .unwrap();
    secretary
        .cast_vote(CastVoteRequest {
            poll: p.name.clone(),
            voter: w.person(VOLUNTEERS[1]).into(),
            proxy_holder: w.person(VOLUNTEERS[0]).into(),
            choices: vec![choice("b", 1)],
            request_id: request_id(),
            ..Default::default()
        })
        .await
        .unwrap();
    let got = secretary
        .get_poll(GetPollRequest {
            name: p.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let anonymous = secretary
        .update_poll(UpdatePollRequest {
            poll: Some(Poll {
                name: p.name.clone(),
                anonymous: true,
                etag: got.etag,
                ..Default::default()
            }),
            update_mask: mask(&["anonymous"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(anonymous.anonymous);
    // Once set, for good.
    assert_status(
        secretary
            .update_poll(UpdatePollRequest {
                poll: Some(Poll {
                    name: p.name.clone(),
                    anonymous: false,
                    ..Default::default()
                }),
                update_mask: mask(&["anonymous"]),
            })
            .await,
        Code::FailedPrecondition,
        "ANONYMITY_IRREVERSIBLE",
    );
    // More ballots, one of them changed: still one per voter.
    let cast = vote(&env, &p.name, w.person(BACKBONE), vec![choice("a", 1)])
        .await
        .unwrap();
    assert_eq!(cast.voter, "");
    vote(&env, &p.name, w.person(BACKBONE), vec![choice("b", 1)])
        .await
        .unwrap();
    vote(&env, &p.name, w.person(BUILDING_HEAD), vec![choice("b", 1)])
        .await
        .unwrap();
    let voters: Vec<String> = [BUILDING_HEAD, BACKBONE, VOLUNTEERS[0], VOLUNTEERS[1]]
        .iter()
        .map(|i| w.person(*i).to_owned())
        .collect();
    assert_no_voter("CastVote", &cast.encode_to_vec(), &voters);

    // Every principal, every response about the poll.
    let everyone = [
        ("street admin", env.admin()),
        (
            "community admin",
            env.client(community_admin(&w.community_a)),
        ),
        ("secretary", secretary.clone()),
        ("a voter", env.as_person(w.person(BACKBONE))),
        ("firm A", env.client(partner(&w.firm_a))),
    ];
    for (who, mut c) in everyone {
        let ballots = c
            .list_ballots(ListBallotsRequest {
                parent: p.name.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ballots.ballots.len(), 3, "{who}");
        assert!(
            ballots
                .ballots
                .iter()
                .all(|b| b.voter.is_empty() && b.proxy_holder.is_empty()),
            "{who}"
        );
        assert_no_voter(
            &format!("ListBallots as {who}"),
            &ballots.encode_to_vec(),
            &voters,
        );
        let r = result(&mut c, &p.name).await;
        assert_eq!(r.participants, 3, "{who}");
        assert_no_voter(
            &format!("GetPollResult as {who}"),
            &r.encode_to_vec(),
            &voters,
        );
        let poll = c
            .get_poll(GetPollRequest {
                name: p.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_no_voter(&format!("GetPoll as {who}"), &poll.encode_to_vec(), &voters);
    }
    let r = result(&mut env.admin(), &p.name).await;
    let voters_per_option: Vec<i32> = r.options.iter().map(|o| o.voters).collect();
    assert_eq!(voters_per_option, [0, 3], "every ballot ended on b");
}
