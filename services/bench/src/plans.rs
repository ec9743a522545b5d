//! The query plans the read figures rely on: the statements the issues
//! service sends for the measured ListIssues pages and statistics, built
//! here the way it builds them, under the database's EXPLAIN; and the two
//! reads inside a write that once grew with a courtyard's history. Each is
//! explained on the connection that runs it: searches on
//! [`Db::search`](cogov_kit::db::Db::search), planned for their values, and
//! the write's reads on the writer, planned once without them.

use chrono::{Duration, Utc};
use cogov_issues::entity::day_counts as days;
use cogov_issues::entity::issues::{Column, Entity};
use cogov_issues::issues::overdue_condition;
use cogov_issues::statistics::counted;
use cogov_kit::db::Db;
use cogov_proto::issues::IssueState;
use sea_orm::sea_query::{Expr, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement,
};
use uuid::Uuid;

/// `(label, statement)` for each measured search.
fn searches(
    backend: DbBackend,
    courtyard: Uuid,
    community: Uuid,
) -> Vec<(&'static str, Statement)> {
    let now = Utc::now();
    let page =
        |select: sea_orm::Select<Entity>| select.order_by_desc(Column::Id).limit(51).build(backend);
    let day = |d: chrono::DateTime<Utc>| {
        cogov_issues::statistics::day_counts::day_key(
            cogov_issues::statistics::day_counts::local_date(d),
        )
    };
    vec![
        (
            "ListIssues, community",
            page(Entity::find().filter(Column::CommunityId.eq(community))),
        ),
        (
            "ListIssues, community AND state",
            page(
                Entity::find()
                    .filter(Column::CommunityId.eq(community))
                    .filter(Column::State.eq(IssueState::Dispatched as i32)),
            ),
        ),
        (
            "ListIssues, courtyard AND sub_item",
            page(
                Entity::find()
                    .filter(Column::CourtyardId.eq(courtyard))
                    .filter(Column::SubItemId.eq("roof_leak")),
            ),
        ),
        (
            "ListIssues, overdue",
            page(Entity::find().filter(overdue_condition(now))),
        ),
        (
            "ListIssues, state, by resolve_by",
            Entity::find()
                .filter(Column::State.eq(IssueState::InProgress as i32))
                .order_by_asc(Column::ResolveBy)
                .order_by_asc(Column::Id)
                .limit(51)
                .build(backend),
        ),
        (
            "statistics by community: whole days from the day counts",
            days::Entity::find()
                .select_only()
                .column(days::Column::CommunityId)
                .column_as(
                    SimpleExpr::from(Func::sum(Expr::col(days::Column::Reported))),
                    "reported",
                )
                .filter(days::Column::Day.gte(day(now - Duration::days(30))))
                .filter(days::Column::Day.lt(day(now)))
                .group_by(days::Column::CommunityId)
                .build(backend),
        ),
        (
            "statistics by community: the partial days from the issues",
            Entity::find()
                .select_only()
                .column(Column::CommunityId)
                .column_as(
                    SimpleExpr::from(Func::count(Expr::col(Column::Id))),
                    "reported",
                )
                .filter(Column::CreateTime.gte(now - Duration::hours(12)))
                .filter(Column::CreateTime.lt(now))
                .filter(counted())
                .group_by(Column::CommunityId)
                .build(backend),
        ),
        (
            "statistics by community: overdue from the issues",
            Entity::find()
                .select_only()
                .column(Column::CommunityId)
                .column_as(Expr::cust("COUNT(*)"), "overdue")
                .filter(Column::CreateTime.gte(now - Duration::days(30)))
                .filter(Column::CreateTime.lt(now))
                .filter(counted())
                .filter(overdue_condition(now))
                .filter(Column::DueAt.gte(now - Duration::days(30)))
                .group_by(Column::CommunityId)
                .build(backend),
        ),
    ]
}

/// `(label, statement)` for the reads of a report that could grow with a
/// courtyard's history.
fn write_reads(backend: DbBackend, courtyard: Uuid) -> Vec<(&'static str, Statement)> {
    let now = Utc::now();
    vec![
        (
            "a report's cluster check: the pair's newest issues of the window",
            cogov_issues::clusters::newest_related(
                courtyard,
                "roof_leak",
                now - Duration::days(30),
                3,
            )
            .build(backend),
        ),
        (
            "a two-nos recount: the pair's open issues",
            cogov_issues::two_nos::open_issues(courtyard, "clutter_piling")
                .select_only()
                .column_as(Expr::cust("COUNT(*)"), "open")
                .build(backend),
        ),
    ]
}

/// Prints each statement's plan as a Markdown section.
pub async fn print(db: &Db, courtyard: Uuid, community: Uuid) {
    let backend = db.backend();
    println!("\n### Query plans\n");
    let searches = searches(backend, courtyard, community)
        .into_iter()
        .map(|(label, stmt)| (label, stmt, db.search()));
    let write_reads = write_reads(backend, courtyard)
        .into_iter()
        .map(|(label, stmt)| (label, stmt, db.write()));
    for (label, stmt, conn) in searches.chain(write_reads) {
        let explain = match backend {
            DbBackend::Postgres => "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) ",
            _ => "EXPLAIN QUERY PLAN ",
        };
        let stmt = Statement {
            sql: format!("{explain}{}", stmt.sql),
            ..stmt
        };
        println!("{label}:\n\n```");
        match conn.query_all_raw(stmt).await {
            Ok(rows) => {
                for row in rows {
                    let line = match backend {
                        DbBackend::Postgres => row.try_get::<String>("", "QUERY PLAN"),
                        _ => row.try_get::<String>("", "detail"),
                    };
                    println!("{}", line.unwrap_or_else(|e| format!("({e})")));
                }
            }
            Err(e) => println!("EXPLAIN failed: {e}"),
        }
        println!("```\n");
    }
}
