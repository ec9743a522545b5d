//! Partners: the list, registering one, and its API keys: issue, rotate
//! (the old key keeps working for the overlap), revoke. A new key's secret
//! is shown once, on the page that answers the form, and never again. The
//! partner's webhook endpoints and their recent deliveries are on its page
//! too; staff may disable (and enable again) an endpoint, while the
//! partner's system registers and tests its own.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::gateway::*;
use http::StatusCode;
use serde::Deserialize;

use super::{Names, path_id};
use crate::console::view::{Failure, Frame, id_of, languages, render, time};
use crate::console::{Shared, Staff};

/// Partner kinds, as the form offers them.
const KINDS: [PartnerKind; 3] = [
    PartnerKind::PropertyFirm,
    PartnerKind::SocialUnit,
    PartnerKind::OwnersCommittee,
];

#[derive(Template)]
#[template(path = "console/partners.html")]
struct PartnersPage {
    f: Frame,
    partners: Vec<PartnerRow>,
    organizations: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    request_id: String,
}

struct PartnerRow {
    id: String,
    display_name: String,
    organization: String,
    kind: String,
    state: String,
}

/// GET /console/partners.
pub async fn list(State(_c): State<Shared>, staff: Staff) -> Result<Response, Failure> {
    let f = Frame::new(&staff, "partners");
    let (names, partners) = tokio::try_join!(Names::load(&staff.calls), async {
        staff
            .calls
            .gateway()
            .list_partners(ListPartnersRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().partners)
    })?;
    let view = PartnersPage {
        partners: partners
            .iter()
            .map(|p| PartnerRow {
                id: id_of(&p.name).to_owned(),
                display_name: p.display_name.clone(),
                organization: names.of(&p.organization),
                kind: f.t.label(
                    PartnerKind::try_from(p.kind)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
                state: f.t.label(
                    PartnerState::try_from(p.state)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
            })
            .collect(),
        organizations: names.collection("organizations"),
        kinds: KINDS
            .iter()
            .map(|k| (k.as_str_name().to_owned(), f.t.label(k.as_str_name())))
            .collect(),
        request_id: uuid::Uuid::new_v4().to_string(),
        f,
    };
    Ok(render(&view))
}

/// The form that registers a partner.
#[derive(Deserialize)]
pub struct NewPartner {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    contact_email: String,
}

/// POST /console/partners.
pub async fn create(
    State(_c): State<Shared>,
    staff: Staff,
    Form(form): Form<NewPartner>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    let partner = staff
        .calls
        .gateway()
        .create_partner(CreatePartnerRequest {
            partner: Some(Partner {
                organization: form.organization,
                display_name: form.display_name,
                kind: PartnerKind::from_str_name(&form.kind).map_or(0, |k| k as i32),
                contact_email: form.contact_email,
                ..Default::default()
            }),
            request_id: form.request_id,
        })
        .await
        .map_err(|s| Failure::from(s).back_to("/console/partners"))?
        .into_inner();
    Ok(Redirect::to(&format!("/console/partners/{}", id_of(&partner.name))).into_response())
}

#[derive(Template)]
#[template(path = "console/partner.html")]
struct PartnerPage {
    f: Frame,
    id: String,
    partner: Partner,
    organization: String,
    kind: String,
    keys: Vec<KeyRow>,
    endpoints: Vec<EndpointRow>,
    /// A secret just issued: shown on this page only.
    new_secret: String,
    request_id: String,
}

struct KeyRow {
    id: String,
    display_name: String,
    prefix: String,
    state: String,
    active: bool,
    expires: String,
    last_used: String,
    created: String,
}

struct EndpointRow {
    id: String,
    url: String,
    state: String,
    enabled: bool,
    disabled_reason: String,
    event_types: String,
    failing_since: String,
    deliveries: Vec<DeliveryRow>,
}

struct DeliveryRow {
    webhook_id: String,
    event_type: String,
    state: String,
    attempts: i32,
    code: String,
    when: String,
    error: String,
}

/// Deliveries shown per endpoint.
const RECENT_DELIVERIES: i32 = 10;

/// The partner's endpoints, each with its recent deliveries.
async fn endpoints(
    staff: &Staff,
    partner: &str,
    f: &Frame,
) -> Result<Vec<EndpointRow>, tonic::Status> {
    let endpoints = staff
        .calls
        .gateway()
        .list_webhook_endpoints(ListWebhookEndpointsRequest {
            parent: partner.to_owned(),
            page_size: 50,
            page_token: String::new(),
        })
        .await?
        .into_inner()
        .webhook_endpoints;
    let recent = futures_util::future::try_join_all(endpoints.iter().map(|e| async {
        staff
            .calls
            .gateway()
            .list_webhook_deliveries(ListWebhookDeliveriesRequest {
                parent: e.name.clone(),
                page_size: RECENT_DELIVERIES,
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().webhook_deliveries)
    }))
    .await?;
    Ok(endpoints
        .into_iter()
        .zip(recent)
        .map(|(e, deliveries)| {
            let state = WebhookEndpointState::try_from(e.state).unwrap_or_default();
            EndpointRow {
                id: id_of(&e.name).to_owned(),
                state: f.t.label(state.as_str_name()),
                enabled: state == WebhookEndpointState::Enabled,
                disabled_reason: e.disabled_reason,
                event_types: if e.event_types.is_empty() {
                    f.t.get("webhooks.all_types").to_owned()
                } else {
                    e.event_types.join(", ")
                },
                failing_since: time(e.failing_since.as_ref()),
                url: e.url,
                deliveries: deliveries
                    .into_iter()
                    .map(|d| DeliveryRow {
                        state: f.t.label(
                            WebhookDeliveryState::try_from(d.state)
                                .unwrap_or_default()
                                .as_str_name(),
                        ),
                        code: if d.response_code == 0 {
                            String::new()
                        } else {
                            d.response_code.to_string()
                        },
                        when: time(d.last_attempt_time.as_ref()),
                        webhook_id: d.webhook_id,
                        event_type: d.event_type,
                        attempts: d.attempts,
                        error: d.last_error,
                    })
                    .collect(),
            }
        })
        .collect())
}

async fn partner_page(
    staff: &Staff,
    id: uuid::Uuid,
    new_secret: String,
) -> Result<Response, Failure> {
    let mut f = Frame::new(staff, "partners");
    // It also answers POSTs: the language switch comes back to the page.
    f.languages = languages(f.t, &format!("/console/partners/{id}"));
    let name = format!("partners/{id}");
    let calls = &staff.calls;
    let (names, partner, keys, endpoints) = tokio::try_join!(
        Names::load(calls),
        async {
            calls
                .gateway()
                .get_partner(GetPartnerRequest { name: name.clone() })
                .await
                .map(|r| r.into_inner())
        },
        async {
            calls
                .gateway()
                .list_api_keys(ListApiKeysRequest {
                    parent: name.clone(),
                    page_size: 200,
                    page_token: String::new(),
                })
                .await
                .map(|r| r.into_inner().api_keys)
        },
        endpoints(staff, &name, &f),
    )?;
    let view = PartnerPage {
        id: id.to_string(),
        organization: names.of(&partner.organization),
        kind: f.t.label(
            PartnerKind::try_from(partner.kind)
                .unwrap_or_default()
                .as_str_name(),
        ),
        keys: keys
            .iter()
            .map(|k| {
                let state = ApiKeyState::try_from(k.state).unwrap_or_default();
                KeyRow {
                    id: id_of(&k.name).to_owned(),
                    display_name: k.display_name.clone(),
                    prefix: k.prefix.clone(),
                    state: f.t.label(state.as_str_name()),
                    active: state == ApiKeyState::Active,
                    expires: time(k.expire_time.as_ref()),
                    last_used: time(k.last_use_time.as_ref()),
                    created: time(k.create_time.as_ref()),
                }
            })
            .collect(),
        endpoints,
        partner,
        new_secret,
        request_id: uuid::Uuid::new_v4().to_string(),
        f,
    };
    Ok(render(&view))
}

/// GET /console/partners/{id}.
pub async fn page(
    State(_c): State<Shared>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    partner_page(&staff, path_id(&id)?, String::new()).await
}

/// The form that issues a key.
#[derive(Deserialize)]
pub struct NewKey {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    display_name: String,
}

/// POST /console/partners/{id}/keys: issues a key and shows its secret once.
pub async fn create_key(
    State(_c): State<Shared>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<NewKey>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    let back = format!("/console/partners/{id}");
    let created = staff
        .calls
        .gateway()
        .create_api_key(CreateApiKeyRequest {
            parent: format!("partners/{id}"),
            api_key: Some(ApiKey {
                display_name: form.display_name,
                ..Default::default()
            }),
            request_id: form.request_id,
        })
        .await
        .map_err(|s| Failure::from(s).back_to(back.clone()))?
        .into_inner();
    partner_page(&staff, id, created.secret).await
}

/// The form that rotates or revokes a key.
#[derive(Deserialize)]
pub struct KeyAction {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
}

/// POST /console/partners/{id}/keys/{key}/{rotate|revoke}.
pub async fn key_action(
    State(_c): State<Shared>,
    staff: Staff,
    Path((id, key, action)): Path<(String, String, String)>,
    Form(form): Form<KeyAction>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    let key = path_id(&key)?;
    let name = format!("partners/{id}/keys/{key}");
    let back = format!("/console/partners/{id}");
    let mut gateway = staff.calls.gateway();
    match action.as_str() {
        "revoke" => {
            gateway
                .revoke_api_key(RevokeApiKeyRequest { name })
                .await
                .map_err(|s| Failure::from(s).back_to(back.clone()))?;
            Ok(Redirect::to(&back).into_response())
        }
        "rotate" => {
            let rotated = gateway
                .rotate_api_key(RotateApiKeyRequest {
                    name,
                    overlap: None,
                    request_id: form.request_id,
                })
                .await
                .map_err(|s| Failure::from(s).back_to(back.clone()))?
                .into_inner();
            partner_page(&staff, id, rotated.secret).await
        }
        _ => Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    }
}

/// POST /console/partners/{id}/webhooks/{endpoint}/{enable|disable}.
pub async fn webhook_action(
    State(_c): State<Shared>,
    staff: Staff,
    Path((id, endpoint, action)): Path<(String, String, String)>,
    Form(form): Form<KeyAction>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    let endpoint = path_id(&endpoint)?;
    let back = format!("/console/partners/{id}");
    let state = match action.as_str() {
        "enable" => WebhookEndpointState::Enabled,
        "disable" => WebhookEndpointState::Disabled,
        _ => return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    };
    staff
        .calls
        .gateway()
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            webhook_endpoint: Some(WebhookEndpoint {
                name: format!("partners/{id}/webhookEndpoints/{endpoint}"),
                state: state as i32,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["state".into()],
            }),
        })
        .await
        .map_err(|s| Failure::from(s).back_to(back.clone()))?;
    Ok(Redirect::to(&back).into_response())
}
