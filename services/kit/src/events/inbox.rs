//! The inbox: a consumer records each event id it applied in the same
//! transaction as the effect, so redelivered events change nothing.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cogov_proto::common::Event;
use futures_util::FutureExt;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{DbErr, EntityTrait};
use sea_orm_migration::prelude::{
    ColumnDef, Index, MigrationName, MigrationTrait, SchemaManager, Table,
};
use tracing::Instrument;
use uuid::Uuid;

use super::bus::{BatchHandler, Handler};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::write::Write;

/// The inbox table, one per consuming service database.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One event a consumer applied.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        /// The consumer, e.g. `deliberation`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        /// The event id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        /// The event type.
        pub event_type: String,
        /// When it was applied.
        pub apply_time: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The migration that creates the inbox; every consuming service lists it.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0000_kit_inbox"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("inbox")
                    .col(ColumnDef::new("consumer").string().not_null())
                    .col(ColumnDef::new("event_id").uuid().not_null())
                    .col(ColumnDef::new("event_type").string().not_null())
                    .col(
                        ColumnDef::new("apply_time")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col("consumer").col("event_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("inbox").to_owned())
            .await
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The effect ran and committed.
    Now,
    /// The event was applied before; nothing ran.
    Before,
}

/// Applies `event` once for `consumer`: records its id and runs `effect` in
/// one write transaction. A redelivery finds the id and does nothing.
/// Concurrent deliveries of one event serialise on the record's key.
pub async fn apply<F>(
    db: &Db,
    consumer: &str,
    event: &Event,
    now: DateTime<Utc>,
    effect: F,
) -> Result<Applied>
where
    F: AsyncFnOnce(&Write) -> Result<()>,
{
    let id = Uuid::parse_str(&event.id)
        .map_err(|_| Error::Internal(format!("event id {:?} is not a UUID", event.id)))?;
    let txn = db.begin_write().await?;
    let inserted = entity::Entity::insert(entity::ActiveModel {
        consumer: Set(consumer.to_owned()),
        event_id: Set(id),
        event_type: Set(event.r#type.clone()),
        apply_time: Set(now),
    })
    .on_conflict(
        OnConflict::columns([entity::Column::Consumer, entity::Column::EventId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        return Ok(Applied::Before);
    }
    effect(&txn).await?;
    txn.commit().await?;
    // The effect may have appended events of its own.
    db.outbox_committed();
    Ok(Applied::Now)
}

/// A bus [`Handler`] that runs `handle(state, event)` in the event's
/// consumer span (see [`crate::telemetry::consumer_span`]); its error
/// becomes the retry reason.
pub fn handler<S, F, Fut>(state: S, handle: F) -> Handler
where
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let handle = Arc::new(handle);
    Arc::new(move |event| {
        let state = state.clone();
        let handle = handle.clone();
        let span = crate::telemetry::consumer_span(&event);
        async move { handle(state, event).await.map_err(|e| e.to_string()) }
            .instrument(span)
            .boxed()
    })
}

/// [`handler`] for a consumer of batches: `handle(state, events)` runs in
/// the event's consumer span when it is handed one, and in a span of its
/// own for several.
pub fn batch_handler<S, F, Fut>(state: S, handle: F) -> BatchHandler
where
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Vec<Event>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let handle = Arc::new(handle);
    Arc::new(move |events: Vec<Event>| {
        let state = state.clone();
        let handle = handle.clone();
        let span = match events.as_slice() {
            [event] => crate::telemetry::consumer_span(event),
            _ => tracing::info_span!(
                "consume",
                otel.name = "process events",
                otel.kind = "consumer",
                messaging.system = "cogov",
                messaging.operation.type = "process",
                messaging.batch.message_count = events.len(),
            ),
        };
        async move { handle(state, events).await.map_err(|e| e.to_string()) }
            .instrument(span)
            .boxed()
    })
}
