//! FollowIssue and UnfollowIssue: a resident follows an issue they may see
//! but did not report ("same problem? follow it instead"), and hears of
//! its state changes as its reporter does. A follow is a row of its own:
//! it changes neither the issue's etag nor its update time.

use std::collections::HashSet;

use cogov_kit::scope::Scope;
use cogov_kit::{Error, Result};
use cogov_proto::issues::{FollowIssueRequest, Issue, UnfollowIssueRequest};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::followers::{self, Column, Entity};
use crate::issues::{COLLECTION, get_visible, render};
use crate::{Issues, read_id};

/// The resident behind the call; nobody else follows.
fn follower(scope: &Scope) -> Result<Uuid> {
    scope.resident().ok_or_else(|| {
        Error::forbidden("follow issues; residents follow, staff and partners list them")
    })
}

/// FollowIssue.
pub async fn follow(svc: &Issues, scope: &Scope, req: FollowIssueRequest) -> Result<Issue> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let me = follower(scope)?;
    let now = svc.ctx.clock.now();
    let txn = svc.ctx.db.begin_write().await?;
    let issue = get_visible(&txn, scope, id).await?;
    // The reporter hears of their own report already.
    if issue.reporter_id != Some(me) {
        Entity::insert(followers::ActiveModel {
            issue_id: Set(id),
            person_id: Set(me),
            create_time: Set(now),
        })
        .on_conflict(
            OnConflict::columns([Column::IssueId, Column::PersonId])
                .do_nothing()
                .to_owned(),
        )
        .try_insert()
        .exec(&txn)
        .await?;
    }
    let answer = render(&txn, scope, &issue, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// UnfollowIssue.
pub async fn unfollow(svc: &Issues, scope: &Scope, req: UnfollowIssueRequest) -> Result<Issue> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let me = follower(scope)?;
    let now = svc.ctx.clock.now();
    let txn = svc.ctx.db.begin_write().await?;
    let issue = get_visible(&txn, scope, id).await?;
    Entity::delete_many()
        .filter(Column::IssueId.eq(id))
        .filter(Column::PersonId.eq(me))
        .exec(&txn)
        .await?;
    let answer = render(&txn, scope, &issue, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Which of `issues` the calling resident follows (none for other callers).
pub async fn followed<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    issues: &[Uuid],
) -> Result<HashSet<Uuid>> {
    let Some(me) = scope.resident() else {
        return Ok(HashSet::new());
    };
    if issues.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(Entity::find()
        .filter(Column::PersonId.eq(me))
        .filter(Column::IssueId.is_in(issues.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| f.issue_id)
        .collect())
}

/// Who follows `issue`.
pub async fn followers_of<C: ConnectionTrait>(conn: &C, issue: Uuid) -> Result<Vec<Uuid>> {
    Ok(Entity::find()
        .filter(Column::IssueId.eq(issue))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| f.person_id)
        .collect())
}

/// Forgets everything `person` followed (their erasure).
pub async fn forget<C: ConnectionTrait>(conn: &C, person: Uuid) -> Result<()> {
    Entity::delete_many()
        .filter(Column::PersonId.eq(person))
        .exec(conn)
        .await?;
    Ok(())
}

/// ListIssues' `followed = true`: the issues `me` follows.
pub fn followed_by(me: Uuid) -> SimpleExpr {
    Expr::col((
        crate::entity::issues::Entity,
        crate::entity::issues::Column::Id,
    ))
    .in_subquery(
        Query::select()
            .column(Column::IssueId)
            .from(Entity)
            .and_where(Expr::col(Column::PersonId).eq(me))
            .to_owned(),
    )
}
