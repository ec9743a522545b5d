//! Sign-ups: capacity and waitlist under concurrency, promotion, overlaps,
//! idempotency.

use std::collections::HashMap;

use cogov_proto::volunteers::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    no_overbooking_under_concurrent_sign_ups,
    waitlist_promotion_and_overlaps,
    a_day_before_the_confirmed_hear_of_it_once
);

async fn a_day_before_the_confirmed_hear_of_it_once(env: Env) {
    use cogov_proto::common::NoticeKind;
    let w = World::build(&env, 3).await;
    let mut c = env.admin();
    let soon = published(&env, &w, 1, 1, 30).await;
    let later = published(&env, &w, 5, 0, 24 * 7).await;
    sign_up(&mut c, &soon.name, &w.volunteers_a[0])
        .await
        .unwrap();
    sign_up(&mut c, &soon.name, &w.volunteers_a[1])
        .await
        .unwrap(); // waitlisted
    sign_up(&mut c, &later.name, &w.volunteers_a[2])
        .await
        .unwrap();
    let remind = async || {
        cogov_volunteers::reminders::remind_due(&env.svc, env.clock.now())
            .await
            .unwrap()
    };
    // 30 hours ahead: not yet.
    assert_eq!(remind().await, 0);
    env.clock.advance(chrono::Duration::hours(7));
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0, "once");
    let told = cogov_kit::testing::notices_in_outbox(&env.svc.ctx.db).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].kind, NoticeKind::ActivityStartsSoon as i32);
    assert_eq!(told[0].subject, soon.name);
    assert_eq!(
        told[0].persons,
        [w.persons_a[0].clone()],
        "the confirmed only, not the waitlist"
    );
}

async fn no_overbooking_under_concurrent_sign_ups(env: Env) {
    let w = World::build(&env, 24).await;
    let activity = published(&env, &w, 5, 3, 48).await;
    // 24 volunteers race for 5 places and 3 waitlist places, each as
    // themselves, on their own connections.
    let mut tasks = Vec::new();
    for (person, volunteer) in w.persons_a.iter().zip(&w.volunteers_a) {
        let mut c = env.client(resident(person));
        let activity = activity.name.clone();
        let volunteer = volunteer.clone();
        tasks.push(tokio::spawn(async move {
            sign_up(&mut c, &activity, &volunteer).await
        }));
    }
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    for t in tasks {
        let outcome = match t.await.unwrap() {
            Ok(s) if s.state == SignupState::Confirmed as i32 => "confirmed",
            Ok(s) if s.state == SignupState::Waitlisted as i32 => "waitlisted",
            Ok(s) => panic!("unexpected {s:?}"),
            Err(e) if e.code() == Code::FailedPrecondition => "full",
            Err(e) => panic!("unexpected {e:?}"),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    assert_eq!(outcomes.get("confirmed"), Some(&5), "{outcomes:?}");
    assert_eq!(outcomes.get("waitlisted"), Some(&3), "{outcomes:?}");
    assert_eq!(outcomes.get("full"), Some(&16), "{outcomes:?}");
    let after = env
        .admin()
        .get_activity(GetActivityRequest {
            name: activity.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((after.confirmed_count, after.waitlist_count), (5, 3));
    let listed = env
        .admin()
        .list_signups(ListSignupsRequest {
            parent: activity.name.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .signups;
    let states: Vec<i32> = listed.iter().map(|s| s.state).collect();
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == SignupState::Confirmed as i32)
            .count(),
        5
    );
    let positions: Vec<i32> = listed
        .iter()
        .map(|s| s.waitlist_position)
        .filter(|p| *p > 0)
        .collect();
    assert_eq!(
        positions,
        [1, 2, 3],
        "confirmed first, then the waitlist in order"
    );
}

async fn waitlist_promotion_and_overlaps(env: Env) {
    let w = World::build(&env, 4).await;
    let mut c = env.admin();
    let activity = published(&env, &w, 2, 2, 24).await;
    let s0 = sign_up(&mut c, &activity.name, &w.volunteers_a[0])
        .await
        .unwrap();
    sign_up(&mut c, &activity.name, &w.volunteers_a[1])
        .await
        .unwrap();
    let s2 = sign_up(&mut c, &activity.name, &w.volunteers_a[2])
        .await
        .unwrap();
    let s3 = sign_up(&mut c, &activity.name, &w.volunteers_a[3])
        .await
        .unwrap();
    assert_eq!(
        (s2.state, s2.waitlist_position),
        (SignupState::Waitlisted as i32, 1)
    );
    assert_eq!(s3.waitlist_position, 2);

    // Signing up again is the same sign-up.
    let again = sign_up(&mut c, &activity.name, &w.volunteers_a[0])
        .await
        .unwrap();
    assert_eq!(again.name, s0.name);

    // A confirmed volunteer cancels: the first of the waitlist takes the place.
    let cancelled = env
        .client(resident(&w.persons_a[0]))
        .cancel_signup(CancelSignupRequest {
            name: s0.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state, SignupState::Cancelled as i32);
    let promoted = c
        .get_signup(GetSignupRequest {
            name: s2.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (promoted.state, promoted.waitlist_position),
        (SignupState::Confirmed as i32, 0)
    );
    // The promoted volunteer hears of it, and nobody else.
    let told = cogov_kit::testing::notices_in_outbox(&env.svc.ctx.db).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        told[0].kind,
        cogov_proto::common::NoticeKind::SignupPromoted as i32
    );
    assert_eq!(told[0].persons, [w.persons_a[2].clone()]);
    assert_eq!(told[0].subject, activity.name);
    let moved_up = c
        .get_signup(GetSignupRequest {
            name: s3.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved_up.waitlist_position, 1);
    let a = c
        .get_activity(GetActivityRequest {
            name: activity.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((a.confirmed_count, a.waitlist_count), (2, 1));
    assert_status(
        c.cancel_signup(CancelSignupRequest {
            name: s0.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // The cancelled volunteer comes back: to the end of the waitlist.
    let back = sign_up(&mut c, &activity.name, &w.volunteers_a[0])
        .await
        .unwrap();
    assert_eq!(
        (back.name.as_str(), back.state, back.waitlist_position),
        (s0.name.as_str(), SignupState::Waitlisted as i32, 2)
    );

    // An overlapping activity is refused for a committed volunteer.
    let clash = published(&env, &w, 10, 0, 25).await;
    assert_status(
        sign_up(&mut c, &clash.name, &w.volunteers_a[1]).await,
        Code::FailedPrecondition,
        "OVERLAPPING_COMMITMENT",
    );
    let later = published(&env, &w, 10, 0, 27).await;
    sign_up(&mut c, &later.name, &w.volunteers_a[1])
        .await
        .unwrap();

    // A full activity without a waitlist is refused; a draft too.
    let tiny = published(&env, &w, 1, 0, 100).await;
    sign_up(&mut c, &tiny.name, &w.volunteers_a[2])
        .await
        .unwrap();
    assert_status(
        sign_up(&mut c, &tiny.name, &w.volunteers_a[3]).await,
        Code::FailedPrecondition,
        "ACTIVITY_FULL",
    );

    // Residents sign only themselves up.
    assert_status(
        sign_up(
            &mut env.client(resident(&w.persons_a[3])),
            &later.name,
            &w.volunteers_a[2],
        )
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}
