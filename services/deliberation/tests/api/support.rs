//! The organizations and deliberation services on loopback ports, each
//! with a fresh database; a small street with a full 1+4+N council; and
//! clients calling as any principal.

use chrono::{DateTime, TimeZone, Utc};
use cogov_deliberation::{Deliberation, Migrator};
use cogov_kit::Context;
use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::clock::Clock;
use cogov_kit::db::{self, DbConfig};
use cogov_kit::paging::PageTokens;
pub use cogov_kit::testing::{
    SignedAs, TestDb, TestServer, assert_bad_field, assert_status, community_admin, mask, partner,
    request_id, resident, street_admin,
};
use cogov_proto::common::Date;
use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::*;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const SECRET: &[u8] = b"deliberation test internal secret";

/// Runs scenarios on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($scenario:ident),* $(,)?) => {
        cogov_kit::on_both_databases!($crate::support::Env::start; $($scenario),*);
    };
}

pub type Client = DeliberationServiceClient<InterceptedService<Channel, SignedAs>>;
pub type OrgClient = OrganizationsServiceClient<InterceptedService<Channel, SignedAs>>;

pub struct Env {
    /// The service's database, to read what it published.
    pub db: cogov_kit::db::Db,
    pub deliberation: TestServer,
    pub organizations: TestServer,
    pub auth: Authenticator,
    pub clock: Clock,
    _dbs: (TestDb, TestDb),
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 2, 0, 0).unwrap()
}

impl Env {
    pub async fn start(orgs_db: TestDb, own_db: TestDb) -> Env {
        let clock = Clock::manual(start_time());
        let auth = Authenticator::new(SECRET, None, clock.clone());
        let tokens = PageTokens::new(b"page tokens");
        let (organizations, directory) =
            cogov_organizations::testing::start(&orgs_db, &auth, &clock, &tokens, "deliberation")
                .await;
        let svc = Deliberation::new(
            Context {
                db: db::connect::<Migrator>(&DbConfig::new(&own_db.url))
                    .await
                    .unwrap(),
                tokens,
                clock: clock.clone(),
            },
            directory,
        );
        let db = svc.ctx.db.clone();
        let deliberation = TestServer::start(svc.server(auth.clone())).await;
        Env {
            db,
            deliberation,
            organizations,
            auth,
            clock,
            _dbs: (orgs_db, own_db),
        }
    }

    pub fn client(&self, principal: Principal) -> Client {
        DeliberationServiceClient::with_interceptor(
            self.deliberation.channel.clone(),
            SignedAs::new(self.auth.clone(), Some(principal)),
        )
    }

    pub fn anonymous(&self) -> Client {
        DeliberationServiceClient::with_interceptor(
            self.deliberation.channel.clone(),
            SignedAs::new(self.auth.clone(), None),
        )
    }

    pub fn admin(&self) -> Client {
        self.client(street_admin())
    }

    pub fn org_admin(&self) -> OrgClient {
        OrganizationsServiceClient::with_interceptor(
            self.organizations.channel.clone(),
            SignedAs::new(self.auth.clone(), Some(street_admin())),
        )
    }

    /// A client acting as the resident `persons[i]`.
    pub fn as_person(&self, person: &str) -> Client {
        self.client(resident(person))
    }
}

/// Who holds which seat on courtyard a1's council.
pub const SECRETARY: usize = 0;
pub const BUILDING_HEAD: usize = 1;
pub const DOUBLE_REPORT: usize = 2;
pub const BACKBONE: usize = 3;
pub const PROPERTY_MANAGER: usize = 4;
pub const VOLUNTEERS: [usize; 2] = [5, 6];
pub const EXPERT: usize = 7;
/// Residents of a1 without a seat: 8 and up.
pub const PLAIN: usize = 8;

/// A street with two communities; courtyard a1 (community A) served by
/// firm A, b1 (community B) by firm B; an area unit co-building with A; ten
/// residents of a1 and one of b1; a 1+4+N council on a1 (threshold 3,
/// quorum half the voting seats with the property manager present) and a
/// council on b1.
pub struct World {
    pub community_a: String,
    pub community_b: String,
    pub a1: String,
    pub firm_a: String,
    pub firm_b: String,
    pub unit: String,
    /// Residents of a1; see the seat constants.
    pub persons: Vec<String>,
    /// A resident of b1.
    pub outsider: String,
    /// a1's council.
    pub council: String,
    /// b1's council.
    pub council_b: String,
}

pub fn date(y: i32, m: i32, d: i32) -> Option<Date> {
    Some(Date {
        year: y,
        month: m,
        day: d,
    })
}

impl World {
    pub async fn build(env: &Env) -> World {
        let mut o = env.org_admin();
        let street = o
            .create_street(org::CreateStreetRequest {
                street: Some(org::Street {
                    display_name: "Niujie".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let mut community = async |name: &str| {
            o.create_community(org::CreateCommunityRequest {
                community: Some(org::Community {
                    street: street.clone(),
                    display_name: name.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let community_a = community("A").await;
        let community_b = community("B").await;
        let mut courtyard = async |community: &str, name: &str| {
            o.create_courtyard(org::CreateCourtyardRequest {
                courtyard: Some(org::Courtyard {
                    community: community.into(),
                    display_name: name.into(),
                    kind: org::CourtyardKind::Estate as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let a1 = courtyard(&community_a, "a1").await;
        let b1 = courtyard(&community_b, "b1").await;
        let mut organization = async |name: &str, kind: org::OrganizationKind| {
            o.create_organization(org::CreateOrganizationRequest {
                organization: Some(org::Organization {
                    display_name: name.into(),
                    kind: kind as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let firm_a = organization("Firm A", org::OrganizationKind::PropertyFirm).await;
        let firm_b = organization("Firm B", org::OrganizationKind::PropertyFirm).await;
        let unit = organization("School", org::OrganizationKind::SocialUnit).await;
        let since = Some(cogov_kit::convert::timestamp(
            start_time() - chrono::Duration::days(30),
        ));
        for (kind, organization, courtyards, communities) in [
            (
                org::AgreementKind::Service,
                &firm_a,
                vec![a1.clone()],
                vec![],
            ),
            (
                org::AgreementKind::Service,
                &firm_b,
                vec![b1.clone()],
                vec![],
            ),
            (
                org::AgreementKind::CoBuilding,
                &unit,
                vec![],
                vec![community_a.clone()],
            ),
        ] {
            o.create_agreement(org::CreateAgreementRequest {
                agreement: Some(org::Agreement {
                    kind: kind as i32,
                    organization: organization.clone(),
                    courtyards,
                    communities,
                    title: "agreement".into(),
                    start_time: since,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
        }
        let mut person = async |community: &str, courtyard: &str, name: String| {
            o.create_person(org::CreatePersonRequest {
                person: Some(org::Person {
                    display_name: name,
                    community: community.into(),
                    courtyard: courtyard.into(),
                    phone: "13700001111".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        };
        let mut persons = Vec::new();
        for i in 0..10 {
            persons.push(person(&community_a, &a1, format!("Resident {i}")).await);
        }
        let outsider = person(&community_b, &b1, "Outsider".into()).await;

        let mut c = env.admin();
        let council = c
            .create_council(CreateCouncilRequest {
                council: Some(Council {
                    display_name: "a1 议事会".into(),
                    place: a1.clone(),
                    support_threshold: 3,
                    quorum_share: 0.5,
                    quorum_required_kinds: vec![SeatKind::PropertyManager as i32],
                    ..Default::default()
                }),
                request_id: request_id(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let seats = [
            (SECRETARY, SeatKind::Secretary, ""),
            (BUILDING_HEAD, SeatKind::BuildingHead, ""),
            (DOUBLE_REPORT, SeatKind::DoubleReportMember, ""),
            (BACKBONE, SeatKind::Backbone, ""),
            (PROPERTY_MANAGER, SeatKind::PropertyManager, firm_a.as_str()),
            (VOLUNTEERS[0], SeatKind::Volunteer, ""),
            (VOLUNTEERS[1], SeatKind::Volunteer, ""),
            (EXPERT, SeatKind::ExpertAdviser, ""),
        ];
        for (who, kind, organization) in seats {
            seat(&mut c, &council, &persons[who], kind, organization)
                .await
                .unwrap();
        }
        let council_b = c
            .create_council(CreateCouncilRequest {
                council: Some(Council {
                    display_name: "b1 议事会".into(),
                    place: b1.clone(),
                    ..Default::default()
                }),
                request_id: request_id(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        World {
            community_a,
            community_b,
            a1,
            firm_a,
            firm_b,
            unit,
            persons,
            outsider,
            council,
            council_b,
        }
    }

    pub fn person(&self, i: usize) -> &str {
        &self.persons[i]
    }
}

/// Seats `person` on `council` from a month ago, open-ended.
pub async fn seat(
    c: &mut Client,
    council: &str,
    person: &str,
    kind: SeatKind,
    organization: &str,
) -> Result<Seat, tonic::Status> {
    c.create_seat(CreateSeatRequest {
        parent: council.into(),
        seat: Some(Seat {
            person: person.into(),
            kind: kind as i32,
            organization: organization.into(),
            start_date: date(2026, 5, 1),
            ..Default::default()
        }),
        request_id: request_id(),
    })
    .await
    .map(|r| r.into_inner())
}

/// A topic proposed by staff, moved to `state` (PROPOSED, ON_AGENDA or
/// IN_DISCUSSION).
pub async fn topic(c: &mut Client, council: &str, title: &str, state: TopicState) -> Topic {
    let t = c
        .create_topic(CreateTopicRequest {
            topic: Some(Topic {
                council: council.into(),
                title: title.into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    if state == TopicState::Proposed {
        return t;
    }
    let t = c
        .schedule_topic(ScheduleTopicRequest {
            name: t.name,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    if state == TopicState::OnAgenda {
        return t;
    }
    c.open_topic_discussion(OpenTopicDiscussionRequest {
        name: t.name,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

/// An open poll on `topic`, closing in a week, for the council's voting
/// seats.
pub async fn open_poll(c: &mut Client, topic: &str, poll: Poll) -> Poll {
    let close = start_time() + chrono::Duration::days(7);
    let p = c
        .create_poll(CreatePollRequest {
            poll: Some(Poll {
                topic: topic.into(),
                title: if poll.title.is_empty() {
                    "Shall we?".into()
                } else {
                    poll.title.clone()
                },
                close_time: Some(cogov_kit::convert::timestamp(close)),
                eligibility: if poll.eligibility == 0 {
                    Eligibility::CouncilVotingSeats as i32
                } else {
                    poll.eligibility
                },
                ..poll
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    c.open_poll(OpenPollRequest {
        name: p.name,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

pub fn choice(option: &str, value: i32) -> Choice {
    Choice {
        option: option.into(),
        value,
    }
}

/// Casts `voter`'s own ballot.
pub async fn vote(
    env: &Env,
    poll: &str,
    voter: &str,
    choices: Vec<Choice>,
) -> Result<Ballot, tonic::Status> {
    env.as_person(voter)
        .cast_vote(CastVoteRequest {
            poll: poll.into(),
            voter: voter.into(),
            choices,
            request_id: request_id(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

pub async fn result(c: &mut Client, poll: &str) -> PollResult {
    c.get_poll_result(GetPollResultRequest { poll: poll.into() })
        .await
        .unwrap()
        .into_inner()
}
