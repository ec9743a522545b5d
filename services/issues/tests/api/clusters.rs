//! Recurring problems: three reports of one sub-item in one courtyard
//! within 30 days make a cluster, ready for escalation.

use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(three_reports_make_a_cluster);

both!(reports_at_once_gather_into_one_cluster);

both!(gathering_at_the_commit_reads_a_few_rows_whatever_the_history);

both!(the_cluster_index_holds_only_the_clustered_issues);

/// The index of issues by cluster serves a lookup by cluster, and never a
/// search for the issues outside any (nearly all of them), which a
/// report's gathering has: PostgreSQL, its statistics stale in a burst of
/// reports, walked them all where the primary key finds a few.
async fn the_cluster_index_holds_only_the_clustered_issues(env: Env) {
    use cogov_issues::entity::issues::{Column, Entity};
    use sea_orm::{
        ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
        TransactionTrait,
    };
    let db = env.svc.ctx.db.read();
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    if backend == DbBackend::Postgres {
        // Any index that could serve the search would now be chosen.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
    }
    let plan = async |filter: sea_orm::sea_query::SimpleExpr| -> String {
        let mut query = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(filter)
            .build(backend);
        let (explain, column) = match backend {
            DbBackend::Postgres => ("EXPLAIN", "QUERY PLAN"),
            _ => ("EXPLAIN QUERY PLAN", "detail"),
        };
        query.sql = format!("{explain} {}", query.sql);
        let rows = txn.query_all_raw(query).await.unwrap();
        let lines: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("", column).unwrap())
            .collect();
        lines.join("\n")
    };
    let one = plan(Column::ClusterId.eq(uuid::Uuid::now_v7())).await;
    assert!(one.contains("ix_issues_cluster"), "{one}");
    let outside = plan(Column::ClusterId.is_null()).await;
    assert!(!outside.contains("ix_issues_cluster"), "{outside}");
    txn.rollback().await.unwrap();
}

/// On SQLite a report gathers its cluster at its commit: the UPDATE finds
/// the issue and the newest others by id, not by walking the issues with
/// no cluster (nearly all of a street's history).
async fn gathering_at_the_commit_reads_a_few_rows_whatever_the_history(env: Env) {
    use sea_orm::{ConnectionTrait, DbBackend, EntityTrait};
    let db = env.svc.ctx.db.read();
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let w = World::build(&env).await;
    let reported = env
        .admin()
        .report_issue(report(&w.a1, "ebike_parking_charging"))
        .await
        .unwrap()
        .into_inner();
    let id = reported.name.trim_start_matches("issues/").parse().unwrap();
    let issue = cogov_issues::entity::issues::Entity::find_by_id::<uuid::Uuid>(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let [_, join, _] = cogov_issues::clusters::gathering(
        DbBackend::Sqlite,
        &env.svc.settings,
        &issue,
        env.clock.now(),
    )
    .unwrap();
    let explain = sea_orm::Statement {
        sql: format!("EXPLAIN QUERY PLAN {}", join.sql),
        ..join
    };
    let plan: Vec<String> = db
        .query_all_raw(explain)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("", "detail").unwrap())
        .collect();
    let plan = plan.join("\n");
    assert!(!plan.contains("ix_issues_cluster"), "{plan}");
    assert!(plan.contains("(id=?)"), "{plan}");
}

/// Reports of one pair sent at once each count the ones before them (on
/// SQLite the writer's turns order them, on PostgreSQL the pair's advisory
/// lock): one cluster gathers them all.
async fn reports_at_once_gather_into_one_cluster(env: Env) {
    let w = World::build(&env).await;
    let reports = (0..12).map(|_| {
        let mut c = env.admin();
        let request = report(&w.a1, "ebike_parking_charging");
        tokio::spawn(async move { c.report_issue(request).await.unwrap().into_inner() })
    });
    let mut reported = Vec::new();
    for r in reports.collect::<Vec<_>>() {
        reported.push(r.await.unwrap());
    }
    let clusters: std::collections::BTreeSet<_> = reported
        .iter()
        .filter(|i| !i.cluster.is_empty())
        .map(|i| i.cluster.clone())
        .collect();
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    let cluster = env
        .admin()
        .get_issue_cluster(GetIssueClusterRequest {
            name: clusters.first().unwrap().clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<_> = reported.iter().map(|i| i.name.clone()).collect();
    names.sort();
    assert_eq!(cluster.issues, names, "every report is in it");
    let first_answered = reported.iter().filter(|i| i.cluster.is_empty()).count();
    assert!(
        first_answered < 3,
        "{first_answered} reports answered without the cluster"
    );
}

async fn three_reports_make_a_cluster(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let first = c
        .report_issue(report(&w.a1, "ebike_parking_charging"))
        .await
        .unwrap()
        .into_inner();
    env.clock.advance(chrono::Duration::days(10));
    let second = c
        .report_issue(report(&w.a1, "ebike_parking_charging"))
        .await
        .unwrap()
        .into_inner();
    c.report_issue(report(&w.a2, "ebike_parking_charging"))
        .await
        .unwrap();
    assert!(
        second.cluster.is_empty(),
        "two reports are not yet a pattern"
    );
    env.clock.advance(chrono::Duration::days(10));
    let third_request = report(&w.a1, "ebike_parking_charging");
    let third = c
        .report_issue(third_request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!third.cluster.is_empty());
    let retried = c.report_issue(third_request).await.unwrap().into_inner();
    assert_eq!(
        (retried.name, retried.cluster),
        (third.name.clone(), third.cluster.clone()),
        "a retry answers with the issue and its cluster"
    );

    let cluster = c
        .get_issue_cluster(GetIssueClusterRequest {
            name: third.cluster.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cluster.state, ClusterState::Detected as i32);
    assert_eq!(cluster.courtyard, w.a1);
    let mut expected = vec![first.name.clone(), second.name.clone(), third.name.clone()];
    expected.sort();
    assert_eq!(cluster.issues, expected);

    // A fourth joins the same cluster.
    let fourth = c
        .report_issue(report(&w.a1, "ebike_parking_charging"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fourth.cluster, third.cluster);
    let grown = c
        .get_issue_cluster(GetIssueClusterRequest {
            name: third.cluster.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    expected.push(fourth.name.clone());
    expected.sort();
    assert_eq!(
        grown.issues, expected,
        "the fourth is stored in the cluster"
    );

    let listed = c
        .list_issue_clusters(ListIssueClustersRequest {
            filter: format!("courtyard = {} AND state = DETECTED", w.a1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.clusters.len(), 1);

    let council = format!("councils/{}", uuid::Uuid::now_v7());
    let escalated = c
        .escalate_issue_cluster(EscalateIssueClusterRequest {
            name: cluster.name.clone(),
            council: council.clone(),
            note: "e-bike charging needs a shared shed".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (escalated.state, escalated.escalated_to.as_str()),
        (ClusterState::Escalated as i32, council.as_str())
    );
    let first = c
        .get_issue(GetIssueRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.escalated_to, council);
    assert_status(
        c.dismiss_issue_cluster(DismissIssueClusterRequest {
            name: cluster.name.clone(),
            ..Default::default()
        })
        .await,
        Code::FailedPrecondition,
        "ILLEGAL_STATE_TRANSITION",
    );
    // Reports older than the window do not count.
    env.clock.advance(chrono::Duration::days(60));
    let late = c
        .report_issue(report(&w.a2, "ebike_parking_charging"))
        .await
        .unwrap()
        .into_inner();
    assert!(late.cluster.is_empty());
}
