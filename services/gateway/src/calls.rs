//! The web pages (the staff console, the residents' app) call the services
//! as the signed-in person, through the gateway's own door ([`Front`]): the
//! same method policy, limits, audit and forwarding as any gRPC caller,
//! in-process, with the principal from the page's session ([`InProcess`])
//! in place of a credential.

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

use crate::front::{Front, InProcess, Tracked};

/// A gRPC channel into the gateway's door as one person (or nobody yet).
#[derive(Clone)]
pub struct InProcessChannel {
    front: Arc<Front>,
    in_process: InProcess,
}

impl Service<Request<tonic::body::Body>> for InProcessChannel {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Tracked>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        let front = self.front.clone();
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(self.in_process.clone());
        Box::pin(async move { Ok(front.handle(request).await) })
    }
}

/// The services' clients, as one person.
#[derive(Clone)]
pub struct Calls(InProcessChannel);

impl Calls {
    /// Calls as staff member `principal`, from the browser at `peer`.
    pub fn new(front: Arc<Front>, principal: Principal, peer: String) -> Self {
        Calls(InProcessChannel {
            front,
            in_process: InProcess {
                principal: Some(principal),
                session: None,
                peer,
            },
        })
    }

    /// Calls as resident `person` in their `session`, from `peer`.
    pub fn resident(
        front: Arc<Front>,
        person: uuid::Uuid,
        session: uuid::Uuid,
        peer: String,
    ) -> Self {
        Calls(InProcessChannel {
            front,
            in_process: InProcess {
                principal: Some(Principal::resident(person)),
                session: Some(session),
                peer,
            },
        })
    }

    /// Calls as nobody yet, from `peer`: the sign-in steps.
    pub fn anonymous(front: Arc<Front>, peer: String) -> Self {
        Calls(InProcessChannel {
            front,
            in_process: InProcess {
                principal: None,
                session: None,
                peer,
            },
        })
    }

    /// Who the calls are made as; nobody for the sign-in steps.
    pub fn principal(&self) -> Option<&Principal> {
        self.0.in_process.principal.as_ref()
    }

    /// Every service's client over one link, for spreadsheets in and out.
    pub fn sheets(&self) -> cogov_sheets::link::Clients {
        cogov_sheets::link::Clients::new(cogov_sheets::link::link(self.0.clone()))
    }

    /// IssuesService.
    pub fn issues(&self) -> IssuesServiceClient<InProcessChannel> {
        IssuesServiceClient::new(self.0.clone())
    }

    /// OrganizationsService.
    pub fn organizations(&self) -> OrganizationsServiceClient<InProcessChannel> {
        OrganizationsServiceClient::new(self.0.clone())
    }

    /// VolunteersService.
    pub fn volunteers(&self) -> VolunteersServiceClient<InProcessChannel> {
        VolunteersServiceClient::new(self.0.clone())
    }

    /// ResidentsService (the gateway's own).
    pub fn residents(&self) -> ResidentsServiceClient<InProcessChannel> {
        ResidentsServiceClient::new(self.0.clone())
    }

    /// DeliberationService.
    pub fn deliberation(&self) -> DeliberationServiceClient<InProcessChannel> {
        DeliberationServiceClient::new(self.0.clone())
    }

    /// GatewayService: partners, keys, audit.
    pub fn gateway(&self) -> GatewayServiceClient<InProcessChannel> {
        GatewayServiceClient::new(self.0.clone())
    }
}
