//! A courtyard: its two-nos status, the organisations placed in it, the
//! agreements reaching it, its recent issues and inspections, its
//! community's council and its activities.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use cogov_proto::deliberation::{GetCouncilStatisticsRequest, ListCouncilsRequest};
use cogov_proto::issues::*;
use cogov_proto::organizations::*;
use cogov_proto::volunteers::{ActivityState, ListActivitiesRequest};

use super::issues::IssueRow;
use super::{Names, path_id};
use crate::console::view::{Failure, Frame, percent, render, time};
use crate::console::{Shared, Staff};

#[derive(Template)]
#[template(path = "console/courtyard.html")]
struct CourtyardPage {
    f: Frame,
    /// `filter=…` for the export of this courtyard's issues.
    issues_export: String,
    courtyard: Courtyard,
    community: String,
    two_nos_met: bool,
    two_nos: Vec<(String, i32, String)>,
    organizations: Vec<(String, String)>,
    agreements: Vec<(String, String, String, String)>,
    issues: Vec<IssueRow>,
    inspections: Vec<(String, String, String)>,
    council: Option<(String, String)>,
    activities: Vec<(String, String, String)>,
}

/// GET /console/courtyards/{id}.
pub async fn page(
    State(_c): State<Shared>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id = path_id(&id)?;
    let name = format!("courtyards/{id}");
    let f = Frame::new(&staff, "dashboard");
    let calls = &staff.calls;
    let courtyard = calls
        .organizations()
        .get_courtyard(GetCourtyardRequest { name: name.clone() })
        .await?
        .into_inner();
    let here = format!("courtyard = \"{name}\"");
    let (names, two_nos, organizations, agreements, issues, inspections, councils, activities) = tokio::try_join!(
        Names::load(calls),
        async {
            calls
                .issues()
                .get_courtyard_two_nos(GetCourtyardTwoNosRequest {
                    courtyard: name.clone(),
                })
                .await
                .map(|r| r.into_inner())
        },
        async {
            calls
                .organizations()
                .list_organizations(ListOrganizationsRequest {
                    page_size: 100,
                    filter: format!("place = \"{name}\""),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().organizations)
        },
        async {
            calls
                .organizations()
                .list_agreements(ListAgreementsRequest {
                    page_size: 100,
                    filter: here.clone(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().agreements)
        },
        async {
            calls
                .issues()
                .list_issues(ListIssuesRequest {
                    page_size: 20,
                    filter: here.clone(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().issues)
        },
        async {
            calls
                .issues()
                .list_inspections(ListInspectionsRequest {
                    page_size: 10,
                    filter: here.clone(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().inspections)
        },
        async {
            calls
                .deliberation()
                .list_councils(ListCouncilsRequest {
                    page_size: 10,
                    filter: format!("community = \"{}\"", courtyard.community),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().councils)
        },
        async {
            calls
                .volunteers()
                .list_activities(ListActivitiesRequest {
                    page_size: 20,
                    filter: here.clone(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().activities)
        },
    )?;
    let council = match councils.first() {
        Some(council) => {
            let stats = calls
                .deliberation()
                .get_council_statistics(GetCouncilStatisticsRequest {
                    name: council.name.clone(),
                })
                .await?
                .into_inner();
            Some((
                council.display_name.clone(),
                percent(stats.implementation_rate),
            ))
        }
        None => None,
    };
    let view = CourtyardPage {
        issues_export: super::issues::form_urlencoded_pairs(&[(
            "filter",
            &format!("courtyard = \"{}\"", courtyard.name),
        )]),
        community: names.of(&courtyard.community),
        two_nos_met: two_nos.met,
        two_nos: two_nos
            .items
            .iter()
            .map(|i| {
                (
                    names.of(&i.sub_item),
                    i.open_issue_count,
                    f.t.label(
                        InspectionResult::try_from(i.last_result)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                )
            })
            .collect(),
        organizations: organizations
            .iter()
            .map(|o| {
                (
                    o.display_name.clone(),
                    f.t.label(
                        OrganizationKind::try_from(o.kind)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                )
            })
            .collect(),
        agreements: agreements
            .iter()
            .map(|a| {
                (
                    a.title.clone(),
                    names.of(&a.organization),
                    f.t.label(
                        AgreementKind::try_from(a.kind)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                    f.t.label(
                        AgreementState::try_from(a.state)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                )
            })
            .collect(),
        issues: issues
            .iter()
            .map(|i| IssueRow::new(i, &names, f.t))
            .collect(),
        inspections: inspections
            .iter()
            .map(|i| {
                (
                    time(i.inspect_time.as_ref().or(i.create_time.as_ref())),
                    names.of(&i.sub_item),
                    f.t.label(
                        InspectionResult::try_from(i.result)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                )
            })
            .collect(),
        council,
        activities: activities
            .iter()
            .map(|a| {
                (
                    time(a.start_time.as_ref()),
                    a.title.clone(),
                    f.t.label(
                        ActivityState::try_from(a.state)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                )
            })
            .collect(),
        courtyard,
        f,
    };
    Ok(render(&view))
}
