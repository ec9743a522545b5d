//! The tokio runtime a cogov process runs on.
//!
//! On SQLite each database has one writer: one connection, served by a
//! thread of its own (sqlx's), that every write of the service passes
//! through in turn. Under a burst that thread sets the pace, and on a
//! machine with few cores the runtime's workers — parsing requests,
//! building rows, answering — take the cores from it: each of its calls
//! then waits to be scheduled, and every write queued behind it waits too.
//! So the runtime's threads run at a lower priority than the process's
//! other threads (a nice value [`WORKER_NICE`] above them, which needs no
//! privilege): when both are ready, the database's threads go first, and
//! the workers still have every core the databases leave. Where there is
//! no contention (idle cores, or PostgreSQL, whose servers are processes of
//! their own) it changes nothing. BENCHMARKS.md (issue 21, twenty-first
//! part) has the figures.

use tokio::runtime::{Builder, Runtime};

/// How much nicer than the process's other threads the runtime's are.
pub const WORKER_NICE: i32 = 5;

/// The multi-threaded runtime, its threads yielding to the databases'.
pub fn multi_thread() -> std::io::Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(yield_to_databases)
        .build()
}

/// Lowers the calling thread's priority by [`WORKER_NICE`].
fn yield_to_databases() {
    #[cfg(target_os = "linux")]
    {
        #[allow(unsafe_code)]
        // SAFETY: plain system calls on the calling thread, with no
        // pointers. On Linux a nice value belongs to a thread, and
        // PRIO_PROCESS with a thread's id sets that thread's alone.
        let failed = unsafe {
            let me = libc::gettid();
            let now = libc::getpriority(libc::PRIO_PROCESS, me as libc::id_t);
            libc::setpriority(libc::PRIO_PROCESS, me as libc::id_t, now + WORKER_NICE)
        } != 0;
        if failed {
            // Only a scheduling preference: the runtime works without it.
            tracing::debug!("could not lower a runtime thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    /// The runtime's threads run at a lower priority than the thread that
    /// built it (and than the databases' threads, started like it).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_runtimes_threads_yield_to_the_others() {
        #[allow(unsafe_code)]
        // SAFETY: reads the calling thread's nice value; no pointers.
        fn nice() -> i32 {
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
        }
        let mine = nice();
        let runtime = super::multi_thread().unwrap();
        let worker = runtime.block_on(async { tokio::spawn(async { nice() }).await.unwrap() });
        let blocking = runtime.block_on(async { tokio::task::spawn_blocking(nice).await.unwrap() });
        let elsewhere = std::thread::spawn(nice).join().unwrap();
        let lowest = 19;
        assert_eq!(worker, (mine + super::WORKER_NICE).min(lowest));
        assert_eq!(blocking, worker);
        assert_eq!(elsewhere, mine, "other threads keep the process's priority");
    }
}
