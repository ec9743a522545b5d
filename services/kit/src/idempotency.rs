//! Request-id idempotency (AIP-155).
//!
//! A create with a `request_id` records the id with its response in the
//! same transaction as the write. A retry gets the first response back;
//! the same id with a different request (or caller) is refused. Concurrent
//! identical requests meet on the record's primary key, so exactly one of
//! them writes; the others are undone.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait,
};
use sea_orm_migration::prelude::{
    ColumnDef, Index, MigrationName, MigrationTrait, SchemaManager, Table,
};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::write::{Defers, Write};

/// The request ids recorded, one table per service database.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One recorded request id.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        /// The RPC, e.g. `CreateStreet`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub method: String,
        /// The client's request id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// SHA-256 of the caller and the encoded request, hex.
        pub fingerprint: String,
        /// The encoded first response.
        pub response: Vec<u8>,
        /// When it was recorded.
        pub create_time: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The migration that creates the request ids table; every service lists it.
#[derive(Debug)]
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0000_kit_idempotency_keys"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(ColumnDef::new("method").string().not_null())
                    .col(ColumnDef::new("request_id").string().not_null())
                    .col(ColumnDef::new("fingerprint").string().not_null())
                    .col(ColumnDef::new("response").binary().not_null())
                    .col(
                        ColumnDef::new("create_time")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col("method").col("request_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("idempotency_keys").to_owned())
            .await
    }
}

/// One request's idempotency key; a no-op when the request has none.
#[derive(Debug)]
pub struct Key {
    method: &'static str,
    request_id: String,
    fingerprint: String,
}

impl Key {
    /// The key of `request` with `request_id` by `principal` on `method`.
    pub fn new<M: Message>(
        method: &'static str,
        request_id: &str,
        principal: &Principal,
        request: &M,
    ) -> Self {
        let mut hash = Sha256::new();
        hash.update(principal.describe().as_bytes());
        hash.update([0]);
        hash.update(request.encode_to_vec());
        let mut fingerprint = String::with_capacity(64);
        for b in hash.finalize() {
            let _ = write!(fingerprint, "{b:02x}");
        }
        Self {
            method,
            request_id: request_id.to_owned(),
            fingerprint,
        }
    }

    /// Records the request id with its response, in the write (at its
    /// commit, where the write defers). A plain INSERT: if the id is
    /// recorded already, it fails the write, which is then undone.
    async fn record<C: Defers, R: Message>(
        &self,
        conn: &C,
        response: &R,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), DbErr> {
        let insert = entity::Entity::insert(entity::ActiveModel {
            method: Set(self.method.to_owned()),
            request_id: Set(self.request_id.clone()),
            fingerprint: Set(self.fingerprint.clone()),
            response: Set(response.encode_to_vec()),
            create_time: Set(now),
        })
        .build(conn.get_database_backend());
        conn.defer(insert).await
    }

    /// The response recorded for this request id, read through a write of
    /// its own: on SQLite the first call may be in the current group
    /// commit, not yet visible to readers, and the answer then waits for
    /// that commit as the first call's does. `None` if the id is not
    /// recorded; refused if it was recorded for another request.
    async fn recorded<R: Message + Default>(&self, db: &Db) -> Result<Option<R>> {
        let txn = db.begin_write().await?;
        let first = entity::Entity::find_by_id((self.method.to_owned(), self.request_id.clone()))
            .one(&txn)
            .await?;
        txn.rollback().await?;
        let Some(first) = first else {
            return Ok(None);
        };
        if first.fingerprint != self.fingerprint {
            return Err(Error::RequestIdReused(self.request_id.clone()));
        }
        R::decode(first.response.as_slice())
            .map(Some)
            .map_err(|e| Error::Internal(format!("stored response undecodable: {e}")))
    }

    /// What a call that failed answers: the first call's response if this
    /// one is its retry, otherwise `failure`.
    async fn replay_or<R: Message + Default>(&self, db: &Db, failure: Error) -> Result<R> {
        match self.recorded(db).await {
            Ok(Some(first)) => Ok(first),
            Err(reused @ Error::RequestIdReused(_)) => Err(reused),
            // Not a retry, or the look-up failed too: the call's own error.
            Ok(None) | Err(_) => Err(failure),
        }
    }
}

/// Runs a create: runs `body` in one write transaction with the request
/// id's record and commits. A retry gets the first response back.
pub async fn create<R, F>(db: &Db, key: &Key, now: DateTime<Utc>, body: F) -> Result<R>
where
    R: Message + Default + Clone,
    F: AsyncFnOnce(&Write) -> Result<R>,
{
    create_keeping(db, key, now, R::clone, body).await
}

/// [`create`], storing for retries what `keep` makes of the response: a
/// secret shown once (an API key, a signing secret) is blanked there, so a
/// retry answers without it and it is kept nowhere.
///
/// The request id is not looked up first: that would cost every call a
/// statement for the sake of the rare retry. A retry runs `body` like a
/// first call, and is undone either by `body` itself (what the first call
/// did makes it fail: the issue is confirmed already, the number is
/// registered) or by the record of its request id, which the first call's
/// holds; either way it then answers with the first call's response. So
/// `body` may only touch the database (which a write cannot leave anyway,
/// see [`crate::write`]).
pub async fn create_keeping<R, F>(
    db: &Db,
    key: &Key,
    now: DateTime<Utc>,
    keep: impl FnOnce(&R) -> R,
    body: F,
) -> Result<R>
where
    R: Message + Default,
    F: AsyncFnOnce(&Write) -> Result<R>,
{
    let txn = db.begin_write().await?;
    if key.request_id.is_empty() {
        let out = body(&txn).await?;
        txn.commit().await?;
        return Ok(out);
    }
    let out = match body(&txn).await {
        Ok(out) => out,
        Err(failure) => {
            let _ = txn.rollback().await;
            return key.replay_or(db, failure).await;
        }
    };
    // The record goes with the commit, the write's last deferred statement
    // (on PostgreSQL it waits there for a concurrent first call's commit).
    let end = match key.record(&txn, &keep(&out), now).await {
        Ok(()) => txn.commit().await,
        Err(e) => {
            let _ = txn.rollback().await;
            Err(e)
        }
    };
    match end {
        Ok(()) => Ok(out),
        // A constraint refused the write: the request id's record, or
        // another row the first call wrote.
        Err(e) if e.sql_err().is_some() => key.replay_or(db, e.into()).await,
        Err(e) => Err(e.into()),
    }
}

/// Forgets the remembered responses that hold any of `needles` (a person's
/// name or number, on their erasure): a retry of such a call then runs
/// again rather than replaying personal data. A scan of at most
/// [`RETENTION`] of calls, for a rare operation.
pub async fn forget_containing<C: ConnectionTrait>(conn: &C, needles: &[&str]) -> Result<u64> {
    use sea_orm::{DatabaseBackend, Statement};
    let backend = conn.get_database_backend();
    let mut forgotten = 0;
    for needle in needles.iter().filter(|n| n.chars().count() >= 2) {
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "DELETE FROM idempotency_keys WHERE position($1::bytea in response) > 0"
            }
            _ => "DELETE FROM idempotency_keys WHERE instr(response, ?) > 0",
        };
        forgotten += conn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [needle.as_bytes().to_vec().into()],
            ))
            .await?
            .rows_affected();
    }
    Ok(forgotten)
}

/// Forgets request ids recorded before `before` (retries come within minutes; a day
/// or more of retention is plenty).
pub async fn prune<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> Result<u64> {
    let res = entity::Entity::delete_many()
        .filter(entity::Column::CreateTime.lt(before))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// How long request ids are remembered.
pub const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// Prunes request ids older than [`RETENTION`] once an hour, in the background,
/// for as long as the process runs.
pub fn spawn_pruner(db: Db, clock: crate::clock::Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            match prune(db.write(), clock.now() - RETENTION).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "forgot old request ids"),
                Err(e) => tracing::warn!(error = %e, "pruning request ids failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use sea_orm::ConnectionTrait;
    use sea_orm_migration::SchemaManager;

    use super::*;

    /// A retry that shares a group commit with the first call is answered
    /// only once that commit is made, as the first is: never with a
    /// response the database might still lose.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retry_in_the_first_calls_group_is_answered_after_its_commit() {
        let (_file, db) = crate::group_commit::tests::with_table().await;
        Migration.up(&SchemaManager::new(db.write())).await.unwrap();
        let caller = Principal::StreetAdmin {
            subject: "test".into(),
        };
        let request = prost_types::Timestamp {
            seconds: 7,
            nanos: 0,
        };
        let key = Arc::new(Key::new("Test", "r-1", &caller, &request));
        let now = chrono::Utc::now();
        // A write holds the writer while the others queue up, so that
        // they share the next batch, and are quick enough to share it.
        let (go, blocker) = crate::group_commit::tests::holding_turn(&db);
        tokio::time::sleep(Duration::from_millis(30)).await;
        let first = {
            let (db, key) = (db.clone(), key.clone());
            tokio::spawn(async move {
                create(&db, &key, now, async |txn| {
                    txn.execute_unprepared("INSERT INTO t (v) VALUES (1)")
                        .await?;
                    Ok(prost_types::Timestamp {
                        seconds: 1,
                        nanos: 0,
                    })
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        let retry = {
            let (db, key) = (db.clone(), key.clone());
            // In a request's scope, as every handler runs.
            tokio::spawn(crate::write::scope(async move {
                // It runs (nothing looks the id up first) and fails, as a
                // retry does on what the first call wrote.
                create(&db, &key, now, async |_| {
                    Err::<prost_types::Timestamp, _>(Error::Internal("already done".into()))
                })
                .await
            }))
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        // A third write, queued behind the retry, keeps the batch open.
        let (end, holder) = crate::group_commit::tests::holding_turn(&db);
        tokio::time::sleep(Duration::from_millis(30)).await;
        go.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !retry.is_finished(),
            "the retry was answered before its batch committed"
        );
        end.send(()).unwrap();
        let replayed = retry.await.unwrap().unwrap();
        assert_eq!(replayed.seconds, 1, "the first call's response");
        assert_eq!(first.await.unwrap().unwrap().seconds, 1);
        holder.await.unwrap();
        blocker.await.unwrap();
        let stored = crate::group_commit::tests::count(&db).await;
        assert_eq!(stored, 1, "written once");
    }

    fn stamp(seconds: i64) -> prost_types::Timestamp {
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    async fn insert(txn: &Write, v: i64) -> Result<prost_types::Timestamp> {
        txn.execute_unprepared(&format!("INSERT INTO t (v) VALUES ({v})"))
            .await?;
        Ok(stamp(v))
    }

    /// A retry whose body would write again is undone by the first call's
    /// record and answered with the first response; the id with another
    /// request is refused; a call that failed left no record behind.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retry_that_writes_again_is_undone_and_replayed() {
        let (_file, db) = crate::group_commit::tests::with_table().await;
        Migration.up(&SchemaManager::new(db.write())).await.unwrap();
        let caller = Principal::StreetAdmin {
            subject: "test".into(),
        };
        let now = chrono::Utc::now();
        let key = Key::new("Test", "r-1", &caller, &stamp(7));
        let first = create(&db, &key, now, async |txn| insert(txn, 1).await);
        assert_eq!(first.await.unwrap().seconds, 1);
        let retry = create(&db, &key, now, async |txn| insert(txn, 2).await);
        assert_eq!(retry.await.unwrap().seconds, 1, "the first call's answer");
        assert_eq!(crate::group_commit::tests::count(&db).await, 1);

        let other = Key::new("Test", "r-1", &caller, &stamp(8));
        let refused = create(&db, &other, now, async |txn| insert(txn, 3).await)
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::RequestIdReused(_)), "{refused:?}");
        assert_eq!(crate::group_commit::tests::count(&db).await, 1);

        let failing = Key::new("Test", "r-2", &caller, &stamp(7));
        let failed = create(&db, &failing, now, async |_| {
            Err::<prost_types::Timestamp, _>(Error::Internal("no".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(failed, Error::Internal(_)), "{failed:?}");
        let again = create(&db, &failing, now, async |txn| insert(txn, 4).await);
        assert_eq!(again.await.unwrap().seconds, 4, "ran: nothing was recorded");
        assert_eq!(crate::group_commit::tests::count(&db).await, 2);
    }
}
