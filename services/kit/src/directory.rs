//! What the other services ask the organizations service: where a courtyard
//! is, who a person is, what an organisation is, and a partner's reach.
//!
//! Calls go over gRPC as this service's own principal. Place facts never
//! change (a courtyard's community is immutable) and are cached for the
//! life of the process. Reach is cached briefly, never past the moment an
//! agreement starts or ends, and forgotten when an agreement changes
//! ([`crate::events::forget_on_changes`]). Verified persons are cached as
//! briefly and forgotten when their record changes: every call a resident
//! makes needs their scope, and asking for it each time cost a gRPC call.
//! An unverified person, or one not found, is asked again every time, so
//! that a resident just verified or registered takes part at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::{
    GetBuildingRequest, GetCommunityRequest, GetCourtyardRequest, GetOrganizationRequest,
    GetPersonRequest, ListPersonsRequest, ResolveReachRequest,
};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use uuid::Uuid;

use crate::auth::{Authenticator, Principal, Signer};
use crate::clock::Clock;
use crate::convert;
use crate::error::{Error, Result};
use crate::names;

/// A courtyard's place in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CourtyardInfo {
    /// The courtyard.
    pub id: Uuid,
    /// Its community.
    pub community: Uuid,
}

/// What the services need to know of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInfo {
    /// The person.
    pub id: Uuid,
    /// Display name.
    pub display_name: String,
    /// Home community.
    pub community: Uuid,
    /// Home courtyard.
    pub courtyard: Option<Uuid>,
    /// A building or stairwell head.
    pub building_head: bool,
    /// Checked by community staff (a resident who registered themselves
    /// by phone is not until then).
    pub verified: bool,
    /// Where the person asked to have their notices sent on by text
    /// message, if they did: the phone is held only then.
    pub notices_by_text: Option<TextNotices>,
}

/// A person's wish to get their notices by text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextNotices {
    /// The phone, E.164.
    pub phone: String,
    /// One message a day for the notices not yet read, rather than one
    /// message each.
    pub daily_digest: bool,
}

impl PersonInfo {
    fn from_proto(p: &cogov_proto::organizations::Person) -> Option<PersonInfo> {
        Some(PersonInfo {
            id: names::parse("persons", &p.name)?,
            display_name: p.display_name.clone(),
            community: names::parse("communities", &p.community)?,
            courtyard: names::parse("courtyards", &p.courtyard),
            building_head: p.building_head,
            verified: p.verification
                != cogov_proto::organizations::PersonVerification::Unverified as i32,
            notices_by_text: p
                .contact_preferences
                .filter(|c| c.forward_notices && !p.phone_e164.is_empty())
                .map(|c| TextNotices {
                    phone: p.phone_e164.clone(),
                    daily_digest: c.daily_digest,
                }),
        })
    }
}

/// What the services need to know of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationInfo {
    /// The organisation.
    pub id: Uuid,
    /// Display name.
    pub display_name: String,
    /// `OrganizationKind` as a number.
    pub kind: i32,
    /// The community of its place, if any.
    pub community: Option<Uuid>,
}

/// A partner's reach at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// Communities wholly in reach.
    pub communities: BTreeSet<Uuid>,
    /// Every courtyard in reach.
    pub courtyards: BTreeSet<Uuid>,
}

impl Reach {
    /// Whether a row of `courtyard` (in `community`) is in reach.
    pub fn covers(&self, community: Option<Uuid>, courtyard: Option<Uuid>) -> bool {
        courtyard.is_some_and(|c| self.courtyards.contains(&c))
            || community.is_some_and(|c| self.communities.contains(&c))
    }
}

/// The organizations service's client, calling as this service.
pub type Client = OrganizationsServiceClient<InterceptedService<Channel, Signer>>;

#[derive(Default)]
struct Cache {
    courtyards: HashMap<Uuid, Option<CourtyardInfo>>,
    buildings: HashMap<Uuid, Option<Uuid>>,
    reach: HashMap<Uuid, (Instant, Reach)>,
    persons: HashMap<Uuid, (Instant, PersonInfo)>,
    /// Counts the times persons were forgotten: an answer asked for before
    /// a change, and received after its event, must not be cached.
    persons_forgotten: u64,
}

/// At most this many persons are cached: a street's active residents fit,
/// and a flood of callers cannot grow the cache without bound.
const MAX_CACHED_PERSONS: usize = 100_000;

/// A client of the organizations service with caches.
#[derive(Clone)]
pub struct Directory {
    client: Client,
    cache: Arc<Mutex<Cache>>,
    reach_ttl: Duration,
    person_ttl: Duration,
    clock: Clock,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("reach_ttl", &self.reach_ttl)
            .field("person_ttl", &self.person_ttl)
            .finish_non_exhaustive()
    }
}

fn unavailable(status: Status) -> Error {
    Error::Unavailable(format!("organizations service: {}", status.message()))
}

/// `None` for NOT_FOUND, the error otherwise.
fn found<T>(result: Result<tonic::Response<T>, Status>) -> Result<Option<T>> {
    match result {
        Ok(r) => Ok(Some(r.into_inner())),
        Err(s) if s.code() == Code::NotFound => Ok(None),
        Err(s) => Err(unavailable(s)),
    }
}

impl Directory {
    /// A directory over `address` (`http://host:port`), calling as the
    /// internal service `service`. Connects lazily.
    pub fn new(
        address: &str,
        auth: Authenticator,
        service: &str,
        clock: Clock,
        reach_ttl: Duration,
    ) -> Result<Self> {
        let channel = Endpoint::from_shared(address.to_owned())
            .map_err(|e| Error::Internal(format!("organizations address {address}: {e}")))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        Ok(Self::from_channel(channel, auth, service, clock, reach_ttl))
    }

    /// A directory over an existing channel.
    pub fn from_channel(
        channel: Channel,
        auth: Authenticator,
        service: &str,
        clock: Clock,
        reach_ttl: Duration,
    ) -> Self {
        let signer = Signer::new(
            auth,
            Principal::Service {
                name: service.into(),
            },
        );
        Self {
            client: OrganizationsServiceClient::with_interceptor(channel, signer),
            cache: Arc::default(),
            reach_ttl,
            person_ttl: Duration::ZERO,
            clock,
        }
    }

    /// Caches verified persons for `ttl` (none are, unless asked). Whoever
    /// asks must also make the directory forget a person whose record
    /// changes ([`crate::events::forget_on_changes`]).
    pub fn caching_persons_for(mut self, ttl: Duration) -> Self {
        self.person_ttl = ttl;
        self
    }

    /// The courtyard and its community; `None` if there is no such courtyard.
    pub async fn courtyard(&self, id: Uuid) -> Result<Option<CourtyardInfo>> {
        crate::write::refuse_inside("the directory's courtyard")?;
        if let Some(hit) = self.cache.lock().expect("cache lock").courtyards.get(&id) {
            return Ok(*hit);
        }
        let got = found(
            self.client
                .clone()
                .get_courtyard(GetCourtyardRequest {
                    name: names::format("courtyards", id),
                })
                .await,
        )?;
        let info = got.and_then(|c| {
            Some(CourtyardInfo {
                id,
                community: names::parse("communities", &c.community)?,
            })
        });
        self.cache
            .lock()
            .expect("cache lock")
            .courtyards
            .insert(id, info);
        Ok(info)
    }

    /// Whether a community exists (not cached: rarely asked).
    pub async fn community_exists(&self, id: Uuid) -> Result<bool> {
        crate::write::refuse_inside("the directory's community exists")?;
        let got = found(
            self.client
                .clone()
                .get_community(GetCommunityRequest {
                    name: names::format("communities", id),
                })
                .await,
        )?;
        Ok(got.is_some())
    }

    /// The persons living in a courtyard, or else in a community.
    pub async fn residents(&self, community: Uuid, courtyard: Option<Uuid>) -> Result<Vec<Uuid>> {
        crate::write::refuse_inside("the directory's residents")?;
        let filter = match courtyard {
            Some(c) => format!("courtyard = {}", names::format("courtyards", c)),
            None => format!("community = {}", names::format("communities", community)),
        };
        let mut out = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .client
                .clone()
                .list_persons(ListPersonsRequest {
                    page_size: 1000,
                    page_token,
                    filter: filter.clone(),
                    order_by: String::new(),
                })
                .await
                .map_err(unavailable)?
                .into_inner();
            out.extend(
                page.persons
                    .iter()
                    .filter_map(|p| names::parse("persons", &p.name)),
            );
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            page_token = page.next_page_token;
        }
    }

    /// The courtyard of a building; `None` if there is no such building.
    pub async fn building_courtyard(&self, id: Uuid) -> Result<Option<Uuid>> {
        crate::write::refuse_inside("the directory's building courtyard")?;
        if let Some(hit) = self.cache.lock().expect("cache lock").buildings.get(&id) {
            return Ok(*hit);
        }
        let got = found(
            self.client
                .clone()
                .get_building(GetBuildingRequest {
                    name: names::format("buildings", id),
                })
                .await,
        )?;
        let courtyard = got.and_then(|b| names::parse("courtyards", &b.courtyard));
        self.cache
            .lock()
            .expect("cache lock")
            .buildings
            .insert(id, courtyard);
        Ok(courtyard)
    }

    /// The organizations service, called as this service, for what the
    /// directory does not cover (the gateway registers residents).
    pub fn organizations(&self) -> Client {
        self.client.clone()
    }

    /// A person: from the cache if verified and asked for lately.
    pub async fn person(&self, id: Uuid) -> Result<Option<PersonInfo>> {
        crate::write::refuse_inside("the directory's person")?;
        let forgotten = {
            let cache = self.cache.lock().expect("cache lock");
            if let Some((until, person)) = cache.persons.get(&id)
                && Instant::now() < *until
            {
                return Ok(Some(person.clone()));
            }
            cache.persons_forgotten
        };
        let got = found(
            self.client
                .clone()
                .get_person(GetPersonRequest {
                    name: names::format("persons", id),
                })
                .await,
        )?;
        let person = got.as_ref().and_then(PersonInfo::from_proto);
        if let Some(p) = person.as_ref().filter(|p| p.verified)
            && !self.person_ttl.is_zero()
        {
            let mut cache = self.cache.lock().expect("cache lock");
            let now = Instant::now();
            if cache.persons_forgotten != forgotten {
                return Ok(person);
            }
            if cache.persons.len() >= MAX_CACHED_PERSONS {
                cache.persons.retain(|_, (until, _)| now < *until);
            }
            if cache.persons.len() < MAX_CACHED_PERSONS {
                cache.persons.insert(id, (now + self.person_ttl, p.clone()));
            }
        }
        Ok(person)
    }

    /// Forgets a cached person (after their record changes).
    pub fn forget_person(&self, id: Uuid) {
        let mut cache = self.cache.lock().expect("cache lock");
        cache.persons.remove(&id);
        cache.persons_forgotten += 1;
    }

    /// Forgets every cached person and reach (when changes may have been
    /// missed).
    pub fn forget_all(&self) {
        let mut cache = self.cache.lock().expect("cache lock");
        cache.persons.clear();
        cache.persons_forgotten += 1;
        cache.reach.clear();
    }

    /// The persons whose mobile number is `e164` (normally one).
    pub async fn persons_with_phone(&self, e164: &str) -> Result<Vec<PersonInfo>> {
        crate::write::refuse_inside("the directory's persons with phone")?;
        let page = self
            .client
            .clone()
            .list_persons(ListPersonsRequest {
                page_size: 10,
                page_token: String::new(),
                filter: format!("phone = {e164:?}"),
                order_by: String::new(),
            })
            .await
            .map_err(unavailable)?
            .into_inner();
        Ok(page
            .persons
            .iter()
            .filter_map(PersonInfo::from_proto)
            .collect())
    }

    /// An organisation (not cached).
    pub async fn organization(&self, id: Uuid) -> Result<Option<OrganizationInfo>> {
        crate::write::refuse_inside("the directory's organization")?;
        let got = found(
            self.client
                .clone()
                .get_organization(GetOrganizationRequest {
                    name: names::format("organizations", id),
                })
                .await,
        )?;
        Ok(got.map(|o| {
            let community = names::collection(&o.place)
                .filter(|c| *c == "communities")
                .and_then(|_| names::parse("communities", &o.place));
            OrganizationInfo {
                id,
                display_name: o.display_name,
                kind: o.kind,
                community,
            }
        }))
    }

    /// The reach of `organization` now.
    pub async fn reach(&self, organization: Uuid) -> Result<Reach> {
        crate::write::refuse_inside("the directory's reach")?;
        if let Some((until, reach)) = self
            .cache
            .lock()
            .expect("cache lock")
            .reach
            .get(&organization)
            && Instant::now() < *until
        {
            return Ok(reach.clone());
        }
        let got = self
            .client
            .clone()
            .resolve_reach(ResolveReachRequest {
                organization: names::format("organizations", organization),
                at_time: None,
            })
            .await;
        let r = match got {
            Ok(r) => r.into_inner(),
            // An organisation that no longer exists reaches nothing.
            Err(s) if matches!(s.code(), Code::NotFound | Code::PermissionDenied) => {
                return Ok(Reach::default());
            }
            Err(s) => return Err(unavailable(s)),
        };
        let reach = Reach {
            communities: r
                .communities
                .iter()
                .filter_map(|c| names::parse("communities", c))
                .collect(),
            courtyards: r
                .courtyards
                .iter()
                .filter_map(|c| names::parse("courtyards", c))
                .collect(),
        };
        let mut ttl = self.reach_ttl;
        if let Some(change) = r.expire_time.as_ref().and_then(convert::from_timestamp) {
            let until_change = (change - self.clock.now()).to_std().unwrap_or_default();
            ttl = ttl.min(until_change);
        }
        self.cache
            .lock()
            .expect("cache lock")
            .reach
            .insert(organization, (Instant::now() + ttl, reach.clone()));
        Ok(reach)
    }

    /// Forgets every cached reach (after an agreement changes).
    pub fn invalidate_reach(&self) {
        self.cache.lock().expect("cache lock").reach.clear();
    }
}
