//! From the event log to deliveries. The fan-out reads the gateway's
//! event log in order after its cursor and, in one transaction per page,
//! queues a delivery for every enabled endpoint of an active partner that
//! wants the event's type and whose partner sees the event (the
//! WatchEvents rule, with the reach as it stands when the event is fanned
//! out, a moment after it happened), and moves its cursor on. A page fanned
//! out again (a crash before its commit) queues nothing twice: an event
//! reaches an endpoint once (a unique key).

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use cogov_kit::directory::Reach;
use cogov_kit::events::Event;
use cogov_kit::{Error, Result, names};
use cogov_proto::gateway::{PartnerState, WebhookDeliveryState, WebhookEndpointState};
use prost::Message;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::Gateway;
use crate::entity::{partners, webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::events::{self, entity as log};

/// Events fanned out per transaction.
const PAGE: u64 = 200;
/// How often it looks at the log without being told it grew (rows other
/// replicas wrote).
const POLL: Duration = Duration::from_secs(1);
/// The shortest time between two steps that find the log's end. Events
/// come in bursts, one row at a time: fanned out as each arrived, every
/// event cost the gateway's one writer a transaction and four statements.
/// The first event after a quiet spell goes out at once.
const GATHER: Duration = Duration::from_millis(25);
/// The cursor's row.
const CURSOR: &str = "event_log";

/// How far the fan-out has read the log.
pub mod cursor {
    use sea_orm::entity::prelude::*;

    /// The last event log position fanned out.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_fanout")]
    pub struct Model {
        /// The log followed.
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// Its last position fanned out.
        pub after_seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Fans out as the log grows, until the task is dropped.
pub async fn run(gw: Gateway) {
    let mut grew = gw.feed.subscribe();
    let mut next_step = Instant::now();
    loop {
        tokio::time::sleep_until(next_step).await;
        grew.borrow_and_update();
        match step(&gw).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "fanning events out to webhooks failed"),
        }
        next_step = Instant::now() + GATHER;
        tokio::select! {
            _ = grew.changed() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Fans out one page; whether there may be more (the page was full).
pub async fn step(gw: &Gateway) -> Result<bool> {
    let read = gw.ctx.db.read();
    let Some(after) = cursor::Entity::find_by_id(CURSOR)
        .one(read)
        .await?
        .map(|c| c.after_seq)
    else {
        // The first start: deliveries begin with the events from now on.
        let last = log::Entity::find()
            .order_by_desc(log::Column::Seq)
            .one(read)
            .await?
            .map_or(0, |m| m.seq);
        cursor::Entity::insert(cursor::ActiveModel {
            name: Set(CURSOR.to_owned()),
            after_seq: Set(last),
        })
        .on_conflict(
            OnConflict::column(cursor::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(gw.ctx.db.write())
        .await?;
        return Ok(true);
    };
    let rows = log::Entity::find()
        .filter(log::Column::Seq.gt(after))
        .order_by_asc(log::Column::Seq)
        .limit(PAGE)
        .all(read)
        .await?;
    let Some(last) = rows.last().map(|r| r.seq) else {
        return Ok(false);
    };
    let targets = targets(gw).await?;
    let now = gw.ctx.clock.now();
    let mut queued = Vec::new();
    for row in &rows {
        let wanting: Vec<&Target> = targets
            .iter()
            .filter(|t| t.wants(&row.event_type) && events::partner_sees(&t.partner, &t.reach, row))
            .collect();
        if wanting.is_empty() {
            continue;
        }
        let event = Event::decode(row.envelope.as_slice())
            .map_err(|e| Error::Internal(format!("event log row {}: {e}", row.seq)))?;
        let body = crate::proto_json::bytes_of(&event);
        for t in wanting {
            queued.push(delivery(
                &t.endpoint,
                row.event_id,
                &row.event_type,
                body.clone(),
                now,
            ));
        }
    }
    let txn = gw.ctx.db.begin_write().await?;
    let any = !queued.is_empty();
    for chunk in queued.chunks(100) {
        queue(&txn, chunk.to_vec()).await?;
    }
    cursor::Entity::update_many()
        .col_expr(
            cursor::Column::AfterSeq,
            sea_orm::sea_query::Expr::value(last),
        )
        .filter(cursor::Column::Name.eq(CURSOR))
        .filter(cursor::Column::AfterSeq.eq(after))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    if any {
        gw.webhooks.wake();
    }
    Ok(rows.len() as u64 == PAGE)
}

/// A new pending delivery of an event to `endpoint`, due now.
pub(crate) fn delivery(
    endpoint: &endpoints::Model,
    event_id: Uuid,
    event_type: &str,
    body: Vec<u8>,
    now: chrono::DateTime<chrono::Utc>,
) -> deliveries::ActiveModel {
    deliveries::ActiveModel {
        id: Set(names::new_id()),
        endpoint_id: Set(endpoint.id),
        partner_id: Set(endpoint.partner_id),
        event_id: Set(event_id),
        event_type: Set(event_type.to_owned()),
        body: Set(body),
        state: Set(WebhookDeliveryState::Pending as i32),
        attempts: Set(0),
        retries: Set(0),
        response_code: Set(0),
        latency_micros: Set(0),
        last_error: Set(String::new()),
        next_attempt_time: Set(now),
        last_attempt_time: Set(None),
        create_time: Set(now),
    }
}

/// Queues `rows`; one already queued (same endpoint and event) is left.
pub(crate) async fn queue<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<deliveries::ActiveModel>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    deliveries::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([deliveries::Column::EndpointId, deliveries::Column::EventId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// An enabled endpoint of an active partner, with the partner's reach.
struct Target {
    endpoint: endpoints::Model,
    /// `partners/{partner}`.
    partner: String,
    types: Vec<String>,
    reach: Reach,
}

impl Target {
    fn wants(&self, event_type: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == event_type)
    }
}

async fn targets(gw: &Gateway) -> Result<Vec<Target>> {
    let read = gw.ctx.db.read();
    let enabled = endpoints::Entity::find()
        .filter(endpoints::Column::State.eq(WebhookEndpointState::Enabled as i32))
        .all(read)
        .await?;
    if enabled.is_empty() {
        return Ok(Vec::new());
    }
    let active: HashMap<Uuid, Uuid> = partners::Entity::find()
        .filter(partners::Column::Id.is_in(enabled.iter().map(|e| e.partner_id)))
        .filter(partners::Column::State.eq(PartnerState::Active as i32))
        .all(read)
        .await?
        .into_iter()
        .map(|p| (p.id, p.organization_id))
        .collect();
    let mut reaches: HashMap<Uuid, Reach> = HashMap::new();
    let mut out = Vec::new();
    for endpoint in enabled {
        let Some(organization) = active.get(&endpoint.partner_id).copied() else {
            continue;
        };
        let reach = match reaches.get(&organization) {
            Some(r) => r.clone(),
            None => {
                let r = gw.directory.reach(organization).await?;
                reaches.insert(organization, r.clone());
                r
            }
        };
        out.push(Target {
            types: endpoints_types(&endpoint),
            partner: crate::partners::name(endpoint.partner_id),
            endpoint,
            reach,
        });
    }
    Ok(out)
}

/// The event types an endpoint wants, as stored.
pub(crate) fn endpoints_types(m: &endpoints::Model) -> Vec<String> {
    m.event_types
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}
