//! Prometheus metrics, served at `GET /metrics` on a port of their own
//! ([`serve`]): calls per method and code with a duration histogram,
//! database pool gauges and the outbox's lag.
//!
//! One [`Metrics`] per process; every series carries the `role`, so
//! `cogov up`, which plays every role, reports them apart.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Request, Response};
use http_body::Frame;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::db::Db;
use crate::events::outbox::entity as outbox;

/// A call's role, method and gRPC code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    role: String,
    method: String,
    code: String,
}

/// A call's role and method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    role: String,
    method: String,
}

/// A role.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabels {
    role: String,
}

/// A role and how something ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    role: String,
    outcome: String,
}

struct Inner {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    duration: Family<MethodLabels, Histogram>,
    pool_size: Family<RoleLabels, Gauge>,
    pool_idle: Family<RoleLabels, Gauge>,
    outbox_pending: Family<RoleLabels, Gauge>,
    outbox_lag: Family<RoleLabels, Gauge<f64, AtomicU64>>,
    outbox_relaying: Family<RoleLabels, Gauge>,
    group_commits: Family<RoleLabels, Counter>,
    group_commit_writes: Family<RoleLabels, Counter>,
    group_commit_ends: Family<RoleLabels, Counter>,
    group_commit_end_calls: Family<RoleLabels, Counter>,
    webhooks: WebhookFamilies,
}

/// The webhook sender's series.
#[derive(Clone)]
struct WebhookFamilies {
    attempts: Family<OutcomeLabels, Counter>,
    attempt_duration: Family<RoleLabels, Histogram>,
    endpoints_disabled: Family<RoleLabels, Counter>,
}

impl Default for WebhookFamilies {
    fn default() -> Self {
        WebhookFamilies {
            attempts: Family::default(),
            attempt_duration: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            endpoints_disabled: Family::default(),
        }
    }
}

/// What a role's webhook sender reports: each attempt's outcome and time,
/// and each endpoint it disables. Made by [`Metrics::webhooks`]; the
/// default one reports into series no registry serves.
#[derive(Clone, Default)]
pub struct WebhookMeter {
    families: WebhookFamilies,
    role: String,
}

impl std::fmt::Debug for WebhookMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookMeter({})", self.role)
    }
}

impl WebhookMeter {
    /// An attempt that ended as `outcome` (`delivered`, `retried`,
    /// `failed`, `gone`) after `took`.
    pub fn attempt(&self, outcome: &str, took: Duration) {
        self.families
            .attempts
            .get_or_create(&OutcomeLabels {
                role: self.role.clone(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.families
            .attempt_duration
            .get_or_create(&RoleLabels {
                role: self.role.clone(),
            })
            .observe(took.as_secs_f64());
    }

    /// An endpoint disabled by the sender.
    pub fn endpoint_disabled(&self) {
        self.families
            .endpoints_disabled
            .get_or_create(&RoleLabels {
                role: self.role.clone(),
            })
            .inc();
    }
}

/// The process's metrics.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn duration_histogram() -> Histogram {
    // 0.25 ms … 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cogov");
        let calls = Family::<CallLabels, Counter>::default();
        let duration = Family::<MethodLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let pool_size = Family::<RoleLabels, Gauge>::default();
        let pool_idle = Family::<RoleLabels, Gauge>::default();
        let outbox_pending = Family::<RoleLabels, Gauge>::default();
        let outbox_lag = Family::<RoleLabels, Gauge<f64, AtomicU64>>::default();
        let outbox_relaying = Family::<RoleLabels, Gauge>::default();
        let group_commits = Family::<RoleLabels, Counter>::default();
        let group_commit_writes = Family::<RoleLabels, Counter>::default();
        let group_commit_ends = Family::<RoleLabels, Counter>::default();
        let group_commit_end_calls = Family::<RoleLabels, Counter>::default();
        let webhooks = WebhookFamilies::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by how they ended: delivered, retried, failed, gone",
            webhooks.attempts.clone(),
        );
        registry.register(
            "webhook_attempt_duration_seconds",
            "Time from a webhook attempt's start to the endpoint's answer",
            webhooks.attempt_duration.clone(),
        );
        registry.register(
            "webhook_endpoints_disabled",
            "Webhook endpoints the gateway disabled (410 Gone, or failing for three days)",
            webhooks.endpoints_disabled.clone(),
        );
        registry.register(
            "rpc_calls",
            "gRPC calls served, by role, method and status code",
            calls.clone(),
        );
        registry.register(
            "rpc_duration_seconds",
            "Time from request to the end of the response, by role and method",
            duration.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Connections open in the role's database pool",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle connections in the role's database pool",
            pool_idle.clone(),
        );
        registry.register(
            "outbox_pending_events",
            "Events committed but not yet acknowledged by the bus",
            outbox_pending.clone(),
        );
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest event not yet acknowledged by the bus",
            outbox_lag.clone(),
        );
        registry.register(
            "outbox_relay_leader",
            "1 in the replica whose outbox relay holds the lease and publishes, 0 in the others",
            outbox_relaying.clone(),
        );
        registry.register(
            "db_group_commits",
            "SQLite commits made for concurrent writes grouped together",
            group_commits.clone(),
        );
        registry.register(
            "db_group_commit_writes",
            "Writes those group commits carried (divided by the commits: writes a commit)",
            group_commit_writes.clone(),
        );
        registry.register(
            "db_group_commit_ends",
            "Grouped writes that read nothing before their end, which the writer ran itself",
            group_commit_ends.clone(),
        );
        registry.register(
            "db_group_commit_end_calls",
            "Calls to SQLite those ends took (ends of the same statements share one)",
            group_commit_end_calls.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            calls,
            duration,
            pool_size,
            pool_idle,
            outbox_pending,
            outbox_lag,
            outbox_relaying,
            group_commits,
            group_commit_writes,
            group_commit_ends,
            group_commit_end_calls,
            webhooks,
        }))
    }
}

impl Metrics {
    /// A registry with no series yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.0.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// What `role`'s webhook sender reports into.
    pub fn webhooks(&self, role: &str) -> WebhookMeter {
        WebhookMeter {
            families: self.0.webhooks.clone(),
            role: role.to_owned(),
        }
    }

    /// The tower layer that counts and times `role`'s calls.
    pub fn layer(&self, role: &'static str) -> MetricsLayer {
        MetricsLayer {
            metrics: self.clone(),
            role,
        }
    }

    fn finish(&self, role: &'static str, method: &str, code: i32, start: Instant) {
        self.0
            .calls
            .get_or_create(&CallLabels {
                role: role.to_owned(),
                method: method.to_owned(),
                code: format!("{:?}", tonic::Code::from_i32(code)),
            })
            .inc();
        self.0
            .duration
            .get_or_create(&MethodLabels {
                role: role.to_owned(),
                method: method.to_owned(),
            })
            .observe(start.elapsed().as_secs_f64());
    }

    /// Samples `db`'s pool and outbox every few seconds, for as long as the
    /// process runs.
    pub fn watch_database(&self, role: &'static str, db: Db) -> tokio::task::JoinHandle<()> {
        let metrics = self.clone();
        tokio::spawn(async move {
            let labels = RoleLabels {
                role: role.to_owned(),
            };
            let mut every = tokio::time::interval(Duration::from_secs(5));
            let mut grouped = crate::GroupCommits::default();
            loop {
                every.tick().await;
                if let Some(now) = db.group_commits() {
                    let m = &metrics.0;
                    let add = |family: &Family<RoleLabels, Counter>, to: u64, from: u64| {
                        family.get_or_create(&labels).inc_by(to - from);
                    };
                    add(&m.group_commits, now.commits, grouped.commits);
                    add(&m.group_commit_writes, now.writes, grouped.writes);
                    add(&m.group_commit_ends, now.ends, grouped.ends);
                    add(&m.group_commit_end_calls, now.end_calls, grouped.end_calls);
                    grouped = now;
                }
                let (size, idle) = db.pool_status();
                metrics.0.pool_size.get_or_create(&labels).set(size.into());
                metrics.0.pool_idle.get_or_create(&labels).set(idle.into());
                metrics
                    .0
                    .outbox_relaying
                    .get_or_create(&labels)
                    .set(db.relaying().into());
                let pending = outbox::Entity::find().filter(outbox::Column::PublishTime.is_null());
                if let Ok(n) = pending.clone().count(db.read()).await {
                    metrics
                        .0
                        .outbox_pending
                        .get_or_create(&labels)
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
                if let Ok(oldest) = pending
                    .order_by_asc(outbox::Column::Seq)
                    .one(db.read())
                    .await
                {
                    let lag = oldest.map_or(0.0, |o| {
                        (chrono::Utc::now() - o.create_time)
                            .num_milliseconds()
                            .max(0) as f64
                            / 1000.0
                    });
                    metrics.0.outbox_lag.get_or_create(&labels).set(lag);
                }
            }
        })
    }
}

/// Counts and times every call of a role.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    metrics: Metrics,
    role: &'static str,
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = Measure<S>;

    fn layer(&self, inner: S) -> Measure<S> {
        Measure {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`MetricsLayer`] makes.
#[derive(Clone, Debug)]
pub struct Measure<S> {
    inner: S,
    layer: MetricsLayer,
}

/// The `grpc-status` in trailers, or in the headers of a trailers-only
/// response.
pub fn grpc_status(headers: &HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

impl<S, B, RB> tower::Service<Request<B>> for Measure<S>
where
    S: tower::Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    RB: http_body::Body<Data = Bytes> + Unpin,
{
    type Response = Response<Measured<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let start = Instant::now();
        // Calls are gRPC calls: plain HTTP (Open311) would put IDs into
        // the method label.
        let layer = crate::telemetry::is_grpc(&request).then(|| self.layer.clone());
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await?;
            let in_headers = grpc_status(response.headers());
            // The call's span (see `telemetry::rpc_span`) ends with the
            // response head: a code in the headers, or OK with trailers to
            // come.
            crate::telemetry::record_response(
                &tracing::Span::current(),
                in_headers.unwrap_or(tonic::Code::Ok as i32),
                response.status().as_u16(),
            );
            Ok(response.map(|inner| Measured {
                inner,
                pending: layer.map(|l| (l, method, start)),
                in_headers,
            }))
        })
    }
}

/// A response body that records its call when it ends.
pub struct Measured<B> {
    inner: B,
    pending: Option<(MetricsLayer, String, Instant)>,
    in_headers: Option<i32>,
}

impl<B> Measured<B> {
    fn end(&mut self, code: i32) {
        if let Some((layer, method, start)) = self.pending.take() {
            layer.metrics.finish(layer.role, &method, code, start);
        }
    }
}

impl<B: http_body::Body<Data = Bytes> + Unpin> http_body::Body for Measured<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    self.end(code);
                }
            }
            Poll::Ready(Some(Err(_))) => self.end(tonic::Code::Internal as i32),
            Poll::Ready(None) => {
                let code = self.in_headers.unwrap_or(tonic::Code::Ok as i32);
                self.end(code);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Measured<B> {
    fn drop(&mut self) {
        // Dropped before its end: the caller went away.
        let code = self.in_headers.unwrap_or(tonic::Code::Cancelled as i32);
        self.end(code);
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_attempts_and_disabled_endpoints_are_served() {
        let metrics = Metrics::new();
        let meter = metrics.webhooks("gateway");
        meter.attempt("delivered", Duration::from_millis(3));
        meter.attempt("delivered", Duration::from_millis(5));
        meter.attempt("retried", Duration::from_secs(10));
        meter.endpoint_disabled();
        WebhookMeter::default().attempt("delivered", Duration::ZERO);
        let text = metrics.render();
        for line in [
            r#"cogov_webhook_attempts_total{role="gateway",outcome="delivered"} 2"#,
            r#"cogov_webhook_attempts_total{role="gateway",outcome="retried"} 1"#,
            r#"cogov_webhook_attempt_duration_seconds_count{role="gateway"} 3"#,
            r#"cogov_webhook_endpoints_disabled_total{role="gateway"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
