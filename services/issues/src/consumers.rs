//! What the issues service does with other services' events:
//! - a topic opened with issues as evidence links those issues (and their
//!   cluster) to it;
//! - a resolution's action item is carried out by an issue dispatched to
//!   the item's owner: the one the item names, or a new one made in the
//!   place of the council (or of its first evidence issue);
//! - a person erased loses the contact details of their reports (the
//!   reports, and what they count for, stay) and what they followed.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::events::{self, Bus, ConsumerSpec, Event, inbox};
use cogov_kit::write::Defers;
use cogov_kit::{Error, Result, names};
use cogov_proto::deliberation::{ActionItemCreated, TopicOpened};
use cogov_proto::issues::*;
use cogov_proto::organizations::PersonErased;
use prost::Name;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::issues::{self as rows, Column, Entity, Model};
use crate::entity::{clusters, sub_items};
use crate::timeline::{self, Entry};
use crate::{Issues, events as published};

/// The durable consumer's name.
pub const CONSUMER: &str = "issues";
/// The author of what the consumer writes in timelines.
const AUTHOR: &str = "service:deliberation";

/// Starts the consumer on `bus`.
pub async fn start(svc: &Issues, bus: &Bus) -> Result<()> {
    let types = [
        TopicOpened::full_name(),
        ActionItemCreated::full_name(),
        PersonErased::full_name(),
    ];
    bus.consume(
        ConsumerSpec::new(CONSUMER, &types),
        inbox::handler(svc.clone(), handle),
    )
    .await
    .map_err(|e| Error::Unavailable(e.to_string()))
}

async fn handle(svc: Issues, event: Event) -> Result<()> {
    let now = svc.ctx.clock.now();
    if event.r#type == TopicOpened::full_name() {
        let p: TopicOpened = events::payload(&event).map_err(Error::Internal)?;
        inbox::apply(&svc.ctx.db, CONSUMER, &event, now, async move |txn| {
            link_topic(txn, &p, now).await
        })
        .await?;
    } else if event.r#type == ActionItemCreated::full_name() {
        let p: ActionItemCreated = events::payload(&event).map_err(Error::Internal)?;
        inbox::apply(&svc.ctx.db, CONSUMER, &event, now, async move |txn| {
            carry_out(txn, &p, now).await
        })
        .await?;
    } else if event.r#type == PersonErased::full_name() {
        let p: PersonErased = events::payload(&event).map_err(Error::Internal)?;
        inbox::apply(&svc.ctx.db, CONSUMER, &event, now, async move |txn| {
            erase(txn, &p, now).await
        })
        .await?;
    }
    Ok(())
}

/// Clears the contact details on the erased person's reports, the
/// remembered responses that carried them, and their follows.
async fn erase<C: ConnectionTrait>(conn: &C, p: &PersonErased, now: DateTime<Utc>) -> Result<()> {
    let Some(person) = names::parse("persons", &p.person) else {
        return Ok(());
    };
    let reports = Entity::find()
        .filter(Column::ReporterId.eq(person))
        .all(conn)
        .await?;
    let mut needles: Vec<String> = Vec::new();
    for r in &reports {
        for value in [&r.contact_name, &r.contact_phone, &r.contact_address] {
            if !value.is_empty() && !needles.contains(value) {
                needles.push(value.clone());
            }
        }
    }
    Entity::update_many()
        .col_expr(Column::ContactName, Expr::value(""))
        .col_expr(Column::ContactPhone, Expr::value(""))
        .col_expr(Column::ContactAddress, Expr::value(""))
        .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
        .col_expr(Column::UpdateTime, Expr::value(now))
        .filter(Column::ReporterId.eq(person))
        .exec(conn)
        .await?;
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    cogov_kit::idempotency::forget_containing(conn, &needles).await?;
    crate::follows::forget(conn, person).await
}

async fn link_topic<C: Defers>(conn: &C, p: &TopicOpened, now: DateTime<Utc>) -> Result<()> {
    let topic = names::parse("topics", &p.topic)
        .ok_or_else(|| Error::Internal(format!("bad topic {:?}", p.topic)))?;
    for issue in p
        .evidence_issues
        .iter()
        .filter_map(|n| names::parse("issues", n))
    {
        let linked = Entity::update_many()
            .col_expr(Column::TopicId, Expr::value(topic))
            .col_expr(Column::Revision, Expr::col(Column::Revision).add(1))
            .col_expr(Column::UpdateTime, Expr::value(now))
            .filter(Column::Id.eq(issue))
            .filter(Column::TopicId.is_null())
            .exec(conn)
            .await?;
        if linked.rows_affected == 1 {
            timeline::record(
                conn,
                issue,
                Entry::new(IssueUpdateKind::Comment, AUTHOR, now)
                    .with_text(format!("议事 deliberated in {}", p.topic)),
            )
            .await?;
        }
    }
    if let Some(cluster) = names::parse("clusters", &p.cluster) {
        clusters::Entity::update_many()
            .col_expr(clusters::Column::TopicId, Expr::value(topic))
            .filter(clusters::Column::Id.eq(cluster))
            .filter(clusters::Column::TopicId.is_null())
            .exec(conn)
            .await?;
    }
    Ok(())
}

async fn carry_out<C: Defers>(conn: &C, p: &ActionItemCreated, now: DateTime<Utc>) -> Result<()> {
    let owner = names::parse("organizations", &p.owner)
        .ok_or_else(|| Error::Internal(format!("bad owner {:?}", p.owner)))?;
    // The item names its issue: link it.
    if let Some(id) = names::parse("issues", &p.issue) {
        if let Some(row) = Entity::find_by_id(id).one(conn).await? {
            link_item(conn, row, p, now).await?;
        }
        return Ok(());
    }
    let evidence = match p
        .evidence_issues
        .first()
        .and_then(|n| names::parse("issues", n))
    {
        Some(id) => Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    let courtyard =
        names::parse("courtyards", &p.place).or(evidence.as_ref().map(|e| e.courtyard_id));
    let (Some(courtyard), Some(evidence)) = (courtyard, evidence) else {
        // A community-wide item with no evidence has no courtyard or
        // sub-item to report under; the council follows it by hand.
        tracing::info!(
            action_item = p.action_item,
            "action item has no issue to carry it"
        );
        return Ok(());
    };
    let item = sub_items::Entity::find_by_id(evidence.sub_item_id.clone())
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal("evidence issue without sub-item".into()))?;
    // A community council's place is its community; a courtyard council's
    // evidence lies in that courtyard's community.
    let community = names::parse("communities", &p.place).unwrap_or(evidence.community_id);
    let id = names::new_id();
    let row = rows::ActiveModel {
        id: Set(id),
        courtyard_id: Set(courtyard),
        community_id: Set(community),
        building_id: Set(None),
        sub_item_id: Set(item.id.clone()),
        category_id: Set(item.category_id.clone()),
        title: Set(p.description.chars().take(200).collect()),
        description: Set(format!("{}\n\n{}", p.description, p.action_item)),
        channel: Set(Channel::Council as i32),
        priority: Set(Priority::Normal as i32),
        state: Set(IssueState::Dispatched as i32),
        respond_by: Set(now + Duration::hours(item.respond_within_hours.into())),
        resolve_by: Set(now + Duration::days(item.resolve_within_days.into())),
        acknowledge_time: Set(Some(now)),
        assignee_id: Set(Some(owner)),
        dispatch_count: Set(1),
        action_item: Set(p.action_item.clone()),
        revision: Set(1),
        create_time: Set(now),
        update_time: Set(now),
        ..Default::default()
    };
    let row = crate::issues::insert(conn, row).await?;
    for entry in [
        Entry::transition(IssueState::Unspecified, IssueState::Reported, AUTHOR, now)
            .with_text(format!("决议事项 action item {}", p.action_item)),
        Entry::transition(IssueState::Reported, IssueState::Dispatched, AUTHOR, now),
        Entry::new(IssueUpdateKind::Assignment, AUTHOR, now).with_organization(owner),
    ] {
        timeline::record(conn, id, entry).await?;
    }
    published::reported(conn, &row, now).await
}

/// Links an existing issue to the item; its next state change moves the
/// item's progress.
async fn link_item<C: Defers>(
    conn: &C,
    row: Model,
    p: &ActionItemCreated,
    now: DateTime<Utc>,
) -> Result<()> {
    if !row.action_item.is_empty() {
        return Ok(());
    }
    let row_id = row.id;
    let (row, mut am) = crate::issues::VERSIONED
        .edit(row, "", &crate::issues::name(row_id), now)?
        .into_parts();
    am.action_item = Set(p.action_item.clone());
    let row = crate::issues::save(conn, &row, am).await?;
    timeline::record(
        conn,
        row.id,
        Entry::new(IssueUpdateKind::Comment, AUTHOR, now)
            .with_text(format!("决议事项 carries out {}", p.action_item)),
    )
    .await?;
    Ok(())
}
