//! Recurring problems: detection on every report, and GetIssueCluster,
//! ListIssueClusters, EscalateIssueCluster, DismissIssueCluster.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::write::{AtCommit, Defers};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
};
use uuid::Uuid;

use crate::entity::clusters::{self as rows, Column, Entity, Model};
use crate::entity::issues;
use crate::{Issues, Settings, read_id};
use cogov_kit::scope::Scope;

const COLLECTION: &str = "clusters";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

async fn issue_names<C: ConnectionTrait>(conn: &C, cluster: Uuid) -> Result<Vec<String>> {
    let ids: Vec<Uuid> = issues::Entity::find()
        .select_only()
        .column(issues::Column::Id)
        .filter(issues::Column::ClusterId.eq(cluster))
        .order_by_asc(issues::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids
        .into_iter()
        .map(|i| names::format("issues", i))
        .collect())
}

async fn render<C: ConnectionTrait>(conn: &C, m: &Model) -> Result<IssueCluster> {
    Ok(IssueCluster {
        name: names::format(COLLECTION, m.id),
        courtyard: names::format("courtyards", m.courtyard_id),
        community: names::format("communities", m.community_id),
        sub_item: format!("subItems/{}", m.sub_item_id),
        issues: issue_names(conn, m.id).await?,
        state: m.state,
        escalated_to: m
            .escalated_to
            .map(|c| names::format("councils", c))
            .unwrap_or_default(),
        topic: m
            .topic_id
            .map(|t| names::format("topics", t))
            .unwrap_or_default(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    })
}

/// The ids of the newest `limit` issues of `sub_item` reported in
/// `courtyard` since `since` (rejected ones and duplicates aside).
pub fn newest_related(
    courtyard: Uuid,
    sub_item: &str,
    since: DateTime<Utc>,
    limit: u64,
) -> sea_orm::Select<issues::Entity> {
    issues::Entity::find()
        .select_only()
        .column(issues::Column::Id)
        .filter(issues::Column::CourtyardId.eq(courtyard))
        .filter(issues::Column::SubItemId.eq(sub_item))
        .filter(issues::Column::CreateTime.gte(since))
        .filter(
            issues::Column::State
                .is_not_in([IssueState::Rejected as i32, IssueState::Duplicate as i32]),
        )
        .order_by_desc(issues::Column::CreateTime)
        .limit(limit)
}

/// After a report: when the courtyard has had `cluster_threshold` reports
/// of the sub-item within the window, gather them into a cluster (the open
/// one, or a new one). It reads at most `cluster_threshold` issues, however
/// many the courtyard has had: the newest ones, which are the ones a new
/// cluster gathers (an open cluster already holds the older ones).
///
/// This is the check on PostgreSQL, where a read in a write keeps no other
/// write waiting and every deferred statement is a round trip of its own;
/// SQLite's is [`gather_at_commit`].
pub async fn detect<C: Defers>(
    conn: &C,
    settings: &Settings,
    issue: &issues::Model,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    // Reports of the pair take turns from here to their commits (on
    // PostgreSQL): each counts the ones before it, and they gather into
    // one cluster, not one each.
    let turn = crate::turns::take(
        conn.get_database_backend(),
        crate::turns::Purpose::Clusters,
        issue.courtyard_id,
        &issue.sub_item_id,
    );
    if let Some(turn) = turn {
        conn.execute_raw(turn).await?;
    }
    let since = now - Duration::days(settings.cluster_window_days);
    // The pair's open cluster comes along with the newest issues: one
    // round trip, not two.
    let open_cluster = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::CourtyardId.eq(issue.courtyard_id))
        .filter(Column::SubItemId.eq(issue.sub_item_id.clone()))
        .filter(Column::State.is_in([
            ClusterState::Detected as i32,
            ClusterState::Escalated as i32,
        ]))
        .order_by_desc(Column::Id)
        .limit(1)
        .into_query();
    // The new issue itself may not be stored yet (its INSERT may wait
    // for the commit): the others, and then it.
    let others: Vec<(Uuid, Option<Uuid>)> = newest_related(
        issue.courtyard_id,
        &issue.sub_item_id,
        since,
        settings.cluster_threshold,
    )
    .filter(issues::Column::Id.ne(issue.id))
    .expr_as(
        Expr::SubQuery(None, Box::new(open_cluster.into())),
        "open_cluster",
    )
    .into_tuple()
    .all(conn)
    .await?;
    let open = others.first().and_then(|(_, open)| *open);
    let related: Vec<Uuid> = std::iter::once(issue.id)
        .chain(others.into_iter().map(|(id, _)| id))
        .take(usize::try_from(settings.cluster_threshold).unwrap_or(usize::MAX))
        .collect();
    if (related.len() as u64) < settings.cluster_threshold {
        return Ok(None);
    }
    let cluster = match open {
        Some(open) => open,
        None => {
            rows::ActiveModel {
                id: Set(names::new_id()),
                courtyard_id: Set(issue.courtyard_id),
                community_id: Set(issue.community_id),
                sub_item_id: Set(issue.sub_item_id.clone()),
                state: Set(ClusterState::Detected as i32),
                escalated_to: Set(None),
                topic_id: Set(None),
                note: Set(String::new()),
                revision: Set(1),
                create_time: Set(now),
                update_time: Set(now),
            }
            .insert(conn)
            .await?
            .id
        }
    };
    // Nothing later in a report reads the issues' cluster back.
    conn.defer(
        issues::Entity::update_many()
            .col_expr(issues::Column::ClusterId, Expr::value(cluster))
            .filter(issues::Column::Id.is_in(related))
            .filter(issues::Column::ClusterId.is_null())
            .build(conn.get_database_backend()),
    )
    .await?;
    Ok(Some(cluster))
}

/// [`detect`] on SQLite, where a write's reads hold the database's one
/// writer: the check as two statements deferred to the write's commit — a
/// new cluster unless the pair has an open one, then the issue and the
/// newest others join the pair's open cluster, both only if the pair has
/// enough reports — and the issue's cluster read last in the same call, into
/// `at_commit` ([`cluster_in`]). The report then reads nothing while it
/// writes and holds its turn for that one call. Writes on SQLite take turns,
/// so each report counts the ones before it.
pub async fn gather_at_commit<C: Defers>(
    conn: &C,
    settings: &Settings,
    issue: &issues::Model,
    now: DateTime<Utc>,
    at_commit: &AtCommit,
) -> Result<()> {
    let [open_one, join, read] = gathering(conn.get_database_backend(), settings, issue, now)?;
    conn.defer(open_one).await?;
    conn.defer(join).await?;
    conn.read_at_commit(read, at_commit).await?;
    Ok(())
}

/// [`gather_at_commit`]'s statements: a new cluster unless the pair has an
/// open one, the issue and the newest others joining it, and the issue's
/// cluster read back.
pub fn gathering(
    backend: DbBackend,
    settings: &Settings,
    issue: &issues::Model,
    now: DateTime<Utc>,
) -> Result<[Statement; 3]> {
    let since = now - Duration::days(settings.cluster_window_days);
    let others_wanted = settings.cluster_threshold.saturating_sub(1);
    // The newest other issues that would make the pattern with this one.
    let others = newest_related(issue.courtyard_id, &issue.sub_item_id, since, others_wanted)
        .filter(issues::Column::Id.ne(issue.id))
        .into_query();
    let counted = Query::select()
        .expr(Expr::col(Asterisk).count())
        .from_subquery(others.clone(), Alias::new("others"))
        .to_owned();
    let enough = Expr::expr(Expr::SubQuery(None, Box::new(counted.into())))
        .gte(i64::try_from(others_wanted).unwrap_or(i64::MAX));
    let open = |mut select: SelectStatement| {
        select
            .from(Entity)
            .and_where(Column::CourtyardId.eq(issue.courtyard_id))
            .and_where(Column::SubItemId.eq(issue.sub_item_id.clone()))
            .and_where(Column::State.is_in([
                ClusterState::Detected as i32,
                ClusterState::Escalated as i32,
            ]))
            .to_owned()
    };
    let new_cluster = Query::select()
        .exprs([
            Expr::value(names::new_id()),
            Expr::value(issue.courtyard_id),
            Expr::value(issue.community_id),
            Expr::value(issue.sub_item_id.clone()),
            Expr::value(ClusterState::Detected as i32),
            Expr::value(Option::<Uuid>::None),
            Expr::value(Option::<Uuid>::None),
            Expr::value(String::new()),
            Expr::value(1),
            Expr::value(now),
            Expr::value(now),
        ])
        .and_where(enough.clone())
        .and_where(Expr::exists(open(Query::select().expr(Expr::value(1)).to_owned())).not())
        .to_owned();
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::Id,
            Column::CourtyardId,
            Column::CommunityId,
            Column::SubItemId,
            Column::State,
            Column::EscalatedTo,
            Column::TopicId,
            Column::Note,
            Column::Revision,
            Column::CreateTime,
            Column::UpdateTime,
        ])
        .select_from(new_cluster)
        .map_err(|e| Error::Internal(format!("the cluster's INSERT: {e}")))?
        .to_owned();
    let newest_open = open(Query::select().column(Column::Id).to_owned())
        .order_by(Column::Id, Order::Desc)
        .limit(1)
        .to_owned();
    let join = issues::Entity::update_many()
        .col_expr(
            issues::Column::ClusterId,
            Expr::SubQuery(None, Box::new(newest_open.into())),
        )
        .filter(
            Condition::any()
                .add(issues::Column::Id.eq(issue.id))
                .add(issues::Column::Id.in_subquery(others)),
        )
        // Not by the index of clusters, which SQLite would otherwise walk
        // (`+` keeps it from the column's index): nearly every issue has
        // none, so it leads to a courtyard's whole history, where the ids
        // lead to a few rows.
        .filter(Expr::cust(r#"+"cluster_id" IS NULL"#))
        .filter(enough)
        .build(backend);
    Ok([
        backend.build(&insert),
        join,
        cluster_query(backend, issue.id),
    ])
}

/// The query of the cluster `issue` is in ([`cluster_in`] reads its rows).
fn cluster_query(backend: DbBackend, issue: Uuid) -> Statement {
    issues::Entity::find_by_id(issue)
        .select_only()
        .column(issues::Column::ClusterId)
        .build(backend)
}

/// The cluster read by [`cluster_query`]'s rows (none: the issue is in
/// none).
pub fn cluster_in(rows: &[QueryResult]) -> Result<Option<Uuid>> {
    match rows.first() {
        Some(row) => Ok(row.try_get::<Option<Uuid>>("", "cluster_id")?),
        None => Ok(None),
    }
}

/// The cluster `issue` is in, if any, as `conn` sees it.
pub async fn cluster_of<C: ConnectionTrait>(conn: &C, issue: Uuid) -> Result<Option<Uuid>> {
    let query = cluster_query(conn.get_database_backend(), issue);
    cluster_in(&conn.query_all_raw(query).await?)
}

fn visible(scope: &Scope) -> sea_orm::sea_query::Condition {
    scope.place_condition(Column::CommunityId, Some(Column::CourtyardId))
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .filter(visible(scope))
        .one(conn)
        .await?
        .ok_or_else(|| scope.missing("IssueCluster", &names::format(COLLECTION, id)))
}

/// GetIssueCluster.
pub async fn get(svc: &Issues, scope: &Scope, req: GetIssueClusterRequest) -> Result<IssueCluster> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let conn = svc.ctx.db.read();
    render(conn, &get_visible(conn, scope, id).await?).await
}

/// ListIssueClusters, newest first.
pub async fn list(
    svc: &Issues,
    scope: &Scope,
    req: ListIssueClustersRequest,
) -> Result<ListIssueClustersResponse> {
    let fields = [
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::custom("sub_item", |op, value| {
            let code = value
                .strip_prefix("subItems/")
                .filter(|c| crate::valid_code(c))
                .ok_or("expected a `subItems/{code}` name")?;
            match op {
                Op::Eq | Op::Has => Ok(Column::SubItemId.eq(code)),
                Op::Ne => Ok(Column::SubItemId.ne(code)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| ClusterState::from_str_name(s).map(|v| v as i32),
                "CLUSTER_STATE_",
            ),
        ),
    ];
    let query = ListQuery::new(
        "ListIssueClusters",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let conn = svc.ctx.db.read();
    let base = Entity::find().filter(visible(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    let mut clusters = Vec::with_capacity(rows.len());
    for row in &rows {
        clusters.push(render(conn, row).await?);
    }
    Ok(ListIssueClustersResponse {
        clusters,
        next_page_token,
    })
}

async fn decide(
    svc: &Issues,
    scope: &Scope,
    id: Uuid,
    etag_in: &str,
    to: ClusterState,
    council: Option<Uuid>,
    note: String,
) -> Result<IssueCluster> {
    let name = &names::format(COLLECTION, id);
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_staff(row.community_id, name)?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row.clone(), etag_in, name, now)?;
    if row.state != ClusterState::Detected as i32 {
        let from = ClusterState::try_from(row.state)
            .unwrap_or_default()
            .as_str_name();
        let verb = if to == ClusterState::Escalated {
            "escalated"
        } else {
            "dismissed"
        };
        return Err(Error::illegal_transition(
            name,
            from.trim_start_matches("CLUSTER_STATE_"),
            verb,
        ));
    }
    edit.changes.state = Set(to as i32);
    edit.changes.escalated_to = Set(council);
    edit.changes.note = Set(note);
    let saved = edit.save(&txn).await?;
    if let Some(council) = council {
        issues::Entity::update_many()
            .col_expr(issues::Column::EscalatedTo, Expr::value(council))
            .filter(issues::Column::ClusterId.eq(id))
            .exec(&txn)
            .await?;
    }
    let out = render(&txn, &saved).await?;
    if let Some(council) = council {
        crate::events::cluster_escalated(
            &txn,
            &out,
            &names::format("councils", council),
            &saved.note,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(out)
}

/// EscalateIssueCluster.
pub async fn escalate(
    svc: &Issues,
    scope: &Scope,
    _principal: &Principal,
    req: EscalateIssueClusterRequest,
) -> Result<IssueCluster> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    let council = c.name("council", &req.council, "councils");
    c.text("note", &req.note, 0, 4000);
    c.finish()?;
    decide(
        svc,
        scope,
        id,
        &req.etag,
        ClusterState::Escalated,
        Some(council),
        req.note,
    )
    .await
}

/// DismissIssueCluster.
pub async fn dismiss(
    svc: &Issues,
    scope: &Scope,
    _principal: &Principal,
    req: DismissIssueClusterRequest,
) -> Result<IssueCluster> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    c.text("reason", &req.reason, 0, 4000);
    c.finish()?;
    decide(
        svc,
        scope,
        id,
        &req.etag,
        ClusterState::Dismissed,
        None,
        req.reason,
    )
    .await
}
