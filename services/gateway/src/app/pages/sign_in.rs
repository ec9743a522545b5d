//! Signing in by number and code, registering a number nobody has,
//! signing out, and the language switch (which works signed out). Each
//! step is the ResidentsService's RPC, called as nobody yet from the
//! browser's address, so its limits (per number, per address) hold here as
//! over gRPC. The forms before a session carry a token bound to a cookie of
//! their own, so no other site can sign a browser in (login CSRF).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use cogov_proto::gateway::*;
use cogov_proto::organizations::{ListCommunitiesRequest, ListCourtyardsRequest};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sea_orm::EntityTrait;
use serde::Deserialize;
use tonic::Code;

use crate::app::session::{self, TICKET_COOKIE};
use crate::app::view::{Failure, languages, render};
use crate::app::{Resident, Shared, words};
use crate::calls::Calls;
use crate::console::i18n::{self, Catalog, Lang};
use crate::console::session::{random_token, same_token};
use crate::entity::resident_sessions;
use crate::paging::every_page;
use crate::residents::service::TICKET_LIFETIME;
use crate::residents::sessions::{REFRESH_LIFETIME, parse_name};

/// How many digits a code has (as SendSignInCode answers).
const CODE_LENGTH: i32 = 6;

/// The cookie that binds the forms before a session to this browser.
const FORM_COOKIE: &str = "cogov_form";

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for cookie in cookies {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The browser's address.
fn peer(info: Option<axum::Extension<tonic::transport::server::TcpConnectInfo>>) -> String {
    info.and_then(|i| i.remote_addr())
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// What a session records as the device: the browser, briefly.
fn device(headers: &HeaderMap) -> String {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut device = format!("web · {agent}");
    if device.len() > 200 {
        let mut end = 200;
        while !device.is_char_boundary(end) {
            end -= 1;
        }
        device.truncate(end);
    }
    device
}

/// A failed step's words: the service's reason where the app has words
/// for it, else by its code.
fn refusal(t: &Catalog, status: &tonic::Status) -> String {
    let details = tonic_types::StatusExt::get_error_details(status);
    if let Some(reason) = details.error_info().map(|i| i.reason.as_str()) {
        let key = format!("refusal.{reason}");
        let said = t.get(&key);
        if said != key {
            return said.to_owned();
        }
    }
    match status.code() {
        Code::InvalidArgument => t.get("sign_in.invalid").to_owned(),
        Code::ResourceExhausted => t.get("sign_in.too_many").to_owned(),
        Code::Unauthenticated | Code::FailedPrecondition => t.get("sign_in.wrong_code").to_owned(),
        _ => t.get("error.unavailable").to_owned(),
    }
}

fn answer_status(status: &tonic::Status) -> StatusCode {
    match status.code() {
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Unavailable | Code::DeadlineExceeded | Code::Internal => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[derive(Template)]
#[template(path = "app/sign_in.html")]
struct SignInPage {
    t: &'static Catalog,
    csrf: String,
    phone: String,
    error: String,
    languages: Vec<(&'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "app/code.html")]
struct CodePage {
    t: &'static Catalog,
    csrf: String,
    phone: String,
    sent_to: String,
    code_label: String,
    error: String,
    code_length: i32,
    languages: Vec<(&'static str, String, String)>,
}

/// A page before a session, with a fresh form token bound to its cookie.
fn pre_session_page<F: FnOnce(String) -> Response>(
    headers: &HeaderMap,
    status: StatusCode,
    page: F,
) -> Response {
    let csrf = random_token();
    let mut response = page(csrf.clone());
    *response.status_mut() = status;
    with_cookies(
        response,
        &[session::set_cookie(
            headers,
            FORM_COOKIE,
            &csrf,
            Duration::minutes(30),
        )],
    )
}

fn sign_in_page(headers: &HeaderMap, phone: String, error: String, status: StatusCode) -> Response {
    let t = words::current();
    pre_session_page(headers, status, |csrf| {
        render(&SignInPage {
            t,
            csrf,
            phone,
            error,
            languages: languages(t, "/app/sign-in"),
        })
    })
}

fn code_page(headers: &HeaderMap, phone: String, error: String, status: StatusCode) -> Response {
    let t = words::current();
    pre_session_page(headers, status, |csrf| {
        render(&CodePage {
            t,
            csrf,
            sent_to: t.fmt("code.sent_to", &[&phone]),
            code_label: t.fmt("code.label", &[&CODE_LENGTH]),
            phone,
            error,
            code_length: CODE_LENGTH,
            languages: languages(t, "/app/sign-in"),
        })
    })
}

fn check_pre_session_form(headers: &HeaderMap, submitted: &str) -> Result<(), Failure> {
    let expected = crate::console::session::cookie(headers, FORM_COOKIE).unwrap_or_default();
    if same_token(expected, submitted) {
        Ok(())
    } else {
        Err(Failure::new(StatusCode::FORBIDDEN, "error.csrf").back_to("/app/sign-in"))
    }
}

/// GET /app/sign-in: the number. A signed-in resident goes home.
pub async fn form(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(cookie) = session::cookie(&headers)
        && let Ok(Some(_)) = session::find(&app.gw, cookie).await
    {
        return Redirect::to("/app/home").into_response();
    }
    sign_in_page(&headers, String::new(), String::new(), StatusCode::OK)
}

/// The number form.
#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    csrf: String,
}

/// POST /app/sign-in: sends a code to the number, then asks for it.
pub async fn send_code(
    State(app): State<Shared>,
    headers: HeaderMap,
    info: Option<axum::Extension<tonic::transport::server::TcpConnectInfo>>,
    Form(form): Form<PhoneForm>,
) -> Response {
    if let Err(f) = check_pre_session_form(&headers, &form.csrf) {
        return f.into_response();
    }
    let phone = form.phone.trim().to_owned();
    let calls = Calls::anonymous(app.front.clone(), peer(info));
    let sent = calls
        .residents()
        .send_sign_in_code(SendSignInCodeRequest {
            phone: phone.clone(),
        })
        .await;
    match sent {
        Ok(_) => code_page(&headers, phone, String::new(), StatusCode::OK),
        Err(status) => {
            let error = refusal(words::current(), &status);
            sign_in_page(&headers, phone, error, answer_status(&status))
        }
    }
}

/// The code form.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// POST /app/sign-in/code: signs in with the code; a number nobody has
/// goes on to register.
pub async fn enter_code(
    State(app): State<Shared>,
    headers: HeaderMap,
    info: Option<axum::Extension<tonic::transport::server::TcpConnectInfo>>,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(f) = check_pre_session_form(&headers, &form.csrf) {
        return f.into_response();
    }
    let calls = Calls::anonymous(app.front.clone(), peer(info));
    let answer = calls
        .residents()
        .sign_in(SignInRequest {
            phone: form.phone.trim().to_owned(),
            code: form.code.trim().to_owned(),
            device: device(&headers),
        })
        .await;
    let outcome = match answer {
        Ok(r) => r.into_inner().outcome,
        Err(status) => {
            let error = refusal(words::current(), &status);
            return code_page(&headers, form.phone, error, answer_status(&status));
        }
    };
    match outcome {
        Some(sign_in_response::Outcome::Tokens(tokens)) => {
            signed_in(&app, &headers, &tokens).await.into_response()
        }
        Some(sign_in_response::Outcome::Registration(ticket)) => with_cookies(
            Redirect::to("/app/register").into_response(),
            &[
                session::set_cookie(&headers, TICKET_COOKIE, &ticket.ticket, TICKET_LIFETIME),
                session::set_cookie(&headers, FORM_COOKIE, "", Duration::zero()),
            ],
        ),
        None => Failure::new(StatusCode::BAD_GATEWAY, "error.unavailable").into_response(),
    }
}

/// The app's cookie for a session the sign-in just opened, and home.
async fn signed_in(
    app: &Shared,
    headers: &HeaderMap,
    tokens: &ResidentTokens,
) -> Result<Response, Failure> {
    let (_, id) = tokens
        .session
        .as_ref()
        .and_then(|s| parse_name(&s.name))
        .ok_or_else(|| Failure::new(StatusCode::BAD_GATEWAY, "error.unavailable"))?;
    let row = resident_sessions::Entity::find_by_id(id)
        .one(app.gw.ctx.db.write())
        .await
        .map_err(cogov_kit::Error::from)?
        .ok_or_else(|| Failure::new(StatusCode::BAD_GATEWAY, "error.unavailable"))?;
    let keys = app.gw.residents.keys(&app.gw.ctx.db).await?;
    let cookie = keys.web_cookie(row.id, &row.salt);
    Ok(with_cookies(
        Redirect::to("/app/home").into_response(),
        &[
            session::set_cookie(headers, session::COOKIE_NAME, &cookie, REFRESH_LIFETIME),
            session::set_cookie(headers, TICKET_COOKIE, "", Duration::zero()),
            session::set_cookie(headers, FORM_COOKIE, "", Duration::zero()),
        ],
    ))
}

/// A courtyard to choose, under its community.
pub struct Choice {
    /// `courtyards/{id}`.
    pub name: String,
    /// Its display name.
    pub label: String,
}

#[derive(Template)]
#[template(path = "app/register.html")]
struct RegisterPage {
    t: &'static Catalog,
    csrf: String,
    communities: Vec<(String, Vec<Choice>)>,
    display_name: String,
    courtyard: String,
    notice: PrivacyNotice,
    error: String,
    languages: Vec<(&'static str, String, String)>,
}

/// The street's communities and their courtyards, for the registration
/// form. Place names are public: the gateway reads them as itself.
async fn places(app: &Shared) -> Result<Vec<(String, Vec<Choice>)>, Failure> {
    let orgs = app.gw.directory.organizations();
    let (communities, courtyards) = tokio::try_join!(
        every_page(2000, |page_token| {
            let mut c = orgs.clone();
            async move {
                let r = c
                    .list_communities(ListCommunitiesRequest {
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((r.communities, r.next_page_token))
            }
        }),
        every_page(10000, |page_token| {
            let mut c = orgs.clone();
            async move {
                let r = c
                    .list_courtyards(ListCourtyardsRequest {
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((r.courtyards, r.next_page_token))
            }
        }),
    )?;
    let mut out: Vec<(String, Vec<Choice>)> = communities
        .into_iter()
        .map(|community| {
            let mut choices: Vec<Choice> = courtyards
                .iter()
                .filter(|c| c.community == community.name)
                .map(|c| Choice {
                    name: c.name.clone(),
                    label: c.display_name.clone(),
                })
                .collect();
            choices.sort_by(|a, b| a.label.cmp(&b.label));
            (community.display_name, choices)
        })
        .filter(|(_, choices)| !choices.is_empty())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

async fn register_page(
    app: &Shared,
    headers: &HeaderMap,
    display_name: String,
    courtyard: String,
    error: String,
    status: StatusCode,
) -> Response {
    let t = words::current();
    let communities = match places(app).await {
        Ok(c) => c,
        Err(f) => return f.into_response(),
    };
    let notice = crate::residents::privacy_notice::notice(t.lang().tag());
    pre_session_page(headers, status, |csrf| {
        render(&RegisterPage {
            t,
            csrf,
            communities,
            display_name,
            courtyard,
            notice,
            error,
            languages: languages(t, "/app/register"),
        })
    })
}

/// GET /app/register: who they are and where they live, and the privacy
/// notice to consent to. Only with a ticket from a proven number.
pub async fn register_form(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if crate::console::session::cookie(&headers, TICKET_COOKIE).is_none() {
        return Redirect::to("/app/sign-in").into_response();
    }
    register_page(
        &app,
        &headers,
        String::new(),
        String::new(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// The registration form.
#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    courtyard: String,
    #[serde(default)]
    notice_version: String,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    csrf: String,
}

/// POST /app/register: registers, unverified until community staff check,
/// and signs in.
pub async fn register(
    State(app): State<Shared>,
    headers: HeaderMap,
    info: Option<axum::Extension<tonic::transport::server::TcpConnectInfo>>,
    Form(form): Form<RegisterForm>,
) -> Response {
    if let Err(f) = check_pre_session_form(&headers, &form.csrf) {
        return f.into_response();
    }
    let Some(ticket) = crate::console::session::cookie(&headers, TICKET_COOKIE) else {
        return Redirect::to("/app/sign-in").into_response();
    };
    let t = words::current();
    if form.consent != "yes" {
        return register_page(
            &app,
            &headers,
            form.display_name,
            form.courtyard,
            t.get("register.consent_needed").to_owned(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let calls = Calls::anonymous(app.front.clone(), peer(info));
    let answer = calls
        .residents()
        .register_resident(RegisterResidentRequest {
            ticket: ticket.to_owned(),
            display_name: form.display_name.trim().to_owned(),
            courtyard: form.courtyard.clone(),
            building: String::new(),
            privacy_notice_version: form.notice_version.clone(),
            consent: true,
            device: device(&headers),
        })
        .await;
    match answer.map(|r| r.into_inner().outcome) {
        Ok(Some(sign_in_response::Outcome::Tokens(tokens))) => {
            signed_in(&app, &headers, &tokens).await.into_response()
        }
        Ok(_) => Failure::new(StatusCode::BAD_GATEWAY, "error.unavailable").into_response(),
        Err(status) if status.code() == Code::Unauthenticated => {
            // The ticket lapsed: start again from the number.
            with_cookies(
                Redirect::to("/app/sign-in").into_response(),
                &[session::set_cookie(
                    &headers,
                    TICKET_COOKIE,
                    "",
                    Duration::zero(),
                )],
            )
        }
        Err(status) => {
            let mut error = refusal(t, &status);
            let details = tonic_types::StatusExt::get_error_details(&status);
            if let Some(bad) = details.bad_request() {
                for v in &bad.field_violations {
                    error.push_str(&format!(" ({}: {})", v.field, v.description));
                }
            }
            register_page(
                &app,
                &headers,
                form.display_name,
                form.courtyard,
                error,
                answer_status(&status),
            )
            .await
        }
    }
}

/// A form with only the form token.
#[derive(Deserialize)]
pub struct TokenOnly {
    /// The form token.
    #[serde(default)]
    pub csrf: String,
}

/// POST /app/sign-out: ends the session (everywhere its cookie is).
pub async fn sign_out(
    resident: Resident,
    headers: HeaderMap,
    Form(form): Form<TokenOnly>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    resident
        .calls
        .residents()
        .sign_out(SignOutRequest {})
        .await?;
    Ok(with_cookies(
        Redirect::to("/app/sign-in").into_response(),
        &[session::set_cookie(
            &headers,
            session::COOKIE_NAME,
            "",
            Duration::zero(),
        )],
    ))
}

/// GET /app/language/{tag}: keeps the choice in a cookie and returns to
/// the page it came from (only ever an app page).
pub async fn language(
    Path(tag): Path<String>,
    Query(q): Query<crate::console::pages::sign_in::Back>,
    headers: HeaderMap,
) -> Response {
    let Some(lang) = Lang::from_tag(&tag) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let back = crate::console::view::way_back(q.back, "/app/", "/app/home");
    with_cookies(
        Redirect::to(&back).into_response(),
        &[session::set_cookie(
            &headers,
            i18n::COOKIE_NAME,
            lang.tag(),
            Duration::days(365),
        )],
    )
}
