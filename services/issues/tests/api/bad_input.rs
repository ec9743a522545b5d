//! Bad reports are refused naming the field, and create nothing.

use cogov_proto::common::GeoPoint;
use cogov_proto::issues::*;

use crate::both;
use crate::support::*;

both!(bad_reports_are_refused);

async fn bad_reports_are_refused(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    type Mutation = fn(&mut Issue);
    let cases: [(Mutation, &str); 9] = [
        (|i| i.description = "字".repeat(4001), "issue.description"),
        (|i| i.title = "t".repeat(201), "issue.title"),
        (
            |i| {
                i.location = Some(GeoPoint {
                    latitude: 39.9,
                    longitude: 181.0,
                })
            },
            "issue.location.longitude",
        ),
        (
            |i| i.sub_item = "subItems/flying_saucers".into(),
            "issue.sub_item",
        ),
        (|i| i.sub_item = String::new(), "issue.sub_item"),
        (
            |i| i.courtyard = format!("courtyards/{}", uuid::Uuid::now_v7()),
            "issue.courtyard",
        ),
        (|i| i.channel = 42, "issue.channel"),
        (
            |i| {
                i.media = vec![cogov_proto::common::Media {
                    uri: "file:///etc/passwd".into(),
                    ..Default::default()
                }]
            },
            "issue.media[0].uri",
        ),
        (
            |i| i.reporter_contact.as_mut().unwrap().phone = "call me".into(),
            "issue.reporter_contact.phone",
        ),
    ];
    for (mutate, field) in cases {
        let mut r = report(&w.a1, "noise");
        mutate(r.issue.as_mut().unwrap());
        assert_bad_field(c.report_issue(r).await, field);
    }
    let mut wrong_building = report(&w.a2, "noise");
    wrong_building.issue.as_mut().unwrap().building = w.building_a1.clone();
    assert_bad_field(c.report_issue(wrong_building).await, "issue.building");
    assert_bad_field(c.report_issue(ReportIssueRequest::default()).await, "issue");
    assert!(
        c.list_issues(ListIssuesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .issues
            .is_empty()
    );

    // An inactive sub-item takes no new reports.
    c.update_sub_item(UpdateSubItemRequest {
        sub_item: Some(SubItem {
            name: "subItems/noise".into(),
            active: false,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["active".into()],
        }),
    })
    .await
    .unwrap();
    assert_bad_field(
        c.report_issue(report(&w.a1, "noise")).await,
        "issue.sub_item",
    );
    for filter in [
        "state = OPENISH",
        "overdue = maybe",
        "sub_item = noise",
        "create_time > yesterday",
    ] {
        assert_bad_field(
            c.list_issues(ListIssuesRequest {
                filter: filter.into(),
                ..Default::default()
            })
            .await,
            "filter",
        );
    }
}
