//! Optimistic concurrency for rows with a `revision` column: a write lands
//! only if the row still has the revision the caller read, so a concurrent
//! writer's change is never overwritten (the loser gets ABORTED).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter,
};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The columns that identify and version a row.
#[derive(Debug, Clone, Copy)]
pub struct Versioned<C> {
    /// The primary key column (a UUID).
    pub id: C,
    /// The revision counter.
    pub revision: C,
}

impl<C: ColumnTrait> Versioned<C> {
    /// Writes `changes` to row `id` if its revision is still `revision`, and
    /// returns the row as saved. `name` is the resource name, for errors.
    pub async fn save<E, Conn>(
        &self,
        conn: &Conn,
        id: Uuid,
        revision: i64,
        changes: E::ActiveModel,
        name: &str,
    ) -> Result<E::Model>
    where
        E: EntityTrait<Column = C>,
        E::ActiveModel: ActiveModelTrait<Entity = E>,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
        Conn: ConnectionTrait,
    {
        let res = E::update_many()
            .set(changes)
            .filter(self.id.eq(id))
            .filter(self.revision.eq(revision))
            .exec(conn)
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::EtagMismatch {
                name: name.to_owned(),
            });
        }
        E::find_by_id(id)
            .one(conn)
            .await?
            .ok_or_else(|| Error::Internal(format!("{name} vanished during update")))
    }

    /// Deletes row `id` if its revision is still `revision`.
    pub async fn delete<E, Conn>(
        &self,
        conn: &Conn,
        id: Uuid,
        revision: i64,
        name: &str,
    ) -> Result<()>
    where
        E: EntityTrait<Column = C>,
        Conn: ConnectionTrait,
    {
        let res = E::delete_many()
            .filter(self.id.eq(id))
            .filter(self.revision.eq(revision))
            .exec(conn)
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::EtagMismatch {
                name: name.to_owned(),
            });
        }
        Ok(())
    }
}
