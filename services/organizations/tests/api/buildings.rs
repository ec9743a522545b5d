//! GetBuilding, ListBuildings, CreateBuilding, UpdateBuilding,
//! DeleteBuilding.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(building_lifecycle);

async fn building_lifecycle(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let b = c
        .create_building(CreateBuildingRequest {
            building: Some(Building {
                courtyard: w.a2.clone(),
                display_name: "Building 2, Unit 1".into(),
                floor_count: 18,
                household_count: 72,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.courtyard, w.a2);
    let got = c
        .get_building(GetBuildingRequest {
            name: b.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, b);
    let in_a2 = c
        .list_buildings(ListBuildingsRequest {
            filter: format!("courtyard = {}", w.a2),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(in_a2.buildings, vec![b.clone()]);
    let in_a = c
        .list_buildings(ListBuildingsRequest {
            filter: format!("community = {}", w.community_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(in_a.buildings.len(), 2);
    assert_bad_field(
        c.update_building(UpdateBuildingRequest {
            building: Some(Building {
                name: b.name.clone(),
                floor_count: 201,
                ..Default::default()
            }),
            update_mask: mask(&["floor_count"]),
        })
        .await,
        "building.floor_count",
    );
    let b = c
        .update_building(UpdateBuildingRequest {
            building: Some(Building {
                name: b.name.clone(),
                floor_count: 20,
                ..Default::default()
            }),
            update_mask: mask(&["floor_count"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.floor_count, 20);
    c.delete_building(DeleteBuildingRequest {
        name: b.name.clone(),
        etag: b.etag,
    })
    .await
    .unwrap();
    assert_status(
        c.get_building(GetBuildingRequest { name: b.name }).await,
        Code::NotFound,
        "RESOURCE_NOT_FOUND",
    );
}
