//! The in-process bus, for `cogov up`: publishing hands the event to every
//! durable consumer and returns when each has applied it (or parked it as a
//! dead letter), so an outbox row is marked sent only after its effects
//! are committed. A crash before that publishes it again after restart.
//! A relay's round of rows ([`EventBus::publish_all`]) goes to a consumer
//! of batches ([`EventBus::consume_batches`]) in one call.

use std::sync::{Arc, Mutex, RwLock};

use cogov_proto::common::Event;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};
use tokio::sync::broadcast;

use super::bus::{
    BatchHandler, BusError, ConsumerSpec, DeadLetter, EventBus, Handler, Published, WATCH_CAPACITY,
};

/// How many dead letters it keeps in memory.
const DEAD_LETTERS_KEPT: usize = 1000;

/// The in-process bus.
#[derive(Debug)]
pub struct MemoryBus {
    consumers: RwLock<Vec<Arc<Consumer>>>,
    live: broadcast::Sender<Event>,
    dead: Mutex<Vec<DeadLetter>>,
}

struct Consumer {
    spec: ConsumerSpec,
    handler: Handler,
    /// Set for a consumer of batches; `handler` then hands it one event.
    batches: Option<BatchHandler>,
    /// Taken for each delivery to an in-order consumer: every service's
    /// relay publishes here at once, and an in-order consumer must see one
    /// event at a time.
    turn: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("spec", &self.spec)
            .finish()
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self {
            consumers: RwLock::default(),
            live: broadcast::channel(WATCH_CAPACITY).0,
            dead: Mutex::default(),
        }
    }
}

impl MemoryBus {
    /// A bus with no consumers yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(
        &self,
        spec: ConsumerSpec,
        handler: Handler,
        batches: Option<BatchHandler>,
    ) -> Result<(), BusError> {
        let mut consumers = self.consumers.write().expect("consumers");
        if consumers.iter().any(|c| c.spec.name == spec.name) {
            return Err(BusError(format!("consumer {} exists", spec.name)));
        }
        consumers.push(Arc::new(Consumer {
            spec,
            handler,
            batches,
            turn: tokio::sync::Mutex::default(),
        }));
        Ok(())
    }

    /// Hands `events` to `consumer` (those it wants), in order: all at once
    /// to a consumer of batches, then one by one if that failed.
    async fn deliver(&self, consumer: &Consumer, events: &[Event]) {
        let wanted: Vec<&Event> = events.iter().filter(|e| consumer.spec.wants(e)).collect();
        if wanted.is_empty() {
            return;
        }
        let _turn = if consumer.spec.in_order {
            Some(consumer.turn.lock().await)
        } else {
            None
        };
        if let Some(batches) = consumer.batches.as_ref().filter(|_| wanted.len() > 1) {
            match batches(wanted.iter().map(|e| (*e).clone()).collect()).await {
                Ok(()) => return,
                Err(error) => tracing::warn!(
                    consumer = consumer.spec.name,
                    events = wanted.len(),
                    error,
                    "a batch of events failed; handing them over one by one"
                ),
            }
        }
        for event in wanted {
            self.deliver_one(consumer, event).await;
        }
    }

    /// Hands `event` to `consumer`, retrying, then parking it.
    async fn deliver_one(&self, consumer: &Consumer, event: &Event) {
        let mut attempt = 1;
        loop {
            match (consumer.handler)(event.clone()).await {
                Ok(()) => return,
                Err(error) if attempt >= consumer.spec.max_attempts => {
                    tracing::error!(
                        consumer = consumer.spec.name,
                        event = event.id,
                        r#type = event.r#type,
                        attempts = attempt,
                        error,
                        "event parked as a dead letter"
                    );
                    let mut dead = self.dead.lock().expect("dead letters");
                    if dead.len() == DEAD_LETTERS_KEPT {
                        dead.remove(0);
                    }
                    dead.push(DeadLetter {
                        consumer: consumer.spec.name.clone(),
                        event: event.clone(),
                        error,
                        attempts: attempt,
                    });
                    return;
                }
                Err(error) => {
                    tracing::warn!(
                        consumer = consumer.spec.name,
                        event = event.id,
                        attempt,
                        error,
                        "event failed; retrying"
                    );
                    tokio::time::sleep(consumer.spec.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}

impl EventBus for MemoryBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), BusError>> {
        async move {
            self.publish_all(std::slice::from_ref(event)).await;
            Ok(())
        }
        .boxed()
    }

    fn publish_all<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Published> {
        async move {
            let consumers: Vec<Arc<Consumer>> = self.consumers.read().expect("consumers").clone();
            join_all(consumers.iter().map(|c| self.deliver(c, events))).await;
            for event in events {
                // Nobody listening is fine.
                let _ = self.live.send(event.clone());
            }
            Published::first(events.len(), None)
        }
        .boxed()
    }

    fn consume(&self, spec: ConsumerSpec, handler: Handler) -> BoxFuture<'_, Result<(), BusError>> {
        async move { self.add(spec, handler, None) }.boxed()
    }

    fn consume_batches(
        &self,
        spec: ConsumerSpec,
        handler: BatchHandler,
    ) -> BoxFuture<'_, Result<(), BusError>> {
        let one = handler.clone();
        let one: Handler = Arc::new(move |event| one(vec![event]));
        async move { self.add(spec, one, Some(handler)) }.boxed()
    }

    fn watch(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }

    fn dead_letters(&self, limit: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, BusError>> {
        async move {
            let dead = self.dead.lock().expect("dead letters");
            Ok(dead[dead.len().saturating_sub(limit)..].to_vec())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    fn event(kind: &str) -> Event {
        Event {
            id: uuid::Uuid::now_v7().to_string(),
            r#type: kind.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn retries_then_parks_and_only_delivers_wanted_types() {
        let bus = MemoryBus::new();
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let mut spec = ConsumerSpec::new("c", &["cogov.test.v1.Wanted".to_owned()]);
        spec.backoff = Duration::from_millis(1);
        let handler: Handler = Arc::new(move |e: Event| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                if e.subject == "poison" {
                    Err("cannot apply".to_owned())
                } else {
                    Ok(())
                }
            }
            .boxed()
        });
        bus.consume(spec.clone(), handler.clone()).await.unwrap();
        assert!(
            bus.consume(spec, handler).await.is_err(),
            "names are unique"
        );
        let mut live = bus.watch();

        bus.publish(&event("cogov.test.v1.Other")).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        bus.publish(&event("cogov.test.v1.Wanted")).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let poison = Event {
            subject: "poison".into(),
            ..event("cogov.test.v1.Wanted")
        };
        bus.publish(&poison).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1 + 5);
        let dead = bus.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].event.id, poison.id);
        assert_eq!(dead[0].attempts, 5);
        assert_eq!(dead[0].error, "cannot apply");
        // Watchers see everything published, in order.
        assert_eq!(live.recv().await.unwrap().r#type, "cogov.test.v1.Other");
        assert_eq!(live.recv().await.unwrap().r#type, "cogov.test.v1.Wanted");
        assert_eq!(live.recv().await.unwrap().id, poison.id);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_in_order_consumer_sees_one_event_at_a_time_from_concurrent_publishers() {
        // The most deliveries a consumer had in hand at once, over events
        // published by eight relays at the same moment.
        async fn most_at_once(in_order: bool) -> u32 {
            let bus = Arc::new(MemoryBus::new());
            let (now, most) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
            let handler: Handler = {
                let (now, most) = (now.clone(), most.clone());
                Arc::new(move |_: Event| {
                    let (now, most) = (now.clone(), most.clone());
                    async move {
                        most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    }
                    .boxed()
                })
            };
            let mut spec = ConsumerSpec::new("log", &[]);
            if in_order {
                spec = spec.in_order();
            }
            bus.consume(spec, handler).await.unwrap();
            let publishers: Vec<_> = (0..8)
                .map(|_| {
                    let bus = bus.clone();
                    tokio::spawn(async move { bus.publish(&event("cogov.test.v1.E")).await })
                })
                .collect();
            for p in publishers {
                p.await.unwrap().unwrap();
            }
            most.load(Ordering::SeqCst)
        }
        assert_eq!(most_at_once(true).await, 1);
        assert!(
            most_at_once(false).await > 1,
            "the others are not held back"
        );
    }

    #[tokio::test]
    async fn a_consumer_of_batches_gets_a_round_in_one_call_and_a_failure_one_by_one() {
        let bus = MemoryBus::new();
        let calls: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let seen = calls.clone();
        let mut spec = ConsumerSpec::new("log", &["cogov.test.v1.Wanted".to_owned()]).in_order();
        spec.backoff = Duration::from_millis(1);
        let handler: BatchHandler = Arc::new(move |events: Vec<Event>| {
            let seen = seen.clone();
            async move {
                let subjects: Vec<String> = events.iter().map(|e| e.subject.clone()).collect();
                let poisoned = subjects.iter().any(|s| s == "poison");
                seen.lock().unwrap().push(subjects);
                if poisoned {
                    Err("cannot apply".to_owned())
                } else {
                    Ok(())
                }
            }
            .boxed()
        });
        bus.consume_batches(spec, handler).await.unwrap();
        let named = |subject: &str, kind: &str| Event {
            subject: subject.into(),
            ..event(kind)
        };
        let round = [
            named("a", "cogov.test.v1.Wanted"),
            named("x", "cogov.test.v1.Other"),
            named("b", "cogov.test.v1.Wanted"),
        ];
        assert!(bus.publish_all(&round).await.all_of(3));
        assert_eq!(*calls.lock().unwrap(), vec![vec!["a", "b"]]);

        calls.lock().unwrap().clear();
        let round = [
            named("c", "cogov.test.v1.Wanted"),
            named("poison", "cogov.test.v1.Wanted"),
            named("d", "cogov.test.v1.Wanted"),
        ];
        assert!(bus.publish_all(&round).await.all_of(3));
        let mut expected = vec![vec!["c", "poison", "d"], vec!["c"]];
        expected.extend(std::iter::repeat_n(vec!["poison"], 5));
        expected.push(vec!["d"]);
        assert_eq!(*calls.lock().unwrap(), expected);
        let dead = bus.dead_letters(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].event.subject, "poison");
    }
}
