//! The authorisation matrix: every RPC of the issues service, enumerated
//! from the descriptor set, called by every kind of principal on issues in
//! courtyard a1 of community A. An RPC without a case fails the test.
//!
//! Principals, in column order: street admin; community admin of A; of B;
//! firm A (serves a1); firm B (serves b1); the area unit (co-builds with
//! B); a resident of a1; no credentials. Outcomes: `ok`, `hid` (a list
//! without the target), `deny` (PERMISSION_DENIED), `anon`
//! (UNAUTHENTICATED).

use std::sync::Arc;

use cogov_kit::convert::timestamp;
use cogov_kit::testing::matrix::{done, listed};
use cogov_proto::issues::*;

use crate::support::*;

/// The world plus what the fresh-issue helpers need.
struct Fixture {
    w: World,
    now: chrono::DateTime<chrono::Utc>,
}

type Case = cogov_kit::testing::matrix::Case<Client, Fixture>;

macro_rules! case {
    ($method:literal, $expect:literal, |$c:ident, $f:ident, $admin:ident| $body:expr) => {
        cogov_kit::authz_case!(Client, Fixture, $method, $expect, |$c, $f, $admin| $body)
    };
}

/// A new issue in a1, reported by the resident of a1.
async fn fresh(admin: &mut Client, f: &Fixture) -> Issue {
    let mut r = report(&f.w.a1, "noise");
    r.issue.as_mut().unwrap().reporter = f.w.resident_a1.clone();
    admin.report_issue(r).await.unwrap().into_inner()
}

async fn acknowledged(admin: &mut Client, f: &Fixture) -> Issue {
    let i = fresh(admin, f).await;
    admin
        .acknowledge_issue(AcknowledgeIssueRequest {
            name: i.name,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn dispatched_to_firm_a(admin: &mut Client, f: &Fixture) -> Issue {
    let i = acknowledged(admin, f).await;
    admin
        .dispatch_issue(DispatchIssueRequest {
            name: i.name,
            assignee: f.w.firm_a.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn in_progress(admin: &mut Client, f: &Fixture) -> Issue {
    let i = dispatched_to_firm_a(admin, f).await;
    admin
        .start_issue(StartIssueRequest {
            name: i.name,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn resolved(admin: &mut Client, f: &Fixture) -> Issue {
    let i = in_progress(admin, f).await;
    admin
        .resolve_issue(ResolveIssueRequest {
            name: i.name,
            note: "done".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// A new recurring cluster in a1, of a sub-item made for it.
async fn fresh_cluster(admin: &mut Client, f: &Fixture) -> String {
    let code = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    admin
        .create_sub_item(CreateSubItemRequest {
            sub_item_id: code.clone(),
            sub_item: Some(SubItem {
                category: "categories/services".into(),
                display_name: code.clone(),
                respond_within_hours: 24,
                resolve_within_days: 7,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let mut last = Issue::default();
    for _ in 0..3 {
        last = admin
            .report_issue(report(&f.w.a1, &code))
            .await
            .unwrap()
            .into_inner();
    }
    last.cluster
}

async fn inspection(admin: &mut Client, f: &Fixture) -> Inspection {
    admin
        .create_inspection(inspection_request(f))
        .await
        .unwrap()
        .into_inner()
}

fn inspection_request(f: &Fixture) -> CreateInspectionRequest {
    CreateInspectionRequest {
        inspection: Some(Inspection {
            courtyard: f.w.a1.clone(),
            sub_item: "subItems/clutter_piling".into(),
            result: InspectionResult::Passed as i32,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn cases() -> Vec<Case> {
    vec![
        case!("GetCategory", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .get_category(GetCategoryRequest {
                name: "categories/safety".into()
            })
            .await
            .map(done)),
        case!("ListCategories", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .list_categories(ListCategoriesRequest::default())
            .await
            .map(|r| listed(
                r.into_inner().categories.into_iter().map(|x| x.name),
                "categories/safety"
            ))),
        case!(
            "CreateCategory",
            "ok deny deny deny deny deny deny anon",
            |c, f, a| c
                .create_category(CreateCategoryRequest {
                    category_id: format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
                    category: Some(Category {
                        display_name: "x".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateCategory",
            "ok deny deny deny deny deny deny anon",
            |c, f, a| c
                .update_category(UpdateCategoryRequest {
                    category: Some(Category {
                        name: "categories/safety".into(),
                        sort_order: 4,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["sort_order".into()]
                    }),
                })
                .await
                .map(done)
        ),
        case!("GetSubItem", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .get_sub_item(GetSubItemRequest {
                name: "subItems/noise".into()
            })
            .await
            .map(done)),
        case!("ListSubItems", "ok ok ok ok ok ok ok anon", |c, f, a| c
            .list_sub_items(ListSubItemsRequest {
                page_size: 100,
                ..Default::default()
            })
            .await
            .map(|r| listed(
                r.into_inner().sub_items.into_iter().map(|x| x.name),
                "subItems/noise"
            ))),
        case!(
            "CreateSubItem",
            "ok deny deny deny deny deny deny anon",
            |c, f, a| c
                .create_sub_item(CreateSubItemRequest {
                    sub_item_id: format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
                    sub_item: Some(SubItem {
                        category: "categories/services".into(),
                        display_name: "x".into(),
                        respond_within_hours: 1,
                        resolve_within_days: 1,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(done)
        ),
        case!(
            "UpdateSubItem",
            "ok deny deny deny deny deny deny anon",
            |c, f, a| c
                .update_sub_item(UpdateSubItemRequest {
                    sub_item: Some(SubItem {
                        name: "subItems/noise".into(),
                        sort_order: 27,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["sort_order".into()]
                    }),
                })
                .await
                .map(done)
        ),
        case!(
            "ReportIssue",
            "ok ok deny ok deny deny ok anon",
            |c, f, a| {
                let mut r = report(&f.w.a1, "noise");
                r.issue.as_mut().unwrap().reporter_contact = None;
                c.report_issue(r).await.map(done)
            }
        ),
        case!("GetIssue", "ok ok deny ok deny deny ok anon", |c, f, a| {
            let i = fresh(&mut a, &f).await;
            c.get_issue(GetIssueRequest { name: i.name })
                .await
                .map(done)
        }),
        case!("ListIssues", "ok ok hid ok hid hid ok anon", |c, f, a| {
            let i = fresh(&mut a, &f).await;
            c.list_issues(ListIssuesRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .map(|r| listed(r.into_inner().issues.into_iter().map(|x| x.name), &i.name))
        }),
        case!(
            "UpdateIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.update_issue(UpdateIssueRequest {
                    issue: Some(Issue {
                        name: i.name,
                        title: "t".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["title".into()],
                    }),
                })
                .await
                .map(done)
            }
        ),
        case!(
            "AcknowledgeIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.acknowledge_issue(AcknowledgeIssueRequest {
                    name: i.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DispatchIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let i = acknowledged(&mut a, &f).await;
                c.dispatch_issue(DispatchIssueRequest {
                    name: i.name,
                    assignee: f.w.firm_a.clone(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "JointDispatchIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let i = acknowledged(&mut a, &f).await;
                c.joint_dispatch_issue(JointDispatchIssueRequest {
                    name: i.name,
                    lead: f.w.firm_a.clone(),
                    parties: vec![PartySummons {
                        organization: f.w.department.clone(),
                        check_in_by: Some(timestamp(f.now + chrono::Duration::days(1))),
                    }],
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CheckInIssue",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| {
                let i = acknowledged(&mut a, &f).await;
                a.joint_dispatch_issue(JointDispatchIssueRequest {
                    name: i.name.clone(),
                    lead: f.w.department.clone(),
                    parties: vec![PartySummons {
                        organization: f.w.firm_a.clone(),
                        check_in_by: Some(timestamp(f.now + chrono::Duration::days(1))),
                    }],
                    ..Default::default()
                })
                .await
                .unwrap();
                c.check_in_issue(CheckInIssueRequest {
                    name: i.name,
                    organization: f.w.firm_a.clone(),
                    action_note: "came".into(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ReturnIssue",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| {
                let i = dispatched_to_firm_a(&mut a, &f).await;
                c.return_issue(ReturnIssueRequest {
                    name: i.name,
                    reason: ReturnReason::NotOurDuty as i32,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "StartIssue",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| {
                let i = dispatched_to_firm_a(&mut a, &f).await;
                c.start_issue(StartIssueRequest {
                    name: i.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ResolveIssue",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| {
                let i = in_progress(&mut a, &f).await;
                c.resolve_issue(ResolveIssueRequest {
                    name: i.name,
                    note: "done".into(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ConfirmIssue",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| {
                let i = resolved(&mut a, &f).await;
                c.confirm_issue(ConfirmIssueRequest {
                    name: i.name,
                    satisfaction: 4,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ReopenIssue",
            "ok ok deny deny deny deny ok anon",
            |c, f, a| {
                let i = resolved(&mut a, &f).await;
                c.reopen_issue(ReopenIssueRequest {
                    name: i.name,
                    reason: "again".into(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "FollowIssue",
            "deny deny deny deny deny deny ok anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.follow_issue(FollowIssueRequest { name: i.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "UnfollowIssue",
            "deny deny deny deny deny deny ok anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.unfollow_issue(UnfollowIssueRequest { name: i.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "RejectIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.reject_issue(RejectIssueRequest {
                    name: i.name,
                    reason: RejectReason::Spam as i32,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "MarkDuplicateIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let original = fresh(&mut a, &f).await;
                let copy = fresh(&mut a, &f).await;
                c.mark_duplicate_issue(MarkDuplicateIssueRequest {
                    name: copy.name,
                    original: original.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "EscalateIssue",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.escalate_issue(EscalateIssueRequest {
                    name: i.name,
                    council: format!("councils/{}", uuid::Uuid::now_v7()),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CreateIssueComment",
            "ok ok deny ok deny deny ok anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.create_issue_comment(CreateIssueCommentRequest {
                    parent: i.name,
                    text: "hello".into(),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "ListIssueUpdates",
            "ok ok deny ok deny deny ok anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.list_issue_updates(ListIssueUpdatesRequest {
                    parent: i.name,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "FindSimilarIssues",
            "ok ok hid ok hid hid ok anon",
            |c, f, a| {
                let i = fresh(&mut a, &f).await;
                c.find_similar_issues(FindSimilarIssuesRequest {
                    courtyard: f.w.a1.clone(),
                    sub_item: "subItems/noise".into(),
                    max_results: 100,
                    ..Default::default()
                })
                .await
                .map(|r| {
                    listed(
                        r.into_inner()
                            .issues
                            .into_iter()
                            .map(|s| s.issue.unwrap().name),
                        &i.name,
                    )
                })
            }
        ),
        case!(
            "GetIssueCluster",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| {
                let cluster = fresh_cluster(&mut a, &f).await;
                c.get_issue_cluster(GetIssueClusterRequest { name: cluster })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListIssueClusters",
            "ok ok hid ok hid hid hid anon",
            |c, f, a| {
                let cluster = fresh_cluster(&mut a, &f).await;
                c.list_issue_clusters(ListIssueClustersRequest {
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map(|r| {
                    listed(
                        r.into_inner().clusters.into_iter().map(|x| x.name),
                        &cluster,
                    )
                })
            }
        ),
        case!(
            "EscalateIssueCluster",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let cluster = fresh_cluster(&mut a, &f).await;
                c.escalate_issue_cluster(EscalateIssueClusterRequest {
                    name: cluster,
                    council: format!("councils/{}", uuid::Uuid::now_v7()),
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "DismissIssueCluster",
            "ok ok deny deny deny deny deny anon",
            |c, f, a| {
                let cluster = fresh_cluster(&mut a, &f).await;
                c.dismiss_issue_cluster(DismissIssueClusterRequest {
                    name: cluster,
                    ..Default::default()
                })
                .await
                .map(done)
            }
        ),
        case!(
            "CreateInspection",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| c.create_inspection(inspection_request(&f)).await.map(done)
        ),
        case!(
            "GetInspection",
            "ok ok deny ok deny deny deny anon",
            |c, f, a| {
                let i = inspection(&mut a, &f).await;
                c.get_inspection(GetInspectionRequest { name: i.name })
                    .await
                    .map(done)
            }
        ),
        case!(
            "ListInspections",
            "ok ok hid ok hid hid hid anon",
            |c, f, a| {
                let i = inspection(&mut a, &f).await;
                c.list_inspections(ListInspectionsRequest {
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .map(|r| {
                    listed(
                        r.into_inner().inspections.into_iter().map(|x| x.name),
                        &i.name,
                    )
                })
            }
        ),
        case!(
            "GetCourtyardTwoNos",
            "ok ok deny ok deny deny ok anon",
            |c, f, a| c
                .get_courtyard_two_nos(GetCourtyardTwoNosRequest {
                    courtyard: f.w.a1.clone()
                })
                .await
                .map(done)
        ),
        case!(
            "ListCourtyardTwoNos",
            "ok ok hid ok hid hid ok anon",
            |c, f, a| {
                inspection(&mut a, &f).await;
                c.list_courtyard_two_nos(ListCourtyardTwoNosRequest::default())
                    .await
                    .map(|r| {
                        listed(
                            r.into_inner().statuses.into_iter().map(|s| s.courtyard),
                            &f.w.a1,
                        )
                    })
            }
        ),
        case!(
            "ComputeIssueStatistics",
            "ok ok ok deny deny deny deny anon",
            |c, f, a| c
                .compute_issue_statistics(ComputeIssueStatisticsRequest {
                    group_by: StatisticsGroup::All as i32,
                    ..Default::default()
                })
                .await
                .map(done)
        ),
    ]
}

#[test]
fn every_rpc_has_a_case() {
    cogov_kit::testing::matrix::assert_covers(&cases(), "cogov.issues.v1", "IssuesService");
}

crate::both!(matrix);

async fn matrix(env: Env) {
    let w = World::build(&env).await;
    let principals = [
        ("street admin", Some(street_admin())),
        (
            "community admin of A",
            Some(community_admin(&w.community_a)),
        ),
        (
            "community admin of B",
            Some(community_admin(&w.community_b)),
        ),
        ("firm A", Some(partner(&w.firm_a))),
        ("firm B", Some(partner(&w.firm_b))),
        ("area unit", Some(partner(&w.unit))),
        ("resident of a1", Some(resident(&w.resident_a1))),
        ("no credentials", None),
    ];
    let fixture = Arc::new(Fixture {
        w,
        now: env.clock.now(),
    });
    let principals: Vec<(&str, Client)> = principals
        .into_iter()
        .map(|(who, p)| {
            (
                who,
                match p {
                    Some(p) => env.client(p),
                    None => env.anonymous(),
                },
            )
        })
        .collect();
    cogov_kit::testing::matrix::run(cases(), &principals, &env.admin(), fixture).await;
}
