//! GetAgreement, ListAgreements, CreateAgreement, UpdateAgreement,
//! TerminateAgreement, DeleteAgreement.

use cogov_kit::convert::timestamp;
use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(agreement_lifecycle, agreements_are_checked);

async fn agreement_lifecycle(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let start = start_time() + chrono::Duration::days(1);
    let a = c
        .create_agreement(CreateAgreementRequest {
            agreement: Some(Agreement {
                kind: AgreementKind::Service as i32,
                organization: w.firm_b.clone(),
                courtyards: vec![w.a2.clone(), w.a1.clone()],
                title: "Second contract".into(),
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(start + chrono::Duration::days(365))),
                ..Default::default()
            }),
            request_id: request_id(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.courtyards, [w.a2.clone(), w.a1.clone()], "as entered");
    assert_eq!(a.state, AgreementState::Pending as i32);

    env.clock.advance(chrono::Duration::days(2));
    let a = c
        .get_agreement(GetAgreementRequest {
            name: a.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.state, AgreementState::Active as i32);

    let names =
        |r: ListAgreementsResponse| r.agreements.into_iter().map(|a| a.name).collect::<Vec<_>>();
    let by_courtyard = c
        .list_agreements(ListAgreementsRequest {
            filter: format!("courtyard = {} AND kind = SERVICE", w.a2),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(by_courtyard), [a.name.clone()]);
    let by_community = c
        .list_agreements(ListAgreementsRequest {
            filter: format!("community = {}", w.community_b),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        by_community.agreements.len(),
        2,
        "firm B's b1 contract and the unit's co-building"
    );

    let a = c
        .update_agreement(UpdateAgreementRequest {
            agreement: Some(Agreement {
                name: a.name.clone(),
                courtyards: vec![w.a2.clone()],
                etag: a.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["courtyards"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.courtyards, [w.a2.clone()]);

    let ended = c
        .terminate_agreement(TerminateAgreementRequest {
            name: a.name.clone(),
            etag: a.etag.clone(),
            reason: "Contract breached".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.state, AgreementState::Terminated as i32);
    assert_eq!(ended.terminate_reason, "Contract breached");
    assert_status(
        c.terminate_agreement(TerminateAgreementRequest {
            name: a.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_status(
        c.update_agreement(UpdateAgreementRequest {
            agreement: Some(Agreement {
                name: a.name.clone(),
                title: "Revived".into(),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
        })
        .await,
        Code::FailedPrecondition,
        "AGREEMENT_TERMINATED",
    );
    let terminated = c
        .list_agreements(ListAgreementsRequest {
            filter: "state = TERMINATED".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(terminated), [a.name.clone()]);
    c.delete_agreement(DeleteAgreementRequest {
        name: a.name.clone(),
        etag: ended.etag,
    })
    .await
    .unwrap();
}

async fn agreements_are_checked(env: Env) {
    let w = World::build(&env).await;
    let c = env.admin();
    let base = Agreement {
        kind: AgreementKind::Service as i32,
        organization: w.firm_a.clone(),
        courtyards: vec![w.a2.clone()],
        title: "t".into(),
        start_time: Some(timestamp(start_time())),
        ..Default::default()
    };
    let try_create = |a: Agreement| {
        let mut c = c.clone();
        async move {
            c.create_agreement(CreateAgreementRequest {
                agreement: Some(a),
                request_id: String::new(),
            })
            .await
        }
    };
    assert_bad_field(
        try_create(Agreement {
            organization: w.unit.clone(),
            ..base.clone()
        })
        .await,
        "agreement.organization",
    );
    assert_bad_field(
        try_create(Agreement {
            courtyards: vec![w.a2.clone(), w.a2.clone()],
            ..base.clone()
        })
        .await,
        "agreement.courtyards[1]",
    );
    assert_bad_field(
        try_create(Agreement {
            communities: vec![w.community_a.clone()],
            ..base.clone()
        })
        .await,
        "agreement.communities",
    );
    assert_bad_field(
        try_create(Agreement {
            courtyards: vec![],
            ..base.clone()
        })
        .await,
        "agreement.courtyards",
    );
    assert_bad_field(
        try_create(Agreement {
            end_time: Some(timestamp(start_time())),
            ..base.clone()
        })
        .await,
        "agreement.end_time",
    );
    assert_bad_field(
        try_create(Agreement {
            start_time: None,
            ..base.clone()
        })
        .await,
        "agreement.start_time",
    );
    assert_bad_field(
        try_create(Agreement {
            kind: 0,
            ..base.clone()
        })
        .await,
        "agreement.kind",
    );
    // Only street admins record agreements.
    assert_status(
        env.client(community_admin(&w.community_a))
            .create_agreement(CreateAgreementRequest {
                agreement: Some(base),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    drop(c);
}
