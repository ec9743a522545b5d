//! SLA clocks: respond_by and resolve_by are fixed at report time from the
//! sub-item; overdue follows the (controllable) clock; resolved issues
//! nobody confirms close by themselves.

use cogov_kit::convert::timestamp;
use cogov_proto::issues::*;

use crate::both;
use crate::support::*;

both!(sla_boundaries, unconfirmed_issues_close_automatically);

async fn overdue_names(c: &mut Client) -> Vec<String> {
    c.list_issues(ListIssuesRequest {
        filter: "overdue = true".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .issues
    .into_iter()
    .map(|i| i.name)
    .collect()
}

async fn sla_boundaries(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let reported_at = env.clock.now();
    // Elevator: respond within 2 hours, resolve within 2 days.
    let issue = c
        .report_issue(report(&w.a1, "elevator"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        issue.respond_by,
        Some(timestamp(reported_at + chrono::Duration::hours(2)))
    );
    assert_eq!(
        issue.resolve_by,
        Some(timestamp(reported_at + chrono::Duration::days(2)))
    );

    // A changed SLA applies only to later reports.
    c.update_sub_item(UpdateSubItemRequest {
        sub_item: Some(SubItem {
            name: "subItems/elevator".into(),
            respond_within_hours: 1,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["respond_within_hours".into()],
        }),
    })
    .await
    .unwrap();
    let issue = c
        .get_issue(GetIssueRequest {
            name: issue.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        issue.respond_by,
        Some(timestamp(reported_at + chrono::Duration::hours(2)))
    );

    env.clock.advance(chrono::Duration::hours(2));
    assert!(
        !c.get_issue(GetIssueRequest {
            name: issue.name.clone()
        })
        .await
        .unwrap()
        .into_inner()
        .overdue,
        "not before the deadline"
    );
    assert!(overdue_names(&mut c).await.is_empty());
    env.clock.advance(chrono::Duration::seconds(1));
    assert!(
        c.get_issue(GetIssueRequest {
            name: issue.name.clone()
        })
        .await
        .unwrap()
        .into_inner()
        .overdue
    );
    assert_eq!(overdue_names(&mut c).await, [issue.name.clone()]);

    // Acknowledging late stops the response clock but the issue stays late
    // for response statistics; it is no longer overdue until resolve_by.
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: issue.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(overdue_names(&mut c).await.is_empty());
    env.clock
        .set(reported_at + chrono::Duration::days(2) + chrono::Duration::seconds(1));
    assert_eq!(
        overdue_names(&mut c).await,
        [issue.name.clone()],
        "past resolve_by, unresolved"
    );
    let not_overdue = c
        .list_issues(ListIssuesRequest {
            filter: "overdue = false".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(not_overdue.issues.is_empty());
}

async fn unconfirmed_issues_close_automatically(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let issue = dispatched(&env, &w.a1, "public_hygiene", &w.firm_a).await;
    c.start_issue(StartIssueRequest {
        name: issue.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.resolve_issue(ResolveIssueRequest {
        name: issue.name.clone(),
        note: "swept".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    env.clock
        .advance(chrono::Duration::days(7) - chrono::Duration::seconds(1));
    assert_eq!(
        cogov_issues::transitions::close_unconfirmed(&env.svc)
            .await
            .unwrap(),
        0
    );
    env.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        cogov_issues::transitions::close_unconfirmed(&env.svc)
            .await
            .unwrap(),
        1
    );
    let closed = c
        .get_issue(GetIssueRequest {
            name: issue.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state, IssueState::Closed as i32);
    assert!(closed.confirmation.is_none());
    assert_eq!(
        cogov_issues::transitions::close_unconfirmed(&env.svc)
            .await
            .unwrap(),
        0,
        "once"
    );
}
