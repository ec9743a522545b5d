//! The events the deliberation service publishes, appended to its outbox in
//! the transaction of the change (see `cogov_kit::events`).

use chrono::{DateTime, Utc};
use cogov_kit::events::{NewEvent, outbox};
use cogov_kit::write::Defers;
use cogov_kit::{Result, names};
use cogov_proto::deliberation::*;

use crate::entity::{action_items, councils, topics};

fn place(council: &councils::Model) -> (String, String) {
    let community = names::format("communities", council.community_id);
    let courtyard = council
        .courtyard_id
        .map(|c| names::format("courtyards", c))
        .unwrap_or_default();
    (courtyard, community)
}

/// `TopicOpened`.
pub async fn topic_opened<C: Defers>(
    conn: &C,
    council: &councils::Model,
    topic: &Topic,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = TopicOpened {
        topic: topic.name.clone(),
        council: topic.council.clone(),
        title: topic.title.clone(),
        source: topic.source,
        evidence_issues: topic.evidence_issues.clone(),
        cluster: topic.cluster.clone(),
    };
    let (courtyard, community) = place(council);
    let event = NewEvent::of(&payload, topic.name.clone()).concerning(courtyard, community);
    outbox::append(conn, crate::ROLE, event, now).await?;
    Ok(())
}

/// `ActionItemCreated`.
pub async fn action_item_created<C: Defers>(
    conn: &C,
    council: &councils::Model,
    topic: &topics::Model,
    item: &ActionItem,
    now: DateTime<Utc>,
) -> Result<()> {
    let (courtyard, community) = place(council);
    let payload = ActionItemCreated {
        action_item: item.name.clone(),
        topic: names::format("topics", topic.id),
        council: names::format("councils", council.id),
        place: if courtyard.is_empty() {
            community.clone()
        } else {
            courtyard.clone()
        },
        description: item.description.clone(),
        owner: item.owner.clone(),
        due_date: item.due_date,
        issue: item.issue.clone(),
        evidence_issues: crate::topics::evidence_of(topic),
    };
    let event = NewEvent::of(&payload, item.name.clone()).concerning(courtyard, community);
    outbox::append(conn, crate::ROLE, event, now).await?;
    Ok(())
}

/// `ActionItemChanged`, if its status, progress or issue changed.
pub async fn action_item_changed<C: Defers>(
    conn: &C,
    council: &councils::Model,
    before: &action_items::Model,
    after: &ActionItem,
    now: DateTime<Utc>,
) -> Result<()> {
    if before.status == after.status
        && before.progress == after.progress
        && before.issue == after.issue
    {
        return Ok(());
    }
    let (courtyard, community) = place(council);
    let payload = ActionItemChanged {
        action_item: after.name.clone(),
        status: after.status,
        progress: after.progress,
        issue: after.issue.clone(),
    };
    let event = NewEvent::of(&payload, after.name.clone()).concerning(courtyard, community);
    outbox::append(conn, crate::ROLE, event, now).await?;
    Ok(())
}
