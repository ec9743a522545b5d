//! The issue queue (filters by state, community, overdue), the issue page
//! with its timeline, and the staff's actions on it: acknowledge, dispatch,
//! joint dispatch (吹哨报到), handling a return (dispatch again or reject),
//! confirm, reopen, reject. Each action is the issues service's RPC, with
//! the etag the page was rendered from, so two people acting on one issue
//! cannot both win.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::issues::*;
use http::StatusCode;
use serde::Deserialize;

use super::{Names, path_id};
use crate::console::i18n::Catalog;
use crate::console::view::{Failure, Frame, id_of, render, time, url_encode};
use crate::console::{Shared, Staff};

/// One issue in a list.
pub struct IssueRow {
    /// Its id (for its link).
    pub id: String,
    /// Its title, or its sub-item.
    pub title: String,
    /// Where.
    pub courtyard: String,
    /// Its state, in words.
    pub state: String,
    /// Who has it.
    pub assignee: String,
    /// When it was reported.
    pub reported: String,
    /// Its resolution deadline.
    pub due: String,
    /// Past a deadline.
    pub overdue: bool,
}

impl IssueRow {
    /// The row for `issue`.
    pub fn new(issue: &Issue, names: &Names, t: &Catalog) -> IssueRow {
        IssueRow {
            id: id_of(&issue.name).to_owned(),
            title: if issue.title.is_empty() {
                names.of(&issue.sub_item)
            } else {
                issue.title.clone()
            },
            courtyard: names.of(&issue.courtyard),
            state: state_label(t, issue.state),
            assignee: if issue.assignee.is_empty() {
                String::new()
            } else {
                names.of(&issue.assignee)
            },
            reported: time(issue.create_time.as_ref()),
            due: time(issue.resolve_by.as_ref()),
            overdue: issue.overdue,
        }
    }
}

fn state_label(t: &Catalog, state: i32) -> String {
    t.label(
        IssueState::try_from(state)
            .unwrap_or_default()
            .as_str_name(),
    )
}

#[derive(Template)]
#[template(path = "console/issues.html")]
struct Queue {
    f: Frame,
    issues: Vec<IssueRow>,
    states: Vec<(String, String)>,
    communities: Vec<(String, String)>,
    sub_items: Vec<(String, String)>,
    filter: QueueFilter,
    next_page: String,
    /// `filter=…` for the export links: the queue's own filter.
    export_query: String,
}

/// The queue's filters (none carries personal data).
#[derive(Deserialize, Default, Clone)]
pub struct QueueFilter {
    #[serde(default)]
    state: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    sub_item: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    page: String,
}

const QUEUE_STATES: [IssueState; 10] = [
    IssueState::Reported,
    IssueState::Acknowledged,
    IssueState::Dispatched,
    IssueState::Returned,
    IssueState::InProgress,
    IssueState::Resolved,
    IssueState::Closed,
    IssueState::Reopened,
    IssueState::Rejected,
    IssueState::Duplicate,
];

/// GET /console/issues.
pub async fn queue(
    State(_c): State<Shared>,
    staff: Staff,
    Query(filter): Query<QueueFilter>,
) -> Result<Response, Failure> {
    let f = Frame::new(&staff, "issues");
    let mut terms = Vec::new();
    if let Some(state) = IssueState::from_str_name(&filter.state) {
        terms.push(format!("state = {}", state.as_str_name()));
    }
    if !filter.community.is_empty() {
        terms.push(format!(
            "community = \"communities/{}\"",
            path_id(&filter.community)?
        ));
    }
    if !filter.sub_item.is_empty() {
        let id = &filter.sub_item;
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(Failure::new(StatusCode::BAD_REQUEST, "error.invalid"));
        }
        terms.push(format!("sub_item = \"subItems/{id}\""));
    }
    if filter.overdue == "true" {
        terms.push("overdue = true".to_owned());
    }
    let export_query = form_urlencoded_pairs(&[("filter", &terms.join(" AND "))]);
    let (names, page) = tokio::try_join!(Names::load(&staff.calls), async {
        staff
            .calls
            .issues()
            .list_issues(ListIssuesRequest {
                page_size: 50,
                page_token: filter.page.clone(),
                filter: terms.join(" AND "),
                order_by: String::new(),
            })
            .await
            .map(|r| r.into_inner())
    })?;
    let next_page = if page.next_page_token.is_empty() {
        String::new()
    } else {
        let mut q = form_urlencoded_pairs(&[
            ("state", &filter.state),
            ("community", &filter.community),
            ("sub_item", &filter.sub_item),
            ("overdue", &filter.overdue),
            ("page", &page.next_page_token),
        ]);
        q.insert_str(0, "/console/issues?");
        q
    };
    let view = Queue {
        issues: page
            .issues
            .iter()
            .map(|i| IssueRow::new(i, &names, f.t))
            .collect(),
        states: QUEUE_STATES
            .iter()
            .map(|s| (s.as_str_name().to_owned(), f.t.label(s.as_str_name())))
            .collect(),
        communities: names.collection("communities"),
        sub_items: names.collection("subItems"),
        filter,
        next_page,
        export_query,
        f,
    };
    Ok(render(&view))
}

/// `k=v&…` of the non-empty pairs.
pub(super) fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Template)]
#[template(path = "console/issue.html")]
struct IssuePage {
    f: Frame,
    id: String,
    etag: String,
    title: String,
    description: String,
    courtyard_id: String,
    courtyard: String,
    community: String,
    sub_item: String,
    state: String,
    assignee: String,
    parties: Vec<(String, String)>,
    reported: String,
    respond_by: String,
    resolve_by: String,
    overdue: bool,
    returns: i32,
    reopens: i32,
    timeline: Vec<TimelineRow>,
    actions: Vec<&'static str>,
    organizations: Vec<(String, String)>,
    reject_reasons: Vec<(String, String)>,
    /// (thumbnail, photo) links of the report's and the resolution's
    /// photos.
    photos: Vec<(String, String)>,
}

struct TimelineRow {
    when: String,
    what: String,
    who: String,
    reason: String,
    text: String,
}

impl IssuePage {
    /// Whether the page offers `action`.
    fn can(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }
}

/// The actions staff may take in a state (the service decides in the end).
fn actions_in(state: IssueState) -> Vec<&'static str> {
    use IssueState as S;
    let mut out = match state {
        S::Reported => vec!["acknowledge"],
        S::Acknowledged | S::Returned | S::Reopened => vec!["dispatch", "joint-dispatch"],
        S::Resolved => vec!["confirm", "reopen"],
        S::Closed => vec!["reopen"],
        _ => vec![],
    };
    if !matches!(
        state,
        S::Resolved | S::Closed | S::Rejected | S::Duplicate | S::Unspecified
    ) {
        out.push("reject");
    }
    out
}

/// GET /console/issues/{id}.
pub async fn page(
    State(c): State<Shared>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id = path_id(&id)?;
    let name = format!("issues/{id}");
    let f = Frame::new(&staff, "issues");
    let calls = &staff.calls;
    let (names, issue, updates) = tokio::try_join!(
        Names::load(calls),
        async {
            calls
                .issues()
                .get_issue(GetIssueRequest { name: name.clone() })
                .await
                .map(|r| r.into_inner())
        },
        async {
            calls
                .issues()
                .list_issue_updates(ListIssueUpdatesRequest {
                    parent: name.clone(),
                    page_size: 200,
                    page_token: String::new(),
                })
                .await
                .map(|r| r.into_inner().updates)
        },
    )?;
    let state = IssueState::try_from(issue.state).unwrap_or_default();
    let community = issue.community.clone();
    let mut photos = crate::media::links::links_of(&c.gw, &issue.media).await;
    if let Some(r) = &issue.resolution {
        photos.extend(crate::media::links::links_of(&c.gw, &r.media).await);
    }
    let organizations = names
        .collection("organizations")
        .into_iter()
        .collect::<Vec<_>>();
    let view = IssuePage {
        id: id.to_string(),
        etag: issue.etag.clone(),
        title: if issue.title.is_empty() {
            names.of(&issue.sub_item)
        } else {
            issue.title.clone()
        },
        description: issue.description.clone(),
        courtyard_id: id_of(&issue.courtyard).to_owned(),
        courtyard: names.of(&issue.courtyard),
        community: names.of(&community),
        sub_item: names.of(&issue.sub_item),
        state: state_label(f.t, issue.state),
        assignee: if issue.assignee.is_empty() {
            String::new()
        } else {
            names.of(&issue.assignee)
        },
        parties: issue
            .joint_parties
            .iter()
            .map(|p| {
                (
                    names.of(&p.organization),
                    f.t.label(
                        PartyState::try_from(p.state)
                            .unwrap_or_default()
                            .as_str_name(),
                    ),
                )
            })
            .collect(),
        reported: time(issue.create_time.as_ref()),
        respond_by: time(issue.respond_by.as_ref()),
        resolve_by: time(issue.resolve_by.as_ref()),
        overdue: issue.overdue,
        returns: issue.return_count,
        reopens: issue.reopen_count,
        timeline: updates
            .iter()
            .map(|u| TimelineRow {
                when: time(u.create_time.as_ref()),
                what: if u.to_state != 0 {
                    state_label(f.t, u.to_state)
                } else {
                    f.t.label(
                        IssueUpdateKind::try_from(u.kind)
                            .unwrap_or_default()
                            .as_str_name(),
                    )
                },
                who: if u.organization.is_empty() {
                    u.author.clone()
                } else {
                    names.of(&u.organization)
                },
                reason: if u.reason_code.is_empty() {
                    String::new()
                } else {
                    f.t.label(&u.reason_code)
                },
                text: u.text.clone(),
            })
            .collect(),
        actions: actions_in(state),
        organizations,
        reject_reasons: [
            RejectReason::NotResponsible,
            RejectReason::Unreasonable,
            RejectReason::InsufficientInformation,
            RejectReason::OutOfArea,
            RejectReason::OtherProcedure,
            RejectReason::Spam,
        ]
        .iter()
        .map(|r| (r.as_str_name().to_owned(), f.t.label(r.as_str_name())))
        .collect(),
        photos,
        f,
    };
    Ok(render(&view))
}

/// An action's form: the token, the etag the page showed, and the fields
/// the actions take (`parties` repeats).
pub type ActionForm = Vec<(String, String)>;

fn field<'a>(form: &'a ActionForm, key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// POST /console/issues/{id}/{action}: runs the action and shows the issue
/// again, or says why not.
pub async fn act(
    State(_c): State<Shared>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, Failure> {
    staff.check_form(field(&form, "csrf"))?;
    let id = path_id(&id)?;
    let name = format!("issues/{id}");
    let back = format!("/console/issues/{id}");
    let etag = field(&form, "etag").to_owned();
    let note = field(&form, "note").to_owned();
    let mut issues = staff.calls.issues();
    let outcome = match action.as_str() {
        "acknowledge" => issues
            .acknowledge_issue(AcknowledgeIssueRequest { name, etag, note })
            .await
            .map(drop),
        "dispatch" => issues
            .dispatch_issue(DispatchIssueRequest {
                name,
                etag,
                assignee: field(&form, "assignee").to_owned(),
                note,
            })
            .await
            .map(drop),
        "joint-dispatch" => {
            let hours: i64 = field(&form, "check_in_hours")
                .parse()
                .unwrap_or(24)
                .clamp(1, 720);
            let by =
                std::time::SystemTime::now() + std::time::Duration::from_secs(hours as u64 * 3600);
            issues
                .joint_dispatch_issue(JointDispatchIssueRequest {
                    name,
                    etag,
                    lead: field(&form, "lead").to_owned(),
                    parties: form
                        .iter()
                        .filter(|(k, v)| k == "parties" && !v.is_empty())
                        .map(|(_, v)| PartySummons {
                            organization: v.clone(),
                            check_in_by: Some(by.into()),
                        })
                        .collect(),
                    note,
                })
                .await
                .map(drop)
        }
        "confirm" => issues
            .confirm_issue(ConfirmIssueRequest {
                name,
                etag,
                satisfaction: field(&form, "satisfaction").parse().unwrap_or(0),
                comment: note,
                confirmer: String::new(),
            })
            .await
            .map(drop),
        "reopen" => issues
            .reopen_issue(ReopenIssueRequest {
                name,
                etag,
                reason: note,
            })
            .await
            .map(drop),
        "reject" => issues
            .reject_issue(RejectIssueRequest {
                name,
                etag,
                reason: RejectReason::from_str_name(field(&form, "reason")).map_or(0, |r| r as i32),
                note,
            })
            .await
            .map(drop),
        _ => return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(status) => Err(Failure::from(status).back_to(back)),
    }
}
