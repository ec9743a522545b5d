//! Webhooks: the events in a partner's reach, posted to the partner's
//! HTTPS endpoints, signed, retried and recorded.
//!
//! - [`endpoints`]: the endpoints' RPCs (create, get, list, update,
//!   delete, rotate the secret, send a test event) and who may call them;
//! - [`deliveries`]: ListWebhookDeliveries and RedeliverWebhookDelivery;
//! - [`fanout`]: follows the gateway's event log and queues one delivery
//!   per event and endpoint that wants it and may see it;
//! - [`sender`]: posts due deliveries, a few at a time per endpoint, and
//!   records each attempt: done, retried on [`schedule`], or failed;
//! - [`ssrf`]: which addresses deliveries may not reach;
//! - [`crate::standard_webhooks`]: the signature.
//!
//! Deliveries live in the gateway's database from the moment they are
//! queued, so a restart loses none: a delivery cut off mid-attempt is
//! still pending and is tried again, with the same `webhook-id`. One
//! replica at a time fans out and sends (a lease), so no event is posted
//! twice by two replicas racing.

pub mod deliveries;
pub mod endpoints;
pub mod fanout;
pub mod migration;
pub mod schedule;
pub mod sender;
pub mod ssrf;

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::Notify;

pub use migration::Migration;

use crate::Gateway;

/// The lease of the replica that fans out and sends.
const LEASE: &str = "gateway-webhooks";

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct Config {
    /// Networks deliveries may reach although [`ssrf`] forbids them
    /// (development and tests); with any, `http://` endpoints are accepted.
    pub allow_networks: Vec<IpNet>,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Attempts in flight to one endpoint at most.
    pub in_flight_per_endpoint: usize,
    /// Where attempts and disabled endpoints are counted.
    pub meter: cogov_kit::metrics::WebhookMeter,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allow_networks: Vec::new(),
            timeout: Duration::from_secs(10),
            in_flight_per_endpoint: 4,
            meter: cogov_kit::metrics::WebhookMeter::default(),
        }
    }
}

/// The webhooks' shared state: the delivery client and the sender's bell.
#[derive(Debug, Clone)]
pub struct Webhooks(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    config: Config,
    guard: ssrf::Guard,
    client: reqwest::Client,
    /// Rung when deliveries become due (queued, redelivered, a slot freed).
    due: Notify,
    /// The running fan-out and sender, to stop them.
    worker: std::sync::Mutex<Option<tokio::task::AbortHandle>>,
}

impl Webhooks {
    /// Webhooks delivered as `config` says.
    pub fn new(config: Config) -> Webhooks {
        crate::outbound_tls();
        let guard = ssrf::Guard::new(config.allow_networks.clone());
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect would lead past the checks; a proxy would resolve
            // names itself, past the guard.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(guard.clone())
            .user_agent(concat!("cogov-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the webhook client builds");
        Webhooks(Arc::new(Inner {
            config,
            guard,
            client,
            due: Notify::new(),
            worker: std::sync::Mutex::default(),
        }))
    }

    /// What deliveries may reach.
    pub fn guard(&self) -> &ssrf::Guard {
        &self.0.guard
    }

    /// Tells the sender that deliveries may be due.
    pub fn wake(&self) {
        self.0.due.notify_one();
    }

    /// Stops the fan-out and the sender at once, attempts in flight
    /// included, as a killed process would (tests start them again with
    /// [`start`]).
    pub fn stop(&self) {
        if let Some(worker) = self.0.worker.lock().expect("worker lock").take() {
            worker.abort();
        }
    }
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks::new(Config::default())
    }
}

/// Forgets finished deliveries past [`deliveries::RETENTION`], hourly.
async fn prune_hourly(gw: Gateway) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = deliveries::prune(gw.ctx.db.write(), gw.ctx.clock.now()).await {
            tracing::warn!(error = %e, "pruning webhook deliveries failed");
        }
    }
}

/// Fans out and sends in whichever replica holds the lease, for as long
/// as the process runs (or until [`Webhooks::stop`]).
pub fn start(gw: &Gateway) {
    let hooks = gw.webhooks.clone();
    let gw = gw.clone();
    let worker = tokio::spawn(async move {
        let db = gw.ctx.db.clone();
        cogov_kit::lease::Lease::run(
            db,
            LEASE,
            |_| {},
            || {
                let gw = gw.clone();
                async move {
                    tokio::join!(
                        fanout::run(gw.clone()),
                        sender::run(gw.clone()),
                        prune_hourly(gw)
                    );
                }
            },
        )
        .await;
    });
    let previous = hooks
        .0
        .worker
        .lock()
        .expect("worker lock")
        .replace(worker.abort_handle());
    if let Some(previous) = previous {
        previous.abort();
    }
}
