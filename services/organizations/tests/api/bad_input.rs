//! Bad input gets INVALID_ARGUMENT with a field violation naming the field,
//! and changes nothing.

use cogov_proto::organizations::*;

use crate::both;
use crate::support::*;

both!(bad_fields_are_named, bad_names_masks_and_filters);

async fn bad_fields_are_named(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let yard = |f: fn(&mut Courtyard)| {
        let mut y = Courtyard {
            community: w.community_a.clone(),
            display_name: "ok".into(),
            kind: CourtyardKind::Estate as i32,
            ..Default::default()
        };
        f(&mut y);
        CreateCourtyardRequest {
            courtyard: Some(y),
            request_id: String::new(),
        }
    };
    type Mutation = fn(&mut Courtyard);
    let cases: [(Mutation, &str); 8] = [
        (|y| y.display_name = String::new(), "courtyard.display_name"),
        (|y| y.display_name = "   ".into(), "courtyard.display_name"),
        (
            |y| y.display_name = "x".repeat(101),
            "courtyard.display_name",
        ),
        (
            |y| y.display_name = "tab\u{7}bell".into(),
            "courtyard.display_name",
        ),
        (|y| y.kind = 99, "courtyard.kind"),
        (|y| y.kind = 0, "courtyard.kind"),
        (|y| y.household_count = -1, "courtyard.household_count"),
        (|y| y.theme = "主题".repeat(51), "courtyard.theme"),
    ];
    for (mutate, field) in cases {
        assert_bad_field(c.create_courtyard(yard(mutate)).await, field);
    }
    // Every bad field at once, each named.
    let all_bad = CreatePersonRequest {
        person: Some(Person {
            display_name: String::new(),
            community: "communities/nope".into(),
            phone: "x".repeat(40),
            address: "a".repeat(201),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let status = c.create_person(all_bad).await.unwrap_err();
    use tonic_types::StatusExt;
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    for f in [
        "person.display_name",
        "person.community",
        "person.phone",
        "person.address",
    ] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    assert_bad_field(
        c.create_courtyard(CreateCourtyardRequest::default()).await,
        "courtyard",
    );
    // Nothing was created.
    let yards = c
        .list_courtyards(ListCourtyardsRequest {
            filter: format!("community = {}", w.community_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(yards.courtyards.len(), 2);
}

async fn bad_names_masks_and_filters(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    for name in [
        "",
        "courtyards/",
        "courtyards/123",
        "communities/0190a3c4-0000-7000-8000-000000000000",
        "COURTYARDS/x",
    ] {
        assert_bad_field(
            c.get_courtyard(GetCourtyardRequest { name: name.into() })
                .await,
            "name",
        );
    }
    let update = |paths: &[&str]| UpdateCourtyardRequest {
        courtyard: Some(Courtyard {
            name: w.a1.clone(),
            display_name: "renamed".into(),
            ..Default::default()
        }),
        update_mask: if paths.is_empty() { None } else { mask(paths) },
    };
    assert_bad_field(c.update_courtyard(update(&[])).await, "update_mask");
    assert_bad_field(c.update_courtyard(update(&["name"])).await, "update_mask");
    assert_bad_field(
        c.update_courtyard(update(&["two_nos"])).await,
        "update_mask",
    );
    assert_bad_field(
        c.update_courtyard(update(&["*", "theme"])).await,
        "update_mask",
    );
    for filter in [
        "kind =",
        "(pilot = true",
        "pilot = true AND",
        "nope = 1",
        "community = \"communities/x\"",
        "pilot > true",
    ] {
        assert_bad_field(
            c.list_courtyards(ListCourtyardsRequest {
                filter: filter.into(),
                ..Default::default()
            })
            .await,
            "filter",
        );
    }
    assert_bad_field(
        c.list_courtyards(ListCourtyardsRequest {
            order_by: "household_count".into(),
            ..Default::default()
        })
        .await,
        "order_by",
    );
    let unchanged = c
        .get_courtyard(GetCourtyardRequest { name: w.a1.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.display_name, "a1");
}
