//! The console calls the services as the signed-in staff member, through
//! the gateway's own door ([`Front`]): the same method policy, limits,
//! audit and forwarding as any gRPC caller, in-process, with the principal
//! from the session ([`SignedIn`]) in place of a credential.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use cogov_kit::auth::Principal;
use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::residents_service_client::ResidentsServiceClient;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::Service;

use crate::front::{Front, SignedIn, Tracked};

/// A gRPC channel into the gateway's door as one staff member.
#[derive(Clone)]
pub struct AsStaff {
    front: Arc<Front>,
    signed_in: SignedIn,
}

impl Service<Request<tonic::body::Body>> for AsStaff {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Tracked>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        let front = self.front.clone();
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(self.signed_in.clone());
        Box::pin(async move { Ok(front.handle(request).await) })
    }
}

/// The services' clients, as one staff member.
#[derive(Clone)]
pub struct Calls(AsStaff);

impl Calls {
    /// Calls as `principal`, from the browser at `peer`.
    pub fn new(front: Arc<Front>, principal: Principal, peer: String) -> Self {
        Calls(AsStaff {
            front,
            signed_in: SignedIn { principal, peer },
        })
    }

    /// Who the calls are made as.
    pub fn principal(&self) -> &Principal {
        &self.0.signed_in.principal
    }

    /// IssuesService.
    pub fn issues(&self) -> IssuesServiceClient<AsStaff> {
        IssuesServiceClient::new(self.0.clone())
    }

    /// OrganizationsService.
    pub fn organizations(&self) -> OrganizationsServiceClient<AsStaff> {
        OrganizationsServiceClient::new(self.0.clone())
    }

    /// VolunteersService.
    pub fn volunteers(&self) -> VolunteersServiceClient<AsStaff> {
        VolunteersServiceClient::new(self.0.clone())
    }

    /// ResidentsService (the gateway's own).
    pub fn residents(&self) -> ResidentsServiceClient<AsStaff> {
        ResidentsServiceClient::new(self.0.clone())
    }

    /// DeliberationService.
    pub fn deliberation(&self) -> DeliberationServiceClient<AsStaff> {
        DeliberationServiceClient::new(self.0.clone())
    }

    /// GatewayService: partners, keys, audit.
    pub fn gateway(&self) -> GatewayServiceClient<AsStaff> {
        GatewayServiceClient::new(self.0.clone())
    }
}
