//! Councils: GetCouncil, ListCouncils, CreateCouncil, UpdateCouncil,
//! DeleteCouncil, CheckCouncilComposition, GetCouncilStatistics. Staff
//! create and change councils; their seats are in [`crate::seats`].

use std::collections::BTreeMap;

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::json::{from_json, to_json};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use crate::access::Caller;
use crate::composition::{self, kind_name};
use crate::entity::councils as rows;
pub(crate) use crate::entity::councils::{Column, Entity, Model};
use crate::entity::{action_items, meetings, resolutions, seats, topics};
use crate::{Deliberation, lifecycle};

pub(crate) const COLLECTION: &str = "councils";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// Setters read the council sent and its checked quorum kinds.
const FIELDS: Fields<Input<Council, Vec<i32>>, rows::ActiveModel> = Fields::new(&[
    ("display_name", |am, i| {
        am.display_name = Set(i.sent.display_name.clone())
    }),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("support_threshold", |am, i| {
        am.support_threshold = Set(i.sent.support_threshold)
    }),
    ("quorum_share", |am, i| {
        am.quorum_share = Set(i.sent.quorum_share)
    }),
    ("quorum_required_kinds", |am, i| {
        am.quorum_required_kinds = Set(to_json(&i.checked))
    }),
]);

/// `councils/{id}`.
pub fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// The council's place as a resource name.
pub fn place(m: &Model) -> String {
    match m.courtyard_id {
        Some(c) => names::format("courtyards", c),
        None => names::format("communities", m.community_id),
    }
}

/// The default quorum's required kinds.
pub fn required_kinds(m: &Model) -> Vec<SeatKind> {
    from_json::<i32>(&m.quorum_required_kinds)
        .into_iter()
        .filter_map(|k| SeatKind::try_from(k).ok())
        .collect()
}

fn to_proto(m: &Model) -> Council {
    Council {
        name: name(m.id),
        display_name: m.display_name.clone(),
        place: place(m),
        community: names::format("communities", m.community_id),
        description: m.description.clone(),
        support_threshold: m.support_threshold,
        quorum_share: m.quorum_share,
        quorum_required_kinds: from_json(&m.quorum_required_kinds),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a council the caller sees.
pub async fn visible<C: ConnectionTrait>(conn: &C, caller: &Caller, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if caller.sees(&m) => Ok(m),
        _ => Err(caller.scope.missing("Council", &name(id))),
    }
}

/// Loads a council the caller sees, from a `councils/{id}` field.
pub async fn visible_named<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    field: &str,
    value: &str,
) -> Result<Model> {
    let id = read_id(field, value, COLLECTION)?;
    visible(conn, caller, id).await
}

/// Checks seat kinds given as enum numbers: known, not UNSPECIFIED, once.
pub fn check_kinds(c: &mut Check, field: &str, kinds: &[i32]) -> Vec<i32> {
    let mut out = Vec::new();
    for (i, k) in kinds.iter().enumerate() {
        let kind: SeatKind = c.enumeration(&format!("{field}[{i}]"), *k, true);
        if kind != SeatKind::Unspecified && !out.contains(k) {
            out.push(*k);
        }
    }
    out
}

fn check(c: &mut Check, t: &Council, mask: Option<&UpdateMask>) -> Vec<i32> {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("council.display_name", &t.display_name, 1, 100);
    }
    if want("description") {
        c.text("council.description", &t.description, 0, 4000);
    }
    if want("support_threshold") {
        c.range(
            "council.support_threshold",
            t.support_threshold.into(),
            0,
            10_000,
        );
    }
    if want("quorum_share") && !(0.0..=1.0).contains(&t.quorum_share) {
        c.add("council.quorum_share", "must be between 0 and 1");
    }
    if want("quorum_required_kinds") {
        check_kinds(c, "council.quorum_required_kinds", &t.quorum_required_kinds)
    } else {
        Vec::new()
    }
}

/// GetCouncil.
pub async fn get(svc: &Deliberation, caller: &Caller, req: GetCouncilRequest) -> Result<Council> {
    let m = visible_named(svc.ctx.db.read(), caller, "name", &req.name).await?;
    Ok(to_proto(&m))
}

/// ListCouncils.
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListCouncilsRequest,
) -> Result<ListCouncilsResponse> {
    let fields = [
        Field::custom("place", |op, value| {
            use cogov_kit::filter::Op;
            let cond = if let Some(c) = names::parse("courtyards", value) {
                Column::CourtyardId.eq(c)
            } else if let Some(c) = names::parse("communities", value) {
                Column::CourtyardId.is_null().and(Column::CommunityId.eq(c))
            } else {
                return Err("expected a `courtyards/{id}` or `communities/{id}` name".into());
            };
            match op {
                Op::Eq | Op::Has => Ok(cond),
                Op::Ne => Ok(cond.not()),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
    ];
    let query = ListQuery::new(
        "ListCouncils",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let spec = Spec::new(&fields, &[], Column::Id);
    let base = Entity::find().filter(caller.councils_condition());
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListCouncilsResponse {
        councils: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateCouncil: staff of the place's community.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateCouncilRequest,
) -> Result<Council> {
    let key = Key::new("CreateCouncil", &req.request_id, principal, &req);
    let t = required("council", req.council)?;
    let mut c = Check::new();
    let kinds = check(&mut c, &t, None);
    c.request_id(&req.request_id);
    let (community, courtyard) = match names::collection(&t.place) {
        Some("courtyards") => (
            None,
            c.optional_name("council.place", &t.place, "courtyards"),
        ),
        Some("communities") => (
            c.optional_name("council.place", &t.place, "communities"),
            None,
        ),
        _ => {
            c.add(
                "council.place",
                "is required: a `courtyards/{id}` or `communities/{id}` name",
            );
            (None, None)
        }
    };
    c.finish()?;
    let community = match (community, courtyard) {
        (_, Some(courtyard)) => {
            svc.directory
                .courtyard(courtyard)
                .await?
                .ok_or_else(|| Error::invalid("council.place", "no such courtyard"))?
                .community
        }
        (Some(community), None) => {
            if !svc.directory.community_exists(community).await? {
                return Err(Error::invalid("council.place", "no such community"));
            }
            community
        }
        (None, None) => unreachable!("checked above"),
    };
    caller.scope.require_staff(community, &t.place)?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            display_name: Set(t.display_name),
            community_id: Set(community),
            courtyard_id: Set(courtyard),
            description: Set(t.description),
            support_threshold: Set(t.support_threshold),
            quorum_share: Set(t.quorum_share),
            quorum_required_kinds: Set(to_json(&kinds)),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row))
    })
    .await
}

/// UpdateCouncil: staff.
pub async fn update(
    svc: &Deliberation,
    caller: &Caller,
    req: UpdateCouncilRequest,
) -> Result<Council> {
    let t = required("council", req.council)?;
    let id = read_id("council.name", &t.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let kinds = check(&mut c, &t, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = visible(&txn, caller, id).await?;
    caller.scope.require_staff(row.community_id, &name(id))?;
    let mut edit = VERSIONED.edit(row, &t.etag, &name(id), svc.ctx.clock.now())?;
    edit.apply(
        &FIELDS,
        &mask,
        &Input {
            sent: t,
            checked: kinds,
        },
    );
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteCouncil: staff, only a council without topics or meetings (its
/// seats go with it).
pub async fn delete(svc: &Deliberation, caller: &Caller, req: DeleteCouncilRequest) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = visible(&txn, caller, id).await?;
    caller.scope.require_staff(row.community_id, &name(id))?;
    etag::check(&req.etag, row.revision, &name(id))?;
    let topics = topics::Entity::find()
        .filter(topics::Column::CouncilId.eq(id))
        .count(&txn)
        .await?;
    let meetings = meetings::Entity::find()
        .filter(meetings::Column::CouncilId.eq(id))
        .count(&txn)
        .await?;
    if topics + meetings > 0 {
        return Err(Error::precondition(
            ErrorReason::HasChildren,
            "HAS_CHILDREN",
            name(id),
            format!("{topics} topics and {meetings} meetings; a council with a record is kept"),
        ));
    }
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The kinds of the seats in force on a council today.
pub async fn kinds_in_force<C: ConnectionTrait>(
    conn: &C,
    council: Uuid,
    today: chrono::NaiveDate,
) -> Result<Vec<(Uuid, SeatKind)>> {
    let rows: Vec<(Uuid, i32)> = seats::Entity::find()
        .select_only()
        .column(seats::Column::PersonId)
        .column(seats::Column::Kind)
        .filter(seats::Column::CouncilId.eq(council))
        .filter(seats::Column::StartDate.lte(today))
        .filter(
            sea_orm::Condition::any()
                .add(seats::Column::EndDate.is_null())
                .add(seats::Column::EndDate.gte(today)),
        )
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(p, k)| (p, SeatKind::try_from(k).unwrap_or_default()))
        .collect())
}

/// CheckCouncilComposition: the 1+4+N check of the seats in force today.
pub async fn check_composition(
    svc: &Deliberation,
    caller: &Caller,
    req: CheckCouncilCompositionRequest,
) -> Result<CompositionReport> {
    let conn = svc.ctx.db.read();
    let m = visible_named(conn, caller, "name", &req.name).await?;
    let kinds: Vec<SeatKind> = kinds_in_force(conn, m.id, svc.ctx.clock.today())
        .await?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    let found = composition::check(&kinds);
    Ok(CompositionReport {
        council: name(m.id),
        satisfied: found.satisfied,
        seat_counts: found.counts.into_iter().collect(),
        missing_kinds: found.missing.into_iter().map(|k| k as i32).collect(),
        problems: found.problems,
    })
}

/// GetCouncilStatistics: topics by state, resolutions, action items and
/// the implementation rate (落地率), meetings held.
pub async fn statistics(
    svc: &Deliberation,
    caller: &Caller,
    req: GetCouncilStatisticsRequest,
) -> Result<CouncilStatistics> {
    let conn = svc.ctx.db.read();
    let m = visible_named(conn, caller, "name", &req.name).await?;
    let by_state: Vec<(i32, i64)> = topics::Entity::find()
        .select_only()
        .column(topics::Column::State)
        .column_as(topics::Column::Id.count(), "n")
        .filter(topics::Column::CouncilId.eq(m.id))
        .group_by(topics::Column::State)
        .into_tuple()
        .all(conn)
        .await?;
    let topics_by_state: BTreeMap<String, i32> = by_state
        .into_iter()
        .map(|(s, n)| {
            let state = TopicState::try_from(s).unwrap_or_default();
            (lifecycle::state_name(state).to_owned(), n as i32)
        })
        .collect();
    let resolutions = resolutions::Entity::find()
        .filter(resolutions::Column::CouncilId.eq(m.id))
        .count(conn)
        .await? as i32;
    let items: Vec<(
        i32,
        chrono::NaiveDate,
        Option<chrono::DateTime<chrono::Utc>>,
    )> = action_items::Entity::find()
        .select_only()
        .column(action_items::Column::Status)
        .column(action_items::Column::DueDate)
        .column(action_items::Column::DoneTime)
        .filter(action_items::Column::CouncilId.eq(m.id))
        .into_tuple()
        .all(conn)
        .await?;
    let done = ActionItemStatus::Done as i32;
    let cancelled = ActionItemStatus::Cancelled as i32;
    let items_done = items.iter().filter(|(s, _, _)| *s == done).count() as i32;
    let on_time = items
        .iter()
        .filter(|(s, due, at)| {
            *s == done && at.is_some_and(|t| (t + chrono::Duration::hours(8)).date_naive() <= *due)
        })
        .count() as i32;
    let counted = items.iter().filter(|(s, _, _)| *s != cancelled).count() as i32;
    let meetings = meetings::Entity::find()
        .filter(meetings::Column::CouncilId.eq(m.id))
        .filter(meetings::Column::State.eq(MeetingState::Ended as i32))
        .count(conn)
        .await? as i32;
    Ok(CouncilStatistics {
        council: name(m.id),
        topics_by_state,
        resolutions,
        action_items: items.len() as i32,
        action_items_done: items_done,
        action_items_done_on_time: on_time,
        implementation_rate: if counted > 0 {
            f64::from(items_done) / f64::from(counted)
        } else {
            0.0
        },
        meetings,
    })
}

/// Kind names, for messages.
pub fn kind_names(kinds: &[SeatKind]) -> String {
    kinds
        .iter()
        .map(|k| kind_name(*k))
        .collect::<Vec<_>>()
        .join(", ")
}
