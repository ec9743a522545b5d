//! Group commit for SQLite: many requests' writes in one transaction.
//!
//! SQLite has one writer, so concurrent writes already run one after
//! another; what each of them pays on its own is its transaction: `BEGIN`,
//! and at `COMMIT` every page it changed appended to the WAL (the same index
//! pages, write after write). Here one task per database owns the write
//! connection's transaction and lends it to the waiting writes in turn, each
//! but the first inside a savepoint. A write that fails or is dropped is
//! undone (back to its savepoint, or the whole batch for the first, which
//! holds nothing else yet) and fails alone; the others go on. When no write
//! is waiting (or the batch is full) the task commits once for all of them,
//! and only then does each member's `commit` return, so nobody answers
//! before its write is durable.
//!
//! Every statement is a round trip to the connection's thread that the
//! next write waits behind, so the savepoints cost none of their own: a
//! write's end — its deferred statements ([`crate::write::Defers`]), the
//! release of its savepoint and the next write's savepoint — goes as one
//! call, and an undone write's savepoint is left open for the next write.
//!
//! A write asks for its turn at its first statement that must run at once,
//! or at its commit ([`crate::write::Write`]): what it prepares before
//! keeps nobody waiting. A write that reads nothing before its commit (a
//! report, a vote) is not lent the transaction at all: it hands its end to
//! the writer, which runs it itself, and runs the ends of such writes
//! waiting with the same statements in one call ([`End`]). A burst of one
//! kind of write then pays one trip to the connection's thread for several
//! writes, and no hand-over of the transaction for any.
//!
//! PostgreSQL does not go through here: its writes run concurrently on
//! several connections and the server groups their WAL flushes itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, QueryResult,
    Statement, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

/// At most this many writes share a commit: bounds how long the first of
/// them waits for the others.
pub const MAX_BATCH: usize = 64;

/// A batch takes no more writes once it is this old.
pub const MAX_BATCH_AGE: Duration = Duration::from_millis(20);

/// How long a write waits for its turn before it gives up (as it waited for
/// the pool's one write connection before).
const TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// The savepoint that guards the write having its turn.
const SAVEPOINT: &str = "SAVEPOINT cogov_write";
const RELEASE: &str = "RELEASE SAVEPOINT cogov_write";
/// Undoes the write and leaves its savepoint open, for the next one.
const UNDO: &str = "ROLLBACK TO SAVEPOINT cogov_write";

/// The queue of writes waiting for a turn in the current or the next batch.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<Ticket>,
    counts: Arc<Counts>,
}

/// Commits made, writes they carried, and calls that ended the writes the
/// writer ran itself, since the start (for metrics).
#[derive(Debug, Default)]
struct Counts {
    batches: AtomicU64,
    writes: AtomicU64,
    ends: AtomicU64,
    end_calls: AtomicU64,
}

/// What a database's group commits did since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommits {
    /// Commits made.
    pub commits: u64,
    /// Writes they carried.
    pub writes: u64,
    /// Writes that read nothing before their end, which the writer ran.
    pub ends: u64,
    /// The calls those ends took (fewer than `ends` where they were joined).
    pub end_calls: u64,
}

/// At most this many writes' ends run in one call: a joined call is a
/// statement of its own in the connection's cache, so its sizes are few
/// (1, 2, 4 or 8 ends).
const MAX_JOINED: usize = 8;

/// What each joined write's statements are followed by when they read:
/// the row that tells where one write's rows end and the next one's begin.
const END_MARK: &str = "SELECT 1 AS cogov_write_end";
const END_MARK_COLUMN: &str = "cogov_write_end";

/// A write waiting in the queue.
enum Ticket {
    /// It needs the transaction before its end (it reads first): lent.
    Turn(oneshot::Sender<Result<Turn, DbErr>>),
    /// It read nothing: its end, which the writer runs.
    End(End),
}

impl Ticket {
    /// Whether its write gave up waiting.
    fn abandoned(&self) -> bool {
        match self {
            Ticket::Turn(turn) => turn.is_closed(),
            Ticket::End(end) => end.answer.is_closed(),
        }
    }
}

/// The end of a write that read nothing before it: its deferred
/// statements, then its query at the commit if it has one, and where the
/// outcome goes.
struct End {
    statements: Vec<Statement>,
    reads: bool,
    answer: oneshot::Sender<(Result<Vec<QueryResult>, DbErr>, Committed)>,
}

/// A write's turn in a batch: the batch's transaction, lent until the
/// write ends (or is dropped, which undoes it).
pub(crate) struct Turn {
    /// `None` once handed back.
    txn: Option<DatabaseTransaction>,
    /// Whether the write runs inside a savepoint (all but a batch's first).
    guarded: bool,
    back: Option<oneshot::Sender<Returned>>,
    /// The batch's commit, reported to every write that had a turn in it.
    committed: Option<Committed>,
}

/// The batch's transaction, back from a write, and how the write ended.
struct Returned {
    txn: DatabaseTransaction,
    kept: bool,
}

/// A write's end of its batch's commit (every write that had a turn hears
/// of it, kept or not).
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

    /// What the group commits did since the start.
    pub(crate) fn counts(&self) -> GroupCommits {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        GroupCommits {
            commits: load(&self.counts.batches),
            writes: load(&self.counts.writes),
            ends: load(&self.counts.ends),
            end_calls: load(&self.counts.end_calls),
        }
    }

    /// Ends a write that has not had its turn (it read nothing): the writer
    /// runs `deferred`, then `reading`, in its batch, and this returns what
    /// `reading` read once the batch has committed. An end the writer has
    /// taken is kept even if this gives up waiting meanwhile (a request id
    /// answers the retry), as an answer lost on the way would be.
    pub(crate) async fn end(
        &self,
        deferred: Vec<Statement>,
        reading: Option<Statement>,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let reads = reading.is_some();
        let mut statements = deferred;
        statements.extend(reading);
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Ticket::End(End {
                statements,
                reads,
                answer,
            }))
            .map_err(|_| gone("the database's writer has stopped"))?;
        let (ran, committed) = match tokio::time::timeout(TURN_TIMEOUT, answered).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => return Err(gone("the database's writer has stopped")),
            // Dropping `answered` tells the writer to pass this one over.
            Err(_) => {
                return Err(DbErr::ConnectionAcquire(
                    sea_orm::error::ConnAcquireErr::Timeout,
                ));
            }
        };
        let rows = match ran {
            Ok(rows) => rows,
            Err(e) => {
                crate::write::answer_after(committed);
                return Err(e);
            }
        };
        match committed.await {
            Ok(Ok(())) => Ok(rows),
            Ok(Err(e)) => Err(DbErr::Custom(format!("the group commit failed: {e}"))),
            Err(_) => Err(gone("the database's writer stopped before committing")),
        }
    }

    /// Waits for a turn in a batch.
    pub(crate) async fn turn(&self) -> Result<Turn, DbErr> {
        let (turn, granted) = oneshot::channel();
        self.queue
            .send(Ticket::Turn(turn))
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
    /// Where the write runs its statements.
    pub(crate) fn txn(&self) -> &DatabaseTransaction {
        self.txn.as_ref().expect("lent until the turn ends")
    }

    /// Ends the turn keeping the write: runs `deferred` (joined into one
    /// statement, or none), then `reading`, together with the savepoints'
    /// change, and waits for the batch's commit. Returns what `reading`
    /// read.
    pub(crate) async fn commit(
        mut self,
        deferred: Vec<Statement>,
        reading: Option<Statement>,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let mut end = deferred;
        let read = reading.is_some();
        end.extend(reading);
        end.push(Statement::from_string(
            DbBackend::Sqlite,
            if self.guarded {
                format!("{RELEASE};\n{SAVEPOINT}")
            } else {
                SAVEPOINT.to_owned()
            },
        ));
        let rows = match crate::write::run_joined(self.txn(), end, read).await {
            Ok(rows) => rows,
            Err(e) => {
                // Undone, as a rollback: its answer, an error, waits for
                // the batch like any undone write's.
                crate::write::answer_after(self.rollback());
                return Err(e);
            }
        };
        let committed = self.committed.take().expect("once");
        if !self.hand_back(true) {
            return Err(gone("the database's writer stopped before committing"));
        }
        match committed.await {
            Ok(Ok(())) => Ok(rows),
            Ok(Err(e)) => Err(DbErr::Custom(format!("the group commit failed: {e}"))),
            Err(_) => Err(gone("the database's writer stopped before committing")),
        }
    }

    /// Ends the turn undoing the write (the writer undoes it before the
    /// next turn); the rest of the batch goes on. Returns the batch's
    /// commit: what the write read may be its batch-mates' rows.
    pub(crate) fn rollback(mut self) -> Committed {
        let committed = self.committed.take().expect("once");
        self.hand_back(false);
        committed
    }

    /// Hands the batch's transaction back to the writer; false if it has
    /// stopped (the transaction, dropped, is rolled back).
    fn hand_back(&mut self, kept: bool) -> bool {
        match (self.txn.take(), self.back.take()) {
            (Some(txn), Some(back)) => back.send(Returned { txn, kept }).is_ok(),
            _ => false,
        }
    }
}

impl Drop for Turn {
    /// A turn dropped unfinished — by its write, or unclaimed in the
    /// channel — is undone like a rollback.
    fn drop(&mut self) {
        self.hand_back(false);
    }
}

fn is_mark(row: &QueryResult) -> bool {
    row.try_get::<i64>("", END_MARK_COLUMN).is_ok()
}

/// The rows of a call, split at the marks into each reading write's.
fn split_at_marks(rows: Vec<QueryResult>) -> Vec<Vec<QueryResult>> {
    let mut each = Vec::new();
    let mut current = Vec::new();
    for row in rows {
        if is_mark(&row) {
            each.push(std::mem::take(&mut current));
        } else {
            current.push(row);
        }
    }
    each
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
    // A ticket taken from the queue for a batch that had no room left.
    let mut carried: Option<Ticket> = None;
    loop {
        let first = match carried.take() {
            Some(ticket) => ticket,
            None => match waiting.recv().await {
                Some(ticket) => ticket,
                None => break,
            },
        };
        if first.abandoned() {
            continue;
        }
        let txn = match write.begin().await {
            Ok(txn) => txn,
            Err(e) => {
                refuse(first, e);
                continue;
            }
        };
        let started = Instant::now();
        let mut batch = Batch {
            txn,
            guarded: false,
            members: Vec::new(),
            carried: 0,
        };
        let mut next = Some(first);
        while let Some(ticket) = next.take() {
            let lent = match ticket {
                Ticket::Turn(turn) => batch.lend(turn).await,
                Ticket::End(end) => {
                    let room = MAX_BATCH.saturating_sub(batch.members.len()).max(1);
                    let (ends, after) = same_ends(end, &mut waiting, room);
                    next = after;
                    batch.end(ends, &counts).await
                }
            };
            batch = match lent {
                Lent::Going(batch) => batch,
                Lent::Empty => break,
                Lent::Lost(members, why) => {
                    tracing::error!(error = %why, "a write batch was lost");
                    for member in members {
                        let _ = member.send(Err(why.clone()));
                    }
                    break;
                }
            };
            let room = batch.members.len() < MAX_BATCH && started.elapsed() < MAX_BATCH_AGE;
            if !room {
                carried = next.take();
            } else if next.is_none() {
                next = waiting.try_recv().ok();
            }
            if next.is_none() {
                batch.commit(&counts).await;
                break;
            }
        }
        // A batch that ended otherwise leaves its next ticket for the next.
        carried = carried.or(next);
    }
}

/// Tells a write that its batch could not begin.
fn refuse(ticket: Ticket, e: DbErr) {
    match ticket {
        Ticket::Turn(turn) => {
            let _ = turn.send(Err(e));
        }
        Ticket::End(end) => {
            let (over, committed) = oneshot::channel();
            drop(over);
            let _ = end.answer.send((Err(e), committed));
        }
    }
}

/// `first` and the ends queued right behind it that run the same
/// statements, at most `room`; and the ticket after them, if one was
/// taken from the queue.
fn same_ends(
    first: End,
    waiting: &mut mpsc::UnboundedReceiver<Ticket>,
    room: usize,
) -> (Vec<End>, Option<Ticket>) {
    let mut ends = vec![first];
    while ends.len() < room.min(MAX_JOINED) {
        match waiting.try_recv() {
            Ok(Ticket::End(end)) if same_sql(&end, &ends[0]) => ends.push(end),
            Ok(other) => return (ends, Some(other)),
            Err(_) => break,
        }
    }
    (ends, None)
}

fn same_sql(a: &End, b: &End) -> bool {
    a.reads == b.reads
        && a.statements.len() == b.statements.len()
        && a.statements
            .iter()
            .zip(&b.statements)
            .all(|(x, y)| x.sql == y.sql)
}

/// A batch under way.
struct Batch {
    txn: DatabaseTransaction,
    /// Whether the savepoint for the next write is open.
    guarded: bool,
    /// The writes that had a turn: each one's end of the batch's commit.
    members: Vec<Commits>,
    /// How many kept their write.
    carried: u64,
}

/// What lending a batch to a write left.
enum Lent {
    /// The batch, ready for the next write.
    Going(Batch),
    /// Nothing: the batch's first write was undone, and the batch with it.
    Empty,
    /// The transaction, and with it the writes already in it (these
    /// members); undone.
    Lost(Vec<Commits>, String),
}

impl Batch {
    /// Lends the batch to a write until it ends, and undoes the write if
    /// it did not keep it.
    async fn lend(mut self, ticket: oneshot::Sender<Result<Turn, DbErr>>) -> Lent {
        if ticket.is_closed() {
            return Lent::Going(self);
        }
        let (back, returned) = oneshot::channel();
        let (commits, committed) = oneshot::channel();
        let turn = Turn {
            txn: Some(self.txn),
            guarded: self.guarded,
            back: Some(back),
            committed: Some(committed),
        };
        // Refused, the turn comes back dropped: undone, as any other.
        let _ = ticket.send(Ok(turn));
        let Ok(Returned { txn, kept }) = returned.await else {
            // The transaction was dropped with the turn: rolled back.
            self.members.push(commits);
            return Lent::Lost(self.members, "the write transaction was dropped".into());
        };
        self.txn = txn;
        // An undone write hears of the commit too: it may have read rows
        // its batch-mates wrote, and answers once they are durable.
        self.members.push(commits);
        if kept {
            self.carried += 1;
            self.guarded = true;
            return Lent::Going(self);
        }
        if !self.guarded {
            // The first write, undone: the batch held nothing else.
            let _ = self.txn.rollback().await;
            return Lent::Empty;
        }
        match self.txn.execute_unprepared(UNDO).await {
            Ok(_) => Lent::Going(self),
            Err(e) => {
                // Its writes are undone with the transaction, dropped here.
                Lent::Lost(self.members, e.to_string())
            }
        }
    }

    /// Runs the ends of writes that read nothing, all of the same
    /// statements, in one call; should any statement fail, the call is
    /// undone and each end runs alone, so that the failing write fails
    /// alone.
    async fn end(mut self, ends: Vec<End>, counts: &Counts) -> Lent {
        let mut ends: Vec<End> = ends.into_iter().filter(|e| !e.answer.is_closed()).collect();
        while !ends.is_empty() {
            // Calls of a few sizes (1, 2, 4, 8 ends): each is a statement
            // the connection keeps prepared.
            let rest = ends.split_off(1 << ends.len().ilog2());
            let call = std::mem::replace(&mut ends, rest);
            self = match self.end_together(call, counts).await {
                Lent::Going(batch) => batch,
                other => return other,
            };
        }
        Lent::Going(self)
    }

    /// [`Batch::end`] of ends that run in one call.
    async fn end_together(mut self, ends: Vec<End>, counts: &Counts) -> Lent {
        let outcome = self.run_guarded(&ends).await;
        counts.end_calls.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(rows) => {
                let mut each = split_at_marks(rows).into_iter();
                for end in ends {
                    let rows = if end.reads {
                        each.next().unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    self = self.kept(end, rows, counts);
                }
                Lent::Going(self)
            }
            Err(e) => {
                // Undone (its savepoint stays open for what follows).
                if let Err(undo) = self.txn.execute_unprepared(UNDO).await {
                    return self.lost_with(ends, undo);
                }
                if ends.len() == 1 {
                    let end = ends.into_iter().next().expect("one");
                    self.answer(end, Err(e));
                    return Lent::Going(self);
                }
                // Then each alone, to find the one that failed.
                for end in ends {
                    self = match Box::pin(self.end_together(vec![end], counts)).await {
                        Lent::Going(batch) => batch,
                        other => return other,
                    };
                }
                Lent::Going(self)
            }
        }
    }

    /// Runs `ends` inside the savepoint that guards the write under way,
    /// then releases it and opens the next one's, all in one call. Where
    /// the writes read, each one's rows are followed by a mark
    /// ([`END_MARK`]).
    async fn run_guarded(&mut self, ends: &[End]) -> Result<Vec<QueryResult>, DbErr> {
        let mut sql = String::new();
        let mut values = Vec::new();
        if !self.guarded {
            // The batch's first write: guarded too, so that undoing it
            // leaves the batch going.
            sql.push_str(SAVEPOINT);
            sql.push_str(";\n");
            self.guarded = true;
        }
        let reads = ends.iter().any(|e| e.reads);
        for end in ends {
            for statement in &end.statements {
                sql.push_str(&statement.sql);
                sql.push_str(";\n");
                values.extend(statement.values.iter().flat_map(|v| v.0.iter().cloned()));
            }
            if end.reads {
                sql.push_str(END_MARK);
                sql.push_str(";\n");
            }
        }
        sql.push_str(RELEASE);
        sql.push_str(";\n");
        sql.push_str(SAVEPOINT);
        let statement = Statement {
            sql,
            values: Some(sea_orm::Values(values)),
            db_backend: DbBackend::Sqlite,
        };
        if reads {
            self.txn.query_all_raw(statement).await
        } else {
            self.txn.execute_raw(statement).await.map(|_| Vec::new())
        }
    }

    /// Tells a write its end is kept: it answers once the batch commits.
    fn kept(mut self, end: End, rows: Vec<QueryResult>, counts: &Counts) -> Batch {
        self.carried += 1;
        counts.ends.fetch_add(1, Ordering::Relaxed);
        self.answer(end, Ok(rows));
        self
    }

    /// The batch, lost with `ends` that had not been answered.
    fn lost_with(mut self, ends: Vec<End>, e: DbErr) -> Lent {
        for end in ends {
            let lost = DbErr::Custom(format!("the write batch was lost: {e}"));
            self.answer(end, Err(lost));
        }
        Lent::Lost(self.members, e.to_string())
    }

    /// Tells a write how its end went; kept or not, it hears of the
    /// batch's commit as a member.
    fn answer(&mut self, end: End, outcome: Result<Vec<QueryResult>, DbErr>) {
        let (commits, committed) = oneshot::channel();
        self.members.push(commits);
        let _ = end.answer.send((outcome, committed));
    }

    /// Commits the batch and tells every member.
    async fn commit(self, counts: &Counts) {
        let Batch {
            txn,
            members,
            carried,
            ..
        } = self;
        let outcome = txn.commit().await.map_err(|e| e.to_string());
        match &outcome {
            Ok(()) => {
                counts.batches.fetch_add(1, Ordering::Relaxed);
                counts.writes.fetch_add(carried, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, writes = carried, "a group commit failed");
            }
        }
        for member in members {
            let _ = member.send(outcome.clone());
        }
    }
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

    /// A write that takes its turn and holds it until told (through the
    /// sender), then commits.
    pub(crate) fn holding_turn(
        db: &crate::db::Db,
    ) -> (
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let db = db.clone();
        let held = tokio::spawn(async move {
            let w = db.begin_write().await.unwrap();
            rows_in(&w).await;
            released.await.unwrap();
            w.commit().await.unwrap();
        });
        (release, held)
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
                insert(&w, v).await.unwrap();
                match v % 10 {
                    // Fails on a duplicate key after writing: rolls back alone.
                    3 => {
                        insert(&w, v + 1000).await.unwrap();
                        assert!(insert(&w, v).await.is_err());
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
        let after = db.group_commits().unwrap();
        let (batches, writes) = (after.commits - before.commits, after.writes - before.writes);
        assert_eq!(writes, 160);
        assert!(
            batches < 160,
            "{batches} commits for 160 concurrent writes: none shared"
        );
    }

    /// Writes that read nothing before their end: the writer runs the ends
    /// of those queued with the same statements in one call, each write
    /// reading back its own rows, and one that fails there fails alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ends_of_the_same_statements_share_a_call_and_a_failing_one_fails_alone() {
        use crate::write::{AtCommit, Defers};
        let (_file, db) = with_table().await;
        // Taken already: the write of it below fails on the duplicate key.
        let taken = 3;
        insert(db.write(), taken + 1000).await.unwrap();
        let before = db.group_commits().unwrap();
        // A write holds the turn while the others queue their ends.
        let holder = db.begin_write().await.unwrap();
        rows_in(&holder).await;
        let mut writers = Vec::new();
        for v in 0..40i64 {
            let db = db.clone();
            writers.push(tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                let stored = if v == taken {
                    v + 1000
                } else {
                    v + 1000 * (v % 2)
                };
                w.defer(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "INSERT INTO t (v) VALUES (?)",
                    [stored.into()],
                ))
                .await
                .unwrap();
                let read = AtCommit::default();
                w.read_at_commit(
                    Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "SELECT v, v * 10 AS tenfold FROM t WHERE v = ? OR v = -1",
                        [stored.into()],
                    ),
                    &read,
                )
                .await
                .unwrap();
                let ended = w.commit().await;
                (
                    v,
                    stored,
                    ended.map(|()| {
                        read.rows()
                            .expect("committed")
                            .iter()
                            .map(|r| r.try_get::<i64>("", "tenfold").unwrap())
                            .collect::<Vec<_>>()
                    }),
                )
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        holder.commit().await.unwrap();
        for w in writers {
            let (v, stored, ended) = w.await.unwrap();
            if v == taken {
                assert!(ended.is_err(), "the duplicate key fails its write");
            } else {
                assert_eq!(
                    ended.unwrap(),
                    vec![stored * 10],
                    "write {v} reads its own row"
                );
            }
        }
        assert_eq!(count(&db).await, 40, "the taken row and 39 written");
        let after = db.group_commits().unwrap();
        let (ends, calls) = (after.ends - before.ends, after.end_calls - before.end_calls);
        assert_eq!(ends, 39, "every kept end counted once");
        // Five calls of eight, one of which failed and ran again as eight.
        assert!(
            calls <= 16,
            "{calls} calls for 40 queued ends of the same statements"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_first_write_of_a_batch_rolling_back_takes_nobody_with_it() {
        let (_file, db) = with_table().await;
        let first = db.begin_write().await.unwrap();
        insert(&first, 1).await.unwrap();
        let queued: Vec<_> = (2..6i64)
            .map(|v| {
                let db = db.clone();
                tokio::spawn(async move {
                    let w = db.begin_write().await.unwrap();
                    insert(&w, v).await.unwrap();
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
        insert(&dropped, 1).await.unwrap();
        drop(dropped);
        let after = db.begin_write().await.unwrap();
        insert(&after, 6).await.unwrap();
        after.commit().await.unwrap();
        assert_eq!(count(&db).await, 5, "a dropped first write is undone too");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_whose_write_ends_uncommitted_answers_after_its_batch() {
        let (_file, db) = with_table().await;
        let sleep = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
        // While a write holds the writer, three queue up for the next batch.
        let before = db.begin_write().await.unwrap();
        rows_in(&before).await;
        // The next batch's first write writes row 1 and hands it on at once.
        let first = {
            let db = db.clone();
            tokio::spawn(async move {
                let w = db.begin_write().await.unwrap();
                insert(&w, 1).await.unwrap();
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
                insert(&w, 3).await.unwrap();
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_takes_its_turn_at_its_first_statement_run_at_once_or_at_its_commit() {
        use crate::write::Defers;
        let (_file, db) = with_table().await;
        let holder = db.begin_write().await.unwrap();
        insert(&holder, 1).await.unwrap();
        assert!(holder.has_turn());
        // Begun and its rows made while another write holds the turn.
        let deferring = db.begin_write().await.unwrap();
        assert!(!deferring.has_turn());
        deferring
            .defer(Statement::from_string(
                DbBackend::Sqlite,
                "INSERT INTO t (v) VALUES (2)",
            ))
            .await
            .unwrap();
        let reading = db.begin_write().await.unwrap();
        let (committed, read) = (
            tokio::spawn(deferring.commit()),
            tokio::spawn(async move {
                let seen = rows_in(&reading).await;
                reading.commit().await.unwrap();
                seen
            }),
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            !committed.is_finished() && !read.is_finished(),
            "both wait for the holder's turn to end"
        );
        // One that read nothing and stores nothing waits for nobody.
        let empty = db.begin_write().await.unwrap();
        tokio::time::timeout(std::time::Duration::from_millis(50), empty.commit())
            .await
            .expect("an empty write commits at once")
            .unwrap();
        holder.commit().await.unwrap();
        committed.await.unwrap().unwrap();
        let seen = read.await.unwrap();
        assert!(
            (1..=2).contains(&seen),
            "the read ran in its turn, after the holder's: {seen}"
        );
        assert_eq!(count(&db).await, 2);
    }

    #[tokio::test]
    async fn a_write_that_never_gets_its_turn_gives_up_without_writing() {
        let (_file, db) = with_table().await;
        let holder = db.begin_write().await.unwrap();
        insert(&holder, 1).await.unwrap();
        // Only the waiter's timer is left to run: it fires at once.
        tokio::time::pause();
        let waiter = {
            let db = db.clone();
            tokio::spawn(async move { insert(&db.begin_write().await?, 2).await })
        };
        let refused = waiter.await.unwrap().unwrap_err();
        assert!(
            matches!(refused, sea_orm::DbErr::ConnectionAcquire(_)),
            "{refused}"
        );
        tokio::time::resume();
        holder.commit().await.unwrap();
        let next = db.begin_write().await.unwrap();
        insert(&next, 2).await.unwrap();
        next.commit().await.unwrap();
        assert_eq!(count(&db).await, 2);
    }
}
