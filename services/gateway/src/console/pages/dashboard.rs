//! The dashboard: the last 30 days' rates per community as bar charts,
//! overdue issues, the courtyards' two-nos status (filterable), open
//! topics with each council's implementation rate, and volunteer hours
//! over the same 30 days (a calendar month would show next to nothing in
//! its first days).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cogov_proto::common::Interval;
use cogov_proto::deliberation::{
    GetCouncilStatisticsRequest, ListCouncilsRequest, ListTopicsRequest, TopicState,
};
use cogov_proto::issues::{
    ComputeIssueStatisticsRequest, ListCourtyardTwoNosRequest, ListIssuesRequest, StatisticsGroup,
    StatisticsRow,
};
use cogov_proto::volunteers::{ComputeVolunteerHoursRequest, HoursGroup};
use futures_util::future::try_join_all;
use serde::Deserialize;

use super::issues::IssueRow;
use super::{Names, all, path_id};
use crate::console::view::{Bar, BarChart, Failure, Frame, id_of, percent, render};
use crate::console::{Shared, Staff};

/// The statistics window, in days.
const WINDOW_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    f: Frame,
    /// `filter=…` for the two-nos export link: the table's own filter.
    two_nos_export: String,
    charts: Vec<(String, String)>,
    overdue_total: i64,
    overdue: Vec<IssueRow>,
    communities: Vec<(String, String)>,
    filter_community: String,
    filter_met: String,
    two_nos: Vec<TwoNosRow>,
    two_nos_caption: String,
    topics: Vec<TopicRow>,
    councils: Vec<CouncilRow>,
    hours_total: String,
    hours: Vec<(String, String)>,
}

struct TwoNosRow {
    courtyard_id: String,
    courtyard: String,
    community: String,
    met: bool,
    open_issues: i32,
}

struct TopicRow {
    title: String,
    council: String,
    state: String,
    support: String,
}

struct CouncilRow {
    council: String,
    rate: String,
    done: String,
}

/// The two-nos table's filters.
#[derive(Deserialize, Default)]
pub struct TwoNosFilter {
    #[serde(default)]
    community: String,
    #[serde(default)]
    met: String,
}

/// One rate per community as a titled bar chart.
fn chart(
    f: &Frame,
    key: &str,
    rows: &[StatisticsRow],
    names: &Names,
    rate: fn(&StatisticsRow) -> f64,
) -> (String, String) {
    let title = f.t.get(key).to_owned();
    let svg = BarChart {
        title: title.clone(),
        bars: rows
            .iter()
            .map(|r| Bar {
                label: names.of(&r.key),
                share: rate(r),
                figure: percent(rate(r)),
            })
            .collect(),
    }
    .svg();
    (title, svg)
}

/// GET /console/dashboard.
pub async fn page(
    State(_c): State<Shared>,
    staff: Staff,
    Query(filter): Query<TwoNosFilter>,
) -> Result<Response, Failure> {
    let f = Frame::new(&staff, "dashboard");
    let calls = &staff.calls;
    let mut two_nos_filter = Vec::new();
    if !filter.community.is_empty() {
        two_nos_filter.push(format!(
            "community = \"communities/{}\"",
            path_id(&filter.community)?
        ));
    }
    match filter.met.as_str() {
        "true" | "false" => two_nos_filter.push(format!("met = {}", filter.met)),
        _ => {}
    }
    let now = std::time::SystemTime::now();
    let since = now - std::time::Duration::from_secs(WINDOW_DAYS as u64 * 86_400);
    let (names, stats, overdue, two_nos, topics, councils, hours) = tokio::try_join!(
        Names::load(calls),
        async {
            calls
                .issues()
                .compute_issue_statistics(ComputeIssueStatisticsRequest {
                    group_by: StatisticsGroup::Community as i32,
                    interval: Some(Interval {
                        start_time: Some(since.into()),
                        end_time: Some(now.into()),
                    }),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().rows)
        },
        async {
            calls
                .issues()
                .list_issues(ListIssuesRequest {
                    page_size: 10,
                    filter: format!(
                        "overdue = true AND create_time >= \"{}\"",
                        chrono::DateTime::<chrono::Utc>::from(since).to_rfc3339()
                    ),
                    order_by: "resolve_by".into(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().issues)
        },
        all(1000, |page_token| {
            let mut c = calls.issues();
            let filter = two_nos_filter.join(" AND ");
            async move {
                let r = c
                    .list_courtyard_two_nos(ListCourtyardTwoNosRequest {
                        page_size: 200,
                        page_token,
                        filter,
                    })
                    .await?
                    .into_inner();
                Ok((r.statuses, r.next_page_token))
            }
        }),
        all(500, |page_token| {
            let mut c = calls.deliberation();
            async move {
                let r = c
                    .list_topics(ListTopicsRequest {
                        page_size: 200,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((r.topics, r.next_page_token))
            }
        }),
        all(200, |page_token| {
            let mut c = calls.deliberation();
            async move {
                let r = c
                    .list_councils(ListCouncilsRequest {
                        page_size: 200,
                        page_token,
                        filter: String::new(),
                    })
                    .await?
                    .into_inner();
                Ok((r.councils, r.next_page_token))
            }
        }),
        async {
            calls
                .volunteers()
                .compute_volunteer_hours(ComputeVolunteerHoursRequest {
                    group_by: HoursGroup::Community as i32,
                    interval: Some(Interval {
                        start_time: Some(since.into()),
                        end_time: Some(now.into()),
                    }),
                    max_results: 100,
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().rows)
        },
    )?;
    let council_stats = try_join_all(councils.iter().map(|council| {
        let mut c = calls.deliberation();
        let name = council.name.clone();
        async move {
            c.get_council_statistics(GetCouncilStatisticsRequest { name })
                .await
                .map(|r| r.into_inner())
        }
    }))
    .await?;

    let mut stats = stats;
    stats.sort_by_key(|r| names.of(&r.key));
    let charts = vec![
        chart(&f, "dashboard.response_rate", &stats, &names, |r| {
            r.response_rate
        }),
        chart(&f, "dashboard.resolution_rate", &stats, &names, |r| {
            r.resolution_rate
        }),
        chart(&f, "dashboard.satisfaction_rate", &stats, &names, |r| {
            r.satisfaction_rate
        }),
        chart(&f, "dashboard.return_rate", &stats, &names, |r| {
            r.return_rate
        }),
        chart(&f, "dashboard.reopen_rate", &stats, &names, |r| {
            r.reopen_rate
        }),
    ];
    let council_names: std::collections::HashMap<String, String> = councils
        .iter()
        .map(|c| (c.name.clone(), c.display_name.clone()))
        .collect();
    let open = |s: i32| {
        !matches!(
            TopicState::try_from(s).unwrap_or_default(),
            TopicState::Completed | TopicState::Rejected | TopicState::Withdrawn
        )
    };
    let mut two_nos: Vec<TwoNosRow> = two_nos
        .into_iter()
        .map(|s| TwoNosRow {
            courtyard_id: id_of(&s.courtyard).to_owned(),
            courtyard: names.of(&s.courtyard),
            community: names.of(&s.community),
            met: s.met,
            open_issues: s.items.iter().map(|i| i.open_issue_count).sum(),
        })
        .collect();
    two_nos.sort_by(|a, b| (&a.community, &a.courtyard).cmp(&(&b.community, &b.courtyard)));
    let total_minutes: i64 = hours.iter().map(|h| h.minutes).sum();
    let page = Dashboard {
        two_nos_export: super::issues::form_urlencoded_pairs(&[(
            "filter",
            &two_nos_filter.join(" AND "),
        )]),
        charts,
        overdue_total: stats.iter().map(|r| r.overdue).sum(),
        overdue: overdue
            .iter()
            .map(|i| IssueRow::new(i, &names, f.t))
            .collect(),
        communities: names.collection("communities"),
        filter_community: filter.community,
        filter_met: filter.met,
        two_nos_caption: f.t.fmt(
            "two_nos.caption",
            &[&two_nos.len(), &two_nos.iter().filter(|r| r.met).count()],
        ),
        two_nos,
        topics: topics
            .iter()
            .filter(|t| open(t.state))
            .map(|t| TopicRow {
                title: t.title.clone(),
                council: council_names.get(&t.council).cloned().unwrap_or_default(),
                state: f.t.label(
                    TopicState::try_from(t.state)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
                support: format!("{}/{}", t.support_count, t.support_threshold),
            })
            .collect(),
        councils: council_stats
            .iter()
            .map(|s| CouncilRow {
                council: council_names.get(&s.council).cloned().unwrap_or_default(),
                rate: percent(s.implementation_rate),
                done: format!("{}/{}", s.action_items_done, s.action_items),
            })
            .collect(),
        hours_total: format!("{:.1}", total_minutes as f64 / 60.0),
        hours: hours
            .iter()
            .map(|h| {
                (
                    if h.display_name.is_empty() {
                        names.of(&h.key)
                    } else {
                        h.display_name.clone()
                    },
                    format!("{:.1}", h.minutes as f64 / 60.0),
                )
            })
            .collect(),
        f,
    };
    Ok(render(&page))
}
