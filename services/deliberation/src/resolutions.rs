//! Resolutions (议事成果): GetResolution, ListResolutions,
//! CreateResolution, UpdateResolution. Adopting one decides the topic; its
//! state and progress follow its action items ([`crate::action_items`]).

use std::collections::HashMap;

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::write::Write;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::access::Caller;
use crate::entity::resolutions::{self as rows, Column, Entity, Model};
use crate::entity::{action_items, polls as poll_rows, topics as topic_rows};
use crate::lifecycle::Action;
use crate::{Deliberation, ballots, councils, polls, topics};

pub(crate) const COLLECTION: &str = "resolutions";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

/// `resolutions/{id}`.
pub fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// Renders resolutions with their progress: the mean progress of the items
/// that count (all but cancelled), 0 to 100, read in one query for the page.
async fn render_many<C: ConnectionTrait>(conn: &C, rows: &[Model]) -> Result<Vec<Resolution>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let items: Vec<(Uuid, i32)> = action_items::Entity::find()
        .select_only()
        .column(action_items::Column::ResolutionId)
        .column(action_items::Column::Progress)
        .filter(action_items::Column::ResolutionId.is_in(ids))
        .filter(action_items::Column::Status.ne(ActionItemStatus::Cancelled as i32))
        .into_tuple()
        .all(conn)
        .await?;
    let mut sums: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for (resolution, progress) in items {
        let (sum, count) = sums.entry(resolution).or_default();
        *sum += i64::from(progress);
        *count += 1;
    }
    Ok(rows
        .iter()
        .map(|m| {
            let progress = sums
                .get(&m.id)
                .map(|(sum, count)| (sum / count) as i32)
                .unwrap_or(0);
            to_proto(m, progress)
        })
        .collect())
}

async fn render<C: ConnectionTrait>(conn: &C, m: &Model) -> Result<Resolution> {
    let mut one = render_many(conn, std::slice::from_ref(m)).await?;
    Ok(one.pop().expect("one row rendered"))
}

fn to_proto(m: &Model, progress: i32) -> Resolution {
    Resolution {
        name: name(m.id),
        topic: topics::name(m.topic_id),
        council: councils::name(m.council_id),
        poll: m.poll_id.map(polls::name).unwrap_or_default(),
        chosen_option: m.chosen_option.clone(),
        statement: m.statement.clone(),
        review_date: m.review_date.map(convert::date),
        state: m.state,
        progress,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a resolution of a council the caller sees.
pub async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> Result<(councils::Model, Model)> {
    if let Some(m) = Entity::find_by_id(id).one(conn).await?
        && let Ok(council) = councils::visible(conn, caller, m.council_id).await
    {
        return Ok((council, m));
    }
    Err(caller.scope.missing("Resolution", &name(id)))
}

/// Brings a resolution's state (and its topic's) in line with its action
/// items: all done or cancelled → IMPLEMENTED; any under way →
/// IMPLEMENTING (the topic too); none started → ADOPTED.
pub async fn follow_items(txn: &Write, id: Uuid, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let row = Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::Internal("action item without resolution".into()))?;
    let items = action_items::Entity::find()
        .filter(action_items::Column::ResolutionId.eq(id))
        .all(txn)
        .await?;
    let finished =
        |s: i32| s == ActionItemStatus::Done as i32 || s == ActionItemStatus::Cancelled as i32;
    let started = items
        .iter()
        .any(|i| i.status != ActionItemStatus::NotStarted as i32 || i.progress > 0);
    let state = if !items.is_empty() && items.iter().all(|i| finished(i.status)) {
        ResolutionState::Implemented
    } else if started {
        ResolutionState::Implementing
    } else {
        ResolutionState::Adopted
    };
    if state as i32 != row.state {
        let mut edit = VERSIONED.edit(row.clone(), "", &name(row.id), now)?;
        edit.changes.state = Set(state as i32);
        edit.save(txn).await?;
    }
    if state != ResolutionState::Adopted {
        let topic = topic_rows::Entity::find_by_id(row.topic_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::Internal("resolution without topic".into()))?;
        if topics::state_of(&topic) == TopicState::Decided {
            topics::advance(txn, &topic, Action::Implement, None, now).await?;
        }
    }
    Ok(())
}

/// Setters read the resolution sent and its checked review date.
const FIELDS: Fields<Input<Resolution, Option<chrono::NaiveDate>>, rows::ActiveModel> =
    Fields::new(&[
        ("statement", |am, i| {
            am.statement = Set(i.sent.statement.clone())
        }),
        ("review_date", |am, i| am.review_date = Set(i.checked)),
    ]);

fn check_review(c: &mut Check, r: &Resolution) -> Option<chrono::NaiveDate> {
    match &r.review_date {
        Some(d) => {
            let parsed = convert::from_date(d);
            if parsed.is_none() {
                c.add("resolution.review_date", "not a calendar date");
            }
            parsed
        }
        None => None,
    }
}

/// GetResolution.
pub async fn get(
    svc: &Deliberation,
    caller: &Caller,
    req: GetResolutionRequest,
) -> Result<Resolution> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let conn = svc.ctx.db.read();
    let (_, m) = visible(conn, caller, id).await?;
    render(conn, &m).await
}

/// ListResolutions: newest first.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListResolutionsRequest,
) -> Result<ListResolutionsResponse> {
    let fields = [
        Field::column(
            "council",
            Column::CouncilId,
            Kind::Name(councils::COLLECTION),
        ),
        Field::column("topic", Column::TopicId, Kind::Name(topics::COLLECTION)),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| ResolutionState::from_str_name(s).map(|v| v as i32),
                "RESOLUTION_STATE_",
            ),
        ),
    ];
    let query = ListQuery::new(
        "ListResolutions",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let conn = svc.ctx.db.read();
    let mut base = Entity::find();
    if let Some(cond) = caller.council_condition(svc, Column::CouncilId).await? {
        base = base.filter(cond);
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    let resolutions = render_many(conn, &rows).await?;
    Ok(ListResolutionsResponse {
        resolutions,
        next_page_token,
    })
}

/// CreateResolution: the council's secretary or staff adopt what the
/// council decided, from a closed poll (its winner when none is named) or
/// from the meeting's consensus. The topic becomes DECIDED.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateResolutionRequest,
) -> Result<Resolution> {
    let key = Key::new("CreateResolution", &req.request_id, principal, &req);
    let r = required("resolution", req.resolution)?;
    let mut c = Check::new();
    let topic_id = c.name("resolution.topic", &r.topic, topics::COLLECTION);
    let poll_id = c.optional_name("resolution.poll", &r.poll, polls::COLLECTION);
    c.text("resolution.statement", &r.statement, 1, 8000);
    let review = check_review(&mut c, &r);
    c.request_id(&req.request_id);
    if poll_id.is_none() && !r.chosen_option.is_empty() {
        c.add(
            "resolution.chosen_option",
            "only with the poll that chose it",
        );
    }
    c.finish()?;
    let conn = svc.ctx.db.read();
    let (council, _) = topics::visible(conn, caller, topic_id).await?;
    caller.require_manager(&council, "adopt resolutions")?;
    let mut chosen = r.chosen_option.clone();
    if let Some(poll_id) = poll_id {
        let poll = poll_rows::Entity::find_by_id(poll_id)
            .one(conn)
            .await?
            .filter(|p| p.topic_id == topic_id)
            .ok_or_else(|| Error::invalid("resolution.poll", "no such poll of this topic"))?;
        let now = svc.ctx.clock.now();
        if polls::state_at(&poll, now) != PollState::Closed {
            return Err(Error::precondition(
                ErrorReason::PollOpen,
                "STATE",
                polls::name(poll.id),
                "a resolution follows a closed poll",
            ));
        }
        if chosen.is_empty() {
            let result = ballots::result(
                svc,
                caller,
                GetPollResultRequest {
                    poll: polls::name(poll.id),
                },
            )
            .await?;
            if let [winner] = result.winners.as_slice() {
                chosen = winner.clone();
            }
        } else if !polls::rules(&poll).keys.contains(&chosen) {
            return Err(Error::invalid(
                "resolution.chosen_option",
                "not an option of the poll",
            ));
        }
    }
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let topic = topic_rows::Entity::find_by_id(topic_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::Internal("topic vanished".into()))?;
        topics::advance(txn, &topic, Action::Decide, None, now).await?;
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            topic_id: Set(topic_id),
            council_id: Set(topic.council_id),
            poll_id: Set(poll_id),
            chosen_option: Set(chosen),
            statement: Set(r.statement),
            review_date: Set(review),
            state: Set(ResolutionState::Adopted as i32),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        render(txn, &row).await
    })
    .await
}

/// UpdateResolution: the statement and the review date.
pub async fn update(
    svc: &Deliberation,
    caller: &Caller,
    req: UpdateResolutionRequest,
) -> Result<Resolution> {
    let r = required("resolution", req.resolution)?;
    let id = read_id("resolution.name", &r.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    if mask.has("statement") {
        c.text("resolution.statement", &r.statement, 1, 8000);
    }
    let review = check_review(&mut c, &r);
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, id).await?;
    caller.require_manager(&council, "change resolutions")?;
    let mut edit = VERSIONED.edit(row, &r.etag, &name(id), svc.ctx.clock.now())?;
    edit.apply(
        &FIELDS,
        &mask,
        &Input {
            sent: r,
            checked: review,
        },
    );
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}
