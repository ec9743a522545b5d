//! Small lists stored as JSON text: skill tags, talents, weekly windows,
//! intervals and id lists.

use chrono::{DateTime, Utc};
use cogov_kit::convert;
pub use cogov_kit::json::{from_json, to_json};
use cogov_kit::validate::Check;
use cogov_proto::common::Interval;
use cogov_proto::volunteers::{VolunteerTalent, WeeklyWindow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Skill tags: lower-case, 1 to 40 characters of a-z, 0-9, `_`, at most 50.
pub fn check_skills(c: &mut Check, field: &str, skills: &[String]) -> Vec<String> {
    if skills.len() > 50 {
        c.add(field, "at most 50 skills");
    }
    let mut out = Vec::new();
    for (i, s) in skills.iter().enumerate() {
        let ok = (1..=40).contains(&s.len())
            && s.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !ok {
            c.add(
                format!("{field}[{i}]"),
                "a skill is 1 to 40 characters of a-z, 0-9 and _",
            );
        } else if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

#[derive(Serialize, Deserialize)]
struct Talent {
    category: String,
    description: String,
}

/// Talents as JSON.
pub fn talents_json(c: &mut Check, talents: &[VolunteerTalent]) -> String {
    if talents.len() > 20 {
        c.add("volunteer.talents", "at most 20 talents");
    }
    for (i, t) in talents.iter().enumerate() {
        c.line(
            &format!("volunteer.talents[{i}].category"),
            &t.category,
            1,
            40,
        );
        c.text(
            &format!("volunteer.talents[{i}].description"),
            &t.description,
            1,
            500,
        );
    }
    let rows: Vec<Talent> = talents
        .iter()
        .map(|t| Talent {
            category: t.category.clone(),
            description: t.description.clone(),
        })
        .collect();
    to_json(&rows)
}

/// Talents from JSON.
pub fn talents(text: &str) -> Vec<VolunteerTalent> {
    from_json::<Talent>(text)
        .into_iter()
        .map(|t| VolunteerTalent {
            category: t.category,
            description: t.description,
        })
        .collect()
}

/// A weekly window: day 1–7, minutes since midnight (UTC+8).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub day: i32,
    pub start: i32,
    pub end: i32,
}

/// Weekly windows, checked, as stored values.
pub fn check_windows(c: &mut Check, windows: &[WeeklyWindow]) -> Vec<Window> {
    if windows.len() > 50 {
        c.add("volunteer.availability", "at most 50 windows");
    }
    let mut out = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let f = format!("volunteer.availability[{i}]");
        if !(1..=7).contains(&w.day_of_week) {
            c.add(
                format!("{f}.day_of_week"),
                "must be 1 (Monday) to 7 (Sunday)",
            );
        }
        if !(0..1440).contains(&w.start_minute) {
            c.add(format!("{f}.start_minute"), "must be 0 to 1439");
        }
        if w.end_minute <= w.start_minute || w.end_minute > 1440 {
            c.add(
                format!("{f}.end_minute"),
                "must be after start_minute and at most 1440",
            );
        }
        out.push(Window {
            day: w.day_of_week,
            start: w.start_minute,
            end: w.end_minute,
        });
    }
    out
}

/// Weekly windows as protos.
pub fn windows(text: &str) -> Vec<WeeklyWindow> {
    from_json::<Window>(text)
        .into_iter()
        .map(|w| WeeklyWindow {
            day_of_week: w.day,
            start_minute: w.start,
            end_minute: w.end,
        })
        .collect()
}

/// A stored interval in microseconds since the epoch.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    /// Whether the span overlaps [start, end).
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end.timestamp_micros() && start.timestamp_micros() < self.end
    }
}

/// Unavailable intervals, checked.
pub fn check_spans(c: &mut Check, intervals: &[Interval]) -> Vec<Span> {
    if intervals.len() > 100 {
        c.add("volunteer.unavailable", "at most 100 intervals");
    }
    let mut out = Vec::new();
    for (i, iv) in intervals.iter().enumerate() {
        let start = iv.start_time.as_ref().and_then(convert::from_timestamp);
        let end = iv.end_time.as_ref().and_then(convert::from_timestamp);
        match (start, end) {
            (Some(s), Some(e)) if e > s => out.push(Span {
                start: s.timestamp_micros(),
                end: e.timestamp_micros(),
            }),
            _ => c.add(
                format!("volunteer.unavailable[{i}]"),
                "needs a start_time before its end_time",
            ),
        }
    }
    out
}

/// Unavailable intervals as protos.
pub fn spans(text: &str) -> Vec<Interval> {
    from_json::<Span>(text)
        .into_iter()
        .map(|s| Interval {
            start_time: DateTime::from_timestamp_micros(s.start).map(convert::timestamp),
            end_time: DateTime::from_timestamp_micros(s.end).map(convert::timestamp),
        })
        .collect()
}

/// Ids as JSON.
pub fn ids_json(ids: &[Uuid]) -> String {
    to_json(ids)
}

/// Ids from JSON.
pub fn ids(text: &str) -> Vec<Uuid> {
    from_json(text)
}
