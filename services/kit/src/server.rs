//! Serving a role: its gRPC services plus `grpc.health.v1` and reflection,
//! and a graceful shutdown.
//!
//! On SIGTERM or SIGINT every health status (the `""` service included, which
//! is what a Kubernetes `grpc:` probe without `service:` checks) turns
//! NOT_SERVING, so load balancers stop sending new calls; after an optional
//! pause for endpoint propagation the server stops accepting, lets
//! in-flight calls finish within the drain bound, and returns.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Timings of a graceful shutdown.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownTimings {
    /// Keep serving (while reporting NOT_SERVING) this long before closing
    /// the listener, so that endpoints are withdrawn first.
    pub pre_drain: Duration,
    /// Give in-flight calls at most this long to finish.
    pub drain: Duration,
}

impl Default for ShutdownTimings {
    fn default() -> Self {
        Self {
            pre_drain: Duration::ZERO,
            drain: Duration::from_secs(10),
        }
    }
}

/// A token cancelled on the first SIGTERM or SIGINT.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => tracing::info!("SIGINT received; shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
            tracing::info!("interrupt received; shutting down");
        }
        trigger.cancel();
    });
    token
}

/// The health service name a readiness probe asks for: SERVING while the
/// role's database answers and its bus (if it has one apart) is connected.
/// The `""` service (for liveness) stays SERVING through such an outage, so
/// an outage causes no restart storm.
pub const READINESS: &str = "cogov.readiness";

/// How often readiness pings the database.
const READINESS_PERIOD: Duration = Duration::from_secs(5);

/// One role's gRPC server, ready to run.
pub struct RoleServer {
    role: &'static str,
    routes: Routes,
    services: Vec<&'static str>,
    ready_when: Option<crate::db::Db>,
    bus: Option<crate::events::Bus>,
    metrics: crate::metrics::Metrics,
}

impl std::fmt::Debug for RoleServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleServer")
            .field("role", &self.role)
            .field("services", &self.services)
            .finish()
    }
}

impl RoleServer {
    /// A server for `role` serving `routes`, whose fully-qualified gRPC
    /// service names are `services` (advertised by health and reflection).
    pub fn new(role: &'static str, routes: Routes, services: Vec<&'static str>) -> Self {
        Self {
            role,
            routes,
            services,
            ready_when: None,
            bus: None,
            metrics: crate::metrics::Metrics::new(),
        }
    }

    /// Counts and times calls into `metrics` (shared by the roles of one
    /// process; see [`crate::metrics::serve`]).
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Reports [`READINESS`] as SERVING only while `db` answers.
    pub fn ready_when(mut self, db: crate::db::Db) -> Self {
        self.ready_when = Some(db);
        self
    }

    /// Reports [`READINESS`] as SERVING only while `bus` is connected too
    /// (with [`RoleServer::ready_when`]).
    pub fn ready_with_bus(mut self, bus: crate::events::Bus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Serves on `listener` until `shutdown` is cancelled, then drains.
    pub async fn run(
        mut self,
        listener: TcpListener,
        shutdown: CancellationToken,
        timings: ShutdownTimings,
    ) -> Result<(), tonic::transport::Error> {
        let addr: Option<SocketAddr> = listener.local_addr().ok();
        let (health, health_service) = tonic_health::server::health_reporter();
        for name in &self.services {
            health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        let readiness = CancellationToken::new();
        match self.ready_when.take() {
            Some(db) => {
                let deps = Dependencies {
                    db,
                    bus: self.bus.take(),
                };
                // Known before the first probe can ask.
                let up = deps.up().await;
                health.set_service_status(READINESS, serving(up)).await;
                tokio::spawn(follow_dependencies(
                    deps,
                    up,
                    health.clone(),
                    readiness.clone(),
                ));
            }
            None => {
                health
                    .set_service_status(READINESS, ServingStatus::Serving)
                    .await;
            }
        }

        let mut reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(cogov_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        for name in &self.services {
            reflection = reflection.with_service_name(*name);
        }
        let reflection_v1 = reflection
            .build_v1()
            .expect("the contracts' descriptors are valid");
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(cogov_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .expect("the contracts' descriptors are valid");

        let routes = self
            .routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let stop_accepting = CancellationToken::new();
        let role = self.role;
        let server = Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            // gRPC-Web for browsers (HTTP/1.1 and HTTP/2) and plain HTTP
            // (Open311); plain gRPC passes through untouched.
            .accept_http1(true)
            .layer(crate::grpc_web::GrpcWebOrPlainLayer)
            .layer(self.metrics.layer(role))
            // One span per call, continuing the caller's trace, so every
            // log line of a handler names its RPC and its trace.
            .trace_fn(move |request| crate::telemetry::rpc_span(role, request))
            .add_routes(routes)
            // Nagle's algorithm would hold back small frames (trailers) until
            // the peer's delayed ACK, ~40 ms a call. The builder's nodelay
            // applies only to listeners it binds itself, so set it here.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                stop_accepting.clone().cancelled_owned(),
            );
        tracing::info!(role = self.role, ?addr, services = ?self.services, "serving");

        tokio::pin!(server);
        tokio::select! {
            result = &mut server => return result,
            _ = shutdown.cancelled() => {}
        }

        readiness.cancel();
        go_not_serving(&health, &self.services).await;
        if !timings.pre_drain.is_zero() {
            tokio::select! {
                result = &mut server => return result,
                _ = tokio::time::sleep(timings.pre_drain) => {}
            }
        }
        stop_accepting.cancel();
        match tokio::time::timeout(timings.drain, &mut server).await {
            Ok(result) => {
                tracing::info!(role = self.role, "drained");
                result
            }
            Err(_) => {
                tracing::warn!(role = self.role, drain = ?timings.drain, "drain bound reached; closing remaining connections");
                Ok(())
            }
        }
    }
}

fn serving(up: bool) -> ServingStatus {
    if up {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

/// What a role needs to serve: its database, and the bus when events
/// travel between processes.
struct Dependencies {
    db: crate::db::Db,
    bus: Option<crate::events::Bus>,
}

impl Dependencies {
    async fn up(&self) -> bool {
        self.bus.as_ref().is_none_or(|b| b.connected()) && self.db.ping().await.is_ok()
    }
}

async fn follow_dependencies(
    deps: Dependencies,
    mut ready: bool,
    health: HealthReporter,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(READINESS_PERIOD) => {}
        }
        let now = deps.up().await;
        if now != ready {
            if now {
                tracing::info!("database and bus reachable again; ready");
            } else {
                tracing::warn!("database or bus unreachable; not ready");
            }
            health.set_service_status(READINESS, serving(now)).await;
            ready = now;
        }
    }
}

async fn go_not_serving(health: &HealthReporter, services: &[&'static str]) {
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    health
        .set_service_status(READINESS, ServingStatus::NotServing)
        .await;
    for name in services {
        health
            .set_service_status(*name, ServingStatus::NotServing)
            .await;
    }
}
