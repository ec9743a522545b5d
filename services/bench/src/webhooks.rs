//! Webhook delivery: from a report's commit to its event arriving at
//! partners' HTTP endpoints, and deliveries a second under a burst. Five
//! partners reach the whole street; each registers 20 endpoints for
//! `IssueReported` (100 in all), served by one receiver on loopback that
//! notes when each event reaches each endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{Admin, Stack, ms, percentiles};

/// Partners, and endpoints each.
const PARTNERS: usize = 5;
const ENDPOINTS_EACH: usize = 20;
const ENDPOINTS: usize = PARTNERS * ENDPOINTS_EACH;

#[derive(Default)]
struct Arrivals {
    /// Each event's subject → when it reached each endpoint.
    by_subject: Mutex<HashMap<String, Vec<Instant>>>,
    total: Mutex<usize>,
    arrived: Notify,
}

async fn receive(
    State(arrivals): State<Arc<Arrivals>>,
    Path(_endpoint): Path<usize>,
    body: axum::body::Bytes,
) -> StatusCode {
    let now = Instant::now();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let subject = event["subject"].as_str().unwrap_or_default().to_owned();
    arrivals
        .by_subject
        .lock()
        .unwrap()
        .entry(subject)
        .or_default()
        .push(now);
    *arrivals.total.lock().unwrap() += 1;
    arrivals.arrived.notify_waiters();
    StatusCode::NO_CONTENT
}

impl Arrivals {
    /// Waits until `subject` has reached `n` endpoints; their times.
    async fn of(&self, subject: &str, n: usize) -> Vec<Instant> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let arrived = self.arrived.notified();
            if let Some(times) = self.by_subject.lock().unwrap().get(subject)
                && times.len() >= n
            {
                return times.clone();
            }
            tokio::time::timeout_at(deadline, arrived)
                .await
                .expect("every endpoint reached within 30 s");
        }
    }

    /// Waits until `n` deliveries have arrived in all.
    async fn total(&self, n: usize) -> Instant {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            let arrived = self.arrived.notified();
            if *self.total.lock().unwrap() >= n {
                return Instant::now();
            }
            tokio::time::timeout_at(deadline, arrived)
                .await
                .expect("every delivery within 10 minutes");
        }
    }
}

/// Five partners reaching every community, 20 endpoints each; their names.
async fn register(stack: &Stack, url: &str) -> Vec<String> {
    let mut o = OrganizationsServiceClient::with_interceptor(
        stack.gateway_channel.clone(),
        Admin::Bearer(stack.token.clone()),
    );
    let mut g = GatewayServiceClient::with_interceptor(
        stack.gateway_channel.clone(),
        Admin::Bearer(stack.token.clone()),
    );
    let mut communities: Vec<String> = stack
        .courtyards
        .iter()
        .map(|(_, c)| format!("communities/{c}"))
        .collect();
    communities.dedup();
    let mut endpoints = Vec::new();
    for p in 0..PARTNERS {
        let organization = o
            .create_organization(org::CreateOrganizationRequest {
                organization: Some(org::Organization {
                    display_name: format!("Unit {p}"),
                    kind: org::OrganizationKind::SocialUnit as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("an organisation")
            .into_inner()
            .name;
        o.create_agreement(org::CreateAgreementRequest {
            agreement: Some(org::Agreement {
                kind: org::AgreementKind::CoBuilding as i32,
                organization: organization.clone(),
                communities: communities.clone(),
                title: "co-building".into(),
                start_time: Some(cogov_kit::convert::timestamp(
                    chrono::Utc::now() - chrono::Duration::days(1),
                )),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("an agreement");
        let partner = g
            .create_partner(CreatePartnerRequest {
                partner: Some(Partner {
                    organization,
                    display_name: format!("Unit {p}"),
                    kind: PartnerKind::SocialUnit as i32,
                    ..Default::default()
                }),
                request_id: Uuid::new_v4().to_string(),
            })
            .await
            .expect("a partner")
            .into_inner()
            .name;
        for e in 0..ENDPOINTS_EACH {
            let created = g
                .create_webhook_endpoint(CreateWebhookEndpointRequest {
                    parent: partner.clone(),
                    webhook_endpoint: Some(WebhookEndpoint {
                        url: format!("{url}/{}", p * ENDPOINTS_EACH + e),
                        event_types: vec!["cogov.issues.v1.IssueReported".into()],
                        ..Default::default()
                    }),
                    request_id: Uuid::new_v4().to_string(),
                })
                .await
                .expect("an endpoint")
                .into_inner();
            endpoints.push(created.webhook_endpoint.unwrap_or_default().name);
        }
    }
    endpoints
}

/// Prints commit → delivery latency over `n` reports one at a time, and
/// deliveries a second over a burst of `burst` reports at concurrency 64;
/// deletes the endpoints after, so that nothing else is measured with
/// deliveries going on.
pub async fn measure(stack: &Stack, n: usize, burst: usize) {
    let arrivals = Arc::new(Arrivals::default());
    let app = axum::Router::new()
        .route("/hooks/{endpoint}", axum::routing::post(receive))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!(
        "http://{}/hooks",
        listener.local_addr().expect("an address")
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoints = register(stack, &url).await;

    let (mut first, mut all) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let issue = crate::events::report_one(stack, "webhook latency").await;
        let committed = Instant::now();
        let times = arrivals.of(&issue.name, ENDPOINTS).await;
        let earliest = times.iter().min().copied().unwrap_or(committed);
        let latest = times.iter().max().copied().unwrap_or(committed);
        first.push(earliest.saturating_duration_since(committed));
        all.push(latest.saturating_duration_since(committed));
    }
    let (p50, p99) = percentiles(first);
    println!(
        "| webhook delivery, commit to the first of {ENDPOINTS} endpoints | p50 {}, p99 {} |",
        ms(p50),
        ms(p99)
    );
    let (p50, p99) = percentiles(all);
    println!(
        "| webhook delivery, commit to the last of {ENDPOINTS} endpoints | p50 {}, p99 {} |",
        ms(p50),
        ms(p99)
    );

    const CONCURRENCY: usize = 64;
    let burst = burst / CONCURRENCY * CONCURRENCY;
    let before = *arrivals.total.lock().unwrap();
    let started = Instant::now();
    crate::writes(&stack.client, &stack.courtyards, burst, CONCURRENCY).await;
    let sent = Instant::now();
    let done = arrivals.total(before + burst * ENDPOINTS).await;
    println!(
        "| webhook deliveries under a burst of {burst} reports × {ENDPOINTS} endpoints | {:.0} deliveries/s; the last {:.1} s after the last report |",
        (burst * ENDPOINTS) as f64 / (done - started).as_secs_f64(),
        (done - sent).as_secs_f64()
    );

    let mut g = GatewayServiceClient::with_interceptor(
        stack.gateway_channel.clone(),
        Admin::Bearer(stack.token.clone()),
    );
    for name in endpoints {
        g.delete_webhook_endpoint(DeleteWebhookEndpointRequest {
            name,
            etag: String::new(),
        })
        .await
        .expect("deleting an endpoint");
    }
    server.abort();
}
