//! The relay: publishes a service's outbox rows in order (each subject's
//! strictly, see [`EventBus::publish_all`](super::bus::EventBus::publish_all))
//! and marks them sent only after the bus acknowledged them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cogov_proto::common::Event;
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::bus::Bus;
use super::outbox::entity::{Column, Entity};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::lease::Lease;

/// Rows published per round.
const BATCH: u64 = 256;
/// How often an idle relay looks for rows nobody told it about.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How long published rows are kept (for operators and replays).
pub const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// Publishes what is pending now; returns how many rows it published.
pub async fn publish_pending(db: &Db, bus: &Bus, now: DateTime<Utc>) -> Result<usize> {
    let rows = pending().all(db.read()).await?;
    let events = rows
        .iter()
        .map(|row| {
            let mut event = Event::decode(row.envelope.as_slice())
                .map_err(|e| Error::Internal(format!("outbox row {}: {e}", row.seq)))?;
            event.sequence = row.seq;
            Ok(event)
        })
        .collect::<Result<Vec<Event>>>()?;
    // Those not held are tried again next round, each still before every
    // later event of its subject.
    let published = bus.publish_all(&events).await;
    let sent: Vec<i64> = published.held.iter().map(|&i| rows[i].seq).collect();
    // By exact seq: on PostgreSQL a lower seq may commit after a higher
    // one, and the bus may hold a round's later events but not an earlier.
    if !sent.is_empty() {
        Entity::update_many()
            .col_expr(Column::PublishTime, Expr::value(now))
            .filter(Column::Seq.is_in(sent.iter().copied()))
            .exec(db.write())
            .await?;
    }
    match published.failure {
        Some(e) => Err(Error::Unavailable(e.to_string())),
        None => Ok(sent.len()),
    }
}

/// A round's rows: the first [`BATCH`] not yet published, in order.
pub(crate) fn pending() -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::PublishTime.is_null())
        .order_by_asc(Column::Seq)
        .limit(BATCH)
}

/// Forgets rows published before `before`.
pub async fn prune<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::PublishTime.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}

/// The lease the relays of one service's replicas share.
pub const LEASE: &str = "outbox relay";

/// Runs the relay of `db`'s outbox for as long as the process runs, in the
/// one replica holding the [`LEASE`], so events leave in one order: it
/// publishes when a commit says there is news, and polls when idle; on bus
/// failure it backs off and tries the same rows again. A replica taking
/// over starts from the first row not marked sent (the bus drops an event
/// published twice within its duplicate window).
pub fn spawn(db: Db, bus: Bus, clock: Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let work = || publish_forever(&db, &bus, &clock);
        Lease::run(db.clone(), LEASE, |held| db.set_relaying(held), work).await;
    })
}

async fn publish_forever(db: &Db, bus: &Bus, clock: &Clock) {
    let mut backoff = Duration::from_millis(100);
    let mut last_prune = clock.now();
    loop {
        match publish_pending(db, bus, clock.now()).await {
            Ok(n) if n as u64 == BATCH => continue,
            Ok(_) => {
                backoff = Duration::from_millis(100);
                tokio::select! {
                    () = db.outbox_news() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay: publishing failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
        if clock.now() - last_prune > chrono::Duration::hours(1) {
            last_prune = clock.now();
            match prune(db.write(), last_prune - RETENTION).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "forgot published events"),
                Err(e) => tracing::warn!(error = %e, "pruning the outbox failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cogov_proto::organizations::PersonChanged;
    use futures_util::FutureExt;
    use futures_util::future::BoxFuture;
    use sea_orm_migration::{MigrationTrait, SchemaManager};
    use tokio::sync::broadcast;

    use sea_orm::QueryTrait;

    use super::*;
    use crate::db::{DbConfig, open};
    use crate::events::bus::{BusError, ConsumerSpec, DeadLetter, EventBus, Handler, Published};
    use crate::events::outbox::{self, NewEvent};

    /// A bus that holds the events of a round whose subjects it is told,
    /// and refuses the others.
    #[derive(Debug)]
    struct Holding(&'static [&'static str]);

    impl EventBus for Holding {
        fn publish<'a>(&'a self, _: &'a Event) -> BoxFuture<'a, Result<(), BusError>> {
            unreachable!("the relay publishes rounds")
        }

        fn publish_all<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Published> {
            let held = (0..events.len())
                .filter(|&i| self.0.contains(&events[i].subject.as_str()))
                .collect();
            async move {
                Published {
                    held,
                    failure: Some(BusError("refused".into())),
                }
            }
            .boxed()
        }

        fn consume(&self, _: ConsumerSpec, _: Handler) -> BoxFuture<'_, Result<(), BusError>> {
            unreachable!("nothing consumes")
        }

        fn watch(&self) -> broadcast::Receiver<Event> {
            broadcast::channel(1).1
        }

        fn dead_letters(&self, _: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, BusError>> {
            async { Ok(Vec::new()) }.boxed()
        }
    }

    /// A round reads the rows still to publish, not the published ones
    /// kept for a week, also when PostgreSQL's statistics were taken while
    /// every row was pending (as in a burst into a new outbox): then the
    /// primary key, walked in order through every published row, looked
    /// cheapest.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_a_round_reads_only_the_pending_rows_whatever_the_statistics() {
        let Some(test_db) = crate::testing::TestDb::postgres().await else {
            return;
        };
        let db = open(&DbConfig::new(test_db.url.clone())).await.unwrap();
        let schema = SchemaManager::new(db.write());
        outbox::Migration.up(&schema).await.unwrap();
        outbox::Unpublished.up(&schema).await.unwrap();
        let fill = |rows: u32, published: &str| {
            format!(
                "INSERT INTO outbox (event_id, event_type, envelope, create_time, publish_time) \
                 SELECT gen_random_uuid(), 't', '\\x00', now(), {published} \
                 FROM generate_series(1, {rows})"
            )
        };
        let conn = db.write();
        conn.execute_unprepared(&fill(500, "NULL")).await.unwrap();
        conn.execute_unprepared("ANALYZE outbox").await.unwrap();
        conn.execute_unprepared("UPDATE outbox SET publish_time = now()")
            .await
            .unwrap();
        conn.execute_unprepared(&fill(5_000, "now()"))
            .await
            .unwrap();
        conn.execute_unprepared(&fill(3, "NULL")).await.unwrap();

        let mut explain = pending().build(sea_orm::DbBackend::Postgres);
        explain.sql = format!("EXPLAIN (ANALYZE, COSTS OFF) {}", explain.sql);
        let plan: Vec<String> = conn
            .query_all_raw(explain)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("", "QUERY PLAN").unwrap())
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("ix_outbox_unpublished"), "{plan}");
        assert!(!plan.contains("Rows Removed"), "{plan}");
        db.close().await.unwrap();
        drop(test_db);
    }

    #[tokio::test]
    async fn only_the_rows_the_bus_holds_are_marked_sent_wherever_they_are_in_the_round() {
        let db = open(&DbConfig::new("sqlite::memory:")).await.unwrap();
        outbox::Migration
            .up(&SchemaManager::new(db.write()))
            .await
            .unwrap();
        let now = Utc::now();
        for subject in ["persons/a", "persons/b", "persons/c", "persons/d"] {
            let event = NewEvent::of(&PersonChanged::default(), subject);
            outbox::append(db.write(), "organizations", event, now)
                .await
                .unwrap();
        }
        let bus: Bus = Arc::new(Holding(&["persons/b", "persons/d"]));
        let failed = publish_pending(&db, &bus, now).await;
        assert!(matches!(failed, Err(Error::Unavailable(_))), "{failed:?}");

        let rows = Entity::find()
            .order_by_asc(Column::Seq)
            .all(db.read())
            .await
            .unwrap();
        let sent: Vec<bool> = rows.iter().map(|r| r.publish_time.is_some()).collect();
        assert_eq!(sent, [false, true, false, true]);
    }
}
