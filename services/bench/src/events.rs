//! Event delivery latency: from a report's commit to the event reaching a
//! watcher of the gateway's `WatchEvents`, through the outbox relay, the
//! bus (in memory or JetStream) and the gateway's event log.

use std::time::{Duration, Instant};

use cogov_kit::events::{Bus, Event};
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::{WatchEventsRequest, WatchEventsResponse};
use cogov_proto::issues::{Issue, ReportIssueRequest};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

use crate::{Admin, Stack, percentiles};

/// A street admin's stream of the IssueReported events from now on.
async fn watch_reports(stack: &Stack) -> tonic::Streaming<WatchEventsResponse> {
    let mut watcher = GatewayServiceClient::with_interceptor(
        stack.gateway_channel.clone(),
        Admin::Bearer(stack.token.clone()),
    );
    watcher
        .watch_events(WatchEventsRequest {
            event_types: vec!["cogov.issues.v1.IssueReported".into()],
            cursor: String::new(),
        })
        .await
        .expect("WatchEvents")
        .into_inner()
}

/// One report in the street's first courtyard, straight to the service;
/// answered once it has committed.
pub async fn report_one(stack: &Stack, title: &str) -> Issue {
    let (courtyard, _) = stack.courtyards[0];
    stack
        .client
        .clone()
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: format!("courtyards/{courtyard}"),
                sub_item: "subItems/roof_leak".into(),
                title: title.into(),
                ..Default::default()
            }),
            request_id: Uuid::new_v4().to_string(),
        })
        .await
        .expect("report")
        .into_inner()
}

/// p50 and p99 over `n` reports sent one at a time, each timed from the
/// moment its ReportIssue answered (the transaction had committed) to the
/// moment its `IssueReported` arrived on the stream.
pub async fn latency(stack: &Stack, n: usize) -> (Duration, Duration) {
    let mut stream = watch_reports(stack).await;
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let issue = report_one(stack, "event latency").await;
        let committed = Instant::now();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.message())
                .await
                .expect("the event within 10 s")
                .expect("the stream")
                .expect("an open stream")
                .event
                .unwrap_or_default();
            if event.subject == issue.name {
                break;
            }
        }
        lat.push(committed.elapsed());
    }
    percentiles(lat)
}

/// The event pipeline under a burst: `n` reports sent at concurrency 64,
/// watched on one stream. Returns the events a second from the first
/// report to the last event watched, and how long after the last report
/// was answered its event was watched (how far the pipeline fell behind).
pub async fn burst(stack: &Stack, n: usize) -> (f64, Duration) {
    const CONCURRENCY: usize = 64;
    // What the load sends: the same number from each client.
    let n = n / CONCURRENCY * CONCURRENCY;
    let mut stream = watch_reports(stack).await;
    let started = Instant::now();
    let sent = async {
        crate::writes(&stack.client, &stack.courtyards, n, CONCURRENCY).await;
        Instant::now()
    };
    let watched = async {
        for _ in 0..n {
            tokio::time::timeout(Duration::from_secs(60), stream.message())
                .await
                .expect("an event within 60 s")
                .expect("the stream")
                .expect("an open stream");
        }
        Instant::now()
    };
    let (sent, watched) = tokio::join!(sent, watched);
    let rate = n as f64 / (watched - started).as_secs_f64();
    (rate, watched.saturating_duration_since(sent))
}

/// The type of the backlog's events: no service wants it, only the
/// gateway's log, which keeps every event.
const BACKLOG_TYPE: &str = "cogov.bench.v1.Backlog";

/// The gateway's event log taking a backlog: `n` events published straight
/// to `bus` by eight publishers at once, each in rounds of 256 as an outbox
/// relay publishes. Returns the events a second from the first publish to
/// the last in the log, how long publishing took, and how long after it
/// the last event was in the log.
pub async fn backlog(stack: &Stack, bus: &Bus, n: usize) -> (f64, Duration, Duration) {
    const PUBLISHERS: usize = 8;
    let log = stack.gw.ctx.db.read();
    let last = async || -> i64 {
        let row = log
            .query_one_raw(Statement::from_string(
                log.get_database_backend(),
                "SELECT COALESCE(MAX(seq), 0) FROM event_log",
            ))
            .await
            .expect("the event log's end")
            .expect("a row");
        row.try_get_by_index(0).expect("a number")
    };
    let before = last().await;
    let events: Vec<Event> = (0..n)
        .map(|i| Event {
            id: Uuid::now_v7().to_string(),
            r#type: BACKLOG_TYPE.into(),
            source: "bench".into(),
            subject: format!("backlog/{i}"),
            ..Default::default()
        })
        .collect();
    let started = Instant::now();
    let share = n.div_ceil(PUBLISHERS).max(1);
    let mut publishers = tokio::task::JoinSet::new();
    for events in events.chunks(share) {
        let (bus, events) = (bus.clone(), events.to_vec());
        publishers.spawn(async move {
            for round in events.chunks(256) {
                let published = bus.publish_all(round).await;
                assert!(
                    published.all_of(round.len()),
                    "publishing the backlog: {published:?}"
                );
            }
        });
    }
    publishers.join_all().await;
    let published = Instant::now();
    let deadline = published + Duration::from_secs(300);
    while last().await - before < n as i64 {
        assert!(
            Instant::now() < deadline,
            "the backlog still not logged after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let logged = Instant::now();
    (
        n as f64 / (logged - started).as_secs_f64(),
        published - started,
        logged - published,
    )
}
