//! The activity lifecycle: draft → published → ongoing → completed, or
//! cancelled; attendance produces service records.

use cogov_proto::volunteers::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    activity_lifecycle_and_attendance,
    cancelling_cancels_every_sign_up
);

async fn activity_lifecycle_and_attendance(env: Env) {
    let w = World::build(&env, 3).await;
    let mut c = env.admin();
    let start = env.clock.now() + chrono::Duration::hours(1);
    let draft = c
        .create_activity(CreateActivityRequest {
            activity: Some(Activity {
                title: "邮票墙彩绘 Painting the stamp wall".into(),
                community: w.community_a.clone(),
                organizing_team: w.team_a.clone(),
                start_time: Some(cogov_kit::convert::timestamp(start)),
                end_time: Some(cogov_kit::convert::timestamp(
                    start + chrono::Duration::hours(3),
                )),
                capacity: 10,
                required_skills: vec!["painting".into()],
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(draft.state, ActivityState::Draft as i32);
    // Residents do not see drafts; sign-up waits for publication.
    assert_status(
        env.client(resident(&w.persons_a[1]))
            .get_activity(GetActivityRequest {
                name: draft.name.clone(),
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        sign_up(&mut c, &draft.name, &w.volunteers_a[1]).await,
        Code::FailedPrecondition,
        "ACTIVITY_NOT_OPEN",
    );
    assert_status(
        c.start_activity(StartActivityRequest {
            name: draft.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    c.publish_activity(PublishActivityRequest {
        name: draft.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut me = env.client(resident(&w.persons_a[1]));
    let mine = sign_up(&mut me, &draft.name, &w.volunteers_a[1])
        .await
        .unwrap();
    let other = sign_up(&mut c, &draft.name, &w.volunteers_a[2])
        .await
        .unwrap();
    assert_status(
        me.check_in_signup(CheckInSignupRequest {
            name: mine.name.clone(),
        })
        .await,
        Code::FailedPrecondition,
        "ACTIVITY_NOT_ONGOING",
    );
    env.clock.advance(chrono::Duration::hours(1));
    c.start_activity(StartActivityRequest {
        name: draft.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    me.check_in_signup(CheckInSignupRequest {
        name: mine.name.clone(),
    })
    .await
    .unwrap();
    c.check_in_signup(CheckInSignupRequest {
        name: other.name.clone(),
    })
    .await
    .unwrap();
    assert_status(
        me.check_in_signup(CheckInSignupRequest {
            name: mine.name.clone(),
        })
        .await,
        Code::FailedPrecondition,
        "ALREADY_CHECKED_IN",
    );
    env.clock.advance(chrono::Duration::minutes(90));
    let out = me
        .check_out_signup(CheckOutSignupRequest {
            name: mine.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(out.check_out_time.is_some());
    env.clock.advance(chrono::Duration::minutes(30));
    let done = c
        .complete_activity(CompleteActivityRequest {
            name: draft.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, ActivityState::Completed as i32);

    let records = c
        .list_service_records(ListServiceRecordsRequest {
            filter: format!("activity = {}", draft.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .service_records;
    let by_source: Vec<(String, i32, i32)> = records
        .iter()
        .map(|r| (r.volunteer.clone(), r.source, r.minutes))
        .collect();
    assert!(
        by_source.contains(&(
            w.volunteers_a[1].clone(),
            RecordSource::Attendance as i32,
            90
        )),
        "{by_source:?}"
    );
    assert!(
        by_source.contains(&(
            w.volunteers_a[2].clone(),
            RecordSource::ActivityCompleted as i32,
            120
        )),
        "{by_source:?}"
    );
    assert!(
        records
            .iter()
            .all(|r| r.state == RecordState::Pending as i32)
    );
    assert_status(
        c.cancel_activity(CancelActivityRequest {
            name: draft.name.clone(),
            reason: "late".into(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
}

async fn cancelling_cancels_every_sign_up(env: Env) {
    let w = World::build(&env, 3).await;
    let mut c = env.admin();
    let activity = published(&env, &w, 1, 5, 24).await;
    sign_up(&mut c, &activity.name, &w.volunteers_a[0])
        .await
        .unwrap();
    sign_up(&mut c, &activity.name, &w.volunteers_a[1])
        .await
        .unwrap();
    // Capacity never drops below the confirmed.
    assert_bad_field(
        c.update_activity(UpdateActivityRequest {
            activity: Some(Activity {
                name: activity.name.clone(),
                capacity: 0,
                ..Default::default()
            }),
            update_mask: mask(&["capacity"]),
        })
        .await,
        "activity.capacity",
    );
    let cancelled = c
        .cancel_activity(CancelActivityRequest {
            name: activity.name.clone(),
            reason: "暴雨 Rainstorm".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            cancelled.state,
            cancelled.confirmed_count,
            cancelled.waitlist_count
        ),
        (ActivityState::Cancelled as i32, 0, 0)
    );
    let signups = c
        .list_signups(ListSignupsRequest {
            parent: activity.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .signups;
    assert!(
        signups
            .iter()
            .all(|s| s.state == SignupState::Cancelled as i32)
    );
    // A draft can be deleted; a published activity cannot.
    let fresh = published(&env, &w, 1, 0, 200).await;
    assert_status(
        c.delete_activity(DeleteActivityRequest {
            name: fresh.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
}
