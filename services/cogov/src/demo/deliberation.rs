//! The demo's deliberation: a 1+4+N council in every community with its
//! seats, topics in every state, and one decision followed through — a
//! meeting with its quorum, a proposal voted online and by show of hands,
//! a resolution and action items in progress.

use chrono::{Duration, Utc};
use cogov_kit::convert::{self, timestamp};
use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::*;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::{DemoStreet, Signer, err};

type Client = DeliberationServiceClient<InterceptedService<Channel, Signer>>;

/// Topics the councils take up, (title, description).
const TOPICS: [(&str, &str); 10] = [
    (
        "加装电梯 An elevator for building 3",
        "Older residents on the fifth floor rarely go out.",
    ),
    (
        "楼道堆物清理 Clearing the stairwells",
        "Bicycles and boxes block the way out in a fire.",
    ),
    (
        "夜间停车 Night parking in the school yard",
        "The school could open its yard to residents' cars at night.",
    ),
    (
        "垃圾分类桶站 Where the sorting bins go",
        "The bins by building 2 smell in summer.",
    ),
    (
        "电动车充电棚 A charging shed for e-bikes",
        "Charging in the stairwell is a fire risk.",
    ),
    (
        "绿化带补种 Replanting the verge",
        "The verge by the gate is bare earth.",
    ),
    (
        "楼道照明 Stairwell lights",
        "Half the stairwell lights are broken.",
    ),
    (
        "老年食堂 A canteen for the elderly",
        "Meals for those who cannot cook for themselves.",
    ),
    (
        "屋顶防水 Waterproofing the roofs",
        "Top-floor flats leak every rainy season.",
    ),
    (
        "文明养犬公约 A dog-keeping pact",
        "Dogs off the lead frighten children.",
    ),
];

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Counts calls and signs them as the loader or a resident.
struct Demo<'a> {
    channel: Channel,
    signer: Signer,
    rng: &'a mut ChaCha8Rng,
    calls: usize,
}

impl Demo<'_> {
    fn admin(&mut self) -> Client {
        self.calls += 1;
        DeliberationServiceClient::with_interceptor(self.channel.clone(), self.signer.clone())
    }

    fn as_resident(&mut self, person: &str) -> Client {
        self.calls += 1;
        DeliberationServiceClient::with_interceptor(
            self.channel.clone(),
            self.signer.resident(person),
        )
    }

    fn id(&mut self) -> String {
        uuid(self.rng)
    }
}

/// A community's council and who sits on it.
struct Council {
    name: String,
    secretary: String,
    voters: Vec<String>,
    residents: Vec<String>,
}

/// Loads the deliberation demo; returns a summary.
pub async fn load(
    channel: Channel,
    signer: Signer,
    street: &DemoStreet,
    rng: &mut ChaCha8Rng,
) -> Result<String, String> {
    let mut d = Demo {
        channel,
        signer,
        rng,
        calls: 0,
    };
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let term_start = convert::date(today - Duration::days(400));

    let mut councils = Vec::new();
    for (ci, community) in street.communities.iter().enumerate() {
        let residents: Vec<String> = street
            .residents
            .iter()
            .filter(|(_, yi)| street.courtyards[*yi].1 == ci)
            .map(|(p, _)| p.clone())
            .collect();
        if residents.len() < 12 {
            continue;
        }
        let request_id = d.id();
        let council = d
            .admin()
            .create_council(CreateCouncilRequest {
                council: Some(cogov_proto::deliberation::Council {
                    display_name: "议事协商会 1+4+N council".into(),
                    place: community.clone(),
                    description: "党组织召集、业委会主导、多方参与 Convened by the party branch, led by the owners' committee, open to all".into(),
                    support_threshold: 5,
                    quorum_share: 0.5,
                    quorum_required_kinds: vec![SeatKind::PropertyManager as i32],
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("council"))?
            .into_inner();
        let firm = street
            .firms
            .iter()
            .find(|(_, served)| served.contains(&ci))
            .map(|(f, _)| f.clone());
        let mut seats = vec![
            (SeatKind::Secretary, 0, None),
            (SeatKind::BuildingHead, 1, None),
            (SeatKind::DoubleReportMember, 2, None),
            (SeatKind::Backbone, 3, None),
            (SeatKind::Volunteer, 5, None),
            (SeatKind::Volunteer, 6, None),
            (SeatKind::Volunteer, 7, None),
            (SeatKind::ExpertAdviser, 8, None),
        ];
        // A community without a firm has no property manager: its
        // composition check says so.
        if let Some(firm) = firm {
            seats.push((SeatKind::PropertyManager, 4, Some(firm)));
        }
        let mut voters = Vec::new();
        for (kind, who, organization) in seats {
            let request_id = d.id();
            d.admin()
                .create_seat(CreateSeatRequest {
                    parent: council.name.clone(),
                    seat: Some(Seat {
                        person: residents[who].clone(),
                        kind: kind as i32,
                        organization: organization.unwrap_or_default(),
                        start_date: Some(term_start),
                        ..Default::default()
                    }),
                    request_id,
                })
                .await
                .map_err(err("seat"))?;
            if kind != SeatKind::ExpertAdviser {
                voters.push(residents[who].clone());
            }
        }
        councils.push(Council {
            name: council.name,
            secretary: residents[0].clone(),
            voters,
            residents,
        });
    }

    // Every council: a topic gathering support and one on the agenda.
    let mut topics = 0;
    for (i, council) in councils.iter().enumerate() {
        let (title, description) = TOPICS[i % TOPICS.len()];
        let proposer = council.residents[10].clone();
        let request_id = d.id();
        let gathering = d
            .as_resident(&proposer)
            .create_topic(CreateTopicRequest {
                topic: Some(Topic {
                    council: council.name.clone(),
                    title: title.into(),
                    description: description.into(),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("topic"))?
            .into_inner();
        for supporter in council.residents.iter().skip(10).take(3) {
            d.as_resident(supporter)
                .support_topic(SupportTopicRequest {
                    name: gathering.name.clone(),
                    supporter: supporter.clone(),
                })
                .await
                .map_err(err("support"))?;
        }
        let (title, description) = TOPICS[(i + 3) % TOPICS.len()];
        let staff = topic(&mut d, &council.name, title, description).await?;
        d.as_resident(&council.secretary)
            .schedule_topic(ScheduleTopicRequest {
                name: staff.name,
                ..Default::default()
            })
            .await
            .map_err(err("schedule"))?;
        topics += 2;
    }

    let mut decided = 0;
    if let Some(council) = councils.first() {
        decide(&mut d, street, council).await?;
        decided += 1;
        topics += 1;
    }
    if let Some(council) = councils.get(1) {
        // Decided by consensus at a meeting and already carried out.
        let t = topic(
            &mut d,
            &council.name,
            "共享菜园 A shared vegetable garden",
            "Turn the empty plot behind building 4 into a garden kept by volunteers.",
        )
        .await?;
        let t = discuss(&mut d, &council.secretary, &t.name).await?;
        let request_id = d.id();
        let r = d
            .as_resident(&council.secretary)
            .create_resolution(CreateResolutionRequest {
                resolution: Some(Resolution {
                    topic: t.name.clone(),
                    statement: "由园丁志愿队认领菜园 The garden keepers take the plot".into(),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("resolution"))?
            .into_inner();
        let request_id = d.id();
        d.as_resident(&council.secretary)
            .create_action_item(CreateActionItemRequest {
                parent: r.name,
                action_item: Some(ActionItem {
                    description: "整地、分配地块 Clear the plot and share it out".into(),
                    owner: street.committees[1].clone(),
                    due_date: Some(convert::date(today - Duration::days(20))),
                    status: ActionItemStatus::Done as i32,
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("action item"))?;
        d.as_resident(&council.secretary)
            .complete_topic(CompleteTopicRequest {
                name: t.name,
                ..Default::default()
            })
            .await
            .map_err(err("complete"))?;
        decided += 1;
        topics += 1;
    }
    if let Some(council) = councils.get(2) {
        // Voting now: residents can still cast their ballots.
        let t = topic(
            &mut d,
            &council.name,
            "小区改造先做哪项 Which renovation first?",
            "The street has funds for one project this year.",
        )
        .await?;
        discuss(&mut d, &council.secretary, &t.name).await?;
        let options = [
            ("roofs", "屋顶防水 Roofs"),
            ("lights", "楼道照明 Lights"),
            ("parking", "停车位 Parking"),
        ];
        let request_id = d.id();
        let poll = d
            .as_resident(&council.secretary)
            .create_poll(CreatePollRequest {
                poll: Some(Poll {
                    topic: t.name.clone(),
                    title: "先做哪项？ Which first?".into(),
                    method: PollMethod::RankedChoice as i32,
                    options: options
                        .iter()
                        .map(|(k, title)| PollOption {
                            key: (*k).into(),
                            title: (*title).into(),
                            time: None,
                        })
                        .collect(),
                    close_time: Some(timestamp(Utc::now() + Duration::days(7))),
                    eligibility: Eligibility::CouncilVotingSeats as i32,
                    quorum_percent: 50,
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("poll"))?
            .into_inner();
        d.as_resident(&council.secretary)
            .open_poll(OpenPollRequest {
                name: poll.name.clone(),
                ..Default::default()
            })
            .await
            .map_err(err("open poll"))?;
        for (i, voter) in council.voters.iter().take(4).enumerate() {
            let first = options[i % 3].0;
            let second = options[(i + 1) % 3].0;
            let request_id = d.id();
            d.as_resident(voter)
                .cast_vote(CastVoteRequest {
                    poll: poll.name.clone(),
                    voter: voter.clone(),
                    choices: vec![
                        Choice {
                            option: first.into(),
                            value: 1,
                        },
                        Choice {
                            option: second.into(),
                            value: 2,
                        },
                    ],
                    request_id,
                    ..Default::default()
                })
                .await
                .map_err(err("ballot"))?;
        }
        topics += 1;
    }
    if let Some(council) = councils.get(3) {
        let t = topic(
            &mut d,
            &council.name,
            "拆除围墙 Taking down the wall to the market",
            "A shortcut to the market through the courtyard.",
        )
        .await?;
        d.as_resident(&council.secretary)
            .reject_topic(RejectTopicRequest {
                name: t.name,
                reason: "安全与噪音顾虑，多数反对 Safety and noise; most were against".into(),
                ..Default::default()
            })
            .await
            .map_err(err("reject"))?;
        topics += 1;
    }
    Ok(format!(
        "{} councils, {topics} topics, {decided} decided ({} calls)",
        councils.len(),
        d.calls
    ))
}

async fn topic(
    d: &mut Demo<'_>,
    council: &str,
    title: &str,
    description: &str,
) -> Result<Topic, String> {
    let request_id = d.id();
    Ok(d.admin()
        .create_topic(CreateTopicRequest {
            topic: Some(Topic {
                council: council.into(),
                title: title.into(),
                description: description.into(),
                ..Default::default()
            }),
            request_id,
        })
        .await
        .map_err(err("topic"))?
        .into_inner())
}

/// Schedules a topic and opens its discussion, as the secretary.
async fn discuss(d: &mut Demo<'_>, secretary: &str, topic: &str) -> Result<Topic, String> {
    d.as_resident(secretary)
        .schedule_topic(ScheduleTopicRequest {
            name: topic.into(),
            ..Default::default()
        })
        .await
        .map_err(err("schedule"))?;
    Ok(d.as_resident(secretary)
        .open_topic_discussion(OpenTopicDiscussionRequest {
            name: topic.into(),
            ..Default::default()
        })
        .await
        .map_err(err("discussion"))?
        .into_inner())
}

/// The stamp wall, from meeting to action items in progress.
async fn decide(d: &mut Demo<'_>, street: &DemoStreet, council: &Council) -> Result<(), String> {
    let secretary = council.secretary.clone();
    let t = topic(
        d,
        &council.name,
        "邮票墙彩绘 Painting the stamp wall",
        "Turn the blank gable wall into a mural of stamps drawn by the children.",
    )
    .await?;
    let t = discuss(d, &secretary, &t.name).await?;
    for (who, stance, text) in [
        (2, Stance::Support, "孩子们都很期待 The children can't wait"),
        (3, Stance::Concern, "颜料要环保 The paint must be safe"),
        (5, Stance::Support, "我可以帮忙 I can help paint"),
    ] {
        let author = council.residents[who].clone();
        let request_id = d.id();
        d.as_resident(&author)
            .create_opinion(CreateOpinionRequest {
                parent: t.name.clone(),
                opinion: Some(Opinion {
                    author: author.clone(),
                    stance: stance as i32,
                    text: text.into(),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("opinion"))?;
    }
    let request_id = d.id();
    let meeting = d
        .as_resident(&secretary)
        .create_meeting(CreateMeetingRequest {
            meeting: Some(Meeting {
                council: council.name.clone(),
                title: "月度议事会 Monthly sitting".into(),
                mode: MeetingMode::Hybrid as i32,
                location: "社区活动室 Community room".into(),
                online_url: "https://meet.example.org/niujie".into(),
                start_time: Some(timestamp(Utc::now() - Duration::hours(2))),
                agenda: vec![t.name.clone()],
                ..Default::default()
            }),
            request_id,
        })
        .await
        .map_err(err("meeting"))?
        .into_inner();
    d.as_resident(&secretary)
        .start_meeting(StartMeetingRequest {
            name: meeting.name.clone(),
            ..Default::default()
        })
        .await
        .map_err(err("start meeting"))?;
    for person in council.voters.iter().chain(council.residents.get(8)) {
        let request_id = d.id();
        d.as_resident(&secretary)
            .create_attendance(CreateAttendanceRequest {
                parent: meeting.name.clone(),
                attendance: Some(Attendance {
                    person: person.clone(),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("sign-in"))?;
    }
    let request_id = d.id();
    let poll = d
        .as_resident(&secretary)
        .create_poll(CreatePollRequest {
            poll: Some(Poll {
                topic: t.name.clone(),
                meeting: meeting.name.clone(),
                title: "同意彩绘方案？ Paint the wall as proposed?".into(),
                method: PollMethod::Proposal as i32,
                close_time: Some(timestamp(Utc::now() + Duration::days(1))),
                eligibility: Eligibility::CouncilVotingSeats as i32,
                quorum_percent: 50,
                ..Default::default()
            }),
            request_id,
        })
        .await
        .map_err(err("poll"))?
        .into_inner();
    d.as_resident(&secretary)
        .open_poll(OpenPollRequest {
            name: poll.name.clone(),
            ..Default::default()
        })
        .await
        .map_err(err("open poll"))?;
    let online = ["agree", "agree", "agree", "abstain"];
    for (voter, option) in council.voters.iter().zip(online) {
        let request_id = d.id();
        d.as_resident(voter)
            .cast_vote(CastVoteRequest {
                poll: poll.name.clone(),
                voter: voter.clone(),
                choices: vec![Choice {
                    option: option.into(),
                    value: 1,
                }],
                request_id,
                ..Default::default()
            })
            .await
            .map_err(err("ballot"))?;
    }
    let request_id = d.id();
    d.as_resident(&secretary)
        .create_offline_tally(CreateOfflineTallyRequest {
            parent: poll.name.clone(),
            offline_tally: Some(OfflineTally {
                meeting: meeting.name.clone(),
                counts: [("agree".to_owned(), 2), ("disagree".to_owned(), 1)].into(),
                voters: 3,
                ..Default::default()
            }),
            request_id,
        })
        .await
        .map_err(err("show of hands"))?;
    d.as_resident(&secretary)
        .close_poll(ClosePollRequest {
            name: poll.name.clone(),
            ..Default::default()
        })
        .await
        .map_err(err("close poll"))?;
    d.as_resident(&secretary)
        .end_meeting(EndMeetingRequest {
            name: meeting.name.clone(),
            ..Default::default()
        })
        .await
        .map_err(err("end meeting"))?;
    let request_id = d.id();
    let r = d
        .as_resident(&secretary)
        .create_resolution(CreateResolutionRequest {
            resolution: Some(Resolution {
                topic: t.name.clone(),
                poll: poll.name.clone(),
                statement: "暑期由志愿者与孩子们彩绘邮票墙，物业负责墙面修补 Volunteers and children paint the wall this summer; the firm repairs the plaster first".into(),
                review_date: Some(convert::date(
                    (Utc::now() + Duration::days(90)).date_naive(),
                )),
                ..Default::default()
            }),
            request_id,
        })
        .await
        .map_err(err("resolution"))?
        .into_inner();
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let firm = street
        .firms
        .iter()
        .find(|(_, served)| served.contains(&0))
        .map(|(f, _)| f.clone())
        .unwrap_or_else(|| street.committees[0].clone());
    let items = [
        (
            "墙面修补 Repair the plaster",
            firm,
            today + Duration::days(10),
            ActionItemStatus::InProgress,
            60,
        ),
        (
            "征集孩子们的邮票画稿 Collect the children's designs",
            street.committees[0].clone(),
            today - Duration::days(3),
            ActionItemStatus::Done,
            100,
        ),
        (
            "采购环保颜料 Buy safe paint",
            street.departments[0].clone(),
            today + Duration::days(20),
            ActionItemStatus::NotStarted,
            0,
        ),
    ];
    for (description, owner, due, status, progress) in items {
        let request_id = d.id();
        d.as_resident(&secretary)
            .create_action_item(CreateActionItemRequest {
                parent: r.name.clone(),
                action_item: Some(ActionItem {
                    description: description.into(),
                    owner,
                    due_date: Some(convert::date(due)),
                    status: status as i32,
                    progress,
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("action item"))?;
    }
    Ok(())
}
