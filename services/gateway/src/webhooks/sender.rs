//! Posting due deliveries and recording how each attempt went.
//!
//! The sender takes the pending deliveries whose time has come, oldest
//! first, and posts each (a bounded number in flight per endpoint and in
//! all), signed with the endpoint's secret and, during a rotation's
//! overlap, with the previous one too. An attempt ends one of four ways:
//! 2xx, done; `410 Gone`, the endpoint is disabled; a timeout, a
//! connection error, 429 or 5xx, tried again on the [`schedule`] until it
//! runs out; anything else (another 4xx, a redirect, an address the
//! [`ssrf`](super::ssrf) guard refuses), failed. An endpoint whose every
//! attempt has failed for [`schedule::DISABLE_AFTER`] is disabled, with
//! an audit record and a `WebhookEndpointDisabled` event its partner sees.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::events::{NewEvent, outbox};
use cogov_kit::write::Defers;
use cogov_kit::{Result, names};
use cogov_proto::gateway::{WebhookDeliveryState, WebhookEndpointDisabled, WebhookEndpointState};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::schedule;
use crate::Gateway;
use crate::entity::{webhook_deliveries as deliveries, webhook_endpoints as endpoints};
use crate::standard_webhooks::{SigningKey, signature_header};

/// Attempts in flight in all at most.
const IN_FLIGHT: usize = 256;
/// Due deliveries read per look.
const BATCH: u64 = 512;
/// How often it looks without being told (deliveries other replicas
/// queued before this one took the lease, a clock moved by hand).
const POLL: Duration = Duration::from_millis(500);
/// Characters of an error kept on the delivery.
const ERROR_CHARS: usize = 500;

/// The `webhook-id` of delivery `id`.
pub fn webhook_id(id: Uuid) -> String {
    format!("msg_{}", id.simple())
}

/// Sends due deliveries, until the task is dropped; its attempts in
/// flight are dropped with it (the lease lost, the process stopping) and
/// stay due.
pub async fn run(gw: Gateway) {
    let slots = Slots::new(gw.webhooks.0.config.in_flight_per_endpoint);
    let mut flying = tokio::task::JoinSet::new();
    loop {
        match due(&gw, gw.ctx.clock.now()).await {
            Ok(rows) => {
                for d in rows {
                    if let Some(slot) = slots.take(d.endpoint_id, d.id, &gw) {
                        flying.spawn(attempt(gw.clone(), d, slot));
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading due webhook deliveries failed"),
        }
        loop {
            tokio::select! {
                // Reap finished attempts without looking again.
                Some(_) = flying.join_next() => continue,
                () = gw.webhooks.0.due.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            break;
        }
    }
}

async fn due(gw: &Gateway, now: DateTime<Utc>) -> Result<Vec<deliveries::Model>> {
    Ok(deliveries::Entity::find()
        .filter(deliveries::Column::State.eq(WebhookDeliveryState::Pending as i32))
        .filter(deliveries::Column::NextAttemptTime.lte(now))
        .order_by_asc(deliveries::Column::NextAttemptTime)
        .limit(BATCH)
        .all(gw.ctx.db.read())
        .await?)
}

/// Which deliveries are in flight, per endpoint.
#[derive(Clone)]
struct Slots {
    per_endpoint: usize,
    taken: Arc<Mutex<Taken>>,
}

#[derive(Default)]
struct Taken {
    deliveries: HashSet<Uuid>,
    endpoints: HashMap<Uuid, usize>,
}

/// One delivery's place in flight; given back when dropped.
struct Slot {
    slots: Slots,
    endpoint: Uuid,
    delivery: Uuid,
    gw: Gateway,
}

impl Slots {
    fn new(per_endpoint: usize) -> Slots {
        Slots {
            per_endpoint: per_endpoint.max(1),
            taken: Arc::default(),
        }
    }

    fn take(&self, endpoint: Uuid, delivery: Uuid, gw: &Gateway) -> Option<Slot> {
        let mut taken = self.taken.lock().expect("slots lock");
        let busy = taken.endpoints.get(&endpoint).copied().unwrap_or(0);
        if taken.deliveries.contains(&delivery)
            || busy >= self.per_endpoint
            || taken.deliveries.len() >= IN_FLIGHT
        {
            return None;
        }
        taken.deliveries.insert(delivery);
        taken.endpoints.insert(endpoint, busy + 1);
        Some(Slot {
            slots: self.clone(),
            endpoint,
            delivery,
            gw: gw.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self.slots.taken.lock().expect("slots lock");
        taken.deliveries.remove(&self.delivery);
        if let Some(n) = taken.endpoints.get_mut(&self.endpoint) {
            *n -= 1;
            if *n == 0 {
                taken.endpoints.remove(&self.endpoint);
            }
        }
        // The endpoint may have more waiting.
        self.gw.webhooks.wake();
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Delivered(u16),
    /// A timeout, a connection error (code 0), 429 or 5xx.
    Retry(u16, String),
    /// `410 Gone`: the endpoint is disabled.
    Gone,
    /// Anything else: failed without retry.
    Refused(u16, String),
}

impl Outcome {
    fn of(sent: std::result::Result<reqwest::Response, reqwest::Error>) -> Outcome {
        match sent {
            Ok(r) => {
                let code = r.status().as_u16();
                match code {
                    200..=299 => Outcome::Delivered(code),
                    410 => Outcome::Gone,
                    429 | 500..=599 => Outcome::Retry(code, format!("answered {}", r.status())),
                    300..=399 => Outcome::Refused(
                        code,
                        "answered with a redirect, which is not followed".into(),
                    ),
                    _ => Outcome::Refused(code, format!("answered {}", r.status())),
                }
            }
            // A refusal of the guard's resolver is final; the rest of
            // what fails before an answer (timeouts, connections) passes.
            Err(e) if is_refusal(&e) => Outcome::Refused(0, chain(&e)),
            Err(e) => Outcome::Retry(0, chain(&e)),
        }
    }

    /// Its name in the metrics.
    fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered(_) => "delivered",
            Outcome::Retry(..) => "retried",
            Outcome::Gone => "gone",
            Outcome::Refused(..) => "failed",
        }
    }

    fn code(&self) -> u16 {
        match self {
            Outcome::Delivered(c) | Outcome::Retry(c, _) | Outcome::Refused(c, _) => *c,
            Outcome::Gone => 410,
        }
    }
}

fn is_refusal(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<super::ssrf::Refused>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

/// An error with its causes, as far as they say something.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(ERROR_CHARS).collect()
}

async fn attempt(gw: Gateway, d: deliveries::Model, slot: Slot) {
    if let Err(e) = try_attempt(&gw, d).await {
        tracing::warn!(error = %e, "a webhook attempt could not be recorded; it stays due");
        // Not straight back: the database said no a moment ago.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    drop(slot);
}

async fn try_attempt(gw: &Gateway, d: deliveries::Model) -> Result<()> {
    let now = gw.ctx.clock.now();
    // The row may be from a look taken before another attempt of it
    // finished and gave its slot back: read again, now that the slot is
    // ours, so that a delivery done meanwhile is not posted twice.
    let Some(d) = deliveries::Entity::find_by_id(d.id)
        .one(gw.ctx.db.read())
        .await?
        .filter(|d| d.state == WebhookDeliveryState::Pending as i32 && d.next_attempt_time <= now)
    else {
        return Ok(());
    };
    let Some(endpoint) = endpoints::Entity::find_by_id(d.endpoint_id)
        .one(gw.ctx.db.read())
        .await?
    else {
        // Deleted with its deliveries a moment ago.
        return Ok(());
    };
    if endpoint.state != WebhookEndpointState::Enabled as i32 {
        let outcome = Outcome::Refused(0, "the endpoint is disabled".into());
        return record(gw, d, outcome, Duration::ZERO, now).await;
    }
    let started = Instant::now();
    let outcome = match post(gw, &endpoint, &d, now).await {
        Ok(sent) => Outcome::of(sent),
        Err(refused) => Outcome::Refused(0, refused),
    };
    let took = started.elapsed();
    gw.webhooks.0.config.meter.attempt(outcome.label(), took);
    record(gw, d, outcome, took, now).await
}

/// The keys an endpoint signs with at `now`: its secret, and the previous
/// one during a rotation's overlap.
fn keys(
    endpoint: &endpoints::Model,
    now: DateTime<Utc>,
) -> std::result::Result<Vec<SigningKey>, String> {
    let mut keys = vec![SigningKey::from_secret(&endpoint.secret)?];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret,
        endpoint.previous_secret_expire_time,
    ) && until > now
    {
        keys.push(SigningKey::from_secret(previous)?);
    }
    Ok(keys)
}

async fn post(
    gw: &Gateway,
    endpoint: &endpoints::Model,
    d: &deliveries::Model,
    now: DateTime<Utc>,
) -> std::result::Result<std::result::Result<reqwest::Response, reqwest::Error>, String> {
    let url = gw
        .webhooks
        .guard()
        .check_url(&endpoint.url)
        .map_err(|r| r.0)?;
    let keys = keys(endpoint, now)?;
    let id = webhook_id(d.id);
    let timestamp = now.timestamp();
    let signature = signature_header(&keys.iter().collect::<Vec<_>>(), &id, timestamp, &d.body);
    Ok(gw
        .webhooks
        .0
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.body.clone())
        .send()
        .await)
}

/// Records an attempt, the delivery's next step and what it says of its
/// endpoint, in one transaction.
async fn record(
    gw: &Gateway,
    d: deliveries::Model,
    outcome: Outcome,
    latency: Duration,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = gw.ctx.db.begin_write().await?;
    // The endpoint as it is now (a partner may have changed it meanwhile).
    let Some(endpoint) = endpoints::Entity::find_by_id(d.endpoint_id)
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let retries = u32::try_from(d.retries).unwrap_or(0) + 1;
    let mut am: deliveries::ActiveModel = d.clone().into();
    am.attempts = Set(d.attempts + 1);
    am.last_attempt_time = Set(Some(now));
    am.response_code = Set(i32::from(outcome.code()));
    am.latency_micros = Set(i64::try_from(latency.as_micros()).unwrap_or(i64::MAX));
    let failed = WebhookDeliveryState::Failed as i32;
    let mut endpoint_failed = true;
    let mut disable = None;
    match &outcome {
        Outcome::Delivered(_) => {
            am.state = Set(WebhookDeliveryState::Succeeded as i32);
            am.last_error = Set(String::new());
            endpoint_failed = false;
        }
        Outcome::Retry(_, error) => {
            am.last_error = Set(error.clone());
            am.retries = Set(i32::try_from(retries).unwrap_or(i32::MAX));
            match schedule::wait_after(retries, schedule::random_spread()) {
                Some(wait) => am.next_attempt_time = Set(now + wait),
                None => am.state = Set(failed),
            }
        }
        Outcome::Gone => {
            am.state = Set(failed);
            am.last_error = Set("answered 410 Gone".into());
            disable = Some("the endpoint answered 410 Gone".to_owned());
        }
        Outcome::Refused(_, error) => {
            am.state = Set(failed);
            am.last_error = Set(error.clone());
        }
    }
    let failing_since = endpoint.failing_since;
    if endpoint_failed {
        let since = failing_since.unwrap_or(now);
        if disable.is_none() && now - since >= schedule::DISABLE_AFTER {
            disable = Some(format!(
                "every attempt since {} failed",
                since.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    if disable.is_some() {
        // Nothing more goes to a disabled endpoint.
        am.state = Set(failed);
    }
    am.update(&txn).await?;
    // A disabled endpoint's backlog says nothing more of it.
    let mut disabled = false;
    if endpoint.state == WebhookEndpointState::Enabled as i32 {
        match disable {
            Some(reason) => {
                disable_endpoint(&txn, endpoint, &reason, now).await?;
                disabled = true;
            }
            None if endpoint_failed && failing_since.is_none() => {
                set_failing_since(&txn, endpoint.id, Some(now)).await?;
            }
            None if !endpoint_failed && failing_since.is_some() => {
                set_failing_since(&txn, endpoint.id, None).await?;
            }
            None => {}
        }
    }
    txn.commit().await?;
    if disabled {
        gw.ctx.db.outbox_committed();
        gw.webhooks.0.config.meter.endpoint_disabled();
    }
    Ok(())
}

/// Failing-since is the gateway's observation, not a change of the
/// partner's record: its etag stays.
async fn set_failing_since<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    since: Option<DateTime<Utc>>,
) -> Result<()> {
    endpoints::Entity::update_many()
        .col_expr(
            endpoints::Column::FailingSince,
            sea_orm::sea_query::Expr::value(since),
        )
        .filter(endpoints::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Disables an endpoint for `reason`, with an audit record in the
/// gateway's name.
async fn disable_endpoint<C: Defers>(
    conn: &C,
    endpoint: endpoints::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let name = super::endpoints::name(&endpoint);
    let partner = endpoint.partner_id;
    let mut edit = super::endpoints::VERSIONED.edit(endpoint, "", &name, now)?;
    edit.changes.state = Set(WebhookEndpointState::Disabled as i32);
    edit.changes.disabled_reason = Set(reason.to_owned());
    edit.save(conn).await?;
    tracing::warn!(endpoint = %name, reason, "webhook endpoint disabled");
    // The partner hears of it on its stream and its other endpoints.
    let told = WebhookEndpointDisabled {
        webhook_endpoint: name.clone(),
        reason: reason.to_owned(),
    };
    outbox::append(conn, crate::ROLE, NewEvent::of(&told, name.clone()), now).await?;
    let entry = crate::audit::Entry {
        principal: Some(Principal::Service {
            name: "gateway-webhooks".into(),
        }),
        partner: Some(partner),
        method: "/cogov.gateway.v1.GatewayService/UpdateWebhookEndpoint".into(),
        target: name,
        code: 0,
        request_id: names::new_id().to_string(),
        peer: String::new(),
        time: now,
        duration: Duration::ZERO,
    };
    crate::audit::row(entry).insert(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::{Config, Webhooks};

    #[tokio::test]
    async fn a_name_resolving_inside_is_refused_at_connection_for_good() {
        // No allow-list: localhost is loopback, refused by the client's
        // own resolver (the check a rebinding name meets), and final.
        let hooks = Webhooks::new(Config::default());
        let sent = hooks
            .0
            .client
            .post("https://localhost:9/hooks")
            .send()
            .await;
        let outcome = Outcome::of(sent);
        assert!(
            matches!(&outcome, Outcome::Refused(0, why) if why.contains("localhost resolves to")),
            "{outcome:?}"
        );
        // A connection refused by a host that may come back is retried.
        let open = Webhooks::new(Config {
            allow_networks: vec!["127.0.0.0/8".parse().unwrap()],
            ..Config::default()
        });
        let outcome = Outcome::of(open.0.client.post("http://127.0.0.1:9/hooks").send().await);
        assert!(matches!(outcome, Outcome::Retry(0, _)), "{outcome:?}");
    }
}
