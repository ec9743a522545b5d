//! The event bus: one trait, an in-process and a JetStream implementation.

use std::sync::Arc;
use std::time::Duration;

use cogov_proto::common::Event;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

use crate::db::Db;

/// A shared bus.
pub type Bus = Arc<dyn EventBus>;

/// What a durable consumer does with one event. An error is retried, a
/// bounded number of times, then the event is parked as a dead letter.
pub type Handler = Arc<dyn Fn(Event) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// What a durable consumer does with several events at once, in the bus's
/// order ([`EventBus::consume_batches`]). An error has each event handed
/// over again alone, retried and parked as [`Handler`]'s are.
pub type BatchHandler =
    Arc<dyn Fn(Vec<Event>) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A durable consumer.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// Unique per consuming service and purpose, e.g. `deliberation`.
    pub name: String,
    /// Event types it wants; every type when empty.
    pub types: Vec<String>,
    /// Deliveries before an event becomes a dead letter.
    pub max_attempts: u32,
    /// Wait before the first redelivery; doubles each time.
    pub backoff: Duration,
    /// Whether the handler sees events one at a time in the bus's order,
    /// across all replicas of the consumer and through their restarts (a
    /// failed event is retried before the next one is handed out).
    pub in_order: bool,
    /// For an in-order consumer: the database in which its replicas take
    /// turns holding a [`Lease`](crate::lease::Lease). Only the replica
    /// holding it takes events, so a bus whose replicas run apart may hand
    /// it many at a time ([`EventBus::consume_batches`]); without a lease
    /// such a bus hands out one event at a time, whichever replica takes it.
    pub lease: Option<Db>,
}

impl ConsumerSpec {
    /// A consumer of `types` with the default retry policy (5 attempts,
    /// 100 ms backoff doubling).
    pub fn new(name: impl Into<String>, types: &[String]) -> Self {
        Self {
            name: name.into(),
            types: types.to_vec(),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
            in_order: false,
            lease: None,
        }
    }

    /// The same consumer, handed one event at a time in order
    /// ([`ConsumerSpec::in_order`]).
    pub fn in_order(mut self) -> Self {
        self.in_order = true;
        self
    }

    /// The same in-order consumer, its replicas taking turns through a
    /// lease in `db` ([`ConsumerSpec::lease`]).
    pub fn leased_in(mut self, db: Db) -> Self {
        self.lease = Some(db);
        self
    }

    /// Whether it is in order and led through a lease: one replica at a
    /// time takes its events.
    pub fn led(&self) -> bool {
        self.in_order && self.lease.is_some()
    }

    /// The lease's name.
    pub fn lease_name(&self) -> String {
        format!("event consumer {}", self.name)
    }

    /// Whether it wants `event`.
    pub fn wants(&self, event: &Event) -> bool {
        self.types.is_empty() || self.types.contains(&event.r#type)
    }

    /// The wait before redelivery number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.backoff * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }
}

/// An event a consumer gave up on.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The consumer.
    pub consumer: String,
    /// The event.
    pub event: Event,
    /// The last error.
    pub error: String,
    /// Deliveries tried.
    pub attempts: u32,
}

/// Why the bus failed.
#[derive(Debug, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

/// What became of a round given to [`EventBus::publish_all`].
#[derive(Debug, Default)]
pub struct Published {
    /// The positions in the round of the events the bus holds for good,
    /// ascending.
    pub held: Vec<usize>,
    /// Why the others are not, when some are not.
    pub failure: Option<BusError>,
}

impl Published {
    /// The round's first `held` events held, the rest not (for `failure`).
    pub fn first(held: usize, failure: Option<BusError>) -> Self {
        Self {
            held: (0..held).collect(),
            failure,
        }
    }

    /// Whether every one of a round of `len` events is held.
    pub fn all_of(&self, len: usize) -> bool {
        self.failure.is_none() && self.held.len() == len
    }
}

/// Where events travel between services.
pub trait EventBus: Send + Sync + std::fmt::Debug + 'static {
    /// Publishes `event` and returns once the bus holds it for good. The
    /// event id is the message id: publishing it twice delivers it to a
    /// consumer at least once and usually once.
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>>;

    /// Publishes a round of `events` (a relay's rows, oldest first) and
    /// says which of them the bus now holds for good. Each subject's
    /// events keep the round's order: one is published only once every
    /// earlier one of its subject is held. Events of different subjects
    /// may be in flight together, so when one of them fails, later ones
    /// of other subjects may be held before it is published again; while
    /// nothing fails, the bus keeps the round's order. This one publishes
    /// them one by one and stops at the first failure.
    fn publish_all<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Published> {
        Box::pin(async move {
            for (published, event) in events.iter().enumerate() {
                if let Err(e) = self.publish(event).await {
                    return Published::first(published, Some(e));
                }
            }
            Published::first(events.len(), None)
        })
    }

    /// Starts a durable consumer in the background: `handler` sees every
    /// event `spec` wants at least once, also those published while the
    /// consumer was away.
    fn consume(&self, spec: ConsumerSpec, handler: Handler) -> BoxFuture<'_, Result<(), BusError>>;

    /// [`EventBus::consume`], for a consumer that applies several events
    /// at once more cheaply than one by one (a row each in one statement).
    /// The in-process bus hands it what one [`EventBus::publish_all`]
    /// brings; JetStream what has arrived to an in-order consumer with a
    /// lease ([`ConsumerSpec::lease`]), and one event otherwise.
    fn consume_batches(
        &self,
        spec: ConsumerSpec,
        handler: BatchHandler,
    ) -> BoxFuture<'_, Result<(), BusError>> {
        self.consume(spec, Arc::new(move |event| handler(vec![event])))
    }

    /// Events published from now on, for caches and live streams. A
    /// receiver that lags loses events and learns it (`Lagged`).
    fn watch(&self) -> broadcast::Receiver<Event>;

    /// Events parked by consumers that gave up on them, newest last (at
    /// most `limit`).
    fn dead_letters(&self, limit: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, BusError>>;

    /// Whether the bus is reachable now (for readiness); an in-process bus
    /// always is.
    fn connected(&self) -> bool {
        true
    }
}

/// Capacity of the live channel behind [`EventBus::watch`].
pub const WATCH_CAPACITY: usize = 4096;
