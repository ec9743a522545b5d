//! One channel type for every caller: the CLI's `tonic` connection with its
//! credential, and the console's in-process door into the gateway, both
//! boxed into a [`Link`] so that importers and exporters are written once.

use bytes::Bytes;
use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Service, ServiceExt};

/// A gRPC channel, whoever provides it.
pub type Link = BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    LinkError,
>;

/// A channel's failure, in words. A concrete type rather than a boxed
/// error: futures generic over a boxed error's lifetime cannot be proven
/// `Send`, and the console runs imports on tasks of their own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LinkError(String);

/// Boxes any gRPC channel into a [`Link`].
pub fn link<S, B>(service: S) -> Link
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    BoxCloneSyncService::new(
        service
            .map_response(|r: http::Response<B>| r.map(tonic::body::Body::new))
            .map_err(|e: S::Error| LinkError(e.into().to_string())),
    )
}

/// The services' clients over one [`Link`].
#[derive(Clone)]
pub struct Clients {
    /// Places, persons, organisations.
    pub organizations: OrganizationsServiceClient<Link>,
    /// Issues and their statistics.
    pub issues: IssuesServiceClient<Link>,
    /// Volunteers and their hours.
    pub volunteers: VolunteersServiceClient<Link>,
    /// Councils and their statistics.
    pub deliberation: DeliberationServiceClient<Link>,
}

impl Clients {
    /// Every client over `link`.
    pub fn new(link: Link) -> Self {
        Clients {
            organizations: OrganizationsServiceClient::new(link.clone()),
            issues: IssuesServiceClient::new(link.clone()),
            volunteers: VolunteersServiceClient::new(link.clone()),
            deliberation: DeliberationServiceClient::new(link),
        }
    }
}

/// Calls `call` again while its failure is one a retry may mend (the
/// service unavailable or overloaded, a transaction aborted), waiting
/// longer each time, at most five times in all. `call` must send the same
/// request each time: with the same request id a retried create is
/// answered as the first one was, never done twice.
pub async fn retried<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let mut wait = std::time::Duration::from_millis(200);
    for attempt in 1.. {
        match call().await {
            Err(s) if attempt < 5 && mendable(s.code()) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

/// Codes a retry may mend.
fn mendable(code: tonic::Code) -> bool {
    use tonic::Code::*;
    matches!(code, Unavailable | ResourceExhausted | Aborted)
}
