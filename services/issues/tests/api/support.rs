//! Two real services on loopback ports — organizations and issues — each
//! with its own fresh database, and clients calling as any principal.

use chrono::{DateTime, TimeZone, Utc};
use cogov_issues::{Issues, Migrator, Settings};
use cogov_kit::Context;
use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::clock::Clock;
use cogov_kit::db::{self, DbConfig};
use cogov_kit::paging::PageTokens;
pub use cogov_kit::testing::{
    SignedAs, TestDb, TestServer, assert_bad_field, assert_status, community_admin, partner,
    request_id, resident, street_admin,
};
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use cogov_proto::organizations as org;
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const SECRET: &[u8] = b"issues test internal secret";

/// Runs scenarios on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($scenario:ident),* $(,)?) => {
        cogov_kit::on_both_databases!($crate::support::Env::start; $($scenario),*);
    };
}

pub type Client = IssuesServiceClient<InterceptedService<Channel, SignedAs>>;
pub type OrgClient = OrganizationsServiceClient<InterceptedService<Channel, SignedAs>>;

pub struct Env {
    pub issues: TestServer,
    pub organizations: TestServer,
    pub auth: Authenticator,
    pub clock: Clock,
    pub svc: Issues,
    _dbs: (TestDb, TestDb),
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()
}

impl Env {
    pub async fn start(orgs_db: TestDb, issues_db: TestDb) -> Env {
        Self::start_with(orgs_db, issues_db, Settings::default()).await
    }

    pub async fn start_with(orgs_db: TestDb, issues_db: TestDb, settings: Settings) -> Env {
        let clock = Clock::manual(start_time());
        let auth = Authenticator::new(SECRET, None, clock.clone());
        let tokens = PageTokens::new(b"page tokens");
        let (organizations, directory) =
            cogov_organizations::testing::start(&orgs_db, &auth, &clock, &tokens, "issues").await;
        let ctx = Context {
            db: db::connect::<Migrator>(&DbConfig::new(&issues_db.url))
                .await
                .unwrap(),
            tokens,
            clock: clock.clone(),
        };
        let svc = Issues::new(ctx, directory, settings);
        let issues = TestServer::start(svc.clone().server(auth.clone())).await;
        Env {
            issues,
            organizations,
            auth,
            clock,
            svc,
            _dbs: (orgs_db, issues_db),
        }
    }

    fn with(&self, principal: Option<Principal>) -> SignedAs {
        SignedAs::new(self.auth.clone(), principal)
    }

    pub fn client(&self, principal: Principal) -> Client {
        IssuesServiceClient::with_interceptor(
            self.issues.channel.clone(),
            self.with(Some(principal)),
        )
    }

    pub fn anonymous(&self) -> Client {
        IssuesServiceClient::with_interceptor(self.issues.channel.clone(), self.with(None))
    }

    pub fn admin(&self) -> Client {
        self.client(street_admin())
    }

    pub fn org_admin(&self) -> OrgClient {
        OrganizationsServiceClient::with_interceptor(
            self.organizations.channel.clone(),
            self.with(Some(street_admin())),
        )
    }
}

/// A small street for the scenarios.
pub struct World {
    pub community_a: String,
    pub community_b: String,
    /// Served by firm A.
    pub a1: String,
    pub a2: String,
    /// Served by firm B; the unit co-builds with B.
    pub b1: String,
    pub building_a1: String,
    pub firm_a: String,
    pub firm_b: String,
    pub unit: String,
    pub department: String,
    /// A resident of a1.
    pub resident_a1: String,
    /// The building head of a1.
    pub head_a1: String,
    /// A resident of b1.
    pub resident_b1: String,
}

impl World {
    pub async fn build(env: &Env) -> World {
        let mut c = env.org_admin();
        let street = c
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
        let community = |name: &str| {
            let mut c = c.clone();
            let street = street.clone();
            let name = name.to_owned();
            async move {
                c.create_community(org::CreateCommunityRequest {
                    community: Some(org::Community {
                        street,
                        display_name: name,
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
        let courtyard = |community: &str, name: &str| org::CreateCourtyardRequest {
            courtyard: Some(org::Courtyard {
                community: community.into(),
                display_name: name.into(),
                kind: org::CourtyardKind::Estate as i32,
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
            .create_building(org::CreateBuildingRequest {
                building: Some(org::Building {
                    courtyard: a1.clone(),
                    display_name: "1".into(),
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
        let firm_a = c
            .create_organization(organization("Firm A", org::OrganizationKind::PropertyFirm))
            .await
            .unwrap()
            .into_inner()
            .name;
        let firm_b = c
            .create_organization(organization("Firm B", org::OrganizationKind::PropertyFirm))
            .await
            .unwrap()
            .into_inner()
            .name;
        let unit = c
            .create_organization(organization("School", org::OrganizationKind::SocialUnit))
            .await
            .unwrap()
            .into_inner()
            .name;
        let department = c
            .create_organization(organization(
                "Urban management",
                org::OrganizationKind::Department,
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        let agreement =
            |kind: org::AgreementKind,
             org: &str,
             courtyards: Vec<String>,
             communities: Vec<String>| org::CreateAgreementRequest {
                agreement: Some(org::Agreement {
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
            org::AgreementKind::Service,
            &firm_a,
            vec![a1.clone()],
            vec![],
        ))
        .await
        .unwrap();
        c.create_agreement(agreement(
            org::AgreementKind::Service,
            &firm_b,
            vec![b1.clone()],
            vec![],
        ))
        .await
        .unwrap();
        c.create_agreement(agreement(
            org::AgreementKind::CoBuilding,
            &unit,
            vec![],
            vec![community_b.clone()],
        ))
        .await
        .unwrap();
        let person =
            |community: &str, courtyard: &str, name: &str, head: bool| org::CreatePersonRequest {
                person: Some(org::Person {
                    display_name: name.into(),
                    community: community.into(),
                    courtyard: courtyard.into(),
                    building_head: head,
                    phone: "13900001111".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            };
        let resident_a1 = c
            .create_person(person(&community_a, &a1, "Wang", false))
            .await
            .unwrap()
            .into_inner()
            .name;
        let head_a1 = c
            .create_person(person(&community_a, &a1, "Li", true))
            .await
            .unwrap()
            .into_inner()
            .name;
        let resident_b1 = c
            .create_person(person(&community_b, &b1, "Zhang", false))
            .await
            .unwrap()
            .into_inner()
            .name;
        World {
            community_a,
            community_b,
            a1,
            a2,
            b1,
            building_a1,
            firm_a,
            firm_b,
            unit,
            department,
            resident_a1,
            head_a1,
            resident_b1,
        }
    }
}

/// A report request of `sub_item` in `courtyard`.
pub fn report(courtyard: &str, sub_item: &str) -> ReportIssueRequest {
    ReportIssueRequest {
        issue: Some(Issue {
            courtyard: courtyard.into(),
            sub_item: format!("subItems/{sub_item}"),
            title: "楼道堆物".into(),
            description: "Bikes and boxes block the stairwell.".into(),
            reporter_contact: Some(cogov_proto::common::ContactDetails {
                display_name: "王女士".into(),
                phone: "13812345678".into(),
                address: "3-2-101".into(),
            }),
            ..Default::default()
        }),
        request_id: request_id(),
    }
}

/// Reports and acknowledges an issue, as staff.
pub async fn acknowledged(env: &Env, courtyard: &str, sub_item: &str) -> Issue {
    let mut c = env.admin();
    let issue = c
        .report_issue(report(courtyard, sub_item))
        .await
        .unwrap()
        .into_inner();
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: issue.name,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

/// Reports, acknowledges and dispatches an issue to `assignee`.
pub async fn dispatched(env: &Env, courtyard: &str, sub_item: &str, assignee: &str) -> Issue {
    let issue = acknowledged(env, courtyard, sub_item).await;
    env.admin()
        .dispatch_issue(DispatchIssueRequest {
            name: issue.name,
            assignee: assignee.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// Statistics read from the day counts kept on
/// the way equal statistics counted from the issues, for windows whose
/// issues fall in whole days and in the partial days at the edges, and
/// equal again once the day counts are rebuilt from scratch.
pub async fn day_counts_agree_with_the_issues(env: &Env) {
    use cogov_issues::statistics::{Source, compute_from, day_counts};
    use cogov_kit::scope::Scope;

    // Overdue, too: ten days on, the open issues are past their deadlines.
    env.clock.advance(chrono::Duration::days(10));
    let t = start_time();
    let hours = chrono::Duration::hours;
    let windows = [
        (t - hours(36), t + hours(36)),
        (t - hours(50), t + hours(1)),
        (t - hours(1), t + hours(30)),
        (t - hours(1), t + hours(1)),
    ];
    let groups = [
        StatisticsGroup::All,
        StatisticsGroup::Community,
        StatisticsGroup::Courtyard,
        StatisticsGroup::Month,
    ];
    let all = |from: Source| {
        let svc = env.svc.clone();
        async move {
            let mut out = Vec::new();
            for (start, end) in windows {
                for group in groups {
                    let req = ComputeIssueStatisticsRequest {
                        group_by: group as i32,
                        interval: Some(cogov_proto::common::Interval {
                            start_time: Some(cogov_kit::convert::timestamp(start)),
                            end_time: Some(cogov_kit::convert::timestamp(end)),
                        }),
                        ..Default::default()
                    };
                    let rows = compute_from(&svc, &Scope::All, req, from)
                        .await
                        .expect("statistics")
                        .rows;
                    out.push((group, start, rows));
                }
            }
            out
        }
    };
    let kept = all(Source::DayCounts).await;
    let scanned = all(Source::Issues).await;
    assert!(
        kept.iter()
            .any(|(_, _, rows)| rows.iter().any(|r| r.reported > 1)),
        "the histories left issues to count"
    );
    assert_eq!(kept, scanned, "day counts kept on the way");
    day_counts::rebuild(env.svc.ctx.db.write()).await.unwrap();
    assert_eq!(all(Source::DayCounts).await, scanned, "day counts rebuilt");
}
