//! The staff console under `/console`: server-rendered pages for street
//! and community staff (dashboard, issue queue, courtyards, partners and
//! their keys, residents waiting on staff, the audit log, spreadsheets in
//! and out), in Chinese and English.
//!
//! Every figure and every action goes through the services' gRPC APIs as
//! the signed-in staff member ([`calls`]), so the console sees and does
//! exactly what that person could over gRPC. Modules: [`session`] (cookies,
//! CSRF), [`sign_in`] (passwords, lock-out), [`i18n`], [`view`] (what all
//! pages share, SVG charts), [`pages`] (one module per page).

pub mod i18n;
pub mod jobs;
pub mod pages;
pub mod session;
pub mod sign_in;
pub mod view;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use tonic::transport::server::TcpConnectInfo;

use crate::Gateway;
use crate::audit::{Entry, Sink};
use crate::calls::Calls;
use crate::entity::{console_sessions, staff_accounts};
use crate::front::Front;
use i18n::Lang;
use view::Failure;

/// What the console's handlers share.
pub struct Console {
    gw: Gateway,
    front: Arc<Front>,
    audit: Sink,
    jobs: jobs::Jobs,
}

/// The audit log's method names for the console's own events, shaped like
/// the RPCs' so that one filter reads both.
pub mod audited {
    /// A staff member signed in (OK), or their account locked (UNAUTHENTICATED).
    pub const SIGN_IN: &str = "/cogov.console/SignIn";
    /// A staff member signed out.
    pub const SIGN_OUT: &str = "/cogov.console/SignOut";
}

/// The console's state, as handlers receive it.
pub type Shared = Arc<Console>;

/// Scripts only from our own files, no inline script or style, no frames,
/// forms only back to us.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The routes, to be nested under `/console`.
pub fn router(gw: Gateway, front: Arc<Front>, audit: Sink) -> axum::Router {
    let state = Arc::new(Console {
        gw,
        front,
        audit,
        jobs: jobs::Jobs::default(),
    });
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/console/dashboard") }))
        .route(
            "/sign-in",
            get(pages::sign_in::form).post(pages::sign_in::submit),
        )
        .route("/sign-out", post(pages::sign_in::sign_out))
        .route("/language/{tag}", get(pages::sign_in::language))
        .route("/assets/{file}", get(pages::assets::file))
        .route("/dashboard", get(pages::dashboard::page))
        .route("/issues", get(pages::issues::queue))
        .route("/issues/{id}", get(pages::issues::page))
        .route("/issues/{id}/{action}", post(pages::issues::act))
        .route("/courtyards/{id}", get(pages::courtyard::page))
        .route(
            "/partners",
            get(pages::partners::list).post(pages::partners::create),
        )
        .route("/partners/{id}", get(pages::partners::page))
        .route("/partners/{id}/keys", post(pages::partners::create_key))
        .route(
            "/partners/{id}/keys/{key}/{action}",
            post(pages::partners::key_action),
        )
        .route(
            "/partners/{id}/webhooks/{endpoint}/{action}",
            post(pages::partners::webhook_action),
        )
        .route("/residents", get(pages::residents::page))
        .route("/residents/{id}/verify", post(pages::residents::verify))
        .route("/erasures/{id}/{action}", post(pages::residents::decide))
        .route("/audit", get(pages::audit::page))
        .route("/spreadsheets", get(pages::spreadsheets::page))
        .route(
            "/imports",
            post(pages::spreadsheets::start).layer(axum::extract::DefaultBodyLimit::max(
                pages::spreadsheets::MAX_UPLOAD + (64 << 10),
            )),
        )
        .route("/imports/{id}", get(pages::spreadsheets::progress))
        .route("/imports/{id}/{file}", get(pages::spreadsheets::report))
        .route("/templates/{file}", get(pages::spreadsheets::template))
        .route("/exports/{file}", get(pages::spreadsheets::download_export))
        .layer(middleware::from_fn(headers_and_language))
        .with_state(state)
}

/// Sets the security headers on every answer and runs the handler in the
/// request's language.
async fn headers_and_language(request: Request, next: Next) -> Response {
    let lang = Lang::of(request.headers());
    let asset = request.uri().path().contains("/assets/");
    let mut response = i18n::scope(lang, next.run(request)).await;
    secure(response.headers_mut(), CONTENT_SECURITY_POLICY, asset);
    response
}

/// The headers every web page of the gateway answers with: its policy,
/// no sniffing, no framing, no referrer, and pages (not assets) never
/// cached.
pub(crate) fn secure(h: &mut http::HeaderMap, policy: &'static str, asset: bool) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The signed-in staff member behind a request; pages that take it send
/// everyone else to the sign-in page.
pub struct Staff {
    /// Their account.
    pub account: staff_accounts::Model,
    /// Their session (its form token).
    pub session: console_sessions::Model,
    /// Who the account makes them.
    pub principal: cogov_kit::auth::Principal,
    /// The services, as them.
    pub calls: Calls,
    /// The path and query asked for (for the language switch's way back).
    pub here: String,
    /// The browser's address.
    pub peer: String,
}

impl FromRequestParts<Shared> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Shared) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to("/console/sign-in").into_response();
        let Some(token) = session::cookie(&parts.headers, session::COOKIE_NAME) else {
            return Err(to_sign_in());
        };
        let found = session::find(&c.gw, token)
            .await
            .map_err(|e| Failure::from(e).into_response())?;
        let Some((session, account)) = found else {
            return Err(to_sign_in());
        };
        let Some(principal) = sign_in::principal(&account) else {
            return Err(to_sign_in());
        };
        let peer = peer_of(&parts.extensions);
        let here = parts
            .uri
            .path_and_query()
            .map(|p| format!("/console{}", p.as_str().trim_start_matches("/console")))
            .unwrap_or_else(|| "/console/dashboard".into());
        Ok(Staff {
            account,
            session,
            calls: Calls::new(c.front.clone(), principal.clone(), peer.clone()),
            principal,
            here,
            peer,
        })
    }
}

impl Console {
    /// Records a console event of `principal`'s in the audit log.
    async fn record(
        &self,
        principal: cogov_kit::auth::Principal,
        method: &str,
        code: tonic::Code,
        peer: String,
    ) {
        self.audit
            .record(Entry {
                principal: Some(principal),
                partner: None,
                method: method.to_owned(),
                target: String::new(),
                code: code as i32,
                request_id: String::new(),
                peer,
                time: self.gw.ctx.clock.now(),
                duration: std::time::Duration::ZERO,
            })
            .await;
    }
}

/// The browser's address.
pub(crate) fn peer_of(extensions: &http::Extensions) -> String {
    extensions
        .get::<TcpConnectInfo>()
        .and_then(|i| i.remote_addr())
        .map(|a| a.to_string())
        .unwrap_or_default()
}

impl Staff {
    /// Refuses a form without this session's token (CSRF).
    pub fn check_form(&self, submitted: &str) -> Result<(), Failure> {
        if session::same_token(&self.session.csrf_token, submitted) {
            Ok(())
        } else {
            Err(Failure::new(StatusCode::FORBIDDEN, "error.csrf"))
        }
    }

    /// Whether they cover the whole street.
    pub fn street(&self) -> bool {
        self.principal.sees_everything()
    }
}
