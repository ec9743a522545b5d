//! The time source of a service: the system clock in production, a clock
//! that tests move by hand (SLA boundaries, agreement windows, expiries).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Where "now" comes from.
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(t) => write!(f, "Clock::Manual({:?})", t.lock().map(|t| *t)),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(Source::System)
    }

    /// A clock standing at `start` until moved.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock(Source::Manual(Arc::new(Mutex::new(start))))
    }

    /// Now, to the microsecond (what both databases store).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now().trunc_subsecs(6),
            Source::Manual(t) => *t.lock().expect("clock lock"),
        }
    }

    /// Today's date on the street (Beijing time, UTC+8, no daylight saving):
    /// terms and due dates are dates there.
    pub fn today(&self) -> chrono::NaiveDate {
        (self.now() + Duration::hours(8)).date_naive()
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Source::Manual(t) = &self.0 {
            let mut t = t.lock().expect("clock lock");
            *t += by;
        }
    }

    /// Sets a manual clock; no effect on the system clock.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Source::Manual(t) = &self.0 {
            *t.lock().expect("clock lock") = to;
        }
    }
}
