//! Conversions between protobuf well-known types and chrono.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use cogov_proto::common::Date;
use prost_types::Timestamp;

/// A protobuf timestamp for an instant.
pub fn timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// A protobuf timestamp for an optional instant.
pub fn opt_timestamp(t: Option<DateTime<Utc>>) -> Option<Timestamp> {
    t.map(timestamp)
}

/// The instant of a protobuf timestamp, truncated to microseconds (what
/// both databases store); `None` when out of range.
pub fn from_timestamp(t: &Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return None;
    }
    let t = DateTime::from_timestamp(t.seconds, (t.nanos / 1000 * 1000) as u32)?;
    // Years 1..=9999 only (AIP-142); also keeps SQLite's text ordering sound.
    (1..=9999).contains(&t.year()).then_some(t)
}

/// Beijing time (UTC+8, no daylight saving): the wall clock people read
/// times in, on every screen and in every file cogov writes for people.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// `t` on Beijing's wall clock as `format` (chrono's), e.g. `%Y-%m-%d
/// %H:%M`; empty when unset or out of range.
pub fn beijing_time(t: Option<&Timestamp>, format: &str) -> String {
    t.and_then(from_timestamp)
        .map(|t| t.with_timezone(&beijing()).format(format).to_string())
        .unwrap_or_default()
}

/// A protobuf date for a calendar date.
pub fn date(d: NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }
}

/// The calendar date of a protobuf date; `None` when it is not a real date.
pub fn from_date(d: &Date) -> Option<NaiveDate> {
    if !(1..=9999).contains(&d.year) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        d.year,
        u32::try_from(d.month).ok()?,
        u32::try_from(d.day).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_to_the_microsecond() {
        let t = Timestamp {
            seconds: 1_700_000_000,
            nanos: 123_456_789,
        };
        let back = timestamp(from_timestamp(&t).unwrap());
        assert_eq!(back.seconds, t.seconds);
        assert_eq!(back.nanos, 123_456_000);
    }

    #[test]
    fn refuses_impossible_values() {
        assert!(
            from_timestamp(&Timestamp {
                seconds: 0,
                nanos: -1
            })
            .is_none()
        );
        assert!(
            from_timestamp(&Timestamp {
                seconds: i64::MAX,
                nanos: 0
            })
            .is_none()
        );
        assert!(
            from_date(&Date {
                year: 2026,
                month: 2,
                day: 30
            })
            .is_none()
        );
        assert!(
            from_date(&Date {
                year: 0,
                month: 1,
                day: 1
            })
            .is_none()
        );
        assert!(
            from_date(&Date {
                year: 2026,
                month: 13,
                day: 1
            })
            .is_none()
        );
        assert_eq!(
            from_date(&Date {
                year: 2026,
                month: 11,
                day: 26
            })
            .map(date),
            Some(Date {
                year: 2026,
                month: 11,
                day: 26
            })
        );
    }
}
