//! The relay: publishes a service's outbox rows in order and marks them
//! sent only after the bus acknowledged them.

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
    let rows = Entity::find()
        .filter(Column::PublishTime.is_null())
        .order_by_asc(Column::Seq)
        .limit(BATCH)
        .all(db.read())
        .await?;
    let events = rows
        .iter()
        .map(|row| {
            let mut event = Event::decode(row.envelope.as_slice())
                .map_err(|e| Error::Internal(format!("outbox row {}: {e}", row.seq)))?;
            event.sequence = row.seq;
            Ok(event)
        })
        .collect::<Result<Vec<Event>>>()?;
    // In order; on a failure the rest are tried again next round.
    let (published, failure) = bus.publish_all(&events).await;
    let sent: Vec<i64> = rows[..published].iter().map(|row| row.seq).collect();
    // By exact seq: on PostgreSQL a lower seq may commit after a higher one.
    if !sent.is_empty() {
        Entity::update_many()
            .col_expr(Column::PublishTime, Expr::value(now))
            .filter(Column::Seq.is_in(sent.iter().copied()))
            .exec(db.write())
            .await?;
    }
    match failure {
        Some(e) => Err(Error::Unavailable(e.to_string())),
        None => Ok(sent.len()),
    }
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
