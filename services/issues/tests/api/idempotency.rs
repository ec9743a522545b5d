//! ReportIssue is idempotent by request_id, also under concurrent retries.

use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(concurrent_identical_reports_make_one_issue);

async fn concurrent_identical_reports_make_one_issue(env: Env) {
    let w = World::build(&env).await;
    let request = report(&w.a1, "chaotic_parking");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut c = env.admin();
        let r = request.clone();
        tasks.push(tokio::spawn(async move {
            c.report_issue(r).await.map(|r| r.into_inner())
        }));
    }
    let mut names = Vec::new();
    for t in tasks {
        names.push(t.await.unwrap().expect("every retry succeeds").name);
    }
    names.dedup();
    assert_eq!(names.len(), 1, "one issue, returned to every racer");
    let all = env
        .admin()
        .list_issues(ListIssuesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.issues.len(), 1);
    let timeline = env
        .admin()
        .list_issue_updates(ListIssueUpdatesRequest {
            parent: names[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(timeline.updates.len(), 1, "one REPORTED entry");

    let mut changed = request.clone();
    changed.issue.as_mut().unwrap().title = "different".into();
    assert_status(
        env.admin().report_issue(changed).await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
}
