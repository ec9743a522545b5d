//! ComputeIssueStatistics: the three rates (response in time, resolution,
//! satisfaction), the return and reopen rates and a weighted score, by
//! community, courtyard, assignee, sub-item, category or month — computed
//! by SQL aggregates, never by loading issues into memory.

pub mod day_counts;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cogov_kit::filter::{self, Field, Kind};
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::common::Interval;
use cogov_proto::issues::*;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, IntoCondition, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::Issues;
use crate::entity::issues::{Column, Entity};
use crate::issues::overdue_condition;
use cogov_kit::scope::Scope;

/// `SUM(CASE WHEN cond THEN 1 ELSE 0 END)`.
fn count_if(cond: impl IntoCondition) -> SimpleExpr {
    Func::sum(Expr::case(cond.into_condition(), Expr::val(1)).finally(Expr::val(0))).into()
}

/// Raw counts of one group.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub reported: i64,
    pub responded_in_time: i64,
    pub resolved: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub dispatched: i64,
    pub returned: i64,
    pub ever_resolved: i64,
    pub reopened: i64,
    pub overdue: i64,
}

fn ratio(n: i64, d: i64) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// Normalised weights; all-zero or unset means `defaults`.
pub fn effective_weights(given: Option<&ScoreWeights>, defaults: &ScoreWeights) -> ScoreWeights {
    let w = given.unwrap_or(defaults);
    let sum = w.response + w.resolution + w.satisfaction + w.returns + w.reopens;
    if sum <= 0.0 {
        return effective_weights(None, defaults);
    }
    ScoreWeights {
        response: w.response / sum,
        resolution: w.resolution / sum,
        satisfaction: w.satisfaction / sum,
        returns: w.returns / sum,
        reopens: w.reopens / sum,
    }
}

/// A statistics row from counts.
pub fn row(key: String, c: &Counts, w: &ScoreWeights) -> StatisticsRow {
    let response_rate = ratio(c.responded_in_time, c.reported);
    let resolution_rate = ratio(c.resolved, c.reported);
    let satisfaction_rate = ratio(c.satisfied, c.rated);
    let return_rate = ratio(c.returned, c.dispatched);
    let reopen_rate = ratio(c.reopened, c.ever_resolved);
    let score = 100.0
        * (w.response * response_rate
            + w.resolution * resolution_rate
            + w.satisfaction * satisfaction_rate
            + w.returns * (1.0 - return_rate)
            + w.reopens * (1.0 - reopen_rate));
    StatisticsRow {
        key,
        reported: c.reported,
        responded_in_time: c.responded_in_time,
        resolved: c.resolved,
        rated: c.rated,
        satisfied: c.satisfied,
        returned: c.returned,
        reopened: c.reopened,
        overdue: c.overdue,
        response_rate,
        resolution_rate,
        satisfaction_rate,
        return_rate,
        reopen_rate,
        score: (score * 100.0).round() / 100.0,
        rank: 0,
    }
}

/// Sorts rows by score, best first, and ranks them; ties share a rank.
pub fn rank(rows: &mut [StatisticsRow]) {
    rows.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
    let mut rank = 0;
    let mut last = f64::NAN;
    for (i, r) in rows.iter_mut().enumerate() {
        if r.score != last {
            rank = i as i32 + 1;
            last = r.score;
        }
        r.rank = rank;
    }
}

fn window(req: Option<&Interval>, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let Some(i) = req else {
        return Ok((now - Duration::days(30), now));
    };
    let mut c = Check::new();
    let start = match i.start_time.as_ref().map(convert::from_timestamp) {
        Some(Some(t)) => t,
        Some(None) => {
            c.add("interval.start_time", "out of range");
            now
        }
        None => now - Duration::days(30),
    };
    let end = match i.end_time.as_ref().map(convert::from_timestamp) {
        Some(Some(t)) => t,
        Some(None) => {
            c.add("interval.end_time", "out of range");
            now
        }
        None => now,
    };
    if end <= start {
        c.add("interval.end_time", "must be after start_time");
    }
    c.finish()?;
    Ok((start, end))
}

fn check_weights(w: &ScoreWeights) -> Result<()> {
    let mut c = Check::new();
    for (field, v) in [
        ("weights.response", w.response),
        ("weights.resolution", w.resolution),
        ("weights.satisfaction", w.satisfaction),
        ("weights.returns", w.returns),
        ("weights.reopens", w.reopens),
    ] {
        if !v.is_finite() || v < 0.0 {
            c.add(field, "must be a non-negative number");
        }
    }
    c.finish()
}

/// Issues the statistics count: every one but duplicates.
pub fn counted() -> Condition {
    Condition::all().add(Column::State.ne(IssueState::Duplicate as i32))
}

/// The sums of [`Counts`] but overdue, as SQL over issues, with their
/// aliases.
pub fn count_columns() -> Vec<(SimpleExpr, &'static str)> {
    vec![
        (Func::count(Expr::col(Column::Id)).into(), "reported"),
        (
            count_if(
                Condition::all()
                    .add(Column::AcknowledgeTime.is_not_null())
                    .add(Expr::col(Column::AcknowledgeTime).lte(Expr::col(Column::RespondBy))),
            ),
            "responded_in_time",
        ),
        (
            count_if(Column::State.is_in([IssueState::Resolved as i32, IssueState::Closed as i32])),
            "resolved",
        ),
        (count_if(Column::Satisfaction.gt(0)), "rated"),
        (count_if(Column::Satisfaction.gte(4)), "satisfied"),
        (count_if(Column::DispatchCount.gt(0)), "dispatched"),
        (count_if(Column::ReturnCount.gt(0)), "returned"),
        (count_if(Column::ResolveTime.is_not_null()), "ever_resolved"),
        (count_if(Column::ReopenCount.gt(0)), "reopened"),
    ]
}

impl Counts {
    /// The nine sums kept per day, in [`count_columns`]' order.
    pub fn summed(&self) -> [i64; 9] {
        [
            self.reported,
            self.responded_in_time,
            self.resolved,
            self.rated,
            self.satisfied,
            self.dispatched,
            self.returned,
            self.ever_resolved,
            self.reopened,
        ]
    }

    fn from_summed(v: [i64; 9], overdue: i64) -> Counts {
        let [
            reported,
            responded_in_time,
            resolved,
            rated,
            satisfied,
            dispatched,
            returned,
            ever_resolved,
            reopened,
        ] = v;
        Counts {
            reported,
            responded_in_time,
            resolved,
            rated,
            satisfied,
            dispatched,
            returned,
            ever_resolved,
            reopened,
            overdue,
        }
    }

    fn zip(&self, other: &Counts, f: impl Fn(i64, i64) -> i64) -> Counts {
        let (a, b) = (self.summed(), other.summed());
        Counts::from_summed(
            std::array::from_fn(|i| f(a[i], b[i])),
            f(self.overdue, other.overdue),
        )
    }

    /// `self - other`, column by column.
    pub fn minus(&self, other: &Counts) -> Counts {
        self.zip(other, |a, b| a - b)
    }

    /// `self + other`, column by column.
    pub fn plus(&self, other: &Counts) -> Counts {
        self.zip(other, |a, b| a + b)
    }
}

/// Where ComputeIssueStatistics reads its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The day counts for whole days of the window, the issues for the
    /// rest and for what the day counts cannot answer (the default).
    DayCounts,
    /// The issues alone: what the day counts must always agree with.
    Issues,
}

/// The groups the day counts can answer.
fn by_day_counts(group: StatisticsGroup) -> bool {
    matches!(
        group,
        StatisticsGroup::All
            | StatisticsGroup::Community
            | StatisticsGroup::Courtyard
            | StatisticsGroup::Month
    )
}

/// A group's key over issues, and whether it is a UUID.
fn issue_key(group: StatisticsGroup, backend: DbBackend) -> (SimpleExpr, bool) {
    match group {
        StatisticsGroup::Community => (Expr::col(Column::CommunityId), true),
        StatisticsGroup::Courtyard => (Expr::col(Column::CourtyardId), true),
        StatisticsGroup::Assignee => (Expr::col(Column::AssigneeId), true),
        StatisticsGroup::SubItem => (Expr::col(Column::SubItemId), false),
        StatisticsGroup::Category => (Expr::col(Column::CategoryId), false),
        // Months in the street's time, UTC+8.
        StatisticsGroup::Month => (
            match backend {
                DbBackend::Postgres => {
                    Expr::cust("to_char(create_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')")
                }
                _ => Expr::cust("strftime('%Y-%m', create_time, '+8 hours')"),
            },
            false,
        ),
        _ => (Expr::val("all"), false),
    }
}

/// A group's key over day counts, and whether it is a UUID.
fn day_counts_key(group: StatisticsGroup) -> (SimpleExpr, bool) {
    use crate::entity::day_counts::Column as Day;
    match group {
        StatisticsGroup::Community => (Expr::col(Day::CommunityId), true),
        StatisticsGroup::Courtyard => (Expr::col(Day::CourtyardId), true),
        StatisticsGroup::Month => (Expr::cust("substr(day, 1, 7)"), false),
        _ => (Expr::val("all"), false),
    }
}

fn key_name(group: StatisticsGroup, id: Option<Uuid>, text: Option<String>) -> String {
    match (group, id) {
        (StatisticsGroup::Community, Some(id)) => names::format("communities", id),
        (StatisticsGroup::Courtyard, Some(id)) => names::format("courtyards", id),
        (StatisticsGroup::Assignee, Some(id)) => names::format("organizations", id),
        (StatisticsGroup::SubItem, _) => format!("subItems/{}", text.unwrap_or_default()),
        (StatisticsGroup::Category, _) => format!("categories/{}", text.unwrap_or_default()),
        _ => text.unwrap_or_default(),
    }
}

/// One aggregate query's rows: `key` and the sums under their aliases.
async fn sums<C: ConnectionTrait>(
    conn: &C,
    stmt: sea_orm::Statement,
    group: StatisticsGroup,
    uuid_key: bool,
    aliases: &[&str],
) -> Result<Vec<(String, Vec<i64>)>> {
    let mut out = Vec::new();
    for r in conn.query_all_raw(stmt).await? {
        let mut values = Vec::with_capacity(aliases.len());
        for col in aliases {
            // SQLite sums to INTEGER, PostgreSQL INTEGERs to BIGINT.
            values.push(
                r.try_get::<Option<i64>>("", col)
                    .map(Option::unwrap_or_default)
                    .map_err(|e| Error::Internal(format!("statistics column {col}: {e}")))?,
            );
        }
        let key = if uuid_key {
            key_name(
                group,
                r.try_get::<Option<Uuid>>("", "key").ok().flatten(),
                None,
            )
        } else {
            key_name(
                group,
                None,
                r.try_get::<Option<String>>("", "key").ok().flatten(),
            )
        };
        out.push((key, values));
    }
    Ok(out)
}

/// What one computation asks, whatever it reads.
struct Ask {
    group: StatisticsGroup,
    now: DateTime<Utc>,
    /// The caller's filter, over issues.
    condition: Condition,
    /// Only this community's issues (a community admin's).
    community: Option<Uuid>,
}

impl Ask {
    /// Counts from the issues reported in `[from, to)`; with `overdue_only`,
    /// of the overdue ones only, which the due-time index finds.
    async fn scan<C: ConnectionTrait>(
        &self,
        conn: &C,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        overdue_only: bool,
    ) -> Result<Vec<(String, Counts)>> {
        let backend = conn.get_database_backend();
        let (key, uuid_key) = issue_key(self.group, backend);
        let mut select = Entity::find()
            .select_only()
            .column_as(key.clone(), "key")
            .filter(Column::CreateTime.gte(from))
            .filter(Column::CreateTime.lt(to))
            .filter(counted())
            .filter(self.condition.clone());
        let mut aliases = Vec::new();
        if overdue_only {
            // Only the overdue count, so that the covering overdue index
            // answers without reading issues. Deadlines fall after the
            // report (by an hour at least), so the window bounds the due
            // times too: the index reads only deadlines missed since the
            // window began.
            select = select
                .column_as(Expr::cust("COUNT(*)"), "overdue")
                .filter(overdue_condition(self.now))
                .filter(Column::DueAt.gte(from));
        } else {
            for (expr, alias) in count_columns() {
                select = select.column_as(expr, alias);
                aliases.push(alias);
            }
            select = select.column_as(count_if(overdue_condition(self.now)), "overdue");
        }
        aliases.push("overdue");
        if let Some(community) = self.community {
            select = select.filter(Column::CommunityId.eq(community));
        }
        if self.group == StatisticsGroup::Assignee {
            select = select.filter(Column::AssigneeId.is_not_null());
        }
        if self.group != StatisticsGroup::All {
            select = select.group_by(key);
        }
        let rows = sums(conn, select.build(backend), self.group, uuid_key, &aliases).await?;
        Ok(rows
            .into_iter()
            .map(|(key, v)| {
                let counts = if overdue_only {
                    Counts {
                        overdue: v[0],
                        ..Counts::default()
                    }
                } else {
                    Counts::from_summed(std::array::from_fn(|i| v[i]), v[9])
                };
                (key, counts)
            })
            .collect())
    }

    /// Counts from the day counts of local days `[first, end)`, with
    /// `condition` the caller's filter over day counts.
    async fn days<C: ConnectionTrait>(
        &self,
        conn: &C,
        (first, end): (NaiveDate, NaiveDate),
        condition: Condition,
    ) -> Result<Vec<(String, Counts)>> {
        use crate::entity::day_counts::{Column as Day, Entity as Days};
        let backend = conn.get_database_backend();
        let (key, uuid_key) = day_counts_key(self.group);
        // The day counts' columns bear the sums' names.
        let aliases: Vec<&str> = count_columns().into_iter().map(|(_, a)| a).collect();
        let mut select = Days::find().select_only().column_as(key.clone(), "key");
        for &alias in &aliases {
            select = select.column_as(SimpleExpr::from(Func::sum(Expr::col(alias))), alias);
        }
        select = select
            .filter(Day::Day.gte(day_counts::day_key(first)))
            .filter(Day::Day.lt(day_counts::day_key(end)))
            .filter(condition);
        if let Some(community) = self.community {
            select = select.filter(Day::CommunityId.eq(community));
        }
        if self.group != StatisticsGroup::All {
            select = select.group_by(key);
        }
        let rows = sums(conn, select.build(backend), self.group, uuid_key, &aliases).await?;
        Ok(rows
            .into_iter()
            .map(|(key, v)| (key, Counts::from_summed(std::array::from_fn(|i| v[i]), 0)))
            .collect())
    }
}

/// The filterable fields over day counts: the places.
fn day_fields() -> Vec<Field> {
    use crate::entity::day_counts::Column as Day;
    vec![
        Field::column("courtyard", Day::CourtyardId, Kind::Name("courtyards")),
        Field::column("community", Day::CommunityId, Kind::Name("communities")),
    ]
}

/// The whole local days inside `[start, end)`, if any.
fn whole_days(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<(NaiveDate, NaiveDate)> {
    let mut first = day_counts::local_date(start);
    if day_counts::day_start(first) < start {
        first = first.succ_opt()?;
    }
    let last = day_counts::local_date(end);
    (first < last).then_some((first, last))
}

/// ComputeIssueStatistics.
pub async fn compute(
    svc: &Issues,
    scope: &Scope,
    req: ComputeIssueStatisticsRequest,
) -> Result<ComputeIssueStatisticsResponse> {
    compute_from(svc, scope, req, Source::DayCounts).await
}

/// ComputeIssueStatistics from `source`.
pub async fn compute_from(
    svc: &Issues,
    scope: &Scope,
    req: ComputeIssueStatisticsRequest,
    source: Source,
) -> Result<ComputeIssueStatisticsResponse> {
    let mut c = Check::new();
    let group: StatisticsGroup = c.enumeration("group_by", req.group_by, true);
    c.finish()?;
    if let Some(w) = &req.weights {
        check_weights(w)?;
    }
    let community = match scope {
        Scope::All => None,
        Scope::Community(community) => Some(*community),
        _ => return Err(Error::forbidden("compute statistics; staff only")),
    };
    let now = svc.ctx.clock.now();
    let (start, end) = window(req.interval.as_ref(), now)?;
    let allowed = ["community", "courtyard", "assignee", "sub_item", "category"];
    let fields: Vec<Field> = crate::issues::fields(now, None)
        .into_iter()
        .filter(|f| allowed.contains(&f.name))
        .collect();
    let ask = Ask {
        group,
        now,
        condition: filter::condition(&req.filter, &fields)?,
        community,
    };

    let conn = svc.ctx.db.search();
    let mut parts = Vec::new();
    let days =
        whole_days(start, end).filter(|_| source == Source::DayCounts && by_day_counts(group));
    let day_condition = days.and_then(|_| filter::condition(&req.filter, &day_fields()).ok());
    match (days, day_condition) {
        (Some((first, last)), Some(condition)) => {
            let (from, to) = (day_counts::day_start(first), day_counts::day_start(last));
            parts.extend(ask.days(conn, (first, last), condition).await?);
            for edge in [(start, from), (to, end)] {
                if edge.0 < edge.1 {
                    parts.extend(ask.scan(conn, edge, false).await?);
                }
            }
            parts.extend(ask.scan(conn, (from, to), true).await?);
        }
        _ => parts.extend(ask.scan(conn, (start, end), false).await?),
    }
    let mut merged = std::collections::BTreeMap::<String, Counts>::new();
    for (key, counts) in parts {
        let total = merged.entry(key).or_default();
        *total = total.plus(&counts);
    }
    let weights = effective_weights(req.weights.as_ref(), &svc.settings.weights);
    let mut rows: Vec<StatisticsRow> = merged
        .iter()
        .filter(|(_, counts)| counts.reported > 0)
        .map(|(key, counts)| row(key.clone(), counts, &weights))
        .collect();
    rank(&mut rows);
    Ok(ComputeIssueStatisticsResponse {
        rows,
        weights: Some(weights),
        interval: Some(Interval {
            start_time: Some(convert::timestamp(start)),
            end_time: Some(convert::timestamp(end)),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_score_on_hand_computed_counts() {
        let c = Counts {
            reported: 10,
            responded_in_time: 8,
            resolved: 6,
            rated: 5,
            satisfied: 4,
            dispatched: 8,
            returned: 2,
            ever_resolved: 7,
            reopened: 1,
            overdue: 3,
        };
        let w = effective_weights(
            Some(&ScoreWeights {
                response: 3.0,
                resolution: 3.0,
                satisfaction: 2.0,
                returns: 1.0,
                reopens: 1.0,
            }),
            &ScoreWeights::default(),
        );
        let r = row("x".into(), &c, &w);
        assert_eq!(r.response_rate, 0.8);
        assert_eq!(r.resolution_rate, 0.6);
        assert_eq!(r.satisfaction_rate, 0.8);
        assert_eq!(r.return_rate, 0.25);
        assert!((r.reopen_rate - 1.0 / 7.0).abs() < 1e-12);
        // 100 × (0.3·0.8 + 0.3·0.6 + 0.2·0.8 + 0.1·0.75 + 0.1·6/7) = 74.07
        assert_eq!(r.score, 74.07);
    }

    #[test]
    fn empty_denominators_give_zero_and_ties_share_ranks() {
        let w = effective_weights(None, &Settings::default().weights);
        let zero = row("z".into(), &Counts::default(), &w);
        assert_eq!((zero.response_rate, zero.satisfaction_rate), (0.0, 0.0));
        let mut rows = vec![
            StatisticsRow {
                key: "b".into(),
                score: 50.0,
                ..Default::default()
            },
            StatisticsRow {
                key: "a".into(),
                score: 90.0,
                ..Default::default()
            },
            StatisticsRow {
                key: "c".into(),
                score: 50.0,
                ..Default::default()
            },
        ];
        rank(&mut rows);
        let ranks: Vec<_> = rows.iter().map(|r| (r.key.as_str(), r.rank)).collect();
        assert_eq!(ranks, [("a", 1), ("b", 2), ("c", 2)]);
    }

    use crate::Settings;
}
