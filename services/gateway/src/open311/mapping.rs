//! cogov's issues as GeoReport v2 sees them: sub-items are services (their
//! category is the `group`), issues are service requests whose status is
//! open or closed, whose `status_notes` are the public timeline and whose
//! `expected_datetime` is the SLA's resolve-by time.

use chrono::{DateTime, SecondsFormat, Utc};
use cogov_kit::convert::from_timestamp;
use cogov_proto::issues::{Category, Issue, IssueState, IssueUpdate, IssueUpdateKind, SubItem};
use cogov_proto::organizations::Courtyard;
use serde_json::{Value, json};

/// Which names to show: Chinese (the default) or English (`locale=en`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// zh-CN.
    Chinese,
    /// en.
    English,
}

impl Language {
    /// `locale=en…` asks for English; anything else gets Chinese.
    pub fn from_locale(locale: Option<&str>) -> Self {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("en") => Language::English,
            _ => Language::Chinese,
        }
    }

    fn pick<'a>(self, chinese: &'a str, english: &'a str) -> &'a str {
        match self {
            Language::English if !english.is_empty() => english,
            _ => chinese,
        }
    }
}

/// The ID of a resource name (`subItems/x` → `x`).
pub fn id_of(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(_, id)| id)
}

/// The Open311 service of a sub-item.
pub fn service(sub: &SubItem, category: Option<&Category>, lang: Language) -> Value {
    let name = lang.pick(&sub.display_name, &sub.english_name);
    json!({
        "service_code": id_of(&sub.name),
        "service_name": name,
        "description": format!(
            "{name}: respond within {} hours, resolve within {} days",
            sub.respond_within_hours, sub.resolve_within_days
        ),
        "metadata": true,
        "type": "realtime",
        "keywords": id_of(&sub.category),
        "group": category.map_or(id_of(&sub.category), |c| lang.pick(&c.display_name, &c.english_name)),
    })
}

/// The attribute a report must or may carry beyond GeoReport's fields.
pub const COURTYARD: &str = "courtyard";
/// The optional urgency attribute.
pub const PRIORITY: &str = "priority";
/// The urgencies a report may state, as `PRIORITY_*` names without the prefix.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// A service's definition: where (a courtyard, unless `address_id` or
/// `lat`/`long` say it) and how urgent.
pub fn definition(sub: &SubItem, courtyards: &[Courtyard], lang: Language) -> Value {
    let english = lang == Language::English;
    let courtyard_values: Vec<Value> = courtyards
        .iter()
        .map(|c| json!({"key": id_of(&c.name), "name": c.display_name}))
        .collect();
    let priority_values: Vec<Value> = PRIORITIES
        .iter()
        .map(|p| json!({"key": p, "name": p}))
        .collect();
    json!({
        "service_code": id_of(&sub.name),
        "attributes": [
            {
                "variable": true,
                "code": COURTYARD,
                "datatype": "singlevaluelist",
                "required": false,
                "datatype_description": if english {
                    "The courtyard; may be left out when address_id names it or lat/long fall near one"
                } else {
                    "所在院落；如 address_id 已给出院落或 lat/long 靠近某院落，可不填"
                },
                "order": 1,
                "description": if english { "Courtyard" } else { "院落" },
                "values": courtyard_values,
            },
            {
                "variable": true,
                "code": PRIORITY,
                "datatype": "singlevaluelist",
                "required": false,
                "datatype_description": if english { "How urgent; normal when left out" } else { "紧急程度，默认 normal" },
                "order": 2,
                "description": if english { "Priority" } else { "紧急程度" },
                "values": priority_values,
            },
        ],
    })
}

/// Open or closed: work done, refused or merged counts as closed.
pub fn status(state: i32) -> &'static str {
    match IssueState::try_from(state) {
        Ok(
            IssueState::Resolved
            | IssueState::Closed
            | IssueState::Rejected
            | IssueState::Duplicate,
        ) => "closed",
        _ => "open",
    }
}

/// Open311's status values as the states they stand for.
pub fn states_of(status: &str) -> Option<&'static [IssueState]> {
    match status {
        "open" => Some(&[
            IssueState::Reported,
            IssueState::Acknowledged,
            IssueState::Dispatched,
            IssueState::Returned,
            IssueState::InProgress,
            IssueState::Reopened,
        ]),
        "closed" => Some(&[
            IssueState::Resolved,
            IssueState::Closed,
            IssueState::Rejected,
            IssueState::Duplicate,
        ]),
        _ => None,
    }
}

/// ISO 8601, as GeoReport v2 writes times.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn time_of(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(from_timestamp)
}

fn state_word(state: i32) -> &'static str {
    IssueState::try_from(state)
        .map(|s| match s {
            IssueState::Reported => "reported",
            IssueState::Acknowledged => "acknowledged",
            IssueState::Dispatched => "dispatched",
            IssueState::Returned => "returned for re-dispatch",
            IssueState::InProgress => "in progress",
            IssueState::Resolved => "resolved",
            IssueState::Closed => "closed",
            IssueState::Reopened => "reopened",
            IssueState::Rejected => "rejected",
            IssueState::Duplicate => "marked a duplicate",
            IssueState::Unspecified => "updated",
        })
        .unwrap_or("updated")
}

/// The public timeline, one line per entry, oldest first: staff-only notes
/// never appear, whoever asks.
pub fn status_notes(updates: &[IssueUpdate]) -> String {
    updates
        .iter()
        .filter(|u| !u.internal)
        .map(|u| {
            let when = time_of(u.create_time.as_ref())
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let what = match IssueUpdateKind::try_from(u.kind) {
                Ok(IssueUpdateKind::Transition) => state_word(u.to_state).to_owned(),
                Ok(IssueUpdateKind::Assignment) => "assigned".to_owned(),
                Ok(IssueUpdateKind::CheckIn) => "a joint party checked in".to_owned(),
                Ok(IssueUpdateKind::Comment) => "comment".to_owned(),
                Ok(IssueUpdateKind::Edit) => "details edited".to_owned(),
                _ => "updated".to_owned(),
            };
            if u.text.is_empty() {
                format!("{when} {what}")
            } else {
                format!("{when} {what}: {}", u.text)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An issue as a service request.
pub fn request(issue: &Issue, service_name: &str, agency: &str, notes: &str) -> Value {
    let open = status(issue.state) == "open";
    let (lat, long) = issue
        .location
        .as_ref()
        .map_or((Value::Null, Value::Null), |l| {
            (json!(l.latitude), json!(l.longitude))
        });
    json!({
        "service_request_id": id_of(&issue.name),
        "status": status(issue.state),
        "status_notes": notes,
        "service_name": service_name,
        "service_code": id_of(&issue.sub_item),
        "description": if issue.description.is_empty() { &issue.title } else { &issue.description },
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": time_of(issue.create_time.as_ref()).map(iso),
        "updated_datetime": time_of(issue.update_time.as_ref()).map(iso),
        // The SLA's promise, while there is still one to keep.
        "expected_datetime": if open { time_of(issue.resolve_by.as_ref()).map(iso) } else { None },
        "address": issue.address_text,
        "address_id": id_of(&issue.courtyard),
        "zipcode": "",
        "lat": lat,
        "long": long,
        "media_url": issue.media.first().map_or("", |m| m.uri.as_str()),
    })
}

/// Metres between two points on the Earth (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let d_lat = lat2 - lat1;
    let d_long = (b.1 - a.1).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_long / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_open_or_closed() {
        for s in states_of("open").unwrap() {
            assert_eq!(status(*s as i32), "open");
        }
        for s in states_of("closed").unwrap() {
            assert_eq!(status(*s as i32), "closed");
        }
        assert!(states_of("pending").is_none());
    }

    #[test]
    fn internal_notes_never_reach_the_timeline() {
        let update = |text: &str, internal: bool| IssueUpdate {
            kind: IssueUpdateKind::Comment as i32,
            text: text.into(),
            internal,
            create_time: Some(cogov_kit::convert::timestamp(
                DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
                    .unwrap()
                    .into(),
            )),
            ..Default::default()
        };
        let notes = status_notes(&[update("cleared", false), update("owner is difficult", true)]);
        assert_eq!(notes, "2026-11-27 08:00 UTC comment: cleared");
    }

    #[test]
    fn distances_are_in_metres() {
        // Niujie mosque to the Xuanwumen crossing: about 2.2 km.
        let d = distance_m((39.8847, 116.3633), (39.8997, 116.3746));
        assert!((1_800.0..2_200.0).contains(&d), "{d}");
        assert_eq!(distance_m((39.9, 116.4), (39.9, 116.4)), 0.0);
    }
}
