//! The Niujie demo data (illustrative, not official), loaded through the
//! organizations API as a street admin on the first `cogov up`.
//!
//! Everything is generated from a fixed seed, so every load produces the
//! same street: 10 communities, 56 courtyards (26 in Dongli and Xili 1st, 8
//! of them the 2021 pilot), 5 themed courtyards with their 1+1 pairings,
//! party groups everywhere, 3 property firms over disjoint courtyards, 4
//! area units with co-building agreements, an owners' committee per estate,
//! an expert group, the five brand volunteer teams, 300 residents with
//! their roles, shared resources and talents. Request ids come from the
//! seed too, so a retried load creates nothing twice.

use chrono::{TimeZone, Utc};
use cogov_kit::auth::{Authenticator, Principal};
use cogov_kit::convert;
use cogov_proto::common::{Date, GeoPoint};
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

mod deliberation;
mod issues;
mod partners;
mod residents;
mod staff;
mod volunteers;

pub use partners::{DemoKey, partner_keys};
pub use residents::{DemoResident, resident_logins};
pub use staff::{DemoLogin, staff_logins};

/// The seed of the demo street.
pub const SEED: u64 = 2024;

/// (Chinese name, English name, courtyards).
pub const COMMUNITIES: [(&str, &str, usize); 10] = [
    ("牛街东里", "Niujie Dongli", 14),
    ("牛街西里一区", "Niujie Xili 1st", 12),
    ("牛街西里二区", "Niujie Xili 2nd", 4),
    ("法源寺", "Fayuansi", 4),
    ("春风", "Chunfeng", 4),
    ("枫桦", "Fenghua", 4),
    ("钢院", "Gangyuan", 4),
    ("菜园北里", "Caiyuan Beili", 4),
    ("南线阁", "Nanxiange", 3),
    ("白广路", "Baiguanglu", 3),
];

/// Themed courtyards: (community, courtyard index in it, theme, paired community).
const THEMES: [(usize, usize, &str, usize); 5] = [
    (7, 0, "共享菜园 Shared vegetable garden", 8),
    (3, 0, "邮票院 Stamp courtyard", 9),
    (4, 0, "书香院 Reading courtyard", 2),
    (5, 0, "红色文化院 Red culture courtyard", 6),
    (0, 4, "民族团结院 Ethnic unity courtyard", 4),
];

/// Brand volunteer teams: (name, community).
const TEAMS: [(&str, usize); 5] = [
    ("党员引路岗 Party-member wayfinding post", 5),
    ("老铁党员先锋队 Old-iron veteran party members vanguard", 6),
    ("园丁志愿队 Garden keepers", 7),
    ("楼门长服务队 Building heads service team", 0),
    ("文明劝导队 Civility persuasion team", 1),
];

/// Property firms and the communities whose estates they serve.
const FIRMS: [(&str, &[usize]); 3] = [
    ("京城物业 Jingcheng Property", &[0]),
    ("宣房物业 Xuanfang Property", &[1, 2]),
    ("牛街物业 Niujie Property Services", &[3, 4, 5]),
];

/// Area units and the communities they co-build with.
const UNITS: [(&str, &[usize]); 4] = [
    ("北京回民学校 Beijing Hui School", &[0, 1]),
    ("广安门医院 Guang'anmen Hospital", &[4, 5]),
    ("钢铁研究总院 Central Iron & Steel Research Institute", &[6]),
    ("牛街商贸公司 Niujie Trading Co.", &[7, 8]),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "孙", "白", "金", "丁",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "桂兰", "建国", "玉兰", "志强", "海燕", "春梅",
];

/// Signs every call as the street admin that loads the demo, or as one of
/// the demo's residents (ballots and co-signatures are theirs to give).
#[derive(Clone)]
struct Signer {
    auth: Authenticator,
    principal: Principal,
}

impl Signer {
    fn admin(auth: &Authenticator) -> Self {
        Signer {
            auth: auth.clone(),
            principal: Principal::StreetAdmin {
                subject: "demo-loader".into(),
            },
        }
    }

    /// The same signer acting as the resident `person` (`persons/{id}`).
    fn resident(&self, person: &str) -> Self {
        Signer {
            auth: self.auth.clone(),
            principal: Principal::resident(
                cogov_kit::names::parse("persons", person).expect("a person name"),
            ),
        }
    }
}

impl Interceptor for Signer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        self.auth.attach(
            request.metadata_mut(),
            &self.principal,
            chrono::Duration::seconds(60),
        );
        Ok(request)
    }
}

type Client = OrganizationsServiceClient<InterceptedService<Channel, Signer>>;

struct Loader {
    client: Client,
    rng: ChaCha8Rng,
    calls: usize,
}

fn err(what: &str) -> impl Fn(tonic::Status) -> String + '_ {
    move |s| format!("demo data: {what}: {}", s.message())
}

/// What the issues demo needs to know of the street.
#[derive(Debug, Clone)]
pub struct DemoStreet {
    /// (name, community index, is an estate).
    pub courtyards: Vec<(String, usize, bool)>,
    /// (name, courtyard index).
    pub residents: Vec<(String, usize)>,
    /// (firm, communities whose estates it serves).
    pub firms: Vec<(String, Vec<usize>)>,
    /// The residents' committee of each community.
    pub committees: Vec<String>,
    /// The street office's departments.
    pub departments: Vec<String>,
    /// The brand teams: (organisation record, name, community index).
    pub teams: Vec<(String, &'static str, usize)>,
    /// The area units: (organisation, communities they co-build with).
    pub units: Vec<(String, Vec<usize>)>,
    /// The communities' names.
    pub communities: Vec<String>,
}

/// A resident being generated, with what the later steps need.
struct Resident {
    name: String,
    community: usize,
    courtyard: usize,
    party_member: bool,
}

struct Courtyard {
    name: String,
    community: usize,
    estate: bool,
    buildings: Vec<String>,
    party_group: String,
}

impl Loader {
    fn request_id(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn phone(&mut self) -> String {
        format!(
            "1{}{:08}",
            self.rng.random_range(30..=99),
            self.rng.random_range(0..100_000_000u32)
        )
    }

    async fn org(
        &mut self,
        display_name: &str,
        kind: OrganizationKind,
        parent: &str,
        place: &str,
    ) -> Result<String, String> {
        let request_id = self.request_id();
        let phone = format!("010-6{:07}", self.rng.random_range(0..10_000_000u32));
        self.calls += 1;
        let org = self
            .client
            .create_organization(CreateOrganizationRequest {
                organization: Some(Organization {
                    display_name: display_name.into(),
                    kind: kind as i32,
                    parent: parent.into(),
                    place: place.into(),
                    phone,
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err(display_name))?;
        Ok(org.into_inner().name)
    }

    async fn member(
        &mut self,
        person: &str,
        org: &str,
        role: MembershipRole,
        title: &str,
    ) -> Result<(), String> {
        let request_id = self.request_id();
        self.calls += 1;
        self.client
            .create_membership(CreateMembershipRequest {
                membership: Some(Membership {
                    person: person.into(),
                    organization: org.into(),
                    role: role as i32,
                    title: title.into(),
                    start_date: Some(Date {
                        year: 2024,
                        month: 1,
                        day: 1,
                    }),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("membership"))?;
        Ok(())
    }

    async fn load(&mut self) -> Result<(String, DemoStreet), String> {
        let request_id = self.request_id();
        let street = self
            .client
            .create_street(CreateStreetRequest {
                street: Some(Street {
                    display_name: "牛街街道 Niujie Street".into(),
                    code: "110102013".into(),
                    district: "西城区 Xicheng District".into(),
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("street"))?
            .into_inner()
            .name;
        let party = self
            .org(
                "牛街街道党工委 Niujie Street Party Working Committee",
                OrganizationKind::StreetPartyCommittee,
                "",
                &street,
            )
            .await?;
        let office = self
            .org(
                "牛街街道办事处 Niujie Street Office",
                OrganizationKind::StreetOffice,
                "",
                &street,
            )
            .await?;
        let departments = vec![
            self.org(
                "城管执法队 Urban Management Team",
                OrganizationKind::Department,
                &office,
                &street,
            )
            .await?,
            self.org(
                "房管所 Housing Management Office",
                OrganizationKind::Department,
                &office,
                &street,
            )
            .await?,
        ];
        self.org(
            "专家顾问团 Expert Advisory Group",
            OrganizationKind::ExpertGroup,
            &party,
            &street,
        )
        .await?;

        // Communities and their two committees.
        let mut communities = Vec::new();
        let mut committees = Vec::new();
        let mut party_committees = Vec::new();
        for (zh, en, _) in COMMUNITIES {
            let request_id = self.request_id();
            self.calls += 1;
            let c = self
                .client
                .create_community(CreateCommunityRequest {
                    community: Some(Community {
                        street: street.clone(),
                        display_name: format!("{zh}社区 {en}"),
                        code: format!("110102013{:03}", communities.len() + 1),
                        address: format!("北京市西城区{zh}社区居委会"),
                        ..Default::default()
                    }),
                    request_id,
                })
                .await
                .map_err(err(en))?
                .into_inner()
                .name;
            party_committees.push(
                self.org(
                    &format!("{zh}社区党委 {en} Party Committee"),
                    OrganizationKind::CommunityPartyCommittee,
                    &party,
                    &c,
                )
                .await?,
            );
            committees.push(
                self.org(
                    &format!("{zh}社区居委会 {en} Residents' Committee"),
                    OrganizationKind::CommunityCommittee,
                    &office,
                    &c,
                )
                .await?,
            );
            communities.push(c);
        }

        // Courtyards, buildings, party groups, owners' committees.
        let mut courtyards: Vec<Courtyard> = Vec::new();
        for (ci, (zh, en, count)) in COMMUNITIES.iter().enumerate() {
            for k in 0..*count {
                let pilot = ci < 2 && k < 4;
                let bungalow = !pilot && ci >= 2 && k % 4 == 3;
                let theme = THEMES.iter().find(|t| t.0 == ci && t.1 == k);
                let request_id = self.request_id();
                let households = if bungalow {
                    self.rng.random_range(8..30)
                } else {
                    self.rng.random_range(60..400)
                };
                let location = GeoPoint {
                    latitude: 39.884 + self.rng.random_range(0.0..0.012),
                    longitude: 116.358 + self.rng.random_range(0.0..0.012),
                };
                self.calls += 1;
                let name = self
                    .client
                    .create_courtyard(CreateCourtyardRequest {
                        courtyard: Some(cogov_proto::organizations::Courtyard {
                            community: communities[ci].clone(),
                            display_name: format!("{zh}{}号院 {en} Compound {}", k + 1, k + 1),
                            kind: if bungalow {
                                CourtyardKind::Bungalow
                            } else {
                                CourtyardKind::Estate
                            } as i32,
                            household_count: households,
                            address: format!("{zh}{}号", k + 1),
                            location: Some(location),
                            theme: theme.map(|t| t.2.to_owned()).unwrap_or_default(),
                            pairing_community: theme
                                .map(|t| communities[t.3].clone())
                                .unwrap_or_default(),
                            pilot,
                            ..Default::default()
                        }),
                        request_id,
                    })
                    .await
                    .map_err(err("courtyard"))?
                    .into_inner()
                    .name;
                let mut buildings = Vec::new();
                if !bungalow {
                    for b in 0..self.rng.random_range(2..=5) {
                        let request_id = self.request_id();
                        let floor_count = self.rng.random_range(5..=18);
                        self.calls += 1;
                        buildings.push(
                            self.client
                                .create_building(CreateBuildingRequest {
                                    building: Some(Building {
                                        courtyard: name.clone(),
                                        display_name: format!("{}号楼 Building {}", b + 1, b + 1),
                                        floor_count,
                                        household_count: households / 4,
                                        ..Default::default()
                                    }),
                                    request_id,
                                })
                                .await
                                .map_err(err("building"))?
                                .into_inner()
                                .name,
                        );
                    }
                }
                let party_group = self
                    .org(
                        &format!(
                            "{zh}{}号院党小组 {en} Compound {} Party Group",
                            k + 1,
                            k + 1
                        ),
                        OrganizationKind::PartyGroup,
                        &party_committees[ci],
                        &name,
                    )
                    .await?;
                if !bungalow {
                    self.org(
                        &format!(
                            "{zh}{}号院业委会 {en} Compound {} Owners' Committee",
                            k + 1,
                            k + 1
                        ),
                        OrganizationKind::OwnersCommittee,
                        "",
                        &name,
                    )
                    .await?;
                }
                courtyards.push(Courtyard {
                    name,
                    community: ci,
                    estate: !bungalow,
                    buildings,
                    party_group,
                });
            }
        }

        // Partners and their agreements.
        let start = Some(convert::timestamp(
            Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        ));
        let mut firms = Vec::new();
        for (display, served) in FIRMS {
            let firm = self
                .org(display, OrganizationKind::PropertyFirm, "", "")
                .await?;
            let served: Vec<String> = courtyards
                .iter()
                .filter(|y| y.estate && served.contains(&y.community))
                .map(|y| y.name.clone())
                .collect();
            let request_id = self.request_id();
            self.calls += 1;
            self.client
                .create_agreement(CreateAgreementRequest {
                    agreement: Some(Agreement {
                        kind: AgreementKind::Service as i32,
                        organization: firm.clone(),
                        courtyards: served,
                        title: format!("{display} 物业服务合同 service agreement"),
                        start_time: start,
                        end_time: Some(convert::timestamp(
                            Utc.with_ymd_and_hms(2027, 12, 31, 0, 0, 0).unwrap(),
                        )),
                        ..Default::default()
                    }),
                    request_id,
                })
                .await
                .map_err(err("service agreement"))?;
            firms.push(firm);
        }
        let mut units = Vec::new();
        for (display, with) in UNITS {
            let unit = self
                .org(display, OrganizationKind::SocialUnit, "", "")
                .await?;
            let request_id = self.request_id();
            self.calls += 1;
            self.client
                .create_agreement(CreateAgreementRequest {
                    agreement: Some(Agreement {
                        kind: AgreementKind::CoBuilding as i32,
                        organization: unit.clone(),
                        communities: with.iter().map(|&c| communities[c].clone()).collect(),
                        title: format!("{display} 共建协议 co-building agreement"),
                        description: "组织共建、活动共联、资源共享 Co-build organisations, link activities, share resources".into(),
                        start_time: start,
                        ..Default::default()
                    }),
                    request_id,
                })
                .await
                .map_err(err("co-building agreement"))?;
            units.push(unit);
        }
        let mut teams = Vec::new();
        for (display, c) in TEAMS {
            teams.push(
                self.org(
                    display,
                    OrganizationKind::VolunteerTeam,
                    &committees[c],
                    &communities[c],
                )
                .await?,
            );
        }

        // Residents: five or six per courtyard.
        let mut residents: Vec<Resident> = Vec::new();
        for (yi, y) in courtyards.iter().enumerate() {
            let n = if yi % 2 == 0 { 5 } else { 6 };
            for i in 0..n {
                let surname = *self.pick(SURNAMES);
                let given = *self.pick(GIVEN);
                let party_member = self.rng.random_bool(0.35);
                let unit = if party_member && self.rng.random_bool(0.3) {
                    let i = self.rng.random_range(0..units.len());
                    units[i].clone()
                } else {
                    String::new()
                };
                let building = if y.buildings.is_empty() {
                    String::new()
                } else {
                    y.buildings[i % y.buildings.len()].clone()
                };
                let building_head = i < y.buildings.len();
                let backbone = self.rng.random_bool(0.12);
                let phone = self.phone();
                let request_id = self.request_id();
                self.calls += 1;
                let person = self
                    .client
                    .create_person(CreatePersonRequest {
                        person: Some(Person {
                            display_name: format!("{surname}{given}"),
                            community: communities[y.community].clone(),
                            courtyard: y.name.clone(),
                            building,
                            phone,
                            address: format!("{}号院{}单元{}室", yi + 1, i + 1, 101 + i * 100),
                            party_member,
                            double_report_unit: unit,
                            building_head,
                            backbone,
                            ..Default::default()
                        }),
                        request_id,
                    })
                    .await
                    .map_err(err("person"))?
                    .into_inner()
                    .name;
                residents.push(Resident {
                    name: person,
                    community: y.community,
                    courtyard: yi,
                    party_member,
                });
            }
        }

        // Roles: party group secretaries and members, community secretaries,
        // firm managers, unit liaisons, team leaders.
        for (yi, courtyard) in courtyards.iter().enumerate() {
            let members: Vec<String> = residents
                .iter()
                .filter(|r| r.courtyard == yi && r.party_member)
                .map(|r| r.name.clone())
                .collect();
            let group = courtyard.party_group.clone();
            for (i, m) in members.iter().enumerate() {
                let (role, title) = if i == 0 {
                    (MembershipRole::Secretary, "党小组组长 group leader")
                } else {
                    (MembershipRole::Member, "")
                };
                self.member(m, &group, role, title).await?;
            }
        }
        for (ci, committee) in party_committees.clone().iter().enumerate() {
            if let Some(r) = residents
                .iter()
                .find(|r| r.community == ci && r.party_member)
            {
                let name = r.name.clone();
                self.member(
                    &name,
                    committee,
                    MembershipRole::Secretary,
                    "社区党委书记 secretary",
                )
                .await?;
            }
        }
        for (fi, firm) in firms.clone().iter().enumerate() {
            let served = FIRMS[fi].1;
            if let Some(r) = residents
                .iter()
                .find(|r| served.contains(&r.community) && courtyards[r.courtyard].estate)
            {
                let name = r.name.clone();
                self.member(
                    &name,
                    firm,
                    MembershipRole::Manager,
                    "物业经理 property manager",
                )
                .await?;
            }
        }
        for (ui, unit) in units.clone().iter().enumerate() {
            let with = UNITS[ui].1;
            if let Some(r) = residents.iter().rev().find(|r| with.contains(&r.community)) {
                let name = r.name.clone();
                self.member(&name, unit, MembershipRole::Liaison, "共建联络员 liaison")
                    .await?;
            }
        }
        for (ti, team) in teams.clone().iter().enumerate() {
            let c = TEAMS[ti].1;
            let pool: Vec<String> = residents
                .iter()
                .filter(|r| r.community == c)
                .map(|r| r.name.clone())
                .collect();
            for (i, m) in pool.iter().take(6).enumerate() {
                let role = if i == 0 {
                    MembershipRole::Leader
                } else {
                    MembershipRole::Member
                };
                self.member(m, team, role, "").await?;
            }
        }

        // Shared resources: each committee's activity room, the units' offers,
        // the themed courtyards' yards.
        let mut resources = 0;
        for (ci, committee) in committees.clone().iter().enumerate() {
            self.resource(
                committee,
                &communities[ci],
                "",
                &format!("{}社区活动室 Activity room", COMMUNITIES[ci].0),
                SharedResourceKind::Room,
                40,
            )
            .await?;
            resources += 1;
        }
        let offers = [
            (
                "学校操场（周末） School playground (weekends)",
                SharedResourceKind::Yard,
                200,
            ),
            ("义诊服务 Free clinic", SharedResourceKind::Service, 30),
            ("会议室 Meeting room", SharedResourceKind::Room, 60),
            (
                "夜间停车位 Night parking spaces",
                SharedResourceKind::Parking,
                25,
            ),
        ];
        for (ui, unit) in units.clone().iter().enumerate() {
            let (display, kind, capacity) = offers[ui];
            let c = communities[UNITS[ui].1[0]].clone();
            self.resource(unit, &c, "", display, kind, capacity).await?;
            resources += 1;
        }
        for t in THEMES {
            let y = courtyards
                .iter()
                .filter(|y| y.community == t.0)
                .nth(t.1)
                .map(|y| (y.name.clone(), y.party_group.clone()));
            if let Some((yard, group)) = y {
                let display = format!("{} 公共空间 shared space", t.2);
                self.resource(
                    &group,
                    &communities[t.0],
                    &yard,
                    &display,
                    SharedResourceKind::Yard,
                    50,
                )
                .await?;
                resources += 1;
            }
        }

        // Talents.
        let categories = [
            (TalentCategory::Repair, "水电维修 plumbing and electrics"),
            (TalentCategory::Cooking, "清真面点 halal pastries"),
            (TalentCategory::Arts, "书法 calligraphy"),
            (TalentCategory::Health, "血压测量 blood pressure checks"),
            (TalentCategory::Legal, "邻里调解 neighbour mediation"),
            (TalentCategory::Gardening, "蔬菜种植 vegetable growing"),
            (
                TalentCategory::Technology,
                "教老人用手机 phones for the elderly",
            ),
            (TalentCategory::Arts, "剪纸 paper cutting"),
        ];
        let mut talents = 0;
        for (i, r) in residents.iter().enumerate().filter(|(i, _)| i % 7 == 3) {
            let (category, description) = categories[i % categories.len()];
            let request_id = self.request_id();
            self.calls += 1;
            self.client
                .create_talent(CreateTalentRequest {
                    talent: Some(Talent {
                        person: r.name.clone(),
                        category: category as i32,
                        description: description.into(),
                        available: i % 3 != 0,
                        ..Default::default()
                    }),
                    request_id,
                })
                .await
                .map_err(err("talent"))?;
            talents += 1;
        }

        let summary = format!(
            "Niujie demo data loaded: 1 street, {} communities, {} courtyards, {} residents, {} shared resources, {} talents ({} calls)",
            communities.len(),
            courtyards.len(),
            residents.len(),
            resources,
            talents,
            self.calls
        );
        let street = DemoStreet {
            courtyards: courtyards
                .iter()
                .map(|y| (y.name.clone(), y.community, y.estate))
                .collect(),
            residents: residents
                .iter()
                .map(|r| (r.name.clone(), r.courtyard))
                .collect(),
            firms: firms
                .iter()
                .zip(FIRMS)
                .map(|(f, (_, served))| (f.clone(), served.to_vec()))
                .collect(),
            committees,
            departments,
            teams: teams
                .iter()
                .zip(TEAMS)
                .map(|(t, (display, c))| (t.clone(), display, c))
                .collect(),
            units: units
                .iter()
                .zip(UNITS)
                .map(|(u, (_, with))| (u.clone(), with.to_vec()))
                .collect(),
            communities: communities.clone(),
        };
        Ok((summary, street))
    }

    async fn resource(
        &mut self,
        owner: &str,
        community: &str,
        courtyard: &str,
        display_name: &str,
        kind: SharedResourceKind,
        capacity: i32,
    ) -> Result<(), String> {
        let request_id = self.request_id();
        self.calls += 1;
        self.client
            .create_shared_resource(CreateSharedResourceRequest {
                shared_resource: Some(SharedResource {
                    display_name: display_name.into(),
                    kind: kind as i32,
                    owner: owner.into(),
                    community: community.into(),
                    courtyard: courtyard.into(),
                    capacity,
                    availability: "周末 9:00–17:00 weekends".into(),
                    open: true,
                    ..Default::default()
                }),
                request_id,
            })
            .await
            .map_err(err("shared resource"))?;
        Ok(())
    }
}

/// The roles the demo is loaded through.
pub struct Channels {
    /// Places, organisations and persons.
    pub organizations: Channel,
    /// Issues and inspections.
    pub issues: Channel,
    /// Volunteers, teams and activities.
    pub volunteers: Channel,
    /// Councils, topics, polls and resolutions.
    pub deliberation: Channel,
}

/// Loads the demo data unless the street already has one; returns a summary
/// when it loaded.
pub async fn load_if_empty(
    channels: Channels,
    auth: &Authenticator,
) -> Result<Option<String>, String> {
    let mut client =
        OrganizationsServiceClient::with_interceptor(channels.organizations, Signer::admin(auth));
    let existing = client
        .list_streets(ListStreetsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .map_err(err("checking for data"))?
        .into_inner();
    if !existing.streets.is_empty() {
        return Ok(None);
    }
    let mut loader = Loader {
        client,
        rng: ChaCha8Rng::seed_from_u64(SEED),
        calls: 0,
    };
    let (summary, street) = loader.load().await?;
    let signer = Signer::admin(auth);
    let rng = &mut loader.rng;
    let issues = issues::load(channels.issues, signer.clone(), &street, rng).await?;
    let volunteers = volunteers::load(channels.volunteers, signer.clone(), &street, rng).await?;
    let deliberation = deliberation::load(channels.deliberation, signer, &street, rng).await?;
    Ok(Some(format!(
        "{summary}; {issues}; {volunteers}; {deliberation}"
    )))
}
