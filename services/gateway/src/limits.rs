//! Limits at the door: a token bucket per partner (one partner's burst does
//! not slow another), a bound on calls in flight, and deadlines (a default
//! for callers that set none, a ceiling for those that ask for more).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cogov_kit::{Error, Result};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// The gateway's limits.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// A partner's sustained calls per second unless its record says.
    pub partner_rate: u32,
    /// A partner's burst unless its record says.
    pub partner_burst: u32,
    /// Calls in flight through the gateway at most; more are shed.
    pub max_in_flight: usize,
    /// The deadline of calls that set none.
    pub default_deadline: Duration,
    /// The longest deadline a caller may ask for.
    pub max_deadline: Duration,
    /// The largest request message, in bytes.
    pub max_message_bytes: usize,
    /// Whether Open311's GET endpoints answer without an API key (the
    /// public view: no personal data, no staff-only notes).
    pub open311_public: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            partner_rate: 50,
            partner_burst: 100,
            max_in_flight: 1024,
            default_deadline: Duration::from_secs(30),
            max_deadline: Duration::from_secs(120),
            max_message_bytes: 4 * 1024 * 1024,
            open311_public: true,
        }
    }
}

type Bucket = (u32, u32, Arc<DefaultDirectRateLimiter>);

/// Per-partner token buckets and the in-flight bound.
#[derive(Debug)]
pub struct Limits {
    settings: Settings,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
    in_flight: Arc<Semaphore>,
}

impl Limits {
    /// Limits with `settings`.
    pub fn new(settings: Settings) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
            settings,
            buckets: Mutex::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Takes a token from the partner's bucket (`rate` and `burst` from its
    /// record, 0 for the defaults), or says when to retry.
    pub fn admit_partner(&self, partner: Uuid, rate: i32, burst: i32) -> Result<()> {
        let pick = |own: i32, default: u32| {
            u32::try_from(own)
                .ok()
                .filter(|v| *v > 0)
                .unwrap_or(default)
        };
        let rate = pick(rate, self.settings.partner_rate);
        let burst = pick(burst, self.settings.partner_burst);
        let limiter = {
            let mut buckets = self.buckets.lock().expect("buckets lock");
            let entry = buckets
                .entry(partner)
                .or_insert_with(|| (0, 0, Arc::new(bucket(rate, burst))));
            if entry.0 != rate || entry.1 != burst {
                *entry = (rate, burst, Arc::new(bucket(rate, burst)));
            }
            entry.2.clone()
        };
        limiter
            .check()
            .map_err(|not_until| Error::ResourceExhausted {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// A place among the calls in flight, or RESOURCE_EXHAUSTED at once.
    pub fn enter(&self) -> Result<OwnedSemaphorePermit> {
        self.in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::ResourceExhausted {
                retry_after: Duration::from_millis(100),
            })
    }

    /// The deadline of a call that asked for `requested`.
    pub fn deadline(&self, requested: Option<Duration>) -> Duration {
        requested
            .unwrap_or(self.settings.default_deadline)
            .min(self.settings.max_deadline)
    }
}

fn bucket(rate: u32, burst: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
}

/// Reads a `grpc-timeout` header value (`100m`, `5S`, …).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Writes a `grpc-timeout` header value.
pub fn format_grpc_timeout(d: Duration) -> String {
    format!("{}m", d.as_millis().clamp(1, 99_999_999))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_partner_burst_does_not_touch_another() {
        let limits = Limits::new(Settings::default());
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..5 {
            limits.admit_partner(a, 1, 5).unwrap();
        }
        let err = limits.admit_partner(a, 1, 5).unwrap_err();
        let Error::ResourceExhausted { retry_after } = err else {
            panic!("{err:?}")
        };
        assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1));
        limits.admit_partner(b, 1, 5).unwrap();
    }

    #[test]
    fn deadlines_and_timeouts() {
        let limits = Limits::new(Settings::default());
        assert_eq!(limits.deadline(None), Duration::from_secs(30));
        assert_eq!(
            limits.deadline(Some(Duration::from_secs(600))),
            Duration::from_secs(120)
        );
        assert_eq!(
            limits.deadline(Some(Duration::from_millis(5))),
            Duration::from_millis(5)
        );
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout("10x"), None);
        assert_eq!(format_grpc_timeout(Duration::from_secs(2)), "2000m");
    }
}
