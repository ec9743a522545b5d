//! The authorisation matrix: every RPC of the service, enumerated from the
//! descriptor set, called by every kind of principal on resources of
//! community A. An RPC without a case fails the test.
//!
//! Principals, in column order: street admin; community admin of A; of B;
//! firm A (serves courtyard a1); firm B (serves b1 only); the area unit
//! (co-builds with B); a resident of a1; no credentials.
//! Outcomes: `ok` (allowed; a list shows the target), `hid` (a list
//! succeeds without the target), `deny` (PERMISSION_DENIED), `anon`
//! (UNAUTHENTICATED).

use std::sync::Arc;

use cogov_kit::convert::timestamp;
use cogov_kit::testing::matrix::{done, listed};
use cogov_proto::organizations::*;

use crate::support::*;

type Case = cogov_kit::testing::matrix::Case<Client, World>;

macro_rules! case {
    ($method:literal, $expect:literal, |$c:ident, $f:ident, $admin:ident| $body:expr) => {
        cogov_kit::authz_case!(Client, World, $method, $expect, |$c, $f, $admin| $body)
    };
}

async fn fresh_courtyard(admin: &mut Client, w: &World) -> Courtyard {
    admin
        .create_courtyard(CreateCourtyardRequest {
            courtyard: Some(Courtyard {
                community: w.community_a.clone(),
                display_name: "fresh".into(),
                kind: CourtyardKind::Estate as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn fresh_org(admin: &mut Client, w: &World) -> Organization {
    admin
        .create_organization(CreateOrganizationRequest {
            organization: Some(Organization {
                display_name: "fresh".into(),
                kind: OrganizationKind::PartyGroup as i32,
                place: w.a1.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn fresh_person(admin: &mut Client, w: &World) -> Person {
    admin
        .create_person(CreatePersonRequest {
            person: Some(Person {
                display_name: "fresh".into(),
                community: w.community_a.clone(),
                courtyard: w.a1.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// A resident registering a number of their own in a1.
fn registration(w: &World) -> RegisterPersonRequest {
    RegisterPersonRequest {
        person: Some(Person {
            display_name: "新居民".into(),
            community: w.community_a.clone(),
            courtyard: w.a1.clone(),
            phone: format!("139{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000),
            ..Default::default()
        }),
        privacy_notice_version: "2026-12-01".into(),
        request_id: request_id(),
    }
}

fn membership_request(w: &World) -> CreateMembershipRequest {
    CreateMembershipRequest {
        membership: Some(Membership {
            person: w.person_a1.clone(),
            organization: w.group_a1.clone(),
            role: MembershipRole::Member as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn fresh_membership(admin: &mut Client, w: &World) -> Membership {
    admin
        .create_membership(membership_request(w))
        .await
        .unwrap()
        .into_inner()
}

fn agreement_request(w: &World) -> CreateAgreementRequest {
    CreateAgreementRequest {
        agreement: Some(Agreement {
            kind: AgreementKind::Service as i32,
            organization: w.firm_a.clone(),
            courtyards: vec![w.a2.clone()],
            title: "fresh".into(),
            start_time: Some(timestamp(start_time())),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn fresh_agreement(admin: &mut Client, w: &World) -> Agreement {
    admin
        .create_agreement(agreement_request(w))
        .await
        .unwrap()
        .into_inner()
}

fn resource_request(w: &World) -> CreateSharedResourceRequest {
    CreateSharedResourceRequest {
        shared_resource: Some(SharedResource {
            display_name: "room".into(),
            kind: SharedResourceKind::Room as i32,
            owner: w.group_a1.clone(),
            community: w.community_a.clone(),
            courtyard: w.a1.clone(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn fresh_resource(admin: &mut Client, w: &World) -> SharedResource {
    admin
        .create_shared_resource(resource_request(w))
        .await
        .unwrap()
        .into_inner()
}

fn talent_request(w: &World) -> CreateTalentRequest {
    CreateTalentRequest {
        talent: Some(Talent {
            person: w.person_a1.clone(),
            category: TalentCategory::Repair as i32,
            description: "repairs".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

async fn fresh_talent(admin: &mut Client, w: &World) -> Talent {
    admin
        .create_talent(talent_request(w))
        .await
        .unwrap()
        .into_inner()
}

async fn firm_a_agreement(admin: &mut Client, w: &World) -> String {
    admin
        .list_agreements(ListAgreementsRequest {
            filter: format!("organization = {}", w.firm_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .agreements
        .remove(0)
        .name
}

fn cases() -> Vec<Case> {
    vec![
        // Streets: the directory; only street admins change it.
        case!("GetStreet", "ok ok ok ok ok ok ok anon", |c, w, a| c
            .get_street(GetStreetRequest {
                name: w.street.clone()
            })
            .await
            .map(done)),
        case!("ListStreets", "ok ok ok ok ok ok ok anon", |c, w, a| c
            .list_streets(ListStreetsRequest::default())
            .await
            .map(|r| listed(
                r.into_inner().streets.into_iter().map(|s| s.name),
                &w.street
            ))),
        case!(
            "CreateStreet",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| c
                .create_street(CreateStreetRequest {
                    street: Some(Street {
                        display_name: "New".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateStreet",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| c
                .update_street(UpdateStreetRequest {
                    street: Some(Street {
                        name: w.street.clone(),
                        code: "x".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["code"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeleteStreet",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| {
                let s = a
                    .create_street(CreateStreetRequest {
                        street: Some(Street {
                            display_name: "Empty".into(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                c.delete_street(DeleteStreetRequest {
                    name: s.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        // Communities.
        case!(
            "GetCommunity",
            "ok ok ok ok deny deny ok anon",
            |c, w, a| c
                .get_community(GetCommunityRequest {
                    name: w.community_a.clone()
                })
                .await
                .map(done)
        ),
        case!(
            "ListCommunities",
            "ok ok ok ok hid hid ok anon",
            |c, w, a| c
                .list_communities(ListCommunitiesRequest::default())
                .await
                .map(|r| listed(
                    r.into_inner().communities.into_iter().map(|s| s.name),
                    &w.community_a
                ))
        ),
        case!(
            "CreateCommunity",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| c
                .create_community(CreateCommunityRequest {
                    community: Some(Community {
                        street: w.street.clone(),
                        display_name: "C".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateCommunity",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .update_community(UpdateCommunityRequest {
                    community: Some(Community {
                        name: w.community_a.clone(),
                        code: "x".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["code"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeleteCommunity",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| {
                let fresh = a
                    .create_community(CreateCommunityRequest {
                        community: Some(Community {
                            street: w.street.clone(),
                            display_name: "Empty".into(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                c.delete_community(DeleteCommunityRequest {
                    name: fresh.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        // Courtyards and buildings.
        case!(
            "GetCourtyard",
            "ok ok ok ok deny deny ok anon",
            |c, w, a| c
                .get_courtyard(GetCourtyardRequest { name: w.a1.clone() })
                .await
                .map(done)
        ),
        case!(
            "ListCourtyards",
            "ok ok ok ok hid hid ok anon",
            |c, w, a| c
                .list_courtyards(ListCourtyardsRequest::default())
                .await
                .map(|r| listed(r.into_inner().courtyards.into_iter().map(|s| s.name), &w.a1))
        ),
        case!(
            "CreateCourtyard",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .create_courtyard(CreateCourtyardRequest {
                    courtyard: Some(Courtyard {
                        community: w.community_a.clone(),
                        display_name: "new".into(),
                        kind: CourtyardKind::Estate as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateCourtyard",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .update_courtyard(UpdateCourtyardRequest {
                    courtyard: Some(Courtyard {
                        name: w.a1.clone(),
                        theme: "t".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["theme"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeleteCourtyard",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let y = fresh_courtyard(&mut a, &w).await;
                c.delete_courtyard(DeleteCourtyardRequest {
                    name: y.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!("GetBuilding", "ok ok ok ok deny deny ok anon", |c, w, a| c
            .get_building(GetBuildingRequest {
                name: w.building_a1.clone()
            })
            .await
            .map(done)),
        case!("ListBuildings", "ok ok ok ok hid hid ok anon", |c, w, a| c
            .list_buildings(ListBuildingsRequest::default())
            .await
            .map(|r| listed(
                r.into_inner().buildings.into_iter().map(|s| s.name),
                &w.building_a1
            ))),
        case!(
            "CreateBuilding",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .create_building(CreateBuildingRequest {
                    building: Some(Building {
                        courtyard: w.a1.clone(),
                        display_name: "B".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateBuilding",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .update_building(UpdateBuildingRequest {
                    building: Some(Building {
                        name: w.building_a1.clone(),
                        floor_count: 7,
                        ..Default::default()
                    }),
                    update_mask: mask(&["floor_count"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeleteBuilding",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let b = a
                    .create_building(CreateBuildingRequest {
                        building: Some(Building {
                            courtyard: w.a2.clone(),
                            display_name: "B".into(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner();
                c.delete_building(DeleteBuildingRequest {
                    name: b.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ListDescendants",
            "ok ok ok ok deny deny ok anon",
            |c, w, a| c
                .list_descendants(ListDescendantsRequest {
                    root: w.community_a.clone(),
                    ..Default::default()
                })
                .await
                .map(|r| listed(r.into_inner().nodes.into_iter().map(|n| n.name), &w.a1))
        ),
        // Organisations.
        case!(
            "GetOrganization",
            "ok ok ok ok deny deny ok anon",
            |c, w, a| c
                .get_organization(GetOrganizationRequest {
                    name: w.group_a1.clone()
                })
                .await
                .map(done)
        ),
        case!(
            "ListOrganizations",
            "ok ok ok ok hid hid ok anon",
            |c, w, a| c
                .list_organizations(ListOrganizationsRequest::default())
                .await
                .map(|r| listed(
                    r.into_inner().organizations.into_iter().map(|o| o.name),
                    &w.group_a1
                ))
        ),
        case!(
            "CreateOrganization",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .create_organization(CreateOrganizationRequest {
                    organization: Some(Organization {
                        display_name: "new".into(),
                        kind: OrganizationKind::PartyGroup as i32,
                        place: w.a1.clone(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateOrganization",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .update_organization(UpdateOrganizationRequest {
                    organization: Some(Organization {
                        name: w.group_a1.clone(),
                        description: "d".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["description"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeleteOrganization",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let o = fresh_org(&mut a, &w).await;
                c.delete_organization(DeleteOrganizationRequest {
                    name: o.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        // Persons: personal data.
        case!("GetPerson", "ok ok deny ok deny deny ok anon", |c, w, a| c
            .get_person(GetPersonRequest {
                name: w.person_a1.clone()
            })
            .await
            .map(done)),
        case!("ListPersons", "ok ok hid ok hid hid ok anon", |c, w, a| c
            .list_persons(ListPersonsRequest::default())
            .await
            .map(|r| listed(
                r.into_inner().persons.into_iter().map(|p| p.name),
                &w.person_a1
            ))),
        case!(
            "CreatePerson",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .create_person(CreatePersonRequest {
                    person: Some(Person {
                        display_name: "new".into(),
                        community: w.community_a.clone(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdatePerson",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .update_person(UpdatePersonRequest {
                    person: Some(Person {
                        name: w.person_a1.clone(),
                        backbone: true,
                        ..Default::default()
                    }),
                    update_mask: mask(&["backbone"]),
                })
                .await
                .map(done)
        ),
        case!(
            "DeletePerson",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let p = fresh_person(&mut a, &w).await;
                c.delete_person(DeletePersonRequest {
                    name: p.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "RegisterPerson",
            "deny deny deny deny deny deny deny anon",
            |c, w, a| c.register_person(registration(&w)).await.map(done)
        ),
        case!(
            "ErasePerson",
            "deny deny deny deny deny deny deny anon",
            |c, w, a| c
                .erase_person(ErasePersonRequest {
                    name: w.person_a2.clone(),
                })
                .await
                .map(done)
        ),
        case!(
            "VerifyPerson",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let p = w
                    .gateway
                    .clone()
                    .register_person(registration(&w))
                    .await
                    .unwrap()
                    .into_inner();
                c.verify_person(VerifyPersonRequest {
                    name: p.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        // Memberships.
        case!(
            "GetMembership",
            "ok ok deny deny deny deny ok anon",
            |c, w, a| {
                let m = fresh_membership(&mut a, &w).await;
                c.get_membership(GetMembershipRequest { name: m.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListMemberships",
            "ok ok hid hid hid hid ok anon",
            |c, w, a| {
                let m = fresh_membership(&mut a, &w).await;
                c.list_memberships(ListMembershipsRequest::default())
                    .await
                    .map(|r| {
                        listed(
                            r.into_inner().memberships.into_iter().map(|m| m.name),
                            &m.name,
                        )
                    })
            }
        ),
        case!(
            "CreateMembership",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c.create_membership(membership_request(&w)).await.map(done)
        ),
        case!(
            "UpdateMembership",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let m = fresh_membership(&mut a, &w).await;
                c.update_membership(UpdateMembershipRequest {
                    membership: Some(Membership {
                        name: m.name,
                        title: "t".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["title"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DeleteMembership",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let m = fresh_membership(&mut a, &w).await;
                c.delete_membership(DeleteMembershipRequest {
                    name: m.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        // Agreements: only street admins change them.
        case!(
            "GetAgreement",
            "ok ok deny ok deny deny deny anon",
            |c, w, a| {
                let name = firm_a_agreement(&mut a, &w).await;
                c.get_agreement(GetAgreementRequest { name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListAgreements",
            "ok ok hid ok hid hid hid anon",
            |c, w, a| {
                let name = firm_a_agreement(&mut a, &w).await;
                c.list_agreements(ListAgreementsRequest::default())
                    .await
                    .map(|r| listed(r.into_inner().agreements.into_iter().map(|a| a.name), &name))
            }
        ),
        case!(
            "CreateAgreement",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| c.create_agreement(agreement_request(&w)).await.map(done)
        ),
        case!(
            "UpdateAgreement",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| {
                let ag = fresh_agreement(&mut a, &w).await;
                c.update_agreement(UpdateAgreementRequest {
                    agreement: Some(Agreement {
                        name: ag.name,
                        title: "t".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["title"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "TerminateAgreement",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| {
                let ag = fresh_agreement(&mut a, &w).await;
                c.terminate_agreement(TerminateAgreementRequest {
                    name: ag.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DeleteAgreement",
            "ok deny deny deny deny deny deny anon",
            |c, w, a| {
                let ag = fresh_agreement(&mut a, &w).await;
                c.delete_agreement(DeleteAgreementRequest {
                    name: ag.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ResolveReach",
            "ok ok ok ok deny deny deny anon",
            |c, w, a| c
                .resolve_reach(ResolveReachRequest {
                    organization: w.firm_a.clone(),
                    at_time: None,
                })
                .await
                .map(done)
        ),
        // Shared resources.
        case!(
            "GetSharedResource",
            "ok ok deny ok deny deny ok anon",
            |c, w, a| {
                let r = fresh_resource(&mut a, &w).await;
                c.get_shared_resource(GetSharedResourceRequest { name: r.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListSharedResources",
            "ok ok hid ok hid hid ok anon",
            |c, w, a| {
                let r = fresh_resource(&mut a, &w).await;
                c.list_shared_resources(ListSharedResourcesRequest::default())
                    .await
                    .map(|l| {
                        listed(
                            l.into_inner().shared_resources.into_iter().map(|s| s.name),
                            &r.name,
                        )
                    })
            }
        ),
        case!(
            "CreateSharedResource",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c
                .create_shared_resource(resource_request(&w))
                .await
                .map(done)
        ),
        case!(
            "UpdateSharedResource",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let r = fresh_resource(&mut a, &w).await;
                c.update_shared_resource(UpdateSharedResourceRequest {
                    shared_resource: Some(SharedResource {
                        name: r.name,
                        open: true,
                        ..Default::default()
                    }),
                    update_mask: mask(&["open"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DeleteSharedResource",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let r = fresh_resource(&mut a, &w).await;
                c.delete_shared_resource(DeleteSharedResourceRequest {
                    name: r.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
        // Talents.
        case!(
            "GetTalent",
            "ok ok deny deny deny deny ok anon",
            |c, w, a| {
                let t = fresh_talent(&mut a, &w).await;
                c.get_talent(GetTalentRequest { name: t.name })
                    .await
                    .map(done)
            }
        ),
        case!("ListTalents", "ok ok hid hid hid hid ok anon", |c, w, a| {
            let t = fresh_talent(&mut a, &w).await;
            c.list_talents(ListTalentsRequest::default())
                .await
                .map(|l| listed(l.into_inner().talents.into_iter().map(|s| s.name), &t.name))
        }),
        case!(
            "CreateTalent",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| c.create_talent(talent_request(&w)).await.map(done)
        ),
        case!(
            "UpdateTalent",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let t = fresh_talent(&mut a, &w).await;
                c.update_talent(UpdateTalentRequest {
                    talent: Some(Talent {
                        name: t.name,
                        available: true,
                        ..Default::default()
                    }),
                    update_mask: mask(&["available"]),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DeleteTalent",
            "ok ok deny deny deny deny deny anon",
            |c, w, a| {
                let t = fresh_talent(&mut a, &w).await;
                c.delete_talent(DeleteTalentRequest {
                    name: t.name,
                    etag: String::new(),
                })
                .await
                .map(done)
            }
        ),
    ]
}

/// The RPCs of the service, from the descriptor set the server reflects.
#[test]
fn every_rpc_has_a_case() {
    cogov_kit::testing::matrix::assert_covers(
        &cases(),
        "cogov.organizations.v1",
        "OrganizationsService",
    );
}

crate::both!(matrix);

async fn matrix(env: Env) {
    let world = Arc::new(World::build(&env).await);
    let principals: Vec<(&str, Option<cogov_kit::auth::Principal>)> = vec![
        ("street admin", Some(street_admin())),
        (
            "community admin of A",
            Some(community_admin(&world.community_a)),
        ),
        (
            "community admin of B",
            Some(community_admin(&world.community_b)),
        ),
        ("firm A", Some(partner(&world.firm_a))),
        ("firm B", Some(partner(&world.firm_b))),
        ("area unit", Some(partner(&world.unit))),
        ("resident of a1", Some(resident(&world.person_a1))),
        ("no credentials", None),
    ];
    let principals: Vec<(&str, Client)> = principals
        .into_iter()
        .map(|(who, p)| {
            (
                who,
                match p {
                    Some(p) => env.client(p),
                    None => env.anonymous(),
                },
            )
        })
        .collect();
    cogov_kit::testing::matrix::run(cases(), &principals, &env.admin(), world).await;
}
