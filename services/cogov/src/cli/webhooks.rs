//! `cogov webhooks …`: a partner's webhook endpoints and their
//! deliveries. A partner manages its own (the partner is found from its
//! key); street admins name the partner with `--partner`.

use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::{Bearer, Session, failed, short, table};

type Client = GatewayServiceClient<InterceptedService<Channel, Bearer>>;

/// Webhook endpoints and deliveries.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the partner's endpoints.
    List {
        /// `partners/{id}`; the caller's own partner when unset.
        #[arg(long)]
        partner: Option<String>,
    },
    /// Register an endpoint; its signing secret is printed this once.
    Create {
        /// `https://…`.
        url: String,
        /// `partners/{id}`; the caller's own partner when unset.
        #[arg(long)]
        partner: Option<String>,
        /// An event type wanted (repeat it); every type when none.
        #[arg(long = "event-type")]
        event_types: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Enable an endpoint (again).
    Enable {
        /// `partners/{id}/webhookEndpoints/{id}`.
        endpoint: String,
    },
    /// Disable an endpoint: nothing is delivered to it.
    Disable {
        /// `partners/{id}/webhookEndpoints/{id}`.
        endpoint: String,
    },
    /// Delete an endpoint and its deliveries.
    Delete {
        /// `partners/{id}/webhookEndpoints/{id}`.
        endpoint: String,
    },
    /// Give an endpoint a new secret, printed this once; the old one signs
    /// beside it for the overlap.
    Rotate {
        /// `partners/{id}/webhookEndpoints/{id}`.
        endpoint: String,
        /// Hours the old secret keeps signing, 0 to 168.
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
    },
    /// Deliver a test event to an endpoint now.
    Test {
        /// `partners/{id}/webhookEndpoints/{id}`.
        endpoint: String,
    },
    /// An endpoint's deliveries, newest first.
    Deliveries {
        /// `partners/{id}/webhookEndpoints/{id}`.
        endpoint: String,
        /// Only `pending`, `succeeded` or `failed` ones.
        #[arg(long)]
        state: Option<String>,
    },
    /// Deliver again now, with the same `webhook-id`.
    Redeliver {
        /// `partners/{id}/webhookEndpoints/{id}/deliveries/{id}`.
        delivery: String,
    },
}

fn endpoint_rows(endpoints: &[WebhookEndpoint]) -> comfy_table::Table {
    let mut t = table(&["NAME", "STATE", "URL", "EVENT TYPES", "FAILING SINCE"]);
    for e in endpoints {
        let mut state = short(
            WebhookEndpointState::try_from(e.state)
                .unwrap_or_default()
                .as_str_name(),
            "WEBHOOK_ENDPOINT_STATE_",
        );
        if !e.disabled_reason.is_empty() {
            state = format!("{state} ({})", e.disabled_reason);
        }
        t.add_row(vec![
            e.name.clone(),
            state,
            e.url.clone(),
            if e.event_types.is_empty() {
                "all in reach".to_owned()
            } else {
                e.event_types.join(", ")
            },
            time(e.failing_since.as_ref()),
        ]);
    }
    t
}

fn delivery_rows(deliveries: &[WebhookDelivery]) -> comfy_table::Table {
    let mut t = table(&[
        "WEBHOOK ID",
        "STATE",
        "EVENT TYPE",
        "ATTEMPTS",
        "CODE",
        "NEXT ATTEMPT",
        "LAST ERROR",
    ]);
    for d in deliveries {
        t.add_row(vec![
            d.webhook_id.clone(),
            short(
                WebhookDeliveryState::try_from(d.state)
                    .unwrap_or_default()
                    .as_str_name(),
                "WEBHOOK_DELIVERY_STATE_",
            ),
            d.event_type.clone(),
            d.attempts.to_string(),
            d.response_code.to_string(),
            time(d.next_attempt_time.as_ref()),
            d.last_error.clone(),
        ]);
    }
    t
}

fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(cogov_kit::convert::from_timestamp)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The partner named, or the caller's own.
async fn partner(c: &mut Client, named: Option<String>) -> Result<String, String> {
    if let Some(p) = named {
        return Ok(p);
    }
    let caller = c
        .get_caller(GetCallerRequest {})
        .await
        .map_err(failed("finding the caller's partner"))?
        .into_inner();
    if caller.partner.is_empty() {
        return Err("not a partner's key: name the partner with --partner partners/{id}".into());
    }
    Ok(caller.partner)
}

async fn set_state(
    c: &mut Client,
    endpoint: String,
    state: WebhookEndpointState,
) -> Result<WebhookEndpoint, String> {
    Ok(c.update_webhook_endpoint(UpdateWebhookEndpointRequest {
        webhook_endpoint: Some(WebhookEndpoint {
            name: endpoint,
            state: state as i32,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["state".into()],
        }),
    })
    .await
    .map_err(failed("updating the endpoint"))?
    .into_inner())
}

fn print_secret(s: &Session, r: &WebhookEndpointSecret) -> Result<(), String> {
    s.print("cogov.gateway.v1.WebhookEndpointSecret", r, || {
        endpoint_rows(r.webhook_endpoint.as_slice())
    })?;
    if !s.json() {
        println!(
            "\nThe signing secret, shown this once (verify `webhook-signature` with it):\n\n  {}\n",
            r.secret
        );
    }
    Ok(())
}

fn print_delivery(s: &Session, d: &WebhookDelivery) -> Result<(), String> {
    s.print("cogov.gateway.v1.WebhookDelivery", d, || {
        delivery_rows(std::slice::from_ref(d))
    })
}

fn print_endpoint(s: &Session, e: &WebhookEndpoint) -> Result<(), String> {
    s.print("cogov.gateway.v1.WebhookEndpoint", e, || {
        endpoint_rows(std::slice::from_ref(e))
    })
}

/// Runs `cogov webhooks …`.
pub async fn run(s: &Session, command: Command) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let mut c = GatewayServiceClient::with_interceptor(channel, bearer);
    match command {
        Command::List { partner: named } => {
            let parent = partner(&mut c, named).await?;
            let r = c
                .list_webhook_endpoints(ListWebhookEndpointsRequest {
                    parent,
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map_err(failed("listing endpoints"))?
                .into_inner();
            s.print("cogov.gateway.v1.ListWebhookEndpointsResponse", &r, || {
                endpoint_rows(&r.webhook_endpoints)
            })
        }
        Command::Create {
            url,
            partner: named,
            event_types,
            description,
        } => {
            let parent = partner(&mut c, named).await?;
            let r = c
                .create_webhook_endpoint(CreateWebhookEndpointRequest {
                    parent,
                    webhook_endpoint: Some(WebhookEndpoint {
                        url,
                        event_types,
                        description,
                        ..Default::default()
                    }),
                    request_id: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .map_err(failed("registering the endpoint"))?
                .into_inner();
            print_secret(s, &r)
        }
        Command::Enable { endpoint } => {
            let e = set_state(&mut c, endpoint, WebhookEndpointState::Enabled).await?;
            print_endpoint(s, &e)
        }
        Command::Disable { endpoint } => {
            let e = set_state(&mut c, endpoint, WebhookEndpointState::Disabled).await?;
            print_endpoint(s, &e)
        }
        Command::Delete { endpoint } => {
            c.delete_webhook_endpoint(DeleteWebhookEndpointRequest {
                name: endpoint.clone(),
                etag: String::new(),
            })
            .await
            .map_err(failed("deleting the endpoint"))?;
            if !s.json() {
                println!("deleted {endpoint}");
            }
            Ok(())
        }
        Command::Rotate {
            endpoint,
            overlap_hours,
        } => {
            let r = c
                .rotate_webhook_secret(RotateWebhookSecretRequest {
                    name: endpoint,
                    overlap: Some(prost_types::Duration {
                        seconds: overlap_hours.saturating_mul(3600),
                        nanos: 0,
                    }),
                    request_id: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .map_err(failed("rotating the secret"))?
                .into_inner();
            print_secret(s, &r)
        }
        Command::Test { endpoint } => {
            let d = c
                .send_test_webhook_event(SendTestWebhookEventRequest {
                    name: endpoint,
                    request_id: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .map_err(failed("sending a test event"))?
                .into_inner();
            print_delivery(s, &d)
        }
        Command::Deliveries { endpoint, state } => {
            let state = match state.as_deref() {
                None => WebhookDeliveryState::Unspecified,
                Some(word) => WebhookDeliveryState::from_str_name(&format!(
                    "WEBHOOK_DELIVERY_STATE_{}",
                    word.to_uppercase()
                ))
                .ok_or_else(|| format!("--state {word}: pending, succeeded or failed"))?,
            };
            let r = c
                .list_webhook_deliveries(ListWebhookDeliveriesRequest {
                    parent: endpoint,
                    page_size: 1000,
                    state: state as i32,
                    ..Default::default()
                })
                .await
                .map_err(failed("listing deliveries"))?
                .into_inner();
            s.print("cogov.gateway.v1.ListWebhookDeliveriesResponse", &r, || {
                delivery_rows(&r.webhook_deliveries)
            })
        }
        Command::Redeliver { delivery } => {
            let d = c
                .redeliver_webhook_delivery(RedeliverWebhookDeliveryRequest { name: delivery })
                .await
                .map_err(failed("redelivering"))?
                .into_inner();
            print_delivery(s, &d)
        }
    }
}
