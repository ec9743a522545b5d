//! Service records: self-reported hours, review by a team leader, points,
//! badges, and the hours statistics.

use cogov_kit::convert::timestamp;
use cogov_proto::common::Interval;
use cogov_proto::volunteers::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(hours_are_reviewed_and_earn_points);

async fn hours_are_reviewed_and_earn_points(env: Env) {
    let w = World::build(&env, 3).await;
    let mut me = env.client(resident(&w.persons_a[1]));
    let report = |minutes: i32| CreateServiceRecordRequest {
        service_record: Some(ServiceRecord {
            volunteer: w.volunteers_a[1].clone(),
            team: w.team_a.clone(),
            start_time: Some(timestamp(env.clock.now() - chrono::Duration::hours(5))),
            minutes,
            description: "浇水 Watering".into(),
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let first = me
        .create_service_record(report(360))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (first.state, first.source),
        (
            RecordState::Pending as i32,
            RecordSource::SelfReported as i32
        )
    );
    let second = me
        .create_service_record(report(300))
        .await
        .unwrap()
        .into_inner();
    let third = me
        .create_service_record(report(30))
        .await
        .unwrap()
        .into_inner();
    // Someone else's hours are not one's to report.
    let mut other = report(60);
    other.service_record.as_mut().unwrap().volunteer = w.volunteers_a[2].clone();
    assert_status(
        me.create_service_record(other).await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    // Nor one's own to approve; the team leader approves.
    assert_status(
        me.approve_service_record(ApproveServiceRecordRequest {
            name: first.name.clone(),
            ..Default::default()
        })
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let mut leader = env.client(resident(&w.persons_a[0]));
    let approved = leader
        .approve_service_record(ApproveServiceRecordRequest {
            name: first.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (approved.state, approved.points),
        (RecordState::Approved as i32, 60),
        "6 h × 10 points an hour"
    );
    leader
        .approve_service_record(ApproveServiceRecordRequest {
            name: second.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let rejected = leader
        .reject_service_record(RejectServiceRecordRequest {
            name: third.name.clone(),
            reason: "重复申报 Reported twice".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rejected.state, rejected.reject_reason.as_str()),
        (RecordState::Rejected as i32, "重复申报 Reported twice")
    );
    assert_status(
        leader
            .approve_service_record(ApproveServiceRecordRequest {
                name: third.name.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );

    let account = me
        .get_points_account(GetPointsAccountRequest {
            name: format!("{}/pointsAccount", w.volunteers_a[1]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (account.balance, account.earned, account.redeemed),
        (110, 110, 0)
    );
    let badges = me
        .list_badges(ListBadgesRequest {
            parent: w.volunteers_a[1].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .badges;
    assert_eq!(
        badges.iter().map(|b| b.hours).collect::<Vec<_>>(),
        [10],
        "11 approved hours pass the 10-hour badge"
    );
    let v = me
        .get_volunteer(GetVolunteerRequest {
            name: w.volunteers_a[1].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.approved_minutes, 660);

    let board = me
        .compute_volunteer_hours(ComputeVolunteerHoursRequest {
            group_by: HoursGroup::Volunteer as i32,
            interval: Some(Interval {
                start_time: Some(timestamp(start_time() - chrono::Duration::days(1))),
                end_time: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(board.rows.len(), 1);
    assert_eq!(
        (
            board.rows[0].key.as_str(),
            board.rows[0].minutes,
            board.rows[0].records,
            board.rows[0].rank
        ),
        (w.volunteers_a[1].as_str(), 660, 2, 1)
    );
    assert_eq!(board.rows[0].display_name, "Resident 1");
    let by_team = me
        .compute_volunteer_hours(ComputeVolunteerHoursRequest {
            group_by: HoursGroup::Team as i32,
            interval: Some(Interval {
                start_time: Some(timestamp(start_time() - chrono::Duration::days(1))),
                end_time: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (by_team.rows[0].key.as_str(), by_team.rows[0].volunteers),
        (w.team_a.as_str(), 1)
    );
    let by_month = me
        .compute_volunteer_hours(ComputeVolunteerHoursRequest {
            group_by: HoursGroup::Month as i32,
            interval: Some(Interval {
                start_time: Some(timestamp(start_time() - chrono::Duration::days(1))),
                end_time: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_month.rows[0].key, "2026-06");
}
