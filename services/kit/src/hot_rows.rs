//! Turns at a hot row. Some rows take every write of a burst in order:
//! an activity's places, a topic's co-signatures. On PostgreSQL the
//! writers then queue on the row's lock, and every commit wakes every
//! waiter to find the row taken again, which costs more CPU than the
//! writes themselves. Here the writers of one row in one replica wait
//! their turn in the service instead, on a lock that wakes only the next;
//! writers in other replicas still meet at the row's lock, as before.
//!
//! A write takes its turn after anything it does that could wait for
//! another writer of the same row, and holds it to its commit: a writer
//! waiting for its turn then holds nothing the holder could want, so the
//! turn cannot join a deadlock PostgreSQL would not see.
//!
//! SQLite's writes take turns already ([`crate::group_commit`]), so there
//! no turn is taken.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

/// The rows writers are waiting for or writing, each with its queue.
#[derive(Debug, Clone, Default)]
pub struct HotRows {
    queues: Arc<Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>>,
}

/// A writer's turn at a row, until dropped.
#[derive(Debug)]
pub struct Turn {
    row: Uuid,
    held: Option<OwnedMutexGuard<()>>,
    rows: HotRows,
}

impl HotRows {
    /// Waits for the turn at `row` (a table's key, unique across the
    /// tables a service queues writers for).
    pub async fn turn(&self, row: Uuid) -> Turn {
        let queue = {
            let mut queues = self.queues.lock().expect("not poisoned");
            queues.entry(row).or_default().clone()
        };
        Turn {
            row,
            held: Some(queue.lock_owned().await),
            rows: self.clone(),
        }
    }

    /// Rows with a writer waiting or writing.
    pub fn len(&self) -> usize {
        self.queues.lock().expect("not poisoned").len()
    }

    /// Whether no writer waits or writes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.held.take());
        let mut queues = self.rows.queues.lock().expect("not poisoned");
        // Nobody else holds the queue: no writer waits for the row.
        if queues
            .get(&self.row)
            .is_some_and(|q| Arc::strong_count(q) == 1)
        {
            queues.remove(&self.row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Writers of one row take turns, writers of others do not wait for
    /// them, and nothing is kept once the last one is done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_writer_at_a_time_per_row_and_nothing_kept() {
        let rows = HotRows::default();
        let (hot, other) = (Uuid::new_v4(), Uuid::new_v4());
        let inside = Arc::new(AtomicUsize::new(0));
        let mut writers = Vec::new();
        for _ in 0..32 {
            let (rows, inside) = (rows.clone(), inside.clone());
            writers.push(tokio::spawn(async move {
                let _turn = rows.turn(hot).await;
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "alone at the row");
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        let held = rows.turn(hot).await;
        // Another row's writer goes ahead while this one is held.
        tokio::time::timeout(std::time::Duration::from_secs(5), rows.turn(other))
            .await
            .expect("another row does not wait");
        drop(held);
        for w in writers {
            w.await.unwrap();
        }
        assert!(rows.is_empty(), "{} queues kept", rows.len());
    }
}
