//! MatchVolunteers: ranks active volunteers for an activity or for an
//! issue sub-item by skills, certifications, community and availability at
//! that time, and says why each matched. Volunteers lacking a certification
//! an activity requires are left out (they could not sign up).

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use cogov_kit::scope::Scope;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::volunteers::match_volunteers_request::Need;
use cogov_proto::volunteers::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::entity::volunteers as vols;
use crate::lists::{self, Span, Window};
use crate::{Volunteers, access, activities, training, volunteers};

/// Skills that help with an issue sub-item.
pub fn skills_for(sub_item: &str) -> &'static [&'static str] {
    match sub_item {
        "roof_leak" | "water_drainage" | "heating" | "elevator" | "lighting" | "facade_windows"
        | "overhead_wires" => &["repair", "plumbing", "electrics"],
        "greening" | "pests" => &["gardening"],
        "clutter_piling" | "garbage_sorting" | "public_hygiene" => &["cleaning", "persuasion"],
        "chaotic_parking" | "ebike_parking_charging" | "bicycle_sheds" | "parking_spaces" => {
            &["persuasion", "traffic"]
        }
        "elderly_care" => &["elderly_care", "first_aid"],
        "neighbor_dispute" | "noise" => &["mediation"],
        "fire_lane_blocked" | "fire_hazard" | "falling_objects" => &["fire_safety", "first_aid"],
        _ => &[],
    }
}

/// Whether weekly windows (UTC+8) cover [start, end) and no unavailable
/// span overlaps it. Spans crossing midnight are not covered by one window.
pub fn available(
    windows: &[Window],
    unavailable: &[Span],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> bool {
    if unavailable.iter().any(|s| s.overlaps(start, end)) {
        return false;
    }
    let (ls, le) = (
        start + Duration::hours(8),
        end + Duration::hours(8) - Duration::seconds(1),
    );
    if ls.date_naive() != le.date_naive() {
        return false;
    }
    let day = ls.weekday().number_from_monday() as i32;
    let (from, to) = (
        (ls.hour() * 60 + ls.minute()) as i32,
        (le.hour() * 60 + le.minute()) as i32 + 1,
    );
    windows
        .iter()
        .any(|w| w.day == day && w.start <= from && to <= w.end)
}

/// What a need asks of a volunteer.
struct Wanted {
    skills: Vec<String>,
    certifications: Vec<Uuid>,
    community: Option<Uuid>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// MatchVolunteers.
pub async fn find(
    svc: &Volunteers,
    scope: &Scope,
    req: MatchVolunteersRequest,
) -> Result<MatchVolunteersResponse> {
    let mut c = Check::new();
    c.range("max_results", req.max_results.into(), 0, 100);
    c.finish()?;
    let limit = if req.max_results == 0 {
        20
    } else {
        req.max_results as usize
    };
    let conn = svc.ctx.db.read();
    let wanted = match req.need {
        Some(Need::Activity(name)) => {
            let id = cogov_kit::validate::read_id("activity", &name, activities::COLLECTION)?;
            let a = activities::get_visible(conn, scope, id).await?;
            if !access::manages_activity(scope, &a) {
                return Err(Error::forbidden(format!("match volunteers for {name}")));
            }
            Wanted {
                skills: lists::from_json(&a.required_skills),
                certifications: lists::ids(&a.required_certifications),
                community: Some(a.community_id),
                window: Some((a.start_time, a.end_time)),
            }
        }
        Some(Need::SubItem(code)) => {
            if !scope.is_staff() {
                return Err(Error::forbidden("match volunteers for issues; staff only"));
            }
            let code = code
                .strip_prefix("subItems/")
                .filter(|c| !c.is_empty())
                .ok_or_else(|| Error::invalid("sub_item", "must be a `subItems/{code}` name"))?;
            let mut c = Check::new();
            let community = c.name("community", &req.community, "communities");
            let window = match &req.window {
                Some(w) => match (
                    w.start_time.as_ref().and_then(convert::from_timestamp),
                    w.end_time.as_ref().and_then(convert::from_timestamp),
                ) {
                    (Some(s), Some(e)) if e > s => Some((s, e)),
                    _ => {
                        c.add("window", "needs a start_time before its end_time");
                        None
                    }
                },
                None => None,
            };
            c.finish()?;
            if !scope.staff_covers(community) {
                return Err(Error::out_of_reach(&req.community));
            }
            Wanted {
                skills: skills_for(code).iter().map(|s| s.to_string()).collect(),
                certifications: Vec::new(),
                community: Some(community),
                window,
            }
        }
        None => return Err(Error::invalid("need", "name an activity or a sub_item")),
    };

    let Wanted {
        skills,
        certifications,
        community,
        window,
    } = wanted;
    let certified = if certifications.is_empty() {
        None
    } else {
        let at = window.map_or_else(|| svc.ctx.clock.now(), |(s, _)| s);
        Some(training::certified_volunteers(conn, &certifications, at).await?)
    };

    // The street has hundreds of volunteers: scoring them here is cheap.
    let candidates = vols::Entity::find()
        .filter(vols::Column::State.eq(VolunteerState::Active as i32))
        .limit(5000)
        .all(conn)
        .await?;
    let mut matches = Vec::new();
    for v in candidates {
        if certified.as_ref().is_some_and(|c| !c.contains(&v.id)) {
            continue;
        }
        let mut score = 0.0;
        let mut reasons = Vec::new();
        let have: Vec<String> = lists::from_json(&v.skills);
        if !skills.is_empty() {
            let matched: Vec<&String> = skills.iter().filter(|s| have.contains(s)).collect();
            score += 40.0 * matched.len() as f64 / skills.len() as f64;
            reasons.extend(matched.iter().map(|s| format!("skill:{s}")));
        }
        if !certifications.is_empty() {
            score += 20.0;
            reasons.extend(
                certifications
                    .iter()
                    .map(|c| format!("certified:{}", names::format("courses", *c))),
            );
        }
        if community == Some(v.community_id) {
            score += 20.0;
            reasons.push("community".into());
        }
        if let Some((start, end)) = window {
            let windows: Vec<Window> = lists::from_json(&v.availability);
            let spans: Vec<Span> = lists::from_json(&v.unavailable);
            if available(&windows, &spans, start, end) {
                score += 20.0;
                reasons.push("available".into());
            }
        }
        if score > 0.0 {
            matches.push((score, v, reasons));
        }
    }
    matches.sort_by(|(a, x, _), (b, y, _)| b.total_cmp(a).then(x.id.cmp(&y.id)));
    matches.truncate(limit);
    Ok(MatchVolunteersResponse {
        matches: matches
            .into_iter()
            .map(|(score, v, reasons)| VolunteerMatch {
                volunteer: Some(volunteers::to_proto(&v, scope)),
                score,
                reasons,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn availability_in_local_time() {
        // Saturday 2026-06-06 09:00–11:00 in Beijing is 01:00–03:00 UTC.
        let start = Utc.with_ymd_and_hms(2026, 6, 6, 1, 0, 0).unwrap();
        let end = start + Duration::hours(2);
        let saturday_morning = Window {
            day: 6,
            start: 8 * 60,
            end: 12 * 60,
        };
        assert!(available(&[saturday_morning], &[], start, end));
        assert!(!available(
            &[Window {
                day: 7,
                ..saturday_morning
            }],
            &[],
            start,
            end
        ));
        assert!(!available(
            &[Window {
                start: 10 * 60,
                ..saturday_morning
            }],
            &[],
            start,
            end
        ));
        let away = Span {
            start: (start - Duration::days(1)).timestamp_micros(),
            end: (start + Duration::minutes(1)).timestamp_micros(),
        };
        assert!(!available(&[saturday_morning], &[away], start, end));
        assert_eq!(skills_for("roof_leak"), ["repair", "plumbing", "electrics"]);
    }
}
