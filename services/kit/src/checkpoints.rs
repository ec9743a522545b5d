//! SQLite's checkpoints, in the background rather than in a commit.
//!
//! In WAL mode a commit appends the pages it changed to the log, and a
//! checkpoint copies them back into the database file. By default the
//! connection that commits runs that checkpoint itself, within its commit,
//! whenever the log has passed 1,000 pages. The copy and its two fsyncs then
//! stall the one writer and every write queued behind it. Under a burst that
//! happened every few group commits, and a page that many commits change
//! (an index's last leaf) was copied each time.
//!
//! Here a connection of its own checkpoints every [`EVERY`], PASSIVE: it
//! waits for neither the writer nor the readers, nor they for it, and copies
//! each page once however many commits changed it meanwhile. The writer
//! keeps its own checkpoint only as a backstop, at [`BACKSTOP_PAGES`]. A
//! background checkpoint never catches up with a writer that keeps
//! appending, and the log starts again from its beginning only after a
//! checkpoint that copied all of it. The backstop is that checkpoint: it
//! copies just what came after the last background one, and bounds the
//! log's size.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::oneshot;

/// How often the background checkpoint runs.
pub const EVERY: Duration = Duration::from_millis(200);

/// The log's size, in pages, at which the writer checkpoints within its
/// commit after all (SQLite's default is 1,000): about 32 MiB.
pub const BACKSTOP_PAGES: u32 = 8_192;

/// Runs the background checkpoints for as long as it is kept.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    _stop: oneshot::Sender<()>,
}

impl Checkpoints {
    /// Checkpoints through `conn`, a connection of its own, until dropped.
    pub(crate) fn start(conn: DatabaseConnection) -> Self {
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = every.tick() => {}
                }
                if let Err(e) = conn
                    .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                    .await
                {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; the writer's backstop remains");
                }
            }
            let _ = conn.close().await;
        });
        Self { _stop: stop }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    use crate::db::{DbConfig, open};
    use crate::testing::TestDb;

    async fn pragma(conn: &sea_orm::DatabaseConnection, name: &str) -> u64 {
        let value = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("PRAGMA {name}"),
            ))
            .await
            .expect("pragma")
            .expect("a row")
            .try_get_by_index::<i64>(0)
            .expect("a number");
        u64::try_from(value).expect("not negative")
    }

    #[tokio::test]
    async fn the_writer_leaves_checkpoints_to_the_background() {
        let test = TestDb::sqlite();
        let file = std::path::PathBuf::from(
            test.url
                .strip_prefix("sqlite://")
                .and_then(|rest| rest.split('?').next())
                .expect("a file URL"),
        );
        let db = open(&DbConfig::new(&test.url)).await.expect("open");
        let w = db.write();
        assert_eq!(
            pragma(w, "wal_autocheckpoint").await,
            u64::from(super::BACKSTOP_PAGES)
        );
        w.execute_unprepared("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)")
            .await
            .expect("create");
        // About 1,500 pages, each commit its own.
        for i in 0..300 {
            w.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO t (k, v) VALUES (?, zeroblob(16000))",
                [i.into()],
            ))
            .await
            .expect("insert");
        }
        // The pages reach the database file with no writer's checkpoint
        // (it is below its backstop): the background copied them.
        let size = pragma(w, "page_count").await * pragma(w, "page_size").await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let on_disk = std::fs::metadata(&file).expect("the database file").len();
            if on_disk >= size {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file holds {on_disk} of {size} bytes"
            );
            tokio::time::sleep(super::EVERY).await;
        }
    }
}
