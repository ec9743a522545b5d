//! Webhook endpoints: CreateWebhookEndpoint, GetWebhookEndpoint,
//! ListWebhookEndpoints, UpdateWebhookEndpoint, DeleteWebhookEndpoint,
//! RotateWebhookSecret and SendTestWebhookEvent.
//!
//! A partner administers its own endpoints; street admins any partner's
//! (they see them all and may disable one). Community admins have no part
//! in them: the endpoints are the partners' systems. The signing secret
//! is in the answer of a create or a rotation, once.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery};
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_child_id, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::common::Event;
use cogov_proto::gateway::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use super::fanout;
use crate::Gateway;
use crate::entity::partners;
use crate::entity::webhook_endpoints::{self as rows, Column, Entity, Model};
use crate::partners as partner_rpcs;
use crate::standard_webhooks::SigningKey;

/// The collection under a partner.
pub(crate) const COLLECTION: &str = "webhookEndpoints";
pub(crate) const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// The longest URL accepted.
const MAX_URL: usize = 2000;
/// Endpoints per partner at most.
const MAX_PER_PARTNER: u64 = 20;
/// A rotation's overlap when the request does not say.
const DEFAULT_OVERLAP: Duration = Duration::hours(24);
/// The longest overlap of a rotation.
const MAX_OVERLAP: Duration = Duration::days(7);
/// Why an endpoint a street admin disabled is disabled; its partner may
/// not enable it again.
const DISABLED_BY_STAFF: &str = "disabled by a street admin";
/// The test event's type.
pub const TEST_EVENT_TYPE: &str = "cogov.gateway.v1.WebhookTested";

/// `partners/{partner}/webhookEndpoints/{endpoint}`.
pub fn name(m: &Model) -> String {
    names::format_child(partner_rpcs::COLLECTION, m.partner_id, COLLECTION, m.id)
}

/// The (partner, endpoint) ids of an endpoint's name in `field`.
pub(crate) fn parse(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    read_child_id(field, value, partner_rpcs::COLLECTION, COLLECTION)
}

fn to_proto(m: &Model) -> WebhookEndpoint {
    WebhookEndpoint {
        name: name(m),
        url: m.url.clone(),
        event_types: fanout::endpoints_types(m),
        description: m.description.clone(),
        state: m.state,
        disabled_reason: m.disabled_reason.clone(),
        failing_since: convert::opt_timestamp(m.failing_since),
        previous_secret_expire_time: convert::opt_timestamp(m.previous_secret_expire_time),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// The partner `partner_id` if `principal` may administer its endpoints:
/// the partner itself or a street admin. Another partner learns nothing,
/// not even whether the partner exists.
pub(crate) async fn owner<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    partner_id: Uuid,
) -> Result<partners::Model> {
    let mine = match principal {
        Principal::StreetAdmin { .. } | Principal::Service { .. } => None,
        Principal::Partner { organization, .. } => Some(*organization),
        _ => {
            return Err(Error::forbidden(
                "administer webhook endpoints; partners and street admins only",
            ));
        }
    };
    let found = partners::Entity::find_by_id(partner_id).one(conn).await?;
    match (found, mine) {
        (Some(p), Some(org)) if p.organization_id == org => Ok(p),
        (_, Some(_)) => Err(Error::out_of_reach(partner_rpcs::name(partner_id))),
        (Some(p), None) => Ok(p),
        (None, None) => Err(Error::NotFound {
            resource_type: "Partner",
            name: partner_rpcs::name(partner_id),
        }),
    }
}

/// The endpoint named `value` in `field`, if `principal` may administer it.
pub(crate) async fn find_owned<C: ConnectionTrait>(
    conn: &C,
    principal: &Principal,
    field: &str,
    value: &str,
) -> Result<Model> {
    let (partner, id) = parse(field, value)?;
    owner(conn, principal, partner).await?;
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|m| m.partner_id == partner)
        .ok_or_else(|| Error::NotFound {
            resource_type: "WebhookEndpoint",
            name: value.to_owned(),
        })
}

/// Checks the fields `mask` names (all on a create); the URL against the
/// SSRF rules, resolving its host now.
async fn check(gw: &Gateway, e: &WebhookEndpoint, mask: Option<&UpdateMask>) -> Result<()> {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    let mut c = Check::new();
    if want("url") {
        if e.url.is_empty() {
            c.add("webhook_endpoint.url", "is required");
        } else if e.url.len() > MAX_URL {
            c.add("webhook_endpoint.url", "at most 2,000 characters");
        } else if let Err(refused) = gw.webhooks.guard().check_resolved(&e.url).await {
            c.add("webhook_endpoint.url", refused.0);
        }
    }
    if want("event_types") {
        crate::events::check_types(&mut c, "webhook_endpoint.event_types", &e.event_types);
    }
    if want("description") {
        c.line("webhook_endpoint.description", &e.description, 0, 200);
    }
    if want("state") {
        let _: WebhookEndpointState =
            c.enumeration("webhook_endpoint.state", e.state, mask.is_some());
    }
    c.finish()
}

fn stored_types(types: &[String]) -> String {
    let mut types = types.to_vec();
    types.sort_unstable();
    types.dedup();
    types.join(" ")
}

fn blank_secret(out: &WebhookEndpointSecret) -> WebhookEndpointSecret {
    WebhookEndpointSecret {
        webhook_endpoint: out.webhook_endpoint.clone(),
        secret: String::new(),
    }
}

/// CreateWebhookEndpoint: enabled unless asked otherwise; the secret is in
/// this answer only.
pub async fn create(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: CreateWebhookEndpointRequest,
) -> Result<WebhookEndpointSecret> {
    let key = Key::new("CreateWebhookEndpoint", &req.request_id, principal, &req);
    let partner_id = read_id("parent", &req.parent, partner_rpcs::COLLECTION)?;
    let e = required("webhook_endpoint", req.webhook_endpoint)?;
    let mut c = Check::new();
    c.request_id(&req.request_id);
    c.finish()?;
    let partner = owner(gw.ctx.db.read(), principal, partner_id).await?;
    check(gw, &e, None).await?;
    let now = gw.ctx.clock.now();
    let state = match WebhookEndpointState::try_from(e.state) {
        Ok(WebhookEndpointState::Disabled) => WebhookEndpointState::Disabled,
        _ => WebhookEndpointState::Enabled,
    };
    idempotency::create_keeping(&gw.ctx.db, &key, now, blank_secret, async move |txn| {
        let count = Entity::find()
            .filter(Column::PartnerId.eq(partner.id))
            .count(txn)
            .await?;
        if count >= MAX_PER_PARTNER {
            return Err(Error::precondition(
                cogov_kit::ErrorReason::WebhookEndpointsFull,
                "LIMIT",
                partner_rpcs::name(partner.id),
                "a partner has at most 20 webhook endpoints",
            ));
        }
        let (_, secret) = SigningKey::generate();
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            partner_id: Set(partner.id),
            organization_id: Set(partner.organization_id),
            url: Set(e.url),
            description: Set(e.description),
            event_types: Set(stored_types(&e.event_types)),
            state: Set(state as i32),
            disabled_reason: Set(String::new()),
            secret: Set(secret.clone()),
            previous_secret: Set(None),
            previous_secret_expire_time: Set(None),
            failing_since: Set(None),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(WebhookEndpointSecret {
            webhook_endpoint: Some(to_proto(&row)),
            secret,
        })
    })
    .await
}

/// GetWebhookEndpoint.
pub async fn get(
    gw: &Gateway,
    principal: &Principal,
    req: GetWebhookEndpointRequest,
) -> Result<WebhookEndpoint> {
    Ok(to_proto(
        &find_owned(gw.ctx.db.read(), principal, "name", &req.name).await?,
    ))
}

/// ListWebhookEndpoints: newest first.
pub async fn list(
    gw: &Gateway,
    principal: &Principal,
    req: ListWebhookEndpointsRequest,
) -> Result<ListWebhookEndpointsResponse> {
    let partner_id = read_id("parent", &req.parent, partner_rpcs::COLLECTION)?;
    let conn = gw.ctx.db.read();
    owner(conn, principal, partner_id).await?;
    let mut query = ListQuery::new(
        "ListWebhookEndpoints",
        req.page_size,
        &req.page_token,
        "",
        "",
    );
    query.parent = &req.parent;
    let base = Entity::find().filter(Column::PartnerId.eq(partner_id));
    let (rows, next_page_token) =
        listing::newest_first(&gw.ctx.tokens, &gw.ctx.db, query, base, Column::Id, |m| {
            m.id
        })
        .await?;
    Ok(ListWebhookEndpointsResponse {
        webhook_endpoints: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

const FIELDS: Fields<WebhookEndpoint, rows::ActiveModel> = Fields::new(&[
    ("url", |am, e| am.url = Set(e.url.clone())),
    ("event_types", |am, e| {
        am.event_types = Set(stored_types(&e.event_types))
    }),
    ("description", |am, e| {
        am.description = Set(e.description.clone())
    }),
    ("state", |am, e| am.state = Set(e.state)),
]);

/// UpdateWebhookEndpoint: url, event types, description, state. Enabling
/// clears why it was disabled, and its record of failing; an endpoint a
/// street admin disabled is enabled again by a street admin only.
pub async fn update(
    gw: &Gateway,
    principal: &Principal,
    req: UpdateWebhookEndpointRequest,
) -> Result<WebhookEndpoint> {
    let e = required("webhook_endpoint", req.webhook_endpoint)?;
    let (_, id) = parse("webhook_endpoint.name", &e.name)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    find_owned(
        gw.ctx.db.read(),
        principal,
        "webhook_endpoint.name",
        &e.name,
    )
    .await?;
    check(gw, &e, Some(&mask)).await?;
    let txn = gw.ctx.db.begin_write().await?;
    let row = Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound {
            resource_type: "WebhookEndpoint",
            name: e.name.clone(),
        })?;
    let by_staff = !matches!(principal, Principal::Partner { .. });
    let enabling = mask.has("state") && e.state == WebhookEndpointState::Enabled as i32;
    if enabling && !by_staff && row.disabled_reason == DISABLED_BY_STAFF {
        return Err(Error::forbidden(
            "enable an endpoint a street admin disabled; ask the street office",
        ));
    }
    let mut edit = VERSIONED.edit(row, &e.etag, &e.name, gw.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &e);
    if enabling {
        edit.changes.disabled_reason = Set(String::new());
        edit.changes.failing_since = Set(None);
    } else if mask.has("state") {
        // Who disabled it decides who may enable it again.
        let reason = if by_staff { DISABLED_BY_STAFF } else { "" };
        edit.changes.disabled_reason = Set(reason.to_owned());
    }
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    gw.webhooks.wake();
    Ok(to_proto(&saved))
}

/// DeleteWebhookEndpoint: its deliveries go with it.
pub async fn delete(
    gw: &Gateway,
    principal: &Principal,
    req: DeleteWebhookEndpointRequest,
) -> Result<()> {
    find_owned(gw.ctx.db.read(), principal, "name", &req.name).await?;
    let (_, id) = parse("name", &req.name)?;
    let txn = gw.ctx.db.begin_write().await?;
    let Some(row) = Entity::find_by_id(id).one(&txn).await? else {
        return Err(Error::NotFound {
            resource_type: "WebhookEndpoint",
            name: req.name,
        });
    };
    etag::check(&req.etag, row.revision, &req.name)?;
    crate::entity::webhook_deliveries::Entity::delete_many()
        .filter(crate::entity::webhook_deliveries::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &req.name)
        .await?;
    txn.commit().await?;
    Ok(())
}

fn overlap(c: &mut Check, requested: Option<&prost_types::Duration>) -> Duration {
    match requested {
        None => DEFAULT_OVERLAP,
        Some(d) if d.seconds < 0 || d.nanos < 0 || d.seconds > MAX_OVERLAP.num_seconds() => {
            c.add("overlap", "between 0 and 7 days");
            Duration::zero()
        }
        Some(d) => Duration::seconds(d.seconds),
    }
}

/// RotateWebhookSecret: a new secret now; the old one signs beside it for
/// the overlap, so a receiver can switch without losing a delivery.
pub async fn rotate(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: RotateWebhookSecretRequest,
) -> Result<WebhookEndpointSecret> {
    let key = Key::new("RotateWebhookSecret", &req.request_id, principal, &req);
    let mut c = Check::new();
    let overlap = overlap(&mut c, req.overlap.as_ref());
    c.request_id(&req.request_id);
    c.finish()?;
    find_owned(gw.ctx.db.read(), principal, "name", &req.name).await?;
    let (_, id) = parse("name", &req.name)?;
    let now = gw.ctx.clock.now();
    let name = req.name.clone();
    idempotency::create_keeping(&gw.ctx.db, &key, now, blank_secret, async move |txn| {
        let row = Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound {
                resource_type: "WebhookEndpoint",
                name: name.clone(),
            })?;
        let mut edit = VERSIONED.edit(row, "", &name, now)?;
        let (_, secret) = SigningKey::generate();
        let (previous, until) = if overlap > Duration::zero() {
            (Some(edit.before.secret.clone()), Some(now + overlap))
        } else {
            (None, None)
        };
        edit.changes.secret = Set(secret.clone());
        edit.changes.previous_secret = Set(previous);
        edit.changes.previous_secret_expire_time = Set(until);
        let saved = edit.save(txn).await?;
        Ok(WebhookEndpointSecret {
            webhook_endpoint: Some(to_proto(&saved)),
            secret,
        })
    })
    .await
}

/// SendTestWebhookEvent: a `cogov.gateway.v1.WebhookTested` event, queued
/// for the endpoint now. A disabled endpoint gets nothing, tests included.
pub async fn send_test(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: SendTestWebhookEventRequest,
) -> Result<WebhookDelivery> {
    let key = Key::new("SendTestWebhookEvent", &req.request_id, principal, &req);
    let mut c = Check::new();
    c.request_id(&req.request_id);
    c.finish()?;
    let endpoint = find_owned(gw.ctx.db.read(), principal, "name", &req.name).await?;
    if endpoint.state != WebhookEndpointState::Enabled as i32 {
        return Err(Error::precondition(
            cogov_kit::ErrorReason::WebhookEndpointDisabled,
            "STATE",
            req.name.clone(),
            "the endpoint is disabled; enable it first",
        ));
    }
    let now = gw.ctx.clock.now();
    let event = test_event(&endpoint, principal, now);
    let out = idempotency::create(&gw.ctx.db, &key, now, async move |txn| {
        let id = Uuid::parse_str(&event.id).expect("a new UUID");
        let row = fanout::delivery(
            &endpoint,
            id,
            TEST_EVENT_TYPE,
            crate::proto_json::bytes_of(&event),
            now,
        );
        let saved = row.insert(txn).await?;
        Ok(super::deliveries::to_proto(&saved))
    })
    .await?;
    gw.webhooks.wake();
    Ok(out)
}

fn test_event(endpoint: &Model, principal: &Principal, now: DateTime<Utc>) -> Event {
    let payload = WebhookTested {
        webhook_endpoint: name(endpoint),
        requested_by: principal.describe(),
    };
    Event {
        id: names::new_id().to_string(),
        r#type: TEST_EVENT_TYPE.to_owned(),
        source: crate::ROLE.to_owned(),
        subject: name(endpoint),
        time: Some(convert::timestamp(now)),
        payload: Some(prost_types::Any::from_msg(&payload).expect("a message encodes")),
        ..Default::default()
    }
}
