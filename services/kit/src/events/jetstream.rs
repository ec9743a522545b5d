//! The NATS JetStream bus, for services that run apart.
//!
//! One stream holds every event (`{ns}.events.{type}`), de-duplicated by
//! `Nats-Msg-Id` = event id within the duplicate window; each durable
//! consumer is a pull consumer of that stream with explicit acks. A
//! consumer that fails an event naks it with a growing delay; after
//! `max_attempts` deliveries it parks the event in the dead-letter stream
//! (`{ns}.dead.{consumer}`, with the error in a header) and terminates it.
//!
//! An in-order consumer keeps the stream's order across its replicas in
//! one of two ways. Without a lease, the stream lets one event at a time
//! be unacknowledged, whichever replica holds it: a round trip an event.
//! With a lease ([`ConsumerSpec::lease`]) only the replica holding it pulls,
//! and applies what has arrived as a batch: it may hold many events, and
//! on taking over waits until those another replica held have come back.

use std::collections::HashSet;
use std::future::IntoFuture;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::{AckKind, Message as Delivery, PublishMessage};
use async_nats::jetstream::{self, stream};
use cogov_proto::common::Event;
use futures_util::future::{BoxFuture, join_all};
use futures_util::{FutureExt, StreamExt};
use prost::Message;
use tokio::sync::broadcast;

use super::bus::{
    BatchHandler, BusError, ConsumerSpec, DeadLetter, EventBus, Handler, Published, WATCH_CAPACITY,
};
use crate::lease::{self, Lease};

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
/// The most events a leased in-order consumer applies in one call.
const LED_BATCH: usize = 256;
/// The most it holds unacknowledged: while it applies one batch, the
/// next ones arrive.
const LED_PENDING: i64 = 4 * LED_BATCH as i64;

/// The most events [`EventBus::publish_all`] has unacknowledged at once.
const IN_FLIGHT: usize = 256;

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

    /// Sends `event`, its id the message id; the answer is the ack to await.
    async fn send(&self, event: &Event) -> Result<PublishAckFuture, BusError> {
        self.js
            .send_publish(
                self.subject(event),
                PublishMessage::build()
                    .payload(event.encode_to_vec().into())
                    .message_id(&event.id),
            )
            .await
            .map_err(|e| err("publishing")(e.to_string()))
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

    /// The durable consumer `spec`, created, or updated to this
    /// configuration when it exists.
    async fn durable(
        &self,
        spec: &ConsumerSpec,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, BusError> {
        let stream = self
            .js
            .get_stream(self.events_stream())
            .await
            .map_err(|e| err("consumer")(e.to_string()))?;
        let (max_ack_pending, ack_wait) = if spec.led() {
            // One replica pulls at a time: it may hold many events.
            (LED_PENDING, IN_ORDER_ACK_WAIT)
        } else if spec.in_order {
            // One event unacknowledged at a time, whichever replica holds
            // it, is what keeps the stream's order.
            (1, IN_ORDER_ACK_WAIT)
        } else {
            (0, ACK_WAIT)
        };
        stream
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
            .map_err(|e| err("consumer")(e.to_string()))
    }

    async fn messages(&self, spec: &ConsumerSpec) -> Result<pull::Stream, BusError> {
        self.durable(spec)
            .await?
            .messages()
            .await
            .map_err(|e| err("consumer")(e.to_string()))
    }

    async fn run_consumer_once(
        &self,
        spec: &ConsumerSpec,
        handler: &Handler,
    ) -> Result<(), BusError> {
        let mut messages = self.messages(spec).await?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| err("delivery")(e.to_string()))?;
            let attempt = deliveries(&message);
            let outcome = match Event::decode(message.payload.as_ref()) {
                Ok(event) if !spec.wants(&event) => Ok(()),
                Ok(event) => handler(event).await,
                Err(e) => Err(format!("undecodable event: {e}")),
            };
            let ack = match outcome {
                Ok(()) => AckKind::Ack,
                Err(error) if attempt >= spec.max_attempts => {
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

    /// Runs a leased in-order consumer for as long as the process runs:
    /// in the replica holding its lease, batches of what has arrived.
    async fn lead(self, spec: ConsumerSpec, handler: BatchHandler) {
        let Some(db) = spec.lease.clone() else {
            return;
        };
        let work = || async {
            loop {
                if let Err(e) = self.lead_once(&spec, &handler).await {
                    tracing::warn!(consumer = spec.name, error = %e, "consumer interrupted; resuming");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        };
        Lease::run(db, &spec.lease_name(), |_| {}, work).await;
    }

    async fn lead_once(&self, spec: &ConsumerSpec, handler: &BatchHandler) -> Result<(), BusError> {
        let consumer = self.durable(spec).await?;
        self.wait_for_held_events(spec, &consumer).await?;
        let mut arrivals = consumer
            .messages()
            .await
            .map_err(|e| err("consumer")(e.to_string()))?
            .ready_chunks(LED_BATCH);
        while let Some(arrived) = arrivals.next().await {
            let mut batch = Vec::with_capacity(arrived.len());
            let mut broken = None;
            for message in arrived {
                match message {
                    Ok(message) => batch.push(message),
                    Err(e) => {
                        // What arrived after it is held, unacknowledged:
                        // the next pull waits for it to come back.
                        broken = Some(err("delivery")(e.to_string()));
                        break;
                    }
                }
            }
            self.apply_batch(spec, handler, &batch).await?;
            if let Some(e) = broken {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Returns once no other replica can hold events of this consumer: a
    /// replica that led before, and died or lost the lease, may hold events
    /// it never acknowledged. The stream gives them out again after
    /// [`IN_ORDER_ACK_WAIT`], before any newer ones; events pulled before
    /// then would overtake them.
    async fn wait_for_held_events(
        &self,
        spec: &ConsumerSpec,
        consumer: &jetstream::consumer::Consumer<pull::Config>,
    ) -> Result<(), BusError> {
        let info = consumer
            .get_info()
            .await
            .map_err(|e| err("consumer")(e.to_string()))?;
        if info.num_ack_pending == 0 && info.num_waiting == 0 {
            return Ok(());
        }
        let wait = IN_ORDER_ACK_WAIT + lease::NOTICE;
        tracing::info!(
            consumer = spec.name,
            held = info.num_ack_pending,
            pulling = info.num_waiting,
            "waiting {wait:?} for events another replica held to come back"
        );
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Applies `batch` in its order: the events the consumer wants in one
    /// call, then acknowledges every message. Should that call fail, or an
    /// event not decode, event by event, as [`Self::apply_alone`].
    async fn apply_batch(
        &self,
        spec: &ConsumerSpec,
        handler: &BatchHandler,
        batch: &[Delivery],
    ) -> Result<(), BusError> {
        let decoded: Result<Vec<Event>, _> = batch
            .iter()
            .map(|message| Event::decode(message.payload.as_ref()))
            .collect();
        if let Ok(events) = decoded {
            let wanted: Vec<Event> = events.into_iter().filter(|e| spec.wants(e)).collect();
            let count = wanted.len();
            let outcome = if wanted.is_empty() {
                Ok(())
            } else {
                handler(wanted).await
            };
            match outcome {
                Ok(()) => {
                    for message in batch {
                        acknowledge(message, AckKind::Ack).await?;
                    }
                    return Ok(());
                }
                Err(error) => tracing::warn!(
                    consumer = spec.name,
                    events = count,
                    error,
                    "a batch of events failed; applying them one by one"
                ),
            }
        }
        for (i, message) in batch.iter().enumerate() {
            self.apply_alone(spec, handler, message, &batch[i..])
                .await?;
        }
        Ok(())
    }

    /// Applies one event, retrying it here (its delivery count is the first
    /// attempt's number) and then parking it. `held` are the messages not
    /// yet acknowledged, itself first: the stream is told they are in
    /// progress while a retry waits, so they do not come back meanwhile.
    async fn apply_alone(
        &self,
        spec: &ConsumerSpec,
        handler: &BatchHandler,
        message: &Delivery,
        held: &[Delivery],
    ) -> Result<(), BusError> {
        let event = match Event::decode(message.payload.as_ref()) {
            Ok(event) if !spec.wants(&event) => return acknowledge(message, AckKind::Ack).await,
            Ok(event) => event,
            Err(e) => {
                // Decoding again will not help.
                let error = format!("undecodable event: {e}");
                self.park(spec, &message.payload, &error, 1).await?;
                return acknowledge(message, AckKind::Term).await;
            }
        };
        let mut attempt = deliveries(message);
        loop {
            match handler(vec![event.clone()]).await {
                Ok(()) => return acknowledge(message, AckKind::Ack).await,
                Err(error) if attempt >= spec.max_attempts => {
                    self.park(spec, &message.payload, &error, attempt).await?;
                    return acknowledge(message, AckKind::Term).await;
                }
                Err(error) => {
                    tracing::warn!(
                        consumer = spec.name,
                        event = event.id,
                        attempt,
                        error,
                        "event failed; retrying"
                    );
                    for message in held {
                        acknowledge(message, AckKind::Progress).await?;
                    }
                    tokio::time::sleep(spec.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Logs and parks an event `spec` gave up on.
    async fn park(
        &self,
        spec: &ConsumerSpec,
        payload: &[u8],
        error: &str,
        attempts: u32,
    ) -> Result<(), BusError> {
        tracing::error!(
            consumer = spec.name,
            attempts,
            error,
            "event parked as a dead letter"
        );
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

/// How many times the stream has delivered `message`, this time included.
fn deliveries(message: &Delivery) -> u32 {
    message
        .info()
        .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

async fn acknowledge(message: &Delivery, kind: AckKind) -> Result<(), BusError> {
    message
        .ack_with(kind)
        .await
        .map_err(|e| err("acknowledging")(e.to_string()))
}

impl EventBus for JetStreamBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>> {
        async move {
            self.send(event)
                .await?
                .await
                .map_err(|e| err("publishing")(e.to_string()))?;
            Ok(())
        }
        .boxed()
    }

    /// Sends each run of [`in_flight_runs`] before awaiting its
    /// acknowledgements, all at once: a round costs a round trip a run, not
    /// one an event. One connection's messages are stored in the order
    /// sent, so while nothing fails the stream keeps the round's order.
    /// A run with a failure ends the round: of its events, those
    /// acknowledged are held, and none of them shares a subject with one
    /// that is not.
    fn publish_all<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Published> {
        async move {
            let mut held = Vec::with_capacity(events.len());
            for run in in_flight_runs(events, IN_FLIGHT) {
                let mut failure = None;
                let mut acks = Vec::with_capacity(run.len());
                for i in run {
                    match self.send(&events[i]).await {
                        Ok(ack) => acks.push(ack.into_future().map(move |answer| (i, answer))),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                // Awaited together, so each waits its own timeout at most;
                // the answers come in the run's order, so `held` ascends.
                for (i, answer) in join_all(acks).await {
                    match answer {
                        Ok(_) => held.push(i),
                        Err(e) => {
                            failure.get_or_insert_with(|| err("publishing")(e.to_string()));
                        }
                    }
                }
                if failure.is_some() {
                    return Published { held, failure };
                }
            }
            Published {
                held,
                failure: None,
            }
        }
        .boxed()
    }

    fn consume(&self, spec: ConsumerSpec, handler: Handler) -> BoxFuture<'_, Result<(), BusError>> {
        if spec.led() {
            // Led as a consumer of batches, its events applied one by one.
            let each: BatchHandler = Arc::new(move |events| {
                let handler = handler.clone();
                async move {
                    for event in events {
                        handler(event).await?;
                    }
                    Ok(())
                }
                .boxed()
            });
            return self.consume_batches(spec, each);
        }
        async move {
            // Create it now, so events published from here on are kept for it.
            self.durable(&spec).await?;
            tokio::spawn(self.clone().run_consumer(spec, handler));
            Ok(())
        }
        .boxed()
    }

    fn consume_batches(
        &self,
        spec: ConsumerSpec,
        handler: BatchHandler,
    ) -> BoxFuture<'_, Result<(), BusError>> {
        if !spec.led() {
            return self.consume(spec, Arc::new(move |event| handler(vec![event])));
        }
        async move {
            self.durable(&spec).await?;
            tokio::spawn(self.clone().lead(spec, handler));
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

/// Splits a round into runs of consecutive events that may be in flight
/// together: at most `max` long, no subject twice in one, so that no event
/// is sent before an earlier one of its subject is held.
fn in_flight_runs(events: &[Event], max: usize) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut subjects = HashSet::new();
    let mut start = 0;
    for (i, event) in events.iter().enumerate() {
        if i - start == max || !subjects.insert(event.subject.as_str()) {
            runs.push(start..i);
            start = i;
            subjects.clear();
            subjects.insert(event.subject.as_str());
        }
    }
    if start < events.len() {
        runs.push(start..events.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use sea_orm::ConnectionTrait;

    use super::*;
    use crate::db::{DbConfig, open};
    use crate::testing::{TestDb, servers};

    fn numbered(i: usize) -> Event {
        Event {
            id: uuid::Uuid::now_v7().to_string(),
            r#type: "cogov.test.v1.Numbered".into(),
            subject: i.to_string(),
            ..Default::default()
        }
    }

    /// A replica's handler: it records each batch it applies, and from
    /// the batch holding event `stall_at` on it never finishes one (it was
    /// cut off mid-batch).
    fn replica(
        applied: Arc<Mutex<Vec<Vec<usize>>>>,
        stall_at: Option<usize>,
    ) -> (BatchHandler, Arc<AtomicBool>) {
        let stalled = Arc::new(AtomicBool::new(false));
        let flag = stalled.clone();
        let handler: BatchHandler = Arc::new(move |events: Vec<Event>| {
            let (applied, stalled) = (applied.clone(), stalled.clone());
            async move {
                let batch: Vec<usize> = events.iter().map(|e| e.subject.parse().unwrap()).collect();
                if stall_at.is_some_and(|s| batch.contains(&s)) {
                    stalled.store(true, Ordering::SeqCst);
                }
                if stalled.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                applied.lock().unwrap().push(batch);
                Ok(())
            }
            .boxed()
        });
        (handler, flag)
    }

    /// The distinct events applied.
    fn distinct(applied: &Mutex<Vec<Vec<usize>>>) -> usize {
        let all = applied.lock().unwrap().concat();
        all.iter().collect::<std::collections::HashSet<_>>().len()
    }

    async fn until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "{what} within 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn about(subject: &str) -> Event {
        Event {
            subject: subject.into(),
            ..numbered(0)
        }
    }

    #[test]
    fn a_round_is_sent_in_runs_with_no_subject_twice() {
        let round: Vec<Event> = ["a", "b", "a", "c", "d", "e", "c", "c"]
            .into_iter()
            .map(about)
            .collect();
        assert_eq!(in_flight_runs(&round, 256), [0..2, 2..6, 6..7, 7..8]);
        assert_eq!(in_flight_runs(&round, 3), [0..2, 2..5, 5..7, 7..8]);
        assert_eq!(in_flight_runs(&round[..1], 256), vec![0..1]);
        assert!(in_flight_runs(&[], 256).is_empty());
    }

    /// The events of `bus`'s stream, oldest first.
    async fn stored(bus: &JetStreamBus) -> Vec<Event> {
        let mut stream = bus.js.get_stream(bus.events_stream()).await.unwrap();
        let state = stream.info().await.unwrap().state.clone();
        let mut out = Vec::new();
        for seq in state.first_sequence.max(1)..=state.last_sequence {
            let m = stream.get_raw_message(seq).await.unwrap();
            out.push(Event::decode(m.payload.as_ref()).unwrap());
        }
        out
    }

    fn ids(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[tokio::test]
    async fn a_round_in_flight_is_stored_in_its_order_and_a_failure_spares_each_subjects_order() {
        let Some(nats) = servers::TestNats::start().await else {
            return;
        };
        let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
        let bus = JetStreamBus::connect(nats.url(), &namespace).await.unwrap();

        // 600 events over 7 subjects: runs of up to 7 in flight.
        let round: Vec<Event> = (0..600).map(|i| about(&(i % 7).to_string())).collect();
        let published = bus.publish_all(&round).await;
        assert!(published.all_of(600), "{published:?}");
        assert_eq!(published.held, (0..600).collect::<Vec<_>>());
        // Again: the stream drops what it already holds.
        assert!(bus.publish_all(&round).await.all_of(600));
        assert_eq!(ids(&stored(&bus).await), ids(&round), "the stream's order");

        // The stream refuses an event too large for it, after the events
        // beside it in flight were sent.
        let mut stream = bus.js.get_stream(bus.events_stream()).await.unwrap();
        let mut config = stream.info().await.unwrap().config.clone();
        config.max_message_size = 1024;
        bus.js.update_stream(config).await.unwrap();
        let mut refused = about("x");
        refused.source = "x".repeat(2048);
        let round = [about("v"), refused, about("w"), about("x"), about("y")];
        let published = bus.publish_all(&round).await;
        assert_eq!(published.held, [0, 2], "held beside the refused event");
        assert!(published.failure.is_some());
        let after: Vec<Event> = stored(&bus).await.split_off(600);
        assert_eq!(
            ids(&after),
            [round[0].id.as_str(), round[2].id.as_str()],
            "nothing of the refused event's subject after it"
        );
        bus.delete().await.unwrap();
    }

    #[tokio::test]
    async fn a_leased_consumer_takes_batches_in_order_and_a_new_leader_waits_for_held_events() {
        let Some(database) = TestDb::postgres().await else {
            return;
        };
        let Some(nats) = servers::TestNats::start().await else {
            return;
        };
        // Two replicas: a pool and a NATS connection each.
        let first_db = open(&DbConfig::new(&database.url)).await.unwrap();
        let second_db = open(&DbConfig::new(&database.url)).await.unwrap();
        let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
        let first = JetStreamBus::connect(nats.url(), &namespace).await.unwrap();
        let second = JetStreamBus::connect(nats.url(), &namespace).await.unwrap();
        let spec = ConsumerSpec::new("log", &[]).in_order();
        let applied = Arc::new(Mutex::new(Vec::<Vec<usize>>::new()));
        let events: Vec<Event> = (0..1000).map(numbered).collect();
        assert!(first.publish_all(&events[..600]).await.all_of(600));

        // The first replica leads; it stops short of event 300, holding
        // what it has been given from there on.
        let (handler, stalled) = replica(applied.clone(), Some(300));
        first
            .consume_batches(spec.clone().leased_in(first_db.clone()), handler)
            .await
            .unwrap();
        until("the first replica stopping short of 300", || {
            stalled.load(Ordering::SeqCst)
        })
        .await;
        let before = distinct(&applied);
        assert!((1..=300).contains(&before), "{before} applied before 300");
        let (handler, _) = replica(applied.clone(), None);
        second
            .consume_batches(spec.clone().leased_in(second_db.clone()), handler)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(distinct(&applied), before, "the second replica stands by");

        // The first replica is cut off from the database (its lease lost,
        // and it cannot ask again) while it holds events 300 on.
        first_db
            .write()
            .get_postgres_connection_pool()
            .close()
            .await;
        first_db.read().get_postgres_connection_pool().close().await;
        second_db
            .write()
            .execute_unprepared(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
                 JOIN pg_database d ON d.oid = l.database \
                 WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()",
            )
            .await
            .unwrap();
        // Newer events, which must not overtake those it held.
        assert!(second.publish_all(&events[600..]).await.all_of(400));
        until("every event applied", || distinct(&applied) == 1000).await;

        let batches = applied.lock().unwrap().clone();
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in batches.concat() {
            if seen.insert(i) {
                order.push(i);
            }
        }
        assert_eq!(order.len(), 1000, "each event applied");
        if let Some((place, event)) = order.iter().enumerate().find(|(i, e)| i != *e) {
            panic!(
                "event {event} applied in place {place}, out of the stream's order: {:?}",
                &order[place.saturating_sub(2)..(place + 3).min(order.len())]
            );
        }
        assert!(
            batches.iter().any(|b| b.len() > 1),
            "events applied in batches: {:?}",
            batches.iter().map(Vec::len).collect::<Vec<_>>()
        );
        first.delete().await.unwrap();
    }
}
