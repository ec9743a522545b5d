//! GetSharedResource, ListSharedResources, CreateSharedResource,
//! UpdateSharedResource, DeleteSharedResource.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(partners_offer_resources_in_their_reach);

fn resource(owner: &str, community: &str, courtyard: &str) -> CreateSharedResourceRequest {
    CreateSharedResourceRequest {
        shared_resource: Some(SharedResource {
            display_name: "Meeting room".into(),
            kind: SharedResourceKind::Room as i32,
            owner: owner.into(),
            community: community.into(),
            courtyard: courtyard.into(),
            capacity: 30,
            availability: "weekends".into(),
            open: true,
            ..Default::default()
        }),
        request_id: request_id(),
    }
}

async fn partners_offer_resources_in_their_reach(env: Env) {
    let w = World::build(&env).await;
    let mut unit = env.client(partner(&w.unit));
    let room = unit
        .create_shared_resource(resource(&w.unit, &w.community_b, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(room.owner, w.unit);
    assert_status(
        unit.create_shared_resource(resource(&w.unit, &w.community_a, ""))
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_status(
        unit.create_shared_resource(resource(&w.firm_b, &w.community_b, ""))
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_bad_field(
        env.admin()
            .create_shared_resource(resource(&w.unit, &w.community_b, &w.a1))
            .await,
        "shared_resource.courtyard",
    );
    let closed = unit
        .update_shared_resource(UpdateSharedResourceRequest {
            shared_resource: Some(SharedResource {
                name: room.name.clone(),
                open: false,
                etag: room.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["open"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!closed.open);

    let staff_room = env
        .admin()
        .create_shared_resource(resource(&w.group_a1, &w.community_a, &w.a1))
        .await
        .unwrap()
        .into_inner();
    let open = env
        .admin()
        .list_shared_resources(ListSharedResourcesRequest {
            filter: "open = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.shared_resources, vec![staff_room.clone()]);
    // Firm A sees a1's room; the unit does not, but sees its own.
    let seen_by_firm = env
        .client(partner(&w.firm_a))
        .list_shared_resources(ListSharedResourcesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen_by_firm.shared_resources, vec![staff_room.clone()]);
    let seen_by_unit = unit
        .list_shared_resources(ListSharedResourcesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen_by_unit.shared_resources, vec![closed.clone()]);

    unit.delete_shared_resource(DeleteSharedResourceRequest {
        name: closed.name.clone(),
        etag: closed.etag,
    })
    .await
    .unwrap();
    assert_status(
        env.admin()
            .get_shared_resource(GetSharedResourceRequest { name: closed.name })
            .await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
}
