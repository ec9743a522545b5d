//! Webhooks end to end: partners' endpoints registered over gRPC, events
//! posted to a real HTTP receiver on loopback that checks every signature
//! with its own HMAC (not the gateway's code), only events in the
//! partner's reach, retries on the schedule with the test's clock, a
//! restart in the middle of an attempt, `410 Gone` and three days of
//! failures disabling an endpoint, secret rotation, redelivery, who may
//! touch whose endpoints, and the SSRF refusals.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use cogov_proto::gateway::*;
use cogov_proto::issues::Issue;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Notify;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    partners_receive_signed_events_of_their_reach_only,
    a_failed_delivery_is_retried_on_schedule_and_survives_a_restart,
    gone_or_three_days_of_failures_disable_an_endpoint,
    a_slow_endpoint_has_at_most_four_attempts_in_flight,
    a_rotated_secret_signs_beside_the_new_one_for_the_overlap,
    partners_touch_only_their_own_endpoints_and_bad_urls_are_refused,
);

/// One POST as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signatures: Vec<String>,
    body: Vec<u8>,
}

impl Received {
    /// Whether one of the signatures is `secret`'s, as Standard Webhooks
    /// defines it.
    fn signed_with(&self, secret: &str) -> bool {
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b64
            .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.body);
        let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
        self.signatures.contains(&expected)
    }

    fn event(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Inbox {
    got: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; 204 once they run out.
    replies: Mutex<VecDeque<u16>>,
    /// How long to hold each request before answering.
    hold: Mutex<Duration>,
    /// Requests being answered now, and the most there were at once.
    in_flight: Mutex<(usize, usize)>,
    arrived: Notify,
}

/// A partner's receiver: a real HTTP server on loopback.
struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
}

async fn receive(
    axum::extract::State(inbox): axum::extract::State<Arc<Inbox>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(get("content-type"), "application/json");
    inbox.got.lock().unwrap().push(Received {
        id: get("webhook-id"),
        timestamp: get("webhook-timestamp").parse().unwrap_or_default(),
        signatures: get("webhook-signature")
            .split(' ')
            .map(str::to_owned)
            .collect(),
        body: body.to_vec(),
    });
    inbox.arrived.notify_waiters();
    {
        let mut flying = inbox.in_flight.lock().unwrap();
        flying.0 += 1;
        flying.1 = flying.1.max(flying.0);
    }
    let hold = *inbox.hold.lock().unwrap();
    tokio::time::sleep(hold).await;
    inbox.in_flight.lock().unwrap().0 -= 1;
    let status = inbox.replies.lock().unwrap().pop_front().unwrap_or(204);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    async fn start() -> Receiver {
        let inbox = Arc::new(Inbox::default());
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inbox }
    }

    fn answer(&self, statuses: &[u16]) {
        self.inbox.replies.lock().unwrap().extend(statuses);
    }

    fn hold(&self, d: Duration) {
        *self.inbox.hold.lock().unwrap() = d;
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.inbox.arrived.notified();
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::timeout_at(deadline, arrived).await.is_ok(),
                "{} of {n} requests arrived",
                got.len()
            );
        }
    }
}

async fn create(
    env: &Env,
    who: Bearer,
    parent: &str,
    url: &str,
    event_types: &[&str],
) -> WebhookEndpointSecret {
    env.gateway_as(who)
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            parent: parent.into(),
            webhook_endpoint: Some(WebhookEndpoint {
                url: url.into(),
                event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
                description: "work orders".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Firm A's endpoint at `url` for test events.
async fn tested(env: &Env, w: &World, url: &str) -> WebhookEndpointSecret {
    create(
        env,
        key(&w.key_a),
        &w.partner_a,
        url,
        &["cogov.gateway.v1.WebhookTested"],
    )
    .await
}

async fn deliveries(env: &Env, who: Bearer, endpoint: &str) -> Vec<WebhookDelivery> {
    env.gateway_as(who)
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            parent: endpoint.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .webhook_deliveries
}

async fn endpoint(env: &Env, name: &str) -> WebhookEndpoint {
    env.admin()
        .get_webhook_endpoint(GetWebhookEndpointRequest { name: name.into() })
        .await
        .unwrap()
        .into_inner()
}

async fn send_test(env: &Env, who: Bearer, name: &str) -> WebhookDelivery {
    env.gateway_as(who)
        .send_test_webhook_event(SendTestWebhookEventRequest {
            name: name.into(),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Polls `f` until it holds, for up to ten seconds (deliveries go out in
/// the background).
async fn soon<F: AsyncFnMut() -> bool>(mut f: F) -> bool {
    for _ in 0..500 {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Whether the fan-out has taken its first step (its cursor is stored).
async fn fanning_out(env: &Env) -> bool {
    use sea_orm::{ConnectionTrait, Statement};
    let db = env.gw.ctx.db.read();
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT name FROM webhook_fanout",
    ))
    .await
    .expect("the fan-out's cursor")
    .is_some()
}

/// Polls the delivery `name` of `endpoint` until `done` holds (10 s).
async fn delivery_until(
    env: &Env,
    endpoint: &str,
    name: &str,
    done: impl Fn(&WebhookDelivery) -> bool,
) -> WebhookDelivery {
    for _ in 0..500 {
        let d = deliveries(env, env.street_admin(), endpoint)
            .await
            .into_iter()
            .find(|d| d.name == name)
            .expect("the delivery is listed");
        if done(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("delivery {name} never reached the expected state");
}

async fn partners_receive_signed_events_of_their_reach_only(env: Env) {
    let w = World::build(&env).await;
    let (a, b) = (Receiver::start().await, Receiver::start().await);
    let hook_a = create(&env, key(&w.key_a), &w.partner_a, &a.url, &[]).await;
    let hook_b = create(
        &env,
        key(&w.key_b),
        &w.partner_b,
        &b.url,
        &["cogov.issues.v1.IssueReported"],
    )
    .await;
    for h in [&hook_a, &hook_b] {
        assert!(h.secret.starts_with("whsec_"), "{}", h.secret);
    }
    let endpoint_a = hook_a.webhook_endpoint.unwrap();
    assert_eq!(endpoint_a.state, WebhookEndpointState::Enabled as i32);
    let endpoint_b = hook_b.webhook_endpoint.unwrap();

    // The fan-out delivers the events logged after its first step. On
    // PostgreSQL it starts once its lease is taken, which can come after
    // these reports unless the test waits for it.
    assert!(
        soon(async || fanning_out(&env).await).await,
        "fan-out started"
    );
    let in_a = report(&env, env.street_admin(), &w.a1, "bikes piled in a1").await;
    let in_b = report(&env, env.street_admin(), &w.b1, "bikes piled in b1").await;
    let reported = |r: &Received, issue: &Issue| {
        let e = r.event();
        e["type"] == "cogov.issues.v1.IssueReported" && e["subject"] == issue.name.as_str()
    };
    assert!(
        soon(async || a.got().iter().any(|r| reported(r, &in_a))).await,
        "firm A got its report"
    );
    assert!(
        soon(async || b.got().iter().any(|r| reported(r, &in_b))).await,
        "firm B got its report"
    );
    // Whatever else arrives meanwhile is in reach too: a1 for A, and
    // only reports for B.
    let got_a = a.got();
    for r in &got_a {
        assert!(r.signed_with(&hook_a.secret), "{r:?}");
        assert!(!r.signed_with(&hook_b.secret));
        assert!(r.id.starts_with("msg_"), "{}", r.id);
        let e = r.event();
        assert_eq!(e["courtyard"], w.a1.as_str(), "{e}");
        assert!(!reported(r, &in_b));
    }
    for r in b.got() {
        assert!(r.signed_with(&hook_b.secret));
        let e = r.event();
        assert_eq!(e["type"], "cogov.issues.v1.IssueReported", "{e}");
        assert_eq!(e["courtyard"], w.b1.as_str());
    }
    // The body is the event in protobuf's JSON mapping, payload included.
    let first = got_a.iter().find(|r| reported(r, &in_a)).unwrap();
    let event = first.event();
    assert!(
        event["payload"]["@type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/cogov.issues.v1.IssueReported")),
        "{event}"
    );
    assert!(event["id"].as_str().is_some_and(|id| !id.is_empty()));

    // The partner sees each delivery: done at the first attempt, under the
    // id its receiver saw.
    let listed = deliveries(&env, key(&w.key_a), &endpoint_a.name).await;
    let d = listed
        .iter()
        .find(|d| d.webhook_id == first.id)
        .expect("the delivery is listed");
    assert_eq!(d.event_type, "cogov.issues.v1.IssueReported");
    assert_eq!(d.event_id, event["id"].as_str().unwrap());
    assert!(
        soon(async || {
            deliveries(&env, key(&w.key_a), &endpoint_a.name)
                .await
                .iter()
                .any(|d| {
                    d.webhook_id == first.id && d.state == WebhookDeliveryState::Succeeded as i32
                })
        })
        .await
    );
    let d = deliveries(&env, key(&w.key_a), &endpoint_a.name)
        .await
        .into_iter()
        .find(|d| d.webhook_id == first.id)
        .unwrap();
    assert_eq!((d.attempts, d.response_code), (1, 204));
    assert!(d.latency.is_some() && d.next_attempt_time.is_none());
    // A redelivery posts the same event again under the same id.
    let again = env
        .gateway_as(key(&w.key_a))
        .redeliver_webhook_delivery(RedeliverWebhookDeliveryRequest {
            name: d.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.state, WebhookDeliveryState::Pending as i32);
    assert!(
        soon(async || a.got().iter().filter(|r| r.id == first.id).count() == 2).await,
        "redelivered"
    );
    let pending_of_b = deliveries(&env, key(&w.key_b), &endpoint_b.name).await;
    assert!(
        pending_of_b
            .iter()
            .all(|d| d.event_type == "cogov.issues.v1.IssueReported")
    );
}

async fn a_failed_delivery_is_retried_on_schedule_and_survives_a_restart(env: Env) {
    let w = World::build(&env).await;
    let r = Receiver::start().await;
    let hook = tested(&env, &w, &r.url).await;
    let name = hook.webhook_endpoint.unwrap().name;
    r.answer(&[503]);
    let queued = send_test(&env, key(&w.key_a), &name).await;
    assert_eq!(queued.state, WebhookDeliveryState::Pending as i32);
    let first = r.wait_for(1).await;
    assert!(first[0].signed_with(&hook.secret));
    assert_eq!(first[0].id, queued.webhook_id);
    assert_eq!(first[0].event()["type"], "cogov.gateway.v1.WebhookTested");
    let failed = delivery_until(&env, &name, &queued.name, |d| d.attempts == 1).await;
    assert_eq!(failed.state, WebhookDeliveryState::Pending as i32);
    assert_eq!(failed.response_code, 503);
    assert!(failed.last_error.contains("503"), "{}", failed.last_error);
    // Five seconds on, a fifth either way.
    let now = env.clock.now();
    let next =
        cogov_kit::convert::from_timestamp(failed.next_attempt_time.as_ref().unwrap()).unwrap();
    assert!(
        next >= now + chrono::Duration::seconds(4) && next <= now + chrono::Duration::seconds(6),
        "{next} against {now}"
    );
    // The endpoint has been failing since that attempt.
    assert!(endpoint(&env, &name).await.failing_since.is_some());
    // Not before its time.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(r.got().len(), 1);

    // Its time comes; the receiver holds the attempt, and the gateway's
    // sender dies in the middle of it.
    r.hold(Duration::from_secs(30));
    env.clock.advance(chrono::Duration::seconds(7));
    env.gw.webhooks.wake();
    r.wait_for(2).await;
    env.gw.webhooks.stop();
    let cut = delivery_until(&env, &name, &queued.name, |_| true).await;
    assert_eq!(
        (cut.state, cut.attempts),
        (WebhookDeliveryState::Pending as i32, 1),
        "the cut attempt left the delivery due"
    );
    // Started again, it tries again, with the same id.
    r.hold(Duration::ZERO);
    cogov_gateway::webhooks::start(&env.gw);
    let done = delivery_until(&env, &name, &queued.name, |d| {
        d.state == WebhookDeliveryState::Succeeded as i32
    })
    .await;
    assert_eq!((done.attempts, done.response_code), (2, 204));
    let got = r.got();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.iter()
            .all(|g| g.id == queued.webhook_id && g.signed_with(&hook.secret))
    );
    assert!(endpoint(&env, &name).await.failing_since.is_none());

    // Finished deliveries are kept 30 days; pending ones (still failing
    // here, whenever the sender tries) until done.
    r.answer(&[503; 10]);
    let waiting = send_test(&env, key(&w.key_a), &name).await;
    delivery_until(&env, &name, &waiting.name, |d| d.attempts == 1).await;
    let prune = cogov_gateway::webhooks::deliveries::prune;
    env.clock.advance(chrono::Duration::days(29));
    assert_eq!(
        prune(env.gw.ctx.db.write(), env.clock.now()).await.unwrap(),
        0
    );
    env.clock.advance(chrono::Duration::days(2));
    assert_eq!(
        prune(env.gw.ctx.db.write(), env.clock.now()).await.unwrap(),
        1
    );
    let left = deliveries(&env, key(&w.key_a), &name).await;
    assert_eq!(
        left.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        [waiting.name.as_str()]
    );
}

async fn gone_or_three_days_of_failures_disable_an_endpoint(env: Env) {
    let w = World::build(&env).await;
    let (gone, broken) = (Receiver::start().await, Receiver::start().await);
    let gone_name = tested(&env, &w, &gone.url)
        .await
        .webhook_endpoint
        .unwrap()
        .name;
    // The partners' streams of endpoints disabled.
    let disabled = |who: Bearer| {
        let mut gw = env.gateway_as(who);
        async move {
            gw.watch_events(WatchEventsRequest {
                event_types: vec!["cogov.gateway.v1.WebhookEndpointDisabled".into()],
                cursor: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
        }
    };
    let (mut heard_a, mut heard_b) = (disabled(key(&w.key_a)).await, disabled(key(&w.key_b)).await);
    gone.answer(&[410]);
    let d = send_test(&env, key(&w.key_a), &gone_name).await;
    let d = delivery_until(&env, &gone_name, &d.name, |d| d.attempts == 1).await;
    assert_eq!(d.state, WebhookDeliveryState::Failed as i32);
    let e = endpoint(&env, &gone_name).await;
    assert_eq!(e.state, WebhookEndpointState::Disabled as i32);
    assert!(e.disabled_reason.contains("410"), "{}", e.disabled_reason);
    // The partner is told: an event on its stream (and no other
    // partner's), and the audit log, in the gateway's name.
    let told = tokio::time::timeout(Duration::from_secs(10), heard_a.message())
        .await
        .expect("the partner hears within 10 s")
        .unwrap()
        .unwrap()
        .event
        .unwrap();
    assert_eq!(told.subject, gone_name);
    let payload: WebhookEndpointDisabled = cogov_kit::events::payload(&told).unwrap();
    assert_eq!(payload.webhook_endpoint, gone_name);
    assert!(payload.reason.contains("410"), "{}", payload.reason);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), heard_b.message())
            .await
            .is_err(),
        "another partner hears nothing of it"
    );
    assert!(
        soon(async || {
            env.admin()
                .list_audit_records(ListAuditRecordsRequest {
                    filter: format!("target = \"{gone_name}\""),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .audit_records
                .iter()
                .any(|r| r.method.ends_with("/UpdateWebhookEndpoint"))
        })
        .await
    );
    // A disabled endpoint gets nothing, tests included.
    let refused = env
        .gateway_as(key(&w.key_a))
        .send_test_webhook_event(SendTestWebhookEventRequest {
            name: gone_name.clone(),
            request_id: request_id(),
        })
        .await;
    assert_status(
        refused,
        Code::FailedPrecondition,
        "WEBHOOK_ENDPOINT_DISABLED",
    );

    // Failing for three days disables too.
    let broken_name = tested(&env, &w, &broken.url)
        .await
        .webhook_endpoint
        .unwrap()
        .name;
    broken.answer(&[500; 20]);
    let d = send_test(&env, key(&w.key_a), &broken_name).await;
    delivery_until(&env, &broken_name, &d.name, |d| d.attempts == 1).await;
    let since = endpoint(&env, &broken_name).await.failing_since.unwrap();
    env.clock.advance(chrono::Duration::days(2));
    let d2 = send_test(&env, key(&w.key_a), &broken_name).await;
    delivery_until(&env, &broken_name, &d2.name, |d| d.attempts == 1).await;
    let e = endpoint(&env, &broken_name).await;
    assert_eq!(
        e.state,
        WebhookEndpointState::Enabled as i32,
        "two days are not three"
    );
    assert_eq!(e.failing_since, Some(since));
    env.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let d3 = send_test(&env, key(&w.key_a), &broken_name).await;
    delivery_until(&env, &broken_name, &d3.name, |d| {
        d.state == WebhookDeliveryState::Failed as i32
    })
    .await;
    let e = endpoint(&env, &broken_name).await;
    assert_eq!(e.state, WebhookEndpointState::Disabled as i32);
    assert!(
        e.disabled_reason.contains("failed"),
        "{}",
        e.disabled_reason
    );

    // Enabled again by its partner, it starts clean.
    let enabled = env
        .gateway_as(key(&w.key_a))
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            webhook_endpoint: Some(WebhookEndpoint {
                name: broken_name.clone(),
                state: WebhookEndpointState::Enabled as i32,
                etag: e.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(enabled.state, WebhookEndpointState::Enabled as i32);
    assert!(enabled.disabled_reason.is_empty() && enabled.failing_since.is_none());
}

async fn a_slow_endpoint_has_at_most_four_attempts_in_flight(env: Env) {
    let w = World::build(&env).await;
    let r = Receiver::start().await;
    r.hold(Duration::from_millis(300));
    let name = tested(&env, &w, &r.url)
        .await
        .webhook_endpoint
        .unwrap()
        .name;
    let mut queued = Vec::new();
    for _ in 0..10 {
        queued.push(send_test(&env, key(&w.key_a), &name).await);
    }
    for d in &queued {
        delivery_until(&env, &name, &d.name, |d| {
            d.state == WebhookDeliveryState::Succeeded as i32
        })
        .await;
    }
    assert_eq!(r.got().len(), 10);
    let most = r.inbox.in_flight.lock().unwrap().1;
    assert!((2..=4).contains(&most), "{most} at once");
}

async fn a_rotated_secret_signs_beside_the_new_one_for_the_overlap(env: Env) {
    let w = World::build(&env).await;
    let r = Receiver::start().await;
    let hook = tested(&env, &w, &r.url).await;
    let name = hook.webhook_endpoint.unwrap().name;
    let mut gw = env.gateway_as(key(&w.key_a));
    let rotate = RotateWebhookSecretRequest {
        name: name.clone(),
        overlap: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
        request_id: request_id(),
    };
    let rotated = gw
        .rotate_webhook_secret(rotate.clone())
        .await
        .unwrap()
        .into_inner();
    assert_ne!(rotated.secret, hook.secret);
    assert!(
        rotated
            .webhook_endpoint
            .unwrap()
            .previous_secret_expire_time
            .is_some()
    );
    // A retried rotation answers again without the secret, and rotates
    // nothing more.
    let retried = gw.rotate_webhook_secret(rotate).await.unwrap().into_inner();
    assert!(retried.secret.is_empty());

    send_test(&env, key(&w.key_a), &name).await;
    let during = r.wait_for(1).await[0].clone();
    assert_eq!(during.signatures.len(), 2, "{during:?}");
    assert!(during.signed_with(&hook.secret) && during.signed_with(&rotated.secret));

    env.clock.advance(chrono::Duration::hours(2));
    send_test(&env, key(&w.key_a), &name).await;
    let after = r.wait_for(2).await[1].clone();
    assert_eq!(after.signatures.len(), 1);
    assert!(after.signed_with(&rotated.secret) && !after.signed_with(&hook.secret));
}

async fn partners_touch_only_their_own_endpoints_and_bad_urls_are_refused(env: Env) {
    let w = World::build(&env).await;
    let r = Receiver::start().await;
    let mut firm_a = env.gateway_as(key(&w.key_a));
    let request = CreateWebhookEndpointRequest {
        parent: w.partner_a.clone(),
        webhook_endpoint: Some(WebhookEndpoint {
            url: r.url.clone(),
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let created = firm_a
        .create_webhook_endpoint(request.clone())
        .await
        .unwrap()
        .into_inner();
    // A retried create is the same endpoint, its secret not shown again.
    let retried = firm_a
        .create_webhook_endpoint(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried.webhook_endpoint, created.webhook_endpoint);
    assert!(retried.secret.is_empty() && !created.secret.is_empty());
    let name = created.webhook_endpoint.unwrap().name;
    let list = |who: Bearer| {
        let mut gw = env.gateway_as(who);
        let parent = w.partner_a.clone();
        async move {
            gw.list_webhook_endpoints(ListWebhookEndpointsRequest {
                parent,
                ..Default::default()
            })
            .await
        }
    };
    assert_eq!(
        list(key(&w.key_a))
            .await
            .unwrap()
            .into_inner()
            .webhook_endpoints
            .len(),
        1
    );
    assert_eq!(
        list(env.street_admin())
            .await
            .unwrap()
            .into_inner()
            .webhook_endpoints
            .len(),
        1
    );

    // Firm B learns nothing of A's endpoints and touches none.
    let mut firm_b = env.gateway_as(key(&w.key_b));
    assert_status(
        list(key(&w.key_b)).await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    for status in [
        firm_b
            .get_webhook_endpoint(GetWebhookEndpointRequest { name: name.clone() })
            .await
            .map(drop),
        firm_b
            .delete_webhook_endpoint(DeleteWebhookEndpointRequest {
                name: name.clone(),
                etag: String::new(),
            })
            .await
            .map(drop),
        firm_b
            .send_test_webhook_event(SendTestWebhookEventRequest {
                name: name.clone(),
                request_id: String::new(),
            })
            .await
            .map(drop),
        firm_b
            .list_webhook_deliveries(ListWebhookDeliveriesRequest {
                parent: name.clone(),
                ..Default::default()
            })
            .await
            .map(drop),
        firm_b
            .create_webhook_endpoint(CreateWebhookEndpointRequest {
                parent: w.partner_a.clone(),
                webhook_endpoint: Some(WebhookEndpoint {
                    url: r.url.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .map(drop),
    ] {
        assert_status(status, Code::PermissionDenied, "OUT_OF_REACH");
    }
    // Community staff have no part in partners' endpoints.
    let staff = Bearer(Some(env.token("community_admin", &w.community_a)));
    assert_status(list(staff).await, Code::PermissionDenied, "FORBIDDEN");

    // Bad input changes nothing, and names the field.
    for (url, field) in [
        (
            "https://169.254.169.254/latest/meta-data/",
            "webhook_endpoint.url",
        ),
        (
            "https://100.100.100.200/latest/meta-data/",
            "webhook_endpoint.url",
        ),
        ("https://10.0.0.1/hooks", "webhook_endpoint.url"),
        ("https://[::1]/hooks", "webhook_endpoint.url"),
        ("https://[fd00:ec2::254]/", "webhook_endpoint.url"),
        ("ftp://hooks.example.com/", "webhook_endpoint.url"),
        ("", "webhook_endpoint.url"),
    ] {
        let refused = firm_a
            .create_webhook_endpoint(CreateWebhookEndpointRequest {
                parent: w.partner_a.clone(),
                webhook_endpoint: Some(WebhookEndpoint {
                    url: url.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await;
        assert_bad_field(refused, field);
    }
    let refused = firm_a
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            parent: w.partner_a.clone(),
            webhook_endpoint: Some(WebhookEndpoint {
                url: r.url.clone(),
                event_types: vec!["IssueReported".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await;
    assert_bad_field(refused, "webhook_endpoint.event_types[0]");
    let refused = firm_a
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            webhook_endpoint: Some(WebhookEndpoint {
                name: name.clone(),
                url: "https://192.168.1.1/".into(),
                ..Default::default()
            }),
            update_mask: mask(&["url"]),
        })
        .await;
    assert_bad_field(refused, "webhook_endpoint.url");
    assert_eq!(endpoint(&env, &name).await.url, r.url);
    assert_eq!(
        list(key(&w.key_a))
            .await
            .unwrap()
            .into_inner()
            .webhook_endpoints
            .len(),
        1
    );

    // A street admin may disable any partner's endpoint; its partner may
    // delete it, with its deliveries.
    let disabled = env
        .admin()
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            webhook_endpoint: Some(WebhookEndpoint {
                name: name.clone(),
                state: WebhookEndpointState::Disabled as i32,
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(disabled.state, WebhookEndpointState::Disabled as i32);
    assert_eq!(disabled.disabled_reason, "disabled by a street admin");
    // Its partner may not overrule that.
    let overruled = firm_a
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            webhook_endpoint: Some(WebhookEndpoint {
                name: name.clone(),
                state: WebhookEndpointState::Enabled as i32,
                ..Default::default()
            }),
            update_mask: mask(&["state"]),
        })
        .await;
    assert_status(overruled, Code::PermissionDenied, "FORBIDDEN");
    firm_a
        .delete_webhook_endpoint(DeleteWebhookEndpointRequest {
            name: name.clone(),
            etag: disabled.etag,
        })
        .await
        .unwrap();
    let gone = firm_a
        .get_webhook_endpoint(GetWebhookEndpointRequest { name })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);

    // Twenty endpoints a partner at most.
    for _ in 0..20 {
        create(&env, key(&w.key_a), &w.partner_a, &r.url, &[]).await;
    }
    let full = firm_a
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            parent: w.partner_a.clone(),
            webhook_endpoint: Some(WebhookEndpoint {
                url: r.url.clone(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await;
    assert_status(full, Code::FailedPrecondition, "WEBHOOK_ENDPOINTS_FULL");
}
