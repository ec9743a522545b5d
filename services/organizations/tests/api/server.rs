//! The server around the service: health, reflection, authentication of
//! the principal, graceful shutdown.

use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::clock::Clock;
use cogov_proto::organizations::*;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::support::*;

#[tokio::test]
async fn health_reports_serving_for_the_server_and_the_service() {
    let env = Env::start(cogov_kit::testing::TestDb::sqlite()).await;
    let mut health = HealthClient::new(env.server.channel.clone());
    for service in ["", cogov_organizations::SERVICE_NAME] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
}

#[tokio::test]
async fn reflection_lists_the_service() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let env = Env::start(cogov_kit::testing::TestDb::sqlite()).await;
    let mut client = ServerReflectionClient::new(env.server.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&cogov_organizations::SERVICE_NAME.to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()));
}

#[tokio::test]
async fn calls_without_a_valid_principal_are_refused() {
    let env = Env::start(cogov_kit::testing::TestDb::sqlite()).await;
    assert_status(
        env.anonymous()
            .list_streets(ListStreetsRequest::default())
            .await,
        Code::Unauthenticated,
        "PRINCIPAL_MISSING",
    );
    // Signed with another secret: forged.
    let forger = Authenticator::new(b"not the internal secret", None, Clock::system());
    let mut forged = cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient::with_interceptor(
        env.server.channel.clone(),
        move |mut req: tonic::Request<()>| {
            forger.attach(req.metadata_mut(), &Principal::StreetAdmin { subject: "x".into() }, chrono::Duration::seconds(60));
            Ok(req)
        },
    );
    assert_status(
        forged.list_streets(ListStreetsRequest::default()).await,
        Code::Unauthenticated,
        "PRINCIPAL_INVALID",
    );
}

#[tokio::test]
async fn shutdown_turns_health_not_serving_then_drains() {
    use cogov_kit::server::{RoleServer, ShutdownTimings};
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    let env = Env::start(cogov_kit::testing::TestDb::sqlite()).await;
    let server: RoleServer =
        cogov_organizations::Organizations::new(env.ctx.clone()).server(env.auth.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let timings = ShutdownTimings {
        pre_drain: Duration::from_millis(500),
        drain: Duration::from_secs(2),
    };
    let task = tokio::spawn(server.run(listener, shutdown.clone(), timings));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let check = |mut h: HealthClient<tonic::transport::Channel>| async move {
        h.check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
    };
    assert_eq!(check(health.clone()).await, ServingStatus::Serving as i32);
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // During the pre-drain pause the server still answers, NOT_SERVING.
    assert_eq!(
        check(health.clone()).await,
        ServingStatus::NotServing as i32
    );
    let done = tokio::time::timeout(Duration::from_secs(5), task).await;
    assert!(
        matches!(done, Ok(Ok(Ok(())))),
        "the server stops cleanly: {done:?}"
    );
    assert!(
        health
            .check(HealthCheckRequest {
                service: String::new()
            })
            .await
            .is_err()
    );
}

/// The service on a database of its own, not yet serving.
async fn own_server() -> (
    cogov_kit::testing::TestDb,
    cogov_kit::db::Db,
    cogov_kit::server::RoleServer,
) {
    let file = cogov_kit::testing::TestDb::sqlite();
    let db = cogov_kit::db::connect::<cogov_organizations::Migrator>(
        &cogov_kit::db::DbConfig::new(&file.url),
    )
    .await
    .unwrap();
    let ctx = cogov_kit::Context {
        db: db.clone(),
        tokens: cogov_kit::paging::PageTokens::new(b"tokens"),
        clock: Clock::system(),
    };
    let role = cogov_organizations::Organizations::new(ctx).server(Authenticator::new(
        b"secret",
        None,
        Clock::system(),
    ));
    (file, db, role)
}

/// Readiness follows the database; liveness does not, so an outage takes
/// the pod out of rotation without restarting it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_and_liveness_does_not() {
    use cogov_kit::server::READINESS;
    let (_file, db, role) = own_server().await;
    let server = cogov_kit::testing::TestServer::start(role.ready_when(db.clone())).await;
    let mut health = HealthClient::new(server.channel.clone());
    let mut status = async |service: &str| {
        health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status
    };
    let mut ready = ServingStatus::Unknown as i32;
    for _ in 0..50 {
        ready = status(READINESS).await;
        if ready == ServingStatus::Serving as i32 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(ready, ServingStatus::Serving as i32);

    db.close().await.unwrap();
    let mut ready = ServingStatus::Serving as i32;
    for _ in 0..80 {
        ready = status(READINESS).await;
        if ready == ServingStatus::NotServing as i32 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        ready,
        ServingStatus::NotServing as i32,
        "readiness ignored the outage"
    );
    assert_eq!(
        status("").await,
        ServingStatus::Serving as i32,
        "liveness must not follow the database"
    );
}

/// A TCP relay to NATS that the test can cut, as a network partition would.
struct Cuttable {
    addr: std::net::SocketAddr,
    cut: tokio_util::sync::CancellationToken,
}

impl Cuttable {
    async fn to_nats(nats: &str, port: u16) -> Cuttable {
        let nats = nats.to_owned();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = tokio_util::sync::CancellationToken::new();
        let stop = cut.clone();
        tokio::spawn(async move {
            loop {
                let (mut inbound, _) = tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => accepted.unwrap(),
                };
                let (stop, nats) = (stop.clone(), nats.clone());
                tokio::spawn(async move {
                    let mut nats = tokio::net::TcpStream::connect(nats).await.unwrap();
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut nats) => {}
                    }
                });
            }
        });
        Cuttable { addr, cut }
    }
}

async fn wait_for(
    health: &mut HealthClient<tonic::transport::Channel>,
    want: ServingStatus,
) -> bool {
    for _ in 0..150 {
        let status = health
            .check(HealthCheckRequest {
                service: cogov_kit::server::READINESS.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        if status == want as i32 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// Roles run apart need NATS for their events: readiness follows the
/// connection to it, out and back (a `nats-server` of the test's own, or
/// `COGOV_TEST_NATS_URL`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_bus() {
    use cogov_kit::events::jetstream::JetStreamBus;
    let Some(nats) = cogov_kit::testing::servers::TestNats::start().await else {
        return;
    };
    let relay = Cuttable::to_nats(nats.host_port(), 0).await;
    let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
    let js = JetStreamBus::connect(&format!("nats://{}", relay.addr), &namespace)
        .await
        .expect("connecting to NATS with JetStream through the relay");
    let (_file, db, role) = own_server().await;
    let server = cogov_kit::testing::TestServer::start(
        role.ready_when(db.clone())
            .ready_with_bus(std::sync::Arc::new(js.clone())),
    )
    .await;
    let mut health = HealthClient::new(server.channel.clone());
    assert!(wait_for(&mut health, ServingStatus::Serving).await);

    relay.cut.cancel();
    assert!(
        wait_for(&mut health, ServingStatus::NotServing).await,
        "readiness ignored the lost bus"
    );

    // The same address answers again; the client reconnects by itself.
    let back = Cuttable::to_nats(nats.host_port(), relay.addr.port()).await;
    assert!(
        wait_for(&mut health, ServingStatus::Serving).await,
        "readiness did not come back with the bus"
    );
    js.delete().await.unwrap();
    back.cut.cancel();
}

/// `GET /metrics` counts calls by role, method and code, and times them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_by_method_and_code() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_file, _db, role) = own_server().await;
    let metrics = cogov_kit::metrics::Metrics::new();
    let server = cogov_kit::testing::TestServer::start(role.with_metrics(metrics.clone())).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(cogov_kit::metrics::serve(listener, metrics, stop.clone()));

    let mut anonymous =
        cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient::new(
            server.channel.clone(),
        );
    for _ in 0..2 {
        anonymous
            .list_streets(ListStreetsRequest::default())
            .await
            .unwrap_err();
    }
    let mut body = String::new();
    for _ in 0..50 {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: cogov\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        body.clear();
        tcp.read_to_string(&mut body).await.unwrap();
        if body.contains("ListStreets") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.cancel();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains(
            r#"cogov_rpc_calls_total{role="organizations",method="/cogov.organizations.v1.OrganizationsService/ListStreets",code="Unauthenticated"} 2"#
        ),
        "{body}"
    );
    assert!(
        body.contains(r#"cogov_rpc_duration_seconds_count{role="organizations",method="/cogov.organizations.v1.OrganizationsService/ListStreets"} 2"#),
        "{body}"
    );
}
