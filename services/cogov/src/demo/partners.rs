//! The demo's partners, at every start of `cogov up`: a property firm and
//! an area unit registered at the gateway, each with a fresh key (the
//! previous run's keys are revoked), for the newcomer to call with.

use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::{ListOrganizationsRequest, Organization};
use tonic::service::Interceptor;
use tonic::transport::Channel;

use super::err;

/// A key printed for the newcomer.
#[derive(Debug, Clone)]
pub struct DemoKey {
    /// What it is, in words.
    pub label: &'static str,
    /// The organisation's name.
    pub organization: String,
    /// The environment variable the banner suggests.
    pub variable: &'static str,
    /// The key.
    pub secret: String,
}

/// Calls the gateway with a staff token.
#[derive(Clone)]
pub(super) struct Bearer(pub(super) String);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.0)
                .parse()
                .map_err(|_| tonic::Status::internal("token is not ASCII"))?,
        );
        Ok(request)
    }
}

const KEY_NAME: &str = "cogov up demo key";

/// Registers the demo partners if need be and issues this run's keys.
pub async fn partner_keys(gateway: Channel, token: &str) -> Result<Vec<DemoKey>, String> {
    let bearer = Bearer(token.to_owned());
    let mut orgs = OrganizationsServiceClient::with_interceptor(gateway.clone(), bearer.clone());
    let mut admin = GatewayServiceClient::with_interceptor(gateway, bearer);
    let mut out = Vec::new();
    for (label, variable, org_kind, partner_kind) in [
        (
            "property firm key",
            "COGOV_FIRM_KEY",
            "PROPERTY_FIRM",
            PartnerKind::PropertyFirm,
        ),
        (
            "area unit key",
            "COGOV_UNIT_KEY",
            "SOCIAL_UNIT",
            PartnerKind::SocialUnit,
        ),
    ] {
        let found: Option<Organization> = orgs
            .list_organizations(ListOrganizationsRequest {
                page_size: 1,
                filter: format!("kind = {org_kind}"),
                ..Default::default()
            })
            .await
            .map_err(err("finding a demo partner"))?
            .into_inner()
            .organizations
            .into_iter()
            .next();
        let Some(org) = found else { continue };
        let existing = admin
            .list_partners(ListPartnersRequest {
                filter: format!("organization = {}", org.name),
                ..Default::default()
            })
            .await
            .map_err(err("listing partners"))?
            .into_inner()
            .partners
            .into_iter()
            .next();
        let partner = match existing {
            Some(p) => p,
            None => admin
                .create_partner(CreatePartnerRequest {
                    partner: Some(Partner {
                        organization: org.name.clone(),
                        display_name: org.display_name.clone(),
                        kind: partner_kind as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map_err(err("registering a demo partner"))?
                .into_inner(),
        };
        let old = admin
            .list_api_keys(ListApiKeysRequest {
                parent: partner.name.clone(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map_err(err("listing demo keys"))?
            .into_inner()
            .api_keys;
        for key in old
            .into_iter()
            .filter(|k| k.display_name == KEY_NAME && k.state == ApiKeyState::Active as i32)
        {
            admin
                .revoke_api_key(RevokeApiKeyRequest { name: key.name })
                .await
                .map_err(err("revoking an old demo key"))?;
        }
        let issued = admin
            .create_api_key(CreateApiKeyRequest {
                parent: partner.name,
                api_key: Some(ApiKey {
                    display_name: KEY_NAME.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .map_err(err("issuing a demo key"))?
            .into_inner();
        out.push(DemoKey {
            label,
            organization: org.display_name,
            variable,
            secret: issued.secret,
        });
    }
    Ok(out)
}
