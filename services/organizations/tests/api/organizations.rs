//! GetOrganization, ListOrganizations, CreateOrganization,
//! UpdateOrganization, DeleteOrganization.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    organisation_hierarchy_refuses_cycles,
    partners_edit_only_their_public_details,
    organisation_filters
);

async fn create(
    c: &mut Client,
    name: &str,
    kind: OrganizationKind,
    parent: &str,
    place: &str,
) -> Organization {
    c.create_organization(CreateOrganizationRequest {
        organization: Some(Organization {
            display_name: name.into(),
            kind: kind as i32,
            parent: parent.into(),
            place: place.into(),
            ..Default::default()
        }),
        request_id: request_id(),
    })
    .await
    .unwrap()
    .into_inner()
}

async fn organisation_hierarchy_refuses_cycles(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let top = create(
        &mut c,
        "Street party committee",
        OrganizationKind::StreetPartyCommittee,
        "",
        &w.street,
    )
    .await;
    let mid = create(
        &mut c,
        "Community party committee",
        OrganizationKind::CommunityPartyCommittee,
        &top.name,
        &w.community_a,
    )
    .await;
    let leaf = create(
        &mut c,
        "Party group",
        OrganizationKind::PartyGroup,
        &mid.name,
        &w.a1,
    )
    .await;
    assert_eq!(leaf.parent, mid.name);
    assert_eq!(leaf.place, w.a1);

    for parent in [&leaf.name, &top.name] {
        assert_bad_field(
            c.update_organization(UpdateOrganizationRequest {
                organization: Some(Organization {
                    name: top.name.clone(),
                    parent: parent.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["parent"]),
            })
            .await,
            "organization.parent",
        );
    }
    // Re-parenting without a cycle works.
    let moved = c
        .update_organization(UpdateOrganizationRequest {
            organization: Some(Organization {
                name: leaf.name.clone(),
                parent: top.name.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["parent"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.parent, top.name);

    assert_status(
        c.delete_organization(DeleteOrganizationRequest {
            name: top.name.clone(),
            etag: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "HAS_CHILDREN",
    );
    c.delete_organization(DeleteOrganizationRequest {
        name: mid.name.clone(),
        etag: mid.etag.clone(),
    })
    .await
    .unwrap();
    // A firm with an agreement is in use.
    assert_status(
        c.delete_organization(DeleteOrganizationRequest {
            name: w.firm_a.clone(),
            etag: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "IN_USE",
    );
}

async fn partners_edit_only_their_public_details(env: Env) {
    let w = World::build(&env).await;
    let mut firm = env.client(partner(&w.firm_a));
    let updated = firm
        .update_organization(UpdateOrganizationRequest {
            organization: Some(Organization {
                name: w.firm_a.clone(),
                phone: "010-63500000".into(),
                description: "Serves a1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["phone", "description"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.phone, "010-63500000");
    assert_bad_field(
        firm.update_organization(UpdateOrganizationRequest {
            organization: Some(Organization {
                name: w.firm_a.clone(),
                display_name: "Renamed".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await,
        "update_mask",
    );
    // Another partner's record is neither visible nor writable.
    assert_status(
        firm.update_organization(UpdateOrganizationRequest {
            organization: Some(Organization {
                name: w.firm_b.clone(),
                phone: "1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["phone"]),
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        firm.create_organization(CreateOrganizationRequest {
            organization: Some(Organization {
                display_name: "Shell".into(),
                kind: OrganizationKind::Other as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}

async fn organisation_filters(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let names = |r: ListOrganizationsResponse| {
        r.organizations
            .into_iter()
            .map(|o| o.name)
            .collect::<Vec<_>>()
    };
    let list = |filter: String| ListOrganizationsRequest {
        filter,
        ..Default::default()
    };
    assert_eq!(
        names(
            c.list_organizations(list("kind = PROPERTY_FIRM".into()))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.firm_a.clone(), w.firm_b.clone()]
    );
    assert_eq!(
        names(
            c.list_organizations(list(format!("place = {}", w.a1)))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.group_a1.clone()]
    );
    assert_eq!(
        names(
            c.list_organizations(list(format!("community = {}", w.community_a)))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.group_a1.clone()]
    );
    // Partners see themselves, the public bodies and their communities'
    // organisations, not other partners.
    let seen = names(
        env.client(partner(&w.firm_a))
            .list_organizations(ListOrganizationsRequest::default())
            .await
            .unwrap()
            .into_inner(),
    );
    assert!(
        seen.contains(&w.firm_a) && seen.contains(&w.street_office) && seen.contains(&w.group_a1)
    );
    assert!(!seen.contains(&w.firm_b) && !seen.contains(&w.unit));
}
