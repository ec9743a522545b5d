//! gRPC-Web for browsers beside plain HTTP on the same port.
//!
//! tonic-web answers 400 to any HTTP/1.1 request that is not gRPC-Web, so
//! on its own it would shut out the gateway's HTTP side (Open311). This
//! layer sends gRPC-Web through tonic-web, and every other request (plain
//! gRPC among them, which tonic-web would pass on as it is) straight to the
//! routes.

use std::task::{Context, Poll};

use futures_util::future::{BoxFuture, FutureExt};
use http::{Request, Response, header};
use tonic::body::Body;
use tonic_web::{GrpcWebLayer, GrpcWebService};
use tower::{Layer, Service, ServiceExt};

/// Adds gRPC-Web, leaving plain HTTP/1.1 to the routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcWebOrPlainLayer;

impl<S: Clone> Layer<S> for GrpcWebOrPlainLayer {
    type Service = GrpcWebOrPlain<S>;

    fn layer(&self, inner: S) -> GrpcWebOrPlain<S> {
        GrpcWebOrPlain {
            web: GrpcWebLayer::new().layer(inner.clone()),
            plain: inner,
        }
    }
}

/// The service [`GrpcWebOrPlainLayer`] makes.
#[derive(Debug, Clone)]
pub struct GrpcWebOrPlain<S> {
    web: GrpcWebService<S>,
    plain: S,
}

fn is_grpc_web<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/grpc-web"))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcWebOrPlain<S>
where
    S: Service<Request<Body>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ReqBody::Error: Into<tonic::codegen::StdError> + std::fmt::Display,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError> + std::fmt::Display,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // Each call drives a clone to readiness itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // tonic-web hands plain gRPC over HTTP/2 to the routes as it is;
        // only gRPC-Web needs it.
        if is_grpc_web(&request) {
            self.web.clone().oneshot(request).boxed()
        } else {
            self.plain
                .clone()
                .oneshot(request.map(Body::new))
                .map(|r| r.map(|response| response.map(Body::new)))
                .boxed()
        }
    }
}
