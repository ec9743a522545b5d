//! What Open311 clients send, read: parameters, coordinates, the report's
//! title and idempotency key, and the ListIssues filter of GET `requests`.
//! Pure functions, fuzzed in `fuzz/fuzz_targets/open311.rs`.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_proto::common::GeoPoint;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::mapping;
use super::wire::Open311Error;

/// GeoReport v2 lets a client ask for at most 90 days at once.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// Service codes one GET `requests` may name.
pub const MAX_SERVICE_CODES: usize = 20;

/// The first non-empty value of parameter `name`.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A point from `lat` and `long` in degrees.
pub fn coordinates(lat: &str, long: &str) -> Result<GeoPoint, Open311Error> {
    let latitude: f64 = lat
        .parse()
        .ok()
        .filter(|v: &f64| (-90.0..=90.0).contains(v))
        .ok_or_else(|| Open311Error::bad_request("lat: must be a latitude in degrees"))?;
    let longitude: f64 = long
        .parse()
        .ok()
        .filter(|v: &f64| (-180.0..=180.0).contains(v))
        .ok_or_else(|| Open311Error::bad_request("long: must be a longitude in degrees"))?;
    Ok(GeoPoint {
        latitude,
        longitude,
    })
}

/// A title from the description's first line, or the service code.
pub fn title_of(description: &str, service_code: &str) -> String {
    let first = description.lines().next().unwrap_or_default().trim();
    if first.is_empty() {
        return service_code.to_owned();
    }
    first.chars().take(80).collect()
}

/// The report's `request_id`: the `Idempotency-Key` header, or a digest of
/// the partner and the posted fields (in order of name, then value).
pub fn idempotency_key(
    headers: &HeaderMap,
    principal: &Principal,
    form: &[(String, String)],
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(principal.describe().as_bytes());
    match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(key) => {
            hasher.update(b"\0idempotency-key\0");
            hasher.update(key.as_bytes());
        }
        None => {
            let mut fields: Vec<&(String, String)> =
                form.iter().filter(|(k, _)| k != "api_key").collect();
            fields.sort();
            for (k, v) in fields {
                hasher.update(b"\0");
                hasher.update(k.as_bytes());
                hasher.update(b"=");
                hasher.update(v.as_bytes());
            }
        }
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The ListIssues filter for GET `requests`: a window of at most 90 days
/// (the last 90 by default), and the service codes and statuses asked for.
pub fn list_filter(
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<String, Open311Error> {
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, Open311Error> {
        param(params, name)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        Open311Error::bad_request(format!(
                            "{name}: must be a W3C date-time such as 2026-11-27T08:00:00Z"
                        ))
                    })
            })
            .transpose()
    };
    let window = Duration::days(MAX_WINDOW_DAYS);
    let (start, end) = match (date("start_date")?, date("end_date")?) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + window),
        (None, Some(e)) => (e - window, e),
        (None, None) => (now - window, now),
    };
    if end < start {
        return Err(Open311Error::bad_request(
            "end_date: must not be before start_date",
        ));
    }
    if end - start > window {
        return Err(Open311Error::bad_request(format!(
            "start_date, end_date: at most {MAX_WINDOW_DAYS} days apart"
        )));
    }
    // Full precision: an issue reported within the current second is in.
    let exact = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let mut terms = vec![
        format!("create_time >= \"{}\"", exact(start)),
        format!("create_time <= \"{}\"", exact(end)),
    ];
    if let Some(codes) = param(params, "service_code") {
        let mut wanted: Vec<&str> = codes
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        // Within the service's filter limits (2000 characters, 64
        // comparisons) whatever else is asked.
        if wanted.len() > MAX_SERVICE_CODES {
            return Err(Open311Error::bad_request(format!(
                "service_code: at most {MAX_SERVICE_CODES} codes at once"
            )));
        }
        let codes: Vec<String> = wanted
            .into_iter()
            .map(|c| {
                if (1..=40).contains(&c.len())
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                {
                    Ok(format!("sub_item = \"subItems/{c}\""))
                } else {
                    Err(Open311Error::bad_request(format!(
                        "service_code: {c} is not a service code"
                    )))
                }
            })
            .collect::<Result<_, _>>()?;
        if !codes.is_empty() {
            // OR binds tighter than AND in AIP-160.
            terms.push(codes.join(" OR "));
        }
    }
    if let Some(statuses) = param(params, "status") {
        let mut asked: Vec<&str> = statuses.split(',').map(str::trim).collect();
        asked.sort_unstable();
        asked.dedup();
        let mut states = Vec::new();
        for status in asked {
            let of = mapping::states_of(status).ok_or_else(|| {
                Open311Error::bad_request(format!("status: {status} is neither open nor closed"))
            })?;
            states.extend(of.iter().map(|s| format!("state = {}", s.as_str_name())));
        }
        terms.push(states.join(" OR "));
    }
    Ok(terms.join(" AND "))
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_window_is_at_most_ninety_days() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            list_filter(&[], now).unwrap(),
            "create_time >= \"2026-08-29T00:00:00Z\" AND create_time <= \"2026-11-27T00:00:00Z\""
        );
        let f = list_filter(
            &params(&[
                ("start_date", "2026-10-01T00:00:00+08:00"),
                ("service_code", "clutter_piling,chaotic_parking"),
                ("status", "closed"),
            ]),
            now,
        )
        .unwrap();
        assert!(f.starts_with("create_time >= \"2026-09-30T16:00:00Z\" AND create_time <= \"2026-12-29T16:00:00Z\" AND sub_item = \"subItems/chaotic_parking\" OR sub_item = \"subItems/clutter_piling\" AND state = ISSUE_STATE_RESOLVED OR "), "{f}");
        for bad in [
            params(&[
                ("start_date", "2026-01-01T00:00:00Z"),
                ("end_date", "2026-06-01T00:00:00Z"),
            ]),
            params(&[
                ("start_date", "2026-06-01T00:00:00Z"),
                ("end_date", "2026-01-01T00:00:00Z"),
            ]),
            params(&[("start_date", "yesterday")]),
            params(&[("status", "pending")]),
            params(&[("service_code", "x\" OR courtyard = \"y")]),
            params(&[(
                "service_code",
                &(0..21)
                    .map(|i| format!("c{i}"))
                    .collect::<Vec<_>>()
                    .join(","),
            )]),
        ] {
            assert_eq!(
                list_filter(&bad, now).unwrap_err().status,
                StatusCode::BAD_REQUEST,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn retries_of_one_report_share_a_request_id() {
        let partner = Principal::Partner {
            organization: uuid::Uuid::nil(),
            key: "k".into(),
        };
        let form = params(&[
            ("service_code", "a"),
            ("description", "b"),
            ("api_key", "x"),
        ]);
        let reordered = params(&[
            ("description", "b"),
            ("api_key", "y"),
            ("service_code", "a"),
        ]);
        let other = params(&[("service_code", "a"), ("description", "c")]);
        let none = HeaderMap::new();
        let key = idempotency_key(&none, &partner, &form);
        assert!(uuid::Uuid::try_parse(&key).is_ok());
        assert_eq!(key, idempotency_key(&none, &partner, &reordered));
        assert_ne!(key, idempotency_key(&none, &partner, &other));
        let mut headers = HeaderMap::new();
        headers.insert("idempotency-key", "abc".parse().unwrap());
        assert_eq!(
            idempotency_key(&headers, &partner, &form),
            idempotency_key(&headers, &partner, &other)
        );
    }
}
