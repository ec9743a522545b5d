//! What the organizations service does with other services' events: it
//! keeps the courtyards' two-nos status, computed by the issues service,
//! in its view of each courtyard.

use cogov_kit::events::{self, Bus, ConsumerSpec, Event, inbox};
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::issues::CourtyardTwoNosChanged;
use prost::Name;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Organizations;
use crate::entity::places::{Column, Entity};

/// The durable consumer's name.
pub const CONSUMER: &str = "organizations";

/// Starts the consumer on `bus`.
pub async fn start(svc: &Organizations, bus: &Bus) -> Result<()> {
    let spec = ConsumerSpec::new(CONSUMER, &[CourtyardTwoNosChanged::full_name()]);
    bus.consume(spec, inbox::handler(svc.clone(), handle))
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))
}

async fn handle(svc: Organizations, event: Event) -> Result<()> {
    let status: CourtyardTwoNosChanged = events::payload(&event).map_err(Error::Internal)?;
    let courtyard = names::parse("courtyards", &status.courtyard)
        .ok_or_else(|| Error::Internal(format!("bad courtyard {:?}", status.courtyard)))?;
    let computed = status
        .compute_time
        .as_ref()
        .and_then(convert::from_timestamp)
        .ok_or_else(|| Error::Internal("two-nos status without compute_time".into()))?;
    let last_met = status
        .last_met_time
        .as_ref()
        .and_then(convert::from_timestamp);
    let now = svc.ctx.clock.now();
    inbox::apply(&svc.ctx.db, CONSUMER, &event, now, async move |txn| {
        // Out-of-order delivery: an older computation never overwrites a
        // newer one.
        Entity::update_many()
            .col_expr(Column::TwoNosMet, Expr::value(status.met))
            .col_expr(Column::TwoNosLastMetTime, Expr::value(last_met))
            .col_expr(Column::TwoNosUpdateTime, Expr::value(Some(computed)))
            .filter(Column::Id.eq(courtyard))
            .filter(
                Condition::any()
                    .add(Column::TwoNosUpdateTime.is_null())
                    .add(Column::TwoNosUpdateTime.lt(computed)),
            )
            .exec(txn)
            .await?;
        Ok(())
    })
    .await?;
    Ok(())
}
