//! The test environment: a fresh database, the service on a loopback port,
//! and clients that call as any principal.

use chrono::{DateTime, TimeZone, Utc};
use cogov_kit::Context;
use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::clock::Clock;
use cogov_kit::db::{self, DbConfig};
use cogov_kit::paging::PageTokens;
pub use cogov_kit::testing::{
    SignedAs, TestDb, TestServer, assert_bad_field, assert_status, community_admin, mask, partner,
    request_id, resident, street_admin,
};
use cogov_organizations::{Migrator, Organizations};
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::*;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const SECRET: &[u8] = b"organizations test internal secret";

/// Runs a scenario on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let env = $crate::support::Env::start(cogov_kit::testing::TestDb::sqlite()).await;
                    super::$scenario(env).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = cogov_kit::testing::TestDb::postgres().await {
                        super::$scenario($crate::support::Env::start(db).await).await;
                    }
                }
            }
        )*
    };
}

pub type Client = OrganizationsServiceClient<InterceptedService<Channel, SignedAs>>;

/// The service under test.
pub struct Env {
    pub server: TestServer,
    pub auth: Authenticator,
    pub clock: Clock,
    pub ctx: Context,
    _db: TestDb,
}

/// The moment the manual clock starts at.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()
}

impl Env {
    pub async fn start(test_db: TestDb) -> Env {
        let clock = Clock::manual(start_time());
        let db = db::connect::<Migrator>(&DbConfig::new(&test_db.url))
            .await
            .expect("connecting");
        let ctx = Context {
            db,
            tokens: PageTokens::new(b"page token secret"),
            clock: clock.clone(),
        };
        let auth = Authenticator::new(SECRET, None, clock.clone());
        let server = TestServer::start(Organizations::new(ctx.clone()).server(auth.clone())).await;
        Env {
            server,
            auth,
            clock,
            ctx,
            _db: test_db,
        }
    }

    /// A client calling as `principal`.
    pub fn client(&self, principal: Principal) -> Client {
        self.client_with(Some(principal))
    }

    /// A client sending no credentials.
    pub fn anonymous(&self) -> Client {
        self.client_with(None)
    }

    fn client_with(&self, principal: Option<Principal>) -> Client {
        OrganizationsServiceClient::with_interceptor(
            self.server.channel.clone(),
            SignedAs::new(self.auth.clone(), principal),
        )
    }

    /// A street admin's client.
    pub fn admin(&self) -> Client {
        self.client(street_admin())
    }
}

/// A small street with two communities, partners and residents, for the
/// scenarios that need one.
pub struct World {
    pub street: String,
    /// Community A, with courtyards a1 (served by firm_a) and a2.
    pub community_a: String,
    /// Community B, with courtyard b1 (served by firm_b); area unit
    /// co-builds with B.
    pub community_b: String,
    pub a1: String,
    pub a2: String,
    pub b1: String,
    pub building_a1: String,
    pub firm_a: String,
    pub firm_b: String,
    pub unit: String,
    pub street_office: String,
    pub group_a1: String,
    pub person_a1: String,
    pub person_a2: String,
    pub person_b1: String,
    /// The gateway, as the internal service that registers residents.
    pub gateway: Client,
}

impl World {
    pub async fn build(env: &Env) -> World {
        let mut c = env.admin();
        let street = c
            .create_street(CreateStreetRequest {
                street: Some(Street {
                    display_name: "Niujie".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let community = |name: &str| CreateCommunityRequest {
            community: Some(Community {
                street: street.clone(),
                display_name: name.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let community_a = c
            .create_community(community("A"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let community_b = c
            .create_community(community("B"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let courtyard = |community: &str, name: &str| CreateCourtyardRequest {
            courtyard: Some(Courtyard {
                community: community.into(),
                display_name: name.into(),
                kind: CourtyardKind::Estate as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let a1 = c
            .create_courtyard(courtyard(&community_a, "a1"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let a2 = c
            .create_courtyard(courtyard(&community_a, "a2"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let b1 = c
            .create_courtyard(courtyard(&community_b, "b1"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let building_a1 = c
            .create_building(CreateBuildingRequest {
                building: Some(Building {
                    courtyard: a1.clone(),
                    display_name: "Building 1".into(),
                    floor_count: 6,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let org = |name: &str, kind: OrganizationKind, place: &str| CreateOrganizationRequest {
            organization: Some(Organization {
                display_name: name.into(),
                kind: kind as i32,
                place: place.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let firm_a = c
            .create_organization(org("Firm A", OrganizationKind::PropertyFirm, ""))
            .await
            .unwrap()
            .into_inner()
            .name;
        let firm_b = c
            .create_organization(org("Firm B", OrganizationKind::PropertyFirm, ""))
            .await
            .unwrap()
            .into_inner()
            .name;
        let unit = c
            .create_organization(org("School", OrganizationKind::SocialUnit, ""))
            .await
            .unwrap()
            .into_inner()
            .name;
        let street_office = c
            .create_organization(org(
                "Street office",
                OrganizationKind::StreetOffice,
                &street,
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        let group_a1 = c
            .create_organization(org("Party group a1", OrganizationKind::PartyGroup, &a1))
            .await
            .unwrap()
            .into_inner()
            .name;
        let agreement = |kind: AgreementKind,
                         org: &str,
                         courtyards: Vec<String>,
                         communities: Vec<String>| CreateAgreementRequest {
            agreement: Some(Agreement {
                kind: kind as i32,
                organization: org.into(),
                courtyards,
                communities,
                title: "agreement".into(),
                start_time: Some(cogov_kit::convert::timestamp(
                    start_time() - chrono::Duration::days(30),
                )),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        c.create_agreement(agreement(
            AgreementKind::Service,
            &firm_a,
            vec![a1.clone()],
            vec![],
        ))
        .await
        .unwrap();
        c.create_agreement(agreement(
            AgreementKind::Service,
            &firm_b,
            vec![b1.clone()],
            vec![],
        ))
        .await
        .unwrap();
        c.create_agreement(agreement(
            AgreementKind::CoBuilding,
            &unit,
            vec![],
            vec![community_b.clone()],
        ))
        .await
        .unwrap();
        let person = |community: &str, courtyard: &str, name: &str| CreatePersonRequest {
            person: Some(Person {
                display_name: name.into(),
                community: community.into(),
                courtyard: courtyard.into(),
                phone: "13812345678".into(),
                address: "Room 101".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let person_a1 = c
            .create_person(person(&community_a, &a1, "Wang"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let person_a2 = c
            .create_person(person(&community_a, &a2, "Li"))
            .await
            .unwrap()
            .into_inner()
            .name;
        let person_b1 = c
            .create_person(person(&community_b, &b1, "Zhang"))
            .await
            .unwrap()
            .into_inner()
            .name;
        World {
            gateway: env.client(Principal::Service {
                name: "gateway".into(),
            }),
            street,
            community_a,
            community_b,
            a1,
            a2,
            b1,
            building_a1,
            firm_a,
            firm_b,
            unit,
            street_office,
            group_a1,
            person_a1,
            person_a2,
            person_b1,
        }
    }
}
