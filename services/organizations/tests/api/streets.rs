//! GetStreet, ListStreets, CreateStreet, UpdateStreet, DeleteStreet.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(street_lifecycle, a_street_with_communities_is_not_deleted);

async fn street_lifecycle(env: Env) {
    let mut c = env.admin();
    let created = c
        .create_street(CreateStreetRequest {
            street: Some(Street {
                display_name: "牛街街道".into(),
                code: "110102013".into(),
                district: "西城区".into(),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.name.starts_with("streets/"));
    assert_eq!(created.display_name, "牛街街道");
    assert!(created.create_time.is_some() && !created.etag.is_empty());

    let got = c
        .get_street(GetStreetRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, created);

    let listed = c
        .list_streets(ListStreetsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.streets, vec![created.clone()]);
    assert!(listed.next_page_token.is_empty());

    env.clock.advance(chrono::Duration::seconds(5));
    let updated = c
        .update_street(UpdateStreetRequest {
            street: Some(Street {
                name: created.name.clone(),
                district: "Xicheng".into(),
                display_name: "ignored: not in the mask".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["district"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.district, "Xicheng");
    assert_eq!(updated.display_name, "牛街街道");
    assert_ne!(updated.etag, created.etag);
    assert!(updated.update_time.unwrap().seconds > created.update_time.unwrap().seconds);

    // The old etag is stale now.
    assert_status(
        c.update_street(UpdateStreetRequest {
            street: Some(Street {
                name: created.name.clone(),
                code: "x".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["code"]),
        })
        .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    assert_status(
        c.delete_street(DeleteStreetRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );

    c.delete_street(DeleteStreetRequest {
        name: created.name.clone(),
        etag: updated.etag,
    })
    .await
    .unwrap();
    assert_status(
        c.get_street(GetStreetRequest { name: created.name }).await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
}

async fn a_street_with_communities_is_not_deleted(env: Env) {
    let w = World::build(&env).await;
    let status = assert_status(
        env.admin()
            .delete_street(DeleteStreetRequest {
                name: w.street.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        "HAS_CHILDREN",
    );
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let pf = details.precondition_failure().expect("PreconditionFailure");
    assert_eq!(pf.violations[0].subject, w.street);
}
