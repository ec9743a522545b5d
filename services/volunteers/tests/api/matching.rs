//! MatchVolunteers on a small hand-made set.

use cogov_proto::common::Interval;
use cogov_proto::volunteers::match_volunteers_request::Need;
use cogov_proto::volunteers::*;

use crate::both;
use crate::support::*;

both!(ranks_by_skills_community_and_availability);

async fn ranks_by_skills_community_and_availability(env: Env) {
    let w = World::build(&env, 3).await;
    let mut c = env.admin();
    // Saturday 2026-06-06 09:00–11:00 Beijing time.
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 6, 1, 0, 0).unwrap();
    let saturday_morning = WeeklyWindow {
        day_of_week: 6,
        start_minute: 8 * 60,
        end_minute: 12 * 60,
    };
    let set = |name: &str, skills: &[&str], windows: Vec<WeeklyWindow>| UpdateVolunteerRequest {
        volunteer: Some(Volunteer {
            name: name.into(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            availability: windows,
            ..Default::default()
        }),
        update_mask: mask(&["skills", "availability"]),
    };
    // a0: plumber, free; a1: plumber, busy; a2: no skill, free; b: plumber, other community, free.
    c.update_volunteer(set(
        &w.volunteers_a[0],
        &["plumbing", "repair"],
        vec![saturday_morning],
    ))
    .await
    .unwrap();
    c.update_volunteer(set(&w.volunteers_a[1], &["plumbing"], vec![]))
        .await
        .unwrap();
    c.update_volunteer(set(
        &w.volunteers_a[2],
        &["cooking"],
        vec![saturday_morning],
    ))
    .await
    .unwrap();
    c.update_volunteer(set(
        &w.volunteer_b,
        &["plumbing", "repair", "electrics"],
        vec![saturday_morning],
    ))
    .await
    .unwrap();

    let found = c
        .match_volunteers(MatchVolunteersRequest {
            need: Some(Need::SubItem("subItems/water_drainage".into())),
            community: w.community_a.clone(),
            window: Some(Interval {
                start_time: Some(cogov_kit::convert::timestamp(start)),
                end_time: Some(cogov_kit::convert::timestamp(
                    start + chrono::Duration::hours(2),
                )),
            }),
            max_results: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    let ranked: Vec<(String, f64)> = found
        .iter()
        .map(|m| (m.volunteer.as_ref().unwrap().name.clone(), m.score))
        .collect();
    // Skills (repair, plumbing, electrics) weigh 40, community 20, availability 20.
    let expected = [
        (w.volunteers_a[0].clone(), 40.0 * 2.0 / 3.0 + 20.0 + 20.0),
        (w.volunteer_b.clone(), 40.0 + 20.0),
        (w.volunteers_a[2].clone(), 40.0),
        (w.volunteers_a[1].clone(), 40.0 / 3.0 + 20.0),
    ];
    assert_eq!(ranked.len(), 4, "{ranked:?}");
    for ((name, score), (want, want_score)) in ranked.iter().zip(expected.iter()) {
        assert_eq!(name, want, "{ranked:?}");
        assert!(
            (score - want_score).abs() < 1e-9,
            "{name}: {score} vs {want_score}"
        );
    }
    assert_eq!(
        found[0].reasons,
        ["skill:repair", "skill:plumbing", "community", "available"]
    );
}
