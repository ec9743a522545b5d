//! Report → acknowledge → dispatch → start → resolve → confirm, returns,
//! reopening, rejection, duplicates, escalation, and the timeline.

use cogov_proto::common::{Media, MediaRole};
use cogov_proto::issues::*;
use tonic::Code;
use tonic_types::StatusExt;

use crate::both;
use crate::support::*;

both!(
    the_whole_way,
    returns_and_redispatch,
    reopen_reject_duplicate_escalate,
    illegal_steps_are_refused
);

async fn the_whole_way(env: Env) {
    let w = World::build(&env).await;
    let mut staff = env.client(community_admin(&w.community_a));
    let reported = staff
        .report_issue(report(&w.a1, "clutter_piling"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reported.state, IssueState::Reported as i32);
    assert_eq!(reported.community, w.community_a);
    assert_eq!(reported.category, "categories/environment");
    assert_eq!(reported.channel, Channel::Hotline as i32);

    let acked = staff
        .acknowledge_issue(AcknowledgeIssueRequest {
            name: reported.name.clone(),
            etag: reported.etag.clone(),
            note: "On it".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(acked.state, IssueState::Acknowledged as i32);
    assert!(acked.acknowledge_time.is_some());

    let sent = staff
        .dispatch_issue(DispatchIssueRequest {
            name: reported.name.clone(),
            etag: acked.etag.clone(),
            assignee: w.firm_a.clone(),
            note: "Please clear the stairwell".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (sent.state, sent.assignee.as_str()),
        (IssueState::Dispatched as i32, w.firm_a.as_str())
    );

    // The firm works it.
    let mut firm = env.client(partner(&w.firm_a));
    firm.start_issue(StartIssueRequest {
        name: reported.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let resolved = firm
        .resolve_issue(ResolveIssueRequest {
            name: reported.name.clone(),
            note: "Cleared; notice posted".into(),
            media: vec![Media {
                uri: "https://img.example/after.jpg".into(),
                role: MediaRole::After as i32,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.state, IssueState::Resolved as i32);
    let resolution = resolved.resolution.unwrap();
    assert_eq!(
        (resolution.resolver.as_str(), resolution.media.len()),
        (w.firm_a.as_str(), 1)
    );

    // The courtyard's building head, who follows it, confirms.
    let mut head = env.client(resident(&w.head_a1));
    head.follow_issue(FollowIssueRequest {
        name: reported.name.clone(),
    })
    .await
    .unwrap();
    let closed = head
        .confirm_issue(ConfirmIssueRequest {
            name: reported.name.clone(),
            satisfaction: 5,
            comment: "很满意".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state, IssueState::Closed as i32);
    let confirmation = closed.confirmation.unwrap();
    assert_eq!(
        (confirmation.satisfaction, confirmation.confirmer.as_str()),
        (5, w.head_a1.as_str())
    );
    assert!(closed.close_time.is_some());
    assert!(closed.followed, "the answer is the head's view: followed");
    assert!(!resolved.followed, "the firm follows nothing");

    let timeline = staff
        .list_issue_updates(ListIssueUpdatesRequest {
            parent: reported.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .updates;
    let steps: Vec<(i32, i32)> = timeline
        .iter()
        .filter(|u| u.kind == IssueUpdateKind::Transition as i32)
        .map(|u| (u.from_state, u.to_state))
        .collect();
    use IssueState as S;
    assert_eq!(
        steps,
        [
            (S::Unspecified as i32, S::Reported as i32),
            (S::Reported as i32, S::Acknowledged as i32),
            (S::Acknowledged as i32, S::Dispatched as i32),
            (S::Dispatched as i32, S::InProgress as i32),
            (S::InProgress as i32, S::Resolved as i32),
            (S::Resolved as i32, S::Closed as i32),
        ]
    );
    assert!(
        timeline
            .iter()
            .any(|u| u.kind == IssueUpdateKind::Assignment as i32 && u.organization == w.firm_a)
    );
    assert!(
        timeline
            .iter()
            .all(|u| u.create_time.is_some() && !u.author.is_empty())
    );
}

async fn returns_and_redispatch(env: Env) {
    let w = World::build(&env).await;
    let issue = dispatched(&env, &w.a1, "roof_leak", &w.firm_a).await;
    // Firm B is not the assignee.
    assert_status(
        env.client(partner(&w.firm_b))
            .return_issue(ReturnIssueRequest {
                name: issue.name.clone(),
                reason: ReturnReason::NotOurDuty as i32,
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    let returned = env
        .client(partner(&w.firm_a))
        .return_issue(ReturnIssueRequest {
            name: issue.name.clone(),
            reason: ReturnReason::NeedsOtherParty as i32,
            note: "Roof belongs to the housing office".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (returned.state, returned.return_count),
        (IssueState::Returned as i32, 1)
    );
    assert!(returned.assignee.is_empty());
    let again = env
        .admin()
        .dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            assignee: w.department.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.state, again.assignee.as_str()),
        (IssueState::Dispatched as i32, w.department.as_str())
    );
    let updates = env
        .admin()
        .list_issue_updates(ListIssueUpdatesRequest {
            parent: issue.name,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .updates;
    assert!(
        updates
            .iter()
            .any(|u| u.reason_code == "RETURN_REASON_NEEDS_OTHER_PARTY")
    );
}

async fn reopen_reject_duplicate_escalate(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    // Reopened by its reporter after resolution.
    let mut r = report(&w.a1, "lighting");
    r.issue.as_mut().unwrap().reporter_contact = None;
    let mine = env
        .client(resident(&w.resident_a1))
        .report_issue(r)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (mine.reporter.as_str(), mine.channel),
        (w.resident_a1.as_str(), Channel::App as i32)
    );
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: mine.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.dispatch_issue(DispatchIssueRequest {
        name: mine.name.clone(),
        assignee: w.firm_a.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.start_issue(StartIssueRequest {
        name: mine.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.resolve_issue(ResolveIssueRequest {
        name: mine.name.clone(),
        note: "bulb changed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let reopened = env
        .client(resident(&w.resident_a1))
        .reopen_issue(ReopenIssueRequest {
            name: mine.name.clone(),
            reason: "Dark again the next night".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (reopened.state, reopened.reopen_count),
        (IssueState::Reopened as i32, 1)
    );
    c.dispatch_issue(DispatchIssueRequest {
        name: mine.name.clone(),
        assignee: w.firm_a.clone(),
        ..Default::default()
    })
    .await
    .unwrap();

    // Rejected with a reason code.
    let spam = c
        .report_issue(report(&w.a2, "noise"))
        .await
        .unwrap()
        .into_inner();
    let rejected = c
        .reject_issue(RejectIssueRequest {
            name: spam.name.clone(),
            reason: RejectReason::NotResponsible as i32,
            note: "Construction permit valid".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rejected.state, rejected.reject_reason),
        (
            IssueState::Rejected as i32,
            RejectReason::NotResponsible as i32
        )
    );
    assert_bad_field(
        c.reject_issue(RejectIssueRequest {
            name: spam.name.clone(),
            ..Default::default()
        })
        .await,
        "reason",
    );

    // A duplicate closes; the original counts it.
    let original = c
        .report_issue(report(&w.a2, "elevator"))
        .await
        .unwrap()
        .into_inner();
    let copy = c
        .report_issue(report(&w.a2, "elevator"))
        .await
        .unwrap()
        .into_inner();
    let dup = c
        .mark_duplicate_issue(MarkDuplicateIssueRequest {
            name: copy.name.clone(),
            original: original.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (dup.state, dup.duplicate_of.as_str()),
        (IssueState::Duplicate as i32, original.name.as_str())
    );
    let original = c
        .get_issue(GetIssueRequest {
            name: original.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(original.duplicate_count, 1);
    assert_bad_field(
        c.mark_duplicate_issue(MarkDuplicateIssueRequest {
            name: original.name.clone(),
            original: original.name.clone(),
            ..Default::default()
        })
        .await,
        "original",
    );
    let elsewhere = c
        .report_issue(report(&w.a1, "elevator"))
        .await
        .unwrap()
        .into_inner();
    assert_bad_field(
        c.mark_duplicate_issue(MarkDuplicateIssueRequest {
            name: elsewhere.name.clone(),
            original: original.name.clone(),
            ..Default::default()
        })
        .await,
        "original",
    );

    // Escalation records the council.
    let council = format!("councils/{}", uuid::Uuid::now_v7());
    let escalated = c
        .escalate_issue(EscalateIssueRequest {
            name: original.name.clone(),
            council: council.clone(),
            note: "Needs the owners' committee".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(escalated.escalated_to, council);
}

async fn illegal_steps_are_refused(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let issue = c
        .report_issue(report(&w.a1, "heating"))
        .await
        .unwrap()
        .into_inner();
    let status = assert_status(
        c.resolve_issue(ResolveIssueRequest {
            name: issue.name.clone(),
            note: "done".into(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    let details = status.get_error_details();
    let pf = details.precondition_failure().expect("PreconditionFailure");
    assert_eq!(pf.violations[0].subject, issue.name);
    assert_eq!(pf.violations[0].r#type, "STATE");
    // Dispatch needs acknowledgement first; confirm needs resolution.
    assert_status(
        c.dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            assignee: w.firm_a.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    assert_status(
        c.confirm_issue(ConfirmIssueRequest {
            name: issue.name.clone(),
            satisfaction: 3,
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // A stale etag loses.
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: issue.name.clone(),
        etag: issue.etag.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_status(
        c.dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            etag: issue.etag.clone(),
            assignee: w.firm_a.clone(),
            ..Default::default()
        })
        .await,
        Code::Aborted,
        "ETAG_MISMATCH",
    );
    // A missing assignee is named.
    assert_bad_field(
        c.dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            assignee: format!("organizations/{}", uuid::Uuid::now_v7()),
            ..Default::default()
        })
        .await,
        "assignee",
    );
    // Only the reporter or a building head of the courtyard confirms.
    let done = dispatched(&env, &w.a1, "pests", &w.firm_a).await;
    c.start_issue(StartIssueRequest {
        name: done.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.resolve_issue(ResolveIssueRequest {
        name: done.name.clone(),
        note: "sprayed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_status(
        env.client(resident(&w.resident_b1))
            .confirm_issue(ConfirmIssueRequest {
                name: done.name.clone(),
                satisfaction: 1,
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    // A neighbour in the courtyard who neither reported it nor heads it.
    assert_status(
        env.client(resident(&w.resident_a1))
            .confirm_issue(ConfirmIssueRequest {
                name: done.name.clone(),
                satisfaction: 2,
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
        "NOT_REPORTER_OR_BUILDING_HEAD",
    );
    assert_status(
        c.confirm_issue(ConfirmIssueRequest {
            name: done.name.clone(),
            satisfaction: 4,
            confirmer: w.resident_b1.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "NOT_REPORTER_OR_BUILDING_HEAD",
    );
    assert_bad_field(
        c.confirm_issue(ConfirmIssueRequest {
            name: done.name.clone(),
            satisfaction: 6,
            ..Default::default()
        })
        .await,
        "satisfaction",
    );
}
