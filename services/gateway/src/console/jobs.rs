//! Imports started from the console run in the background while their page
//! shows how far they are; each is kept an hour for its owner to read its
//! report. They live in this gateway replica's memory: a restart loses the
//! page (not the rows already imported, and importing the file again
//! finishes the rest, since an import is idempotent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cogov_sheets::import::Report;
use uuid::Uuid;

/// How long a finished import's page stays.
const KEPT: Duration = Duration::from_secs(3600);
/// Imports one staff member may run at once.
pub const RUNNING_PER_ACCOUNT: usize = 2;

/// Where an import is.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Rows done of rows in all (0 of 0 while the file is read).
    Running {
        /// Rows done.
        done: usize,
        /// Rows in all.
        total: usize,
    },
    /// Finished: its report.
    Done(Box<Report>),
    /// Stopped before any row: why.
    Failed(String),
}

/// One import.
#[derive(Debug, Clone)]
pub struct Job {
    /// The staff account that started it (only they see it).
    pub owner: Uuid,
    /// The file's name.
    pub file: String,
    /// When it started.
    pub started: Instant,
    /// Where it is.
    pub stage: Stage,
}

/// The imports of this replica.
#[derive(Default, Clone)]
pub struct Jobs(Arc<Mutex<HashMap<Uuid, Job>>>);

impl Jobs {
    /// Records a new import of `owner`'s, unless they run too many already.
    pub fn start(&self, owner: Uuid, file: String) -> Option<Uuid> {
        let mut jobs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        jobs.retain(|_, j| matches!(j.stage, Stage::Running { .. }) || j.started.elapsed() < KEPT);
        let running = jobs
            .values()
            .filter(|j| j.owner == owner && matches!(j.stage, Stage::Running { .. }))
            .count();
        if running >= RUNNING_PER_ACCOUNT {
            return None;
        }
        let id = Uuid::now_v7();
        jobs.insert(
            id,
            Job {
                owner,
                file,
                started: Instant::now(),
                stage: Stage::Running { done: 0, total: 0 },
            },
        );
        Some(id)
    }

    /// Moves import `id` to `stage`.
    pub fn set(&self, id: Uuid, stage: Stage) {
        let mut jobs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(job) = jobs.get_mut(&id) {
            job.stage = stage;
        }
    }

    /// Import `id`, if `owner` started it.
    pub fn get(&self, id: Uuid, owner: Uuid) -> Option<Job> {
        let jobs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        jobs.get(&id).filter(|j| j.owner == owner).cloned()
    }
}
