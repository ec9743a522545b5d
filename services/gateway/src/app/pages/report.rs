//! Report a problem: the sub-item chosen by category (words and icons),
//! what and where, in one of the courtyards of the resident's community.
//! Before it is sent, the open reports of the same sub-item in the same
//! courtyard are shown ("same problem?"). The form carries a request id
//! made when it was shown, so a retry — a double tap, a reload, a flaky
//! line — returns the first issue and makes no second one.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::issues::{FindSimilarIssuesRequest, Issue, ReportIssueRequest};
use cogov_proto::organizations::ListCourtyardsRequest;
use serde::Deserialize;

use super::{IssueCard, Taxonomy, category_icon, me, state_class};
use crate::app::view::{Failure, Frame, id_of, render};
use crate::app::{Resident, Shared};

/// A category with its sub-items, for the form.
pub struct CategoryGroup {
    /// Its label.
    pub label: String,
    /// Its icon.
    pub icon: &'static str,
    /// `(subItems/…, label)`.
    pub sub_items: Vec<(String, String)>,
}

/// What the form holds, shown again after a refusal or on the "same
/// problem?" step.
#[derive(Deserialize, Default, Clone)]
pub struct ReportForm {
    #[serde(default)]
    sub_item: String,
    #[serde(default)]
    courtyard: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    address_text: String,
    #[serde(default)]
    request_id: String,
    /// `yes` once the resident saw the similar reports and still reports.
    #[serde(default)]
    confirmed: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "app/report.html")]
struct ReportPage {
    f: Frame,
    groups: Vec<CategoryGroup>,
    courtyards: Vec<(String, String)>,
    form: ReportForm,
    error: String,
}

#[derive(Template)]
#[template(path = "app/similar.html")]
struct SimilarPage {
    f: Frame,
    similar: Vec<IssueCard>,
    form: ReportForm,
}

async fn report_page(
    resident: &Resident,
    mut form: ReportForm,
    error: String,
) -> Result<Response, Failure> {
    let f = Frame::new(resident, "report");
    let calls = &resident.calls;
    let person = me(calls, resident.person).await?;
    let (taxonomy, courtyards) = tokio::try_join!(Taxonomy::load(calls), async {
        calls
            .organizations()
            .list_courtyards(ListCourtyardsRequest {
                page_size: 1000,
                filter: format!("community = \"{}\"", person.community),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().courtyards)
            .map_err(Failure::from)
    })?;
    if form.courtyard.is_empty() {
        form.courtyard = person.courtyard.clone();
    }
    if form.request_id.is_empty() {
        form.request_id = uuid::Uuid::new_v4().to_string();
    }
    let groups = taxonomy
        .categories
        .iter()
        .map(|(category, label)| CategoryGroup {
            label: label.clone(),
            icon: category_icon(category),
            sub_items: taxonomy
                .sub_items
                .iter()
                .filter(|(_, c, _)| c == category)
                .map(|(n, _, l)| (n.clone(), l.clone()))
                .collect(),
        })
        .filter(|g| !g.sub_items.is_empty())
        .collect();
    let mut courtyards: Vec<(String, String)> = courtyards
        .into_iter()
        .map(|c| (c.name, c.display_name))
        .collect();
    courtyards.sort_by(|a, b| a.1.cmp(&b.1));
    let status = if error.is_empty() {
        http::StatusCode::OK
    } else {
        http::StatusCode::BAD_REQUEST
    };
    let mut response = render(&ReportPage {
        f,
        groups,
        courtyards,
        form,
        error,
    });
    *response.status_mut() = status;
    Ok(response)
}

/// GET /app/report.
pub async fn form(State(_app): State<Shared>, resident: Resident) -> Result<Response, Failure> {
    report_page(&resident, ReportForm::default(), String::new()).await
}

/// POST /app/report: first the similar open reports, then the report.
pub async fn submit(
    State(_app): State<Shared>,
    resident: Resident,
    Form(form): Form<ReportForm>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    let t = crate::app::words::current();
    if form.sub_item.is_empty() {
        return report_page(&resident, form, t.get("report.choose_sub_item").to_owned()).await;
    }
    if form.confirmed != "yes" && !form.courtyard.is_empty() {
        let similar = resident
            .calls
            .issues()
            .find_similar_issues(FindSimilarIssuesRequest {
                courtyard: form.courtyard.clone(),
                sub_item: form.sub_item.clone(),
                location: None,
                max_results: 5,
            })
            .await
            .map(|r| r.into_inner().issues);
        match similar {
            Ok(similar) => {
                // Others' open reports: the resident's own are theirs to
                // follow already, and a retried submission finds its own
                // first attempt here, which must go on to ReportIssue and
                // its request id.
                let me = resident.person_name();
                let open: Vec<_> = similar
                    .iter()
                    .filter_map(|s| s.issue.as_ref())
                    .filter(|i| matches!(state_class(i.state), "new" | "moving"))
                    .filter(|i| i.reporter != me)
                    .collect();
                if !open.is_empty() {
                    let taxonomy = Taxonomy::load(&resident.calls).await?;
                    let f = Frame::new(&resident, "report");
                    let similar = open
                        .into_iter()
                        .map(|i| IssueCard::new(i, &taxonomy, f.t))
                        .collect();
                    return Ok(render(&SimilarPage { f, similar, form }));
                }
            }
            // A bad courtyard or sub-item: the report itself says what.
            Err(s) if s.code() == tonic::Code::InvalidArgument => {}
            Err(s) => return Err(s.into()),
        }
    }
    let reported = resident
        .calls
        .issues()
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: form.courtyard.clone(),
                sub_item: form.sub_item.clone(),
                title: form.title.trim().to_owned(),
                description: form.description.trim().to_owned(),
                address_text: form.address_text.trim().to_owned(),
                ..Default::default()
            }),
            request_id: form.request_id.clone(),
        })
        .await;
    match reported {
        Ok(issue) => {
            let id = id_of(&issue.get_ref().name).to_owned();
            Ok(Redirect::to(&format!("/app/issues/{id}?reported=1")).into_response())
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let failure = Failure::from(status);
            let error = format!("{} {}", t.get("error.invalid"), failure.detail());
            report_page(&resident, form, error).await
        }
        Err(status) => Err(status.into()),
    }
}
