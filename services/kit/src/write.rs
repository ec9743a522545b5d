//! Write transactions that cannot wait on the network.
//!
//! On SQLite a service has one write connection: a transaction that calls
//! another service while it is open makes every other write of the service
//! wait behind that round trip. So a write transaction is begun only through
//! [`Db::begin_write`](crate::db::Db::begin_write), which counts it as open
//! for the request it serves, and every remote lookup of the
//! [`Directory`](crate::directory::Directory) refuses to run while one is:
//! whatever a write needs from elsewhere is resolved before it begins.
//!
//! The count lives in a task-local scope that `rpcs!` opens around every
//! handler ([`scope`]); work outside one (event consumers, timers) is not
//! counted. The scope also holds the answer of a request whose write ended
//! in a group commit without committing until that group is durable.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::ops::Deref;

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};

use crate::error::{Error, Result};
use crate::group_commit::{Committed, Turn};

tokio::task_local! {
    static REQUEST: Request;
}

/// What a request's scope keeps.
#[derive(Default)]
struct Request {
    /// Write transactions open now.
    open: Cell<u32>,
    /// The group commits of its writes that ended without committing.
    batches: RefCell<Vec<Committed>>,
}

/// Runs `work` as one request's: write transactions it opens are counted,
/// and its answer waits for the group commit of any of its writes that
/// rolled back or was dropped, since what such a write read may be rows
/// its batch-mates wrote and had not yet committed (a write that commits
/// waits for its group in `commit`).
pub async fn scope<F: Future>(work: F) -> F::Output {
    REQUEST
        .scope(Request::default(), async {
            let out = work.await;
            let batches = REQUEST.with(|r| r.batches.take());
            for batch in batches {
                // Failed or not, it is over: the answer may go.
                let _ = batch.await;
            }
            out
        })
        .await
}

/// Holds the current request's answer until `batch` has committed.
fn answer_after(batch: Committed) {
    // Outside a request (a consumer, a timer) nobody is answered.
    let _ = REQUEST.try_with(|r| r.batches.borrow_mut().push(batch));
}

/// Refuses when the current request holds a write transaction open: called
/// by every remote lookup before it goes out.
pub fn refuse_inside(what: &str) -> Result<()> {
    if REQUEST.try_with(|r| r.open.get()).unwrap_or(0) > 0 {
        tracing::error!(what, "a remote call inside a write transaction");
        return Err(Error::Internal(format!(
            "{what}: a remote call inside a write transaction (resolve it before the write begins)"
        )));
    }
    Ok(())
}

/// An open write transaction, counted for its request until it commits,
/// rolls back or is dropped. Use it as the `DatabaseTransaction` it holds.
#[derive(Debug)]
pub struct Write {
    open: Option<Open>,
    counted: bool,
}

/// A transaction of its own, or a turn in a group commit.
#[derive(Debug)]
enum Open {
    Alone(DatabaseTransaction),
    Grouped(Turn),
}

impl Write {
    pub(crate) fn new(txn: DatabaseTransaction) -> Write {
        Self::counting(Open::Alone(txn))
    }

    pub(crate) fn in_group(turn: Turn) -> Write {
        Self::counting(Open::Grouped(turn))
    }

    fn counting(open: Open) -> Write {
        let counted = REQUEST.try_with(|r| r.open.set(r.open.get() + 1)).is_ok();
        Write {
            open: Some(open),
            counted,
        }
    }

    /// Commits; in a group, returns once the group has committed.
    pub async fn commit(mut self) -> std::result::Result<(), DbErr> {
        match self.open.take().expect("open until committed") {
            Open::Alone(txn) => txn.commit().await,
            Open::Grouped(turn) => turn.commit().await,
        }
    }

    /// Rolls back.
    pub async fn rollback(mut self) -> std::result::Result<(), DbErr> {
        match self.open.take().expect("open until rolled back") {
            Open::Alone(txn) => txn.rollback().await,
            Open::Grouped(turn) => {
                answer_after(turn.rollback().await?);
                Ok(())
            }
        }
    }
}

impl Drop for Write {
    fn drop(&mut self) {
        // Dropped open: undone, as a rollback.
        if let Some(Open::Grouped(turn)) = self.open.take() {
            answer_after(turn.abandon());
        }
        if self.counted {
            let _ = REQUEST.try_with(|r| r.open.set(r.open.get().saturating_sub(1)));
        }
    }
}

impl Deref for Write {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        match self.open.as_ref().expect("open until committed") {
            Open::Alone(txn) => txn,
            Open::Grouped(turn) => &turn.txn,
        }
    }
}

#[tonic::async_trait]
impl ConnectionTrait for Write {
    fn get_database_backend(&self) -> DbBackend {
        (**self).get_database_backend()
    }
    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        (**self).execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        (**self).execute_unprepared(sql).await
    }
    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        (**self).query_one_raw(stmt).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        (**self).query_all_raw(stmt).await
    }
    fn support_returning(&self) -> bool {
        (**self).support_returning()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbConfig, open};

    #[tokio::test]
    async fn a_remote_lookup_is_refused_while_a_write_is_open() {
        let db = open(&DbConfig::new("sqlite::memory:")).await.unwrap();
        scope(async {
            assert!(refuse_inside("courtyard").is_ok());
            let write = db.begin_write().await.unwrap();
            let refused = refuse_inside("courtyard").unwrap_err();
            assert!(
                refused.to_string().contains("inside a write transaction"),
                "{refused}"
            );
            write.commit().await.unwrap();
            assert!(
                refuse_inside("courtyard").is_ok(),
                "counted until committed"
            );
            let dropped = db.begin_write().await.unwrap();
            drop(dropped);
            assert!(refuse_inside("courtyard").is_ok(), "counted until dropped");
        })
        .await;
        // Outside a request's scope nothing is counted.
        let _open = db.begin_write().await.unwrap();
        assert!(refuse_inside("courtyard").is_ok());
    }
}
