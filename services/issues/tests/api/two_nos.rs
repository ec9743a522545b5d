//! Inspections and the two-nos status of a courtyard.

use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(two_nos_follows_issues_and_inspections);

fn inspection(
    courtyard: &str,
    sub_item: &str,
    result: InspectionResult,
) -> CreateInspectionRequest {
    CreateInspectionRequest {
        inspection: Some(Inspection {
            courtyard: courtyard.into(),
            sub_item: format!("subItems/{sub_item}"),
            result: result as i32,
            notes: "walked the compound".into(),
            ..Default::default()
        }),
        request_id: request_id(),
    }
}

async fn status(c: &mut Client, courtyard: &str) -> CourtyardTwoNos {
    c.get_courtyard_two_nos(GetCourtyardTwoNosRequest {
        courtyard: courtyard.into(),
    })
    .await
    .unwrap()
    .into_inner()
}

async fn two_nos_follows_issues_and_inspections(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    assert!(!status(&mut c, &w.a1).await.met, "never inspected: not met");

    c.create_inspection(inspection(
        &w.a1,
        "chaotic_parking",
        InspectionResult::Passed,
    ))
    .await
    .unwrap();
    let partial = status(&mut c, &w.a1).await;
    assert!(!partial.met);
    assert_eq!(partial.items.len(), 2);
    // The firm serving a1 inspects too.
    env.client(partner(&w.firm_a))
        .create_inspection(inspection(
            &w.a1,
            "clutter_piling",
            InspectionResult::Passed,
        ))
        .await
        .unwrap();
    let met = status(&mut c, &w.a1).await;
    assert!(met.met && met.items.iter().all(|i| i.met));
    let first_met = met.last_met_time.unwrap();

    // An open clutter issue breaks it; resolving it restores it.
    env.clock.advance(chrono::Duration::hours(1));
    let issue = c
        .report_issue(report(&w.a1, "clutter_piling"))
        .await
        .unwrap()
        .into_inner();
    let broken = status(&mut c, &w.a1).await;
    assert!(!broken.met);
    assert_eq!(
        broken.last_met_time.unwrap(),
        first_met,
        "the last time it was met is kept"
    );
    let clutter = broken
        .items
        .iter()
        .find(|i| i.sub_item == "subItems/clutter_piling")
        .unwrap();
    assert_eq!(clutter.open_issue_count, 1);
    let listed = c
        .list_courtyard_two_nos(ListCourtyardTwoNosRequest {
            filter: format!("community = {} AND met = false", w.community_a),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.statuses.len(), 1);

    c.acknowledge_issue(AcknowledgeIssueRequest {
        name: issue.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.dispatch_issue(DispatchIssueRequest {
        name: issue.name.clone(),
        assignee: w.firm_a.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    c.start_issue(StartIssueRequest {
        name: issue.name.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    env.clock.advance(chrono::Duration::hours(1));
    c.resolve_issue(ResolveIssueRequest {
        name: issue.name.clone(),
        note: "cleared".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let restored = status(&mut c, &w.a1).await;
    assert!(restored.met);
    assert!(restored.last_met_time.unwrap().seconds > first_met.seconds);

    // A failed inspection breaks it again.
    c.create_inspection(inspection(
        &w.a1,
        "chaotic_parking",
        InspectionResult::Failed,
    ))
    .await
    .unwrap();
    assert!(!status(&mut c, &w.a1).await.met);

    let inspections = c
        .list_inspections(ListInspectionsRequest {
            filter: format!("courtyard = {} AND result = FAILED", w.a1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inspections.inspections.len(), 1);

    // Firm B inspects only where it serves.
    assert_status(
        env.client(partner(&w.firm_b))
            .create_inspection(inspection(
                &w.a1,
                "clutter_piling",
                InspectionResult::Passed,
            ))
            .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    let mut future = inspection(&w.a1, "clutter_piling", InspectionResult::Passed);
    future.inspection.as_mut().unwrap().inspect_time = Some(cogov_kit::convert::timestamp(
        env.clock.now() + chrono::Duration::days(1),
    ));
    assert_bad_field(c.create_inspection(future).await, "inspection.inspect_time");
}
