//! Meetings: scheduling, sign-in, and the composite quorum.

use cogov_kit::convert::timestamp;
use cogov_proto::deliberation::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(quorum_needs_the_required_seats, meeting_lifecycle);

async fn meeting(c: &mut Client, w: &World, mode: MeetingMode) -> Meeting {
    let start = start_time() + chrono::Duration::hours(8);
    c.create_meeting(CreateMeetingRequest {
        meeting: Some(Meeting {
            council: w.council.clone(),
            title: "六月议事会 June sitting".into(),
            mode: mode as i32,
            location: "活动室 Activity room".into(),
            online_url: "https://meet.example.org/a1".into(),
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(start + chrono::Duration::hours(2))),
            ..Default::default()
        }),
        request_id: request_id(),
    })
    .await
    .unwrap()
    .into_inner()
}

async fn sign_in(c: &mut Client, meeting: &str, person: &str) -> Result<Attendance, tonic::Status> {
    c.create_attendance(CreateAttendanceRequest {
        parent: meeting.into(),
        attendance: Some(Attendance {
            person: person.into(),
            ..Default::default()
        }),
        request_id: request_id(),
    })
    .await
    .map(|r| r.into_inner())
}

async fn quorum(c: &mut Client, meeting: &str) -> QuorumReport {
    c.check_quorum(CheckQuorumRequest {
        name: meeting.into(),
    })
    .await
    .unwrap()
    .into_inner()
}

async fn quorum_needs_the_required_seats(env: Env) {
    let w = World::build(&env).await;
    let mut secretary = env.as_person(w.person(SECRETARY));
    let m = meeting(&mut secretary, &w, MeetingMode::Hybrid).await;
    assert_eq!(
        m.quorum.as_ref().unwrap().share,
        0.5,
        "the council's default"
    );
    // Sign-in opens with the meeting.
    assert_status(
        sign_in(&mut secretary, &m.name, w.person(SECRETARY)).await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    secretary
        .start_meeting(StartMeetingRequest {
            name: m.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Four of the seven voting members, the expert and a guest: the share is
    // met (4 ≥ 3.5) but the property manager is missing.
    for who in [SECRETARY, BUILDING_HEAD, DOUBLE_REPORT, BACKBONE] {
        let a = sign_in(&mut env.as_person(w.person(who)), &m.name, w.person(who))
            .await
            .unwrap();
        assert!(a.seat.starts_with(&w.council), "{a:?}");
    }
    sign_in(&mut secretary, &m.name, w.person(EXPERT))
        .await
        .unwrap();
    let guest = sign_in(&mut secretary, &m.name, w.person(PLAIN))
        .await
        .unwrap();
    assert_eq!(guest.seat, "");
    let q = quorum(&mut secretary, &m.name).await;
    assert_eq!((q.voting_present, q.voting_total), (4, 7));
    assert!(!q.met);
    assert_eq!(q.missing_kinds, [SeatKind::PropertyManager as i32]);

    // Nobody signs in twice; a resident signs in only themselves; a firm
    // signs in the person seated for it.
    assert_status(
        sign_in(&mut secretary, &m.name, w.person(BACKBONE)).await,
        Code::AlreadyExists,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_status(
        sign_in(
            &mut env.as_person(w.person(PLAIN)),
            &m.name,
            w.person(VOLUNTEERS[0]),
        )
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_status(
        sign_in(
            &mut env.client(partner(&w.firm_a)),
            &m.name,
            w.person(VOLUNTEERS[0]),
        )
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    sign_in(
        &mut env.client(partner(&w.firm_a)),
        &m.name,
        w.person(PROPERTY_MANAGER),
    )
    .await
    .unwrap();
    let q = quorum(&mut secretary, &m.name).await;
    assert!(q.met, "{q:?}");
    assert_eq!(q.voting_present, 5);

    // A meeting may ask for more: three quarters of 7 needs 6.
    let strict = secretary
        .create_meeting(CreateMeetingRequest {
            meeting: Some(Meeting {
                council: w.council.clone(),
                title: "Budget".into(),
                mode: MeetingMode::Online as i32,
                online_url: "https://meet.example.org/b".into(),
                start_time: Some(timestamp(start_time())),
                quorum: Some(QuorumPolicy {
                    share: 0.75,
                    required_kinds: vec![],
                }),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    secretary
        .start_meeting(StartMeetingRequest {
            name: strict.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    for who in [
        SECRETARY,
        BUILDING_HEAD,
        DOUBLE_REPORT,
        BACKBONE,
        VOLUNTEERS[0],
    ] {
        sign_in(&mut secretary, &strict.name, w.person(who))
            .await
            .unwrap();
    }
    let q = quorum(&mut secretary, &strict.name).await;
    assert!(!q.met, "5 of 7 < 0.75: {q:?}");
    sign_in(&mut secretary, &strict.name, w.person(VOLUNTEERS[1]))
        .await
        .unwrap();
    assert!(quorum(&mut secretary, &strict.name).await.met);
    let list = secretary
        .list_attendances(ListAttendancesRequest {
            parent: strict.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .attendances;
    assert_eq!(list.len(), 6);
    assert_eq!(list[0].person, w.person(SECRETARY), "sign-in order");
    assert_eq!(list[0].mode, AttendanceMode::Online as i32);
}

async fn meeting_lifecycle(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let t = topic(&mut c, &w.council, "Greening", TopicState::OnAgenda).await;
    let m = meeting(&mut c, &w, MeetingMode::Offline).await;
    // The agenda holds the council's topics only.
    let other = topic(&mut c, &w.council_b, "Elsewhere", TopicState::OnAgenda).await;
    assert_bad_field(
        c.update_meeting(UpdateMeetingRequest {
            meeting: Some(Meeting {
                name: m.name.clone(),
                agenda: vec![t.name.clone(), other.name],
                ..Default::default()
            }),
            update_mask: mask(&["agenda"]),
        })
        .await,
        "meeting.agenda[1]",
    );
    let m = c
        .update_meeting(UpdateMeetingRequest {
            meeting: Some(Meeting {
                name: m.name.clone(),
                agenda: vec![t.name.clone()],
                ..Default::default()
            }),
            update_mask: mask(&["agenda"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.agenda, [t.name.clone()]);
    // An offline meeting needs a place.
    assert_bad_field(
        c.update_meeting(UpdateMeetingRequest {
            meeting: Some(Meeting {
                name: m.name.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["location"]),
        })
        .await,
        "meeting.location",
    );
    c.start_meeting(StartMeetingRequest {
        name: m.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    // The schedule is fixed once it sits; the minutes are not.
    assert_status(
        c.update_meeting(UpdateMeetingRequest {
            meeting: Some(Meeting {
                name: m.name.clone(),
                title: "x".into(),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_status(
        c.cancel_meeting(CancelMeetingRequest {
            name: m.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    let ended = c
        .end_meeting(EndMeetingRequest {
            name: m.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.state, MeetingState::Ended as i32);
    let with_minutes = c
        .update_meeting(UpdateMeetingRequest {
            meeting: Some(Meeting {
                name: m.name.clone(),
                minutes: "决定：绿化带补种 Replant the verge".into(),
                ..Default::default()
            }),
            update_mask: mask(&["minutes"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(with_minutes.minutes.starts_with("决定"));
    // A scheduled meeting is cancelled with a reason.
    let next = meeting(&mut c, &w, MeetingMode::Online).await;
    let cancelled = c
        .cancel_meeting(CancelMeetingRequest {
            name: next.name.clone(),
            reason: "Typhoon warning".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state, MeetingState::Cancelled as i32);
    assert_eq!(cancelled.minutes, "Cancelled: Typhoon warning");
    let upcoming = c
        .list_meetings(ListMeetingsRequest {
            filter: format!("council = {} AND state = ENDED", w.council),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .meetings;
    assert_eq!(upcoming.len(), 1);
    // A resident who is not the secretary does not run meetings.
    assert_status(
        env.as_person(w.person(PLAIN))
            .start_meeting(StartMeetingRequest {
                name: next.name,
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}
