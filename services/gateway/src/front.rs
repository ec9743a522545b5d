//! The door every call goes through: authenticate the caller (API key,
//! staff token or resident's access token; none for the sign-in steps),
//! check the method policy, apply the partner's rate limit and the
//! in-flight bound, fix the deadline, then hand the call to the gateway's
//! own APIs or forward it to the service that owns it — its message bytes
//! untouched, its metadata rebuilt on purpose (the caller's
//! `authorization` never leaves the gateway) with the principal signed for
//! the service. Mutating calls leave an audit record when they finish.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::metrics::grpc_status;
use cogov_kit::{Error, Result};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Full, Limited};
use tokio::sync::OwnedSemaphorePermit;
use tonic::body::Body;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tower::{Service, ServiceExt};

use crate::audit::{self, Entry, Sink};
use crate::credentials::{self, Credential};
use crate::policy::{self, Kinds};
use crate::residents::assisted;
use crate::{Gateway, keys, limits};

/// The partner record behind a partner principal, for the gateway's own
/// handlers.
#[derive(Debug, Clone, Copy)]
pub struct PartnerRecord(pub uuid::Uuid);

/// The session of a signed-in resident, for the gateway's own handlers.
#[derive(Debug, Clone, Copy)]
pub struct CurrentSession(pub uuid::Uuid);

/// The caller's address (`ip:port`), for the gateway's own handlers.
#[derive(Debug, Clone)]
pub struct CallerAddress(pub String);

/// Set by a handler on its response when the call signed someone in, so
/// that the audit record names them rather than an anonymous caller.
#[derive(Debug, Clone)]
pub struct SignedInAs(pub Principal);

/// Who a call's credential says the caller is.
#[derive(Debug, Clone)]
struct Authenticated {
    principal: Principal,
    partner: Option<crate::entity::partners::Model>,
    session: Option<uuid::Uuid>,
}

/// Who a call made in-process by the gateway's web pages is for: set on
/// requests the console and the residents' app make, in place of a
/// credential header. Requests from the network cannot carry it, since
/// extensions never cross the wire.
#[derive(Debug, Clone)]
pub struct InProcess {
    /// The signed-in staff member or resident; none for the sign-in steps.
    pub principal: Option<Principal>,
    /// A resident's session, for the RPCs that speak of "this session".
    pub session: Option<uuid::Uuid>,
    /// Their browser's address, for the audit log and the per-address
    /// limits.
    pub peer: String,
}

/// Headers that travel from the caller to the service; everything else is
/// dropped.
const FORWARDED: &[&str] = &[
    "content-type",
    "te",
    "grpc-encoding",
    "grpc-accept-encoding",
    "user-agent",
    "traceparent",
    "tracestate",
    "x-request-id",
];

/// The four services behind the gateway.
#[derive(Debug, Clone)]
pub struct Backends {
    /// Places, organisations, persons, reach.
    pub organizations: Channel,
    /// Issues.
    pub issues: Channel,
    /// Volunteers.
    pub volunteers: Channel,
    /// Deliberation.
    pub deliberation: Channel,
}

impl Backends {
    fn for_service(&self, service: &str) -> Option<&Channel> {
        match service {
            "cogov.organizations.v1.OrganizationsService" => Some(&self.organizations),
            "cogov.issues.v1.IssuesService" => Some(&self.issues),
            "cogov.volunteers.v1.VolunteersService" => Some(&self.volunteers),
            "cogov.deliberation.v1.DeliberationService" => Some(&self.deliberation),
            _ => None,
        }
    }
}

/// The gateway's own services, served in its process.
const LOCAL: [&str; 2] = [
    "cogov.gateway.v1.GatewayService",
    "cogov.gateway.v1.ResidentsService",
];

/// The door.
#[derive(Clone)]
pub struct Front {
    gw: Gateway,
    backends: Backends,
    local: tonic::service::Routes,
    sink: Sink,
}

impl Front {
    /// A door onto `backends` and the gateway's own APIs.
    pub fn new(gw: Gateway, backends: Backends, sink: Sink) -> Self {
        use cogov_proto::gateway::gateway_service_server::GatewayServiceServer;
        use cogov_proto::gateway::residents_service_server::ResidentsServiceServer;
        let max = gw.limits.settings().max_message_bytes;
        let local = tonic::service::Routes::new(
            GatewayServiceServer::new(gw.clone()).max_decoding_message_size(max),
        )
        .add_service(ResidentsServiceServer::new(gw.clone()).max_decoding_message_size(max));
        Self {
            gw,
            backends,
            local,
            sink,
        }
    }

    /// As an axum fallback service, shared with the console beside it.
    pub fn service(
        self: Arc<Self>,
    ) -> impl Service<
        Request<axum::body::Body>,
        Response = Response<Tracked>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + Sync
    + 'static {
        let front = self;
        tower::service_fn(move |req: Request<axum::body::Body>| {
            let front = front.clone();
            async move { Ok::<_, Infallible>(front.handle(req).await) }
        })
    }

    /// One call: policy, limits, authentication (or the web pages'
    /// [`InProcess`]), audit, forwarding.
    pub async fn handle(&self, req: Request<axum::body::Body>) -> Response<Tracked> {
        let started = Instant::now();
        let time = self.gw.ctx.clock.now();
        let path = req.uri().path().to_owned();
        let in_process = req.extensions().get::<InProcess>().cloned();
        let Some(rule) = policy::rule(&path) else {
            return refuse(tonic::Status::unimplemented(format!(
                "no such method {path}"
            )));
        };
        let permit = match self.gw.limits.enter() {
            Ok(p) => p,
            Err(e) => return refuse(e.into()),
        };
        let who = match in_process {
            Some(InProcess {
                principal: Some(principal),
                session,
                ..
            }) => Ok(Some(Authenticated {
                principal,
                partner: None,
                session,
            })),
            Some(InProcess {
                principal: None, ..
            }) => Ok(None),
            // The sign-in steps prove who calls in their messages: an
            // expired token sent along must not stop its own renewal.
            None if rule.kinds.contains(Kinds::PUBLIC) => Ok(None),
            None => self.authenticate(req.headers()).await,
        };
        let caller = match who {
            Ok(Some(caller)) => Some(caller),
            Ok(None) if rule.kinds.contains(Kinds::PUBLIC) => None,
            Ok(None) => return refuse(missing_credentials().into()),
            Err(e) => return refuse(e.into()),
        };
        // Staff at the service station, acting for a resident: from here on
        // the call is the resident's, with the staff member named in it.
        // (The sign-in steps have no caller: for them it means nothing.)
        let caller = match (caller, assisted::requested(req.headers())) {
            (caller, None) | (caller @ None, Some(_)) => caller,
            (Some(staff), Some(person)) => {
                match assisted::act_for(&self.gw, &staff.principal, person).await {
                    Ok(principal) => Some(Authenticated {
                        principal,
                        partner: None,
                        session: None,
                    }),
                    Err(e) => return refuse(e.into()),
                }
            }
        };
        let mut pending = rule.mutates.then(|| Pending {
            sink: self.sink.clone(),
            started,
            entry: Entry {
                principal: caller.as_ref().map(|c| c.principal.clone()),
                partner: caller
                    .as_ref()
                    .and_then(|c| c.partner.as_ref())
                    .map(|p| p.id),
                method: path.clone(),
                target: String::new(),
                code: 0,
                request_id: header(req.headers(), "x-request-id"),
                peer: peer(req.extensions()),
                time,
                duration: std::time::Duration::ZERO,
            },
        });
        let outcome = self
            .admit_and_forward(req, &path, rule.kinds, caller.as_ref(), &mut pending)
            .await;
        let response = match outcome {
            Ok(response) => response,
            Err(status) => {
                let (parts, body) = status.into_http::<Body>().into_parts();
                Response::from_parts(parts, body)
            }
        };
        track(response, permit, pending)
    }

    /// Who a request's credential says the caller is, for the gateway's
    /// plain-HTTP doors (the photo upload); `None` without one.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Option<Principal>> {
        Ok(self.authenticate(headers).await?.map(|a| a.principal))
    }

    async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Authenticated>> {
        let Some(credential) = credentials::from_headers(headers)? else {
            return Ok(None);
        };
        Ok(Some(match credential {
            Credential::Token(token) => Authenticated {
                principal: self.gw.staff_tokens.verify(token)?,
                partner: None,
                session: None,
            },
            Credential::ApiKey(key) => {
                let (principal, partner) =
                    keys::authenticate(&self.gw.ctx.db, key, self.gw.ctx.clock.now()).await?;
                Authenticated {
                    principal,
                    partner: Some(partner),
                    session: None,
                }
            }
            Credential::ResidentToken(token) => {
                let resident = self
                    .gw
                    .residents
                    .verify(&self.gw.ctx.db, &self.gw.ctx.clock, token)
                    .await?;
                Authenticated {
                    principal: resident.principal(),
                    partner: None,
                    session: Some(resident.session),
                }
            }
        }))
    }

    async fn admit_and_forward(
        &self,
        req: Request<axum::body::Body>,
        path: &str,
        kinds: Kinds,
        caller: Option<&Authenticated>,
        pending: &mut Option<Pending>,
    ) -> std::result::Result<Response<Body>, tonic::Status> {
        let kind = match caller.map(|c| &c.principal) {
            None => Kinds::PUBLIC,
            Some(Principal::StreetAdmin { .. }) => Kinds::STREET,
            Some(Principal::CommunityAdmin { .. }) => Kinds::COMMUNITY,
            Some(Principal::Partner { .. }) => Kinds::PARTNER,
            Some(Principal::Resident { .. }) => Kinds::RESIDENT,
            Some(Principal::Service { .. }) => {
                return Err(Error::forbidden("call through the gateway as this principal").into());
            }
        };
        if !kinds.contains(kind) {
            return Err(match caller {
                None => missing_credentials(),
                Some(_) => Error::forbidden(format!("call {path}")),
            }
            .into());
        }
        let partner = caller.and_then(|c| c.partner.as_ref());
        if let Some(p) = partner {
            self.gw
                .limits
                .admit_partner(p.id, p.rate_limit_per_second, p.rate_limit_burst)?;
        }
        let deadline = self.gw.limits.deadline(
            req.headers()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok())
                .and_then(limits::parse_grpc_timeout),
        );
        let (parts, body) = req.into_parts();
        let max = self.gw.limits.settings().max_message_bytes;
        let bytes = Limited::new(body, max + 5)
            .collect()
            .await
            .map_err(|_| {
                tonic::Status::resource_exhausted(format!("request larger than {max} bytes"))
            })?
            .to_bytes();
        if let Some(p) = pending.as_mut()
            && let Some(message) = audit::first_message(&bytes)
        {
            let (target, request_id) = audit::scan(message);
            p.entry.target = target;
            if p.entry.request_id.is_empty() {
                p.entry.request_id = request_id;
            }
        }

        let mut headers = HeaderMap::new();
        for name in FORWARDED {
            if let Some(v) = parts.headers.get(*name) {
                headers.insert(*name, v.clone());
            }
        }
        headers.insert(
            "grpc-timeout",
            HeaderValue::from_str(&limits::format_grpc_timeout(deadline)).expect("ascii"),
        );
        let mut out = Request::builder()
            .method(http::Method::POST)
            // The path as received, not parsed again; the channel sets the
            // backend's scheme and authority.
            .uri(http::Uri::from(
                parts
                    .uri
                    .path_and_query()
                    .cloned()
                    .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
            ))
            .body(Body::new(Full::new(bytes)))
            .expect("a valid request");

        let service = path.split('/').nth(1).unwrap_or_default();
        let call = if LOCAL.contains(&service) {
            *out.headers_mut() = headers;
            if let Some(c) = caller {
                out.extensions_mut().insert(c.principal.clone());
                if let Some(session) = c.session {
                    out.extensions_mut().insert(CurrentSession(session));
                }
            }
            if let Some(p) = partner {
                out.extensions_mut().insert(PartnerRecord(p.id));
            }
            out.extensions_mut()
                .insert(CallerAddress(peer(&parts.extensions)));
            let local = self.local.clone();
            let answered = tokio::time::timeout(deadline, async move {
                local.oneshot(out).await.map_err(|never| match never {})
            })
            .await;
            if let (Ok(Ok(response)), Some(p)) = (&answered, pending.as_mut())
                && let Some(SignedInAs(who)) = response.extensions().get::<SignedInAs>()
            {
                p.entry.principal = Some(who.clone());
            }
            answered
        } else {
            let Some(principal) = caller.map(|c| &c.principal) else {
                return Err(missing_credentials().into());
            };
            let channel = self.backends.for_service(service).cloned().ok_or_else(|| {
                tonic::Status::unimplemented(format!("no such service {service}"))
            })?;
            let mut metadata = MetadataMap::from_headers(headers);
            self.gw.internal.attach(
                &mut metadata,
                principal,
                chrono::Duration::from_std(deadline).unwrap_or_default()
                    + chrono::Duration::seconds(5),
            );
            // The service's span becomes a child of the gateway's, not of
            // the caller's.
            cogov_kit::telemetry::propagate(&mut metadata);
            *out.headers_mut() = metadata.into_headers();
            tokio::time::timeout(deadline, async move {
                channel
                    .oneshot(out)
                    .await
                    .map_err(|e| backend_failure(service, e))
            })
            .await
        };
        match call {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(status)) => Err(status),
            Err(_) => Err(tonic::Status::deadline_exceeded(format!(
                "no answer within {deadline:?}"
            ))),
        }
    }
}

/// A call the backend never answered. The channel enforces the call's own
/// `grpc-timeout`: running out of it is the caller's DEADLINE_EXCEEDED, not
/// the service being unavailable.
fn backend_failure(service: &str, e: tonic::transport::Error) -> tonic::Status {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.is::<tonic::TimeoutExpired>() {
            tracing::info!(service, "backend call ran out of the caller's deadline");
            return tonic::Status::deadline_exceeded(format!(
                "{service} did not answer within the call's deadline"
            ));
        }
        source = s.source();
    }
    tracing::warn!(error = ?e, service, "backend call failed");
    tonic::Status::unavailable(format!("{service} is unavailable; retry later"))
}

/// The caller's address, for the audit record and the gateway's own
/// services: the web pages' own, or the connection's. Made only when one of
/// them needs it.
fn peer(extensions: &http::Extensions) -> String {
    match extensions.get::<InProcess>() {
        Some(s) => s.peer.clone(),
        None => extensions
            .get::<tonic::transport::server::TcpConnectInfo>()
            .and_then(|i| i.remote_addr())
            .map(|a| a.to_string())
            .unwrap_or_default(),
    }
}

fn missing_credentials() -> Error {
    Error::Unauthenticated {
        reason: ErrorReason::CredentialsMissing,
        message: "no credentials: send `authorization: Bearer <API key, staff token or resident access token>`".into(),
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn refuse(status: tonic::Status) -> Response<Tracked> {
    let (parts, body) = status.into_http::<Body>().into_parts();
    Response::from_parts(
        parts,
        Tracked {
            inner: body,
            permit: None,
            pending: None,
            status_in_headers: None,
        },
    )
}

/// An audit record waiting for the call's outcome.
struct Pending {
    sink: Sink,
    started: Instant,
    entry: Entry,
}

impl Pending {
    fn finish(mut self, code: i32) {
        self.entry.code = code;
        self.entry.duration = self.started.elapsed();
        self.sink.queue(self.entry);
    }
}

fn track(
    response: Response<Body>,
    permit: OwnedSemaphorePermit,
    pending: Option<Pending>,
) -> Response<Tracked> {
    let status_in_headers = grpc_status(response.headers());
    let (parts, body) = response.into_parts();
    Response::from_parts(
        parts,
        Tracked {
            inner: body,
            permit: Some(permit),
            pending,
            status_in_headers,
        },
    )
}

/// A response body that holds the call's place in flight until it ends and
/// then writes the audit record with the status from the trailers.
pub struct Tracked {
    inner: Body,
    permit: Option<OwnedSemaphorePermit>,
    pending: Option<Pending>,
    status_in_headers: Option<i32>,
}

impl Tracked {
    fn end(&mut self, code: i32) {
        self.permit.take();
        if let Some(p) = self.pending.take() {
            p.finish(code);
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, tonic::Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    self.end(code);
                }
            }
            Poll::Ready(Some(Err(status))) => {
                let code = status.code() as i32;
                self.end(code);
            }
            Poll::Ready(None) => {
                let code = self
                    .status_in_headers
                    .unwrap_or(tonic::Code::Unknown as i32);
                self.end(code);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // Still pending: the caller went away before the end.
        let code = self
            .status_in_headers
            .unwrap_or(tonic::Code::Cancelled as i32);
        self.end(code);
    }
}
