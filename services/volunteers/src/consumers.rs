//! What the volunteers service does with other services' events: a person
//! erased loses the name and number on their volunteer record (their
//! hours, points and sign-ups stay, and count).

use cogov_kit::events::{self, Bus, ConsumerSpec, Event, inbox};
use cogov_kit::{Error, Result, names};
use cogov_proto::organizations::PersonErased;
use prost::Name;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Volunteers;
use crate::entity::volunteers::{Column, Entity};

/// The durable consumer's name.
pub const CONSUMER: &str = "volunteers";
/// What an erased volunteer's record shows instead of their name.
pub const ERASED_NAME: &str = "已注销居民";

/// Starts the consumer on `bus`.
pub async fn start(svc: &Volunteers, bus: &Bus) -> Result<()> {
    bus.consume(
        ConsumerSpec::new(CONSUMER, &[PersonErased::full_name()]),
        inbox::handler(svc.clone(), handle),
    )
    .await
    .map_err(|e| Error::Unavailable(e.to_string()))
}

async fn handle(svc: Volunteers, event: Event) -> Result<()> {
    let now = svc.ctx.clock.now();
    let p: PersonErased = events::payload(&event).map_err(Error::Internal)?;
    inbox::apply(&svc.ctx.db, CONSUMER, &event, now, async move |txn| {
        erase(txn, &p, now).await
    })
    .await?;
    Ok(())
}

async fn erase<C: ConnectionTrait>(
    conn: &C,
    p: &PersonErased,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let Some(person) = names::parse("persons", &p.person) else {
        return Ok(());
    };
    let records = Entity::find()
        .filter(Column::PersonId.eq(person))
        .all(conn)
        .await?;
    Entity::update_many()
        .col_expr(Column::DisplayName, Expr::value(ERASED_NAME))
        .col_expr(Column::Phone, Expr::value(""))
        .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .filter(Column::PersonId.eq(person))
        .exec(conn)
        .await?;
    let needles: Vec<&str> = records
        .iter()
        .flat_map(|r| [r.display_name.as_str(), r.phone.as_str()])
        .filter(|s| !s.is_empty() && *s != ERASED_NAME)
        .collect();
    cogov_kit::idempotency::forget_containing(conn, &needles).await?;
    Ok(())
}
