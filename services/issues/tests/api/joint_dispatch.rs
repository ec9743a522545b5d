//! JointDispatchIssue and CheckInIssue (吹哨报到): the issue cannot be
//! resolved until every summoned party has checked in.

use cogov_kit::convert::timestamp;
use cogov_proto::issues::*;
use tonic::Code;
use tonic_types::StatusExt;

use crate::both;
use crate::support::*;

both!(every_party_must_act_before_resolution);
both!(a_return_or_a_plain_dispatch_dismisses_the_parties);

async fn every_party_must_act_before_resolution(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let issue = acknowledged(&env, &w.a1, "illegal_construction").await;
    let by = Some(timestamp(env.clock.now() + chrono::Duration::days(2)));
    let joint = c
        .joint_dispatch_issue(JointDispatchIssueRequest {
            name: issue.name.clone(),
            lead: w.firm_a.clone(),
            parties: vec![
                PartySummons {
                    organization: w.department.clone(),
                    check_in_by: by,
                },
                PartySummons {
                    organization: w.unit.clone(),
                    check_in_by: by,
                },
            ],
            note: "吹哨报到".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(joint.assignee, w.firm_a);
    assert_eq!(joint.joint_parties.len(), 2);
    assert!(
        joint
            .joint_parties
            .iter()
            .all(|p| p.state == PartyState::Summoned as i32)
    );

    let mut firm = env.client(partner(&w.firm_a));
    // A step that leaves the summons alone still answers with them.
    let started = firm
        .start_issue(StartIssueRequest {
            name: issue.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.joint_parties, joint.joint_parties);
    // The department checks in; the unit has not.
    let checked = c
        .check_in_issue(CheckInIssueRequest {
            name: issue.name.clone(),
            organization: w.department.clone(),
            action_note: "Demolition order served".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(checked.joint_parties[0].state, PartyState::CheckedIn as i32);
    let status = assert_status(
        firm.resolve_issue(ResolveIssueRequest {
            name: issue.name.clone(),
            note: "done".into(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "PARTIES_PENDING",
    );
    let details = status.get_error_details();
    let pending: Vec<&str> = details
        .precondition_failure()
        .unwrap()
        .violations
        .iter()
        .map(|v| v.subject.as_str())
        .collect();
    assert_eq!(pending, [w.unit.as_str()]);

    // Only the summoned party checks in for itself.
    assert_status(
        firm.check_in_issue(CheckInIssueRequest {
            name: issue.name.clone(),
            organization: w.unit.clone(),
            action_note: "pretending".into(),
            ..Default::default()
        })
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    env.client(partner(&w.unit))
        .check_in_issue(CheckInIssueRequest {
            name: issue.name.clone(),
            organization: w.unit.clone(),
            action_note: "Volunteers moved the materials".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_status(
        env.client(partner(&w.unit))
            .check_in_issue(CheckInIssueRequest {
                name: issue.name.clone(),
                organization: w.unit.clone(),
                action_note: "again".into(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "ALREADY_CHECKED_IN",
    );
    let resolved = firm
        .resolve_issue(ResolveIssueRequest {
            name: issue.name.clone(),
            note: "Structure removed".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.state, IssueState::Resolved as i32);
    assert!(
        resolved.joint_parties.len() == 2
            && resolved
                .joint_parties
                .iter()
                .all(|p| p.state == PartyState::CheckedIn as i32),
        "{:?}",
        resolved.joint_parties
    );

    // Summons are checked too.
    let other = c
        .report_issue(report(&w.a1, "greening"))
        .await
        .unwrap()
        .into_inner();
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: other.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let past = Some(timestamp(env.clock.now() - chrono::Duration::hours(1)));
    let bad = JointDispatchIssueRequest {
        name: other.name.clone(),
        lead: w.firm_a.clone(),
        parties: vec![
            PartySummons {
                organization: w.unit.clone(),
                check_in_by: past,
            },
            PartySummons {
                organization: w.firm_a.clone(),
                check_in_by: by,
            },
        ],
        ..Default::default()
    };
    let status = c.joint_dispatch_issue(bad).await.unwrap_err();
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert!(
        fields.contains(&"parties[0].check_in_by".to_owned())
            && fields.contains(&"parties[1].organization".to_owned()),
        "{fields:?}"
    );
}

async fn a_return_or_a_plain_dispatch_dismisses_the_parties(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let issue = acknowledged(&env, &w.a1, "illegal_construction").await;
    let by = Some(timestamp(env.clock.now() + chrono::Duration::days(2)));
    let summon = JointDispatchIssueRequest {
        name: issue.name.clone(),
        lead: w.firm_a.clone(),
        parties: vec![PartySummons {
            organization: w.unit.clone(),
            check_in_by: by,
        }],
        ..Default::default()
    };
    c.joint_dispatch_issue(summon.clone()).await.unwrap();
    let mut firm = env.client(partner(&w.firm_a));
    let give_back = ReturnIssueRequest {
        name: issue.name.clone(),
        reason: ReturnReason::NeedsOtherParty as i32,
        ..Default::default()
    };
    let returned = firm
        .return_issue(give_back.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(returned.joint_parties.is_empty());
    let again = c.joint_dispatch_issue(summon).await.unwrap().into_inner();
    assert_eq!(again.joint_parties.len(), 1);
    // The unit was summoned again, and a return dismisses it again; a
    // plain dispatch then summons nobody, and nobody holds up resolution.
    firm.return_issue(give_back).await.unwrap();
    let dispatched = c
        .dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            assignee: w.firm_a.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(dispatched.joint_parties.is_empty());
    let read = c
        .get_issue(GetIssueRequest {
            name: issue.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(read.joint_parties.is_empty());
    firm.start_issue(StartIssueRequest {
        name: issue.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let resolved = firm
        .resolve_issue(ResolveIssueRequest {
            name: issue.name.clone(),
            note: "done alone".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.state, IssueState::Resolved as i32);
}
