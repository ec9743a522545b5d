//! Courses, completions and certifications that expire.

use cogov_kit::convert::timestamp;
use cogov_proto::volunteers::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(certifications_expire);

async fn certifications_expire(env: Env) {
    let w = World::build(&env, 2).await;
    let mut c = env.admin();
    let course = c
        .create_course(CreateCourseRequest {
            course: Some(Course {
                title: "急救培训 First aid".into(),
                certifies: true,
                validity_days: 30,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    let completion = c
        .create_completion(CreateCompletionRequest {
            parent: course.name.clone(),
            completion: Some(Completion {
                volunteer: w.volunteers_a[0].clone(),
                complete_time: Some(timestamp(env.clock.now())),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        completion.expire_time,
        Some(timestamp(env.clock.now() + chrono::Duration::days(30)))
    );

    let start = |days: i64| env.clock.now() + chrono::Duration::days(days);
    let needing = |days: i64| CreateActivityRequest {
        activity: Some(Activity {
            title: "Blood pressure checks".into(),
            community: w.community_a.clone(),
            start_time: Some(timestamp(start(days))),
            end_time: Some(timestamp(start(days) + chrono::Duration::hours(2))),
            capacity: 5,
            required_certifications: vec![course.name.clone()],
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let soon = c.create_activity(needing(10)).await.unwrap().into_inner();
    let late = c.create_activity(needing(40)).await.unwrap().into_inner();
    for a in [&soon, &late] {
        c.publish_activity(PublishActivityRequest {
            name: a.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    // Matching offers only volunteers certified at the activity's start.
    let matched = |activity: String| {
        let mut c = env.admin();
        async move {
            c.match_volunteers(MatchVolunteersRequest {
                need: Some(match_volunteers_request::Need::Activity(activity)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .matches
            .into_iter()
            .map(|m| m.volunteer.unwrap().name)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        matched(soon.name.clone()).await,
        [w.volunteers_a[0].clone()]
    );
    assert!(matched(late.name.clone()).await.is_empty());
    sign_up(&mut c, &soon.name, &w.volunteers_a[0])
        .await
        .unwrap();
    // Expired by the activity's start.
    assert_status(
        sign_up(&mut c, &late.name, &w.volunteers_a[0]).await,
        Code::FailedPrecondition,
        "CERTIFICATION_MISSING",
    );
    // Never certified.
    assert_status(
        sign_up(&mut c, &soon.name, &w.volunteers_a[1]).await,
        Code::FailedPrecondition,
        "CERTIFICATION_MISSING",
    );
    let valid = c
        .list_completions(ListCompletionsRequest {
            parent: "courses/-".into(),
            filter: "valid = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(valid.completions.len(), 1);
    env.clock.advance(chrono::Duration::days(31));
    let valid = c
        .list_completions(ListCompletionsRequest {
            parent: course.name.clone(),
            filter: "valid = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(valid.completions.is_empty());
    assert_status(
        env.client(resident(&w.persons_a[0]))
            .create_course(CreateCourseRequest {
                course: Some(Course {
                    title: "x".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}
