//! Events end to end over real gRPC: the cross-service flows (escalation →
//! topic → linked issue; action item → issue for its owner → progress;
//! two-nos status into the organizations view), the partner stream
//! (reach, types, resuming from a cursor without gaps), a relay that
//! crashed before marking rows sent, duplicate and out-of-order delivery,
//! and dead letters — on the in-process bus and on NATS JetStream.

use std::sync::Arc;
use std::time::Duration;

use cogov_kit::events::jetstream::JetStreamBus;
use cogov_kit::events::{Bus, Event};
use cogov_kit::testing::servers::TestNats;
use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::*;
use cogov_proto::gateway::*;
use cogov_proto::issues::*;
use cogov_proto::organizations as org;
use prost::{Message, Name};
use sea_orm::{ConnectionTrait, Database, Statement};
use tokio_stream::StreamExt;
use tonic::Streaming;

use crate::both;
use crate::support::*;

both!(
    flows_and_partner_streams_on_the_in_process_bus,
    a_recurring_cluster_becomes_a_topic,
    an_agreement_change_forgets_cached_reach,
    a_person_change_forgets_the_cached_person,
);

async fn flows_and_partner_streams_on_the_in_process_bus(env: Env) {
    flows(&env).await;
}

/// The same flows with the services' events on JetStream (a `nats-server`
/// of the test's own, or `COGOV_TEST_NATS_URL`), in a namespace of this
/// test's own, deleted afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_on_jetstream() {
    let Some(nats) = TestNats::start().await else {
        return;
    };
    let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
    let js = JetStreamBus::connect(nats.url(), &namespace)
        .await
        .expect("connecting to NATS with JetStream");
    let bus: Bus = Arc::new(js.clone());
    let env = Env::start_on(TestDb::sqlite(), TestDb::sqlite(), settings(), bus).await;
    flows(&env).await;
    poison_goes_to_dead_letters(&env).await;
    js.delete().await.unwrap();
}

type Deliberation = DeliberationServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

fn deliberation(env: &Env, who: Bearer) -> Deliberation {
    DeliberationServiceClient::with_interceptor(env.gateway.channel.clone(), who)
}

async fn watch(env: &Env, who: Bearer, cursor: &str) -> Streaming<WatchEventsResponse> {
    env.gateway_as(who)
        .watch_events(WatchEventsRequest {
            event_types: vec![],
            cursor: cursor.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Reads `stream` until `until` holds for an event (or 5 s pass).
async fn read_until(
    stream: &mut Streaming<WatchEventsResponse>,
    mut until: impl FnMut(&Event) -> bool,
) -> Vec<WatchEventsResponse> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(next)) = tokio::time::timeout_at(deadline, stream.next()).await {
        let r = next.unwrap();
        let done = until(r.event.as_ref().unwrap());
        seen.push(r);
        if done {
            return seen;
        }
    }
    panic!(
        "the awaited event never came; saw {:?}",
        seen.iter()
            .map(|r| r.event.as_ref().unwrap().r#type.clone())
            .collect::<Vec<_>>()
    );
}

fn is<M: Name>(event: &Event) -> bool {
    event.r#type == M::full_name()
}

async fn topics_of(d: &mut Deliberation, council: &str) -> Vec<Topic> {
    d.list_topics(ListTopicsRequest {
        filter: format!("council = {council}"),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .topics
}

async fn get_issue(env: &Env, name: &str) -> Issue {
    env.issues(env.street_admin())
        .get_issue(GetIssueRequest { name: name.into() })
        .await
        .unwrap()
        .into_inner()
}

async fn flows(env: &Env) {
    let w = World::build(env).await;
    // Streams opened before the changes see them live.
    let mut firm_a = watch(env, key(&w.key_a), "").await;
    let mut firm_b = watch(env, key(&w.key_b), "").await;
    let mut street = watch(env, env.street_admin(), "").await;

    // Two-nos: a report in a1 changes its status, which the organizations
    // service's view of the courtyard follows.
    let issue = report(env, key(&w.key_a), &w.a1, "Boxes in the stairwell").await;
    let other = report(env, key(&w.key_b), &w.b1, "Bikes in the corridor").await;
    let mut orgs = env.orgs(env.street_admin());
    assert!(
        eventually(async || {
            orgs.get_courtyard(org::GetCourtyardRequest { name: w.a1.clone() })
                .await
                .unwrap()
                .into_inner()
                .two_nos
                .is_some_and(|t| t.update_time.is_some())
        })
        .await,
        "the courtyard view never followed the two-nos status"
    );

    // The partner streams carry events of their own courtyards only.
    let seen_a = read_until(&mut firm_a, |e| {
        is::<IssueReported>(e) && e.subject == issue.name
    })
    .await;
    assert!(
        seen_a
            .iter()
            .all(|r| r.event.as_ref().unwrap().courtyard == w.a1)
    );
    let seen_b = read_until(&mut firm_b, |e| {
        is::<IssueReported>(e) && e.subject == other.name
    })
    .await;
    assert!(
        seen_b
            .iter()
            .all(|r| r.event.as_ref().unwrap().courtyard == w.b1)
    );
    let reported: IssueReported =
        cogov_kit::events::payload(seen_a.last().unwrap().event.as_ref().unwrap()).unwrap();
    assert_eq!(reported.issue.unwrap().title, "Boxes in the stairwell");

    // Escalation: a topic in the council with the issue as evidence, and
    // the issue linked back to it.
    let mut d = deliberation(env, env.street_admin());
    let council = create_council(env, &w.a1).await;
    env.issues(env.street_admin())
        .escalate_issue(EscalateIssueRequest {
            name: issue.name.clone(),
            council: council.name.clone(),
            note: "the whole courtyard complains".into(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let mut topics = Vec::new();
    assert!(
        eventually(async || {
            topics = topics_of(&mut d, &council.name).await;
            !topics.is_empty()
        })
        .await,
        "no topic was made of the escalation"
    );
    let topic = topics.remove(0);
    assert_eq!(topic.evidence_issues, vec![issue.name.clone()]);
    assert_eq!(topic.source, TopicSource::EscalatedIssue as i32);
    assert!(
        eventually(async || get_issue(env, &issue.name).await.topic == topic.name).await,
        "the issue was not linked to its topic"
    );

    // A resolution's action item for firm A becomes an issue dispatched to
    // it, and that issue's resolution completes the item.
    d.schedule_topic(ScheduleTopicRequest {
        name: topic.name.clone(),
        etag: String::new(),
    })
    .await
    .unwrap();
    d.open_topic_discussion(OpenTopicDiscussionRequest {
        name: topic.name.clone(),
        etag: String::new(),
    })
    .await
    .unwrap();
    let resolution = d
        .create_resolution(CreateResolutionRequest {
            resolution: Some(cogov_proto::deliberation::Resolution {
                topic: topic.name.clone(),
                statement: "Clear the stairwell and mark bike bays".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    let item = d
        .create_action_item(CreateActionItemRequest {
            parent: resolution.name.clone(),
            action_item: Some(ActionItem {
                description: "Clear the stairwell".into(),
                owner: w.firm_a.clone(),
                due_date: Some(cogov_kit::convert::date(
                    start_time().date_naive() + chrono::Duration::days(14),
                )),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut linked = ActionItem::default();
    assert!(
        eventually(async || {
            linked = d
                .get_action_item(GetActionItemRequest {
                    name: item.name.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            !linked.issue.is_empty()
        })
        .await,
        "the action item never got its issue"
    );
    let carried = get_issue(env, &linked.issue).await;
    assert_eq!(carried.state, IssueState::Dispatched as i32);
    assert_eq!(carried.assignee, w.firm_a);
    assert_eq!(carried.courtyard, w.a1);
    assert_eq!(carried.action_item, item.name);
    assert_eq!(linked.status, ActionItemStatus::InProgress as i32);
    // The firm does the work through its own key.
    let mut firm = env.issues(key(&w.key_a));
    firm.start_issue(StartIssueRequest {
        name: carried.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    firm.resolve_issue(ResolveIssueRequest {
        name: carried.name.clone(),
        note: "cleared".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(
        eventually(async || {
            let i = d
                .get_action_item(GetActionItemRequest {
                    name: item.name.clone(),
                })
                .await
                .unwrap()
                .into_inner();
            i.status == ActionItemStatus::Done as i32 && i.progress == 100
        })
        .await,
        "the issue's resolution did not complete the action item"
    );

    // Out of order: an older state of the carrying issue, delivered late,
    // changes nothing.
    let late = IssueStateChanged {
        issue: Some(IssueSummary {
            name: carried.name.clone(),
            courtyard: w.a1.clone(),
            state: IssueState::Dispatched as i32,
            action_item: item.name.clone(),
            revision: 1,
            ..Default::default()
        }),
        from_state: IssueState::Reported as i32,
        to_state: IssueState::Dispatched as i32,
    };
    env.bus.publish(&event(&late, &carried.name)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = d
        .get_action_item(GetActionItemRequest {
            name: item.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.status, ActionItemStatus::Done as i32);

    // Street staff see everything, in order; a stream resumed from any
    // cursor continues with exactly the events after it.
    let all = read_until(&mut street, |e| {
        is::<ActionItemChanged>(e) && e.subject == item.name && {
            let p: ActionItemChanged = cogov_kit::events::payload(e).unwrap();
            p.status == ActionItemStatus::Done as i32
        }
    })
    .await;
    assert!(
        all.iter()
            .any(|r| r.event.as_ref().unwrap().courtyard == w.b1)
    );
    let cursors: Vec<i64> = all.iter().map(|r| r.cursor.parse().unwrap()).collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "cursors must increase"
    );
    let middle = all.len() / 2;
    let mut resumed = watch(env, env.street_admin(), &all[middle].cursor).await;
    let last = all.last().unwrap().event.as_ref().unwrap().id.clone();
    let again = read_until(&mut resumed, |e| e.id == last).await;
    let ids = |rs: &[WatchEventsResponse]| -> Vec<String> {
        rs.iter()
            .map(|r| r.event.as_ref().unwrap().id.clone())
            .collect()
    };
    assert_eq!(
        ids(&again),
        ids(&all[middle + 1..]),
        "a gap or a repeat after resuming"
    );
    // The firm's stream only ever carried its courtyard.
    let more_a = read_until(&mut firm_a, is::<ActionItemChanged>).await;
    assert!(
        more_a
            .iter()
            .all(|r| r.event.as_ref().unwrap().courtyard == w.a1)
    );

    // A relay that published but crashed before marking its rows sent
    // publishes them again; every consumer's inbox makes that a no-op.
    let topics_before = topics_of(&mut d, &council.name).await.len();
    let issues_db = Database::connect(env.issues_db_url()).await.unwrap();
    issues_db
        .execute_unprepared("UPDATE outbox SET publish_time = NULL")
        .await
        .unwrap();
    assert!(
        eventually(async || {
            issues_db
                .query_one_raw(Statement::from_string(
                    issues_db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM outbox WHERE publish_time IS NULL",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap()
                == 0
        })
        .await,
        "the relay did not publish again"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let topics_after = topics_of(&mut d, &council.name).await.len();
    assert_eq!(
        topics_before, topics_after,
        "a republished escalation made a second topic"
    );
    let action_issues = env
        .issues(env.street_admin())
        .list_issues(ListIssuesRequest {
            filter: format!("courtyard = {}", w.a1),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues
        .into_iter()
        .filter(|i| i.action_item == item.name)
        .count();
    assert_eq!(action_issues, 1, "the action item got a second issue");

    // Bad requests.
    let bad = env
        .gateway_as(key(&w.key_a))
        .watch_events(WatchEventsRequest {
            event_types: vec![],
            cursor: "yesterday".into(),
        })
        .await;
    assert_bad_field(bad, "cursor");
}

/// An envelope as a relay would publish it.
fn event<M: Message + Name>(payload: &M, subject: &str) -> Event {
    Event {
        id: uuid::Uuid::now_v7().to_string(),
        r#type: M::full_name(),
        source: "test".into(),
        subject: subject.into(),
        payload: Some(prost_types::Any {
            type_url: M::type_url(),
            value: payload.encode_to_vec(),
        }),
        ..Default::default()
    }
}

/// An escalation to a council that does not exist fails every attempt
/// and is parked with its error.
async fn poison_goes_to_dead_letters(env: &Env) {
    let poison = event(
        &IssueEscalated {
            issue: Some(IssueSummary {
                name: "issues/00000000-0000-7000-8000-000000000001".into(),
                ..Default::default()
            }),
            council: format!("councils/{}", uuid::Uuid::new_v4()),
            note: String::new(),
        },
        "issues/00000000-0000-7000-8000-000000000001",
    );
    env.bus.publish(&poison).await.unwrap();
    let mut dead = Vec::new();
    for _ in 0..100 {
        dead = env.bus.dead_letters(10).await.unwrap();
        if dead.iter().any(|d| d.event.id == poison.id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let parked = dead
        .iter()
        .find(|d| d.event.id == poison.id)
        .expect("the poison message was not parked");
    assert_eq!(parked.consumer, "deliberation");
    assert!(parked.error.contains("does not exist"), "{}", parked.error);
    assert_eq!(parked.attempts, 5);
}

async fn create_council(env: &Env, place: &str) -> Council {
    deliberation(env, env.street_admin())
        .create_council(CreateCouncilRequest {
            council: Some(Council {
                display_name: "council".into(),
                place: place.into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Three reports of one sub-item in one courtyard make a recurring
/// cluster; escalated, it becomes one topic with all three as evidence,
/// and the cluster and its issues point to it.
async fn a_recurring_cluster_becomes_a_topic(env: Env) {
    let w = World::build(&env).await;
    let council = create_council(&env, &w.a1).await;
    let mut reported = Vec::new();
    for n in 0..3 {
        reported.push(report(&env, key(&w.key_a), &w.a1, &format!("Boxes again ({n})")).await);
    }
    let cluster = get_issue(&env, &reported[2].name).await.cluster;
    assert!(!cluster.is_empty(), "three reports made no cluster");
    let mut issues = env.issues(env.street_admin());
    issues
        .escalate_issue_cluster(EscalateIssueClusterRequest {
            name: cluster.clone(),
            etag: String::new(),
            council: council.name.clone(),
            note: "every month the same".into(),
        })
        .await
        .unwrap();
    let mut topic = None;
    let mut d = deliberation(&env, env.street_admin());
    assert!(
        eventually(async || {
            topic = topics_of(&mut d, &council.name).await.pop();
            topic.is_some()
        })
        .await,
        "no topic was made of the cluster"
    );
    let topic = topic.unwrap();
    assert_eq!(topic.cluster, cluster);
    let mut evidence = topic.evidence_issues.clone();
    evidence.sort();
    let mut names: Vec<String> = reported.iter().map(|i| i.name.clone()).collect();
    names.sort();
    assert_eq!(evidence, names);
    assert!(
        eventually(async || {
            issues
                .get_issue_cluster(GetIssueClusterRequest {
                    name: cluster.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .topic
                == topic.name
        })
        .await,
        "the cluster was not linked to its topic"
    );
    for issue in &reported {
        assert_eq!(get_issue(&env, &issue.name).await.topic, topic.name);
    }
}

/// A directory that caches reach for an hour still forgets it the moment
/// an agreement ends, and street staff see the change on the stream.
async fn an_agreement_change_forgets_cached_reach(env: Env) {
    let w = World::build(&env).await;
    let mut street = watch(&env, env.street_admin(), "").await;
    let directory = cogov_kit::directory::Directory::from_channel(
        env.services[0].channel.clone(),
        cogov_kit::auth::Authenticator::new(SECRET, None, env.clock.clone()),
        "issues",
        env.clock.clone(),
        Duration::from_secs(3600),
    );
    cogov_kit::events::forget_on_changes(&env.bus, directory.clone());
    let firm = cogov_kit::names::parse("organizations", &w.firm_a).unwrap();
    let a1 = cogov_kit::names::parse("courtyards", &w.a1).unwrap();
    assert!(directory.reach(firm).await.unwrap().covers(None, Some(a1)));

    let mut orgs = env.orgs(env.street_admin());
    let agreement = orgs
        .list_agreements(org::ListAgreementsRequest {
            filter: format!("organization = {}", w.firm_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .agreements
        .remove(0);
    orgs.terminate_agreement(org::TerminateAgreementRequest {
        name: agreement.name.clone(),
        etag: String::new(),
        reason: "contract ended".into(),
    })
    .await
    .unwrap();
    assert!(
        eventually(async || !directory.reach(firm).await.unwrap().covers(None, Some(a1))).await,
        "the cached reach outlived the agreement"
    );
    // The stream starts from now, and the agreement's activation may
    // reach the gateway's log after that: wait for the termination.
    let terminated = |e: &Event| {
        is::<org::AgreementChanged>(e)
            && e.subject == agreement.name
            && cogov_kit::events::payload::<org::AgreementChanged>(e)
                .is_ok_and(|c| c.state == org::AgreementState::Terminated as i32)
    };
    let seen = read_until(&mut street, terminated).await;
    let changed: org::AgreementChanged =
        cogov_kit::events::payload(seen.last().unwrap().event.as_ref().unwrap()).unwrap();
    assert_eq!(changed.courtyards, vec![w.a1.clone()]);
}

/// A directory that caches persons for an hour still forgets one the
/// moment their record changes (their role, their contact preferences);
/// one that does not hear of the change answers from its cache.
async fn a_person_change_forgets_the_cached_person(env: Env) {
    let w = World::build(&env).await;
    let directory = |hears: bool| {
        let directory = cogov_kit::directory::Directory::from_channel(
            env.services[0].channel.clone(),
            cogov_kit::auth::Authenticator::new(SECRET, None, env.clock.clone()),
            "issues",
            env.clock.clone(),
            Duration::ZERO,
        )
        .caching_persons_for(Duration::from_secs(3600));
        if hears {
            cogov_kit::events::forget_on_changes(&env.bus, directory.clone());
        }
        directory
    };
    let (hearing, deaf) = (directory(true), directory(false));
    let person = cogov_kit::names::parse("persons", &w.resident_a1).unwrap();
    let head = async |d: &cogov_kit::directory::Directory| {
        d.person(person)
            .await
            .unwrap()
            .expect("the person")
            .building_head
    };
    assert!(!head(&hearing).await);
    assert!(!head(&deaf).await);

    env.orgs(env.street_admin())
        .update_person(org::UpdatePersonRequest {
            person: Some(org::Person {
                name: w.resident_a1.clone(),
                building_head: true,
                ..Default::default()
            }),
            update_mask: mask(&["building_head"]),
        })
        .await
        .unwrap();
    assert!(
        eventually(async || head(&hearing).await).await,
        "the cached person outlived the change"
    );
    assert!(!head(&deaf).await, "a verified person is cached");

    // Where notices go is part of what is cached (the gateway sends them
    // on from it), and forgotten the same way.
    let by_text = async |d: &cogov_kit::directory::Directory| {
        d.person(person).await.unwrap().unwrap().notices_by_text
    };
    assert_eq!(by_text(&hearing).await, None);
    env.orgs(env.street_admin())
        .update_person(contact_preferences(&w.resident_a1, true, true))
        .await
        .unwrap();
    assert!(
        eventually(async || by_text(&hearing).await.is_some_and(|t| t.daily_digest)).await,
        "the cached person kept their old contact preferences"
    );
    assert_eq!(by_text(&deaf).await, None);
}
