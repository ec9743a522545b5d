//! Topics: proposing, co-signing to the agenda, discussion and moderation,
//! and every lifecycle step.

use cogov_proto::deliberation::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    support_puts_a_topic_on_the_agenda,
    concurrent_co_signers_reach_the_threshold_once,
    lifecycle_steps,
    discussion_and_moderation
);

async fn support_puts_a_topic_on_the_agenda(env: Env) {
    let w = World::build(&env).await;
    let proposer = w.person(PLAIN);
    let mut me = env.as_person(proposer);
    let t = me
        .create_topic(CreateTopicRequest {
            topic: Some(Topic {
                council: w.council.clone(),
                title: "加装电梯 An elevator for building 3".into(),
                evidence_issues: vec![format!("issues/{}", uuid::Uuid::now_v7())],
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.source, TopicSource::Resident as i32);
    assert_eq!(t.proposer, proposer);
    assert_eq!(t.state, TopicState::Proposed as i32);
    assert_eq!(t.support_threshold, 3);

    // The same person signing at once from eight clients counts once.
    let signer = w.person(PLAIN + 1).to_owned();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut c = env.as_person(&signer);
        let req = SupportTopicRequest {
            name: t.name.clone(),
            supporter: signer.clone(),
        };
        tasks.push(tokio::spawn(async move { c.support_topic(req).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let support = |who: &str| SupportTopicRequest {
        name: t.name.clone(),
        supporter: who.into(),
    };
    let got = me
        .support_topic(support(proposer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.support_count, 2);
    assert_eq!(got.state, TopicState::Proposed as i32);
    // Nobody signs for someone else, except the secretary recording paper.
    assert_status(
        me.support_topic(support(w.person(BACKBONE))).await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let secretary = env.as_person(w.person(SECRETARY));
    let got = secretary
        .clone()
        .support_topic(support(w.person(BACKBONE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.support_count, 3);
    assert_eq!(got.state, TopicState::OnAgenda as i32, "threshold reached");
    // On the agenda, a repeat still answers the topic unchanged; a new
    // signature is refused.
    let again = secretary
        .clone()
        .support_topic(support(w.person(BACKBONE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.support_count, again.etag), (3, got.etag));
    assert_status(
        secretary
            .clone()
            .support_topic(support(w.person(SECRETARY)))
            .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // Someone from elsewhere is not eligible to co-sign.
    assert_status(
        env.admin().support_topic(support(&w.outsider)).await,
        Code::FailedPrecondition,
        "NOT_ELIGIBLE",
    );
    // ...and cannot even see the topic.
    assert_status(
        env.as_person(&w.outsider)
            .get_topic(GetTopicRequest {
                name: t.name.clone(),
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    // Ordered by support.
    topic(
        &mut env.admin(),
        &w.council,
        "Quiet one",
        TopicState::Proposed,
    )
    .await;
    let by_support = env
        .admin()
        .list_topics(ListTopicsRequest {
            filter: format!("council = {}", w.council),
            order_by: "support_count desc".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .topics;
    assert_eq!(by_support[0].name, t.name);
    assert_eq!(by_support.len(), 2);
}

/// Every resident of the courtyard co-signs at once: exactly as many
/// signatures as the threshold count, the topic goes on the agenda once,
/// and the later signers are refused with nothing of theirs kept.
async fn concurrent_co_signers_reach_the_threshold_once(env: Env) {
    let w = World::build(&env).await;
    let t = topic(
        &mut env.admin(),
        &w.council,
        "楼道灯 Stair lights",
        TopicState::Proposed,
    )
    .await;
    assert_eq!(t.support_threshold, 3);
    let mut signers = Vec::new();
    for person in w.persons.clone() {
        let mut c = env.as_person(&person);
        let req = SupportTopicRequest {
            name: t.name.clone(),
            supporter: person,
        };
        signers.push(tokio::spawn(async move { c.support_topic(req).await }));
    }
    let (mut counted, mut refused) = (Vec::new(), 0);
    for signer in signers {
        match signer.await.unwrap() {
            Ok(got) => counted.push(got.into_inner()),
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(counted.len(), 3, "the threshold's worth counted");
    assert_eq!(refused, w.persons.len() - 3);
    let mut counts: Vec<i32> = counted.iter().map(|t| t.support_count).collect();
    counts.sort();
    assert_eq!(counts, [1, 2, 3], "each signature counted once, in turn");
    let on_agenda: Vec<_> = counted
        .iter()
        .filter(|t| t.state == TopicState::OnAgenda as i32)
        .collect();
    assert_eq!(on_agenda.len(), 1, "the third signature, alone, moved it");
    assert_eq!(on_agenda[0].support_count, 3);
    let now = env
        .admin()
        .get_topic(GetTopicRequest {
            name: t.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (now.support_count, now.state, now.etag.clone()),
        (3, TopicState::OnAgenda as i32, on_agenda[0].etag.clone())
    );
}

async fn lifecycle_steps(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let t = topic(&mut c, &w.council, "Parking rules", TopicState::Proposed).await;
    assert_eq!(t.source, TopicSource::Staff as i32);
    // Discussion cannot open before the agenda.
    assert_status(
        c.open_topic_discussion(OpenTopicDiscussionRequest {
            name: t.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // A resident without the secretary's seat does not schedule.
    assert_status(
        env.as_person(w.person(PLAIN))
            .schedule_topic(ScheduleTopicRequest {
                name: t.name.clone(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    // The secretary does; a stale etag is refused.
    let mut secretary = env.as_person(w.person(SECRETARY));
    assert_status(
        secretary
            .schedule_topic(ScheduleTopicRequest {
                name: t.name.clone(),
                etag: "\"99\"".into(),
            })
            .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    let t = secretary
        .schedule_topic(ScheduleTopicRequest {
            name: t.name.clone(),
            etag: t.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.state, TopicState::OnAgenda as i32);
    let t = secretary
        .open_topic_discussion(OpenTopicDiscussionRequest {
            name: t.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.state, TopicState::InDiscussion as i32);
    // Completing needs a decision carried out first.
    assert_status(
        secretary
            .complete_topic(CompleteTopicRequest {
                name: t.name.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // Rejecting needs a reason.
    assert_bad_field(
        secretary
            .reject_topic(RejectTopicRequest {
                name: t.name.clone(),
                ..Default::default()
            })
            .await,
        "reason",
    );
    let t = secretary
        .reject_topic(RejectTopicRequest {
            name: t.name.clone(),
            reason: "已由物业解决 The firm already fixed it".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.state, TopicState::Rejected as i32);
    assert_eq!(t.close_reason, "已由物业解决 The firm already fixed it");
    assert_status(
        secretary
            .withdraw_topic(WithdrawTopicRequest {
                name: t.name.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );

    // The proposer withdraws their own; others cannot.
    let mut proposer = env.as_person(w.person(PLAIN));
    let mine = proposer
        .create_topic(CreateTopicRequest {
            topic: Some(Topic {
                council: w.council.clone(),
                title: "Mine".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_status(
        env.as_person(w.person(PLAIN + 1))
            .withdraw_topic(WithdrawTopicRequest {
                name: mine.name.clone(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    // While proposed, the proposer edits it.
    let edited = proposer
        .update_topic(UpdateTopicRequest {
            topic: Some(Topic {
                name: mine.name.clone(),
                title: "Mine, clearer".into(),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.title, "Mine, clearer");
    let gone = proposer
        .withdraw_topic(WithdrawTopicRequest {
            name: mine.name.clone(),
            reason: "Sorted it with my neighbour".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gone.state, TopicState::Withdrawn as i32);

    // A partner proposes too; staff with evidence escalate an issue.
    let firm = env
        .client(partner(&w.firm_a))
        .create_topic(CreateTopicRequest {
            topic: Some(Topic {
                council: w.council.clone(),
                title: "Repaint the railings".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(firm.source, TopicSource::Partner as i32);
    assert_eq!(firm.proposer, w.firm_a);
    let escalated = c
        .create_topic(CreateTopicRequest {
            topic: Some(Topic {
                council: w.council.clone(),
                title: "Recurring leaks".into(),
                cluster: format!("clusters/{}", uuid::Uuid::now_v7()),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(escalated.source, TopicSource::EscalatedIssue as i32);
    let by_state = c
        .list_topics(ListTopicsRequest {
            filter: "state = WITHDRAWN OR state = REJECTED".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .topics;
    assert_eq!(by_state.len(), 2);
}

async fn discussion_and_moderation(env: Env) {
    let w = World::build(&env).await;
    let t = topic(
        &mut env.admin(),
        &w.council,
        "Bins",
        TopicState::InDiscussion,
    )
    .await;
    let mut speaker = env.as_person(w.person(PLAIN));
    let first = speaker
        .create_opinion(CreateOpinionRequest {
            parent: t.name.clone(),
            opinion: Some(Opinion {
                author: w.person(PLAIN).into(),
                stance: Stance::Concern as i32,
                text: "The bins smell in summer".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    let reply = env
        .as_person(w.person(BACKBONE))
        .create_opinion(CreateOpinionRequest {
            parent: t.name.clone(),
            opinion: Some(Opinion {
                author: w.person(BACKBONE).into(),
                stance: Stance::Support as i32,
                text: "Move them behind building 2".into(),
                reply_to: first.name.clone(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.reply_to, first.name);
    // Nobody speaks for someone else, but the secretary records the meeting.
    assert_status(
        speaker
            .create_opinion(CreateOpinionRequest {
                parent: t.name.clone(),
                opinion: Some(Opinion {
                    author: w.person(BACKBONE).into(),
                    stance: Stance::Oppose as i32,
                    text: "x".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let recorded = env
        .as_person(w.person(SECRETARY))
        .create_opinion(CreateOpinionRequest {
            parent: t.name.clone(),
            opinion: Some(Opinion {
                author: w.person(VOLUNTEERS[0]).into(),
                stance: Stance::Oppose as i32,
                text: "骂人的话 (abusive)".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    // Hiding keeps the original for audit: street admins read it, others not.
    assert_bad_field(
        env.admin()
            .hide_opinion(HideOpinionRequest {
                name: recorded.name.clone(),
                reason: String::new(),
            })
            .await,
        "reason",
    );
    assert_status(
        speaker
            .hide_opinion(HideOpinionRequest {
                name: recorded.name.clone(),
                reason: "abuse".into(),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    let hidden = env
        .as_person(w.person(SECRETARY))
        .hide_opinion(HideOpinionRequest {
            name: recorded.name.clone(),
            reason: "辱骂 abuse".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(hidden.hidden);
    assert_eq!(hidden.text, "");
    assert_eq!(
        hidden.moderator,
        format!("resident:{}", w.person(SECRETARY))
    );
    let list = |mut c: Client| {
        let parent = t.name.clone();
        async move {
            c.list_opinions(ListOpinionsRequest {
                parent,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .opinions
        }
    };
    let as_resident = list(speaker.clone()).await;
    assert_eq!(as_resident.len(), 3);
    assert_eq!(as_resident[0].name, first.name, "oldest first");
    assert_eq!(as_resident[2].text, "");
    assert_eq!(as_resident[2].hide_reason, "辱骂 abuse");
    let as_community_admin = list(env.client(community_admin(&w.community_a))).await;
    assert_eq!(as_community_admin[2].text, "");
    let as_street_admin = list(env.admin()).await;
    assert_eq!(as_street_admin[2].text, "骂人的话 (abusive)");
    // Replies to one opinion.
    let replies = speaker
        .list_opinions(ListOpinionsRequest {
            parent: t.name.clone(),
            filter: format!("reply_to = {}", first.name),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .opinions;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].name, reply.name);
    // A reply must be to an opinion of the same topic.
    let other = topic(
        &mut env.admin(),
        &w.council,
        "Other",
        TopicState::InDiscussion,
    )
    .await;
    assert_bad_field(
        speaker
            .create_opinion(CreateOpinionRequest {
                parent: other.name,
                opinion: Some(Opinion {
                    author: w.person(PLAIN).into(),
                    stance: Stance::Neutral as i32,
                    text: "x".into(),
                    reply_to: first.name.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        "opinion.reply_to",
    );
}
