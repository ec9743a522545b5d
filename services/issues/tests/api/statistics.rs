//! ComputeIssueStatistics on a hand-computed data set.

use cogov_kit::convert::timestamp;
use cogov_proto::common::Interval;
use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    rates_on_a_hand_computed_set,
    writes_in_one_courtyard_keep_its_day_counts,
    the_day_counts_shards_migration_rebuilds_a_history_either_way
);

/// Takes an issue through to RESOLVED with `c` (staff).
async fn resolve(c: &mut Client, name: &str) {
    c.start_issue(StartIssueRequest {
        name: name.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.resolve_issue(ResolveIssueRequest {
        name: name.into(),
        note: "done".into(),
        ..Default::default()
    })
    .await
    .unwrap();
}

async fn rates_on_a_hand_computed_set(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    // Community A, five issues (respond within 24 h for clutter):
    //  1. acknowledged in time, firm A, resolved, confirmed 5
    //  2. acknowledged in time, firm A, returned, re-dispatched, resolved, confirmed 2
    //  3. acknowledged late, firm A, resolved, reopened
    //  4. never acknowledged
    //  5. a duplicate of 4 (not counted)
    // Community B: one issue, acknowledged in time, firm B, resolved, confirmed 4.
    let one = dispatched(&env, &w.a1, "clutter_piling", &w.firm_a).await;
    resolve(&mut c, &one.name).await;
    c.confirm_issue(ConfirmIssueRequest {
        name: one.name.clone(),
        satisfaction: 5,
        ..Default::default()
    })
    .await
    .unwrap();

    let two = dispatched(&env, &w.a1, "clutter_piling", &w.firm_a).await;
    c.return_issue(ReturnIssueRequest {
        name: two.name.clone(),
        reason: ReturnReason::WrongPlace as i32,
        ..Default::default()
    })
    .await
    .unwrap();
    c.dispatch_issue(DispatchIssueRequest {
        name: two.name.clone(),
        assignee: w.firm_a.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    resolve(&mut c, &two.name).await;
    c.confirm_issue(ConfirmIssueRequest {
        name: two.name.clone(),
        satisfaction: 2,
        ..Default::default()
    })
    .await
    .unwrap();

    let three = c
        .report_issue(report(&w.a2, "clutter_piling"))
        .await
        .unwrap()
        .into_inner();
    env.clock.advance(chrono::Duration::hours(25));
    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: three.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.dispatch_issue(DispatchIssueRequest {
        name: three.name.clone(),
        assignee: w.firm_a.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    resolve(&mut c, &three.name).await;
    c.reopen_issue(ReopenIssueRequest {
        name: three.name.clone(),
        reason: "back".into(),
        ..Default::default()
    })
    .await
    .unwrap();

    let four = c
        .report_issue(report(&w.a2, "noise"))
        .await
        .unwrap()
        .into_inner();
    let five = c
        .report_issue(report(&w.a2, "noise"))
        .await
        .unwrap()
        .into_inner();
    c.mark_duplicate_issue(MarkDuplicateIssueRequest {
        name: five.name,
        original: four.name,
        ..Default::default()
    })
    .await
    .unwrap();

    let six = dispatched(&env, &w.b1, "noise", &w.firm_b).await;
    resolve(&mut c, &six.name).await;
    c.confirm_issue(ConfirmIssueRequest {
        name: six.name.clone(),
        satisfaction: 4,
        ..Default::default()
    })
    .await
    .unwrap();

    let window = Some(Interval {
        start_time: Some(timestamp(start_time() - chrono::Duration::days(1))),
        end_time: Some(timestamp(env.clock.now() + chrono::Duration::days(1))),
    });
    let by_community = c
        .compute_issue_statistics(ComputeIssueStatisticsRequest {
            group_by: StatisticsGroup::Community as i32,
            interval: window,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let a = by_community
        .rows
        .iter()
        .find(|r| r.key == w.community_a)
        .expect("a row for A");
    assert_eq!(
        (
            a.reported,
            a.responded_in_time,
            a.resolved,
            a.rated,
            a.satisfied,
            a.returned,
            a.reopened
        ),
        (4, 2, 2, 2, 1, 1, 1)
    );
    assert_eq!(a.response_rate, 0.5);
    assert_eq!(a.resolution_rate, 0.5);
    assert_eq!(a.satisfaction_rate, 0.5);
    assert_eq!(a.return_rate, 1.0 / 3.0);
    assert_eq!(a.reopen_rate, 1.0 / 3.0);
    // 100 × (0.3·0.5 + 0.3·0.5 + 0.2·0.5 + 0.1·(2/3) + 0.1·(2/3)) = 53.33
    assert_eq!(a.score, 53.33);
    let b = by_community
        .rows
        .iter()
        .find(|r| r.key == w.community_b)
        .unwrap();
    assert_eq!(
        (
            b.reported,
            b.response_rate,
            b.resolution_rate,
            b.satisfaction_rate
        ),
        (1, 1.0, 1.0, 1.0)
    );
    assert_eq!(by_community.rows[0].key, w.community_b, "ranked by score");
    assert_eq!(
        (by_community.rows[0].rank, by_community.rows[1].rank),
        (1, 2)
    );

    let by_assignee = c
        .compute_issue_statistics(ComputeIssueStatisticsRequest {
            group_by: StatisticsGroup::Assignee as i32,
            interval: window,
            filter: format!("community = {}", w.community_a),
            weights: Some(ScoreWeights {
                satisfaction: 1.0,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_assignee.rows.len(), 1);
    assert_eq!(
        (
            by_assignee.rows[0].key.as_str(),
            by_assignee.rows[0].reported
        ),
        (w.firm_a.as_str(), 3)
    );
    assert_eq!(by_assignee.rows[0].score, 50.0, "satisfaction only");

    let by_month = c
        .compute_issue_statistics(ComputeIssueStatisticsRequest {
            group_by: StatisticsGroup::Month as i32,
            interval: window,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_month.rows.len(), 1);
    assert_eq!(
        (by_month.rows[0].key.as_str(), by_month.rows[0].reported),
        ("2026-06", 5)
    );
    let all = c
        .compute_issue_statistics(ComputeIssueStatisticsRequest {
            group_by: StatisticsGroup::SubItem as i32,
            interval: window,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let noise = all.rows.iter().find(|r| r.key == "subItems/noise").unwrap();
    assert_eq!(noise.reported, 2);

    // A community admin sees their community only; partners none.
    let mine = env
        .client(community_admin(&w.community_b))
        .compute_issue_statistics(ComputeIssueStatisticsRequest {
            group_by: StatisticsGroup::Community as i32,
            interval: window,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.rows.len(), 1);
    assert_eq!(mine.rows[0].key, w.community_b);
    assert_status(
        env.client(partner(&w.firm_a))
            .compute_issue_statistics(ComputeIssueStatisticsRequest {
                group_by: StatisticsGroup::All as i32,
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "FORBIDDEN",
    );
    assert_bad_field(
        c.compute_issue_statistics(ComputeIssueStatisticsRequest {
            group_by: StatisticsGroup::All as i32,
            weights: Some(ScoreWeights {
                response: -1.0,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await,
        "weights.response",
    );
    assert_bad_field(
        c.compute_issue_statistics(ComputeIssueStatisticsRequest::default())
            .await,
        "group_by",
    );
    day_counts_agree_with_the_issues(&env).await;
}

/// Concurrent writes in one courtyard on one day keep its day counts
/// exact, and on PostgreSQL a write does not wait for another that holds
/// the day's row until it commits.
async fn writes_in_one_courtyard_keep_its_day_counts(env: Env) {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};

    let w = World::build(&env).await;
    let mut c = env.admin();
    c.report_issue(report(&w.a1, "clutter_piling"))
        .await
        .unwrap();
    let db = env.svc.ctx.db.write();
    if db.get_database_backend() == DbBackend::Postgres {
        let held = db.begin().await.unwrap();
        held.execute_unprepared("SELECT 1 FROM issue_day_counts FOR UPDATE")
            .await
            .unwrap();
        let next = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            c.report_issue(report(&w.a1, "clutter_piling")),
        )
        .await;
        held.rollback().await.unwrap();
        next.expect("a report waits for no other write's day counts")
            .unwrap();
    }
    let racers = (0..16).map(|_| acknowledged(&env, &w.a1, "clutter_piling"));
    futures_util::future::join_all(racers).await;
    day_counts_agree_with_the_issues(&env).await;
}

/// `m0006` on a database with a history, undone (with what came after it)
/// and done again: each
/// time the day counts are rebuilt from the issues, in the table's shape
/// of that step, and writes go on after it.
async fn the_day_counts_shards_migration_rebuilds_a_history_either_way(env: Env) {
    use cogov_issues::migration::Migrator;
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;

    let w = World::build(&env).await;
    let racers = (0..8).map(|_| acknowledged(&env, &w.a1, "clutter_piling"));
    futures_util::future::join_all(racers).await;
    let db = env.svc.ctx.db.write();
    let shard = "SELECT shard FROM issue_day_counts";

    // Down to just before m0006: it and every migration after it.
    let after = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m0006_issue_day_counts_sharded")
        .unwrap();
    Migrator::down(db, Some(after as u32 + 1)).await.unwrap();
    assert!(
        db.execute_unprepared(shard).await.is_err(),
        "undone, the day counts have no shard"
    );
    let reported = "SELECT SUM(reported) AS n FROM issue_day_counts";
    let kept = db.query_one_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        reported,
    ));
    let kept: i64 = kept.await.unwrap().unwrap().try_get("", "n").unwrap();
    assert!(kept >= 8, "{kept} reports counted in the old shape");

    Migrator::up(db, None).await.unwrap();
    db.execute_unprepared(shard).await.unwrap();
    env.admin()
        .report_issue(report(&w.a1, "clutter_piling"))
        .await
        .unwrap();
    day_counts_agree_with_the_issues(&env).await;
}
