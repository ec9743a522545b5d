//! Recurring problems: detection on every report, and GetIssueCluster,
//! ListIssueClusters, EscalateIssueCluster, DismissIssueCluster.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::write::Defers;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
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
    // The pair's open cluster comes along with the newest issues: on
    // SQLite every statement of a write is a round trip that the
    // database's other writes wait behind.
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
