//! Who is calling: the principal the gateway asserts, verified here.
//!
//! The gateway authenticates callers and sends the services a
//! `PrincipalAssertion` in `x-cogov-principal-bin`, with an HMAC-SHA256 of its
//! bytes under the internal secret in `x-cogov-principal-sig-bin`. Services
//! accept nothing else: an unsigned, forged or expired assertion is refused
//! with UNAUTHENTICATED. Only when the operator configures a development
//! principal do calls without any assertion run as that principal.

use std::sync::Arc;

use chrono::Duration;
use cogov_proto::common::{self as pb, principal::Kind};
use hmac::{Hmac, KeyInit, Mac};
use prost::Message;
use sha2::Sha256;
use tonic::metadata::{BinaryMetadataValue, MetadataMap};
use tonic::service::Interceptor;
use tonic::{Request, Status};
use uuid::Uuid;

use crate::clock::Clock;
use crate::convert;
use crate::error::Error;
use crate::error::ErrorReason;
use crate::names;

/// Metadata key of the encoded assertion.
pub const PRINCIPAL_HEADER: &str = "x-cogov-principal-bin";
/// Metadata key of the assertion's HMAC.
pub const SIGNATURE_HEADER: &str = "x-cogov-principal-sig-bin";

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Street office staff: the whole street.
    StreetAdmin { subject: String },
    /// Community staff: one community.
    CommunityAdmin { subject: String, community: Uuid },
    /// A partner organisation's system.
    Partner { organization: Uuid, key: String },
    /// A resident acting for themselves, or through a staff member who
    /// acts for them at the service station (`assisted_by`).
    Resident {
        person: Uuid,
        assisted_by: Option<Assistant>,
    },
    /// One of cogov's services acting on an event.
    Service { name: String },
}

/// A staff member acting for a resident who cannot act themselves (no
/// phone, no app), as CONSUL's management module has it: the call is the
/// resident's, and every record of it names the staff member too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assistant {
    /// Their staff account.
    pub subject: String,
    /// Their community; `None` for street staff.
    pub community: Option<Uuid>,
}

impl Assistant {
    /// The staff member behind `principal`; `None` for anyone else.
    pub fn of(principal: &Principal) -> Option<Assistant> {
        match principal {
            Principal::StreetAdmin { subject } => Some(Assistant {
                subject: subject.clone(),
                community: None,
            }),
            Principal::CommunityAdmin { subject, community } => Some(Assistant {
                subject: subject.clone(),
                community: Some(*community),
            }),
            _ => None,
        }
    }

    /// Who they are as a principal of their own.
    pub fn as_staff(&self) -> Principal {
        match self.community {
            Some(community) => Principal::CommunityAdmin {
                subject: self.subject.clone(),
                community,
            },
            None => Principal::StreetAdmin {
                subject: self.subject.clone(),
            },
        }
    }
}

impl Principal {
    /// A resident acting for themselves.
    pub fn resident(person: Uuid) -> Principal {
        Principal::Resident {
            person,
            assisted_by: None,
        }
    }

    /// The staff member acting for a resident, if one is.
    pub fn assistant(&self) -> Option<&Assistant> {
        match self {
            Principal::Resident { assisted_by, .. } => assisted_by.as_ref(),
            _ => None,
        }
    }

    /// The partner organisation, if the caller is a partner.
    pub fn partner(&self) -> Option<Uuid> {
        match self {
            Principal::Partner { organization, .. } => Some(*organization),
            _ => None,
        }
    }

    /// True for street admins and internal services, who see everything.
    pub fn sees_everything(&self) -> bool {
        matches!(
            self,
            Principal::StreetAdmin { .. } | Principal::Service { .. }
        )
    }

    /// True for any staff member.
    pub fn is_staff(&self) -> bool {
        matches!(
            self,
            Principal::StreetAdmin { .. } | Principal::CommunityAdmin { .. }
        )
    }

    /// The community of a community admin.
    pub fn admin_community(&self) -> Option<Uuid> {
        match self {
            Principal::CommunityAdmin { community, .. } => Some(*community),
            _ => None,
        }
    }

    /// A short, log-safe description: `street-admin:alice`,
    /// `partner:organizations/…`, `community-admin:bo@communities/… for
    /// resident:persons/…`.
    pub fn describe(&self) -> String {
        match self {
            Principal::StreetAdmin { subject } => format!("street-admin:{subject}"),
            Principal::CommunityAdmin { subject, community } => {
                format!(
                    "community-admin:{subject}@{}",
                    names::format("communities", *community)
                )
            }
            Principal::Partner { organization, .. } => {
                format!("partner:{}", names::format("organizations", *organization))
            }
            Principal::Resident {
                person,
                assisted_by,
            } => {
                let resident = format!("resident:{}", names::format("persons", *person));
                match assisted_by {
                    Some(a) => format!("{} for {resident}", a.as_staff().describe()),
                    None => resident,
                }
            }
            Principal::Service { name } => format!("service:{name}"),
        }
    }

    /// Parses the operator's spelling of a development principal:
    /// `street-admin`, `community-admin:communities/{id}`,
    /// `partner:organizations/{id}`, `resident:persons/{id}`.
    pub fn parse_spec(spec: &str) -> Result<Principal, String> {
        let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
        let need = |collection: &str| {
            names::parse(collection, arg)
                .ok_or_else(|| format!("`{kind}:` needs a `{collection}/{{uuid}}` name"))
        };
        match kind {
            "street-admin" => Ok(Principal::StreetAdmin {
                subject: if arg.is_empty() {
                    "dev".into()
                } else {
                    arg.into()
                },
            }),
            "community-admin" => Ok(Principal::CommunityAdmin {
                subject: "dev".into(),
                community: need("communities")?,
            }),
            "partner" => Ok(Principal::Partner {
                organization: need("organizations")?,
                key: "dev".into(),
            }),
            "resident" => Ok(Principal::resident(need("persons")?)),
            other => Err(format!(
                "unknown principal kind `{other}`: use street-admin, community-admin:…, partner:… or resident:…"
            )),
        }
    }

    /// The protobuf form.
    pub fn to_proto(&self) -> pb::Principal {
        let kind = match self {
            Principal::StreetAdmin { subject } => Kind::Staff(pb::StaffPrincipal {
                subject: subject.clone(),
                role: pb::StaffRole::StreetAdmin as i32,
                community: String::new(),
                display_name: String::new(),
            }),
            Principal::CommunityAdmin { subject, community } => Kind::Staff(pb::StaffPrincipal {
                subject: subject.clone(),
                role: pb::StaffRole::CommunityAdmin as i32,
                community: names::format("communities", *community),
                display_name: String::new(),
            }),
            Principal::Partner { organization, key } => Kind::Partner(pb::PartnerPrincipal {
                organization: names::format("organizations", *organization),
                key: key.clone(),
            }),
            Principal::Resident {
                person,
                assisted_by,
            } => Kind::Resident(pb::ResidentPrincipal {
                person: names::format("persons", *person),
                assisted_by: assisted_by.as_ref().and_then(|a| {
                    match a.as_staff().to_proto().kind {
                        Some(Kind::Staff(s)) => Some(s),
                        _ => None,
                    }
                }),
            }),
            Principal::Service { name } => Kind::Service(pb::ServicePrincipal {
                service: name.clone(),
            }),
        };
        pb::Principal { kind: Some(kind) }
    }

    /// From the protobuf form; `None` when incomplete or malformed.
    pub fn from_proto(p: &pb::Principal) -> Option<Principal> {
        Some(match p.kind.as_ref()? {
            Kind::Staff(s) => match pb::StaffRole::try_from(s.role).ok()? {
                pb::StaffRole::StreetAdmin => Principal::StreetAdmin {
                    subject: s.subject.clone(),
                },
                pb::StaffRole::CommunityAdmin => Principal::CommunityAdmin {
                    subject: s.subject.clone(),
                    community: names::parse("communities", &s.community)?,
                },
                pb::StaffRole::Unspecified => return None,
            },
            Kind::Partner(p) => Principal::Partner {
                organization: names::parse("organizations", &p.organization)?,
                key: p.key.clone(),
            },
            Kind::Resident(r) => Principal::Resident {
                person: names::parse("persons", &r.person)?,
                assisted_by: match &r.assisted_by {
                    None => None,
                    Some(s) => Some(Assistant::of(&Principal::from_proto(&pb::Principal {
                        kind: Some(Kind::Staff(s.clone())),
                    })?)?),
                },
            },
            Kind::Service(s) if !s.service.is_empty() => Principal::Service {
                name: s.service.clone(),
            },
            Kind::Service(_) => return None,
        })
    }
}

/// Signs and verifies principal assertions; as a tonic interceptor it puts
/// the verified [`Principal`] into each request's extensions.
#[derive(Clone)]
pub struct Authenticator {
    secret: Arc<[u8]>,
    dev_principal: Option<Principal>,
    clock: Clock,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("dev_principal", &self.dev_principal)
            .finish_non_exhaustive()
    }
}

fn unauthenticated(reason: ErrorReason, message: &str) -> Error {
    Error::Unauthenticated {
        reason,
        message: message.to_owned(),
    }
}

impl Authenticator {
    /// Verifies with `secret`; calls without an assertion run as
    /// `dev_principal` when one is given, and are refused otherwise.
    pub fn new(secret: &[u8], dev_principal: Option<Principal>, clock: Clock) -> Self {
        Self {
            secret: secret.into(),
            dev_principal,
            clock,
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length")
    }

    /// Puts a signed assertion of `principal`, valid for `ttl`, into
    /// `metadata` (replacing any there). The gateway and tests use this.
    pub fn attach(&self, metadata: &mut MetadataMap, principal: &Principal, ttl: Duration) {
        let now = self.clock.now();
        let assertion = pb::PrincipalAssertion {
            principal: Some(principal.to_proto()),
            issue_time: Some(convert::timestamp(now)),
            expire_time: Some(convert::timestamp(now + ttl)),
            request_id: String::new(),
        };
        let bytes = assertion.encode_to_vec();
        let mut mac = self.mac();
        mac.update(&bytes);
        let sig = mac.finalize().into_bytes();
        metadata.insert_bin(PRINCIPAL_HEADER, BinaryMetadataValue::from_bytes(&bytes));
        metadata.insert_bin(SIGNATURE_HEADER, BinaryMetadataValue::from_bytes(&sig));
    }

    /// The verified principal of a call.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, Error> {
        let Some(assertion) = metadata.get_bin(PRINCIPAL_HEADER) else {
            return self.dev_principal.clone().ok_or_else(|| {
                unauthenticated(
                    ErrorReason::PrincipalMissing,
                    "no credentials: call through the gateway",
                )
            });
        };
        let invalid = || {
            unauthenticated(
                ErrorReason::PrincipalInvalid,
                "the principal assertion is invalid",
            )
        };
        let bytes = assertion.to_bytes().map_err(|_| invalid())?;
        let sig = metadata
            .get_bin(SIGNATURE_HEADER)
            .and_then(|s| s.to_bytes().ok())
            .ok_or_else(|| {
                unauthenticated(
                    ErrorReason::PrincipalUnsigned,
                    "the principal assertion is not signed",
                )
            })?;
        let mut mac = self.mac();
        mac.update(&bytes);
        // Constant-time comparison.
        mac.verify_slice(&sig).map_err(|_| invalid())?;
        let assertion = pb::PrincipalAssertion::decode(bytes.as_ref()).map_err(|_| invalid())?;
        let expire = assertion
            .expire_time
            .as_ref()
            .and_then(convert::from_timestamp)
            .ok_or_else(invalid)?;
        if expire <= self.clock.now() {
            return Err(unauthenticated(
                ErrorReason::PrincipalExpired,
                "the principal assertion has expired",
            ));
        }
        assertion
            .principal
            .as_ref()
            .and_then(Principal::from_proto)
            .ok_or_else(invalid)
    }
}

impl Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let principal = self.authenticate(request.metadata())?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

/// Calls another service as `principal`: signs it onto each call, with
/// the current trace context.
#[derive(Clone, Debug)]
pub struct Signer {
    auth: Authenticator,
    principal: Principal,
}

impl Signer {
    /// Signs with `auth` as `principal`.
    pub fn new(auth: Authenticator, principal: Principal) -> Self {
        Self { auth, principal }
    }
}

impl Interceptor for Signer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        self.auth.attach(
            request.metadata_mut(),
            &self.principal,
            Duration::seconds(30),
        );
        crate::telemetry::propagate(request.metadata_mut());
        Ok(request)
    }
}

/// The principal the [`Authenticator`] verified for this request.
pub fn principal<T>(request: &Request<T>) -> Result<Principal, Error> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Error::Internal("service mounted without the authenticator".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(dev: Option<Principal>) -> Authenticator {
        Authenticator::new(b"internal", dev, Clock::manual(chrono::Utc::now()))
    }

    #[test]
    fn signed_assertions_verify() {
        let a = auth(None);
        let p = Principal::Partner {
            organization: Uuid::now_v7(),
            key: "k".into(),
        };
        let mut md = MetadataMap::new();
        a.attach(&mut md, &p, Duration::seconds(30));
        assert_eq!(a.authenticate(&md).unwrap(), p);
    }

    #[test]
    fn an_assisted_resident_keeps_who_assisted_across_the_wire() {
        let community = Uuid::now_v7();
        let person = Uuid::now_v7();
        for assisted_by in [
            None,
            Some(Assistant {
                subject: "bo".into(),
                community: Some(community),
            }),
            Some(Assistant {
                subject: "ana".into(),
                community: None,
            }),
        ] {
            let p = Principal::Resident {
                person,
                assisted_by,
            };
            let mut md = MetadataMap::new();
            let a = auth(None);
            a.attach(&mut md, &p, Duration::seconds(30));
            assert_eq!(a.authenticate(&md).unwrap(), p);
        }
        let assisted = Principal::Resident {
            person,
            assisted_by: Some(Assistant {
                subject: "bo".into(),
                community: Some(community),
            }),
        };
        assert_eq!(
            assisted.describe(),
            format!("community-admin:bo@communities/{community} for resident:persons/{person}")
        );
        // A resident "assisted" by something that is not staff is no
        // principal at all.
        let mut broken = assisted.to_proto();
        if let Some(Kind::Resident(r)) = broken.kind.as_mut() {
            r.assisted_by.as_mut().unwrap().role = 0;
        }
        assert_eq!(Principal::from_proto(&broken), None);
    }

    #[test]
    fn missing_forged_and_expired_assertions_are_refused() {
        let a = auth(None);
        assert_eq!(
            a.authenticate(&MetadataMap::new()).unwrap_err().reason(),
            "PRINCIPAL_MISSING"
        );

        let p = Principal::StreetAdmin {
            subject: "x".into(),
        };
        let mut md = MetadataMap::new();
        Authenticator::new(b"other secret", None, a.clock.clone()).attach(
            &mut md,
            &p,
            Duration::seconds(30),
        );
        assert_eq!(
            a.authenticate(&md).unwrap_err().reason(),
            "PRINCIPAL_INVALID"
        );

        let mut md = MetadataMap::new();
        a.attach(&mut md, &p, Duration::seconds(30));
        md.remove_bin(SIGNATURE_HEADER);
        assert_eq!(
            a.authenticate(&md).unwrap_err().reason(),
            "PRINCIPAL_UNSIGNED"
        );

        let mut md = MetadataMap::new();
        a.attach(&mut md, &p, Duration::seconds(30));
        a.clock.advance(Duration::seconds(31));
        assert_eq!(
            a.authenticate(&md).unwrap_err().reason(),
            "PRINCIPAL_EXPIRED"
        );
    }

    #[test]
    fn dev_principal_only_replaces_a_missing_assertion() {
        let dev = Principal::StreetAdmin {
            subject: "dev".into(),
        };
        let a = auth(Some(dev.clone()));
        assert_eq!(a.authenticate(&MetadataMap::new()).unwrap(), dev);
        let mut md = MetadataMap::new();
        md.insert_bin(PRINCIPAL_HEADER, BinaryMetadataValue::from_bytes(b"junk"));
        assert!(
            a.authenticate(&md).is_err(),
            "an unsigned assertion never passes"
        );
    }

    #[test]
    fn specs_parse() {
        let c = Uuid::now_v7();
        assert!(matches!(
            Principal::parse_spec("street-admin"),
            Ok(Principal::StreetAdmin { .. })
        ));
        assert_eq!(
            Principal::parse_spec(&format!("community-admin:communities/{c}"))
                .unwrap()
                .admin_community(),
            Some(c)
        );
        assert!(Principal::parse_spec("partner:organizations/nope").is_err());
        assert!(Principal::parse_spec("root").is_err());
    }
}
