//! Partners: the list, registering one, and its API keys: issue, rotate
//! (the old key keeps working for the overlap), revoke. A new key's secret
//! is shown once, on the page that answers the form, and never again.

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
    let (names, partner, keys) = tokio::try_join!(
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
