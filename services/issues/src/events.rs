//! The events the issues service publishes, appended to its outbox in the
//! transaction of the change (see `cogov_kit::events`).

use chrono::{DateTime, Utc};
use cogov_kit::events::{NewEvent, outbox};
use cogov_kit::write::Defers;
use cogov_kit::{Result, convert, names};
use cogov_proto::issues::*;
use uuid::Uuid;

use crate::entity::issues::Model;
use crate::issues::{name, opt_name};
use crate::transitions::state_of;

/// What every issue event says of the issue: no personal data.
pub fn summary(m: &Model) -> IssueSummary {
    IssueSummary {
        name: name(m.id),
        courtyard: names::format("courtyards", m.courtyard_id),
        community: names::format("communities", m.community_id),
        category: format!("categories/{}", m.category_id),
        sub_item: format!("subItems/{}", m.sub_item_id),
        title: m.title.clone(),
        state: m.state,
        assignee: opt_name("organizations", m.assignee_id),
        action_item: m.action_item.clone(),
        topic: opt_name("topics", m.topic_id),
        revision: m.revision,
    }
}

async fn append<C: Defers>(conn: &C, m: &Model, event: NewEvent, now: DateTime<Utc>) -> Result<()> {
    let event = event.concerning(
        names::format("courtyards", m.courtyard_id),
        names::format("communities", m.community_id),
    );
    outbox::append(conn, crate::ROLE, event, now).await?;
    Ok(())
}

/// `IssueReported`.
pub async fn reported<C: Defers>(conn: &C, m: &Model, now: DateTime<Utc>) -> Result<()> {
    let payload = IssueReported {
        issue: Some(summary(m)),
    };
    append(conn, m, NewEvent::of(&payload, name(m.id)), now).await
}

/// `IssueStateChanged`, if the state changed between `before` and `after`.
pub async fn state_changed<C: Defers>(
    conn: &C,
    before: &Model,
    after: &Model,
    now: DateTime<Utc>,
) -> Result<()> {
    if before.state == after.state {
        return Ok(());
    }
    let payload = IssueStateChanged {
        issue: Some(summary(after)),
        from_state: state_of(before) as i32,
        to_state: state_of(after) as i32,
    };
    append(conn, after, NewEvent::of(&payload, name(after.id)), now).await
}

/// `IssueEscalated`.
pub async fn escalated<C: Defers>(
    conn: &C,
    m: &Model,
    council: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = IssueEscalated {
        issue: Some(summary(m)),
        council: council.to_owned(),
        note: note.to_owned(),
    };
    append(conn, m, NewEvent::of(&payload, name(m.id)), now).await
}

/// `IssueClusterEscalated`.
pub async fn cluster_escalated<C: Defers>(
    conn: &C,
    cluster: &IssueCluster,
    council: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = IssueClusterEscalated {
        cluster: cluster.name.clone(),
        council: council.to_owned(),
        courtyard: cluster.courtyard.clone(),
        community: cluster.community.clone(),
        sub_item: cluster.sub_item.clone(),
        issues: cluster.issues.clone(),
        note: note.to_owned(),
    };
    let event = NewEvent::of(&payload, cluster.name.clone())
        .concerning(cluster.courtyard.clone(), cluster.community.clone());
    outbox::append(conn, crate::ROLE, event, now).await?;
    Ok(())
}

/// `CourtyardTwoNosChanged`.
pub async fn two_nos_changed<C: Defers>(
    conn: &C,
    courtyard: Uuid,
    community: Uuid,
    met: bool,
    last_met: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    let courtyard = names::format("courtyards", courtyard);
    let community = names::format("communities", community);
    let payload = CourtyardTwoNosChanged {
        courtyard: courtyard.clone(),
        community: community.clone(),
        met,
        last_met_time: convert::opt_timestamp(last_met),
        compute_time: Some(convert::timestamp(now)),
    };
    let event = NewEvent::of(&payload, courtyard.clone()).concerning(courtyard, community);
    outbox::append(conn, crate::ROLE, event, now).await?;
    Ok(())
}

/// What a notice calls a report: its summary, or, where the reporter gave
/// none (the app and Open311 make it optional), the start of what they
/// wrote.
fn headline(m: &Model) -> String {
    const LONG: usize = 30;
    if !m.title.trim().is_empty() {
        return m.title.clone();
    }
    let line = m
        .description
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim();
    if line.chars().count() > LONG {
        format!("{}…", line.chars().take(LONG).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Tells the reporter their report moved on, and its followers that an
/// issue they follow did, unless they moved it themselves (`actor`: the
/// resident acting, if one is).
pub async fn tell_of_state_change<C: Defers>(
    conn: &C,
    before: &Model,
    after: &Model,
    actor: Option<Uuid>,
    followers: Vec<Uuid>,
    now: DateTime<Utc>,
) -> Result<()> {
    if before.state == after.state {
        return Ok(());
    }
    let state = state_of(after);
    let subject = name(after.id);
    let title = headline(after);
    let detail = state.as_str_name().trim_start_matches("ISSUE_STATE_");
    let tell = async |kind, to: Vec<Uuid>| {
        let to: Vec<Uuid> = to.into_iter().filter(|p| Some(*p) != actor).collect();
        if to.is_empty() {
            return Ok(());
        }
        cogov_kit::events::notices::tell(
            conn,
            crate::ROLE,
            to,
            cogov_kit::events::notices::Notice {
                kind,
                subject: &subject,
                title: &title,
                detail,
            },
            now,
        )
        .await
    };
    tell(
        cogov_proto::common::NoticeKind::ReportStateChanged,
        after.reporter_id.into_iter().collect(),
    )
    .await?;
    tell(
        cogov_proto::common::NoticeKind::FollowedIssueChanged,
        followers,
    )
    .await
}

/// Tells the reporter someone answered their report.
pub async fn tell_answered<C: Defers>(
    conn: &C,
    m: &Model,
    actor: Option<Uuid>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(reporter) = m.reporter_id.filter(|r| Some(*r) != actor) else {
        return Ok(());
    };
    cogov_kit::events::notices::tell(
        conn,
        crate::ROLE,
        [reporter],
        cogov_kit::events::notices::Notice {
            kind: cogov_proto::common::NoticeKind::ReportAnswered,
            subject: &name(m.id),
            title: &headline(m),
            detail: text,
        },
        now,
    )
    .await
}
