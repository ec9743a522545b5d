//! Every mutating call leaves an audit record; reads leave none.

use cogov_proto::gateway::*;
use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(mutations_are_recorded);

async fn mutations_are_recorded(env: Env) {
    let w = World::build(&env).await;
    let mut firm = env.issues(key(&w.key_a));
    let rid = request_id();
    let issue = firm
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: w.a1.clone(),
                sub_item: "subItems/clutter_piling".into(),
                title: "Boxes".into(),
                ..Default::default()
            }),
            request_id: rid.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    // A refused mutation is recorded with its code.
    let refused = firm
        .resolve_issue(ResolveIssueRequest {
            name: issue.name.clone(),
            note: "not mine yet".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    // Reads are not.
    firm.list_issues(ListIssuesRequest::default())
        .await
        .unwrap();
    firm.get_issue(GetIssueRequest {
        name: issue.name.clone(),
    })
    .await
    .unwrap();

    let mut admin = env.admin();
    let mut records = Vec::new();
    let found = eventually(async || {
        records = admin
            .list_audit_records(ListAuditRecordsRequest {
                filter: format!("partner = {}", w.partner_a),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .audit_records;
        records.len() >= 2
    })
    .await;
    if !found {
        let all = admin
            .list_audit_records(ListAuditRecordsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .audit_records;
        panic!("refused={refused:?}\nall={all:#?}");
    }
    assert_eq!(records.len(), 2, "reads leave no record: {records:?}");
    // Newest first.
    let (resolve, report) = (&records[0], &records[1]);
    assert_eq!(report.method, "/cogov.issues.v1.IssuesService/ReportIssue");
    assert_eq!(report.code, Code::Ok as i32);
    assert_eq!(report.request_id, rid);
    assert_eq!(report.target, w.a1, "the courtyard reported in");
    assert!(!report.peer.is_empty());
    let principal = report.principal.as_ref().unwrap();
    assert_eq!(
        cogov_kit::auth::Principal::from_proto(principal)
            .unwrap()
            .partner()
            .map(|o| cogov_kit::names::format("organizations", o)),
        Some(w.firm_a.clone())
    );
    assert_eq!(
        resolve.method,
        "/cogov.issues.v1.IssuesService/ResolveIssue"
    );
    assert_eq!(resolve.target, issue.name);
    assert_eq!(resolve.code, refused.code() as i32);

    // The admin's own mutations too, found by method.
    assert!(
        eventually(async || {
            !admin
                .list_audit_records(ListAuditRecordsRequest {
                    filter: "method = \"/cogov.gateway.v1.GatewayService/CreatePartner\"".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .audit_records
                .is_empty()
        })
        .await
    );
    // Partners do not read the audit log.
    assert_status(
        env.gateway_as(key(&w.key_a))
            .list_audit_records(ListAuditRecordsRequest::default())
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
}
