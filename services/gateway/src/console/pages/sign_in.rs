//! Signing in and out, and the language switch (which works signed out).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;

use crate::console::i18n::{self, Catalog, Lang};
use crate::console::sign_in::{self, Refusal};
use crate::console::view::{self, Failure, render};
use crate::console::{Shared, Staff, audited, session};

/// The cookie that carries the sign-in form's token (the session's form
/// token does not exist yet).
const SIGN_IN_COOKIE: &str = "cogov_sign_in";

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    t: &'static Catalog,
    csrf: String,
    username: String,
    error: String,
    languages: Vec<(&'static str, String, String)>,
}

fn sign_in_page(
    headers: &HeaderMap,
    username: String,
    error: String,
    status: StatusCode,
) -> Response {
    let t = i18n::current();
    let csrf = session::random_token();
    let page = SignInPage {
        t,
        csrf: csrf.clone(),
        username,
        error,
        languages: view::languages(t, "/console/sign-in"),
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    let cookie = session::set_cookie(
        SIGN_IN_COOKIE,
        &csrf,
        Duration::minutes(30),
        session::over_https(headers),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// GET /console/sign-in.
pub async fn form(headers: HeaderMap) -> Response {
    sign_in_page(&headers, String::new(), String::new(), StatusCode::OK)
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// POST /console/sign-in.
pub async fn submit(
    State(c): State<Shared>,
    headers: HeaderMap,
    peer: Option<axum::Extension<tonic::transport::server::TcpConnectInfo>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let peer = peer
        .and_then(|p| p.remote_addr())
        .map(|a| a.to_string())
        .unwrap_or_default();
    let expected = session::cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !session::same_token(expected, &form.csrf) {
        return Failure::new(StatusCode::FORBIDDEN, "error.csrf")
            .back_to("/console/sign-in")
            .into_response();
    }
    // A password check costs tens of milliseconds of CPU: sign-ins count
    // against the gateway's in-flight bound like calls do.
    let _permit = match c.gw.limits.enter() {
        Ok(permit) => permit,
        Err(e) => return Failure::from(e).into_response(),
    };
    let t = i18n::current();
    let username = form.username.trim().to_owned();
    let checked = match sign_in::check(&c.gw, &username, &form.password).await {
        Ok(checked) => checked,
        Err(e) => return Failure::from(e).into_response(),
    };
    let account = match checked {
        Ok(account) => account,
        Err(Refusal::Wrong) => {
            return sign_in_page(
                &headers,
                username,
                t.get("sign_in.wrong").to_owned(),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(Refusal::Locked(until, account)) => {
            if let Some(principal) = sign_in::principal(&account) {
                c.record(
                    principal,
                    audited::SIGN_IN,
                    tonic::Code::Unauthenticated,
                    peer,
                )
                .await;
            }
            let until = view::time(Some(&cogov_kit::convert::timestamp(until)));
            return sign_in_page(
                &headers,
                username,
                t.fmt("sign_in.locked", &[&until]),
                StatusCode::FORBIDDEN,
            );
        }
    };
    let (token, _) = match session::open(&c.gw, account.id).await {
        Ok(opened) => opened,
        Err(e) => return Failure::from(e).into_response(),
    };
    tracing::info!(username = %account.username, "console sign-in");
    if let Some(principal) = sign_in::principal(&account) {
        c.record(principal, audited::SIGN_IN, tonic::Code::Ok, peer)
            .await;
    }
    let secure = session::over_https(&headers);
    let mut response = Redirect::to("/console/dashboard").into_response();
    for cookie in [
        session::set_cookie(session::COOKIE_NAME, &token, session::LIFETIME, secure),
        session::set_cookie(SIGN_IN_COOKIE, "", Duration::zero(), secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// A form with only the form token.
#[derive(Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// POST /console/sign-out.
pub async fn sign_out(
    State(c): State<Shared>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<TokenOnly>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    if let Some(token) = session::cookie(&headers, session::COOKIE_NAME) {
        session::close(&c.gw, token).await?;
    }
    let principal = staff.principal.clone();
    c.record(
        principal,
        audited::SIGN_OUT,
        tonic::Code::Ok,
        staff.peer.clone(),
    )
    .await;
    let mut response = Redirect::to("/console/sign-in").into_response();
    let cookie = session::set_cookie(
        session::COOKIE_NAME,
        "",
        Duration::zero(),
        session::over_https(&headers),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Where the language switch returns to.
#[derive(Deserialize)]
pub struct Back {
    /// The page to return to.
    #[serde(default)]
    pub back: String,
}

/// GET /console/language/{tag}: keeps the choice in a cookie and returns to
/// the page it came from (only ever a console page).
pub async fn language(
    Path(tag): Path<String>,
    Query(q): Query<Back>,
    headers: HeaderMap,
) -> Response {
    let Some(lang) = Lang::from_tag(&tag) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let back = view::way_back(q.back, "/console/", "/console/dashboard");
    let mut response = Redirect::to(&back).into_response();
    let cookie = session::set_cookie(
        i18n::COOKIE_NAME,
        lang.tag(),
        Duration::days(365),
        session::over_https(&headers),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
