//! The demo's volunteers: a volunteer record for about half the residents,
//! the five brand teams, training, and the year's 29 themed activities —
//! past ones completed with approved hours and points, the next ones open
//! for sign-up.

use chrono::{Duration, SubsecRound, Utc};
use cogov_kit::convert::timestamp;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_proto::volunteers::*;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use tonic::transport::Channel;

use super::{DemoStreet, Signer, err};

/// The year's themed activities (29, as in the article).
const ACTIVITIES: [&str; 29] = [
    "邮票墙彩绘 Painting the stamp wall",
    "厨艺大赛 Cooking contest",
    "共享菜园育苗 Seedlings for the shared garden",
    "楼道清理日 Stairwell clean-up day",
    "垃圾分类宣传 Waste-sorting campaign",
    "敬老助餐 Meals for the elderly",
    "消防演练 Fire drill",
    "义诊 Free clinic",
    "法律咨询 Legal advice",
    "非遗剪纸 Paper-cutting workshop",
    "书法进楼院 Calligraphy in the courtyard",
    "亲子阅读 Family reading",
    "文明停车劝导 Parking persuasion",
    "电动车充电安全宣传 E-bike charging safety",
    "绿植认领 Adopt a plant",
    "旧物改造 Upcycling",
    "健康讲座 Health talk",
    "手机课堂 Phone class for elders",
    "邻里节 Neighbours' day",
    "端午包粽子 Dragon boat dumplings",
    "中秋联欢 Mid-autumn gathering",
    "重阳敬老 Double ninth for elders",
    "春节写春联 Spring couplets",
    "植树节 Tree planting",
    "红色观影 Film screening",
    "党员先锋岗 Party-member service post",
    "垃圾分类桶前值守 Bin-side guidance",
    "社区运动会 Community sports day",
    "冬季送温暖 Winter warmth",
];

const SKILLS: [&str; 10] = [
    "first_aid",
    "repair",
    "plumbing",
    "electrics",
    "gardening",
    "cooking",
    "painting",
    "persuasion",
    "mediation",
    "elderly_care",
];

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Loads the volunteers' demo; returns a summary.
pub async fn load(
    channel: Channel,
    signer: Signer,
    street: &DemoStreet,
    rng: &mut ChaCha8Rng,
) -> Result<String, String> {
    let mut c = VolunteersServiceClient::with_interceptor(channel, signer);
    let mut calls = 0usize;
    macro_rules! call {
        ($method:ident, $what:literal, $req:expr) => {{
            calls += 1;
            c.$method($req).await.map_err(err($what))?.into_inner()
        }};
    }

    // Volunteers: about half the residents, with skills and weekend mornings.
    let mut by_community: Vec<Vec<String>> = vec![Vec::new(); street.communities.len()];
    for (person, yi) in &street.residents {
        if !rng.random_bool(0.5) {
            continue;
        }
        let skills: Vec<String> = (0..rng.random_range(1..=3))
            .map(|_| SKILLS[rng.random_range(0..SKILLS.len())].to_owned())
            .collect();
        let day = rng.random_range(6..=7);
        let request_id = uuid(rng);
        let v = call!(
            create_volunteer,
            "volunteer",
            CreateVolunteerRequest {
                volunteer: Some(Volunteer {
                    person: person.clone(),
                    skills,
                    availability: vec![WeeklyWindow {
                        day_of_week: day,
                        start_minute: 8 * 60,
                        end_minute: 17 * 60
                    }],
                    ..Default::default()
                }),
                request_id,
            }
        );
        by_community[street.courtyards[*yi].1].push(v.name);
    }
    let volunteers: usize = by_community.iter().map(Vec::len).sum();

    // The five brand teams.
    let mut teams = vec![String::new(); street.communities.len()];
    for (org, display, community) in &street.teams {
        let pool = &by_community[*community];
        let request_id = uuid(rng);
        let team = call!(
            create_team,
            "team",
            CreateTeamRequest {
                team: Some(Team {
                    display_name: (*display).to_owned(),
                    community: street.communities[*community].clone(),
                    brand: true,
                    leader: pool.first().cloned().unwrap_or_default(),
                    organization: org.clone(),
                    description: "品牌志愿服务队 A brand volunteer team".into(),
                    ..Default::default()
                }),
                request_id,
            }
        );
        for v in pool.iter().skip(1).take(9) {
            let request_id = uuid(rng);
            call!(
                create_team_member,
                "team member",
                CreateTeamMemberRequest {
                    parent: team.name.clone(),
                    member: Some(TeamMember {
                        volunteer: v.clone(),
                        ..Default::default()
                    }),
                    request_id,
                }
            );
        }
        teams[*community] = team.name;
    }

    // Training.
    let first_aid = call!(
        create_course,
        "course",
        CreateCourseRequest {
            course: Some(Course {
                title: "急救培训 First aid".into(),
                certifies: true,
                validity_days: 365,
                ..Default::default()
            }),
            request_id: uuid(rng),
        }
    );
    call!(
        create_course,
        "course",
        CreateCourseRequest {
            course: Some(Course {
                title: "楼门长履职培训 Building heads' training".into(),
                ..Default::default()
            }),
            request_id: uuid(rng),
        }
    );
    let now = Utc::now().trunc_subsecs(0);
    let mut certified = 0;
    for pool in &by_community {
        for v in pool.iter().take(3) {
            let request_id = uuid(rng);
            call!(
                create_completion,
                "completion",
                CreateCompletionRequest {
                    parent: first_aid.name.clone(),
                    completion: Some(Completion {
                        volunteer: v.clone(),
                        complete_time: Some(timestamp(
                            now - Duration::days(rng.random_range(10..200))
                        )),
                        ..Default::default()
                    }),
                    request_id,
                }
            );
            certified += 1;
        }
    }

    // The year's activities: 24 behind us, 5 ahead.
    let mut minutes = 0i64;
    let mut states = [0usize; 3];
    for (i, title) in ACTIVITIES.iter().enumerate() {
        let community = i % street.communities.len();
        let days = -330 + (i as i64) * 13;
        let start = (now + Duration::days(days))
            .date_naive()
            .and_hms_opt(1, 0, 0)
            .expect("09:00 Beijing")
            .and_utc();
        let co = street
            .units
            .iter()
            .filter(|(_, with)| with.contains(&community))
            .map(|(u, _)| u.clone())
            .collect();
        let needs_first_aid = title.contains("义诊") || title.contains("运动会");
        let a = call!(
            create_activity,
            "activity",
            CreateActivityRequest {
                activity: Some(Activity {
                    title: (*title).to_owned(),
                    theme: title.split(' ').next().unwrap_or_default().to_owned(),
                    community: street.communities[community].clone(),
                    organizing_team: teams[community].clone(),
                    co_organizers: co,
                    start_time: Some(timestamp(start)),
                    end_time: Some(timestamp(start + Duration::hours(3))),
                    capacity: 20,
                    waitlist_capacity: 5,
                    required_certifications: if needs_first_aid {
                        vec![first_aid.name.clone()]
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                }),
                request_id: uuid(rng),
            }
        );
        call!(
            publish_activity,
            "publish",
            PublishActivityRequest {
                name: a.name.clone(),
                ..Default::default()
            }
        );
        let pool = &by_community[community];
        let mut signed = Vec::new();
        for v in pool.iter().take(rng.random_range(4..=12)) {
            let request_id = uuid(rng);
            calls += 1;
            let ok = c
                .create_signup(CreateSignupRequest {
                    parent: a.name.clone(),
                    signup: Some(Signup {
                        volunteer: v.clone(),
                        ..Default::default()
                    }),
                    request_id,
                })
                .await;
            // Certifications and capacity refuse some: that is realistic.
            if ok.is_ok() {
                signed.push(v.clone());
            }
        }
        if days >= 0 {
            states[0] += 1;
            continue;
        }
        call!(
            start_activity,
            "start",
            StartActivityRequest {
                name: a.name.clone(),
                ..Default::default()
            }
        );
        call!(
            complete_activity,
            "complete",
            CompleteActivityRequest {
                name: a.name.clone(),
                ..Default::default()
            }
        );
        states[1] += 1;
        for v in &signed {
            let served = rng.random_range(90..=180);
            let request_id = uuid(rng);
            let record = call!(
                create_service_record,
                "service record",
                CreateServiceRecordRequest {
                    service_record: Some(ServiceRecord {
                        volunteer: v.clone(),
                        activity: a.name.clone(),
                        team: teams[community].clone(),
                        start_time: Some(timestamp(start)),
                        minutes: served,
                        description: (*title).to_owned(),
                        ..Default::default()
                    }),
                    request_id,
                }
            );
            if rng.random_bool(0.9) {
                call!(
                    approve_service_record,
                    "approve",
                    ApproveServiceRecordRequest {
                        name: record.name,
                        ..Default::default()
                    }
                );
                minutes += i64::from(served);
            } else {
                states[2] += 1;
            }
        }
    }
    for pool in by_community.iter().take(3) {
        if let Some(v) = pool.first() {
            call!(
                create_commendation,
                "commendation",
                CreateCommendationRequest {
                    commendation: Some(Commendation {
                        recipient: v.clone(),
                        title: format!("{}年度优秀志愿者 Volunteer of the year", 2026),
                        citation: "常年服务楼院 Years of service to the courtyard".into(),
                        ..Default::default()
                    }),
                    request_id: uuid(rng),
                }
            );
        }
    }
    Ok(format!(
        "{volunteers} volunteers, 5 brand teams, {certified} first-aid certificates, 29 activities ({} completed, {} open), {} approved hours, {} records pending ({calls} calls)",
        states[1],
        states[0],
        minutes / 60,
        states[2]
    ))
}
