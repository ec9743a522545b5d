//! The residents' web app under `/app`: phone-first, server-rendered pages
//! for the people who live in the street — sign in by number, register,
//! their courtyard's noticeboard, reporting a problem and following it to
//! the end, their inbox and their sessions, their data.
//!
//! Like the staff console, every figure and action is a gRPC call through
//! the gateway's own door ([`crate::calls`]) as the signed-in resident, so
//! the app sees and does exactly what the resident could over gRPC. Every
//! action is a plain form, which works on any phone, with a screen reader,
//! and on a slow line; the one script (placing a report by the phone's
//! position) only adds to its form.
//!
//! Modules: [`session`] (the web cookie over a resident session, form
//! tokens), [`words`] (zh-CN and English), [`view`] (the frame, errors),
//! [`pages`] (one module per page).

pub mod icons;
pub mod pages;
pub mod session;
pub mod view;
pub mod words;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::request::Parts;
use uuid::Uuid;

use crate::Gateway;
use crate::calls::Calls;
use crate::console::i18n::{self, Lang};
use crate::entity::resident_sessions;
use crate::front::Front;
use view::Failure;

/// What the app's handlers share.
pub struct App {
    gw: Gateway,
    front: Arc<Front>,
}

/// The app's state, as handlers receive it.
pub type Shared = Arc<App>;

/// Scripts and styles only from our own files (no inline code), images
/// from us (and the photo previews' `data:`), forms only back to us, no
/// frames.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The report form may ask for the phone's position; nothing may use the
/// camera or microphone directly (photos come through the file picker).
const PERMISSIONS_POLICY: &str = "geolocation=(self), camera=(), microphone=(), payment=()";

/// The routes, to be nested under `/app`.
pub fn router(gw: Gateway, front: Arc<Front>) -> axum::Router {
    use pages::*;
    let state = Arc::new(App { gw, front });
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/app/home") }))
        .route("/home", get(home::page))
        .route("/sign-in", get(sign_in::form).post(sign_in::send_code))
        .route("/sign-in/code", post(sign_in::enter_code))
        .route(
            "/register",
            get(sign_in::register_form).post(sign_in::register),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route("/language/{tag}", get(sign_in::language))
        .route("/assets/{file}", get(assets::file))
        .route(
            "/report",
            get(report::form)
                .post(report::submit)
                .layer(DefaultBodyLimit::max(crate::media::received::DRAIN_LIMIT)),
        )
        .route("/reports", get(reports::list))
        .route("/issues/{id}", get(reports::page))
        .route("/issues/{id}/{action}", post(reports::act))
        .route("/activities", get(activities::list))
        .route("/activities/{id}", get(activities::page))
        .route("/activities/{id}/{action}", post(activities::act))
        .route("/volunteer", post(activities::become_volunteer))
        .route("/council", get(council::page))
        .route("/topics/{id}", get(council::topic))
        .route("/topics/{id}/{action}", post(council::topic_act))
        .route("/polls/{id}", get(council::poll))
        .route("/polls/{id}/vote", post(council::vote))
        .route("/inbox", get(inbox::page).post(inbox::mark_read))
        .route("/me", get(me::page))
        .route("/me/sessions/{id}/end", post(me::end_session))
        .route("/me/export", post(me::export))
        .route("/me/erasure", post(me::request_erasure))
        .layer(middleware::from_fn(headers_and_language))
        .with_state(state)
}

/// Sets the security headers on every answer and runs the handler in the
/// request's language.
async fn headers_and_language(request: Request, next: Next) -> Response {
    let lang = Lang::of(request.headers());
    let asset = request.uri().path().contains("/assets/");
    let mut response = i18n::scope(lang, next.run(request)).await;
    let h = response.headers_mut();
    crate::console::secure(h, CONTENT_SECURITY_POLICY, asset);
    h.insert(
        http::HeaderName::from_static("permissions-policy"),
        http::HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    response
}

/// The signed-in resident behind a request; pages that take it send
/// everyone else to sign in.
pub struct Resident {
    /// Their person's id.
    pub person: Uuid,
    /// Their session.
    pub session: resident_sessions::Model,
    /// The session's form token, for every form on the page.
    pub csrf: String,
    /// The services, as them.
    pub calls: Calls,
    /// The path and query asked for (for the language switch's way back).
    pub here: String,
}

impl FromRequestParts<Shared> for Resident {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to("/app/sign-in").into_response();
        let Some(cookie) = session::cookie(&parts.headers) else {
            return Err(to_sign_in());
        };
        let found = session::find(&app.gw, cookie)
            .await
            .map_err(|e| Failure::from(e).into_response())?;
        let Some((session, csrf)) = found else {
            return Err(to_sign_in());
        };
        let peer = crate::console::peer_of(&parts.extensions);
        let here = parts
            .uri
            .path_and_query()
            .map(|p| format!("/app{}", p.as_str().trim_start_matches("/app")))
            .unwrap_or_else(|| "/app/home".into());
        Ok(Resident {
            person: session.person_id,
            calls: Calls::resident(app.front.clone(), session.person_id, session.id, peer),
            csrf,
            session,
            here,
        })
    }
}

impl Resident {
    /// Refuses a form without this session's token (CSRF).
    pub fn check_form(&self, submitted: &str) -> Result<(), Failure> {
        if crate::console::session::same_token(&self.csrf, submitted) {
            Ok(())
        } else {
            Err(Failure::new(http::StatusCode::FORBIDDEN, "error.csrf"))
        }
    }

    /// Their person's resource name.
    pub fn person_name(&self) -> String {
        cogov_kit::names::format("persons", self.person)
    }
}
