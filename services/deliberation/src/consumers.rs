//! What the deliberation service does with other services' events:
//! - an escalated issue, or an escalated recurring cluster, becomes a topic
//!   in the council named, with the issues as evidence;
//! - the issue carrying an action item moves the item's status and progress.

use chrono::{DateTime, Utc};
use cogov_kit::events::{self, Bus, ConsumerSpec, Event, inbox};
use cogov_kit::write::Write;
use cogov_kit::{Error, Result, names};
use cogov_proto::deliberation::*;
use cogov_proto::issues::{
    IssueClusterEscalated, IssueEscalated, IssueReported, IssueState, IssueStateChanged,
    IssueSummary,
};
use prost::Name;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{action_items, councils};
use crate::topics::NewTopic;
use crate::{Deliberation, action_items as items, resolutions};

/// The durable consumer's name.
pub const CONSUMER: &str = "deliberation";
/// Who proposes topics made of escalations.
const PROPOSER: &str = "service:issues";

/// Starts the consumer on `bus`.
pub async fn start(svc: &Deliberation, bus: &Bus) -> Result<()> {
    let types = [
        IssueEscalated::full_name(),
        IssueClusterEscalated::full_name(),
        IssueReported::full_name(),
        IssueStateChanged::full_name(),
    ];
    bus.consume(
        ConsumerSpec::new(CONSUMER, &types),
        inbox::handler(svc.clone(), handle),
    )
    .await
    .map_err(|e| Error::Unavailable(e.to_string()))
}

async fn handle(svc: Deliberation, event: Event) -> Result<()> {
    let now = svc.ctx.clock.now();
    let t = event.r#type.as_str();
    if t == IssueEscalated::full_name() {
        let p: IssueEscalated = events::payload(&event).map_err(Error::Internal)?;
        let issue = p.issue.unwrap_or_default();
        let topic = NewTopic {
            title: clip(&issue.title, 200),
            description: clip(&p.note, 4000),
            source: TopicSource::EscalatedIssue,
            proposer: PROPOSER.into(),
            proposer_person: None,
            proposer_organization: None,
            evidence: vec![issue.name],
            cluster: String::new(),
        };
        open_topic(&svc, &event, &p.council, topic, now).await
    } else if t == IssueClusterEscalated::full_name() {
        let p: IssueClusterEscalated = events::payload(&event).map_err(Error::Internal)?;
        let code = p.sub_item.trim_start_matches("subItems/");
        let topic = NewTopic {
            title: clip(&format!("反复出现 Recurring: {code}"), 200),
            description: clip(&p.note, 4000),
            source: TopicSource::EscalatedIssue,
            proposer: PROPOSER.into(),
            proposer_person: None,
            proposer_organization: None,
            evidence: p.issues.into_iter().take(20).collect(),
            cluster: p.cluster,
        };
        open_topic(&svc, &event, &p.council, topic, now).await
    } else if t == IssueReported::full_name() {
        let p: IssueReported = events::payload(&event).map_err(Error::Internal)?;
        follow_issue(&svc, &event, p.issue.unwrap_or_default(), now).await
    } else if t == IssueStateChanged::full_name() {
        let p: IssueStateChanged = events::payload(&event).map_err(Error::Internal)?;
        follow_issue(&svc, &event, p.issue.unwrap_or_default(), now).await
    } else {
        Ok(())
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

async fn open_topic(
    svc: &Deliberation,
    event: &Event,
    council: &str,
    topic: NewTopic,
    now: DateTime<Utc>,
) -> Result<()> {
    let id = names::parse("councils", council)
        .ok_or_else(|| Error::Internal(format!("bad council {council:?}")))?;
    inbox::apply(&svc.ctx.db, CONSUMER, event, now, async move |txn| {
        let council = councils::Entity::find_by_id(id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::Internal(format!("{council} does not exist")))?;
        crate::topics::insert(txn, &council, topic, now).await?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Where an action item stands given the state of the issue carrying it.
fn follows(state: IssueState, item: &action_items::Model) -> (ActionItemStatus, i32) {
    use IssueState::*;
    let current = ActionItemStatus::try_from(item.status).unwrap_or_default();
    if current == ActionItemStatus::Cancelled {
        return (current, item.progress);
    }
    match state {
        Resolved | Closed => (ActionItemStatus::Done, 100),
        Rejected | Duplicate => (ActionItemStatus::Blocked, item.progress),
        Reopened | Returned => (ActionItemStatus::InProgress, item.progress.clamp(30, 50)),
        Dispatched | InProgress => (ActionItemStatus::InProgress, item.progress.clamp(30, 99)),
        Reported | Acknowledged | Unspecified => {
            (ActionItemStatus::InProgress, item.progress.clamp(10, 99))
        }
    }
}

async fn follow_issue(
    svc: &Deliberation,
    event: &Event,
    issue: IssueSummary,
    now: DateTime<Utc>,
) -> Result<()> {
    if issue.action_item.is_empty() {
        return Ok(());
    }
    let (resolution, id) = items::parse("action_item", &issue.action_item)?;
    inbox::apply(&svc.ctx.db, CONSUMER, event, now, async move |txn| {
        let Some(row) = action_items::Entity::find_by_id(id)
            .filter(action_items::Column::ResolutionId.eq(resolution))
            .one(txn)
            .await?
        else {
            // The item was deleted; nothing to follow.
            return Ok(());
        };
        // Redelivered or out of order: a newer issue revision already counted.
        if issue.revision <= row.issue_revision {
            return Ok(());
        }
        update_item(txn, row, &issue, now).await
    })
    .await?;
    Ok(())
}

async fn update_item(
    txn: &Write,
    row: action_items::Model,
    issue: &IssueSummary,
    now: DateTime<Utc>,
) -> Result<()> {
    let state = IssueState::try_from(issue.state).unwrap_or_default();
    let (status, progress) = follows(state, &row);
    let (status, progress) = items::settle(status, progress);
    // Guarded by the revision read: a secretary's edit landing meanwhile
    // makes this fail, and the event is applied again on the new row.
    let mut edit = items::VERSIONED.edit(row.clone(), "", &items::name(&row), now)?;
    let am = &mut edit.changes;
    if row.issue.is_empty() {
        am.issue = Set(issue.name.clone());
    }
    am.status = Set(status as i32);
    am.progress = Set(progress);
    am.done_time = Set(match status {
        ActionItemStatus::Done => row.done_time.or(Some(now)),
        _ => None,
    });
    am.issue_revision = Set(issue.revision);
    let saved = edit.save(txn).await?;
    resolutions::follow_items(txn, row.resolution_id, now).await?;
    let council = councils::Entity::find_by_id(row.council_id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::Internal("action item without council".into()))?;
    crate::events::action_item_changed(txn, &council, &row, &items::to_proto(&saved), now).await?;
    Ok(())
}
