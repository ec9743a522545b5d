//! My courtyard, the noticeboard: where the resident lives and whether it
//! meets the two-nos goal, the problems open there (the public view), the
//! coming activities, and what the community's council has on its table.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use cogov_proto::deliberation::{
    ListCouncilsRequest, ListResolutionsRequest, ListTopicsRequest, Resolution, ResolutionState,
    TopicState,
};
use cogov_proto::issues::{GetCourtyardTwoNosRequest, IssueState, ListIssuesRequest};
use cogov_proto::organizations::{GetCourtyardRequest, PersonVerification};
use cogov_proto::volunteers::{ActivityState, ListActivitiesRequest};

use super::{IssueCard, Taxonomy, me};
use crate::app::view::{Failure, Frame, id_of, render, time};
use crate::app::{Resident, Shared};

/// A two-nos item: its label and whether it is met.
pub struct TwoNosLine {
    /// The sub-item.
    pub label: String,
    /// Open issues of it in the courtyard.
    pub open: i32,
    /// Met.
    pub met: bool,
}

/// An activity on the noticeboard.
pub struct ActivityLine {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When it starts.
    pub start: String,
}

/// A council topic on the noticeboard.
pub struct TopicLine {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Where it stands, in words.
    pub state: String,
}

/// A council's resolution on the noticeboard: what was decided and how
/// far its action items have got.
pub struct ResolutionLine {
    /// What was decided.
    pub statement: String,
    /// Where it stands, in words.
    pub state: String,
    /// Its action items' progress, 0 to 100.
    pub progress: i32,
}

#[derive(Template)]
#[template(path = "app/home.html")]
struct Home {
    f: Frame,
    display_name: String,
    courtyard: String,
    pending: bool,
    two_nos: Option<(bool, Vec<TwoNosLine>)>,
    issues: Vec<IssueCard>,
    activities: Vec<ActivityLine>,
    topics: Vec<TopicLine>,
    resolutions: Vec<ResolutionLine>,
}

/// The latest resolutions of the councils of `community`.
async fn resolutions(
    calls: &crate::calls::Calls,
    community: &str,
) -> Result<Vec<Resolution>, Failure> {
    let councils = calls
        .deliberation()
        .list_councils(ListCouncilsRequest {
            page_size: 20,
            filter: format!("community = \"{community}\""),
            ..Default::default()
        })
        .await?
        .into_inner()
        .councils;
    if councils.is_empty() {
        return Ok(Vec::new());
    }
    let any: Vec<String> = councils
        .iter()
        .map(|c| format!("council = \"{}\"", c.name))
        .collect();
    Ok(calls
        .deliberation()
        .list_resolutions(ListResolutionsRequest {
            page_size: 5,
            filter: any.join(" OR "),
            ..Default::default()
        })
        .await?
        .into_inner()
        .resolutions)
}

/// The states of a problem still being worked on.
const OPEN_STATES: [IssueState; 6] = [
    IssueState::Reported,
    IssueState::Acknowledged,
    IssueState::Dispatched,
    IssueState::Returned,
    IssueState::InProgress,
    IssueState::Reopened,
];

/// `state = A OR state = B …` for a filter.
pub fn any_state<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let terms: Vec<String> = names.into_iter().map(|n| format!("state = {n}")).collect();
    format!("({})", terms.join(" OR "))
}

/// GET /app/.
pub async fn page(State(_app): State<Shared>, resident: Resident) -> Result<Response, Failure> {
    let f = Frame::new(&resident, "home");
    let calls = &resident.calls;
    let person = me(calls, resident.person).await?;
    let pending = person.verification == PersonVerification::Unverified as i32;
    let open = any_state(OPEN_STATES.iter().map(|s| s.as_str_name()));
    let live_topics = any_state(
        [
            TopicState::Proposed,
            TopicState::OnAgenda,
            TopicState::InDiscussion,
            TopicState::Voting,
            TopicState::Implementing,
        ]
        .iter()
        .map(|s| s.as_str_name()),
    );
    let has_courtyard = !person.courtyard.is_empty();
    let (taxonomy, courtyard, two_nos, issues, activities, topics, resolutions) = tokio::try_join!(
        Taxonomy::load(calls),
        async {
            if !has_courtyard {
                return Ok(None);
            }
            calls
                .organizations()
                .get_courtyard(GetCourtyardRequest {
                    name: person.courtyard.clone(),
                })
                .await
                .map(|r| Some(r.into_inner()))
                .map_err(Failure::from)
        },
        async {
            if !has_courtyard {
                return Ok(None);
            }
            calls
                .issues()
                .get_courtyard_two_nos(GetCourtyardTwoNosRequest {
                    courtyard: person.courtyard.clone(),
                })
                .await
                .map(|r| Some(r.into_inner()))
                .map_err(Failure::from)
        },
        async {
            if !has_courtyard {
                return Ok(Vec::new());
            }
            calls
                .issues()
                .list_issues(ListIssuesRequest {
                    page_size: 20,
                    filter: format!("courtyard = \"{}\" AND {open}", person.courtyard),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().issues)
                .map_err(Failure::from)
        },
        async {
            calls
                .volunteers()
                .list_activities(ListActivitiesRequest {
                    // Activities are open to the whole street.
                    page_size: 3,
                    filter: format!("state = {}", ActivityState::Published.as_str_name()),
                    order_by: "start_time".into(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().activities)
                .map_err(Failure::from)
        },
        async {
            calls
                .deliberation()
                .list_topics(ListTopicsRequest {
                    page_size: 5,
                    filter: format!("community = \"{}\" AND {live_topics}", person.community),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().topics)
                .map_err(Failure::from)
        },
        resolutions(calls, &person.community),
    )?;
    let t = f.t;
    let view = Home {
        display_name: person.display_name.clone(),
        courtyard: courtyard.map(|c| c.display_name).unwrap_or_default(),
        pending,
        two_nos: two_nos.map(|s| {
            (
                s.met,
                s.items
                    .iter()
                    .map(|i| TwoNosLine {
                        label: taxonomy.label(&i.sub_item),
                        open: i.open_issue_count,
                        met: i.met,
                    })
                    .collect(),
            )
        }),
        issues: issues
            .iter()
            .map(|i| IssueCard::new(i, &taxonomy, t))
            .collect(),
        activities: activities
            .iter()
            .map(|a| ActivityLine {
                id: id_of(&a.name).to_owned(),
                title: a.title.clone(),
                start: time(a.start_time.as_ref()),
            })
            .collect(),
        topics: topics
            .iter()
            .map(|topic| TopicLine {
                id: id_of(&topic.name).to_owned(),
                title: topic.title.clone(),
                state: t.label(
                    TopicState::try_from(topic.state)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
            })
            .collect(),
        resolutions: resolutions
            .iter()
            .map(|r| ResolutionLine {
                statement: r.statement.clone(),
                state: t.label(
                    ResolutionState::try_from(r.state)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
                progress: r.progress.clamp(0, 100),
            })
            .collect(),
        f,
    };
    Ok(render(&view))
}
