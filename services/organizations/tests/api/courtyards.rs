//! GetCourtyard, ListCourtyards, CreateCourtyard, UpdateCourtyard,
//! DeleteCourtyard.

use cogov_proto::common::GeoPoint;
use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    themed_courtyards_pair_with_another_community,
    courtyard_filters,
    courtyard_updates_and_deletes
);

async fn themed_courtyards_pair_with_another_community(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let themed = c
        .create_courtyard(CreateCourtyardRequest {
            courtyard: Some(Courtyard {
                community: w.community_a.clone(),
                display_name: "Shared garden".into(),
                kind: CourtyardKind::Bungalow as i32,
                household_count: 24,
                location: Some(GeoPoint {
                    latitude: 39.886,
                    longitude: 116.363,
                }),
                theme: "共享菜园".into(),
                pairing_community: w.community_b.clone(),
                pilot: true,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(themed.pairing_community, w.community_b);
    assert_eq!(themed.location.unwrap().latitude, 39.886);
    assert!(!themed.two_nos.unwrap().met);

    assert_bad_field(
        c.create_courtyard(CreateCourtyardRequest {
            courtyard: Some(Courtyard {
                community: w.community_a.clone(),
                display_name: "Self-paired".into(),
                kind: CourtyardKind::Estate as i32,
                pairing_community: w.community_a.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "courtyard.pairing_community",
    );
    assert_bad_field(
        c.create_courtyard(CreateCourtyardRequest {
            courtyard: Some(Courtyard {
                community: w.community_a.clone(),
                display_name: "Off the map".into(),
                kind: CourtyardKind::Estate as i32,
                location: Some(GeoPoint {
                    latitude: 91.0,
                    longitude: f64::NAN,
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "courtyard.location.latitude",
    );
}

async fn courtyard_filters(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    c.update_courtyard(UpdateCourtyardRequest {
        courtyard: Some(Courtyard {
            name: w.a2.clone(),
            kind: CourtyardKind::Bungalow as i32,
            pilot: true,
            ..Default::default()
        }),
        update_mask: mask(&["kind", "pilot"]),
    })
    .await
    .unwrap();
    let names =
        |r: ListCourtyardsResponse| r.courtyards.into_iter().map(|y| y.name).collect::<Vec<_>>();
    let list = |filter: &str| ListCourtyardsRequest {
        filter: filter.into(),
        ..Default::default()
    };
    assert_eq!(
        names(
            c.list_courtyards(list(&format!("community = \"{}\"", w.community_a)))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.a1.clone(), w.a2.clone()]
    );
    assert_eq!(
        names(
            c.list_courtyards(list("kind = BUNGALOW"))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.a2.clone()]
    );
    assert_eq!(
        names(
            c.list_courtyards(list("kind = COURTYARD_KIND_ESTATE AND pilot = false"))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.a1.clone(), w.b1.clone()]
    );
    assert_eq!(
        names(
            c.list_courtyards(list("pilot = true OR display_name = \"b1\""))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.a2.clone(), w.b1.clone()]
    );
    assert_bad_field(c.list_courtyards(list("kind = CASTLE")).await, "filter");
    assert_bad_field(c.list_courtyards(list("households > 3")).await, "filter");
}

async fn courtyard_updates_and_deletes(env: Env) {
    let w = World::build(&env).await;
    let mut own = env.client(community_admin(&w.community_a));
    let y = own
        .create_courtyard(CreateCourtyardRequest {
            courtyard: Some(Courtyard {
                community: w.community_a.clone(),
                display_name: "New".into(),
                kind: CourtyardKind::Estate as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let y = own
        .update_courtyard(UpdateCourtyardRequest {
            courtyard: Some(Courtyard {
                name: y.name.clone(),
                theme: "邮票院".into(),
                household_count: 120,
                etag: y.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["theme", "household_count"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((y.theme.as_str(), y.household_count), ("邮票院", 120));
    // The community is immutable.
    assert_bad_field(
        own.update_courtyard(UpdateCourtyardRequest {
            courtyard: Some(Courtyard {
                name: y.name.clone(),
                community: w.community_b.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["community"]),
        })
        .await,
        "update_mask",
    );
    // Another community's admin cannot create there.
    assert_status(
        env.client(community_admin(&w.community_b))
            .create_courtyard(CreateCourtyardRequest {
                courtyard: Some(Courtyard {
                    community: w.community_a.clone(),
                    display_name: "Intruder".into(),
                    kind: CourtyardKind::Estate as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    own.delete_courtyard(DeleteCourtyardRequest {
        name: y.name.clone(),
        etag: y.etag,
    })
    .await
    .unwrap();
    // a1 has a building and a resident.
    assert_status(
        own.delete_courtyard(DeleteCourtyardRequest {
            name: w.a1.clone(),
            etag: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "HAS_CHILDREN",
    );
}
