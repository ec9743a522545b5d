//! Nothing a user submitted is lost or duplicated when the system is
//! treated badly. The organizations, issues and gateway roles run as
//! separate `cogov serve` processes on PostgreSQL (through a relay the test
//! can cut) with their events on NATS JetStream. Clients send N reports
//! through the gateway, retrying each with its request_id after random
//! timeouts, while the issues service is killed with SIGKILL and restarted,
//! PostgreSQL goes away for a while, and the gateway gets a SIGTERM and a
//! restart. Afterwards: exactly N issues, one per request id, every
//! accepted report stored, every IssueReported event published once and
//! applied once by the gateway's event log; and no call was cut off while
//! the gateway drained.
//!
//! N is 300 in CI; `COGOV_FAULT_REPORTS` sets it (the long run:
//! `COGOV_FAULT_REPORTS=10000 cargo test -p cogov --test system -- fault`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cogov_kit::testing::servers;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use sea_orm::Database;
use tokio::sync::Mutex;
use tonic::Code;

use crate::free_port;
use crate::processes::{PostgresUrl, Relay, Role, Scene, count, count_from_env, strings};

const CLIENTS: usize = 8;
const INTERNAL_SECRET: &str = "fault test internal secret";
const JWT_SECRET: &str = "fault test staff token secret";

/// A report attempt that failed, and when.
struct Failure {
    at: Instant,
    code: Code,
    message: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_duplicated_under_faults() {
    let Some(admin_url) = servers::postgres_url() else {
        return;
    };
    let reports = count_from_env("COGOV_FAULT_REPORTS", 300);
    let Some(nats) = servers::TestNats::start().await else {
        return;
    };
    let scene = Scene::create("fault", &admin_url, nats.url()).await;
    let (tag, names, logs) = (&scene.tag, &scene.databases, &scene.logs);
    let server = PostgresUrl::parse(&admin_url);
    let relay = Relay::start(server.host_port.clone()).await;
    let through_relay = |db: &str| server.with(&format!("127.0.0.1:{}", relay.port), db);
    let direct = |db: &str| server.with(&server.host_port, db);

    let ports = [free_port(), free_port(), free_port()];
    let common = |db: &str| {
        vec![
            ("COGOV_DATABASE_URL".to_owned(), through_relay(db)),
            (
                "COGOV_INTERNAL_SECRET".to_owned(),
                INTERNAL_SECRET.to_owned(),
            ),
            ("COGOV_NATS_URL".to_owned(), nats.url().to_owned()),
            ("COGOV_NATS_NAMESPACE".to_owned(), tag.clone()),
            (
                "COGOV_ORGANIZATIONS_ADDR".to_owned(),
                format!("http://127.0.0.1:{}", ports[0]),
            ),
            (
                "COGOV_ISSUES_ADDR".to_owned(),
                format!("http://127.0.0.1:{}", ports[1]),
            ),
        ]
    };
    let mut organizations = Role {
        name: "organizations",
        port: ports[0],
        env: common(&names[0]),
        child: None,
        log: logs.join("organizations.log"),
    };
    let mut issues = Role {
        name: "issues",
        port: ports[1],
        env: common(&names[1]),
        child: None,
        log: logs.join("issues.log"),
    };
    let mut gateway_env = common(&names[2]);
    gateway_env.push(("COGOV_JWT_SECRET".into(), JWT_SECRET.into()));
    // Keep answering for a second after SIGTERM, then drain.
    gateway_env.push(("COGOV_PRE_DRAIN_SECONDS".into(), "1".into()));
    gateway_env.push(("COGOV_PARTNER_RATE".into(), "10000".into()));
    let mut gateway = Role {
        name: "gateway",
        port: ports[2],
        env: gateway_env,
        child: None,
        log: logs.join("gateway.log"),
    };
    // The organizations role creates the event streams the others use.
    organizations.start();
    organizations.ready().await;
    issues.start();
    gateway.start();
    issues.ready().await;
    gateway.ready().await;

    let staff = crate::processes::staff(JWT_SECRET);
    let courtyard = crate::processes::a_courtyard(gateway.channel(), staff.clone()).await;

    // The load: every report retried with its request_id until accepted.
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<Failure>::new()));
    let load_started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (next, accepted, failures) = (next.clone(), accepted.clone(), failures.clone());
        let mut client = IssuesServiceClient::with_interceptor(gateway.channel(), staff.clone());
        let courtyard = courtyard.clone();
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= reports {
                    return;
                }
                let request_id = uuid::Uuid::new_v4().to_string();
                loop {
                    assert!(
                        load_started.elapsed() < Duration::from_secs(240 + reports as u64 / 10),
                        "report {i} was never accepted"
                    );
                    // 30 to 400 ms: some attempts time out although they
                    // were (or will be) stored.
                    let timeout = 30 + (uuid::Uuid::new_v4().as_u128() % 370) as u64;
                    let mut request = tonic::Request::new(ReportIssueRequest {
                        issue: Some(Issue {
                            courtyard: courtyard.clone(),
                            sub_item: "subItems/clutter_piling".into(),
                            title: format!("report {i}"),
                            ..Default::default()
                        }),
                        request_id: request_id.clone(),
                    });
                    request.set_timeout(Duration::from_millis(timeout));
                    match client.report_issue(request).await {
                        Ok(issue) => {
                            accepted.lock().await.push(issue.into_inner().name);
                            break;
                        }
                        Err(status) => {
                            failures.lock().await.push(Failure {
                                at: Instant::now(),
                                code: status.code(),
                                message: status.message().to_owned(),
                            });
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
        }));
    }

    let progress = async |share: usize| {
        while accepted.lock().await.len() < reports * share / 4 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    progress(1).await;
    eprintln!("SIGKILL issues at {:?}", load_started.elapsed());
    issues.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    issues.start();
    issues.ready().await;

    progress(2).await;
    eprintln!("PostgreSQL away at {:?}", load_started.elapsed());
    relay.restart(Duration::from_millis(1500)).await;

    progress(3).await;
    eprintln!(
        "SIGTERM gateway at {:?} ({})",
        load_started.elapsed(),
        chrono::Utc::now()
    );
    let sigterm = Instant::now();
    let status = gateway.terminate().await;
    assert!(
        status.success(),
        "the gateway exited with {status} on SIGTERM"
    );
    gateway.start();
    gateway.ready().await;

    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().await.clone();
    let failures = failures.lock().await;
    let mut by_code = std::collections::BTreeMap::<String, usize>::new();
    for f in failures.iter() {
        *by_code.entry(format!("{:?}", f.code)).or_default() += 1;
    }
    eprintln!(
        "{} reports accepted in {:?}; failed attempts, retried: {by_code:?}",
        accepted.len(),
        load_started.elapsed(),
    );
    // While the gateway answered NOT_SERVING and then drained, calls it had
    // taken finished: no attempt was cut off. Timeouts are the clients' own
    // (the gateway's DEADLINE_EXCEEDED, or tonic's own timer).
    let own_timeout = |f: &Failure| {
        f.code == Code::DeadlineExceeded
            || (f.code == Code::Cancelled && f.message.contains("Timeout expired"))
    };
    let cut_off: Vec<_> = failures
        .iter()
        .filter(|f| f.at >= sigterm && f.at < sigterm + Duration::from_millis(900))
        .filter(|f| !own_timeout(f))
        .map(|f| format!("{:?}: {}", f.code, f.message))
        .collect();
    assert!(
        cut_off.is_empty(),
        "calls cut off by SIGTERM: {cut_off:?}\n--- gateway's log:\n{}\n--- issues' log:\n{}",
        gateway.logged(),
        issues.logged()
    );

    // Afterwards, straight from the databases.
    let issues_db = Database::connect(direct(&names[1])).await.unwrap();
    let gateway_db = Database::connect(direct(&names[2])).await.unwrap();
    let reported = "cogov.issues.v1.IssueReported";
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending = count(
            &issues_db,
            "SELECT count(*) FROM outbox WHERE publish_time IS NULL",
        )
        .await;
        let logged = count(
            &gateway_db,
            &format!("SELECT count(*) FROM event_log WHERE event_type = '{reported}'"),
        )
        .await;
        if pending == 0 && logged as usize >= reports {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "events still moving: {pending} unpublished, {logged} in the gateway's log"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert_eq!(accepted.len(), reports);
    assert_eq!(
        count(&issues_db, "SELECT count(*) FROM issues").await as usize,
        reports,
        "exactly one issue per report"
    );
    assert_eq!(
        count(
            &issues_db,
            "SELECT count(*) FROM idempotency_keys WHERE method = 'ReportIssue'"
        )
        .await as usize,
        reports
    );
    let mut stored = strings(&issues_db, "SELECT CAST(id AS TEXT) FROM issues").await;
    stored.sort();
    let mut wanted: Vec<String> = accepted
        .iter()
        .map(|n| n.trim_start_matches("issues/").to_owned())
        .collect();
    wanted.sort();
    wanted.dedup();
    assert_eq!(wanted.len(), reports, "two reports answered with one issue");
    assert_eq!(
        stored, wanted,
        "every accepted report is stored, and only those"
    );

    let mut published = strings(
        &issues_db,
        &format!("SELECT CAST(event_id AS TEXT) FROM outbox WHERE event_type = '{reported}'"),
    )
    .await;
    published.sort();
    assert_eq!(published.len(), reports, "one IssueReported per issue");
    let mut applied = strings(
        &gateway_db,
        &format!("SELECT CAST(event_id AS TEXT) FROM event_log WHERE event_type = '{reported}'"),
    )
    .await;
    applied.sort();
    assert_eq!(applied, published, "each event applied exactly once");

    drop((organizations, issues, gateway));
    issues_db.close().await.unwrap();
    gateway_db.close().await.unwrap();
    scene.clean_up().await;
}
