//! Bad input is refused naming the field.

use cogov_kit::convert::timestamp;
use cogov_proto::volunteers::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(bad_inputs_are_named);

async fn bad_inputs_are_named(env: Env) {
    let w = World::build(&env, 1).await;
    let mut c = env.admin();
    let start = env.clock.now() + chrono::Duration::hours(1);
    let base = Activity {
        title: "ok".into(),
        community: w.community_a.clone(),
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(start + chrono::Duration::hours(1))),
        capacity: 5,
        ..Default::default()
    };
    type Mutation = fn(&mut Activity);
    let cases: [(Mutation, &str); 8] = [
        (|a| a.title = String::new(), "activity.title"),
        (|a| a.capacity = 0, "activity.capacity"),
        (|a| a.waitlist_capacity = -1, "activity.waitlist_capacity"),
        (|a| a.end_time = None, "activity.end_time"),
        (
            |a| a.required_skills = vec!["Not A Tag".into()],
            "activity.required_skills[0]",
        ),
        (
            |a| a.co_organizers = vec!["organizations/x".into()],
            "activity.co_organizers[0]",
        ),
        (
            |a| a.required_certifications = vec!["courses/nope".into()],
            "activity.required_certifications[0]",
        ),
        (|a| a.community = String::new(), "activity.community"),
    ];
    for (mutate, field) in cases {
        let mut a = base.clone();
        mutate(&mut a);
        assert_bad_field(
            c.create_activity(CreateActivityRequest {
                activity: Some(a),
                request_id: String::new(),
            })
            .await,
            field,
        );
    }
    let mut long = base.clone();
    long.end_time = Some(timestamp(start + chrono::Duration::days(8)));
    assert_bad_field(
        c.create_activity(CreateActivityRequest {
            activity: Some(long),
            request_id: String::new(),
        })
        .await,
        "activity.end_time",
    );
    let mut backwards = base.clone();
    backwards.end_time = Some(timestamp(start - chrono::Duration::hours(1)));
    assert_bad_field(
        c.create_activity(CreateActivityRequest {
            activity: Some(backwards),
            request_id: String::new(),
        })
        .await,
        "activity.end_time",
    );

    assert_bad_field(
        c.update_volunteer(UpdateVolunteerRequest {
            volunteer: Some(Volunteer {
                name: w.volunteers_a[0].clone(),
                availability: vec![WeeklyWindow {
                    day_of_week: 8,
                    start_minute: 600,
                    end_minute: 500,
                }],
                ..Default::default()
            }),
            update_mask: mask(&["availability"]),
        })
        .await,
        "volunteer.availability[0].day_of_week",
    );
    assert_status(
        c.create_volunteer(volunteer(&w.persons_a[0], &[])).await,
        Code::AlreadyExists,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_bad_field(
        c.create_volunteer(volunteer(&format!("persons/{}", uuid::Uuid::now_v7()), &[]))
            .await,
        "volunteer.person",
    );
    assert_bad_field(
        c.create_service_record(CreateServiceRecordRequest {
            service_record: Some(ServiceRecord {
                volunteer: w.volunteers_a[0].clone(),
                start_time: Some(timestamp(env.clock.now())),
                minutes: 1441,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "service_record.minutes",
    );
    assert_bad_field(
        c.redeem_points(RedeemPointsRequest {
            volunteer: w.volunteers_a[0].clone(),
            points: 0,
            item: "x".into(),
            request_id: String::new(),
        })
        .await,
        "points",
    );
    assert_status(
        c.redeem_points(RedeemPointsRequest {
            volunteer: w.volunteers_a[0].clone(),
            points: 1,
            item: "x".into(),
            request_id: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "INSUFFICIENT_POINTS",
    );
    assert_bad_field(
        c.list_volunteers(ListVolunteersRequest {
            filter: "skills > 3".into(),
            ..Default::default()
        })
        .await,
        "filter",
    );
    let with_skill = c
        .list_volunteers(ListVolunteersRequest {
            filter: "skills:first_aid".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(with_skill.volunteers.len(), 1);
}
