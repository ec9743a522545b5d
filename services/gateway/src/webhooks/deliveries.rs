//! An endpoint's deliveries: ListWebhookDeliveries and
//! RedeliverWebhookDelivery, and how long finished ones are kept.

use cogov_kit::auth::Principal;
use cogov_kit::listing::{self, ListQuery};
use cogov_kit::{Error, Result, convert};
use cogov_proto::gateway::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::endpoints;
use super::sender::webhook_id;
use crate::Gateway;
use crate::entity::webhook_deliveries::{self as rows, Column, Entity, Model};

/// The collection under an endpoint.
const COLLECTION: &str = "deliveries";
/// How long a delivery that succeeded or failed is kept (and listed).
pub const RETENTION: chrono::Duration = chrono::Duration::days(30);

/// `partners/{partner}/webhookEndpoints/{endpoint}/deliveries/{delivery}`.
pub fn name(m: &Model) -> String {
    format!(
        "{}/{COLLECTION}/{}",
        cogov_kit::names::format_child(
            crate::partners::COLLECTION,
            m.partner_id,
            endpoints::COLLECTION,
            m.endpoint_id
        ),
        m.id.as_hyphenated()
    )
}

/// The endpoint's name and the delivery's id of a delivery's name.
fn parse(field: &str, value: &str) -> Result<(String, Uuid)> {
    let shape = || {
        Error::invalid(
            field,
            "must be a `partners/{id}/webhookEndpoints/{id}/deliveries/{id}` name",
        )
    };
    let (endpoint, id) = value
        .rsplit_once(&format!("/{COLLECTION}/"))
        .ok_or_else(shape)?;
    endpoints::parse(field, endpoint)?;
    let id = Uuid::try_parse(id).map_err(|_| shape())?;
    Ok((endpoint.to_owned(), id))
}

/// A delivery as the API shows it.
pub fn to_proto(m: &Model) -> WebhookDelivery {
    let pending = m.state == WebhookDeliveryState::Pending as i32;
    WebhookDelivery {
        name: name(m),
        webhook_id: webhook_id(m.id),
        event_id: m.event_id.to_string(),
        event_type: m.event_type.clone(),
        state: m.state,
        attempts: m.attempts,
        response_code: m.response_code,
        latency: (m.attempts > 0).then(|| prost_types::Duration {
            seconds: m.latency_micros / 1_000_000,
            nanos: i32::try_from(m.latency_micros % 1_000_000 * 1000).unwrap_or(0),
        }),
        last_error: m.last_error.clone(),
        next_attempt_time: pending.then(|| convert::timestamp(m.next_attempt_time)),
        last_attempt_time: convert::opt_timestamp(m.last_attempt_time),
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

/// ListWebhookDeliveries: newest first, of one state if asked.
pub async fn list(
    gw: &Gateway,
    principal: &Principal,
    req: ListWebhookDeliveriesRequest,
) -> Result<ListWebhookDeliveriesResponse> {
    let conn = gw.ctx.db.read();
    let endpoint = endpoints::find_owned(conn, principal, "parent", &req.parent).await?;
    let mut c = cogov_kit::validate::Check::new();
    let state: WebhookDeliveryState = c.enumeration("state", req.state, false);
    c.finish()?;
    // A page token is bound to the state asked for, as to a filter.
    let method = format!("ListWebhookDeliveries/{}", state.as_str_name());
    let mut query = ListQuery::new(&method, req.page_size, &req.page_token, "", "");
    query.parent = &req.parent;
    let mut base = Entity::find().filter(Column::EndpointId.eq(endpoint.id));
    if state != WebhookDeliveryState::Unspecified {
        base = base.filter(Column::State.eq(state as i32));
    }
    let (rows, next_page_token) =
        listing::newest_first(&gw.ctx.tokens, &gw.ctx.db, query, base, Column::Id, |m| {
            m.id
        })
        .await?;
    Ok(ListWebhookDeliveriesResponse {
        webhook_deliveries: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// RedeliverWebhookDelivery: due now, with the same `webhook-id`; a
/// delivery that had succeeded or failed starts its retry schedule again.
pub async fn redeliver(
    gw: &Gateway,
    principal: &Principal,
    req: RedeliverWebhookDeliveryRequest,
) -> Result<WebhookDelivery> {
    let (endpoint_name, id) = parse("name", &req.name)?;
    let endpoint =
        endpoints::find_owned(gw.ctx.db.read(), principal, "name", &endpoint_name).await?;
    if endpoint.state != WebhookEndpointState::Enabled as i32 {
        return Err(Error::precondition(
            cogov_kit::ErrorReason::WebhookEndpointDisabled,
            "STATE",
            endpoint_name,
            "the endpoint is disabled; enable it first",
        ));
    }
    let txn = gw.ctx.db.begin_write().await?;
    let row = Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|m| m.endpoint_id == endpoint.id)
        .ok_or_else(|| Error::NotFound {
            resource_type: "WebhookDelivery",
            name: req.name.clone(),
        })?;
    let again = row.state != WebhookDeliveryState::Pending as i32;
    let mut am: rows::ActiveModel = row.into();
    am.state = Set(WebhookDeliveryState::Pending as i32);
    am.next_attempt_time = Set(gw.ctx.clock.now());
    if again {
        am.retries = Set(0);
    }
    let saved = am.update(&txn).await?;
    txn.commit().await?;
    gw.webhooks.wake();
    Ok(to_proto(&saved))
}

/// Forgets the deliveries that succeeded or failed before `now` less
/// [`RETENTION`]; pending ones stay, however old.
pub async fn prune<C: sea_orm::ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let gone = Entity::delete_many()
        .filter(Column::State.ne(WebhookDeliveryState::Pending as i32))
        .filter(Column::CreateTime.lt(now - RETENTION))
        .exec(conn)
        .await?;
    Ok(gone.rows_affected)
}
