//! The organizations and volunteers services on loopback ports, each with
//! a fresh database, and clients calling as any principal.

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
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use cogov_proto::volunteers::*;
use cogov_volunteers::{Migrator, Volunteers};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const SECRET: &[u8] = b"volunteers test internal secret";

/// Runs scenarios on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($scenario:ident),* $(,)?) => {
        cogov_kit::on_both_databases!($crate::support::Env::start; $($scenario),*);
    };
}

pub type Client = VolunteersServiceClient<InterceptedService<Channel, SignedAs>>;
pub type OrgClient = OrganizationsServiceClient<InterceptedService<Channel, SignedAs>>;

pub struct Env {
    /// The service itself, for what runs beside its calls (reminders).
    pub svc: Volunteers,
    pub volunteers: TestServer,
    pub organizations: TestServer,
    pub auth: Authenticator,
    pub clock: Clock,
    _dbs: (TestDb, TestDb),
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()
}

impl Env {
    pub async fn start(orgs_db: TestDb, own_db: TestDb) -> Env {
        let clock = Clock::manual(start_time());
        let auth = Authenticator::new(SECRET, None, clock.clone());
        let tokens = PageTokens::new(b"page tokens");
        let (organizations, directory) =
            cogov_organizations::testing::start(&orgs_db, &auth, &clock, &tokens, "volunteers")
                .await;
        let svc = Volunteers::new(
            Context {
                db: db::connect::<Migrator>(&DbConfig::new(&own_db.url))
                    .await
                    .unwrap(),
                tokens,
                clock: clock.clone(),
            },
            directory,
        );
        let volunteers = TestServer::start(svc.clone().server(auth.clone())).await;
        Env {
            svc,
            volunteers,
            organizations,
            auth,
            clock,
            _dbs: (orgs_db, own_db),
        }
    }

    pub fn client(&self, principal: Principal) -> Client {
        VolunteersServiceClient::with_interceptor(
            self.volunteers.channel.clone(),
            SignedAs::new(self.auth.clone(), Some(principal)),
        )
    }

    pub fn anonymous(&self) -> Client {
        VolunteersServiceClient::with_interceptor(
            self.volunteers.channel.clone(),
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
}

/// A street with two communities, partners, and persons who volunteer.
pub struct World {
    pub community_a: String,
    pub community_b: String,
    pub a1: String,
    pub firm_a: String,
    pub unit: String,
    /// Persons of community A (with volunteer records `volunteers_a`).
    pub persons_a: Vec<String>,
    pub volunteers_a: Vec<String>,
    pub volunteer_b: String,
    /// A team of A led by volunteers_a[0].
    pub team_a: String,
}

impl World {
    pub async fn build(env: &Env, residents: usize) -> World {
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
        let community = |name: &'static str| {
            let mut o = o.clone();
            let street = street.clone();
            async move {
                o.create_community(org::CreateCommunityRequest {
                    community: Some(org::Community {
                        street,
                        display_name: name.into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .name
            }
        };
        let community_a = community("A").await;
        let community_b = community("B").await;
        let a1 = o
            .create_courtyard(org::CreateCourtyardRequest {
                courtyard: Some(org::Courtyard {
                    community: community_a.clone(),
                    display_name: "a1".into(),
                    kind: org::CourtyardKind::Estate as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name;
        let organization =
            |name: &str, kind: org::OrganizationKind| org::CreateOrganizationRequest {
                organization: Some(org::Organization {
                    display_name: name.into(),
                    kind: kind as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            };
        let firm_a = o
            .create_organization(organization("Firm A", org::OrganizationKind::PropertyFirm))
            .await
            .unwrap()
            .into_inner()
            .name;
        let unit = o
            .create_organization(organization("School", org::OrganizationKind::SocialUnit))
            .await
            .unwrap()
            .into_inner()
            .name;
        let since = Some(cogov_kit::convert::timestamp(
            start_time() - chrono::Duration::days(30),
        ));
        o.create_agreement(org::CreateAgreementRequest {
            agreement: Some(org::Agreement {
                kind: org::AgreementKind::Service as i32,
                organization: firm_a.clone(),
                courtyards: vec![a1.clone()],
                title: "service".into(),
                start_time: since,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
        o.create_agreement(org::CreateAgreementRequest {
            agreement: Some(org::Agreement {
                kind: org::AgreementKind::CoBuilding as i32,
                organization: unit.clone(),
                communities: vec![community_a.clone()],
                title: "co-building".into(),
                start_time: since,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
        let person = |community: &str, name: String| org::CreatePersonRequest {
            person: Some(org::Person {
                display_name: name,
                community: community.into(),
                phone: "13700001111".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let mut c = env.admin();
        let mut persons_a = Vec::new();
        let mut volunteers_a = Vec::new();
        for i in 0..residents.max(1) {
            let p = o
                .create_person(person(&community_a, format!("Resident {i}")))
                .await
                .unwrap()
                .into_inner()
                .name;
            let v = c
                .create_volunteer(volunteer(&p, &["first_aid"]))
                .await
                .unwrap()
                .into_inner()
                .name;
            persons_a.push(p);
            volunteers_a.push(v);
        }
        let person_b = o
            .create_person(person(&community_b, "Resident B".into()))
            .await
            .unwrap()
            .into_inner()
            .name;
        let volunteer_b = c
            .create_volunteer(volunteer(&person_b, &[]))
            .await
            .unwrap()
            .into_inner()
            .name;
        let team_a = c
            .create_team(CreateTeamRequest {
                team: Some(Team {
                    display_name: "园丁志愿队 Garden keepers".into(),
                    community: community_a.clone(),
                    brand: true,
                    leader: volunteers_a[0].clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
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
            unit,
            persons_a,
            volunteers_a,
            volunteer_b,
            team_a,
        }
    }
}

pub fn volunteer(person: &str, skills: &[&str]) -> CreateVolunteerRequest {
    CreateVolunteerRequest {
        volunteer: Some(Volunteer {
            person: person.into(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            phone: "13700001111".into(),
            ..Default::default()
        }),
        request_id: request_id(),
    }
}

/// A published activity of community A starting `in_hours` from now.
pub async fn published(
    env: &Env,
    w: &World,
    capacity: i32,
    waitlist: i32,
    in_hours: i64,
) -> Activity {
    let start = env.clock.now() + chrono::Duration::hours(in_hours);
    let mut c = env.admin();
    let a = c
        .create_activity(CreateActivityRequest {
            activity: Some(Activity {
                title: "给共享菜园育苗 Seedlings for the shared garden".into(),
                theme: "garden".into(),
                community: w.community_a.clone(),
                courtyard: w.a1.clone(),
                organizing_team: w.team_a.clone(),
                co_organizers: vec![w.unit.clone()],
                start_time: Some(cogov_kit::convert::timestamp(start)),
                end_time: Some(cogov_kit::convert::timestamp(
                    start + chrono::Duration::hours(2),
                )),
                capacity,
                waitlist_capacity: waitlist,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    c.publish_activity(PublishActivityRequest {
        name: a.name,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

/// Signs `volunteer` up for `activity` as a street admin.
pub async fn sign_up(
    c: &mut Client,
    activity: &str,
    volunteer: &str,
) -> Result<Signup, tonic::Status> {
    c.create_signup(CreateSignupRequest {
        parent: activity.into(),
        signup: Some(Signup {
            volunteer: volunteer.into(),
            ..Default::default()
        }),
        request_id: request_id(),
    })
    .await
    .map(|r| r.into_inner())
}
