//! Who may vote in a poll: fixed when it opens, a row each, so that a
//! ballot checks its voter by key whatever the size of the list.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::entity::poll_voters::{Column, Entity};

/// Rows per INSERT: two parameters each, well under SQLite's and
/// PostgreSQL's limits on parameters in one statement.
const CHUNK: usize = 500;

/// Records `voters` as the poll's eligible voters.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    poll: Uuid,
    voters: &[Uuid],
) -> Result<(), DbErr> {
    for chunk in voters.chunks(CHUNK) {
        let mut insert = Query::insert();
        insert
            .into_table(Entity)
            .columns([Column::PollId, Column::PersonId]);
        for voter in chunk {
            insert.values_panic([poll.into(), (*voter).into()]);
        }
        conn.execute(&insert).await?;
    }
    Ok(())
}

/// Whether `person` may vote in `poll`.
pub async fn contains<C: ConnectionTrait>(
    conn: &C,
    poll: Uuid,
    person: Uuid,
) -> Result<bool, DbErr> {
    Ok(Entity::find_by_id((poll, person))
        .one(conn)
        .await?
        .is_some())
}

/// The poll's eligible voters, in id order.
pub async fn all<C: ConnectionTrait>(conn: &C, poll: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(Entity::find()
        .filter(Column::PollId.eq(poll))
        .order_by_asc(Column::PersonId)
        .all(conn)
        .await?
        .into_iter()
        .map(|v| v.person_id)
        .collect())
}
