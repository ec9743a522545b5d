//! GetPerson, ListPersons, CreatePerson, UpdatePerson, DeletePerson.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    personal_data_is_masked_for_partners,
    places_of_a_person_nest,
    person_filters
);

async fn personal_data_is_masked_for_partners(env: Env) {
    let w = World::build(&env).await;
    let staff = env
        .admin()
        .get_person(GetPersonRequest {
            name: w.person_a1.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (staff.phone.as_str(), staff.address.as_str(), staff.masked),
        ("13812345678", "Room 101", false)
    );

    let mut firm = env.client(partner(&w.firm_a));
    let masked = firm
        .get_person(GetPersonRequest {
            name: w.person_a1.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            masked.phone.as_str(),
            masked.address.as_str(),
            masked.masked
        ),
        ("138****5678", "", true)
    );
    let listed = firm
        .list_persons(ListPersonsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.persons.len(),
        1,
        "only a1's resident is in firm A's reach"
    );
    assert!(
        listed
            .persons
            .iter()
            .all(|p| p.masked && p.address.is_empty())
    );

    // A resident sees their own record only.
    let mut me = env.client(resident(&w.person_a1));
    me.get_person(GetPersonRequest {
        name: w.person_a1.clone(),
    })
    .await
    .unwrap();
    assert_status(
        me.get_person(GetPersonRequest {
            name: w.person_a2.clone(),
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
}

async fn places_of_a_person_nest(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let person = |courtyard: &str, building: &str| CreatePersonRequest {
        person: Some(Person {
            display_name: "Zhao".into(),
            community: w.community_a.clone(),
            courtyard: courtyard.into(),
            building: building.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    assert_bad_field(c.create_person(person(&w.b1, "")).await, "person.courtyard");
    assert_bad_field(
        c.create_person(person(&w.a2, &w.building_a1)).await,
        "person.building",
    );
    assert_bad_field(
        c.create_person(person("", &w.building_a1)).await,
        "person.building",
    );
    let ok = c
        .create_person(person(&w.a1, &w.building_a1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.building, w.building_a1);

    // Only a party member reports to a work unit.
    let mut p = person(&w.a1, "");
    p.person.as_mut().unwrap().double_report_unit = w.unit.clone();
    assert_bad_field(
        c.create_person(p.clone()).await,
        "person.double_report_unit",
    );
    p.person.as_mut().unwrap().party_member = true;
    let member = c.create_person(p).await.unwrap().into_inner();
    assert_eq!(member.double_report_unit, w.unit);

    // Moving a person to another community moves their courtyard too.
    let moved = c
        .update_person(UpdatePersonRequest {
            person: Some(Person {
                name: ok.name.clone(),
                community: w.community_b.clone(),
                courtyard: w.b1.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["community", "courtyard", "building"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (moved.community, moved.courtyard, moved.building),
        (w.community_b.clone(), w.b1.clone(), String::new())
    );
    assert_bad_field(
        c.update_person(UpdatePersonRequest {
            person: Some(Person {
                name: ok.name.clone(),
                phone: "call me".into(),
                ..Default::default()
            }),
            update_mask: mask(&["phone"]),
        })
        .await,
        "person.phone",
    );
}

async fn person_filters(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    c.create_membership(CreateMembershipRequest {
        membership: Some(Membership {
            person: w.person_a2.clone(),
            organization: w.group_a1.clone(),
            role: MembershipRole::Secretary as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .unwrap();
    let names = |r: ListPersonsResponse| r.persons.into_iter().map(|p| p.name).collect::<Vec<_>>();
    let list = |filter: String| ListPersonsRequest {
        filter,
        ..Default::default()
    };
    assert_eq!(
        names(
            c.list_persons(list("role = SECRETARY".into()))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.person_a2.clone()]
    );
    assert_eq!(
        names(
            c.list_persons(list(format!("organization = {}", w.group_a1)))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.person_a2.clone()]
    );
    assert_eq!(
        names(
            c.list_persons(list(format!("courtyard = {}", w.b1)))
                .await
                .unwrap()
                .into_inner()
        ),
        [w.person_b1.clone()]
    );
    assert_eq!(
        names(
            c.list_persons(ListPersonsRequest {
                order_by: "display_name".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
        ),
        [
            w.person_a2.clone(),
            w.person_a1.clone(),
            w.person_b1.clone()
        ],
        "Li, Wang, Zhang"
    );
    // A person with a membership is not deleted.
    assert_status(
        c.delete_person(DeletePersonRequest {
            name: w.person_a2.clone(),
            etag: String::new(),
        })
        .await,
        Code::FailedPrecondition,
        "IN_USE",
    );
    c.delete_person(DeletePersonRequest {
        name: w.person_b1.clone(),
        etag: String::new(),
    })
    .await
    .unwrap();
}
