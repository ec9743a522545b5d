//! Exporting lists and statistics as the caller sees them, page by page.
//!
//! An export asks the services for what the caller could ask them over
//! gRPC (any ListIssues filter, the statistics RPCs) and writes each page's
//! rows as they arrive, so that a million issues pass through in pages of a
//! thousand. Resource names are written with their display names beside
//! them ([`names`]); times in Beijing time, as the console shows them.

pub mod names;

use std::io::Write;

use cogov_proto::common::Interval;
use cogov_proto::deliberation::{GetCouncilStatisticsRequest, ListCouncilsRequest};
use cogov_proto::issues::*;
use cogov_proto::volunteers::{ComputeVolunteerHoursRequest, HoursGroup};
use tonic::Status;

use crate::link::Clients;
use crate::write::{Cell, Format, WriteError, Writer};
use names::Names;

/// What to export.
#[derive(Debug, Clone)]
pub enum Export {
    /// Issues matching an AIP-160 filter (ListIssues').
    Issues {
        /// The filter, e.g. `state = RESOLVED AND community = "communities/…"`.
        filter: String,
    },
    /// The three rates (response, resolution, satisfaction) and the rest of
    /// ComputeIssueStatistics' figures, by one grouping.
    Statistics {
        /// By community, courtyard, assignee, month, …
        group_by: StatisticsGroup,
        /// Issues reported in this window (the last 30 days when unset).
        interval: Option<Interval>,
        /// On `community`, `courtyard`, `assignee`, `sub_item`, `category`.
        filter: String,
    },
    /// Volunteer hours by team, volunteer, community or month.
    Hours {
        /// The grouping.
        group_by: HoursGroup,
        /// Service started in this window (this month when unset).
        interval: Option<Interval>,
        /// On `community`, `team`.
        filter: String,
    },
    /// Each council's implementation rate (落地率) and its counts.
    Councils {
        /// ListCouncils' filter, on `place`, `community`.
        filter: String,
    },
    /// Each courtyard's two-nos standing (两无): met or not, open issues.
    TwoNos {
        /// ListCourtyardTwoNos' filter, on `community`, `met`.
        filter: String,
    },
}

impl Export {
    /// A file name for it: `issues.xlsx`, `statistics-courtyard.csv`, …
    pub fn file_name(&self, format: Format) -> String {
        let stem = match self {
            Export::Issues { .. } => "issues".to_owned(),
            Export::Statistics { group_by, .. } => format!(
                "statistics-{}",
                group_by
                    .as_str_name()
                    .trim_start_matches("STATISTICS_GROUP_")
                    .to_lowercase()
            ),
            Export::Hours { group_by, .. } => format!(
                "volunteer-hours-{}",
                group_by
                    .as_str_name()
                    .trim_start_matches("HOURS_GROUP_")
                    .to_lowercase()
            ),
            Export::Councils { .. } => "councils".to_owned(),
            Export::TwoNos { .. } => "two-nos".to_owned(),
        };
        format!("{stem}.{}", format.extension())
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A service refused.
    #[error("{:?}: {}", .0.code(), .0.message())]
    Refused(#[from] Status),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Rows written so far, after each page.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// Writes `what` to `out` as `format`; hands back `out` and the rows written.
pub async fn run<W: Write + Send>(
    clients: &Clients,
    what: &Export,
    format: Format,
    out: W,
    progress: Progress<'_>,
) -> Result<(W, u64), ExportError> {
    let mut names = Names::new(clients.clone());
    let w = match what {
        Export::Issues { filter } => {
            issues(clients, &mut names, filter, format, out, progress).await?
        }
        Export::Statistics {
            group_by,
            interval,
            filter,
        } => {
            let r = clients
                .issues
                .clone()
                .compute_issue_statistics(ComputeIssueStatisticsRequest {
                    group_by: *group_by as i32,
                    interval: *interval,
                    filter: filter.clone(),
                    weights: None,
                })
                .await?
                .into_inner();
            let mut w = Writer::new(format, out, &STATISTICS_HEADER)?;
            for row in r.rows {
                let shown = names.of(&row.key).await;
                w.row(&[
                    Cell::from(row.rank),
                    row.key.into(),
                    shown.into(),
                    row.reported.into(),
                    row.responded_in_time.into(),
                    row.resolved.into(),
                    row.rated.into(),
                    row.satisfied.into(),
                    row.returned.into(),
                    row.reopened.into(),
                    row.overdue.into(),
                    row.response_rate.into(),
                    row.resolution_rate.into(),
                    row.satisfaction_rate.into(),
                    row.return_rate.into(),
                    row.reopen_rate.into(),
                    row.score.into(),
                ])?;
            }
            w
        }
        Export::Hours {
            group_by,
            interval,
            filter,
        } => {
            let r = clients
                .volunteers
                .clone()
                .compute_volunteer_hours(ComputeVolunteerHoursRequest {
                    group_by: *group_by as i32,
                    interval: *interval,
                    filter: filter.clone(),
                    max_results: 1000,
                })
                .await?
                .into_inner();
            let mut w = Writer::new(format, out, &HOURS_HEADER)?;
            for row in r.rows {
                w.row(&[
                    Cell::from(row.rank),
                    row.key.into(),
                    row.display_name.into(),
                    (row.minutes as f64 / 60.0).into(),
                    row.minutes.into(),
                    row.records.into(),
                    row.volunteers.into(),
                ])?;
            }
            w
        }
        Export::Councils { filter } => councils(clients, &mut names, filter, format, out).await?,
        Export::TwoNos { filter } => two_nos(clients, &mut names, filter, format, out).await?,
    };
    let rows = w.rows();
    progress(rows);
    Ok((w.finish()?, rows))
}

const ISSUES_HEADER: [&str; 17] = [
    "编号 issue",
    "标题 title",
    "状态 state",
    "分类 category",
    "子项 sub-item",
    "社区 community",
    "楼院 courtyard",
    "楼栋 building",
    "承办单位 assignee",
    "渠道 channel",
    "上报时间 reported",
    "应响应 respond by",
    "应办结 resolve by",
    "办结时间 closed",
    "逾期 overdue",
    "退回 returns",
    "重开 reopens",
];

const STATISTICS_HEADER: [&str; 17] = [
    "排名 rank",
    "分组 key",
    "名称 name",
    "上报 reported",
    "按时响应 responded in time",
    "办结 resolved",
    "评价 rated",
    "满意 satisfied",
    "退回 returned",
    "重开 reopened",
    "逾期 overdue",
    "响应率 response rate",
    "办结率 resolution rate",
    "满意率 satisfaction rate",
    "退回率 return rate",
    "重开率 reopen rate",
    "综合得分 score",
];

const HOURS_HEADER: [&str; 7] = [
    "排名 rank",
    "分组 key",
    "名称 name",
    "小时 hours",
    "分钟 minutes",
    "记录 records",
    "志愿者 volunteers",
];

const COUNCILS_HEADER: [&str; 10] = [
    "议事会 council",
    "名称 name",
    "社区 community",
    "会议 meetings",
    "决议 resolutions",
    "落实事项 action items",
    "已完成 done",
    "按期完成 done on time",
    "落地率 implementation rate",
    "议题 topics",
];

const TWO_NOS_HEADER: [&str; 7] = [
    "楼院 courtyard",
    "名称 name",
    "社区 community",
    "达标 met",
    "最近达标 last met",
    "未结问题 open issues",
    "未达标子项 items not met",
];

/// A time as the console shows it (Beijing time, to the minute), or empty.
pub fn beijing(t: Option<prost_types::Timestamp>) -> String {
    cogov_kit::convert::beijing_time(t.as_ref(), "%Y-%m-%d %H:%M")
}

fn local(t: Option<prost_types::Timestamp>) -> Cell {
    match beijing(t) {
        text if text.is_empty() => Cell::Empty,
        text => Cell::Text(text),
    }
}

fn short(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_owned()
}

async fn issues<W: Write + Send>(
    clients: &Clients,
    names: &mut Names,
    filter: &str,
    format: Format,
    out: W,
    progress: Progress<'_>,
) -> Result<Writer<W>, ExportError> {
    let mut w = Writer::new(format, out, &ISSUES_HEADER)?;
    let mut c = clients.issues.clone();
    let mut page_token = String::new();
    loop {
        let page = c
            .list_issues(ListIssuesRequest {
                page_size: 1000,
                page_token,
                filter: filter.to_owned(),
                ..Default::default()
            })
            .await?
            .into_inner();
        for i in page.issues {
            let state = IssueState::try_from(i.state).unwrap_or_default();
            let channel = Channel::try_from(i.channel).unwrap_or_default();
            w.row(&[
                i.name.into(),
                i.title.into(),
                short(state.as_str_name(), "ISSUE_STATE_").into(),
                short(&i.category, "categories/").into(),
                names.of(&i.sub_item).await.into(),
                names.of(&i.community).await.into(),
                names.of(&i.courtyard).await.into(),
                names.of(&i.building).await.into(),
                names.of(&i.assignee).await.into(),
                short(channel.as_str_name(), "CHANNEL_").into(),
                local(i.create_time),
                local(i.respond_by),
                local(i.resolve_by),
                local(i.close_time),
                if i.overdue { "是 yes" } else { "" }.into(),
                i.return_count.into(),
                i.reopen_count.into(),
            ])?;
        }
        progress(w.rows());
        if page.next_page_token.is_empty() {
            return Ok(w);
        }
        page_token = page.next_page_token;
    }
}

async fn councils<W: Write + Send>(
    clients: &Clients,
    names: &mut Names,
    filter: &str,
    format: Format,
    out: W,
) -> Result<Writer<W>, ExportError> {
    let mut w = Writer::new(format, out, &COUNCILS_HEADER)?;
    let mut d = clients.deliberation.clone();
    let mut page_token = String::new();
    loop {
        let page = d
            .list_councils(ListCouncilsRequest {
                page_size: 1000,
                page_token,
                filter: filter.to_owned(),
            })
            .await?
            .into_inner();
        for council in page.councils {
            let s = d
                .get_council_statistics(GetCouncilStatisticsRequest {
                    name: council.name.clone(),
                })
                .await?
                .into_inner();
            let topics: i64 = s.topics_by_state.values().map(|n| i64::from(*n)).sum();
            w.row(&[
                council.name.into(),
                council.display_name.into(),
                names.of(&council.community).await.into(),
                s.meetings.into(),
                s.resolutions.into(),
                s.action_items.into(),
                s.action_items_done.into(),
                s.action_items_done_on_time.into(),
                s.implementation_rate.into(),
                topics.into(),
            ])?;
        }
        if page.next_page_token.is_empty() {
            return Ok(w);
        }
        page_token = page.next_page_token;
    }
}

async fn two_nos<W: Write + Send>(
    clients: &Clients,
    names: &mut Names,
    filter: &str,
    format: Format,
    out: W,
) -> Result<Writer<W>, ExportError> {
    let mut w = Writer::new(format, out, &TWO_NOS_HEADER)?;
    let mut page_token = String::new();
    loop {
        let page = clients
            .issues
            .clone()
            .list_courtyard_two_nos(ListCourtyardTwoNosRequest {
                page_size: 1000,
                page_token,
                filter: filter.to_owned(),
            })
            .await?
            .into_inner();
        for c in page.statuses {
            let open: i64 = c.items.iter().map(|i| i64::from(i.open_issue_count)).sum();
            let mut failing = Vec::new();
            for item in &c.items {
                let failed = item.last_result == InspectionResult::Failed as i32;
                if item.open_issue_count > 0 || failed {
                    failing.push(names.of(&item.sub_item).await);
                }
            }
            w.row(&[
                c.courtyard.clone().into(),
                names.of(&c.courtyard).await.into(),
                names.of(&c.community).await.into(),
                if c.met { "是 yes" } else { "否 no" }.into(),
                local(c.last_met_time),
                open.into(),
                failing.join("、").into(),
            ])?;
        }
        if page.next_page_token.is_empty() {
            return Ok(w);
        }
        page_token = page.next_page_token;
    }
}
