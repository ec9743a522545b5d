//! GetTalent, ListTalents, CreateTalent, UpdateTalent, DeleteTalent.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(talent_list);

async fn talent_list(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let talent = |person: &str, category: TalentCategory| CreateTalentRequest {
        talent: Some(Talent {
            person: person.into(),
            category: category as i32,
            description: "水电维修".into(),
            available: true,
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let repair = c
        .create_talent(talent(&w.person_a1, TalentCategory::Repair))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(repair.community, w.community_a);
    let cooking = c
        .create_talent(talent(&w.person_b1, TalentCategory::Cooking))
        .await
        .unwrap()
        .into_inner();
    assert_bad_field(
        c.create_talent(talent(&w.person_b1, TalentCategory::Unspecified))
            .await,
        "talent.category",
    );

    let by_category = c
        .list_talents(ListTalentsRequest {
            filter: "category = REPAIR AND available = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_category.talents, vec![repair.clone()]);

    // The area unit co-builds with B: it sees B's talents.
    let seen = env
        .client(partner(&w.unit))
        .list_talents(ListTalentsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.talents, vec![cooking.clone()]);

    let updated = c
        .update_talent(UpdateTalentRequest {
            talent: Some(Talent {
                name: repair.name.clone(),
                available: false,
                ..Default::default()
            }),
            update_mask: mask(&["available"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!updated.available);
    assert_status(
        env.client(community_admin(&w.community_b))
            .delete_talent(DeleteTalentRequest {
                name: repair.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    env.client(community_admin(&w.community_a))
        .delete_talent(DeleteTalentRequest {
            name: repair.name.clone(),
            etag: updated.etag,
        })
        .await
        .unwrap();
}
