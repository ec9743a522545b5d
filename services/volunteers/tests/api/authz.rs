//! The authorisation matrix: every RPC of the volunteers service,
//! enumerated from the descriptor set, called by every kind of principal on
//! community A's volunteers, team and activities.
//!
//! Principals, in column order: street admin; community admin of A; of B;
//! firm A (serves courtyard a1 only); the area unit (co-builds with all of
//! A, and co-organises the activities); resident 0 (leads the team);
//! resident 1 (a volunteer of the team); no credentials.

use std::sync::Arc;

use cogov_kit::convert::timestamp;
use cogov_kit::testing::matrix::{done, listed};
use cogov_proto::organizations as org;
use cogov_proto::volunteers::match_volunteers_request::Need;
use cogov_proto::volunteers::*;

use crate::support::*;

struct Fixture {
    w: World,
    orgs: OrgClient,
    now: chrono::DateTime<chrono::Utc>,
}

type Case = cogov_kit::testing::matrix::Case<Client, Fixture>;

macro_rules! case {
    ($method:literal, $expect:literal, |$c:ident, $f:ident, $admin:ident| $body:expr) => {
        cogov_kit::authz_case!(Client, Fixture, $method, $expect, |$c, $f, $admin| $body)
    };
}

async fn fresh_person(f: &Fixture) -> String {
    f.orgs
        .clone()
        .create_person(org::CreatePersonRequest {
            person: Some(org::Person {
                display_name: "fresh".into(),
                community: f.w.community_a.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

async fn fresh_volunteer(admin: &mut Client, f: &Fixture) -> String {
    let p = fresh_person(f).await;
    admin
        .create_volunteer(volunteer(&p, &[]))
        .await
        .unwrap()
        .into_inner()
        .name
}

fn activity_request(f: &Fixture, hours_from_now: i64) -> CreateActivityRequest {
    let start = f.now + chrono::Duration::hours(hours_from_now);
    CreateActivityRequest {
        activity: Some(Activity {
            title: "case".into(),
            community: f.w.community_a.clone(),
            courtyard: f.w.a1.clone(),
            organizing_team: f.w.team_a.clone(),
            co_organizers: vec![f.w.unit.clone()],
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(start + chrono::Duration::minutes(30))),
            capacity: 50,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

/// A fresh activity at its own hour (no overlaps), in `state`.
async fn activity(admin: &mut Client, f: &Fixture, state: ActivityState) -> Activity {
    // Each activity at an hour of its own, so that sign-ups never overlap.
    static NEXT_HOUR: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1000);
    let hour = NEXT_HOUR.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let a = admin
        .create_activity(activity_request(f, hour))
        .await
        .unwrap()
        .into_inner();
    if state == ActivityState::Draft {
        return a;
    }
    admin
        .publish_activity(PublishActivityRequest {
            name: a.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    if state == ActivityState::Published {
        return admin
            .get_activity(GetActivityRequest { name: a.name })
            .await
            .unwrap()
            .into_inner();
    }
    admin
        .start_activity(StartActivityRequest {
            name: a.name,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// Resident 1's sign-up for a fresh activity in `state`.
async fn signup(admin: &mut Client, f: &Fixture, state: ActivityState) -> Signup {
    let a = activity(admin, f, ActivityState::Published).await;
    let s = sign_up(admin, &a.name, &f.w.volunteers_a[1]).await.unwrap();
    if state == ActivityState::Ongoing {
        admin
            .start_activity(StartActivityRequest {
                name: a.name,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    s
}

fn record_request(f: &Fixture) -> CreateServiceRecordRequest {
    CreateServiceRecordRequest {
        service_record: Some(ServiceRecord {
            volunteer: f.w.volunteers_a[1].clone(),
            team: f.w.team_a.clone(),
            start_time: Some(timestamp(f.now - chrono::Duration::hours(2))),
            minutes: 60,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn record(admin: &mut Client, f: &Fixture) -> ServiceRecord {
    admin
        .create_service_record(record_request(f))
        .await
        .unwrap()
        .into_inner()
}

async fn member(admin: &mut Client, f: &Fixture) -> TeamMember {
    let v = fresh_volunteer(admin, f).await;
    admin
        .create_team_member(CreateTeamMemberRequest {
            parent: f.w.team_a.clone(),
            member: Some(TeamMember {
                volunteer: v,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn course(admin: &mut Client) -> Course {
    admin
        .create_course(CreateCourseRequest {
            course: Some(Course {
                title: "course".into(),
                certifies: true,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn cases() -> Vec<Case> {
    vec![
        case!(
            "GetVolunteer",
            "ok ok deny deny ok deny ok anon",
            |c, f, a| c
                .get_volunteer(GetVolunteerRequest {
                    name: f.w.volunteers_a[1].clone()
                })
                .await
                .map(done)
        ),
        case!(
            "ListVolunteers",
            "ok ok hid hid ok hid ok anon",
            |c, f, a| c
                .list_volunteers(ListVolunteersRequest {
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map(|r| listed(
                    r.into_inner().volunteers.into_iter().map(|v| v.name),
                    &f.w.volunteers_a[1]
                ))
        ),
        case!(
            "CreateVolunteer",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let p = fresh_person(&f).await;
                c.create_volunteer(volunteer(&p, &[])).await.map(done)
            }
        ),
        case!(
            "UpdateVolunteer",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| c
                .update_volunteer(UpdateVolunteerRequest {
                    volunteer: Some(Volunteer {
                        name: f.w.volunteers_a[1].clone(),
                        skills: vec!["cooking".into()],
                        ..Default::default()
                    }),
                    update_mask: mask(&["skills"]),
                })
                .await
                .map(done)
        ),
        case!("GetTeam", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .get_team(GetTeamRequest {
                name: f.w.team_a.clone()
            })
            .await
            .map(done)),
        case!("ListTeams", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .list_teams(ListTeamsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| listed(
                r.into_inner().teams.into_iter().map(|t| t.name),
                &f.w.team_a
            ))),
        case!(
            "CreateTeam",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| c
                .create_team(CreateTeamRequest {
                    team: Some(Team {
                        display_name: "t".into(),
                        community: f.w.community_a.clone(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateTeam",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| c
                .update_team(UpdateTeamRequest {
                    team: Some(Team {
                        name: f.w.team_a.clone(),
                        description: "d".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["description"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeleteTeam",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let t = a
                    .create_team(CreateTeamRequest {
                        team: Some(Team {
                            display_name: "t".into(),
                            community: f.w.community_a.clone(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                c.delete_team(DeleteTeamRequest {
                    name: t.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CreateTeamMember",
            "ok ok deny deny deny ok deny anon",
            |c, f, a| {
                let v = fresh_volunteer(&mut a, &f).await;
                c.create_team_member(CreateTeamMemberRequest {
                    parent: f.w.team_a.clone(),
                    member: Some(TeamMember {
                        volunteer: v,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!("ListTeamMembers", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .list_team_members(ListTeamMembersRequest {
                parent: f.w.team_a.clone(),
                ..Default::default()
            })
            .await
            .map(done)),
        case!(
            "UpdateTeamMember",
            "ok ok deny deny deny ok deny anon",
            |c, f, a| {
                let m = member(&mut a, &f).await;
                c.update_team_member(UpdateTeamMemberRequest {
                    member: Some(TeamMember {
                        name: m.name,
                        role: TeamRole::Backbone as i32,
                        ..Default::default()
                    }),
                    update_mask: mask(&["role"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DeleteTeamMember",
            "ok ok deny deny deny ok deny anon",
            |c, f, a| {
                let m = member(&mut a, &f).await;
                c.delete_team_member(DeleteTeamMemberRequest {
                    name: m.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!("GetCourse", "ok ok ok ok ok ok ok anon", |c, f, a| {
            let k = course(&mut a).await;
            c.get_course(GetCourseRequest { name: k.name })
                .await
                .map(done)
        }),
        case!("ListCourses", "ok ok ok ok ok ok ok anon", |c, f, a| {
            let k = course(&mut a).await;
            c.list_courses(ListCoursesRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| listed(r.into_inner().courses.into_iter().map(|x| x.name), &k.name))
        }),
        case!(
            "CreateCourse",
            "ok ok ok deny deny deny deny anon",
            |c, f, a| c
                .create_course(CreateCourseRequest {
                    course: Some(Course {
                        title: "c".into(),
                        ..Default::default()
                    }),
                    request_id: String::new()
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateCourse",
            "ok ok ok deny deny deny deny anon",
            |c, f, a| {
                let k = course(&mut a).await;
                c.update_course(UpdateCourseRequest {
                    course: Some(Course {
                        name: k.name,
                        title: "t".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["title"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CreateCompletion",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let k = course(&mut a).await;
                c.create_completion(CreateCompletionRequest {
                    parent: k.name,
                    completion: Some(Completion {
                        volunteer: f.w.volunteers_a[1].clone(),
                        complete_time: Some(timestamp(f.now)),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ListCompletions",
            "ok ok hid deny deny hid ok anon",
            |c, f, a| {
                let k = course(&mut a).await;
                let done_ = a
                    .create_completion(CreateCompletionRequest {
                        parent: k.name,
                        completion: Some(Completion {
                            volunteer: f.w.volunteers_a[1].clone(),
                            complete_time: Some(timestamp(f.now)),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                c.list_completions(ListCompletionsRequest {
                    parent: "courses/-".into(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map(|r| {
                    listed(
                        r.into_inner().completions.into_iter().map(|x| x.name),
                        &done_.name,
                    )
                })
            }
        ),
        case!("GetActivity", "ok ok deny ok ok ok ok anon", |c, f, a| {
            let x = activity(&mut a, &f, ActivityState::Published).await;
            c.get_activity(GetActivityRequest { name: x.name })
                .await
                .map(done)
        }),
        case!("ListActivities", "ok ok hid ok ok ok ok anon", |c, f, a| {
            let x = activity(&mut a, &f, ActivityState::Published).await;
            c.list_activities(ListActivitiesRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| {
                listed(
                    r.into_inner().activities.into_iter().map(|y| y.name),
                    &x.name,
                )
            })
        }),
        case!(
            "CreateActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| c
                .create_activity(activity_request(&f, 5000))
                .await
                .map(done)
        ),
        case!(
            "UpdateActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Published).await;
                c.update_activity(UpdateActivityRequest {
                    activity: Some(Activity {
                        name: x.name,
                        theme: "t".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["theme"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DeleteActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Draft).await;
                c.delete_activity(DeleteActivityRequest {
                    name: x.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "PublishActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Draft).await;
                c.publish_activity(PublishActivityRequest {
                    name: x.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "StartActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Published).await;
                c.start_activity(StartActivityRequest {
                    name: x.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CompleteActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Ongoing).await;
                c.complete_activity(CompleteActivityRequest {
                    name: x.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CancelActivity",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Published).await;
                c.cancel_activity(CancelActivityRequest {
                    name: x.name,
                    reason: "rain".into(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CreateSignup",
            "ok ok deny deny deny ok ok anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Published).await;
                sign_up(&mut c, &x.name, &f.w.volunteers_a[1])
                    .await
                    .map(done)
            }
        ),
        case!("GetSignup", "ok ok deny deny deny ok ok anon", |c, f, a| {
            let s = signup(&mut a, &f, ActivityState::Published).await;
            c.get_signup(GetSignupRequest { name: s.name })
                .await
                .map(done)
        }),
        case!(
            "ListSignups",
            "ok ok deny deny deny ok ok anon",
            |c, f, a| {
                let s = signup(&mut a, &f, ActivityState::Published).await;
                let parent = s.name.split("/signups/").next().unwrap().to_owned();
                c.list_signups(ListSignupsRequest {
                    parent,
                    ..Default::default()
                })
                .await
                .map(|r| listed(r.into_inner().signups.into_iter().map(|x| x.name), &s.name))
            }
        ),
        case!(
            "CancelSignup",
            "ok ok deny deny deny ok ok anon",
            |c, f, a| {
                let s = signup(&mut a, &f, ActivityState::Published).await;
                c.cancel_signup(CancelSignupRequest {
                    name: s.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CheckInSignup",
            "ok ok deny deny deny ok ok anon",
            |c, f, a| {
                let s = signup(&mut a, &f, ActivityState::Ongoing).await;
                c.check_in_signup(CheckInSignupRequest { name: s.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "CheckOutSignup",
            "ok ok deny deny deny ok ok anon",
            |c, f, a| {
                let s = signup(&mut a, &f, ActivityState::Ongoing).await;
                a.check_in_signup(CheckInSignupRequest {
                    name: s.name.clone(),
                })
                .await
                .unwrap();
                c.check_out_signup(CheckOutSignupRequest { name: s.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "CreateServiceRecord",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| c.create_service_record(record_request(&f)).await.map(done)
        ),
        case!(
            "GetServiceRecord",
            "ok ok deny deny deny ok ok anon",
            |c, f, a| {
                let r = record(&mut a, &f).await;
                c.get_service_record(GetServiceRecordRequest { name: r.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListServiceRecords",
            "ok ok hid hid hid ok ok anon",
            |c, f, a| {
                let r = record(&mut a, &f).await;
                c.list_service_records(ListServiceRecordsRequest {
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map(|l| {
                    listed(
                        l.into_inner().service_records.into_iter().map(|x| x.name),
                        &r.name,
                    )
                })
            }
        ),
        case!(
            "ApproveServiceRecord",
            "ok ok deny deny deny ok deny anon",
            |c, f, a| {
                let r = record(&mut a, &f).await;
                c.approve_service_record(ApproveServiceRecordRequest {
                    name: r.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "RejectServiceRecord",
            "ok ok deny deny deny ok deny anon",
            |c, f, a| {
                let r = record(&mut a, &f).await;
                c.reject_service_record(RejectServiceRecordRequest {
                    name: r.name,
                    reason: "no".into(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "GetTimeBankPolicy",
            "ok ok ok ok ok ok ok anon",
            |c, f, a| c
                .get_time_bank_policy(GetTimeBankPolicyRequest {
                    name: "timeBankPolicy".into()
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateTimeBankPolicy",
            "ok deny deny deny deny deny deny anon",
            |c, f, a| c
                .update_time_bank_policy(UpdateTimeBankPolicyRequest {
                    policy: Some(TimeBankPolicy {
                        name: "timeBankPolicy".into(),
                        points_per_hour: 10,
                        ..Default::default()
                    }),
                    update_mask: mask(&["points_per_hour"]),
                })
                .await
                .map(done)
        ),
        case!(
            "GetPointsAccount",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| c
                .get_points_account(GetPointsAccountRequest {
                    name: format!("{}/pointsAccount", f.w.volunteers_a[1])
                })
                .await
                .map(done)
        ),
        case!(
            "ListPointsEntries",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| c
                .list_points_entries(ListPointsEntriesRequest {
                    parent: f.w.volunteers_a[1].clone(),
                    ..Default::default()
                })
                .await
                .map(done)
        ),
        case!(
            "RedeemPoints",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| {
                let r = record(&mut a, &f).await;
                a.approve_service_record(ApproveServiceRecordRequest {
                    name: r.name,
                    ..Default::default()
                })
                .await
                .unwrap();
                c.redeem_points(RedeemPointsRequest {
                    volunteer: f.w.volunteers_a[1].clone(),
                    points: 1,
                    item: "x".into(),
                    request_id: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CreateCommendation",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| c
                .create_commendation(CreateCommendationRequest {
                    commendation: Some(Commendation {
                        recipient: f.w.volunteers_a[1].clone(),
                        title: "Star".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "ListCommendations",
            "ok ok ok ok ok ok ok anon",
            |c, f, a| c
                .list_commendations(ListCommendationsRequest::default())
                .await
                .map(done)
        ),
        case!(
            "ListBadges",
            "ok ok deny deny ok deny ok anon",
            |c, f, a| c
                .list_badges(ListBadgesRequest {
                    parent: f.w.volunteers_a[1].clone(),
                    ..Default::default()
                })
                .await
                .map(done)
        ),
        case!(
            "MatchVolunteers",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let x = activity(&mut a, &f, ActivityState::Published).await;
                c.match_volunteers(MatchVolunteersRequest {
                    need: Some(Need::Activity(x.name)),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ComputeVolunteerHours",
            "ok ok ok ok ok ok ok anon",
            |c, f, a| c
                .compute_volunteer_hours(ComputeVolunteerHoursRequest {
                    group_by: HoursGroup::Community as i32,
                    ..Default::default()
                })
                .await
                .map(done)
        ),
    ]
}

#[test]
fn every_rpc_has_a_case() {
    cogov_kit::testing::matrix::assert_covers(&cases(), "cogov.volunteers.v1", "VolunteersService");
}

crate::both!(matrix);

async fn matrix(env: Env) {
    let w = World::build(&env, 2).await;
    let principals: Vec<(&str, Client)> = vec![
        ("street admin", env.admin()),
        (
            "community admin of A",
            env.client(community_admin(&w.community_a)),
        ),
        (
            "community admin of B",
            env.client(community_admin(&w.community_b)),
        ),
        ("firm A", env.client(partner(&w.firm_a))),
        ("area unit", env.client(partner(&w.unit))),
        (
            "resident 0 (team leader)",
            env.client(resident(&w.persons_a[0])),
        ),
        ("resident 1", env.client(resident(&w.persons_a[1]))),
        ("no credentials", env.anonymous()),
    ];
    let fixture = Arc::new(Fixture {
        orgs: env.org_admin(),
        now: env.clock.now(),
        w,
    });
    cogov_kit::testing::matrix::run(cases(), &principals, &env.admin(), fixture).await;
}
