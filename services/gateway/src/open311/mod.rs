//! Open311 GeoReport v2 under `/open311/v2/`, for the civic apps and city
//! systems that speak it: discovery, services and their definitions,
//! reporting (POST `requests`), reading requests back, and tokens, in JSON
//! and XML.
//!
//! It is another door onto the same services: every answer comes from the
//! issues and organizations services over gRPC, as the caller. A partner's
//! `api_key` makes it that partner, with its reach, masking and rate limit;
//! the GET endpoints also answer without a key, as Open311 clients expect,
//! with the public view (no personal data, no staff-only notes) unless the
//! gateway is configured not to ([`crate::Settings::open311_public`]).
//! Reports land with channel `open311`, exactly once however often a
//! client retries (see [`report`]).

pub mod inputs;
pub mod mapping;
pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use cogov_kit::auth::{Principal, Signer};
use cogov_kit::names;
use cogov_proto::common::{ContactDetails, Media};
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::{Courtyard, ListCourtyardsRequest};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::transport::server::TcpConnectInfo;

use crate::audit::{Entry, Sink};
use crate::credentials::{self, Credential};
use crate::front::Backends;
use crate::paging::every_page;
use crate::{Gateway, keys};
use inputs::{coordinates, idempotency_key, list_filter, param, title_of};
use mapping::Language;
use wire::{Format, Open311Error, respond};

/// When this interface last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-27T00:00:00Z";
/// Requests in one answer at most.
const MAX_REQUESTS: i32 = 200;
/// A report's location by `lat`/`long` must fall this near a courtyard.
const NEAREST_COURTYARD_M: f64 = 500.0;

/// The state of the Open311 routes.
#[derive(Clone)]
struct Open311 {
    gw: Gateway,
    backends: Backends,
    sink: Sink,
}

/// The routes, to be nested under `/open311/v2`.
pub fn router(gw: Gateway, backends: Backends, sink: Sink) -> axum::Router {
    let state = Arc::new(Open311 { gw, backends, sink });
    axum::Router::new()
        .route("/{file}", get(top_get).post(top_post))
        .route("/services/{file}", get(service_definition))
        .route("/requests/{file}", get(one_request))
        .route("/tokens/{file}", get(token))
        .with_state(state)
}

type Params = Query<Vec<(String, String)>>;
type Answer = Result<Response, Open311Error>;

/// Runs `answer` for the path's format, within the gateway's in-flight
/// bound; an unknown format is a 404 in JSON.
async fn in_format(
    o: &Open311,
    file: &str,
    answer: impl AsyncFnOnce(String, Format) -> Answer,
) -> Response {
    let Some((stem, format)) = Format::split(file) else {
        return Open311Error::not_found(format!("{file}: ask for .json or .xml"))
            .respond(Format::Json);
    };
    let _permit = match o.gw.limits.enter() {
        Ok(permit) => permit,
        Err(e) => return Open311Error::from(e).respond(format),
    };
    match answer(stem.to_owned(), format).await {
        Ok(response) => response,
        Err(e) => e.respond(format),
    }
}

async fn top_get(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    in_format(&o, &file, async |stem, format| match stem.as_str() {
        "discovery" => Ok(discovery(&headers, format)),
        "services" => o.services(&headers, &params, format).await,
        "requests" => o.requests(&headers, &params, format).await,
        _ => Err(Open311Error::not_found(format!("no such resource {stem}"))),
    })
    .await
}

async fn top_post(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    peer: Option<axum::Extension<TcpConnectInfo>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let peer = peer
        .and_then(|p| p.remote_addr())
        .map(|a| a.to_string())
        .unwrap_or_default();
    in_format(&o, &file, async |stem, format| match stem.as_str() {
        "requests" => o.report(&headers, &form, &peer, format).await,
        _ => Err(Open311Error::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{stem} cannot be posted to"),
        )),
    })
    .await
}

async fn service_definition(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    in_format(&o, &file, async |code, format| {
        o.definition(&headers, &params, &code, format).await
    })
    .await
}

async fn one_request(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    in_format(&o, &file, async |id, format| {
        let caller = o.caller(&headers, &params, false).await?;
        let issue = o
            .issue(&caller, &id)
            .await?
            .ok_or_else(|| Open311Error::not_found(format!("no service request {id}")))?;
        let requests = o
            .as_requests(&caller, vec![issue], &params, &headers)
            .await?;
        Ok(respond(
            format,
            StatusCode::OK,
            "service_requests",
            &requests,
        ))
    })
    .await
}

async fn token(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    in_format(&o, &file, async |token, format| {
        let caller = o.caller(&headers, &params, false).await?;
        // A report is stored before its answer, so its token is its id.
        let issue = o
            .issue(&caller, &token)
            .await?
            .ok_or_else(|| Open311Error::not_found(format!("no request for token {token}")))?;
        let value = json!([{
            "service_request_id": mapping::id_of(&issue.name),
            "token": token,
        }]);
        Ok(respond(format, StatusCode::OK, "service_requests", &value))
    })
    .await
}

fn discovery(headers: &HeaderMap, format: Format) -> Response {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let value = json!({
        "changeset": CHANGESET,
        "contact": "the street office that runs this cogov",
        "key_service": "API keys are issued to partner units by the street office (GatewayService.CreateApiKey)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("http://{host}/open311/v2"),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    });
    respond(format, StatusCode::OK, "discovery", &value)
}

/// Who is asking.
enum Caller {
    /// No key: the public view.
    Public,
    /// A partner, by its key: its principal and its partner record.
    Partner(Principal, uuid::Uuid),
}

impl Caller {
    fn principal(&self) -> Principal {
        match self {
            // Reads everything; only public fields leave the gateway.
            Caller::Public => Principal::Service {
                name: "open311".into(),
            },
            Caller::Partner(p, _) => p.clone(),
        }
    }

    fn partner_record(&self) -> Option<uuid::Uuid> {
        match self {
            Caller::Public => None,
            Caller::Partner(_, record) => Some(*record),
        }
    }
}

type Issues = IssuesServiceClient<InterceptedService<Channel, Signer>>;
type Organizations = OrganizationsServiceClient<InterceptedService<Channel, Signer>>;

impl Open311 {
    fn signed(&self, caller: &Caller) -> Signer {
        Signer::new(self.gw.internal.clone(), caller.principal())
    }

    fn issues(&self, caller: &Caller) -> Issues {
        IssuesServiceClient::with_interceptor(self.backends.issues.clone(), self.signed(caller))
    }

    fn organizations(&self, caller: &Caller) -> Organizations {
        OrganizationsServiceClient::with_interceptor(
            self.backends.organizations.clone(),
            self.signed(caller),
        )
    }

    /// The caller: a partner by its `api_key` (parameter, `x-api-key` or
    /// bearer), or the public when `must_have_key` is false and the public
    /// view is on. A partner's calls count against its rate limit.
    async fn caller(
        &self,
        headers: &HeaderMap,
        params: &[(String, String)],
        must_have_key: bool,
    ) -> Result<Caller, Open311Error> {
        let key = match param(params, "api_key") {
            Some(k) => Some(k),
            None => match credentials::from_headers(headers)? {
                Some(Credential::ApiKey(k)) => Some(k),
                Some(Credential::Token(_) | Credential::ResidentToken(_)) => {
                    return Err(Open311Error::new(
                        StatusCode::UNAUTHORIZED,
                        "Open311 takes a partner's api_key; staff and residents use the gRPC API",
                    ));
                }
                None => None,
            },
        };
        let Some(key) = key else {
            if must_have_key || !self.gw.limits.settings().open311_public {
                return Err(Open311Error::new(
                    StatusCode::UNAUTHORIZED,
                    "api_key is required",
                ));
            }
            return Ok(Caller::Public);
        };
        let now = self.gw.ctx.clock.now();
        let (principal, partner) = keys::authenticate(&self.gw.ctx.db, key, now).await?;
        self.gw.limits.admit_partner(
            partner.id,
            partner.rate_limit_per_second,
            partner.rate_limit_burst,
        )?;
        Ok(Caller::Partner(principal, partner.id))
    }

    async fn sub_items(&self, caller: &Caller) -> Result<Vec<SubItem>, Open311Error> {
        let issues = self.issues(caller);
        every_page(usize::MAX, |page_token| {
            let mut issues = issues.clone();
            async move {
                let page = issues
                    .list_sub_items(ListSubItemsRequest {
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((page.sub_items, page.next_page_token))
            }
        })
        .await
        .map_err(Open311Error::from)
    }

    async fn services(
        &self,
        headers: &HeaderMap,
        params: &[(String, String)],
        format: Format,
    ) -> Answer {
        let caller = self.caller(headers, params, false).await?;
        let lang = Language::from_locale(param(params, "locale"));
        let categories: HashMap<String, Category> = self
            .issues(&caller)
            .list_categories(ListCategoriesRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await?
            .into_inner()
            .categories
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        let services: Vec<Value> = self
            .sub_items(&caller)
            .await?
            .iter()
            .filter(|s| s.active)
            .map(|s| mapping::service(s, categories.get(&s.category), lang))
            .collect();
        Ok(respond(
            format,
            StatusCode::OK,
            "services",
            &Value::Array(services),
        ))
    }

    async fn courtyards(&self, caller: &Caller) -> Result<Vec<Courtyard>, Open311Error> {
        let orgs = self.organizations(caller);
        every_page(usize::MAX, |page_token| {
            let mut orgs = orgs.clone();
            async move {
                let page = orgs
                    .list_courtyards(ListCourtyardsRequest {
                        page_size: 1000,
                        page_token,
                        order_by: "display_name".into(),
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((page.courtyards, page.next_page_token))
            }
        })
        .await
        .map_err(Open311Error::from)
    }

    async fn definition(
        &self,
        headers: &HeaderMap,
        params: &[(String, String)],
        code: &str,
        format: Format,
    ) -> Answer {
        let caller = self.caller(headers, params, false).await?;
        let lang = Language::from_locale(param(params, "locale"));
        let sub = self
            .issues(&caller)
            .get_sub_item(GetSubItemRequest {
                name: format!("subItems/{code}"),
            })
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound | tonic::Code::InvalidArgument => {
                    Open311Error::not_found(format!("no service {code}"))
                }
                _ => s.into(),
            })?
            .into_inner();
        let courtyards = self.courtyards(&caller).await?;
        let value = mapping::definition(&sub, &courtyards, lang);
        Ok(respond(
            format,
            StatusCode::OK,
            "service_definition",
            &value,
        ))
    }

    /// An issue by its ID, or none when it does not exist or is out of
    /// the caller's reach.
    async fn issue(&self, caller: &Caller, id: &str) -> Result<Option<Issue>, Open311Error> {
        let Ok(id) = uuid::Uuid::try_parse(id) else {
            return Ok(None);
        };
        match self
            .issues(caller)
            .get_issue(GetIssueRequest {
                name: names::format("issues", id),
            })
            .await
        {
            Ok(issue) => Ok(Some(issue.into_inner())),
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound | tonic::Code::PermissionDenied
                ) =>
            {
                Ok(None)
            }
            Err(s) => Err(s.into()),
        }
    }

    async fn requests(
        &self,
        headers: &HeaderMap,
        params: &[(String, String)],
        format: Format,
    ) -> Answer {
        let caller = self.caller(headers, params, false).await?;
        let issues = match param(params, "service_request_id") {
            // Asking by id ignores every other parameter, as the spec says.
            Some(ids) => {
                let mut found = Vec::new();
                for id in ids.split(',').map(str::trim).take(MAX_REQUESTS as usize) {
                    if let Some(issue) = self.issue(&caller, id).await? {
                        found.push(issue);
                    }
                }
                found
            }
            None => {
                let filter = list_filter(params, self.gw.ctx.clock.now())?;
                self.issues(&caller)
                    .list_issues(ListIssuesRequest {
                        page_size: MAX_REQUESTS,
                        filter,
                        ..Default::default()
                    })
                    .await?
                    .into_inner()
                    .issues
            }
        };
        let requests = self.as_requests(&caller, issues, params, headers).await?;
        Ok(respond(
            format,
            StatusCode::OK,
            "service_requests",
            &requests,
        ))
    }

    /// Issues as service requests, each with its public timeline.
    async fn as_requests(
        &self,
        caller: &Caller,
        mut issues: Vec<Issue>,
        params: &[(String, String)],
        headers: &HeaderMap,
    ) -> Result<Value, Open311Error> {
        // A kept photo's `media_url` is a signed link for the caller, who
        // may see the issue: on this gateway's own address.
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if crate::console::session::over_https(headers) {
            "https"
        } else {
            "http"
        };
        for issue in &mut issues {
            if let Some(first) = issue.media.first_mut()
                && let Some(kept) = crate::media::Kept::parse(&first.uri)
            {
                first.uri = crate::media::links::link(&self.gw, kept, crate::media::Size::Full)
                    .await
                    .map(|link| format!("{scheme}://{host}{link}"))
                    .unwrap_or_default();
            }
        }
        let lang = Language::from_locale(param(params, "locale"));
        let names: HashMap<String, String> = self
            .sub_items(caller)
            .await?
            .into_iter()
            .map(|s| {
                let name = match lang {
                    Language::English if !s.english_name.is_empty() => s.english_name,
                    _ => s.display_name,
                };
                (s.name, name)
            })
            .collect();
        // The timelines, a call each, 16 at a time.
        let client = self.issues(caller);
        let mut timelines = Vec::with_capacity(issues.len());
        for chunk in issues.chunks(16) {
            let calls = chunk.iter().map(|issue| {
                let mut client = client.clone();
                let parent = issue.name.clone();
                async move {
                    client
                        .list_issue_updates(ListIssueUpdatesRequest {
                            parent,
                            page_size: 1000,
                            ..Default::default()
                        })
                        .await
                        .map(|r| r.into_inner().updates)
                }
            });
            timelines.extend(futures_util::future::try_join_all(calls).await?);
        }
        let mut agencies: HashMap<String, String> = HashMap::new();
        let mut out = Vec::with_capacity(issues.len());
        for (issue, updates) in issues.iter().zip(&timelines) {
            let agency = match names::parse("organizations", &issue.assignee) {
                None => String::new(),
                Some(id) => match agencies.get(&issue.assignee) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self
                            .gw
                            .directory
                            .organization(id)
                            .await?
                            .map(|o| o.display_name)
                            .unwrap_or_default();
                        agencies.insert(issue.assignee.clone(), name.clone());
                        name
                    }
                },
            };
            let service = names.get(&issue.sub_item).map_or("", String::as_str);
            out.push(mapping::request(
                issue,
                service,
                &agency,
                &mapping::status_notes(updates),
            ));
        }
        Ok(Value::Array(out))
    }

    /// POST `requests`: a report, by a partner. The issue's `request_id`
    /// is the client's `Idempotency-Key` header, or else a digest of the
    /// partner and everything it posted, so a client that retries after a
    /// lost answer gets the same request back rather than a second one.
    async fn report(
        &self,
        headers: &HeaderMap,
        form: &[(String, String)],
        peer: &str,
        format: Format,
    ) -> Answer {
        let started = std::time::Instant::now();
        let caller = self.caller(headers, form, true).await?;
        let principal = &caller.principal();
        let service_code = param(form, "service_code")
            .ok_or_else(|| Open311Error::bad_request("service_code: is required"))?;
        let courtyard = self.locate(&caller, form).await?;
        let location = match (param(form, "lat"), param(form, "long")) {
            (Some(lat), Some(long)) => Some(coordinates(lat, long)?),
            _ => None,
        };
        let description = param(form, "description").unwrap_or_default();
        let priority = match param(form, "attribute[priority]") {
            None => Priority::Unspecified,
            Some(p) => Priority::from_str_name(&format!("PRIORITY_{}", p.to_ascii_uppercase()))
                .ok_or_else(|| {
                    Open311Error::bad_request(format!(
                        "attribute[priority]: one of {}",
                        mapping::PRIORITIES.join(", ")
                    ))
                })?,
        };
        let reporter = [param(form, "first_name"), param(form, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let phone = param(form, "phone").unwrap_or_default();
        let email = param(form, "email").unwrap_or_default();
        let reporter_contact = (!reporter.is_empty() || !phone.is_empty() || !email.is_empty())
            .then(|| ContactDetails {
                display_name: reporter,
                phone: phone.to_owned(),
                // GeoReport has no postal address; e-mail is how to reach them.
                address: email.to_owned(),
            });
        let request_id = idempotency_key(headers, principal, form);
        let issue = Issue {
            courtyard: names::format("courtyards", courtyard),
            sub_item: format!("subItems/{service_code}"),
            title: title_of(description, service_code),
            description: description.to_owned(),
            location,
            address_text: param(form, "address_string").unwrap_or_default().to_owned(),
            media: param(form, "media_url")
                .map(|uri| {
                    vec![Media {
                        uri: uri.to_owned(),
                        ..Default::default()
                    }]
                })
                .unwrap_or_default(),
            channel: cogov_proto::issues::Channel::Open311 as i32,
            priority: priority as i32,
            reporter_contact,
            ..Default::default()
        };
        let result = self
            .issues(&caller)
            .report_issue(ReportIssueRequest {
                issue: Some(issue),
                request_id: request_id.clone(),
            })
            .await;
        self.audit(&caller, &result, &request_id, peer, started)
            .await;
        let issue = result?.into_inner();
        let id = mapping::id_of(&issue.name);
        let value = json!([{
            "service_request_id": id,
            "token": id,
            "service_notice": "",
            "account_id": param(form, "account_id"),
        }]);
        Ok(respond(format, StatusCode::OK, "service_requests", &value))
    }

    async fn audit(
        &self,
        caller: &Caller,
        result: &Result<tonic::Response<Issue>, tonic::Status>,
        request_id: &str,
        peer: &str,
        started: std::time::Instant,
    ) {
        let (code, target) = match result {
            Ok(issue) => (0, issue.get_ref().name.clone()),
            Err(s) => (s.code() as i32, String::new()),
        };
        self.sink
            .record(Entry {
                principal: Some(caller.principal()),
                partner: caller.partner_record(),
                method: "/open311/v2/requests".into(),
                target,
                code,
                request_id: request_id.to_owned(),
                peer: peer.to_owned(),
                time: self.gw.ctx.clock.now(),
                duration: started.elapsed(),
            })
            .await;
    }

    /// The courtyard a report is about: `address_id` or
    /// `attribute[courtyard]` (its ID or name), or else the nearest
    /// courtyard in the caller's reach within 500 m of `lat`/`long`.
    async fn locate(
        &self,
        caller: &Caller,
        form: &[(String, String)],
    ) -> Result<uuid::Uuid, Open311Error> {
        let named = param(form, "address_id").or_else(|| param(form, "attribute[courtyard]"));
        if let Some(named) = named {
            let id = mapping::id_of(named);
            return uuid::Uuid::try_parse(id).map_err(|_| {
                Open311Error::bad_request(format!("address_id: {named} is not a courtyard ID"))
            });
        }
        let (Some(lat), Some(long)) = (param(form, "lat"), param(form, "long")) else {
            return Err(Open311Error::bad_request(
                "a location is required: address_id (a courtyard), attribute[courtyard], or lat and long",
            ));
        };
        let here = coordinates(lat, long)?;
        let nearest = self
            .courtyards(caller)
            .await?
            .into_iter()
            .filter_map(|c| {
                let at = c.location.as_ref()?;
                let d = mapping::distance_m(
                    (here.latitude, here.longitude),
                    (at.latitude, at.longitude),
                );
                Some((d, c.name))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match nearest {
            Some((d, name)) if d <= NEAREST_COURTYARD_M => names::parse("courtyards", &name)
                .ok_or_else(|| Open311Error::bad_request(format!("{name} is not a courtyard"))),
            _ => Err(Open311Error::bad_request(format!(
                "lat/long: no courtyard within {NEAREST_COURTYARD_M} m; give address_id"
            ))),
        }
    }
}
