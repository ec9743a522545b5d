//! The newcomer's tour through the gateway: a property firm reports, lists
//! and resolves issues in its own courtyards only.

use cogov_proto::gateway::GetCallerRequest;
use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(a_firm_works_its_own_courtyards);

async fn a_firm_works_its_own_courtyards(env: Env) {
    let w = World::build(&env).await;
    let mut firm = env.issues(key(&w.key_a));
    let me = env
        .gateway_as(key(&w.key_a))
        .get_caller(GetCallerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.partner, w.partner_a);
    assert_eq!(me.courtyards, [w.a1.clone()]);
    assert!(!me.all_places);

    let report = |courtyard: &str| ReportIssueRequest {
        issue: Some(Issue {
            courtyard: courtyard.into(),
            sub_item: "subItems/clutter_piling".into(),
            title: "楼道堆物 Boxes in the stairwell".into(),
            ..Default::default()
        }),
        request_id: request_id(),
    };
    let issue = firm.report_issue(report(&w.a1)).await.unwrap().into_inner();
    assert_status(
        firm.report_issue(report(&w.b1)).await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    // Firm B's report in b1 stays out of firm A's list.
    env.issues(key(&w.key_b))
        .report_issue(report(&w.b1))
        .await
        .unwrap();
    let mine = firm
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].name, issue.name);

    // Staff dispatch it to the firm; the firm starts and resolves it.
    let mut staff = env.issues(env.street_admin());
    staff
        .acknowledge_issue(AcknowledgeIssueRequest {
            name: issue.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    staff
        .dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            assignee: w.firm_a.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    // The firm may not dispatch: the gateway refuses it before the service.
    let refused = firm
        .dispatch_issue(DispatchIssueRequest {
            name: issue.name.clone(),
            assignee: w.firm_a.clone(),
            ..Default::default()
        })
        .await;
    let status = assert_status(refused, Code::PermissionDenied, "FORBIDDEN");
    assert!(status.message().contains("DispatchIssue"), "{status:?}");
    firm.start_issue(StartIssueRequest {
        name: issue.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let resolved = firm
        .resolve_issue(ResolveIssueRequest {
            name: issue.name.clone(),
            note: "Cleared and a notice posted".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.state, IssueState::Resolved as i32);
}
