//! Group commit for SQLite: many requests' writes in one transaction.
//!
//! SQLite has one writer, so concurrent writes already run one after
//! another; what each of them pays on its own is its transaction: `BEGIN`,
//! and at `COMMIT` every page it changed appended to the WAL (the same index
//! pages, write after write). Here one task per database owns the write
//! connection's transaction and lends it to the waiting writes in turn: the
//! first the transaction itself, each later one a savepoint of its own. A
//! write that fails or is dropped rolls back (to its savepoint, or the
//! first the batch, which holds nothing else yet) and fails alone; the others
//! go on. When no write is
//! waiting (or the batch is full) the task commits once for all of them, and
//! only then does each member's `commit` return, so nobody answers before
//! its write is durable.
//!
//! PostgreSQL does not go through here: its writes run concurrently on
//! several connections and the server groups their WAL flushes itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

/// At most this many writes share a commit: bounds how long the first of
/// them waits for the others.
pub const MAX_BATCH: usize = 64;

/// A batch takes no more writes once it is this old.
pub const MAX_BATCH_AGE: Duration = Duration::from_millis(20);

/// How long a write waits for its turn before it gives up (as it waited for
/// the pool's one write connection before).
const TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// The queue of writes waiting for a turn in the current or the next batch.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<Ticket>,
    counts: Arc<Counts>,
}

/// Commits made and writes they carried, since the start (for metrics).
#[derive(Debug, Default)]
struct Counts {
    batches: AtomicU64,
    writes: AtomicU64,
}

/// A write waiting for its turn.
struct Ticket {
    turn: oneshot::Sender<Result<Turn, DbErr>>,
}

/// A write's turn in a batch.
pub(crate) struct Turn {
    /// Where the write runs its statements: the batch's transaction itself
    /// for its first write (a batch of one costs what a transaction alone
    /// does), a savepoint in it for the others.
    pub txn: DatabaseTransaction,
    done: Done,
    /// The batch's commit, reported to every write that had a turn in it.
    committed: Committed,
}

/// How the writer learns that a write is done with its turn; dropped
/// unsent when the write rolled back or was dropped halfway.
enum Done {
    /// The batch's transaction, handed back for the next writes.
    Whole(oneshot::Sender<DatabaseTransaction>),
    /// Its savepoint was released.
    Savepoint(oneshot::Sender<()>),
}

/// A write's end of its batch's commit (every write that had a turn hears
/// of it, released or not).
pub(crate) type Committed = oneshot::Receiver<Result<(), String>>;

/// The writer's end of it.
type Commits = oneshot::Sender<Result<(), String>>;

impl GroupCommit {
    /// Starts the batching task on `write`, the pool of one connection.
    pub(crate) fn start(write: DatabaseConnection) -> GroupCommit {
        let (queue, waiting) = mpsc::unbounded_channel();
        let counts = Arc::<Counts>::default();
        tokio::spawn(run(write, waiting, counts.clone()));
        GroupCommit { queue, counts }
    }

    /// Commits made and the writes they carried, since the start.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.counts.batches.load(Ordering::Relaxed),
            self.counts.writes.load(Ordering::Relaxed),
        )
    }

    /// Waits for a turn in a batch.
    pub(crate) async fn turn(&self) -> Result<Turn, DbErr> {
        let (turn, granted) = oneshot::channel();
        self.queue
            .send(Ticket { turn })
            .map_err(|_| gone("the database's writer has stopped"))?;
        match tokio::time::timeout(TURN_TIMEOUT, granted).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(_)) => Err(gone("the database's writer has stopped")),
            // Dropping `granted` tells the writer to pass this one over.
            Err(_) => Err(DbErr::ConnectionAcquire(
                sea_orm::error::ConnAcquireErr::Timeout,
            )),
        }
    }
}

impl Turn {
    /// Ends the turn keeping the write, and waits for the batch's commit.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        let Turn {
            txn,
            done,
            committed,
        } = self;
        let handed = match done {
            Done::Whole(back) => back.send(txn).is_ok(),
            Done::Savepoint(released) => {
                // On failure the savepoint is left to the batch's rollback.
                txn.commit().await?;
                released.send(()).is_ok()
            }
        };
        if !handed {
            return Err(gone("the database's writer stopped before committing"));
        }
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DbErr::Custom(format!("the group commit failed: {e}"))),
            Err(_) => Err(gone("the database's writer stopped before committing")),
        }
    }

    /// Undoes the write; the rest of the batch goes on. Returns the
    /// batch's commit: what the write read may be its batch-mates' rows.
    pub(crate) async fn rollback(self) -> Result<Committed, DbErr> {
        self.txn.rollback().await?;
        Ok(self.committed)
    }

    /// Gives the turn up unfinished (its write is undone, as a dropped
    /// transaction's is); the batch's commit, as for [`Turn::rollback`].
    pub(crate) fn abandon(self) -> Committed {
        let Turn {
            txn,
            done,
            committed,
        } = self;
        // The write's undo first, then the writer hears it is over.
        drop(txn);
        drop(done);
        committed
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Turn")
    }
}

fn gone(what: &str) -> DbErr {
    DbErr::Custom(what.to_owned())
}

/// The batching task: one batch after another while anyone writes.
async fn run(
    write: DatabaseConnection,
    mut waiting: mpsc::UnboundedReceiver<Ticket>,
    counts: Arc<Counts>,
) {
    while let Some(first) = waiting.recv().await {
        let started = Instant::now();
        let mut batch = Members::default();
        let Some(txn) = open(&write, first, &mut batch).await else {
            continue;
        };
        while batch.commits.len() < MAX_BATCH && started.elapsed() < MAX_BATCH_AGE {
            let Ok(ticket) = waiting.try_recv() else {
                break;
            };
            if !lend(&txn, ticket, &mut batch).await {
                break;
            }
        }
        let outcome = txn.commit().await.map_err(|e| e.to_string());
        match &outcome {
            Ok(()) => {
                counts.batches.fetch_add(1, Ordering::Relaxed);
                counts.writes.fetch_add(batch.carried, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, writes = batch.carried, "a group commit failed");
            }
        }
        for member in batch.commits {
            let _ = member.send(outcome.clone());
        }
    }
}

/// The writes that had a turn in a batch.
#[derive(Default)]
struct Members {
    /// Each one's end of the batch's commit.
    commits: Vec<Commits>,
    /// How many kept their write (released rather than undone).
    carried: u64,
}

/// Begins a batch and lends all of it to its first write; the batch once
/// that write hands it back, `None` if it rolled back (the whole batch then,
/// which held nothing else).
async fn open(
    write: &DatabaseConnection,
    ticket: Ticket,
    members: &mut Members,
) -> Option<DatabaseTransaction> {
    if ticket.turn.is_closed() {
        // Gave up waiting.
        return None;
    }
    let (back, returned) = oneshot::channel();
    let commits = hand(ticket, write.begin().await, Done::Whole(back))?;
    // Undone, the first write took the whole batch (nothing else was in
    // it); dropping `commits` tells it so.
    let batch = returned.await.ok()?;
    members.commits.push(commits);
    members.carried += 1;
    Some(batch)
}

/// Lends the batch to one more write, in a savepoint, until it releases or
/// rolls back; false when the batch cannot take more (the savepoint failed).
/// A write undone hears of the batch's commit too: it may have read rows
/// its batch-mates wrote, and answers only once they are durable.
async fn lend(batch: &DatabaseTransaction, ticket: Ticket, members: &mut Members) -> bool {
    if ticket.turn.is_closed() {
        return true;
    }
    let savepoint = batch.begin().await;
    let usable = savepoint.is_ok();
    let (done, finished) = oneshot::channel();
    if let Some(commits) = hand(ticket, savepoint, Done::Savepoint(done)) {
        if finished.await.is_ok() {
            members.carried += 1;
        }
        members.commits.push(commits);
    }
    usable
}

/// Gives a waiting write its turn on `txn` (or the error beginning it);
/// the writer's end of the batch's commit for it, `None` if it has no turn.
fn hand(ticket: Ticket, txn: Result<DatabaseTransaction, DbErr>, done: Done) -> Option<Commits> {
    let txn = match txn {
        Ok(txn) => txn,
        Err(e) => {
            let _ = ticket.turn.send(Err(e));
            return None;
        }
    };
    let (commits, committed) = oneshot::channel();
    let turn = Turn {
        txn,
        done,
        committed,
    };
    // Refused: the write stopped waiting; dropping its turn rolls it back.
    ticket.turn.send(Ok(turn)).ok()?;
    Some(commits)
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::db::{DbConfig, open};
    use crate::testing::TestDb;
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    /// A SQLite file with an empty table `t` of integers; the file goes
    /// when the first is dropped.
    pub(crate) async fn with_table() -> (TestDb, crate::db::Db) {
        let file = TestDb::sqlite();
        let db = open(&DbConfig::new(&file.url)).await.unwrap();
        db.write()
            .execute_unprepared("CREATE TABLE t (v INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        (file, db)
    }

    /// The rows of test table `t`, as readers see them.
    pub(crate) async fn count(db: &crate::db::Db) -> i64 {
        rows_in(db.read()).await
    }

    /// The rows of test table `t` as `conn` sees them.
    pub(crate) async fn rows_in(conn: &impl ConnectionTrait) -> i64 {
        let row = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    async fn insert(w: &impl ConnectionTrait, v: i64) -> Result<(), sea_orm::DbErr> {
        w.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (v) VALUES (?)",
            [v.into()],
        ))
        .await
        .map(drop)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_a_failing_one_fails_alone() {
        let (_file, db) = with_table().await;
        let before = db.group_commits().expect("SQLite files commit in groups");
        let mut writers = Vec::new();
        for v in 0..200i64 {
            let db = db.clone();
            writers.push(tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                insert(&*w, v).await.unwrap();
                match v % 10 {
                    // Fails on a duplicate key after writing: rolls back alone.
                    3 => {
                        insert(&*w, v + 1000).await.unwrap();
                        assert!(insert(&*w, v).await.is_err());
                        w.rollback().await.unwrap();
                        false
                    }
                    // Dropped halfway, as a cancelled request's write is.
                    7 => {
                        drop(w);
                        false
                    }
                    _ => {
                        w.commit().await.unwrap();
                        // Visible to readers once commit returns.
                        let seen = db
                            .read()
                            .query_one_raw(Statement::from_sql_and_values(
                                DbBackend::Sqlite,
                                "SELECT v FROM t WHERE v = ?",
                                [v.into()],
                            ))
                            .await
                            .unwrap();
                        assert!(seen.is_some(), "{v} committed before commit returned");
                        true
                    }
                }
            }));
        }
        let mut committed = 0;
        for w in writers {
            committed += i64::from(w.await.unwrap());
        }
        assert_eq!(committed, 160);
        assert_eq!(count(&db).await, 160, "exactly the committed writes");
        let (batches, writes) = db.group_commits().unwrap();
        let (batches, writes) = (batches - before.0, writes - before.1);
        assert_eq!(writes, 160);
        assert!(
            batches < 160,
            "{batches} commits for 160 concurrent writes: none shared"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_first_write_of_a_batch_rolling_back_takes_nobody_with_it() {
        let (_file, db) = with_table().await;
        let first = db.begin_write().await.unwrap();
        insert(&*first, 1).await.unwrap();
        let queued: Vec<_> = (2..6i64)
            .map(|v| {
                let db = db.clone();
                tokio::spawn(async move {
                    let w = db.begin_write().await.unwrap();
                    insert(&*w, v).await.unwrap();
                    w.commit().await.unwrap();
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        first.rollback().await.unwrap();
        for q in queued {
            q.await.unwrap();
        }
        assert_eq!(count(&db).await, 4, "the four queued writes, not the first");
        let dropped = db.begin_write().await.unwrap();
        insert(&*dropped, 1).await.unwrap();
        drop(dropped);
        let after = db.begin_write().await.unwrap();
        insert(&*after, 6).await.unwrap();
        after.commit().await.unwrap();
        assert_eq!(count(&db).await, 5, "a dropped first write is undone too");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_whose_write_ends_uncommitted_answers_after_its_batch() {
        let (_file, db) = with_table().await;
        let sleep = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
        // While a write holds the writer, three queue up for the next batch.
        let before = db.begin_write().await.unwrap();
        // The next batch's first write writes row 1 and hands it on at once.
        let first = {
            let db = db.clone();
            tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                insert(&*w, 1).await.unwrap();
                w.commit().await.unwrap();
            })
        };
        sleep(20).await;
        // A request reads row 1 in that batch, then drops its write
        // unchanged (an update that found nothing to do).
        let reader = {
            let db = db.clone();
            tokio::spawn(crate::write::scope(async move {
                let w = db.begin_write().await.unwrap();
                let seen = w
                    .query_one_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT COUNT(*) AS n FROM t",
                    ))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get::<i64>("", "n")
                    .unwrap();
                drop(w);
                seen
            }))
        };
        sleep(20).await;
        // A third keeps the batch open a while after the reader is done.
        let holder = {
            let db = db.clone();
            tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                insert(&*w, 3).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                w.commit().await.unwrap();
            })
        };
        sleep(20).await;
        let ended = tokio::spawn(before.commit());
        let seen = reader.await.unwrap();
        // What it saw is durable by the time it answers.
        let durable = count(&db).await;
        assert_eq!(seen, 1, "the reader saw its batch-mate's row");
        assert!(
            durable >= seen,
            "the reader answered having seen {seen} rows, {durable} committed"
        );
        ended.await.unwrap().unwrap();
        first.await.unwrap();
        holder.await.unwrap();
        assert_eq!(count(&db).await, 2);
    }

    #[tokio::test]
    async fn a_write_that_never_gets_its_turn_gives_up_without_writing() {
        let (_file, db) = with_table().await;
        let holder = db.begin_write().await.unwrap();
        insert(&*holder, 1).await.unwrap();
        // Only the waiter's timer is left to run: it fires at once.
        tokio::time::pause();
        let waiter = {
            let db = db.clone();
            tokio::spawn(async move { db.begin_write().await.map(drop) })
        };
        let refused = waiter.await.unwrap().unwrap_err();
        assert!(
            matches!(refused, sea_orm::DbErr::ConnectionAcquire(_)),
            "{refused}"
        );
        tokio::time::resume();
        holder.commit().await.unwrap();
        let next = db.begin_write().await.unwrap();
        insert(&*next, 2).await.unwrap();
        next.commit().await.unwrap();
        assert_eq!(count(&db).await, 2);
    }
}
