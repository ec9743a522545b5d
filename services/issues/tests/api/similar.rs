//! FindSimilarIssues: open issues of the sub-item in the courtyard within
//! 30 days, nearest first.

use cogov_proto::common::GeoPoint;
use cogov_proto::issues::*;

use crate::both;
use crate::support::*;

both!(nearest_open_reports_first);

async fn report_at(c: &mut Client, courtyard: &str, lat: f64, lon: f64) -> Issue {
    let mut r = report(courtyard, "road_surface");
    r.issue.as_mut().unwrap().location = Some(GeoPoint {
        latitude: lat,
        longitude: lon,
    });
    c.report_issue(r).await.unwrap().into_inner()
}

async fn nearest_open_reports_first(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let far = report_at(&mut c, &w.a1, 39.8900, 116.3700).await;
    let near = report_at(&mut c, &w.a1, 39.8841, 116.3638).await;
    let closed = report_at(&mut c, &w.a1, 39.8841, 116.3637).await;
    c.reject_issue(RejectIssueRequest {
        name: closed.name.clone(),
        reason: RejectReason::Spam as i32,
        ..Default::default()
    })
    .await
    .unwrap();
    report_at(&mut c, &w.a2, 39.8841, 116.3637).await;
    env.clock.advance(chrono::Duration::days(31));
    let recent = report_at(&mut c, &w.a1, 39.8850, 116.3650).await;
    env.clock.set(start_time() + chrono::Duration::days(20));

    let found = c
        .find_similar_issues(FindSimilarIssuesRequest {
            courtyard: w.a1.clone(),
            sub_item: "subItems/road_surface".into(),
            location: Some(GeoPoint {
                latitude: 39.8841,
                longitude: 116.3637,
            }),
            max_results: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = found
        .issues
        .iter()
        .map(|s| s.issue.as_ref().unwrap().name.as_str())
        .collect();
    // `recent` was created 31 days after the start, "now" is day 20: it is
    // in the future of the clock and still within 30 days.
    assert_eq!(
        names,
        [near.name.as_str(), recent.name.as_str(), far.name.as_str()]
    );
    assert!(found.issues[0].distance_meters < 20.0);
    assert!(found.issues[2].distance_meters > 500.0);
}
