//! My reports, and one issue followed to its end: its timeline as the
//! public sees it, the replies, and the resident's own steps — a comment,
//! confirming the fix with 1 to 5 stars, or reopening it. Each step is the
//! issues service's RPC with the etag the page showed, so a page that went
//! stale cannot confirm what changed since.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::issues::*;
use cogov_proto::organizations::GetOrganizationRequest;
use http::StatusCode;
use serde::Deserialize;

use super::{IssueCard, Taxonomy, path_id, state_class, state_label};
use crate::app::view::{Failure, Frame, render, stars, time, url_encode};
use crate::app::{Resident, Shared};
use crate::console::i18n::Catalog;
use crate::media::links::links_of;

#[derive(Template)]
#[template(path = "app/reports.html")]
struct ReportsPage {
    f: Frame,
    issues: Vec<IssueCard>,
    /// Others' reports the resident follows.
    following: Vec<IssueCard>,
    next_page: String,
}

/// Paging through a list.
#[derive(Deserialize, Default)]
pub struct Paging {
    /// The page token.
    #[serde(default)]
    pub page: String,
}

/// GET /app/reports: the resident's reports, newest first.
pub async fn list(
    State(_app): State<Shared>,
    resident: Resident,
    Query(paging): Query<Paging>,
) -> Result<Response, Failure> {
    let f = Frame::new(&resident, "reports");
    let calls = &resident.calls;
    let (taxonomy, page, following) = tokio::try_join!(
        Taxonomy::load(calls),
        async {
            calls
                .issues()
                .list_issues(ListIssuesRequest {
                    page_size: 20,
                    page_token: paging.page.clone(),
                    filter: format!("reporter = \"{}\"", resident.person_name()),
                    order_by: String::new(),
                })
                .await
                .map(|r| r.into_inner())
                .map_err(Failure::from)
        },
        async {
            // The latest followed, on the first page only.
            if !paging.page.is_empty() {
                return Ok(Vec::new());
            }
            calls
                .issues()
                .list_issues(ListIssuesRequest {
                    page_size: 20,
                    filter: "followed = true".into(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().issues)
                .map_err(Failure::from)
        }
    )?;
    let next_page = if page.next_page_token.is_empty() {
        String::new()
    } else {
        format!("/app/reports?page={}", url_encode(&page.next_page_token))
    };
    let view = ReportsPage {
        issues: page
            .issues
            .iter()
            .map(|i| IssueCard::new(i, &taxonomy, f.t))
            .collect(),
        following: following
            .iter()
            .map(|i| IssueCard::new(i, &taxonomy, f.t))
            .collect(),
        next_page,
        f,
    };
    Ok(render(&view))
}

/// One entry of the timeline.
pub struct Entry {
    /// When.
    pub time: String,
    /// What happened, in words.
    pub what: String,
    /// Who, in words (never another resident's name).
    pub who: String,
    /// The text that came with it.
    pub text: String,
}

#[derive(Template)]
#[template(path = "app/issue.html")]
struct IssuePage {
    f: Frame,
    id: String,
    etag: String,
    title: String,
    sub_item: String,
    state: String,
    state_class: &'static str,
    description: String,
    address_text: String,
    /// Where the phone placed it, in degrees (empty when not placed).
    position: String,
    reported: String,
    resolve_by: String,
    assignee: String,
    resolution: String,
    confirmation: Option<(String, String)>,
    mine: bool,
    /// Whether the resident follows it (someone else's report).
    followed: bool,
    /// Just followed: say so.
    just_followed: bool,
    can_confirm: bool,
    can_reopen: bool,
    just_reported: bool,
    timeline: Vec<Entry>,
    /// (thumbnail, photo) links of the report's photos.
    photos: Vec<(String, String)>,
    /// … and of the resolution's.
    after_photos: Vec<(String, String)>,
}

/// How the page came to be asked for.
#[derive(Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    reported: String,
    /// `?followed=1` after following from the "same problem?" step.
    #[serde(default)]
    followed: String,
}

/// Organisations' display names (assignees and timeline parties).
async fn organization_names(resident: &Resident, names: Vec<String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for name in names {
        if name.is_empty() || out.contains_key(&name) {
            continue;
        }
        let got = resident
            .calls
            .organizations()
            .get_organization(GetOrganizationRequest { name: name.clone() })
            .await;
        if let Ok(o) = got {
            out.insert(name, o.into_inner().display_name);
        }
    }
    out
}

/// Who made a timeline entry, as the issues service names them to a
/// resident: `resident:persons/{me}` (or staff `… for resident:persons/{me}`
/// at the service station), `resident` for anyone else living there,
/// `partner:organizations/{id}`, or a staff member.
fn who(t: &Catalog, resident: &Resident, author: &str, orgs: &HashMap<String, String>) -> String {
    if author.ends_with(&format!("resident:{}", resident.person_name())) {
        t.get("issue.by_you").to_owned()
    } else if author.starts_with("resident") {
        t.get("issue.by_resident").to_owned()
    } else if let Some(org) = author.strip_prefix("partner:") {
        orgs.get(org)
            .cloned()
            .unwrap_or_else(|| t.get("issue.by_organization").to_owned())
    } else {
        t.get("issue.by_staff").to_owned()
    }
}

fn what(t: &Catalog, u: &IssueUpdate) -> String {
    match IssueUpdateKind::try_from(u.kind).unwrap_or_default() {
        IssueUpdateKind::Transition => t.fmt("timeline.transition", &[&state_label(t, u.to_state)]),
        IssueUpdateKind::Assignment => t.get("timeline.assignment").to_owned(),
        IssueUpdateKind::CheckIn => t.get("timeline.check_in").to_owned(),
        IssueUpdateKind::Comment => t.get("timeline.comment").to_owned(),
        _ => t.get("timeline.edit").to_owned(),
    }
}

/// GET /app/issues/{id}.
pub async fn page(
    State(app): State<Shared>,
    resident: Resident,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, Failure> {
    let id = path_id(&id)?;
    let f = Frame::new(&resident, "reports");
    let t = f.t;
    let name = cogov_kit::names::format("issues", id);
    let calls = &resident.calls;
    let (taxonomy, issue, updates) = tokio::try_join!(
        Taxonomy::load(calls),
        async {
            calls
                .issues()
                .get_issue(GetIssueRequest { name: name.clone() })
                .await
                .map(|r| r.into_inner())
                .map_err(Failure::from)
        },
        async {
            crate::paging::every_page(500, |page_token| {
                let mut c = calls.issues();
                let parent = name.clone();
                async move {
                    let r = c
                        .list_issue_updates(ListIssueUpdatesRequest {
                            parent,
                            page_size: 100,
                            page_token,
                        })
                        .await?
                        .into_inner();
                    Ok((r.updates, r.next_page_token))
                }
            })
            .await
            .map_err(Failure::from)
        },
    )?;
    let parties: Vec<String> = std::iter::once(issue.assignee.clone())
        .chain(
            updates
                .iter()
                .filter_map(|u| u.author.strip_prefix("partner:").map(str::to_owned)),
        )
        .chain(updates.iter().map(|u| u.organization.clone()))
        .filter(|n| n.starts_with("organizations/"))
        .collect();
    let orgs = organization_names(&resident, parties).await;
    let photos = links_of(&app.gw, &issue.media).await;
    let after_photos = match &issue.resolution {
        Some(r) => links_of(&app.gw, &r.media).await,
        None => Vec::new(),
    };
    let mine = issue.reporter == resident.person_name();
    let state = IssueState::try_from(issue.state).unwrap_or_default();
    let sub_item = taxonomy.label(&issue.sub_item);
    let view = IssuePage {
        id: id.to_string(),
        etag: issue.etag.clone(),
        title: if issue.title.is_empty() {
            sub_item.clone()
        } else {
            issue.title.clone()
        },
        sub_item,
        state: state_label(t, issue.state),
        state_class: state_class(issue.state),
        description: issue.description.clone(),
        address_text: issue.address_text.clone(),
        position: issue
            .location
            .as_ref()
            .map(|p| format!("{:.5}, {:.5}", p.latitude, p.longitude))
            .unwrap_or_default(),
        reported: time(issue.create_time.as_ref()),
        resolve_by: time(issue.resolve_by.as_ref()),
        assignee: orgs.get(&issue.assignee).cloned().unwrap_or_default(),
        resolution: issue
            .resolution
            .as_ref()
            .map(|r| r.note.clone())
            .unwrap_or_default(),
        confirmation: issue
            .confirmation
            .as_ref()
            .map(|c| (stars(c.satisfaction), c.comment.clone())),
        mine,
        followed: issue.followed,
        just_followed: shown.followed == "1",
        can_confirm: mine && state == IssueState::Resolved,
        can_reopen: mine && matches!(state, IssueState::Resolved | IssueState::Closed),
        just_reported: shown.reported == "1",
        photos,
        after_photos,
        timeline: updates
            .iter()
            .filter(|u| !u.internal)
            .map(|u| Entry {
                time: time(u.create_time.as_ref()),
                what: match orgs.get(&u.organization) {
                    Some(org) if u.kind == IssueUpdateKind::Assignment as i32 => {
                        t.fmt("timeline.assigned_to", &[org])
                    }
                    _ => what(t, u),
                },
                who: who(t, &resident, &u.author, &orgs),
                text: u.text.clone(),
            })
            .collect(),
        f,
    };
    Ok(render(&view))
}

/// A resident's step on an issue.
#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    etag: String,
    #[serde(default)]
    satisfaction: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    request_id: String,
}

/// POST /app/issues/{id}/{confirm|reopen|comment|follow|unfollow}.
pub async fn act(
    State(_app): State<Shared>,
    resident: Resident,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActForm>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    let name = cogov_kit::names::format("issues", id);
    let back = format!("/app/issues/{id}");
    let mut issues = resident.calls.issues();
    let done = match action.as_str() {
        "confirm" => {
            let satisfaction = form.satisfaction.parse().unwrap_or(0);
            issues
                .confirm_issue(ConfirmIssueRequest {
                    name,
                    etag: form.etag,
                    satisfaction,
                    comment: form.text.trim().to_owned(),
                    confirmer: resident.person_name(),
                })
                .await
                .map(|_| ())
        }
        "reopen" => issues
            .reopen_issue(ReopenIssueRequest {
                name,
                etag: form.etag,
                reason: form.text.trim().to_owned(),
            })
            .await
            .map(|_| ()),
        "comment" => issues
            .create_issue_comment(CreateIssueCommentRequest {
                parent: name,
                text: form.text.trim().to_owned(),
                request_id: form.request_id,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        "follow" => {
            issues
                .follow_issue(FollowIssueRequest { name })
                .await
                .map_err(|s| Failure::from(s).back_to(back.clone()))?;
            return Ok(Redirect::to(&format!("{back}?followed=1")).into_response());
        }
        "unfollow" => issues
            .unfollow_issue(UnfollowIssueRequest { name })
            .await
            .map(|_| ()),
        _ => return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    };
    done.map_err(|s| Failure::from(s).back_to(back.clone()))?;
    Ok(Redirect::to(&back).into_response())
}
