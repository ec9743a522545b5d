//! GetCommunity, ListCommunities, CreateCommunity, UpdateCommunity,
//! DeleteCommunity.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(community_lifecycle, communities_need_an_existing_street);

async fn community_lifecycle(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let listed = c
        .list_communities(ListCommunitiesRequest {
            filter: format!("street = \"{}\"", w.street),
            order_by: "display_name desc".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = listed
        .communities
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(names, ["B", "A"]);
    assert_eq!(listed.communities[0].street, w.street);

    let new = c
        .create_community(CreateCommunityRequest {
            community: Some(Community {
                street: w.street.clone(),
                display_name: "Fayuansi".into(),
                code: "013004".into(),
                address: "Fayuansi Street 1".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    let updated = c
        .update_community(UpdateCommunityRequest {
            community: Some(Community {
                name: new.name.clone(),
                address: "Fayuansi Street 2".into(),
                ..Default::default()
            }),
            update_mask: mask(&["address"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.address, "Fayuansi Street 2");
    assert_eq!(updated.code, "013004");

    // A community admin changes their own community, not another.
    let mut own = env.client(community_admin(&w.community_a));
    own.update_community(UpdateCommunityRequest {
        community: Some(Community {
            name: w.community_a.clone(),
            code: "A-1".into(),
            ..Default::default()
        }),
        update_mask: mask(&["code"]),
    })
    .await
    .unwrap();
    assert_status(
        own.update_community(UpdateCommunityRequest {
            community: Some(Community {
                name: w.community_b.clone(),
                code: "B-1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["code"]),
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );

    c.delete_community(DeleteCommunityRequest {
        name: new.name.clone(),
        etag: updated.etag,
    })
    .await
    .unwrap();
    assert_status(
        c.delete_community(DeleteCommunityRequest {
            name: w.community_a.clone(),
            etag: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "HAS_CHILDREN",
    );
}

async fn communities_need_an_existing_street(env: Env) {
    let mut c = env.admin();
    let missing = format!("streets/{}", uuid::Uuid::now_v7());
    assert_bad_field(
        c.create_community(CreateCommunityRequest {
            community: Some(Community {
                street: missing,
                display_name: "X".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "community.street",
    );
    assert_bad_field(
        c.create_community(CreateCommunityRequest {
            community: Some(Community {
                display_name: "X".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "community.street",
    );
}
