//! Councils and seats: the 1+4+N composition check, terms, and what a
//! council keeps.

use cogov_proto::deliberation::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(composition_follows_the_seats, councils_are_places);

async fn composition_follows_the_seats(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let check = async |c: &mut Client| {
        c.check_council_composition(CheckCouncilCompositionRequest {
            name: w.council.clone(),
        })
        .await
        .unwrap()
        .into_inner()
    };
    let report = check(&mut c).await;
    assert!(report.satisfied, "{report:?}");
    assert_eq!(report.seat_counts["VOLUNTEER"], 2);
    assert_eq!(report.seat_counts["EXPERT_ADVISER"], 1);

    // A second secretary breaks the "1".
    let second = seat(&mut c, &w.council, w.person(PLAIN), SeatKind::Secretary, "")
        .await
        .unwrap();
    let report = check(&mut c).await;
    assert!(!report.satisfied);
    assert_eq!(report.problems, ["2 secretaries; exactly 1 required"]);
    c.delete_seat(DeleteSeatRequest {
        name: second.name,
        etag: second.etag,
    })
    .await
    .unwrap();

    // The building head's term ends: one of the "4" is missing from then on.
    let seats = c
        .list_seats(ListSeatsRequest {
            parent: w.council.clone(),
            filter: "kind = BUILDING_HEAD".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .seats;
    assert_eq!(seats.len(), 1);
    assert!(seats[0].voting);
    c.update_seat(UpdateSeatRequest {
        seat: Some(Seat {
            name: seats[0].name.clone(),
            end_date: date(2026, 6, 10),
            ..Default::default()
        }),
        update_mask: mask(&["end_date"]),
    })
    .await
    .unwrap();
    assert!(check(&mut c).await.satisfied, "still in force on June 1st");
    env.clock.advance(chrono::Duration::days(10));
    let report = check(&mut c).await;
    assert!(!report.satisfied);
    assert_eq!(report.missing_kinds, [SeatKind::BuildingHead as i32]);
    assert_eq!(
        report.problems,
        ["no BUILDING_HEAD seat; at least 1 required"]
    );
    let active = c
        .list_seats(ListSeatsRequest {
            parent: w.council.clone(),
            filter: "active = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .seats;
    assert_eq!(active.len(), 7);

    // The same person cannot hold one kind twice over one term.
    assert_status(
        seat(
            &mut c,
            &w.council,
            w.person(VOLUNTEERS[0]),
            SeatKind::Volunteer,
            "",
        )
        .await,
        Code::AlreadyExists,
        "RESOURCE_ALREADY_EXISTS",
    );
    // A property manager's seat names the firm.
    assert_bad_field(
        seat(
            &mut c,
            &w.council,
            w.person(PLAIN),
            SeatKind::PropertyManager,
            "",
        )
        .await,
        "seat.organization",
    );
    // Seats across councils, by person.
    let mine = c
        .list_seats(ListSeatsRequest {
            parent: "councils/-".into(),
            filter: format!("person = {}", w.person(SECRETARY)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .seats;
    assert_eq!(mine.len(), 1);
    assert!(mine[0].name.starts_with(&w.council));
}

async fn councils_are_places(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    // A community council too.
    let community_council = c
        .create_council(CreateCouncilRequest {
            council: Some(Council {
                display_name: "A 社区议事会".into(),
                place: w.community_a.clone(),
                quorum_share: 0.6,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(community_council.community, w.community_a);
    let by_place = c
        .list_councils(ListCouncilsRequest {
            filter: format!("place = {}", w.a1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .councils;
    assert_eq!(by_place.len(), 1);
    assert_eq!(by_place[0].name, w.council);
    let in_a = c
        .list_councils(ListCouncilsRequest {
            filter: format!("community = {}", w.community_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .councils;
    assert_eq!(in_a.len(), 2);

    // A resident of a1 sees a1's council and community A's, not b1's.
    let seen: Vec<String> = env
        .as_person(w.person(PLAIN))
        .list_councils(ListCouncilsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .councils
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(seen.len(), 2);
    assert!(seen.contains(&w.council) && seen.contains(&community_council.name));

    // Unknown places are named.
    assert_bad_field(
        c.create_council(CreateCouncilRequest {
            council: Some(Council {
                display_name: "x".into(),
                place: format!("courtyards/{}", uuid::Uuid::now_v7()),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "council.place",
    );

    // A council with a record is kept; an empty one goes.
    topic(
        &mut c,
        &w.council,
        "Bikes in the stairwell",
        TopicState::Proposed,
    )
    .await;
    let got = c
        .get_council(GetCouncilRequest {
            name: w.council.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_status(
        c.delete_council(DeleteCouncilRequest {
            name: w.council.clone(),
            etag: got.etag,
        })
        .await,
        Code::FailedPrecondition,
        "HAS_CHILDREN",
    );
    c.delete_council(DeleteCouncilRequest {
        name: community_council.name.clone(),
        etag: String::new(),
    })
    .await
    .unwrap();
    assert_status(
        c.get_council(GetCouncilRequest {
            name: community_council.name,
        })
        .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
}
