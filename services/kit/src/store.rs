//! Optimistic concurrency for rows with a `revision` column: a write lands
//! only if the row still has the revision the caller read, so a concurrent
//! writer's change is never overwritten (the loser gets ABORTED).
//!
//! An update is an [`Edit`]: begun from the row as read inside the write
//! (the caller's etag checked, the revision and update time moved on), its
//! fields applied from the resource's [`Fields`] table, saved guarded by
//! the revision it was read at.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ValueType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait,
    PrimaryKeyTrait, QueryFilter, Value,
};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::etag;
use crate::fieldmask::{Fields, UpdateMask};

/// The columns that identify and version a row.
#[derive(Debug, Clone, Copy)]
pub struct Versioned<C> {
    /// The primary key column (a UUID).
    pub id: C,
    /// The revision counter.
    pub revision: C,
    /// When the row last changed, if it keeps that.
    pub update_time: Option<C>,
}

/// A change to one row, begun inside a write transaction by
/// [`Versioned::edit`] and saved by [`Edit::save`].
pub struct Edit<E: EntityTrait> {
    keys: Versioned<E::Column>,
    /// The row as read.
    pub before: E::Model,
    /// What will be written: the row at its next revision, plus whatever
    /// the handler sets.
    pub changes: E::ActiveModel,
    id: Uuid,
    revision: i64,
    name: String,
}

impl<E> Edit<E>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E>,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    /// Writes the fields `mask` names from `input`.
    pub fn apply<I>(&mut self, fields: &Fields<I, E::ActiveModel>, mask: &UpdateMask, input: &I) {
        fields.apply(mask, &mut self.changes, input);
    }

    /// Saves the changes if the row is still at the revision it was read
    /// at, and returns the row as saved.
    pub async fn save<Conn: ConnectionTrait>(self, conn: &Conn) -> Result<E::Model> {
        self.keys
            .save::<E, _>(conn, self.id, self.revision, self.changes, &self.name)
            .await
    }

    /// The row as read and the changes, for a store that saves them its
    /// own way (keeping derived columns in step).
    pub fn into_parts(self) -> (E::Model, E::ActiveModel) {
        (self.before, self.changes)
    }
}

impl<C: ColumnTrait> Versioned<C> {
    /// Begins a change to `row`, read in the write transaction the change
    /// will be saved in: fails with ABORTED unless `etag` is empty or
    /// `row`'s current one, and moves the revision and update time on.
    /// `name` is the resource name, for errors.
    pub fn edit<M>(
        &self,
        row: M,
        etag: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Edit<M::Entity>>
    where
        M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
        M::Entity: EntityTrait<Model = M, Column = C>,
    {
        let id = read::<Uuid>(row.get(self.id), name, "id")?;
        let revision = read::<i64>(row.get(self.revision), name, "revision")?;
        etag::check(etag, revision, name)?;
        let mut changes = row.clone().into_active_model();
        changes.set(self.revision, (revision + 1).into());
        if let Some(update_time) = self.update_time {
            changes.set(update_time, now.into());
        }
        Ok(Edit {
            keys: *self,
            before: row,
            changes,
            id,
            revision,
            name: name.to_owned(),
        })
    }

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

fn read<T: ValueType>(value: Value, name: &str, column: &str) -> Result<T> {
    T::try_from(value).map_err(|_| Error::Internal(format!("{name}: unreadable {column}")))
}
