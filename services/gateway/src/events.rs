//! WatchEvents: the partner and staff event stream.
//!
//! The gateway is one more durable consumer of the bus: it keeps every
//! event in its own log (the event id is unique there, which makes the log
//! its own inbox), and each stream reads the log after the caller's cursor,
//! filtered by type and by the caller's reach. A stream resumes from any
//! cursor still in the log without gaps, and reads the log a page at a
//! time into a small channel, so a slow reader holds back only its own
//! producer, never the gateway's memory.

use std::time::Duration;

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::directory::Reach;
use cogov_kit::events::{Bus, ConsumerSpec, Event, inbox};
use cogov_kit::{Error, Result, names};
use cogov_proto::gateway::{WatchEventsRequest, WatchEventsResponse};
use prost::Message;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sea_orm_migration::prelude::{
    ColumnDef, Index, MigrationName, MigrationTrait, SchemaManager, Table,
};
use tokio::sync::{mpsc, watch};
use tonic::Status;
use uuid::Uuid;

use crate::Gateway;

/// The durable consumer's name.
pub const CONSUMER: &str = "gateway";
/// Events read from the log per round.
const PAGE: u64 = 100;
/// Responses buffered per stream before the producer waits for the reader.
const BUFFER: usize = 16;
/// How often a replica looks for rows other replicas added to the log.
const OTHERS_POLL: Duration = Duration::from_millis(200);
/// How long the log keeps events: the furthest back a cursor may resume.
pub const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// The event log.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One event, in the order the gateway received it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "event_log")]
    pub struct Model {
        /// The stream position; cursors name it.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// The event id, unique: a redelivery adds nothing.
        #[sea_orm(unique)]
        pub event_id: Uuid,
        /// Its type.
        pub event_type: String,
        /// `courtyards/{courtyard}` or empty.
        pub courtyard: String,
        /// `communities/{community}` or empty.
        pub community: String,
        /// `partners/{partner}` for an event about a partner's own
        /// resource (its webhook endpoints), or empty.
        pub partner: String,
        /// The encoded `cogov.common.v1.Event`.
        pub envelope: Vec<u8>,
        /// When the gateway received it.
        pub receive_time: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

/// The migration that creates the event log.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_gateway_event_log"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("event_log")
                    .col(
                        ColumnDef::new("seq")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("event_id").uuid().not_null().unique_key())
                    .col(ColumnDef::new("event_type").string().not_null())
                    .col(ColumnDef::new("courtyard").string().not_null())
                    .col(ColumnDef::new("community").string().not_null())
                    .col(ColumnDef::new("envelope").binary().not_null())
                    .col(
                        ColumnDef::new("receive_time")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_event_log_receive_time")
                    .table("event_log")
                    .col("receive_time")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("event_log").to_owned())
            .await
    }
}

/// Tells waiting streams that the log grew.
#[derive(Debug, Clone)]
pub struct Feed(watch::Sender<u64>);

impl Default for Feed {
    fn default() -> Self {
        Self(watch::channel(0).0)
    }
}

impl Feed {
    fn grew(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that hears each time the log grows.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Starts the gateway's consumer of every event on `bus`.
pub async fn start(gw: &Gateway, bus: &Bus) -> Result<()> {
    bus.consume_batches(
        // The log's order is the bus's: one replica at a time writes rows.
        ConsumerSpec::new(CONSUMER, &[])
            .in_order()
            .leased_in(gw.ctx.db.clone()),
        inbox::batch_handler(gw.clone(), record),
    )
    .await
    .map_err(|e| Error::Unavailable(e.to_string()))?;
    tokio::spawn(prune_hourly(gw.clone()));
    if gw.ctx.db.backend() == sea_orm::DbBackend::Postgres {
        tokio::spawn(notice_other_replicas(gw.clone()));
    }
    Ok(())
}

/// On PostgreSQL other replicas of the gateway write to the same log (the
/// one holding the consumer's lease writes): this replica's
/// streams learn of their rows by a look at the log's end every
/// [`OTHERS_POLL`].
async fn notice_other_replicas(gw: Gateway) {
    let mut every = tokio::time::interval(OTHERS_POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = 0;
    loop {
        every.tick().await;
        // Only when someone is watching.
        if gw.feed.0.receiver_count() == 0 {
            continue;
        }
        match last_seq(gw.ctx.db.read()).await {
            Ok(last) if last > seen => {
                seen = last;
                gw.feed.grew();
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "looking at the event log's end failed"),
        }
    }
}

/// Adds `events` to the log in their order, in one statement: a relay's
/// round on the in-process bus, or what has arrived from JetStream.
async fn record(gw: Gateway, events: Vec<Event>) -> Result<()> {
    let now = gw.ctx.clock.now();
    let rows = events
        .iter()
        .map(|event| {
            let id = Uuid::parse_str(&event.id)
                .map_err(|_| Error::Internal(format!("event id {:?} is not a UUID", event.id)))?;
            Ok(entity::ActiveModel {
                seq: NotSet,
                event_id: Set(id),
                event_type: Set(event.r#type.clone()),
                courtyard: Set(event.courtyard.clone()),
                community: Set(event.community.clone()),
                partner: Set(partner_of(&event.subject)),
                envelope: Set(event.encode_to_vec()),
                receive_time: Set(now),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    Entity::insert_many(rows)
        .on_conflict(OnConflict::column(Column::EventId).do_nothing().to_owned())
        .exec_without_returning(gw.ctx.db.write())
        .await?;
    gw.feed.grew();
    Ok(())
}

/// The partner whose resource `subject` is, as `partners/{partner}`.
fn partner_of(subject: &str) -> String {
    let mut parts = subject.splitn(3, '/');
    match (
        parts.next(),
        parts.next().and_then(|id| Uuid::try_parse(id).ok()),
    ) {
        (Some(crate::partners::COLLECTION), Some(id)) => crate::partners::name(id),
        _ => String::new(),
    }
}

async fn prune_hourly(gw: Gateway) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = gw.ctx.clock.now() - RETENTION;
        if let Err(e) = Entity::delete_many()
            .filter(Column::ReceiveTime.lt(before))
            .exec(gw.ctx.db.write())
            .await
        {
            tracing::warn!(error = %e, "pruning the event log failed");
        }
    }
}

/// Who may see which events.
enum Audience {
    Everything,
    Community(String),
    /// A partner: its organisation (for its reach) and `partners/{id}`.
    Partner(Uuid, String),
}

impl Audience {
    fn of(principal: &Principal) -> Result<Self> {
        Ok(match principal {
            Principal::StreetAdmin { .. } | Principal::Service { .. } => Audience::Everything,
            Principal::CommunityAdmin { community, .. } => {
                Audience::Community(names::format("communities", *community))
            }
            Principal::Partner { organization, key } => {
                // A key is named `partners/{partner}/keys/{key}`.
                Audience::Partner(*organization, partner_of(key))
            }
            Principal::Resident { .. } => {
                return Err(Error::forbidden("watch events; staff and partners only"));
            }
        })
    }
}

fn sees(audience: &Audience, reach: Option<&Reach>, row: &entity::Model) -> bool {
    match audience {
        Audience::Everything => true,
        Audience::Community(c) => row.community == *c,
        Audience::Partner(_, partner) => reach.is_some_and(|r| partner_sees(partner, r, row)),
    }
}

/// Whether `partner` (`partners/{id}`), with `reach`, sees the event of
/// `row`: an event about its own resources, or of a place its agreements
/// cover (never one that names no place).
pub(crate) fn partner_sees(partner: &str, reach: &Reach, row: &entity::Model) -> bool {
    if !row.partner.is_empty() {
        return row.partner == partner;
    }
    let community = names::parse("communities", &row.community);
    let courtyard = names::parse("courtyards", &row.courtyard);
    (community.is_some() || courtyard.is_some()) && reach.covers(community, courtyard)
}

/// Checks a list of wanted event types given in `field`.
pub(crate) fn check_types(c: &mut cogov_kit::validate::Check, field: &str, types: &[String]) {
    if types.len() > 50 {
        c.add(field, "at most 50 types");
    }
    for (i, t) in types.iter().enumerate() {
        let ok = !t.is_empty()
            && t.len() <= 200
            && t.starts_with("cogov.")
            && t.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '_');
        if !ok {
            c.add(
                format!("{field}[{i}]"),
                "must be an event type such as `cogov.issues.v1.IssueReported`",
            );
        }
    }
}

fn read_cursor(cursor: &str) -> Result<Option<i64>> {
    if cursor.is_empty() {
        return Ok(None);
    }
    cursor
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| Error::invalid("cursor", "not a cursor from this stream"))
}

async fn last_seq<C: ConnectionTrait>(conn: &C) -> Result<i64> {
    Ok(Entity::find()
        .order_by_desc(Column::Seq)
        .one(conn)
        .await?
        .map_or(0, |m| m.seq))
}

/// WatchEvents.
pub async fn watch(
    gw: &Gateway,
    principal: &Principal,
    req: WatchEventsRequest,
) -> Result<mpsc::Receiver<std::result::Result<WatchEventsResponse, Status>>> {
    let audience = Audience::of(principal)?;
    let mut c = cogov_kit::validate::Check::new();
    check_types(&mut c, "event_types", &req.event_types);
    c.finish()?;
    let conn = gw.ctx.db.read();
    let last = last_seq(conn).await?;
    let after = match read_cursor(&req.cursor)? {
        None => last,
        Some(n) if n > last => return Err(Error::invalid("cursor", "is ahead of the stream")),
        Some(n) => {
            let oldest = Entity::find().order_by_asc(Column::Seq).one(conn).await?;
            // A cursor older than the log's start would skip pruned events.
            if oldest.is_some_and(|o| o.seq > n + 1) {
                return Err(Error::precondition(
                    ErrorReason::CursorExpired,
                    "STATE",
                    "cursor",
                    "the events after this cursor were pruned; start from now",
                ));
            }
            n
        }
    };
    let (tx, rx) = mpsc::channel(BUFFER);
    let gw = gw.clone();
    let types = req.event_types;
    tokio::spawn(async move {
        if let Err(e) = stream(gw, audience, types, after, &tx).await {
            let _ = tx.send(Err(e.into())).await;
        }
    });
    Ok(rx)
}

async fn stream(
    gw: Gateway,
    audience: Audience,
    types: Vec<String>,
    mut after: i64,
    tx: &mpsc::Sender<std::result::Result<WatchEventsResponse, Status>>,
) -> Result<()> {
    let mut grew = gw.feed.0.subscribe();
    loop {
        grew.borrow_and_update();
        let mut query = Entity::find()
            .filter(Column::Seq.gt(after))
            .order_by_asc(Column::Seq)
            .limit(PAGE);
        if !types.is_empty() {
            query = query.filter(Column::EventType.is_in(types.iter().cloned()));
        }
        let rows = query.all(gw.ctx.db.read()).await?;
        if rows.is_empty() {
            tokio::select! {
                changed = grew.changed() => if changed.is_err() { return Ok(()) },
                () = tx.closed() => return Ok(()),
            }
            continue;
        }
        // Reach is looked up each page (cached briefly, and forgotten when
        // an agreement changes), so an ended agreement ends the flow.
        let reach = match audience {
            Audience::Partner(org, _) => Some(gw.directory.reach(org).await?),
            _ => None,
        };
        for row in rows {
            after = row.seq;
            if !sees(&audience, reach.as_ref(), &row) {
                continue;
            }
            let event = Event::decode(row.envelope.as_slice())
                .map_err(|e| Error::Internal(format!("event log row {}: {e}", row.seq)))?;
            let response = WatchEventsResponse {
                event: Some(event),
                cursor: row.seq.to_string(),
            };
            if tx.send(Ok(response)).await.is_err() {
                return Ok(());
            }
        }
    }
}
