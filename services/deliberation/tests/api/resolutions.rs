//! Decisions that get carried out: a poll decides, a resolution is
//! adopted, action items go to the firm and the street, the firm reports
//! progress, and the council's implementation rate follows.

use cogov_proto::deliberation::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(decisions_get_carried_out);

async fn decisions_get_carried_out(env: Env) {
    let w = World::build(&env).await;
    let mut secretary = env.as_person(w.person(SECRETARY));
    let t = topic(
        &mut secretary,
        &w.council,
        "楼道照明 Stairwell lights",
        TopicState::InDiscussion,
    )
    .await;
    let p = open_poll(
        &mut secretary,
        &t.name,
        Poll {
            method: PollMethod::Choose as i32,
            options: vec![
                PollOption {
                    key: "led".into(),
                    title: "LED with sensors".into(),
                    time: None,
                },
                PollOption {
                    key: "solar".into(),
                    title: "Solar".into(),
                    time: None,
                },
            ],
            ..Default::default()
        },
    )
    .await;
    for who in [BUILDING_HEAD, BACKBONE, VOLUNTEERS[0]] {
        vote(&env, &p.name, w.person(who), vec![choice("led", 1)])
            .await
            .unwrap();
    }
    vote(
        &env,
        &p.name,
        w.person(VOLUNTEERS[1]),
        vec![choice("solar", 1)],
    )
    .await
    .unwrap();
    // A resolution follows a closed poll.
    let adopt = |poll: &str| CreateResolutionRequest {
        resolution: Some(Resolution {
            topic: t.name.clone(),
            poll: poll.into(),
            statement: "换装感应式LED灯 Sensor LEDs in every stairwell".into(),
            review_date: date(2026, 9, 1),
            ..Default::default()
        }),
        request_id: request_id(),
    };
    assert_status(
        secretary.create_resolution(adopt(&p.name)).await,
        Code::FailedPrecondition,
        "POLL_OPEN",
    );
    secretary
        .close_poll(ClosePollRequest {
            name: p.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let r = secretary
        .create_resolution(adopt(&p.name))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.chosen_option, "led", "the poll's winner");
    assert_eq!(r.state, ResolutionState::Adopted as i32);
    let topic_state = async |c: &mut Client| {
        c.get_topic(GetTopicRequest {
            name: t.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .state
    };
    assert_eq!(
        topic_state(&mut secretary).await,
        TopicState::Decided as i32
    );

    // Two action items: the firm installs, the street office pays.
    let item = |owner: &str, description: &str, due: Option<cogov_proto::common::Date>| {
        CreateActionItemRequest {
            parent: r.name.clone(),
            action_item: Some(ActionItem {
                description: description.into(),
                owner: owner.into(),
                due_date: due,
                ..Default::default()
            }),
            request_id: request_id(),
        }
    };
    let street_office = env
        .org_admin()
        .create_organization(cogov_proto::organizations::CreateOrganizationRequest {
            organization: Some(cogov_proto::organizations::Organization {
                display_name: "街道办 Street office".into(),
                kind: cogov_proto::organizations::OrganizationKind::StreetOffice as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    let install = secretary
        .create_action_item(item(&w.firm_a, "Install the lights", date(2026, 6, 20)))
        .await
        .unwrap()
        .into_inner();
    let fund = secretary
        .create_action_item(item(&street_office, "Fund the lights", date(2026, 6, 10)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(install.status, ActionItemStatus::NotStarted as i32);

    // The firm reports progress on its own item only, and only progress.
    let mut firm = env.client(partner(&w.firm_a));
    let progress = |name: &str, progress: i32| UpdateActionItemRequest {
        action_item: Some(ActionItem {
            name: name.into(),
            progress,
            notes: "Half the stairwells done".into(),
            ..Default::default()
        }),
        update_mask: mask(&["progress", "notes"]),
    };
    let reported = firm
        .update_action_item(progress(&install.name, 50))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reported.status, ActionItemStatus::InProgress as i32);
    assert_status(
        firm.update_action_item(progress(&fund.name, 10)).await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_status(
        firm.update_action_item(UpdateActionItemRequest {
            action_item: Some(ActionItem {
                name: install.name.clone(),
                due_date: date(2026, 12, 31),
                ..Default::default()
            }),
            update_mask: mask(&["due_date"]),
        })
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_eq!(
        topic_state(&mut secretary).await,
        TopicState::Implementing as i32
    );
    let r_now = secretary
        .get_resolution(GetResolutionRequest {
            name: r.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r_now.state, ResolutionState::Implementing as i32);
    assert_eq!(r_now.progress, 25, "mean of 50 and 0");

    // Not complete while items are pending.
    assert_status(
        secretary
            .complete_topic(CompleteTopicRequest {
                name: t.name.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "ACTION_ITEMS_PENDING",
    );
    // The funding is late; the lights go in on time.
    env.clock.advance(chrono::Duration::days(12));
    let overdue = secretary
        .list_action_items(ListActionItemsRequest {
            parent: "resolutions/-".into(),
            filter: "overdue = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .action_items;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].name, fund.name);
    let done = firm
        .update_action_item(progress(&install.name, 100))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status, ActionItemStatus::Done as i32);
    assert!(done.done_time.is_some());
    secretary
        .update_action_item(UpdateActionItemRequest {
            action_item: Some(ActionItem {
                name: fund.name.clone(),
                status: ActionItemStatus::Done as i32,
                ..Default::default()
            }),
            update_mask: mask(&["status"]),
        })
        .await
        .unwrap();
    let r_now = secretary
        .get_resolution(GetResolutionRequest {
            name: r.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r_now.state, ResolutionState::Implemented as i32);
    assert_eq!(r_now.progress, 100);
    let completed = secretary
        .complete_topic(CompleteTopicRequest {
            name: t.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(completed.state, TopicState::Completed as i32);

    // The council's record.
    let stats = secretary
        .get_council_statistics(GetCouncilStatisticsRequest {
            name: w.council.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.resolutions, 1);
    assert_eq!((stats.action_items, stats.action_items_done), (2, 2));
    assert_eq!(stats.action_items_done_on_time, 1, "the funding was late");
    assert_eq!(stats.implementation_rate, 1.0);
    assert_eq!(stats.topics_by_state["COMPLETED"], 1);

    // The firm sees the items it owns.
    let mine = firm
        .list_action_items(ListActionItemsRequest {
            parent: "resolutions/-".into(),
            filter: format!("owner = {}", w.firm_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .action_items;
    assert_eq!(mine.len(), 1);
    // Firm B, out of reach, sees nothing of it.
    assert_status(
        env.client(partner(&w.firm_b))
            .get_action_item(GetActionItemRequest {
                name: install.name.clone(),
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
}
