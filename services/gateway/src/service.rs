//! The gateway's own API. The door ([`crate::front`]) has authenticated
//! the caller and checked the method policy before a call gets here; each
//! RPC hands the request to its module.

use cogov_kit::auth::{self, Principal};
use cogov_kit::names;
use cogov_proto::gateway::gateway_service_server::GatewayService;
use cogov_proto::gateway::*;
use tonic::{Request, Response, Status};

use crate::front::PartnerRecord;
use crate::webhooks::{deliveries, endpoints};
use crate::{Gateway, audit, events, keys, partners, staff_accounts};

macro_rules! read {
    ($self:ident, $request:ident, $handler:path) => {{
        let principal = auth::principal(&$request)?;
        Ok(Response::new(
            $handler($self, &principal, $request.into_inner()).await?,
        ))
    }};
}

macro_rules! act {
    ($self:ident, $request:ident, $handler:path) => {{
        let principal = auth::principal(&$request)?;
        Ok(Response::new(
            $handler($self, &principal, &principal, $request.into_inner()).await?,
        ))
    }};
}

/// GetCaller: the principal and, for partners, the reach right now.
async fn caller(
    gw: &Gateway,
    principal: &Principal,
    partner: Option<PartnerRecord>,
) -> cogov_kit::Result<Caller> {
    let mut out = Caller {
        principal: Some(principal.to_proto()),
        ..Default::default()
    };
    match principal {
        Principal::StreetAdmin { .. } | Principal::Service { .. } => out.all_places = true,
        Principal::CommunityAdmin { community, .. } => {
            out.communities = vec![names::format("communities", *community)];
        }
        Principal::Partner { organization, .. } => {
            let reach = gw.directory.reach(*organization).await?;
            out.communities = reach
                .communities
                .iter()
                .map(|c| names::format("communities", *c))
                .collect();
            out.courtyards = reach
                .courtyards
                .iter()
                .map(|c| names::format("courtyards", *c))
                .collect();
            out.partner = partner.map(|p| partners::name(p.0)).unwrap_or_default();
        }
        // A resident: where they live.
        Principal::Resident { person, .. } => {
            if let Some(p) = gw.directory.person(*person).await? {
                out.communities = vec![names::format("communities", p.community)];
                out.courtyards = p
                    .courtyard
                    .map(|c| names::format("courtyards", c))
                    .into_iter()
                    .collect();
            }
        }
    }
    Ok(out)
}

#[tonic::async_trait]
impl GatewayService for Gateway {
    async fn get_caller(
        &self,
        request: Request<GetCallerRequest>,
    ) -> Result<Response<Caller>, Status> {
        let principal = auth::principal(&request)?;
        let partner = request.extensions().get::<PartnerRecord>().copied();
        Ok(Response::new(caller(self, &principal, partner).await?))
    }

    async fn create_partner(
        &self,
        request: Request<CreatePartnerRequest>,
    ) -> Result<Response<Partner>, Status> {
        act!(self, request, partners::create)
    }

    async fn get_partner(
        &self,
        request: Request<GetPartnerRequest>,
    ) -> Result<Response<Partner>, Status> {
        read!(self, request, partners::get)
    }

    async fn list_partners(
        &self,
        request: Request<ListPartnersRequest>,
    ) -> Result<Response<ListPartnersResponse>, Status> {
        read!(self, request, partners::list)
    }

    async fn update_partner(
        &self,
        request: Request<UpdatePartnerRequest>,
    ) -> Result<Response<Partner>, Status> {
        read!(self, request, partners::update)
    }

    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        act!(self, request, keys::create)
    }

    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        read!(self, request, keys::list)
    }

    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<ApiKey>, Status> {
        read!(self, request, keys::revoke)
    }

    async fn rotate_api_key(
        &self,
        request: Request<RotateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        act!(self, request, keys::rotate)
    }

    async fn create_staff_account(
        &self,
        request: Request<CreateStaffAccountRequest>,
    ) -> Result<Response<StaffAccount>, Status> {
        act!(self, request, staff_accounts::create)
    }

    async fn list_staff_accounts(
        &self,
        request: Request<ListStaffAccountsRequest>,
    ) -> Result<Response<ListStaffAccountsResponse>, Status> {
        read!(self, request, staff_accounts::list)
    }

    async fn update_staff_account(
        &self,
        request: Request<UpdateStaffAccountRequest>,
    ) -> Result<Response<StaffAccount>, Status> {
        read!(self, request, staff_accounts::update)
    }

    async fn delete_staff_account(
        &self,
        request: Request<DeleteStaffAccountRequest>,
    ) -> Result<Response<()>, Status> {
        read!(self, request, staff_accounts::delete)
    }

    async fn list_audit_records(
        &self,
        request: Request<ListAuditRecordsRequest>,
    ) -> Result<Response<ListAuditRecordsResponse>, Status> {
        read!(self, request, audit::list)
    }

    type WatchEventsStream =
        tokio_stream::wrappers::ReceiverStream<Result<WatchEventsResponse, Status>>;

    async fn watch_events(
        &self,
        request: Request<WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let principal = auth::principal(&request)?;
        let rx = events::watch(self, &principal, request.into_inner()).await?;
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn create_webhook_endpoint(
        &self,
        request: Request<CreateWebhookEndpointRequest>,
    ) -> Result<Response<WebhookEndpointSecret>, Status> {
        act!(self, request, endpoints::create)
    }

    async fn get_webhook_endpoint(
        &self,
        request: Request<GetWebhookEndpointRequest>,
    ) -> Result<Response<WebhookEndpoint>, Status> {
        read!(self, request, endpoints::get)
    }

    async fn list_webhook_endpoints(
        &self,
        request: Request<ListWebhookEndpointsRequest>,
    ) -> Result<Response<ListWebhookEndpointsResponse>, Status> {
        read!(self, request, endpoints::list)
    }

    async fn update_webhook_endpoint(
        &self,
        request: Request<UpdateWebhookEndpointRequest>,
    ) -> Result<Response<WebhookEndpoint>, Status> {
        read!(self, request, endpoints::update)
    }

    async fn delete_webhook_endpoint(
        &self,
        request: Request<DeleteWebhookEndpointRequest>,
    ) -> Result<Response<()>, Status> {
        read!(self, request, endpoints::delete)
    }

    async fn rotate_webhook_secret(
        &self,
        request: Request<RotateWebhookSecretRequest>,
    ) -> Result<Response<WebhookEndpointSecret>, Status> {
        act!(self, request, endpoints::rotate)
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<ListWebhookDeliveriesRequest>,
    ) -> Result<Response<ListWebhookDeliveriesResponse>, Status> {
        read!(self, request, deliveries::list)
    }

    async fn redeliver_webhook_delivery(
        &self,
        request: Request<RedeliverWebhookDeliveryRequest>,
    ) -> Result<Response<WebhookDelivery>, Status> {
        read!(self, request, deliveries::redeliver)
    }

    async fn send_test_webhook_event(
        &self,
        request: Request<SendTestWebhookEventRequest>,
    ) -> Result<Response<WebhookDelivery>, Status> {
        act!(self, request, endpoints::send_test)
    }
}
