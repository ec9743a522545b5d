//! The two-nos goal (双无: no chaotic parking, no clutter piling):
//! GetCourtyardTwoNos, ListCourtyardTwoNos, and the recomputation every
//! change to a two-nos issue or inspection triggers.
//!
//! A courtyard meets the goal when, for every two-nos sub-item, it has no
//! open issue and its last inspection passed. The stored row keeps the last
//! time the goal was met.

use chrono::{DateTime, Utc};
use cogov_kit::filter::{self, Field, Kind};
use cogov_kit::listing::{Page, Sort};
use cogov_kit::paging::SortKey;
use cogov_kit::write::Defers;
use cogov_kit::{Result, convert, names};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use crate::entity::{inspections, issues, sub_items, two_nos};
use crate::lifecycle::OPEN;
use crate::{Issues, read_id};
use cogov_kit::scope::Scope;

/// A courtyard's open issues of a sub-item. An open issue is one with a
/// due time: the partial index of the open ones by place serves this,
/// whatever the pair's history.
pub fn open_issues(courtyard: Uuid, sub_item: &str) -> Select<issues::Entity> {
    issues::Entity::find()
        .filter(issues::Column::CourtyardId.eq(courtyard))
        .filter(issues::Column::SubItemId.eq(sub_item))
        .filter(issues::Column::DueAt.is_not_null())
        .filter(issues::Column::State.is_in(OPEN.map(|s| s as i32)))
}

/// The two-nos sub-items, in their order.
async fn codes<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>> {
    Ok(sub_items::Entity::find()
        .filter(sub_items::Column::TwoNos.eq(true))
        .order_by_asc(sub_items::Column::SortOrder)
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// A courtyard's last inspection of a sub-item.
async fn last_inspection<C: ConnectionTrait>(
    conn: &C,
    courtyard: Uuid,
    code: &str,
) -> Result<Option<inspections::Model>> {
    Ok(inspections::Entity::find()
        .filter(inspections::Column::CourtyardId.eq(courtyard))
        .filter(inspections::Column::SubItemId.eq(code))
        .order_by_desc(inspections::Column::InspectTime)
        .order_by_desc(inspections::Column::Id)
        .one(conn)
        .await?)
}

fn passed(last: Option<&inspections::Model>) -> bool {
    last.is_some_and(|i| i.result == InspectionResult::Passed as i32)
}

/// The live state of each two-nos sub-item in a courtyard, with its open
/// issues counted (for reading).
async fn items<C: ConnectionTrait>(conn: &C, courtyard: Uuid) -> Result<Vec<TwoNosItem>> {
    let mut out = Vec::new();
    for code in codes(conn).await? {
        let open = open_issues(courtyard, &code).count(conn).await?;
        let last = last_inspection(conn, courtyard, &code).await?;
        let met = open == 0 && passed(last.as_ref());
        out.push(TwoNosItem {
            sub_item: format!("subItems/{code}"),
            open_issue_count: open as i32,
            last_result: last.as_ref().map_or(0, |i| i.result),
            last_inspection: last
                .map(|i| names::format("inspections", i.id))
                .unwrap_or_default(),
            met,
        });
    }
    Ok(out)
}

/// Whether a courtyard meets the goal now, in one statement (it runs on
/// every step of a two-nos issue, inside its write): for each two-nos
/// sub-item, whether an open issue exists (never how many) or its last
/// inspection did not pass.
async fn met_now<C: ConnectionTrait>(conn: &C, courtyard: Uuid) -> Result<bool> {
    use sea_orm::ExprTrait as _;
    use sea_orm::sea_query::{Expr, Func};
    let of_the_item = |column: Expr| column.equals((sub_items::Entity, sub_items::Column::Id));
    let open = issues::Entity::find()
        .select_only()
        .column(issues::Column::Id)
        .filter(issues::Column::CourtyardId.eq(courtyard))
        .filter(of_the_item(Expr::col((
            issues::Entity,
            issues::Column::SubItemId,
        ))))
        .filter(issues::Column::DueAt.is_not_null())
        .filter(issues::Column::State.is_in(OPEN.map(|s| s as i32)))
        .limit(1)
        .into_query();
    let last_result = inspections::Entity::find()
        .select_only()
        .column(inspections::Column::Result)
        .filter(inspections::Column::CourtyardId.eq(courtyard))
        .filter(of_the_item(Expr::col((
            inspections::Entity,
            inspections::Column::SubItemId,
        ))))
        .order_by_desc(inspections::Column::InspectTime)
        .order_by_desc(inspections::Column::Id)
        .limit(1)
        .into_query();
    let not_passed = Expr::from(Func::coalesce([
        Expr::SubQuery(None, Box::new(last_result.into())),
        Expr::value(0),
    ]))
    .ne(InspectionResult::Passed as i32);
    let failing: Vec<bool> = sub_items::Entity::find()
        .select_only()
        .expr_as(Expr::exists(open).or(not_passed), "failing")
        .filter(sub_items::Column::TwoNos.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(!failing.is_empty() && !failing.contains(&true))
}

/// A write's turn at one courtyard's two-nos status, held to its commit.
/// Only [`take_turn`] makes one, so the status is stored only by a write
/// that took its turn first.
#[derive(Debug)]
pub struct Turn {
    courtyard: Uuid,
}

/// Takes the turn at `courtyard`'s status: the writes that store it take
/// turns until they commit, so that each counts the others' issues as
/// committed ([`crate::turns`]).
///
/// A write takes it before it locks any issue (before it saves one): a
/// report holds the turn while its commit gathers issues into a cluster,
/// so a step that held an issue while it waited for the turn would close
/// a cycle of waits.
pub async fn take_turn<C: ConnectionTrait>(conn: &C, courtyard: Uuid) -> Result<Turn> {
    let turn = crate::turns::take(
        conn.get_database_backend(),
        crate::turns::Purpose::TwoNos,
        courtyard,
        "",
    );
    if let Some(turn) = turn {
        conn.execute_raw(turn).await?;
    }
    Ok(Turn { courtyard })
}

/// Recomputes and stores the status of the courtyard `turn` is at;
/// returns whether it is met.
pub async fn recompute<C: Defers>(
    conn: &C,
    turn: &Turn,
    community: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let met = met_now(conn, turn.courtyard).await?;
    store(conn, turn.courtyard, community, met, now).await?;
    Ok(met)
}

/// After a new two-nos issue: the courtyard has an open one now, so it
/// does not meet the goal, whatever its history (nothing to count).
pub async fn reported<C: Defers>(
    conn: &C,
    turn: &Turn,
    community: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    store(conn, turn.courtyard, community, false, now).await
}

/// Stores whether `courtyard` meets the goal, and tells of a change.
async fn store<C: Defers>(
    conn: &C,
    courtyard: Uuid,
    community: Uuid,
    met: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let previous = two_nos::Entity::find_by_id(courtyard).one(conn).await?;
    let changed = previous.as_ref().is_none_or(|p| p.met != met);
    if !changed && !met {
        // Nothing to write: still not met, since the same time.
        return Ok(());
    }
    let last_met = if met {
        Some(now)
    } else {
        previous.and_then(|p| p.last_met_time)
    };
    if changed {
        crate::events::two_nos_changed(conn, courtyard, community, met, last_met, now).await?;
    }
    // Nothing later in a write reads the status it stores (each write
    // stores one courtyard's at most once): at the commit.
    let upsert = two_nos::Entity::insert(two_nos::ActiveModel {
        courtyard_id: Set(courtyard),
        community_id: Set(community),
        met: Set(met),
        last_met_time: Set(last_met),
        update_time: Set(now),
    })
    .on_conflict(
        OnConflict::column(two_nos::Column::CourtyardId)
            .update_columns([
                two_nos::Column::Met,
                two_nos::Column::LastMetTime,
                two_nos::Column::UpdateTime,
            ])
            .to_owned(),
    )
    .build(conn.get_database_backend());
    conn.defer(upsert).await?;
    Ok(())
}

async fn status<C: ConnectionTrait>(
    conn: &C,
    courtyard: Uuid,
    community: Uuid,
    stored: Option<two_nos::Model>,
) -> Result<CourtyardTwoNos> {
    let items = items(conn, courtyard).await?;
    Ok(CourtyardTwoNos {
        courtyard: names::format("courtyards", courtyard),
        community: names::format("communities", community),
        met: !items.is_empty() && items.iter().all(|i| i.met),
        items,
        last_met_time: stored.and_then(|s| convert::opt_timestamp(s.last_met_time)),
    })
}

fn sees(scope: &Scope, community: Uuid, courtyard: Uuid) -> bool {
    // The goal is public: residents see every courtyard's status.
    matches!(scope, Scope::Resident { .. }) || scope.place_visible(community, Some(courtyard))
}

/// GetCourtyardTwoNos.
pub async fn get(
    svc: &Issues,
    scope: &Scope,
    req: GetCourtyardTwoNosRequest,
) -> Result<CourtyardTwoNos> {
    let courtyard = read_id("courtyard", &req.courtyard, "courtyards")?;
    let place = svc
        .directory
        .courtyard(courtyard)
        .await?
        .ok_or_else(|| scope.missing("Courtyard", &req.courtyard))?;
    if !sees(scope, place.community, courtyard) {
        return Err(cogov_kit::Error::out_of_reach(&req.courtyard));
    }
    let conn = svc.ctx.db.read();
    let stored = two_nos::Entity::find_by_id(courtyard).one(conn).await?;
    status(conn, courtyard, place.community, stored).await
}

/// ListCourtyardTwoNos: courtyards with any two-nos issue or inspection.
pub async fn list(
    svc: &Issues,
    scope: &Scope,
    req: ListCourtyardTwoNosRequest,
) -> Result<ListCourtyardTwoNosResponse> {
    let fields = [
        Field::column(
            "community",
            two_nos::Column::CommunityId,
            Kind::Name("communities"),
        ),
        Field::column("met", two_nos::Column::Met, Kind::Bool),
    ];
    let condition = filter::condition(&req.filter, &fields)?;
    let page = Page::new(
        &svc.ctx.tokens,
        &["ListCourtyardTwoNos", &req.filter],
        req.page_size,
        &req.page_token,
        Sort::<two_nos::Column> {
            column: None,
            desc: false,
        },
    )?;
    let visible = match scope {
        Scope::Resident { .. } => sea_orm::sea_query::Condition::all(),
        other => other.place_condition(
            two_nos::Column::CommunityId,
            Some(two_nos::Column::CourtyardId),
        ),
    };
    let conn = svc.ctx.db.read();
    let select = two_nos::Entity::find().filter(visible).filter(condition);
    let (rows, next_page_token) = page
        .fetch(&svc.ctx.db, select, two_nos::Column::CourtyardId, |m| {
            (SortKey::None, m.courtyard_id)
        })
        .await?;
    let mut statuses = Vec::with_capacity(rows.len());
    for row in rows {
        statuses.push(status(conn, row.courtyard_id, row.community_id, Some(row)).await?);
    }
    Ok(ListCourtyardTwoNosResponse {
        statuses,
        next_page_token,
    })
}
