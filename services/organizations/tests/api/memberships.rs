//! GetMembership, ListMemberships, CreateMembership, UpdateMembership,
//! DeleteMembership.

use cogov_proto::common::Date;
use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(membership_lifecycle, partners_manage_their_own_staff);

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

async fn membership_lifecycle(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let m = c
        .create_membership(CreateMembershipRequest {
            membership: Some(Membership {
                person: w.person_a1.clone(),
                organization: w.group_a1.clone(),
                role: MembershipRole::Member as i32,
                start_date: date(2024, 1, 1),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.start_date, date(2024, 1, 1));
    let ended = c
        .create_membership(CreateMembershipRequest {
            membership: Some(Membership {
                person: w.person_a2.clone(),
                organization: w.group_a1.clone(),
                role: MembershipRole::Member as i32,
                start_date: date(2020, 1, 1),
                end_date: date(2021, 12, 31),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    let names = |r: ListMembershipsResponse| {
        r.memberships
            .into_iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
    };
    let list = |filter: String| ListMembershipsRequest {
        filter,
        ..Default::default()
    };
    assert_eq!(
        names(
            c.list_memberships(list(format!("organization = {}", w.group_a1)))
                .await
                .unwrap()
                .into_inner()
        ),
        [m.name.clone(), ended.name.clone()]
    );
    assert_eq!(
        names(
            c.list_memberships(list("active = true".into()))
                .await
                .unwrap()
                .into_inner()
        ),
        [m.name.clone()]
    );
    assert_eq!(
        names(
            c.list_memberships(list("active = false".into()))
                .await
                .unwrap()
                .into_inner()
        ),
        [ended.name.clone()]
    );

    let promoted = c
        .update_membership(UpdateMembershipRequest {
            membership: Some(Membership {
                name: m.name.clone(),
                role: MembershipRole::Secretary as i32,
                title: "组长".into(),
                ..Default::default()
            }),
            update_mask: mask(&["role", "title"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.role, MembershipRole::Secretary as i32);
    assert_bad_field(
        c.update_membership(UpdateMembershipRequest {
            membership: Some(Membership {
                name: m.name.clone(),
                end_date: date(2023, 1, 1),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
        })
        .await,
        "membership.end_date",
    );
    assert_bad_field(
        c.update_membership(UpdateMembershipRequest {
            membership: Some(Membership {
                name: m.name.clone(),
                end_date: date(2023, 2, 30),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
        })
        .await,
        "membership.end_date",
    );
    c.delete_membership(DeleteMembershipRequest {
        name: ended.name.clone(),
        etag: ended.etag,
    })
    .await
    .unwrap();
    assert_status(
        c.get_membership(GetMembershipRequest { name: ended.name })
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
}

async fn partners_manage_their_own_staff(env: Env) {
    let w = World::build(&env).await;
    let mut firm = env.client(partner(&w.firm_a));
    let manager = firm
        .create_membership(CreateMembershipRequest {
            membership: Some(Membership {
                person: w.person_a1.clone(),
                organization: w.firm_a.clone(),
                role: MembershipRole::Manager as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let mine = firm
        .list_memberships(ListMembershipsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.memberships, vec![manager]);
    // Not for a person outside its reach, nor for another organisation.
    assert_status(
        firm.create_membership(CreateMembershipRequest {
            membership: Some(Membership {
                person: w.person_b1.clone(),
                organization: w.firm_a.clone(),
                role: MembershipRole::Staff as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        firm.create_membership(CreateMembershipRequest {
            membership: Some(Membership {
                person: w.person_a1.clone(),
                organization: w.group_a1.clone(),
                role: MembershipRole::Member as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}
