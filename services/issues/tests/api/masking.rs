//! Partners see the issues in their reach and those dispatched to them,
//! with the reporter's personal data masked and staff notes hidden.

use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(partners_see_their_reach_masked);

async fn partners_see_their_reach_masked(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let mut r = report(&w.a1, "water_drainage");
    r.issue.as_mut().unwrap().reporter = w.resident_a1.clone();
    let in_a1 = c.report_issue(r).await.unwrap().into_inner();
    let in_b1 = c
        .report_issue(report(&w.b1, "water_drainage"))
        .await
        .unwrap()
        .into_inner();
    c.create_issue_comment(CreateIssueCommentRequest {
        parent: in_a1.name.clone(),
        text: "Reporter is vulnerable; call before visiting".into(),
        internal: true,
        ..Default::default()
    })
    .await
    .unwrap();

    let mut firm = env.client(partner(&w.firm_a));
    let seen = firm
        .get_issue(GetIssueRequest {
            name: in_a1.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(seen.masked);
    assert!(seen.reporter.is_empty());
    let contact = seen.reporter_contact.unwrap();
    assert_eq!(
        (
            contact.display_name.as_str(),
            contact.phone.as_str(),
            contact.address.as_str()
        ),
        ("王**", "138****5678", "")
    );
    let staff_view = c
        .get_issue(GetIssueRequest {
            name: in_a1.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(staff_view.reporter_contact.unwrap().phone, "13812345678");
    assert_eq!(staff_view.reporter, w.resident_a1);

    let listed: Vec<String> = firm
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(listed, [in_a1.name.clone()]);
    assert_status(
        firm.get_issue(GetIssueRequest {
            name: in_b1.name.clone(),
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    let timeline = firm
        .list_issue_updates(ListIssueUpdatesRequest {
            parent: in_a1.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        timeline.updates.iter().all(|u| !u.internal),
        "staff notes hidden"
    );
    assert_status(
        firm.create_issue_comment(CreateIssueCommentRequest {
            parent: in_a1.name.clone(),
            text: "internal?".into(),
            internal: true,
            ..Default::default()
        })
        .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );

    // Dispatched to the department, which has no reach: it sees that issue.
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: in_b1.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.dispatch_issue(DispatchIssueRequest {
        name: in_b1.name.clone(),
        assignee: w.department.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let dept: Vec<String> = env
        .client(partner(&w.department))
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(dept, [in_b1.name.clone()]);

    // A partner reports in its reach only.
    assert_status(
        firm.report_issue(report(&w.b1, "noise")).await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    let own = firm
        .report_issue(report(&w.a1, "noise"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.channel, Channel::Partner as i32);
}
