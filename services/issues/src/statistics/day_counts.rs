//! The day counts: for each courtyard and day of report, the sums the
//! statistics are made of. Every write of an issue adds the difference it
//! makes to its row in the same transaction, so statistics over whole days
//! read one row per courtyard and day, however many issues there are.
//! On PostgreSQL a busy courtyard's day may be a few rows (shards), so
//! that concurrent writes there do not queue for one row lock; the
//! statistics sum them like any other rows.
//!
//! Days are the street's local dates (UTC+8, as months are), written
//! `YYYY-MM-DD` so that they sort and their first seven characters are the
//! month.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use cogov_kit::Result;
use cogov_kit::write::Defers;
use cogov_proto::issues::IssueState;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
};

use super::{Counts, count_columns, counted};
use crate::entity::day_counts::{ActiveModel, Column, Entity};
use crate::entity::issues::{self, Model};

/// The street's offset from UTC.
const LOCAL_OFFSET: Duration = Duration::hours(8);

/// The local date of `t`.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + LOCAL_OFFSET).date_naive()
}

/// The instant the local date `d` begins.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc() - LOCAL_OFFSET
}

/// A day's key.
pub fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The SQL of a report's local day, in the form of [`day_key`].
pub fn day_expr(backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust("to_char(create_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")
        }
        _ => Expr::cust("strftime('%Y-%m-%d', create_time, '+8 hours')"),
    }
}

/// What one issue adds to its day's counts (never overdue: that depends on
/// when one asks, and is counted from the issues).
pub fn contribution(m: &Model) -> Counts {
    let state = IssueState::try_from(m.state).unwrap_or_default();
    if state == IssueState::Duplicate {
        return Counts::default();
    }
    let one = |b: bool| i64::from(b);
    Counts {
        reported: 1,
        responded_in_time: one(m.acknowledge_time.is_some_and(|t| t <= m.respond_by)),
        resolved: one(matches!(state, IssueState::Resolved | IssueState::Closed)),
        rated: one(m.satisfaction > 0),
        satisfied: one(m.satisfaction >= 4),
        dispatched: one(m.dispatch_count > 0),
        returned: one(m.return_count > 0),
        ever_resolved: one(m.resolve_time.is_some()),
        reopened: one(m.reopen_count > 0),
        overdue: 0,
    }
}

/// Adds to the day counts the difference between `before` (none for a new
/// issue) and `after`. An issue never changes its courtyard or report time.
pub async fn record<C: Defers>(conn: &C, before: Option<&Model>, after: &Model) -> Result<()> {
    let delta = contribution(after).minus(&before.map(contribution).unwrap_or_default());
    if delta == Counts::default() {
        return Ok(());
    }
    let day = day_key(local_date(after.create_time));
    // A day's counts of one courtyard fit an INTEGER many times over.
    let values = delta.summed().map(|v| v as i32);
    // Read only by statistics, never later in the write: at its commit.
    let add = match conn.get_database_backend() {
        DbBackend::Postgres => add_to_a_free_shard(day, after, values),
        backend => add_to_shard_zero(day, after, values, backend),
    };
    conn.defer(add).await?;
    Ok(())
}

/// The most shards a courtyard's day is spread over: as many writes in
/// one courtyard as may commit at once.
const MAX_SHARD: i16 = 15;

/// Adds `values` to the first of the day's shards no other open write
/// holds, or to a new shard when every one is held, so that a write waits
/// for no other. Quiet courtyards keep one row a day. Two writes that both
/// find every shard held may pick the same new one: the later then adds
/// to it once the earlier commits, as with one row.
fn add_to_a_free_shard(day: String, after: &Model, values: [i32; 9]) -> Statement {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let names = COLUMNS.map(|c| sea_orm::IdenStatic::as_str(&c).to_owned());
        // $1 the day, $2 the courtyard, $3 its community, then the values.
        let value = |i: usize| format!("${}", i + 4);
        let list = |each: &dyn Fn(usize) -> String| {
            (0..names.len()).map(each).collect::<Vec<_>>().join(", ")
        };
        format!(
            "WITH free AS (\
               SELECT shard FROM issue_day_counts WHERE day = $1 AND courtyard_id = $2 \
               ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED), \
             added AS (\
               UPDATE issue_day_counts d SET {update} FROM free \
               WHERE d.day = $1 AND d.courtyard_id = $2 AND d.shard = free.shard \
               RETURNING 1) \
             INSERT INTO issue_day_counts (day, courtyard_id, shard, community_id, {columns}) \
             SELECT $1, $2, (SELECT LEAST(COALESCE(MAX(shard) + 1, 0), {MAX_SHARD}) \
                             FROM issue_day_counts WHERE day = $1 AND courtyard_id = $2), \
                    $3, {values} \
             WHERE NOT EXISTS (SELECT 1 FROM added) \
             ON CONFLICT (day, courtyard_id, shard) DO UPDATE SET {upsert}",
            update = list(&|i| format!("{n} = d.{n} + {v}", n = names[i], v = value(i))),
            columns = names.join(", "),
            values = list(&value),
            upsert = list(&|i| format!("{n} = issue_day_counts.{n} + excluded.{n}", n = names[i])),
        )
    });
    let mut params: Vec<sea_orm::Value> = vec![
        day.into(),
        after.courtyard_id.into(),
        after.community_id.into(),
    ];
    params.extend(values.map(sea_orm::Value::from));
    Statement::from_sql_and_values(DbBackend::Postgres, SQL.as_str(), params)
}

/// Adds `values` to the day's one shard, 0: on SQLite writes take turns,
/// so no write waits for another's row.
fn add_to_shard_zero(
    day: String,
    after: &Model,
    values: [i32; 9],
    backend: DbBackend,
) -> Statement {
    let mut row = ActiveModel {
        day: sea_orm::ActiveValue::Set(day),
        courtyard_id: sea_orm::ActiveValue::Set(after.courtyard_id),
        shard: sea_orm::ActiveValue::Set(0),
        community_id: sea_orm::ActiveValue::Set(after.community_id),
        ..Default::default()
    };
    for (column, value) in COLUMNS.iter().zip(values) {
        sea_orm::ActiveModelTrait::set(&mut row, *column, value.into());
    }
    let mut upsert = OnConflict::columns([Column::Day, Column::CourtyardId, Column::Shard]);
    for column in COLUMNS {
        upsert.value(
            column,
            Expr::col((Entity, column)).add(Expr::col((Alias::new("excluded"), column))),
        );
    }
    Entity::insert(row).on_conflict(upsert).build(backend)
}

/// The summed columns, in [`Counts::summed`]'s order.
const COLUMNS: [Column; 9] = [
    Column::Reported,
    Column::RespondedInTime,
    Column::Resolved,
    Column::Rated,
    Column::Satisfied,
    Column::Dispatched,
    Column::Returned,
    Column::EverResolved,
    Column::Reopened,
];

/// Recomputes every day's counts from the issues: for a database filled
/// by other means than the service (a bulk load, a restore), and to
/// check the counts kept on the way.
pub async fn rebuild<C: ConnectionTrait>(conn: &C) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute_raw(Entity::delete_many().build(backend))
        .await?;
    let day = day_expr(backend);
    let mut select = issues::Entity::find()
        .select_only()
        .column_as(day.clone(), "day")
        .column(issues::Column::CourtyardId)
        .column(issues::Column::CommunityId);
    for (expr, alias) in count_columns() {
        select = select.column_as(expr, alias);
    }
    let select = select
        .filter(counted())
        .group_by(day)
        .group_by(issues::Column::CourtyardId)
        .group_by(issues::Column::CommunityId)
        .into_query();
    let mut insert = Query::insert();
    insert
        .into_table(Entity)
        .columns(
            [Column::Day, Column::CourtyardId, Column::CommunityId]
                .into_iter()
                .chain(COLUMNS),
        )
        .select_from(select)
        .map_err(|e| cogov_kit::Error::Internal(format!("day counts rebuild: {e}")))?;
    conn.execute(&insert).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_local_dates_that_begin_at_local_midnight() {
        let t = "2026-06-01T16:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let d = local_date(t);
        assert_eq!(day_key(d), "2026-06-02");
        assert_eq!(
            day_start(d),
            "2026-06-01T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let before = "2026-06-01T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(day_key(local_date(before)), "2026-06-01");
    }
}
