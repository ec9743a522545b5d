//! The taxonomy: 5 categories, 27 sub-items seeded; street admins edit it.

use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(default_taxonomy_and_edits);

async fn default_taxonomy_and_edits(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let categories = c
        .list_categories(ListCategoriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .categories;
    assert_eq!(categories.len(), 5);
    assert_eq!(categories[0].name, "categories/environment");
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_sub_items(ListSubItemsRequest {
                page_size: 10,
                page_token: token,
                filter: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        items.extend(page.sub_items);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(items.len(), 27);
    let two_nos = c
        .list_sub_items(ListSubItemsRequest {
            filter: "two_nos = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sub_items;
    let codes: Vec<&str> = two_nos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        codes,
        ["subItems/clutter_piling", "subItems/chaotic_parking"]
    );
    let safety = c
        .list_sub_items(ListSubItemsRequest {
            filter: "category = categories/safety".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sub_items;
    assert_eq!(safety.len(), 4);

    let created = c
        .create_sub_item(CreateSubItemRequest {
            sub_item_id: "pigeon_droppings".into(),
            sub_item: Some(SubItem {
                category: "categories/environment".into(),
                display_name: "鸽子粪便".into(),
                respond_within_hours: 48,
                resolve_within_days: 14,
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.active);
    assert_status(
        c.create_sub_item(CreateSubItemRequest {
            sub_item_id: "pigeon_droppings".into(),
            sub_item: Some(SubItem {
                category: "categories/environment".into(),
                display_name: "x".into(),
                respond_within_hours: 1,
                resolve_within_days: 1,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        Code::AlreadyExists,
        "RESOURCE_ALREADY_EXISTS",
    );
    assert_bad_field(
        c.create_sub_item(CreateSubItemRequest {
            sub_item_id: "Bad Code".into(),
            sub_item: Some(SubItem {
                category: "categories/nowhere".into(),
                display_name: "x".into(),
                respond_within_hours: 0,
                resolve_within_days: 1,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await,
        "sub_item_id",
    );
    c.create_category(CreateCategoryRequest {
        category_id: "culture".into(),
        category: Some(Category {
            display_name: "文化".into(),
            sort_order: 9,
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .unwrap();
    let renamed = c
        .update_category(UpdateCategoryRequest {
            category: Some(Category {
                name: "categories/culture".into(),
                english_name: "Culture".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["english_name".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.english_name, "Culture");
    assert_status(
        env.client(community_admin(&w.community_a))
            .update_category(UpdateCategoryRequest {
                category: Some(Category {
                    name: "categories/culture".into(),
                    english_name: "x".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["english_name".into()],
                }),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}
