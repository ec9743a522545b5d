//! The NATS JetStream bus, for services that run apart.
//!
//! One stream holds every event (`{ns}.events.{type}`), de-duplicated by
//! `Nats-Msg-Id` = event id within the duplicate window; each durable
//! consumer is a pull consumer of that stream with explicit acks. A
//! consumer that fails an event naks it with a growing delay; after
//! `max_attempts` deliveries it parks the event in the dead-letter stream
//! (`{ns}.dead.{consumer}`, with the error in a header) and terminates it.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::message::{AckKind, PublishMessage};
use async_nats::jetstream::{self, stream};
use cogov_proto::common::Event;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use prost::Message;
use tokio::sync::broadcast;

use super::bus::{BusError, ConsumerSpec, DeadLetter, EventBus, Handler, WATCH_CAPACITY};

/// How long the stream keeps events, and how long a consumer may be away.
const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Republishing the same event within this window is dropped by the server.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long a delivery may stay unacknowledged before redelivery.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// The same for an in-order consumer, whose one event in flight holds up
/// every later one: when the replica holding it dies, another gets it
/// after this long.
const IN_ORDER_ACK_WAIT: Duration = Duration::from_secs(5);

const CONSUMER_HEADER: &str = "Cogov-Consumer";
const ERROR_HEADER: &str = "Cogov-Error";
const ATTEMPTS_HEADER: &str = "Cogov-Attempts";

/// The JetStream bus.
#[derive(Debug, Clone)]
pub struct JetStreamBus {
    js: jetstream::Context,
    namespace: String,
    live: broadcast::Sender<Event>,
}

fn err(context: &str) -> impl Fn(String) -> BusError + '_ {
    move |e| BusError(format!("{context}: {e}"))
}

impl JetStreamBus {
    /// Connects to `url` and makes sure the streams of `namespace` (subject
    /// prefix; stream names are its upper case) exist.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("cogov")
            .connect(url)
            .await
            .map_err(|e| BusError(format!("connecting to NATS at {url}: {e}")))?;
        let js = jetstream::new(client);
        let bus = Self {
            js,
            namespace: namespace.to_owned(),
            live: broadcast::channel(WATCH_CAPACITY).0,
        };
        bus.js
            .get_or_create_stream(stream::Config {
                name: bus.events_stream(),
                subjects: vec![format!("{namespace}.events.>")],
                max_age: RETENTION,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| err("creating the events stream")(e.to_string()))?;
        bus.js
            .get_or_create_stream(stream::Config {
                name: bus.dead_stream(),
                subjects: vec![format!("{namespace}.dead.>")],
                max_age: RETENTION * 4,
                ..Default::default()
            })
            .await
            .map_err(|e| err("creating the dead-letter stream")(e.to_string()))?;
        tokio::spawn(bus.clone().forward_live());
        Ok(bus)
    }

    /// Deletes the namespace's streams (tests clean up with it).
    pub async fn delete(&self) -> Result<(), BusError> {
        for name in [self.events_stream(), self.dead_stream()] {
            self.js
                .delete_stream(&name)
                .await
                .map_err(|e| BusError(format!("deleting {name}: {e}")))?;
        }
        Ok(())
    }

    fn events_stream(&self) -> String {
        format!("{}_EVENTS", self.namespace.to_uppercase())
    }

    fn dead_stream(&self) -> String {
        format!("{}_DEAD_LETTERS", self.namespace.to_uppercase())
    }

    fn subject(&self, event: &Event) -> String {
        format!("{}.events.{}", self.namespace, event.r#type)
    }

    /// Feeds [`EventBus::watch`] from an ordered, ephemeral consumer that
    /// starts at new events; recreated if the connection drops.
    async fn forward_live(self) {
        loop {
            if let Err(e) = self.forward_live_once().await {
                tracing::warn!(error = %e, "live event feed interrupted; resuming");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn forward_live_once(&self) -> Result<(), BusError> {
        let stream = self
            .js
            .get_stream(self.events_stream())
            .await
            .map_err(|e| err("live feed")(e.to_string()))?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("{}.events.>", self.namespace),
                deliver_policy: DeliverPolicy::New,
                ..Default::default()
            })
            .await
            .map_err(|e| err("live feed")(e.to_string()))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| err("live feed")(e.to_string()))?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| err("live feed")(e.to_string()))?;
            if let Ok(event) = Event::decode(message.payload.as_ref()) {
                let _ = self.live.send(event);
            }
        }
        Ok(())
    }

    async fn run_consumer(self, spec: ConsumerSpec, handler: Handler) {
        loop {
            if let Err(e) = self.run_consumer_once(&spec, &handler).await {
                tracing::warn!(consumer = spec.name, error = %e, "consumer interrupted; resuming");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn durable(&self, spec: &ConsumerSpec) -> Result<pull::Stream, BusError> {
        let stream = self
            .js
            .get_stream(self.events_stream())
            .await
            .map_err(|e| err("consumer")(e.to_string()))?;
        // One event unacknowledged at a time, whichever replica holds it,
        // is what keeps an in-order consumer's events in the stream's order.
        let (max_ack_pending, ack_wait) = if spec.in_order {
            (1, IN_ORDER_ACK_WAIT)
        } else {
            (0, ACK_WAIT)
        };
        // Created, or updated to this configuration when it exists.
        let consumer: jetstream::consumer::Consumer<pull::Config> = stream
            .create_consumer(pull::Config {
                durable_name: Some(spec.name.clone()),
                filter_subject: format!("{}.events.>", self.namespace),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait,
                max_ack_pending,
                ..Default::default()
            })
            .await
            .map_err(|e| err("consumer")(e.to_string()))?;
        consumer
            .messages()
            .await
            .map_err(|e| err("consumer")(e.to_string()))
    }

    async fn run_consumer_once(
        &self,
        spec: &ConsumerSpec,
        handler: &Handler,
    ) -> Result<(), BusError> {
        let mut messages = self.durable(spec).await?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| err("delivery")(e.to_string()))?;
            let attempt = message
                .info()
                .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
                .unwrap_or(1);
            let outcome = match Event::decode(message.payload.as_ref()) {
                Ok(event) if !spec.wants(&event) => Ok(()),
                Ok(event) => handler(event).await,
                Err(e) => Err(format!("undecodable event: {e}")),
            };
            let ack = match outcome {
                Ok(()) => AckKind::Ack,
                Err(error) if attempt >= spec.max_attempts => {
                    tracing::error!(
                        consumer = spec.name,
                        attempts = attempt,
                        error,
                        "event parked as a dead letter"
                    );
                    self.park(spec, &message.payload, &error, attempt).await?;
                    AckKind::Term
                }
                Err(error) => {
                    tracing::warn!(
                        consumer = spec.name,
                        attempt,
                        error,
                        "event failed; retrying"
                    );
                    AckKind::Nak(Some(spec.delay(attempt)))
                }
            };
            message
                .ack_with(ack)
                .await
                .map_err(|e| err("acknowledging")(e.to_string()))?;
        }
        Ok(())
    }

    async fn park(
        &self,
        spec: &ConsumerSpec,
        payload: &[u8],
        error: &str,
        attempts: u32,
    ) -> Result<(), BusError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONSUMER_HEADER, spec.name.as_str());
        // Header values must stay on one line.
        let one_line: String = error
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(1000)
            .collect();
        headers.insert(ERROR_HEADER, one_line.as_str());
        headers.insert(ATTEMPTS_HEADER, attempts.to_string().as_str());
        self.js
            .send_publish(
                format!("{}.dead.{}", self.namespace, spec.name),
                PublishMessage::build()
                    .payload(payload.to_vec().into())
                    .headers(headers),
            )
            .await
            .map_err(|e| err("parking a dead letter")(e.to_string()))?
            .await
            .map_err(|e| err("parking a dead letter")(e.to_string()))?;
        Ok(())
    }
}

impl EventBus for JetStreamBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>> {
        async move {
            self.js
                .send_publish(
                    self.subject(event),
                    PublishMessage::build()
                        .payload(event.encode_to_vec().into())
                        .message_id(&event.id),
                )
                .await
                .map_err(|e| err("publishing")(e.to_string()))?
                .await
                .map_err(|e| err("publishing")(e.to_string()))?;
            Ok(())
        }
        .boxed()
    }

    fn consume(&self, spec: ConsumerSpec, handler: Handler) -> BoxFuture<'_, Result<(), BusError>> {
        async move {
            // Create it now, so events published from here on are kept for it.
            drop(self.durable(&spec).await?);
            tokio::spawn(self.clone().run_consumer(spec, handler));
            Ok(())
        }
        .boxed()
    }

    fn watch(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }

    fn dead_letters(&self, limit: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, BusError>> {
        async move {
            let mut stream = self
                .js
                .get_stream(self.dead_stream())
                .await
                .map_err(|e| err("dead letters")(e.to_string()))?;
            let state = stream
                .info()
                .await
                .map_err(|e| err("dead letters")(e.to_string()))?
                .state
                .clone();
            let mut out = Vec::new();
            let mut seq = state.last_sequence;
            while seq >= state.first_sequence.max(1) && out.len() < limit {
                if let Ok(m) = stream.get_raw_message(seq).await {
                    let header = |name: &str| {
                        m.headers
                            .get(name)
                            .map(|v| v.as_str().to_owned())
                            .unwrap_or_default()
                    };
                    out.push(DeadLetter {
                        consumer: header(CONSUMER_HEADER),
                        event: Event::decode(m.payload.as_ref()).unwrap_or_default(),
                        error: header(ERROR_HEADER),
                        attempts: header(ATTEMPTS_HEADER).parse().unwrap_or(0),
                    });
                }
                seq -= 1;
            }
            out.reverse();
            Ok(out)
        }
        .boxed()
    }

    fn connected(&self) -> bool {
        self.js.client().connection_state() == async_nats::connection::State::Connected
    }
}
