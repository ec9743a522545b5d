//! The transactional outbox: events are rows written in the same
//! transaction as the change they describe, and published later by the
//! [`relay`](super::relay).

use chrono::{DateTime, Utc};
use cogov_proto::common::Event;
use prost::Message;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{DbErr, EntityTrait, QueryTrait};
use sea_orm_migration::prelude::{
    ColumnDef, ConditionalStatement, Expr, ExprTrait, Index, MigrationName, MigrationTrait,
    SchemaManager, Table,
};

use crate::convert;
use crate::error::Result;
use crate::names;
use crate::write::Defers;

/// The outbox table, one per service database.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One event waiting to be published, or published and kept a while.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// Position in this service's outbox; becomes the event's
        /// `sequence`.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// The event id (also the bus message id).
        #[sea_orm(unique)]
        pub event_id: Uuid,
        /// The event type, for operators reading the table.
        pub event_type: String,
        /// The encoded `cogov.common.v1.Event`, without its sequence.
        pub envelope: Vec<u8>,
        /// When the change was committed.
        pub create_time: DateTimeUtc,
        /// When the bus acknowledged it; none while pending.
        pub publish_time: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The migration that creates the outbox; every publishing service lists it.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0000_kit_outbox"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(
                        ColumnDef::new("seq")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("event_id").uuid().not_null().unique_key())
                    .col(ColumnDef::new("event_type").string().not_null())
                    .col(ColumnDef::new("envelope").binary().not_null())
                    .col(
                        ColumnDef::new("create_time")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("publish_time")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The relay's query: pending rows in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_pending")
                    .table("outbox")
                    .col("publish_time")
                    .col("seq")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("outbox").to_owned())
            .await
    }
}

/// The rows still to publish, in an index of their own: the relay's query
/// reads those few and never
/// the published rows kept for [`RETENTION`](super::relay::RETENTION),
/// whatever the planner's statistics say. With `ix_outbox_pending` alone
/// (which serves the pruning by time), PostgreSQL, its statistics stale in
/// a burst of writes, walked the primary key through every published row
/// on each round: 12,000 rows and 19 ms a round in the bench
/// (BENCHMARKS.md, issue 21, twenty-second part). Every publishing service
/// lists it after its own migrations.
#[derive(Debug)]
pub struct Unpublished;

impl MigrationName for Unpublished {
    fn name(&self) -> &str {
        "m0000_kit_outbox_unpublished"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Unpublished {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_unpublished")
                    .table("outbox")
                    .col("seq")
                    .and_where(Expr::col("publish_time").is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_outbox_unpublished")
                    .table("outbox")
                    .to_owned(),
            )
            .await
    }
}

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    r#type: String,
    payload: Vec<u8>,
    subject: String,
    courtyard: String,
    community: String,
}

impl NewEvent {
    /// An event whose payload is `payload`, about the resource `subject`.
    pub fn of<M: Message + prost::Name>(payload: &M, subject: impl Into<String>) -> Self {
        Self {
            r#type: M::full_name(),
            payload: payload.encode_to_vec(),
            subject: subject.into(),
            courtyard: String::new(),
            community: String::new(),
        }
    }

    /// The courtyard and community it concerns (resource names), which
    /// decide who may watch it.
    pub fn concerning(
        mut self,
        courtyard: impl Into<String>,
        community: impl Into<String>,
    ) -> Self {
        self.courtyard = courtyard.into();
        self.community = community.into();
        self
    }

    /// Its type, e.g. `cogov.issues.v1.IssueReported`.
    pub fn event_type(&self) -> &str {
        &self.r#type
    }
}

/// Appends `event`, published by `source`, inside the caller's transaction.
/// After the commit, call [`Db::outbox_committed`](crate::db::Db::outbox_committed)
/// so the relay publishes it at once. Returns the event.
pub async fn append<C: Defers>(
    conn: &C,
    source: &str,
    event: NewEvent,
    now: DateTime<Utc>,
) -> Result<Event> {
    let id = names::new_id();
    // Consumers continue the trace of the call that committed the event.
    let trace = crate::telemetry::current_trace_context().unwrap_or_default();
    let envelope = Event {
        id: id.to_string(),
        r#type: event.r#type.clone(),
        source: source.to_owned(),
        subject: event.subject,
        courtyard: event.courtyard,
        community: event.community,
        time: Some(convert::timestamp(now)),
        payload: Some(prost_types::Any {
            type_url: format!("type.googleapis.com/{}", event.r#type),
            value: event.payload,
        }),
        traceparent: trace.traceparent,
        tracestate: trace.tracestate,
        sequence: 0,
    };
    // Deferred to the commit: the relay reads it only once committed, and
    // events of one write keep their order.
    let row = entity::Entity::insert(entity::ActiveModel {
        seq: NotSet,
        event_id: Set(id),
        event_type: Set(event.r#type),
        envelope: Set(envelope.encode_to_vec()),
        create_time: Set(now),
        publish_time: Set(None),
    })
    .build(conn.get_database_backend());
    conn.defer(row).await?;
    Ok(envelope)
}
