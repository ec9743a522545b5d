//! Two replicas of the issues service and of the gateway, as the prod
//! overlay runs them, on one PostgreSQL and JetStream, each pair behind a
//! TCP balancer. Clients report through the gateways' balancer, retrying
//! with their request ids, while one more client walks issues through
//! their steps and a staff member watches the event stream. Mid-load the
//! issues replica holding the outbox relay's lease is killed (the other
//! must take over) and so is the gateway holding the event log's lease,
//! events in hand; both come back later.
//! Afterwards: every report stored once, every event published once and
//! in the gateway's log once, and the watcher saw each issue's events
//! once, in the order they happened.
//!
//! `COGOV_REPLICA_REPORTS` sets the load (default 600; the long run is
//! `COGOV_REPLICA_REPORTS=10000 cargo test -p cogov --test system --
//! replicas`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cogov_kit::testing::servers;
use cogov_proto::common::Event;
use cogov_proto::gateway::WatchEventsRequest;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use prost::Message;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::processes::{Balancer, PostgresUrl, Role, Scene, count, count_from_env, strings};
use crate::{Bearer, Signed, free_port};

const CLIENTS: usize = 8;
/// Issues walked through acknowledge and reject while the load runs.
const STEPPED: usize = 20;
const INTERNAL_SECRET: &str = "replica test internal secret";
const JWT_SECRET: &str = "replica test staff token secret";
const REPORTED: &str = "cogov.issues.v1.IssueReported";
const STATE_CHANGED: &str = "cogov.issues.v1.IssueStateChanged";
/// The issues service's outbox relay's lease.
const RELAY_LEASE: &str = "outbox relay";
/// The gateways' event log consumer's lease.
const LOG_LEASE: &str = "event consumer gateway";

/// `url` with the connection's `application_name`, which tells the test
/// which replica holds a lease.
fn named(url: &str, application: &str) -> String {
    let glue = if url.contains('?') { '&' } else { '?' };
    format!("{url}{glue}application_name={application}")
}

/// The replica whose connection holds the lease `lease` in `database`
/// (the kit's advisory lock on the lease's name in the schema `public`).
async fn lease_holder(admin: &DatabaseConnection, database: &str, lease: &str) -> Option<String> {
    let sql = format!(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND a.datname = '{database}' \
         AND l.objsubid = 1 \
         AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('{lease}/public', 0)"
    );
    admin
        .query_one_raw(Statement::from_string(admin.get_database_backend(), sql))
        .await
        .unwrap()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
}

/// The issues replica's `cogov_outbox_relay_leader`, from its `/metrics`.
async fn relay_leader_metric(port: u16) -> Option<i64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: cogov\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut body = String::new();
    tcp.read_to_string(&mut body).await.ok()?;
    body.lines()
        .find_map(|l| l.strip_prefix(r#"cogov_outbox_relay_leader{role="issues"} "#))
        .and_then(|v| v.trim().parse().ok())
}

/// Retries `call` until it succeeds (the balancer sends a retry wherever a
/// replica is up).
async fn until_ok<T, F, Fut>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match call().await {
            Ok(t) => return t,
            Err(status) => {
                assert!(
                    Instant::now() < deadline,
                    "{what} never succeeded: {status}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Watches every event through the gateways' balancer, resuming from its
/// cursor whenever the stream breaks.
async fn watch(
    gateways: u16,
    staff: Bearer,
    seen: Arc<Mutex<Vec<Event>>>,
    stop: CancellationToken,
) {
    // From now at first, then from the last event seen.
    let mut cursor = String::new();
    while !stop.is_cancelled() {
        let channel =
            tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{gateways}"))
                .unwrap()
                .connect_lazy();
        let mut client = GatewayServiceClient::with_interceptor(channel, staff.clone());
        let request = WatchEventsRequest {
            event_types: vec![],
            cursor: cursor.clone(),
        };
        if let Ok(stream) = client.watch_events(request).await {
            let mut stream = stream.into_inner();
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    message = stream.message() => match message {
                        Ok(Some(m)) => {
                            cursor = m.cursor;
                            seen.lock().await.push(m.event.unwrap_or_default());
                        }
                        _ => break,
                    },
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_lose_nothing_double_nothing_and_keep_each_issues_order() {
    let Some(admin_url) = servers::postgres_url() else {
        return;
    };
    let Some(nats) = servers::TestNats::start().await else {
        return;
    };
    let reports = count_from_env("COGOV_REPLICA_REPORTS", 600);
    let scene = Scene::create("replicas", &admin_url, nats.url()).await;
    let (tag, admin, names, logs) = (&scene.tag, &scene.admin, &scene.databases, &scene.logs);
    let server = PostgresUrl::parse(&admin_url);
    let url = |db: &str| server.with(&server.host_port, db);

    let organizations_port = free_port();
    let issues_ports = [free_port(), free_port()];
    let gateway_ports = [free_port(), free_port()];
    let issues_balancer = Balancer::start(issues_ports.to_vec()).await;
    let gateway_balancer = Balancer::start(gateway_ports.to_vec()).await;
    let common = |db: String| {
        vec![
            ("COGOV_DATABASE_URL".to_owned(), db),
            (
                "COGOV_INTERNAL_SECRET".to_owned(),
                INTERNAL_SECRET.to_owned(),
            ),
            ("COGOV_NATS_URL".to_owned(), nats.url().to_owned()),
            ("COGOV_NATS_NAMESPACE".to_owned(), tag.clone()),
            (
                "COGOV_ORGANIZATIONS_ADDR".to_owned(),
                format!("http://127.0.0.1:{organizations_port}"),
            ),
            (
                "COGOV_ISSUES_ADDR".to_owned(),
                format!("http://127.0.0.1:{}", issues_balancer.port),
            ),
        ]
    };
    let mut organizations = Role {
        name: "organizations",
        port: organizations_port,
        env: common(url(&names[0])),
        child: None,
        log: logs.join("organizations.log"),
    };
    let metrics_ports = [free_port(), free_port()];
    let mut issues = ["issues_a", "issues_b"].map(|replica| {
        let i = usize::from(replica == "issues_b");
        let mut env = common(named(&url(&names[1]), replica));
        env.push((
            "COGOV_METRICS_LISTEN".into(),
            format!("127.0.0.1:{}", metrics_ports[i]),
        ));
        Role {
            name: "issues",
            port: issues_ports[i],
            env,
            child: None,
            log: logs.join(format!("{replica}.log")),
        }
    });
    let mut gateways = [0, 1].map(|i| {
        let mut env = common(named(&url(&names[2]), &format!("gateway_{i}")));
        env.push(("COGOV_JWT_SECRET".into(), JWT_SECRET.into()));
        env.push(("COGOV_PARTNER_RATE".into(), "10000".into()));
        Role {
            name: "gateway",
            port: gateway_ports[i],
            env,
            child: None,
            log: logs.join(format!("gateway_{i}.log")),
        }
    });
    // The organizations role creates the event streams the others use.
    organizations.start();
    organizations.ready().await;
    for role in issues.iter_mut().chain(gateways.iter_mut()) {
        role.start();
    }
    for role in issues.iter().chain(gateways.iter()) {
        role.ready().await;
    }

    let staff = crate::processes::staff(JWT_SECRET);
    let courtyard = crate::processes::a_courtyard(gateway_balancer.channel(), staff.clone()).await;

    let seen = Arc::new(Mutex::new(Vec::<Event>::new()));
    let stop_watching = CancellationToken::new();
    let watcher = tokio::spawn(watch(
        gateway_balancer.port,
        staff.clone(),
        seen.clone(),
        stop_watching.clone(),
    ));
    // Let the watcher's stream open before the first event.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let report = move |client: IssuesServiceClient<Signed>, title: String, request_id: String| {
        let courtyard = courtyard.clone();
        async move {
            until_ok("a report", || {
                let mut client = client.clone();
                let request = ReportIssueRequest {
                    issue: Some(Issue {
                        courtyard: courtyard.clone(),
                        sub_item: "subItems/clutter_piling".into(),
                        title: title.clone(),
                        ..Default::default()
                    }),
                    request_id: request_id.clone(),
                };
                async move {
                    let mut request = tonic::Request::new(request);
                    request.set_timeout(Duration::from_secs(2));
                    client.report_issue(request).await.map(|r| r.into_inner())
                }
            })
            .await
            .name
        }
    };

    // The load, and one client walking issues through their steps.
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let load_started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (next, accepted) = (next.clone(), accepted.clone());
        // A channel per client: the balancer spreads them over the gateways.
        let client =
            IssuesServiceClient::with_interceptor(gateway_balancer.channel(), staff.clone());
        let report = report.clone();
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= reports {
                    return;
                }
                let request_id = uuid::Uuid::new_v4().to_string();
                let name = report(client.clone(), format!("report {i}"), request_id).await;
                accepted.lock().await.push(name);
            }
        }));
    }
    let stepper = {
        let mut client =
            IssuesServiceClient::with_interceptor(gateway_balancer.channel(), staff.clone());
        let report = report.clone();
        tokio::spawn(async move {
            let mut stepped = Vec::new();
            for i in 0..STEPPED {
                let name = report(
                    client.clone(),
                    format!("walked {i}"),
                    uuid::Uuid::new_v4().to_string(),
                )
                .await;
                // Each step from the state the issue is in: a retried step
                // that had landed is not taken twice.
                loop {
                    let issue = until_ok("reading an issue", || {
                        let mut client = client.clone();
                        let name = name.clone();
                        async move {
                            client
                                .get_issue(GetIssueRequest { name })
                                .await
                                .map(|r| r.into_inner())
                        }
                    })
                    .await;
                    let (name, etag) = (issue.name.clone(), issue.etag.clone());
                    let step = match IssueState::try_from(issue.state) {
                        Ok(IssueState::Reported) => client
                            .acknowledge_issue(AcknowledgeIssueRequest {
                                name,
                                etag,
                                note: String::new(),
                            })
                            .await
                            .map(drop),
                        Ok(IssueState::Acknowledged) => client
                            .reject_issue(RejectIssueRequest {
                                name,
                                etag,
                                reason: RejectReason::NotResponsible as i32,
                                note: String::new(),
                            })
                            .await
                            .map(drop),
                        _ => break,
                    };
                    if step.is_err() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                stepped.push(name);
            }
            stepped
        })
    };

    let progress = async |share: usize| {
        while accepted.lock().await.len() < reports * share / 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    progress(1).await;
    let leader = lease_holder(admin, &names[1], RELAY_LEASE)
        .await
        .expect("an issues replica holds the relay's lease");
    let killed = usize::from(leader == "issues_b");
    let log_leader = lease_holder(admin, &names[2], LOG_LEASE)
        .await
        .expect("a gateway holds the event log's lease");
    let killed_gateway = usize::from(log_leader == "gateway_1");
    eprintln!("SIGKILL {leader} (the relay's leader) and {log_leader} (the event log's)");
    issues[killed].kill();
    gateways[killed_gateway].kill();
    // The other replicas take the leases over.
    for (database, lease, was) in [
        (&names[1], RELAY_LEASE, &leader),
        (&names[2], LOG_LEASE, &log_leader),
    ] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let holder = lease_holder(admin, database, lease).await;
            if holder.as_deref().is_some_and(|h| h != was) {
                eprintln!("{} took the lease {lease:?} over", holder.unwrap());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no replica took the lease {lease:?} over"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    progress(2).await;
    eprintln!("both come back");
    issues[killed].start();
    gateways[killed_gateway].start();
    issues[killed].ready().await;
    gateways[killed_gateway].ready().await;

    for c in clients {
        c.await.unwrap();
    }
    let stepped = stepper.await.unwrap();
    let accepted = accepted.lock().await.clone();
    eprintln!(
        "{} reports accepted in {:?}",
        accepted.len(),
        load_started.elapsed()
    );

    // Afterwards, straight from the databases, once events stopped moving.
    let issues_db = Database::connect(url(&names[1])).await.unwrap();
    let gateway_db = Database::connect(url(&names[2])).await.unwrap();
    let total = reports + STEPPED;
    let load_ended = Instant::now();
    let deadline = load_ended + Duration::from_secs(90);
    loop {
        let pending = count(
            &issues_db,
            "SELECT count(*) FROM outbox WHERE publish_time IS NULL",
        )
        .await;
        let logged = count(
            &gateway_db,
            &format!("SELECT count(*) FROM event_log WHERE event_type = '{REPORTED}'"),
        )
        .await as usize;
        // Every event, not only the reports: the last ones published (a
        // state change, a two-nos change) may still be on their way to
        // the watcher when the reports are all in.
        let outboxed = count(&issues_db, "SELECT count(*) FROM outbox").await as usize;
        let (watched, watched_all) = {
            let seen = seen.lock().await;
            let issues = seen.iter().filter(|e| e.source == "issues");
            (
                issues.clone().filter(|e| e.r#type == REPORTED).count(),
                issues.count(),
            )
        };
        if pending == 0 && logged >= total && watched >= total && watched_all >= outboxed {
            // How far behind the load the event log and the watcher were.
            eprintln!(
                "the watcher caught up {:?} after the load",
                load_ended.elapsed()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "events still moving: {pending} unpublished, {logged} logged, {watched} reports and {watched_all} of {outboxed} events watched"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_watching.cancel();
    watcher.await.unwrap();

    assert_eq!(
        count(&issues_db, "SELECT count(*) FROM issues").await as usize,
        total,
        "exactly one issue per report"
    );
    let mut stored = strings(&issues_db, "SELECT CAST(id AS TEXT) FROM issues").await;
    stored.sort();
    let mut wanted: Vec<String> = accepted
        .iter()
        .chain(&stepped)
        .map(|n| n.trim_start_matches("issues/").to_owned())
        .collect();
    wanted.sort();
    wanted.dedup();
    assert_eq!(
        stored, wanted,
        "every accepted report stored, and only those"
    );

    // Each event is in the gateway's log once: its ids are unique there.
    let mut published = strings(&issues_db, "SELECT CAST(event_id AS TEXT) FROM outbox").await;
    published.sort();
    let logged: std::collections::HashSet<String> =
        strings(&gateway_db, "SELECT CAST(event_id AS TEXT) FROM event_log")
            .await
            .into_iter()
            .collect();
    let missing: Vec<_> = published
        .iter()
        .filter(|id| !logged.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "events not in the gateway's log: {missing:?}"
    );

    let seen = seen.lock().await.clone();
    let mut watched: Vec<String> = seen
        .iter()
        .filter(|e| e.source == "issues")
        .map(|e| e.id.clone())
        .collect();
    watched.sort();
    let twice: Vec<_> = watched.windows(2).filter(|w| w[0] == w[1]).collect();
    assert!(twice.is_empty(), "the watcher saw events twice: {twice:?}");
    assert_eq!(watched, published, "the watcher saw every event");

    // One issue's events, in the order the watcher saw them: in the order
    // of the issues service's outbox, each state change starting where the
    // one before ended.
    let mut by_issue = BTreeMap::<&str, Vec<&Event>>::new();
    for e in seen.iter().filter(|e| e.subject.starts_with("issues/")) {
        by_issue.entry(&e.subject).or_default().push(e);
    }
    for name in &stepped {
        let events = &by_issue[name.as_str()];
        let kinds: Vec<&str> = events.iter().map(|e| e.r#type.as_str()).collect();
        assert_eq!(
            kinds,
            [REPORTED, STATE_CHANGED, STATE_CHANGED],
            "{name}'s events"
        );
        let states: Vec<(i32, i32)> = events[1..]
            .iter()
            .map(|e| {
                let c = IssueStateChanged::decode(e.payload.as_ref().unwrap().value.as_slice())
                    .unwrap();
                (c.from_state, c.to_state)
            })
            .collect();
        assert_eq!(
            states,
            [
                (IssueState::Reported as i32, IssueState::Acknowledged as i32),
                (IssueState::Acknowledged as i32, IssueState::Rejected as i32),
            ],
            "{name}'s state changes, in the order watched"
        );
    }
    for (issue, events) in &by_issue {
        assert!(
            events.windows(2).all(|w| w[0].sequence < w[1].sequence),
            "{issue}'s events out of order"
        );
    }
    eprintln!(
        "{total} reports, {} events, watched in order through the failover",
        published.len()
    );

    // Operators see which replica publishes: one says 1, the other 0.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut leading = Vec::new();
        for port in metrics_ports {
            leading.push(relay_leader_metric(port).await);
        }
        leading.sort();
        if leading == [Some(0), Some(1)] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replicas' cogov_outbox_relay_leader: {leading:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    drop((organizations, issues, gateways));
    issues_db.close().await.unwrap();
    gateway_db.close().await.unwrap();
    scene.clean_up().await;
}
