//! `cogov.gateway.v1.ResidentsService`: each RPC's handler. The door
//! ([`crate::front`]) has checked the method policy; the public RPCs (the
//! sign-in steps) come without a principal.

use chrono::Duration;
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::listing::{self, ListQuery};
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::gateway::residents_service_server::ResidentsService;
use cogov_proto::gateway::*;
use cogov_proto::organizations::{Person, RegisterPersonRequest};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::{Code, Request, Response, Status};
use uuid::Uuid;

use super::sender::Message;
use super::sessions::{self, Origin, Renewal};
use super::tokens::Ticket;
use super::{codes, inbox, privacy, privacy_notice};
use crate::Gateway;
use crate::entity::resident_sessions::{Column, Entity};
use crate::front::{CallerAddress, CurrentSession, SignedInAs};

/// How long a registration ticket works.
pub const TICKET_LIFETIME: Duration = Duration::minutes(30);

fn phone(field: &str, value: &str) -> Result<String> {
    cogov_kit::phone::normalize(value).map_err(|e| Error::invalid(field, e))
}

fn device(c: &mut Check, value: &str) {
    c.line("device", value, 0, 200);
}

/// The address without its port: limits count addresses.
fn host(peer: &str) -> &str {
    match peer.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
            host.trim_start_matches('[').trim_end_matches(']')
        }
        _ => peer,
    }
}

fn origin<T>(request: &Request<T>, device: &str) -> Origin {
    Origin {
        door: "phone",
        device: device.to_owned(),
        peer: request
            .extensions()
            .get::<CallerAddress>()
            .map(|a| a.0.clone())
            .unwrap_or_default(),
    }
}

/// Who a proven number is: a session as its person, or a ticket to
/// register with when it is nobody's. Every door that proves a number
/// ends here.
pub async fn sign_in_with_phone(
    gw: &Gateway,
    phone: &str,
    origin: Origin,
) -> Result<(SignInResponse, Option<Principal>)> {
    let keys = gw.residents.keys(&gw.ctx.db).await?;
    let now = gw.ctx.clock.now();
    let persons = gw.directory.persons_with_phone(phone).await?;
    match persons.as_slice() {
        [] => {
            let ticket = Ticket {
                id: Uuid::new_v4(),
                phone: phone.to_owned(),
                expire: now + TICKET_LIFETIME,
            };
            Ok((
                SignInResponse {
                    outcome: Some(sign_in_response::Outcome::Registration(
                        RegistrationTicket {
                            ticket: keys.ticket(&ticket),
                            expire_time: Some(convert::timestamp(ticket.expire)),
                            privacy_notice: Some(privacy_notice::notice("zh-CN")),
                        },
                    )),
                },
                None,
            ))
        }
        [person] => {
            let tokens = sessions::open(gw.ctx.db.write(), keys, person.id, origin, now).await?;
            Ok((
                SignInResponse {
                    outcome: Some(sign_in_response::Outcome::Tokens(tokens)),
                },
                Some(Principal::resident(person.id)),
            ))
        }
        _ => Err(Error::precondition(
            ErrorReason::PhoneShared,
            "PHONE",
            "phone",
            "several persons in the registry have this number; community staff can tell them apart",
        )),
    }
}

/// A response that tells the door who signed in, for the audit record.
fn signed_in<T>(message: T, who: Option<Principal>) -> Response<T> {
    let mut response = Response::new(message);
    if let Some(who) = who {
        response.extensions_mut().insert(SignedInAs(who));
    }
    response
}

async fn send_code(
    gw: &Gateway,
    peer: &str,
    req: SendSignInCodeRequest,
) -> Result<SendSignInCodeResponse> {
    let sender = &gw.residents.config().sender;
    if !sender.enabled() {
        return Err(Error::precondition(
            ErrorReason::SignInDisabled,
            "CONFIGURATION",
            "phone",
            "sign-in by phone is not set up on this gateway (COGOV_SIGN_IN_SENDER)",
        ));
    }
    let phone = phone("phone", &req.phone)?;
    let keys = gw.residents.keys(&gw.ctx.db).await?;
    let now = gw.ctx.clock.now();
    let (code, expire) = codes::issue(gw.ctx.db.write(), keys, &phone, host(peer), now).await?;
    // Known number or not, the same code goes out and the same answer
    // comes back: nothing here tells who has a number.
    sender.send(Message::code(&phone, &code, expire));
    Ok(SendSignInCodeResponse {
        expire_time: Some(convert::timestamp(expire)),
        resend_after: Some(prost_types::Duration {
            seconds: codes::RESEND_AFTER.num_seconds(),
            nanos: 0,
        }),
        code_length: codes::LENGTH as i32,
    })
}

async fn sign_in(
    gw: &Gateway,
    origin: Origin,
    req: SignInRequest,
) -> Result<(SignInResponse, Option<Principal>)> {
    let mut c = Check::new();
    let phone = match cogov_kit::phone::normalize(&req.phone) {
        Ok(p) => p,
        Err(e) => {
            c.add("phone", e);
            String::new()
        }
    };
    if req.code.len() != codes::LENGTH || !req.code.bytes().all(|b| b.is_ascii_digit()) {
        c.add("code", format!("{} digits", codes::LENGTH));
    }
    device(&mut c, &req.device);
    c.finish()?;
    let keys = gw.residents.keys(&gw.ctx.db).await?;
    codes::consume(
        gw.ctx.db.write(),
        keys,
        &phone,
        &req.code,
        gw.ctx.clock.now(),
    )
    .await?;
    sign_in_with_phone(gw, &phone, origin).await
}

async fn register(
    gw: &Gateway,
    origin: Origin,
    req: RegisterResidentRequest,
) -> Result<(SignInResponse, Option<Principal>)> {
    let keys = gw.residents.keys(&gw.ctx.db).await?;
    let now = gw.ctx.clock.now();
    let mut c = Check::new();
    c.line("display_name", &req.display_name, 1, 100);
    let courtyard = c.name("courtyard", &req.courtyard, "courtyards");
    let building = c.optional_name("building", &req.building, "buildings");
    if req.privacy_notice_version != privacy_notice::VERSION {
        c.add(
            "privacy_notice_version",
            format!("is not the current notice, {}", privacy_notice::VERSION),
        );
    }
    if !req.consent {
        c.add("consent", "registering needs consent to the privacy notice");
    }
    device(&mut c, &req.device);
    let ticket = keys.read_ticket(&req.ticket);
    if ticket.is_none() {
        c.add("ticket", "is not a registration ticket of this gateway");
    }
    c.finish()?;
    let ticket = ticket.expect("checked");
    if ticket.expire <= now {
        return Err(Error::Unauthenticated {
            reason: ErrorReason::TicketExpired,
            message: "the registration ticket expired; sign in again".into(),
        });
    }
    let Some(place) = gw.directory.courtyard(courtyard).await? else {
        return Err(Error::invalid("courtyard", "no such courtyard"));
    };
    if let Some(building) = building
        && gw.directory.building_courtyard(building).await? != Some(courtyard)
    {
        return Err(Error::invalid("building", "is not in the courtyard"));
    }
    let registered = gw
        .directory
        .organizations()
        .register_person(RegisterPersonRequest {
            person: Some(Person {
                display_name: req.display_name.clone(),
                community: names::format("communities", place.community),
                courtyard: req.courtyard.clone(),
                building: req.building.clone(),
                phone: ticket.phone.clone(),
                ..Default::default()
            }),
            privacy_notice_version: req.privacy_notice_version.clone(),
            // One ticket, one person: a retry returns the first.
            request_id: ticket.id.to_string(),
        })
        .await;
    match registered {
        Ok(person) => {
            let person = names::parse("persons", &person.into_inner().name)
                .ok_or_else(|| Error::Internal("a person without a name".into()))?;
            let tokens = sessions::open(gw.ctx.db.write(), keys, person, origin, now).await?;
            Ok((
                SignInResponse {
                    outcome: Some(sign_in_response::Outcome::Tokens(tokens)),
                },
                Some(Principal::resident(person)),
            ))
        }
        // Registered meanwhile (another ticket for the same number, or
        // staff): the ticket proves the number, so sign in as its person.
        Err(s) if s.code() == Code::AlreadyExists => {
            sign_in_with_phone(gw, &ticket.phone, origin).await
        }
        Err(s) if s.code() == Code::InvalidArgument => {
            Err(Error::invalid("registration", s.message().to_owned()))
        }
        Err(s) => Err(Error::Unavailable(format!(
            "organizations service: {}",
            s.message()
        ))),
    }
}

async fn refresh(
    gw: &Gateway,
    req: RefreshResidentSessionRequest,
) -> Result<(ResidentTokens, Principal)> {
    let keys = gw.residents.keys(&gw.ctx.db).await?;
    match sessions::refresh(
        gw.ctx.db.write(),
        keys,
        &req.refresh_token,
        gw.ctx.clock.now(),
    )
    .await?
    {
        Renewal::Renewed(tokens) => {
            let person = tokens
                .session
                .as_ref()
                .and_then(|s| sessions::parse_name(&s.name))
                .map(|(person, _)| person)
                .ok_or_else(|| Error::Internal("a session without a name".into()))?;
            Ok((*tokens, Principal::resident(person)))
        }
        Renewal::Reused(ended) => {
            gw.residents.revocations().note(ended.id);
            tracing::warn!(
                session = %ended.id,
                person = %ended.person_id,
                "a spent refresh token came back: the session is ended"
            );
            Err(Error::Unauthenticated {
                reason: ErrorReason::RefreshTokenReused,
                message: "this refresh token was used before, so it may have been copied: the session is ended; sign in again".into(),
            })
        }
    }
}

/// The person a `parent` names for `principal`, if the caller may see
/// their sessions.
async fn person_in_reach(
    gw: &Gateway,
    principal: &Principal,
    name: &str,
    field: &str,
) -> Result<Uuid> {
    let person = match (principal, name) {
        (Principal::Resident { person, .. }, "persons/me") => *person,
        _ => names::parse("persons", name)
            .ok_or_else(|| Error::invalid(field, "expected `persons/{id}` (or `persons/me`)"))?,
    };
    let allowed = match principal {
        Principal::Resident { person: me, .. } => *me == person,
        Principal::StreetAdmin { .. } => true,
        Principal::CommunityAdmin { community, .. } => gw
            .directory
            .person(person)
            .await?
            .is_some_and(|p| p.community == *community),
        _ => false,
    };
    if allowed {
        Ok(person)
    } else {
        Err(Error::out_of_reach(names::format("persons", person)))
    }
}

async fn list_sessions(
    gw: &Gateway,
    principal: &Principal,
    current: Option<Uuid>,
    req: ListResidentSessionsRequest,
) -> Result<ListResidentSessionsResponse> {
    let person = person_in_reach(gw, principal, &req.parent, "parent").await?;
    let query = ListQuery::new(
        "ListResidentSessions",
        req.page_size,
        &req.page_token,
        "",
        "",
    );
    let mut base = Entity::find().filter(Column::PersonId.eq(person));
    base = if req.show_ended {
        base.filter(
            Column::EndTime
                .is_null()
                .or(Column::EndTime.gt(gw.ctx.clock.now() - Duration::days(30))),
        )
    } else {
        base.filter(Column::EndTime.is_null())
            .filter(Column::ExpireTime.gt(gw.ctx.clock.now()))
    };
    let (rows, next_page_token) =
        listing::newest_first(&gw.ctx.tokens, &gw.ctx.db, query, base, Column::Id, |m| {
            m.id
        })
        .await?;
    Ok(ListResidentSessionsResponse {
        sessions: rows
            .iter()
            .map(|m| sessions::to_proto(m, current))
            .collect(),
        next_page_token,
    })
}

async fn end_session(
    gw: &Gateway,
    principal: &Principal,
    current: Option<Uuid>,
    req: EndResidentSessionRequest,
) -> Result<ResidentSession> {
    let (person, session) = sessions::parse_name(&req.name)
        .ok_or_else(|| Error::invalid("name", "expected `persons/{id}/sessions/{id}`"))?;
    let person = person_in_reach(gw, principal, &names::format("persons", person), "name").await?;
    let row = Entity::find_by_id(session)
        .one(gw.ctx.db.write())
        .await?
        .filter(|s| s.person_id == person)
        .ok_or_else(|| Error::NotFound {
            resource_type: "ResidentSession",
            name: req.name.clone(),
        })?;
    let why = match principal {
        Principal::Resident { .. } if current == Some(session) => SessionEnd::SignedOut,
        Principal::Resident { .. } => SessionEnd::EndedByResident,
        _ => SessionEnd::EndedByStaff,
    };
    let ended = sessions::end(gw.ctx.db.write(), row, why, gw.ctx.clock.now()).await?;
    gw.residents.revocations().note(ended.id);
    Ok(sessions::to_proto(&ended, current))
}

fn caller(request: &Request<impl Sized>) -> std::result::Result<Principal, Status> {
    Ok(cogov_kit::auth::principal(request)?)
}

fn current<T>(request: &Request<T>) -> Option<Uuid> {
    request.extensions().get::<CurrentSession>().map(|s| s.0)
}

#[tonic::async_trait]
impl ResidentsService for Gateway {
    type WatchNoticesStream = tokio_stream::wrappers::ReceiverStream<Result<Notice, Status>>;

    async fn export_my_data(
        &self,
        request: Request<ExportMyDataRequest>,
    ) -> Result<Response<PersonalDataExport>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            privacy::export(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn request_erasure(
        &self,
        request: Request<RequestErasureRequest>,
    ) -> Result<Response<ErasureRequest>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            privacy::request(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn list_erasure_requests(
        &self,
        request: Request<ListErasureRequestsRequest>,
    ) -> Result<Response<ListErasureRequestsResponse>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            privacy::list(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn carry_out_erasure(
        &self,
        request: Request<CarryOutErasureRequest>,
    ) -> Result<Response<ErasureRequest>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            privacy::carry_out(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn decline_erasure(
        &self,
        request: Request<DeclineErasureRequest>,
    ) -> Result<Response<ErasureRequest>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            privacy::decline(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn list_notices(
        &self,
        request: Request<ListNoticesRequest>,
    ) -> Result<Response<ListNoticesResponse>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            inbox::list(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn mark_notices_read(
        &self,
        request: Request<MarkNoticesReadRequest>,
    ) -> Result<Response<MarkNoticesReadResponse>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(
            inbox::mark_read(self, &principal, request.into_inner()).await?,
        ))
    }

    async fn watch_notices(
        &self,
        request: Request<WatchNoticesRequest>,
    ) -> Result<Response<Self::WatchNoticesStream>, Status> {
        let principal = caller(&request)?;
        let rx = inbox::watch(self, &principal, request.into_inner()).await?;
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn send_sign_in_code(
        &self,
        request: Request<SendSignInCodeRequest>,
    ) -> Result<Response<SendSignInCodeResponse>, Status> {
        let peer = origin(&request, "").peer;
        Ok(Response::new(
            send_code(self, &peer, request.into_inner()).await?,
        ))
    }

    async fn sign_in(
        &self,
        request: Request<SignInRequest>,
    ) -> Result<Response<SignInResponse>, Status> {
        let origin = origin(&request, &request.get_ref().device);
        let (out, who) = sign_in(self, origin, request.into_inner()).await?;
        Ok(signed_in(out, who))
    }

    async fn register_resident(
        &self,
        request: Request<RegisterResidentRequest>,
    ) -> Result<Response<SignInResponse>, Status> {
        let origin = origin(&request, &request.get_ref().device);
        let (out, who) = register(self, origin, request.into_inner()).await?;
        Ok(signed_in(out, who))
    }

    async fn refresh_resident_session(
        &self,
        request: Request<RefreshResidentSessionRequest>,
    ) -> Result<Response<ResidentTokens>, Status> {
        let (out, who) = refresh(self, request.into_inner()).await?;
        Ok(signed_in(out, Some(who)))
    }

    async fn get_privacy_notice(
        &self,
        request: Request<GetPrivacyNoticeRequest>,
    ) -> Result<Response<PrivacyNotice>, Status> {
        Ok(Response::new(privacy_notice::notice(
            &request.get_ref().language,
        )))
    }

    async fn sign_out(&self, request: Request<SignOutRequest>) -> Result<Response<()>, Status> {
        let principal = caller(&request)?;
        let (Principal::Resident { person, .. }, Some(session)) = (&principal, current(&request))
        else {
            return Err(
                Error::forbidden("sign out: only a signed-in resident has a session here").into(),
            );
        };
        end_session(
            self,
            &principal,
            Some(session),
            EndResidentSessionRequest {
                name: sessions::name(*person, session),
            },
        )
        .await?;
        Ok(Response::new(()))
    }

    async fn list_resident_sessions(
        &self,
        request: Request<ListResidentSessionsRequest>,
    ) -> Result<Response<ListResidentSessionsResponse>, Status> {
        let principal = caller(&request)?;
        let current = current(&request);
        Ok(Response::new(
            list_sessions(self, &principal, current, request.into_inner()).await?,
        ))
    }

    async fn end_resident_session(
        &self,
        request: Request<EndResidentSessionRequest>,
    ) -> Result<Response<ResidentSession>, Status> {
        let principal = caller(&request)?;
        let current = current(&request);
        Ok(Response::new(
            end_session(self, &principal, current, request.into_inner()).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_addresses_without_their_ports() {
        assert_eq!(super::host("10.0.0.7:51234"), "10.0.0.7");
        assert_eq!(super::host("[::1]:51234"), "::1");
        assert_eq!(super::host(""), "");
    }
}
