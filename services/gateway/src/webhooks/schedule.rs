//! When a failed delivery is tried again: exponential backoff with jitter,
//! for a little over a day (the schedule of the Standard Webhooks
//! specification's reference service), and when an endpoint that keeps
//! failing is disabled.

use chrono::Duration;
use uuid::Uuid;

/// The waits after the 1st, 2nd, … failed attempt; after the last one the
/// delivery fails. 27 h 35 min in all.
const WAITS_SECONDS: [i64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];
/// How far each wait is stretched or shrunk at random, so that
/// deliveries that failed together do not return together.
const JITTER: f64 = 0.2;
/// An endpoint whose every attempt has failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::days(3);

/// The wait after the `retries`-th failed attempt of a schedule (1-based),
/// spread by `spread` in [-1, 1]; none when the schedule has run out.
pub fn wait_after(retries: u32, spread: f64) -> Option<Duration> {
    let base = *WAITS_SECONDS.get(usize::try_from(retries).ok()?.checked_sub(1)?)?;
    let factor = 1.0 + JITTER * spread.clamp(-1.0, 1.0);
    // Whole milliseconds; the waits are far from f64's limits.
    #[allow(clippy::cast_possible_truncation)]
    let millis = (base as f64 * 1000.0 * factor).round() as i64;
    Some(Duration::milliseconds(millis))
}

/// A random spread in [-1, 1].
pub fn random_spread() -> f64 {
    let bits = u32::from_le_bytes(Uuid::new_v4().as_bytes()[..4].try_into().expect("4 bytes"));
    f64::from(bits) / f64::from(u32::MAX) * 2.0 - 1.0
}

/// The longest a schedule can last (no jitter): what "at least a day of
/// retries" is measured against.
pub fn span() -> Duration {
    Duration::seconds(WAITS_SECONDS.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_last_over_a_day_and_stop() {
        let waits: Vec<Duration> = (1..=7).map(|n| wait_after(n, 0.0).unwrap()).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(waits[0], Duration::seconds(5));
        assert!(span() >= Duration::hours(24), "{:?}", span());
        assert_eq!(wait_after(8, 0.0), None);
        assert_eq!(wait_after(0, 0.0), None);
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        assert_eq!(wait_after(2, 1.0), Some(Duration::seconds(360)));
        assert_eq!(wait_after(2, -1.0), Some(Duration::seconds(240)));
        assert_eq!(wait_after(2, 7.0), Some(Duration::seconds(360)));
        for _ in 0..1000 {
            let s = random_spread();
            assert!((-1.0..=1.0).contains(&s), "{s}");
        }
        let spreads: Vec<f64> = (0..100).map(|_| random_spread()).collect();
        assert!(spreads.iter().any(|s| *s > 0.0) && spreads.iter().any(|s| *s < 0.0));
    }
}
