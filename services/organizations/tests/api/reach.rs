//! ResolveReach, and reach as every read sees it.

use cogov_kit::convert::timestamp;
use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    reach_follows_agreements,
    an_ended_agreement_stops_access_on_the_next_call,
    reach_changes_on_schedule
);

async fn reach(env: &Env, org: &str) -> Reach {
    env.admin()
        .resolve_reach(ResolveReachRequest {
            organization: org.into(),
            at_time: None,
        })
        .await
        .unwrap()
        .into_inner()
}

async fn reach_follows_agreements(env: Env) {
    let w = World::build(&env).await;
    let firm = reach(&env, &w.firm_a).await;
    assert_eq!(firm.courtyards, [w.a1.clone()]);
    assert!(firm.communities.is_empty());
    assert_eq!(firm.agreements.len(), 1);

    let unit = reach(&env, &w.unit).await;
    assert_eq!(unit.communities, [w.community_b.clone()]);
    assert_eq!(
        unit.courtyards,
        [w.b1.clone()],
        "the courtyards of a community in reach"
    );

    // An owners' committee reaches its own estate.
    let committee = env
        .admin()
        .create_organization(CreateOrganizationRequest {
            organization: Some(Organization {
                display_name: "a2 owners".into(),
                kind: OrganizationKind::OwnersCommittee as i32,
                place: w.a2.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reach(&env, &committee.name).await.courtyards,
        [w.a2.clone()]
    );

    // A partner resolves its own reach only.
    let mut firm_client = env.client(partner(&w.firm_a));
    let own = firm_client
        .resolve_reach(ResolveReachRequest {
            organization: w.firm_a.clone(),
            at_time: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.courtyards, [w.a1.clone()]);
    assert_status(
        firm_client
            .resolve_reach(ResolveReachRequest {
                organization: w.firm_b.clone(),
                at_time: None,
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
}

async fn an_ended_agreement_stops_access_on_the_next_call(env: Env) {
    let w = World::build(&env).await;
    let mut firm = env.client(partner(&w.firm_a));
    firm.get_courtyard(GetCourtyardRequest { name: w.a1.clone() })
        .await
        .unwrap();

    let agreement = env
        .admin()
        .list_agreements(ListAgreementsRequest {
            filter: format!("organization = {}", w.firm_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .agreements
        .remove(0);
    env.admin()
        .terminate_agreement(TerminateAgreementRequest {
            name: agreement.name,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_status(
        firm.get_courtyard(GetCourtyardRequest { name: w.a1.clone() })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert!(
        firm.list_persons(ListPersonsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .persons
            .is_empty()
    );
}

async fn reach_changes_on_schedule(env: Env) {
    let w = World::build(&env).await;
    let starts = start_time() + chrono::Duration::days(10);
    let ends = starts + chrono::Duration::days(20);
    env.admin()
        .create_agreement(CreateAgreementRequest {
            agreement: Some(Agreement {
                kind: AgreementKind::Service as i32,
                organization: w.firm_a.clone(),
                courtyards: vec![w.a2.clone()],
                title: "Later".into(),
                start_time: Some(timestamp(starts)),
                end_time: Some(timestamp(ends)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let now = reach(&env, &w.firm_a).await;
    assert_eq!(now.courtyards, [w.a1.clone()]);
    assert_eq!(
        now.expire_time,
        Some(timestamp(starts)),
        "cacheable until the next agreement starts"
    );

    let later = env
        .admin()
        .resolve_reach(ResolveReachRequest {
            organization: w.firm_a.clone(),
            at_time: Some(timestamp(starts)),
        })
        .await
        .unwrap()
        .into_inner();
    let mut expected = vec![w.a1.clone(), w.a2.clone()];
    expected.sort();
    assert_eq!(later.courtyards, expected);
    assert_eq!(later.expire_time, Some(timestamp(ends)));

    env.clock.advance(chrono::Duration::days(31));
    assert_eq!(
        reach(&env, &w.firm_a).await.courtyards,
        [w.a1.clone()],
        "the later contract ran out"
    );
}
