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
    QueryFilter, QueryTrait, TryIntoModel, Value,
};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::etag;
use crate::fieldmask::{Fields, UpdateMask};
use crate::write::Defers;

/// The columns that identify and version a row.
#[derive(Debug, Clone, Copy)]
pub struct Versioned<C> {
    /// The primary key column.
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
    id: Value,
    revision: i64,
    name: String,
}

impl<E> Edit<E>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E>,
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

    /// Saves the changes to a row the write holds (it took the row's lock,
    /// or writes take turns, as on SQLite), so its revision cannot have
    /// moved: the UPDATE goes with the write's deferred statements, and the
    /// row as saved is made from the changes, not read back.
    pub async fn save_held<Conn: Defers>(self, conn: &Conn) -> Result<E::Model>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        self.keys
            .save_held::<E, _>(conn, self.id, self.revision, self.changes)
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
        let id = row.get(self.id);
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

    /// Writes `changes` to row `id` (of any key: a UUID, a code, a number)
    /// if its revision is still `revision`, and returns the row as saved.
    /// `name` is the resource name, for errors.
    pub async fn save<E, Conn>(
        &self,
        conn: &Conn,
        id: Value,
        revision: i64,
        changes: E::ActiveModel,
        name: &str,
    ) -> Result<E::Model>
    where
        E: EntityTrait<Column = C>,
        E::ActiveModel: ActiveModelTrait<Entity = E>,
        Conn: ConnectionTrait,
    {
        // One statement: the row comes back with the update (RETURNING),
        // not from a second read.
        let mut saved = E::update_many()
            .set(changes)
            .filter(self.id.eq(id))
            .filter(self.revision.eq(revision))
            .exec_with_returning(conn)
            .await?;
        saved.pop().ok_or_else(|| Error::EtagMismatch {
            name: name.to_owned(),
        })
    }

    /// [`Versioned::save`] for a row the write holds, so that its revision
    /// cannot have moved ([`Edit::save_held`]): the UPDATE goes with the
    /// write's deferred statements, and the row as saved is `changes`,
    /// which must hold every column.
    pub async fn save_held<E, Conn>(
        &self,
        conn: &Conn,
        id: Value,
        revision: i64,
        changes: E::ActiveModel,
    ) -> Result<E::Model>
    where
        E: EntityTrait<Column = C>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + TryIntoModel<E::Model>,
        Conn: Defers,
    {
        let saved = changes.clone().try_into_model()?;
        let update = E::update_many()
            .set(changes)
            .filter(self.id.eq(id))
            .filter(self.revision.eq(revision))
            .build(conn.get_database_backend());
        conn.defer(update).await?;
        Ok(saved)
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use sea_orm::ActiveValue::Set;
    use sea_orm::entity::prelude::*;
    use sea_orm::{ConnectionTrait, Schema};

    use super::*;
    use crate::db::{DbConfig, open};
    use crate::fieldmask::{Fields, UpdateMask};

    mod places {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "places")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub display_name: String,
            pub theme: String,
            pub revision: i64,
            pub update_time: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    const KEYS: Versioned<places::Column> = Versioned {
        id: places::Column::Id,
        revision: places::Column::Revision,
        update_time: Some(places::Column::UpdateTime),
    };

    const FIELDS: Fields<(String, String), places::ActiveModel> = Fields::new(&[
        ("display_name", |am, i| am.display_name = Set(i.0.clone())),
        ("theme", |am, i| am.theme = Set(i.1.clone())),
    ]);

    fn mask(paths: &[&str]) -> UpdateMask {
        let mask = prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        };
        FIELDS.mask(Some(&mask)).unwrap()
    }

    /// A database with one place, at revision 1.
    async fn with_place() -> (crate::db::Db, places::Model) {
        let db = open(&DbConfig::new("sqlite::memory:")).await.unwrap();
        let conn = db.write();
        let backend = conn.get_database_backend();
        conn.execute(&Schema::new(backend).create_table_from_entity(places::Entity))
            .await
            .unwrap();
        let row = places::ActiveModel {
            id: Set(Uuid::now_v7()),
            display_name: Set("牛街西里".into()),
            theme: Set(String::new()),
            revision: Set(1),
            update_time: Set(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
        }
        .insert(conn)
        .await
        .unwrap();
        (db, row)
    }

    #[tokio::test]
    async fn an_edit_checks_the_etag_applies_the_mask_and_moves_the_revision_on() {
        let (db, row) = with_place().await;
        let (conn, id, then) = (db.write(), row.id, row.update_time);
        let now = then + chrono::Duration::hours(1);
        let input = ("牛街东里".to_owned(), "clean stairwells".to_owned());

        // A stale etag is refused before anything is applied.
        let stale = KEYS.edit(row.clone(), &crate::etag::format(0), "places/x", now);
        assert!(matches!(stale, Err(Error::EtagMismatch { .. })));

        // Only the masked field changes; the revision and time move on.
        let mut edit = KEYS
            .edit(row.clone(), &crate::etag::format(1), "places/x", now)
            .unwrap();
        edit.apply(&FIELDS, &mask(&["theme"]), &input);
        let saved = edit.save(conn).await.unwrap();
        assert_eq!(saved.theme, "clean stairwells");
        assert_eq!(saved.display_name, "牛街西里");
        assert_eq!((saved.revision, saved.update_time), (2, now));

        // An edit begun from the old row loses to the one that landed.
        let mut late = KEYS.edit(row, "", "places/x", now).unwrap();
        late.apply(&FIELDS, &mask(&["display_name"]), &input);
        assert!(matches!(
            late.save(conn).await,
            Err(Error::EtagMismatch { .. })
        ));
        let kept = places::Entity::find_by_id(id)
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept, saved);
    }

    /// A held row's save waits for the commit and answers the row it will
    /// store.
    #[tokio::test]
    async fn a_held_save_is_stored_at_the_commit_as_it_answered() {
        let (db, row) = with_place().await;
        let (conn, then) = (db.write(), row.update_time);
        let now = then + chrono::Duration::hours(1);
        let write = db.begin_write().await.unwrap();
        let mut edit = KEYS.edit(row.clone(), "", "places/x", now).unwrap();
        edit.apply(&FIELDS, &mask(&["theme"]), &("".into(), "lanterns".into()));
        let saved = edit.save_held(&write).await.unwrap();
        assert_eq!((saved.theme.as_str(), saved.revision), ("lanterns", 2));
        let seen = places::Entity::find_by_id(row.id).one(&write).await;
        assert_eq!(seen.unwrap().unwrap(), row, "not written before the commit");
        write.commit().await.unwrap();
        let stored = places::Entity::find_by_id(row.id).one(conn).await;
        assert_eq!(stored.unwrap().unwrap(), saved);
    }
}
