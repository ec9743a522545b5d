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
//! On SQLite a write takes its turn on the one connection only when it
//! first needs the database at once — a read, a statement it does not
//! defer — or at its commit: a write that reads nothing (a report, say)
//! builds its rows while other writes have their turns, then hands them to
//! the writer, which stores them in one call, shared with other such writes
//! of the same statements ([`crate::group_commit`]).
//!
//! The count lives in a task-local scope that `rpcs!` opens around every
//! handler ([`scope`]); work outside one (event consumers, timers) is not
//! counted. The scope also holds the answer of a request whose write ended
//! in a group commit without committing until that group is durable.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, IntoActiveModel, QueryResult,
    QueryTrait, Statement, TryIntoModel, Values,
};

mod postgres;

use crate::error::{Error, Result};
use crate::group_commit::{Committed, GroupCommit, Turn};
use tokio::sync::OnceCell;

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
pub(crate) fn answer_after(batch: Committed) {
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
/// rolls back or is dropped. Use it as a connection: it is one.
#[derive(Debug)]
pub struct Write {
    open: Option<Open>,
    backend: DbBackend,
    returning: bool,
    counted: bool,
    /// Statements put off until the commit ([`Defers::defer`]).
    deferred: Mutex<Vec<Statement>>,
    /// The query run last at the commit, and where its rows go
    /// ([`Defers::read_at_commit`]).
    reading: Mutex<Option<(Statement, AtCommit)>>,
    /// Turns at hot rows, given up when the write ends ([`Write::keep_turn`]).
    turns: Mutex<Vec<crate::hot_rows::Turn>>,
}

/// A transaction of its own, or a turn in a group commit.
#[derive(Debug)]
enum Open {
    Alone(DatabaseTransaction),
    /// The turn is taken when the write first needs the database at once
    /// (a read, a statement not deferred); a write that never does hands
    /// its end to the writer at its commit ([`GroupCommit::end`]). What the
    /// write does before — checks, building its rows and deferring them —
    /// keeps no other write waiting, since the writes of a database take
    /// their turns one after another.
    Grouped {
        group: GroupCommit,
        turn: OnceCell<Turn>,
    },
}

impl Write {
    pub(crate) fn new(txn: DatabaseTransaction) -> Write {
        let (backend, returning) = (txn.get_database_backend(), txn.support_returning());
        Self::counting(Open::Alone(txn), backend, returning)
    }

    /// A write in `group`, on SQLite; `returning` as the write connection.
    pub(crate) fn in_group(group: GroupCommit, returning: bool) -> Write {
        let turn = OnceCell::new();
        Self::counting(Open::Grouped { group, turn }, DbBackend::Sqlite, returning)
    }

    fn counting(open: Open, backend: DbBackend, returning: bool) -> Write {
        let counted = REQUEST.try_with(|r| r.open.set(r.open.get() + 1)).is_ok();
        Write {
            open: Some(open),
            backend,
            returning,
            counted,
            deferred: Mutex::default(),
            reading: Mutex::default(),
            turns: Mutex::default(),
        }
    }

    /// Where the write's statements run now: its transaction, or its turn
    /// in the group's, waited for if not yet taken.
    async fn txn(&self) -> std::result::Result<&DatabaseTransaction, DbErr> {
        match self.open.as_ref().expect("open until committed") {
            Open::Alone(txn) => Ok(txn),
            Open::Grouped { group, turn } => {
                let turn = turn.get_or_try_init(|| group.turn()).await?;
                Ok(turn.txn())
            }
        }
    }

    /// Whether the write holds its turn in a group commit now (always, for
    /// a write that is not in one).
    pub fn has_turn(&self) -> bool {
        match &self.open {
            Some(Open::Grouped { turn, .. }) => turn.initialized(),
            _ => true,
        }
    }

    /// Keeps `turn` at a hot row ([`crate::db::Db::turn_at`]) until this
    /// write has committed or is undone, so that the row's next writer
    /// finds it free.
    pub fn keep_turn(&self, turn: Option<crate::hot_rows::Turn>) {
        self.turns.lock().expect("not poisoned").extend(turn);
    }

    /// Commits; in a group, returns once the group has committed.
    pub async fn commit(mut self) -> std::result::Result<(), DbErr> {
        let deferred = std::mem::take(&mut *self.deferred.lock().expect("not poisoned"));
        let (reading, at_commit) = self.reading.lock().expect("not poisoned").take().unzip();
        let rows = match self.open.take().expect("open until committed") {
            Open::Alone(txn) => {
                // A deferred statement that fails fails the write: dropped
                // here, it is undone.
                let rows = if txn.get_database_backend() == DbBackend::Sqlite {
                    let mut end = deferred;
                    let read = reading.is_some();
                    end.extend(reading);
                    run_joined(&txn, end, read).await?
                } else {
                    let deferred = match txn.get_database_backend() {
                        DbBackend::Postgres => postgres::joined(deferred),
                        _ => deferred,
                    };
                    for statement in deferred {
                        txn.execute_raw(statement).await?;
                    }
                    match reading {
                        Some(reading) => txn.query_all_raw(reading).await?,
                        None => Vec::new(),
                    }
                };
                txn.commit().await?;
                rows
            }
            // The deferred statements go with the turn's end, in one call.
            Open::Grouped { group, turn } => {
                match turn.into_inner() {
                    Some(turn) => turn.commit(deferred, reading).await?,
                    // Nothing read, nothing to write: nothing to wait for.
                    None if deferred.is_empty() && reading.is_none() => return Ok(()),
                    // Read nothing: the writer runs its end.
                    None => group.end(deferred, reading).await?,
                }
            }
        };
        if let Some(at_commit) = at_commit {
            let _ = at_commit.rows.set(rows);
        }
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(mut self) -> std::result::Result<(), DbErr> {
        match self.open.take().expect("open until rolled back") {
            Open::Alone(txn) => txn.rollback().await,
            Open::Grouped { turn, .. } => {
                // A write that never had its turn read nothing of anyone's.
                if let Some(turn) = turn.into_inner() {
                    answer_after(turn.rollback());
                }
                Ok(())
            }
        }
    }
}

impl Drop for Write {
    fn drop(&mut self) {
        // Dropped open: undone, as a rollback.
        if let Some(Open::Grouped { turn, .. }) = self.open.take()
            && let Some(turn) = turn.into_inner()
        {
            answer_after(turn.rollback());
        }
        if self.counted {
            let _ = REQUEST.try_with(|r| r.open.set(r.open.get().saturating_sub(1)));
        }
    }
}

#[tonic::async_trait]
impl ConnectionTrait for Write {
    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }
    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        self.txn().await?.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        self.txn().await?.execute_unprepared(sql).await
    }
    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        self.txn().await?.query_one_raw(stmt).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        self.txn().await?.query_all_raw(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.returning
    }
}

/// A connection a write's statements go through, which may put off the
/// ones whose results nobody waits for — an outbox event, a timeline entry,
/// a counter's increment, a stored response — and send them together at
/// the commit. On SQLite each statement is a round trip to the
/// connection's thread and back, and a service's writes take turns on its
/// one connection, so every round trip a write saves is time every other
/// write waits less. Only statements that nothing later in the write reads
/// back may be deferred; one that fails fails the commit, and the write is
/// undone.
#[tonic::async_trait]
pub trait Defers: ConnectionTrait {
    /// Runs `statement` now, or with the write's other deferred statements
    /// when it commits.
    async fn defer(&self, statement: Statement) -> std::result::Result<(), DbErr> {
        self.execute_raw(statement).await.map(drop)
    }

    /// Runs `query` last at the commit, after the deferred statements, and
    /// keeps its rows in `into` once the write has committed: what the
    /// write's own statements settle there (a row one of them chose) comes
    /// back without a read while the write holds its turn. A connection
    /// that defers nothing runs it now. One per write; its rows may not
    /// have a column `cogov_write_end`, which marks where a write's rows
    /// end in a call shared with others ([`crate::group_commit`]).
    async fn read_at_commit(
        &self,
        query: Statement,
        into: &AtCommit,
    ) -> std::result::Result<(), DbErr> {
        let rows = self.query_all_raw(query).await?;
        let _ = into.rows.set(rows);
        Ok(())
    }
}

/// The rows a write's query at its commit read ([`Defers::read_at_commit`]).
#[derive(Debug, Clone, Default)]
pub struct AtCommit {
    rows: Arc<OnceLock<Vec<QueryResult>>>,
}

impl AtCommit {
    /// The rows, once the write has committed; `None` before, and for a
    /// write that did not commit (a retry that answers with the first
    /// call's response, say).
    pub fn rows(&self) -> Option<&[QueryResult]> {
        self.rows.get().map(Vec::as_slice)
    }
}

#[tonic::async_trait]
impl Defers for Write {
    async fn defer(&self, statement: Statement) -> std::result::Result<(), DbErr> {
        // On PostgreSQL they run just before the COMMIT, in as few calls
        // as they can be joined into ([`postgres::joined`]): the row locks
        // they take (a day's counts, which every write in a courtyard
        // updates) are then held for the commit only, not for the rest of
        // the write. Held from the statement on, they made a courtyard's
        // writes queue one behind the other.
        self.deferred.lock().expect("not poisoned").push(statement);
        Ok(())
    }

    async fn read_at_commit(
        &self,
        query: Statement,
        into: &AtCommit,
    ) -> std::result::Result<(), DbErr> {
        let mut reading = self.reading.lock().expect("not poisoned");
        if reading.is_some() {
            return Err(DbErr::Custom("one read at a write's commit".into()));
        }
        *reading = Some((query, into.clone()));
        Ok(())
    }
}

/// Inserts `row`, given whole (every column set), with the write's deferred
/// statements, and returns it as it will be stored: the database would
/// send back nothing the row does not hold already. What follows in the
/// write must not read it back (it is there only at the commit).
/// A row that leaves a column to its default is inserted at once.
pub async fn insert_whole<C, A>(
    conn: &C,
    row: A,
) -> std::result::Result<<A::Entity as EntityTrait>::Model, DbErr>
where
    C: Defers,
    A: ActiveModelTrait
        + ActiveModelBehavior
        + TryIntoModel<<A::Entity as EntityTrait>::Model>
        + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    match row.clone().try_into_model() {
        Ok(stored) => {
            let insert = <A::Entity as EntityTrait>::insert(row).build(conn.get_database_backend());
            conn.defer(insert).await?;
            Ok(stored)
        }
        Err(_) => row.insert(conn).await,
    }
}

impl Defers for DatabaseTransaction {}

impl Defers for DatabaseConnection {}

/// Runs `statements` joined into one call on SQLite, and returns the rows
/// of the one among them that reads (the last, if `read`).
pub(crate) async fn run_joined(
    txn: &DatabaseTransaction,
    statements: Vec<Statement>,
    read: bool,
) -> std::result::Result<Vec<QueryResult>, DbErr> {
    match joined(statements) {
        Some(one) if read => txn.query_all_raw(one).await,
        Some(one) => txn.execute_raw(one).await.map(|_| Vec::new()),
        None => Ok(Vec::new()),
    }
}

/// `statements` as one: SQLite runs `;`-separated statements in one call,
/// binding each one's `?` parameters from the values in turn.
pub(crate) fn joined(statements: Vec<Statement>) -> Option<Statement> {
    if statements.len() <= 1 {
        return statements.into_iter().next();
    }
    let mut sql = String::new();
    let mut values = Vec::new();
    let backend = statements[0].db_backend;
    for s in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&s.sql);
        values.extend(s.values.map(|v| v.0).unwrap_or_default());
    }
    Some(Statement {
        sql,
        values: Some(Values(values)),
        db_backend: backend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbConfig, open};

    use crate::group_commit::tests::{count, rows_in, with_table};

    fn insert(v: i64) -> Statement {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (v) VALUES (?)",
            [v.into()],
        )
    }

    /// On SQLite deferred statements wait for the commit, then run in the
    /// order deferred, each with its own parameters.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deferred_statements_run_at_the_commit_in_order() {
        let (_file, db) = with_table().await;
        let w = db.begin_write().await.unwrap();
        w.defer(insert(1)).await.unwrap();
        w.defer(insert(2)).await.unwrap();
        w.defer(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE t SET v = ? WHERE v = ?",
            [20.into(), 2.into()],
        ))
        .await
        .unwrap();
        assert_eq!(rows_in(&w).await, 0, "nothing ran before the commit");
        w.commit().await.unwrap();
        let rows = db
            .read()
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT v FROM t ORDER BY v",
            ))
            .await
            .unwrap();
        let values: Vec<i64> = rows.iter().map(|r| r.try_get("", "v").unwrap()).collect();
        assert_eq!(values, [1, 20], "inserted, then the second updated");
    }

    /// A query at the commit runs after the write's deferred statements, in
    /// the same call on SQLite, and its rows are there once the write has
    /// committed; a write that fails keeps none.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_query_at_the_commit_reads_what_the_write_stored() {
        let (_file, db) = with_table().await;
        let counting = || Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) AS n FROM t");
        let read = |at: &AtCommit| -> Option<i64> {
            at.rows()
                .map(|rows| rows[0].try_get::<i64>("", "n").unwrap())
        };
        let kept = AtCommit::default();
        let w = db.begin_write().await.unwrap();
        w.defer(insert(1)).await.unwrap();
        w.defer(insert(2)).await.unwrap();
        w.read_at_commit(counting(), &kept).await.unwrap();
        assert!(
            w.read_at_commit(counting(), &kept).await.is_err(),
            "one per write"
        );
        assert!(!w.has_turn(), "deferred, it waits for no turn");
        assert_eq!(read(&kept), None, "nothing before the commit");
        w.commit().await.unwrap();
        assert_eq!(read(&kept), Some(2), "both inserts, then the count");

        let refused = AtCommit::default();
        let w = db.begin_write().await.unwrap();
        w.defer(insert(3)).await.unwrap();
        // Row 1 is there already: the primary key refuses it.
        w.defer(insert(1)).await.unwrap();
        w.read_at_commit(counting(), &refused).await.unwrap();
        assert!(w.commit().await.is_err());
        assert_eq!(read(&refused), None, "undone, it read nothing");
        assert_eq!(count(&db).await, 2);

        // Outside a group (a connection that defers nothing) it runs now.
        let now = AtCommit::default();
        db.write().read_at_commit(counting(), &now).await.unwrap();
        assert_eq!(read(&now), Some(2));
    }

    /// A deferred statement that fails fails its write's commit and undoes
    /// the whole write, not its batch-mates'.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_deferred_statement_undoes_its_write_alone() {
        let (_file, db) = with_table().await;
        let before = {
            let w = db.begin_write().await.unwrap();
            w.execute_raw(insert(1)).await.unwrap();
            w
        };
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let failing = {
            let db = db.clone();
            tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                w.execute_raw(insert(2)).await.unwrap();
                // Row 1 is there already: the primary key refuses it.
                w.defer(insert(1)).await.unwrap();
                wait.await.unwrap();
                w.commit().await
            })
        };
        let after = {
            let db = db.clone();
            tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                w.defer(insert(3)).await.unwrap();
                w.commit().await
            })
        };
        // The first write holds the batch, so the others join it.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        go.send(()).unwrap();
        before.commit().await.unwrap();
        let refused = failing.await.unwrap().unwrap_err();
        assert!(refused.to_string().contains("UNIQUE"), "{refused}");
        after.await.unwrap().unwrap();
        assert_eq!(
            count(&db).await,
            2,
            "rows 1 and 3; none of the failed write's"
        );
    }

    /// On PostgreSQL a deferred statement's row lock is taken at the
    /// commit: a second write to the same row does not wait for the first
    /// write's rest (it waited until the first committed when deferred
    /// statements ran at once).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_a_deferred_row_lock_is_held_for_the_commit_only() {
        let Some(test_db) = crate::testing::TestDb::postgres().await else {
            return;
        };
        let db = open(&DbConfig::new(test_db.url.clone())).await.unwrap();
        let backend = DbBackend::Postgres;
        db.write()
            .execute_unprepared("CREATE TABLE counts (id INT PRIMARY KEY, n INT NOT NULL)")
            .await
            .unwrap();
        let add = || {
            Statement::from_string(
                backend,
                "INSERT INTO counts (id, n) VALUES (1, 1) \
                 ON CONFLICT (id) DO UPDATE SET n = counts.n + 1",
            )
        };
        let first = db.begin_write().await.unwrap();
        first.defer(add()).await.unwrap();
        let second = async {
            let w = db.begin_write().await.unwrap();
            w.defer(add()).await.unwrap();
            w.commit().await.unwrap();
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), second)
            .await
            .expect("the second write does not wait for the first");
        let at_commit = AtCommit::default();
        first
            .read_at_commit(
                Statement::from_string(backend, "SELECT n FROM counts"),
                &at_commit,
            )
            .await
            .unwrap();
        first.commit().await.unwrap();
        let read: i32 = at_commit.rows().unwrap()[0].try_get("", "n").unwrap();
        assert_eq!(
            read, 2,
            "the query at the commit ran after the deferred add"
        );
        let n: i32 = db
            .read()
            .query_one_raw(Statement::from_string(backend, "SELECT n FROM counts"))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(n, 2, "both counted");
        db.close().await.unwrap();
        drop(test_db);
    }

    /// On PostgreSQL a write's deferred statements go in fewer calls, the
    /// plain INSERTs joined to the statement before them
    /// ([`postgres::joined`]), and store what they would one after
    /// another: a row referring to one inserted in the same call, an
    /// UPDATE that finds a row inserted before it, a failing INSERT that
    /// undoes the whole write.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_deferred_inserts_join_the_statement_before_them() {
        let Some(test_db) = crate::testing::TestDb::postgres().await else {
            return;
        };
        let db = open(&DbConfig::new(test_db.url.clone())).await.unwrap();
        let backend = DbBackend::Postgres;
        // Each row keeps the start of the statement that stored it: rows
        // stored by one call share it.
        db.write()
            .execute_unprepared(
                "CREATE TABLE parent (id INT PRIMARY KEY, n INT NOT NULL, \
                   at TEXT NOT NULL DEFAULT statement_timestamp()::text); \
                 CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL REFERENCES parent, \
                   at TEXT NOT NULL DEFAULT statement_timestamp()::text); \
                 CREATE TABLE log (seq BIGSERIAL PRIMARY KEY, v INT NOT NULL, \
                   at TEXT NOT NULL DEFAULT statement_timestamp()::text); \
                 CREATE TABLE counts (day TEXT, shard INT, n INT NOT NULL, PRIMARY KEY (day, shard))",
            )
            .await
            .unwrap();
        let statement = |sql: &str, values: Vec<sea_orm::Value>| {
            Statement::from_sql_and_values(backend, sql, values)
        };
        // A day's count on a free shard, as the issues' day counts.
        let count = || {
            statement(
                "WITH free AS (SELECT shard FROM counts WHERE day = $1 \
                   ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED), \
                 added AS (UPDATE counts c SET n = c.n + $2 FROM free \
                   WHERE c.day = $1 AND c.shard = free.shard RETURNING 1) \
                 INSERT INTO counts (day, shard, n) SELECT $1, 0, $2 \
                 WHERE NOT EXISTS (SELECT 1 FROM added) \
                 ON CONFLICT (day, shard) DO UPDATE SET n = counts.n + excluded.n",
                vec!["2026-12-08".into(), 1.into()],
            )
        };
        let log = |v: i32| statement("INSERT INTO log (v) VALUES ($1)", vec![v.into()]);
        let parent = || {
            statement(
                "INSERT INTO parent (id, n) VALUES ($1, $2)",
                vec![1.into(), 0.into()],
            )
        };
        let w = db.begin_write().await.unwrap();
        for s in [
            count(),
            parent(),
            statement(
                "INSERT INTO child (id, parent_id) VALUES ($1, $2)",
                vec![10.into(), 1.into()],
            ),
            log(1),
            statement(
                "UPDATE parent SET n = n + $1 WHERE id = $2",
                vec![1.into(), 1.into()],
            ),
            log(2),
        ] {
            w.defer(s).await.unwrap();
        }
        w.commit().await.unwrap();

        let read = async |sql: &str| -> Vec<(String, i64)> {
            db.read()
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get("", "at").unwrap(), r.try_get("", "n").unwrap()))
                .collect()
        };
        let parents = read("SELECT at, n::bigint AS n FROM parent").await;
        let children = read("SELECT at, parent_id::bigint AS n FROM child").await;
        let logs = read("SELECT at, v::bigint AS n FROM log ORDER BY seq").await;
        assert_eq!(
            parents[0].1, 1,
            "the UPDATE found the row inserted before it"
        );
        assert_eq!(children[0].1, 1);
        assert_eq!(
            logs.iter().map(|l| l.1).collect::<Vec<_>>(),
            [1, 2],
            "in order"
        );
        let first_call = &parents[0].0;
        assert_eq!(&children[0].0, first_call, "joined to the count");
        assert_eq!(&logs[0].0, first_call, "joined to the count");
        assert_ne!(&logs[1].0, first_call, "joined to the UPDATE, a call later");
        let counted = read("SELECT '' AS at, SUM(n)::bigint AS n FROM counts").await;
        assert_eq!(counted[0].1, 1);

        // A joined INSERT that fails undoes its whole write, and fails it
        // as it would alone.
        let w = db.begin_write().await.unwrap();
        for s in [count(), log(3), parent()] {
            w.defer(s).await.unwrap();
        }
        let refused = w.commit().await.unwrap_err();
        assert!(
            matches!(
                refused.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ),
            "{refused}"
        );
        assert_eq!(read("SELECT at, v::bigint AS n FROM log").await.len(), 2);
        let counted = read("SELECT '' AS at, SUM(n)::bigint AS n FROM counts").await;
        assert_eq!(counted[0].1, 1, "the count undone with it");
        db.close().await.unwrap();
        drop(test_db);
    }

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
