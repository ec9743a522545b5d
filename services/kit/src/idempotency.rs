//! Request-id idempotency (AIP-155).
//!
//! A create with a `request_id` first claims the id in the same transaction
//! as the write. A retry finds the claim and gets the first response back;
//! the same id with a different request (or caller) is refused. Concurrent
//! identical requests serialise on the claim's primary key, so exactly one
//! of them writes.

use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::sea_query::{Expr, OnConflict};
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

/// The claims table, one per service database.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One claimed request id.
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
        /// When it was claimed.
        pub create_time: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The migration that creates the claims table; every service lists it.
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

/// What a claim found.
#[derive(Debug)]
pub enum Claim<R> {
    /// First time: go ahead, then [`Key::complete`].
    New,
    /// A retry: return this, write nothing.
    Replay(R),
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
        let fingerprint = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            method,
            request_id: request_id.to_owned(),
            fingerprint,
        }
    }

    /// Claims the request id inside the caller's transaction.
    pub async fn claim<C: ConnectionTrait, R: Message + Default>(
        &self,
        conn: &C,
        now: DateTime<Utc>,
    ) -> Result<Claim<R>> {
        if self.request_id.is_empty() {
            return Ok(Claim::New);
        }
        let inserted = entity::Entity::insert(entity::ActiveModel {
            method: Set(self.method.to_owned()),
            request_id: Set(self.request_id.clone()),
            fingerprint: Set(self.fingerprint.clone()),
            response: Set(Vec::new()),
            create_time: Set(now),
        })
        .on_conflict(
            OnConflict::columns([entity::Column::Method, entity::Column::RequestId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
        if inserted == 1 {
            return Ok(Claim::New);
        }
        let first = entity::Entity::find_by_id((self.method.to_owned(), self.request_id.clone()))
            .one(conn)
            .await?
            .ok_or_else(|| Error::Internal("idempotency claim vanished".into()))?;
        if first.fingerprint != self.fingerprint {
            return Err(Error::RequestIdReused(self.request_id.clone()));
        }
        let response = R::decode(first.response.as_slice())
            .map_err(|e| Error::Internal(format!("stored response undecodable: {e}")))?;
        Ok(Claim::Replay(response))
    }

    /// Stores the response of a new request, in the same transaction (at
    /// its commit, where the write defers).
    pub async fn complete<C: Defers, R: Message>(&self, conn: &C, response: &R) -> Result<()> {
        if self.request_id.is_empty() {
            return Ok(());
        }
        let store = entity::Entity::update_many()
            .col_expr(
                entity::Column::Response,
                Expr::value(response.encode_to_vec()),
            )
            .filter(entity::Column::Method.eq(self.method))
            .filter(entity::Column::RequestId.eq(self.request_id.as_str()))
            .build(conn.get_database_backend());
        conn.defer(store).await?;
        Ok(())
    }
}

/// Runs a create: claims `key` and runs `body` in one write transaction,
/// stores its response for retries and commits. A retry gets the first
/// response without running `body`.
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
    if let Claim::Replay(first) = key.claim(&txn, now).await? {
        // The first may still be in the same group commit: answer once it
        // is durable, as the first is answered.
        txn.commit().await?;
        return Ok(first);
    }
    let out = body(&txn).await?;
    key.complete(&txn, &keep(&out)).await?;
    txn.commit().await?;
    Ok(out)
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

/// Forgets claims older than `before` (retries come within minutes; a day
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

/// Prunes claims older than [`RETENTION`] once an hour, in the background,
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
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (db, key) = (db.clone(), key.clone());
            tokio::spawn(async move {
                create(&db, &key, now, async |txn| {
                    wait.await.unwrap();
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
            tokio::spawn(async move {
                create(&db, &key, now, async |_| {
                    Err::<prost_types::Timestamp, _>(Error::Internal("ran twice".into()))
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        // A third write, queued behind the retry, keeps the batch open.
        let (end, ended) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let db = db.clone();
            tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                ended.await.unwrap();
                w.commit().await.unwrap();
            })
        };
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
        let stored = crate::group_commit::tests::count(&db).await;
        assert_eq!(stored, 1, "written once");
    }
}
