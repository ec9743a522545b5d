//! Leadership among a service's replicas, for work that must not run in two
//! of them at once (the outbox relay: two relays would publish the same
//! rows side by side and could interleave them).
//!
//! On PostgreSQL a lease is a session advisory lock held by a connection
//! of its own, outside the pool. The server releases it the moment that
//! connection ends, so a replica that is killed, or cut off from the
//! database, hands over without a timeout to wait out; the holder checks
//! its connection often and gives the work up as soon as it fails. On
//! SQLite the database belongs to one process, which always holds the
//! lease.

use std::time::Duration;

use sea_orm::sqlx::{self, Connection, PgConnection};
use sea_orm::{DbBackend, DbErr};

use crate::db::Db;

/// How often a replica without the lease asks for it again.
const RETRY: Duration = Duration::from_millis(500);
/// How often the holder checks that its connection, and so its lock, lives.
const CHECK: Duration = Duration::from_millis(500);
/// How long a check may take before the lease counts as lost.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest a replica may go on working after its lease was lost (and
/// another replica may already hold it) before it notices and stops.
pub const NOTICE: Duration = CHECK.saturating_add(CHECK_TIMEOUT);

/// The lock's key: the lease's name within this database and schema (two
/// services sharing a database in separate schemas must not exclude each
/// other).
const LOCK: &str =
    "SELECT pg_try_advisory_lock(hashtextextended($1 || '/' || current_schema(), 0))";

/// A held lease. Dropping it closes its connection, which releases it.
#[derive(Debug)]
pub struct Lease {
    name: String,
    /// The connection holding the lock; none on SQLite.
    holder: Option<PgConnection>,
}

impl Lease {
    /// Waits until this replica holds the lease `name` in `db`.
    pub async fn acquire(db: &Db, name: &str) -> Lease {
        if db.backend() != DbBackend::Postgres {
            return Lease {
                name: name.to_owned(),
                holder: None,
            };
        }
        let mut waiting_since_logged = false;
        loop {
            match try_lock(db, name).await {
                Ok(Some(holder)) => {
                    tracing::info!(lease = name, "holding the lease");
                    return Lease {
                        name: name.to_owned(),
                        holder: Some(holder),
                    };
                }
                Ok(None) if !waiting_since_logged => {
                    tracing::info!(lease = name, "another replica holds the lease; standing by");
                    waiting_since_logged = true;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(lease = name, error = %e, "asking for the lease failed"),
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// Resolves when the lease is lost: its connection stopped answering,
    /// so the server has released (or soon will release) the lock.
    pub async fn lost(&mut self) {
        let Some(holder) = self.holder.as_mut() else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(CHECK).await;
            match tokio::time::timeout(CHECK_TIMEOUT, holder.ping()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(lease = self.name, error = %e, "lost the lease");
                    return;
                }
                Err(_) => {
                    tracing::warn!(
                        lease = self.name,
                        "lost the lease: the database stopped answering"
                    );
                    return;
                }
            }
        }
    }

    /// Runs `work` whenever this replica holds the lease `name`, for as
    /// long as the process runs: `work` is dropped when the lease is lost
    /// and started again once it is regained. `holding` hears of each
    /// change (for metrics).
    pub async fn run<F, Fut>(db: Db, name: &str, holding: impl Fn(bool), mut work: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        loop {
            let mut lease = Lease::acquire(&db, name).await;
            holding(true);
            tokio::select! {
                () = lease.lost() => holding(false),
                () = work() => return,
            }
        }
    }
}

/// A connection of its own holding the lock, or none when another holds it.
async fn try_lock(db: &Db, name: &str) -> Result<Option<PgConnection>, DbErr> {
    let pool = db.write().get_postgres_connection_pool();
    // Out of the pool: the lock lives exactly as long as this connection.
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .detach();
    let held: bool = sqlx::query_scalar(LOCK)
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok(held.then_some(conn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbConfig, open};
    use crate::testing::servers;

    #[tokio::test]
    async fn one_replica_holds_a_lease_and_another_takes_it_when_the_holder_goes() {
        let Some(url) = servers::postgres_url() else {
            return;
        };
        let db = open(&DbConfig::new(url)).await.unwrap();
        let name = format!("lease test {}", uuid::Uuid::new_v4());
        let first = Lease::acquire(&db, &name).await;
        // A second replica of the same service stands by.
        let second = tokio::spawn({
            let (db, name) = (db.clone(), name.clone());
            async move { Lease::acquire(&db, &name).await }
        });
        tokio::time::sleep(RETRY * 3).await;
        assert!(!second.is_finished(), "two replicas held one lease");
        // Another lease is independent.
        let other = Lease::acquire(&db, &format!("{name} (other)")).await;
        drop(first);
        let mut second = tokio::time::timeout(RETRY * 6, second)
            .await
            .expect("the lease was not handed over")
            .unwrap();
        // The holder keeps it while its connection lives.
        assert!(
            tokio::time::timeout(CHECK * 3, second.lost())
                .await
                .is_err(),
            "a live lease counted as lost"
        );
        // A holder cut off from the server learns it, and stops.
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(second.holder.as_mut().unwrap())
            .await
            .unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(db.write().get_postgres_connection_pool())
            .await
            .unwrap();
        tokio::time::timeout(CHECK * 4, second.lost())
            .await
            .expect("a lease whose connection ended still counted as held");
        // And the lock went with the connection.
        let third = tokio::time::timeout(RETRY * 6, Lease::acquire(&db, &name)).await;
        assert!(third.is_ok(), "the lock outlived its connection");
        drop((second, other, third));
        db.close().await.unwrap();
    }
}
