//! Database connection and migrations: SQLite (embedded, WAL) or PostgreSQL,
//! the same code and migrations for both.
//!
//! SQLite allows one writer at a time. Rather than let concurrent
//! transactions collide (SQLITE_BUSY on lock upgrade), writes go through a
//! pool of one connection and reads through pools of several; on
//! PostgreSQL all are the same pool. Concurrent SQLite writes share
//! commits ([`crate::group_commit`]).
//!
//! SQLite's reads come in two kinds, with a pool each, because they want
//! opposite things from its planner ([`plan_once`]): reads that find rows by
//! key ([`Db::read`]) are planned once and the plan reused, while searches
//! (list pages, statistics: [`Db::search`]) are planned for the values
//! bound to them on every run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::group_commit::GroupCommit;

/// How durable SQLite commits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum SqliteSync {
    /// WAL with synchronous=NORMAL: survives a killed process, not a power
    /// cut; about 6× faster.
    #[default]
    Normal,
    /// synchronous=FULL: survives a power cut.
    Full,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`.
    pub url: String,
    /// Connections in each pool that reads (on SQLite: the readers and the
    /// searchers, each a pool of this size; on PostgreSQL: the one pool).
    pub max_connections: u32,
    /// SQLite durability.
    pub sqlite_sync: SqliteSync,
    /// SQLite: concurrent writes share commits ([`crate::group_commit`]).
    pub group_commit: bool,
}

impl DbConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            sqlite_sync: SqliteSync::Normal,
            group_commit: true,
        }
    }
}

/// A service's database: handles for reads, searches and writes.
#[derive(Debug, Clone)]
pub struct Db {
    read: DatabaseConnection,
    search: DatabaseConnection,
    write: DatabaseConnection,
    outbox: Arc<tokio::sync::Notify>,
    /// Whether this replica's outbox relay holds the lease and publishes.
    relaying: Arc<AtomicBool>,
    /// Whether reads and searches have pools of their own (SQLite files).
    separate_read: bool,
    /// SQLite's writes, batched into shared commits; `None` on PostgreSQL.
    group: Option<GroupCommit>,
    /// Writers waiting for their turn at a hot row.
    hot: crate::hot_rows::HotRows,
    /// SQLite files' checkpoints, run in the background while any clone is
    /// kept; `None` on PostgreSQL and in memory.
    _checkpoints: Option<Arc<crate::checkpoints::Checkpoints>>,
}

impl Db {
    /// For reads that find their rows by key, or by an equality on an
    /// index's leading columns: a record and its children, the checks a
    /// write makes first. Their best plan is the same whatever the values,
    /// so SQLite plans each statement once.
    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    /// For searches, whose best plan depends on the values: list pages
    /// (filters, orders, a page's limit) and statistics windows. SQLite
    /// plans them for the values bound on each run.
    pub fn search(&self) -> &DatabaseConnection {
        &self.search
    }

    /// For transactions that write.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Begins a write transaction, counted as open for the request it
    /// serves, so that no remote lookup can happen inside it
    /// ([`crate::write`]).
    /// On SQLite it is a turn in a batch other requests' writes share (the
    /// batch's transaction or a savepoint in it: [`crate::group_commit`]),
    /// taken at the write's first statement that must run at once, or at
    /// its commit; its commit returns once the batch has committed.
    pub async fn begin_write(&self) -> Result<crate::write::Write, DbErr> {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        Ok(match &self.group {
            Some(group) => {
                crate::write::Write::in_group(group.clone(), self.write.support_returning())
            }
            None => crate::write::Write::new(self.write.begin().await?),
        })
    }

    /// Waits for this write's turn at `row`, a row a burst of writes
    /// updates in order ([`crate::hot_rows`]), and holds it until dropped;
    /// `None` on SQLite, whose writes take turns anyway.
    pub async fn turn_at(&self, row: uuid::Uuid) -> Option<crate::hot_rows::Turn> {
        match self.backend() {
            DbBackend::Sqlite => None,
            _ => Some(self.hot.turn(row).await),
        }
    }

    /// What SQLite's group commits did since the start (commits, the
    /// writes they carried, the calls that ended them); `None` where
    /// writes commit one by one (PostgreSQL).
    pub fn group_commits(&self) -> Option<crate::group_commit::GroupCommits> {
        self.group.as_ref().map(GroupCommit::counts)
    }

    /// Tells the outbox relay that a committed transaction appended events,
    /// so it publishes them now rather than at its next poll.
    pub fn outbox_committed(&self) {
        self.outbox.notify_one();
    }

    /// Waits for [`Db::outbox_committed`].
    pub async fn outbox_news(&self) {
        self.outbox.notified().await;
    }

    /// Records whether this replica's relay holds the lease (for metrics).
    pub fn set_relaying(&self, relaying: bool) {
        self.relaying.store(relaying, Ordering::Relaxed);
    }

    /// Whether this replica's relay holds the lease and publishes.
    pub fn relaying(&self) -> bool {
        self.relaying.load(Ordering::Relaxed)
    }

    /// Connections open and idle, over every pool.
    pub fn pool_status(&self) -> (u32, u32) {
        // sqlx counts idle connections apart from the pool's size, and a
        // test run once read a count so far past it that the sum below
        // overflowed (and the metrics sampler died): at most the size.
        let idle = |n: usize, size: u32| u32::try_from(n).map_or(size, |n| n.min(size));
        let one = |c: &DatabaseConnection| match c.get_database_backend() {
            DbBackend::Sqlite => {
                let p = c.get_sqlite_connection_pool();
                (p.size(), idle(p.num_idle(), p.size()))
            }
            DbBackend::Postgres => {
                let p = c.get_postgres_connection_pool();
                (p.size(), idle(p.num_idle(), p.size()))
            }
            _ => (0, 0),
        };
        let (size, idle) = one(&self.write);
        if !self.separate_read {
            return (size, idle);
        }
        [&self.read, &self.search]
            .into_iter()
            .map(one)
            .fold((size, idle), |(size, idle), (s, i)| {
                (size.saturating_add(s), idle.saturating_add(i))
            })
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Checks that the database answers (for readiness).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.write.ping().await
    }

    /// Closes every pool.
    pub async fn close(self) -> Result<(), DbErr> {
        if self.separate_read {
            self.read.close().await?;
            self.search.close().await?;
        }
        self.write.close().await
    }
}

/// The SQLite writer's page cache, in KiB: the pages of the indexes every
/// write touches stay in memory instead of being read again through the
/// kernel (SQLite's default is 2 MiB; readers keep it).
const WRITER_CACHE_KIB: i64 = 32 * 1024;

/// How long a server connection may lie idle before a checkout pings it.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// What a SQLite pool is for: its connections' settings differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    Write,
    Read,
    Search,
    /// The background checkpoints' one connection.
    Checkpoints,
}

fn options(config: &DbConfig, max_connections: u32, pool: Pool) -> ConnectOptions {
    let writer = pool == Pool::Write;
    let mut opts = ConnectOptions::new(config.url.clone());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if config.url.starts_with("sqlite:") {
        // A SQLite connection is a file held open by a thread of this
        // process: nothing can hang up on it. sqlx's default check pings
        // it on every checkout, a round trip to that thread and back (two
        // context switches) before each read and each write.
        opts.test_before_acquire(false);
    } else {
        // A server connection can be dropped while idle (a restart, a
        // proxy's timeout); a busy one answers its own statements. Pinging
        // only a connection idle this long spares a network round trip on
        // every checkout.
        opts.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
    }
    let synchronous = match config.sqlite_sync {
        SqliteSync::Normal => "NORMAL",
        SqliteSync::Full => "FULL",
    };
    opts.map_sqlx_sqlite_opts(move |o| {
        let o = o
            .pragma("journal_mode", "WAL")
            .pragma("synchronous", synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .create_if_missing(true);
        if writer {
            // Negative: a size in KiB rather than in pages.
            o.pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                .pragma(
                    "wal_autocheckpoint",
                    crate::checkpoints::BACKSTOP_PAGES.to_string(),
                )
                // A group commit's savepoints keep the pages they change in
                // a sub-journal; past 64 KiB SQLite spills it to a temporary
                // file (open, write, close, unlink on every batch) unless
                // temporary storage is memory.
                .pragma("temp_store", "MEMORY")
        } else {
            o
        }
    });
    if matches!(pool, Pool::Write | Pool::Read) {
        opts.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(plan_once(conn)))
        });
    }
    opts
}

/// Turns on SQLite's query planner stability guarantee for a connection
/// of the writer or of the readers.
///
/// Without it SQLite plans a cached statement again on every run whose plan
/// could depend on a bound value: every `LIMIT ?` (sea-query binds limits,
/// and `.one()` adds `LIMIT 1`) and, once ANALYZE has run, every
/// `column = ?` on an indexed column. A write then parsed and planned each
/// of its statements on every call, a tenth of a report's CPU, and the
/// reads it makes first as often (BENCHMARKS.md, issue 21, eighth and
/// ninth parts). Those statements find their rows by key, so a plan made
/// once serves every value. The searchers keep planning by value: a list
/// page's or a statistics window's best index depends on how many rows
/// its values select.
async fn plan_once(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, SQLITE_OK, sqlite3_db_config};
    use std::ffi::c_int;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    #[allow(unsafe_code)]
    // SAFETY: `db` is an open connection, held locked by `handle` for the
    // call, so no other thread uses it. This option takes an int (1: on)
    // and a pointer for the old value, which may be null.
    let rc = unsafe {
        sqlite3_db_config(
            db,
            SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        )
    };
    if rc == SQLITE_OK {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused its planner stability option (code {rc})").into(),
        ))
    }
}

/// Connects to the database and runs the service's migrations.
pub async fn connect<M: MigratorTrait>(config: &DbConfig) -> Result<Db, DbErr> {
    let db = open(config).await?;
    migrate::<M>(&db).await?;
    Ok(db)
}

/// Connects without migrating (for `cogov migrate`, which migrates itself).
pub async fn open(config: &DbConfig) -> Result<Db, DbErr> {
    if config.url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_parent_dir(&config.url) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("creating {dir}: {e}")))?;
        }
        let in_memory = config.url.contains(":memory:") || config.url.contains("mode=memory");
        let write = Database::connect(options(config, 1, Pool::Write)).await?;
        if in_memory {
            // Every in-memory connection is its own database: share one.
            return Ok(Db {
                read: write.clone(),
                search: write.clone(),
                group: config
                    .group_commit
                    .then(|| GroupCommit::start(write.clone())),
                write,
                outbox: Arc::default(),
                relaying: Arc::default(),
                separate_read: false,
                hot: Default::default(),
                _checkpoints: None,
            });
        }
        let read = Database::connect(options(config, config.max_connections, Pool::Read)).await?;
        let search =
            Database::connect(options(config, config.max_connections, Pool::Search)).await?;
        let checkpoints = Database::connect(options(config, 1, Pool::Checkpoints)).await?;
        Ok(Db {
            read,
            search,
            group: config
                .group_commit
                .then(|| GroupCommit::start(write.clone())),
            write,
            outbox: Arc::default(),
            relaying: Arc::default(),
            separate_read: true,
            hot: Default::default(),
            _checkpoints: Some(Arc::new(crate::checkpoints::Checkpoints::start(
                checkpoints,
            ))),
        })
    } else {
        let pool = Database::connect(options(config, config.max_connections, Pool::Read)).await?;
        Ok(Db {
            read: pool.clone(),
            search: pool.clone(),
            write: pool,
            outbox: Arc::default(),
            relaying: Arc::default(),
            separate_read: false,
            group: None,
            hot: Default::default(),
            _checkpoints: None,
        })
    }
}

/// Runs `M`'s pending migrations. Replicas starting together take turns
/// (two at once would both create the same tables); the later ones then
/// find nothing left to do.
pub async fn migrate<M: MigratorTrait>(db: &Db) -> Result<(), DbErr> {
    let turn = crate::lease::Lease::acquire(db, "migrations").await;
    let migrated = M::up(db.write(), None).await;
    drop(turn);
    migrated
}

fn sqlite_parent_dir(url: &str) -> Option<&str> {
    let path = url.strip_prefix("sqlite://")?.split('?').next()?;
    let dir = std::path::Path::new(path).parent()?.to_str()?;
    (!dir.is_empty()).then_some(dir)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

    use super::{DbConfig, open};
    use crate::testing::TestDb;

    /// The opcodes SQLite runs for `SELECT 1 LIMIT ?` with 4242 bound.
    async fn program(conn: &DatabaseConnection) -> Vec<(String, i64)> {
        conn.query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "EXPLAIN SELECT 1 LIMIT ?",
            [4242i64.into()],
        ))
        .await
        .expect("explain")
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "opcode").expect("opcode"),
                row.try_get::<i64>("", "p1").expect("p1"),
            )
        })
        .collect()
    }

    #[tokio::test]
    async fn sqlite_plans_writes_and_reads_once_and_searches_by_value() {
        let test = TestDb::sqlite();
        let db = open(&DbConfig::new(&test.url)).await.expect("open");
        let bound_limit = (String::from("Integer"), 4242);
        // A searcher plans with the bound value: the limit is a constant in
        // its program, which is why binding another one plans it again.
        assert!(program(db.search()).await.contains(&bound_limit));
        // The writer's and the readers' programs read the limit from its
        // parameter.
        for (pool, conn) in [("writer", db.write()), ("reader", db.read())] {
            let program = program(conn).await;
            assert!(!program.contains(&bound_limit), "{pool}: {program:?}");
            assert!(
                program.iter().any(|(op, _)| op == "Variable"),
                "{pool}: {program:?}"
            );
        }
    }
}
