//! Seats: GetSeat, ListSeats, CreateSeat, UpdateSeat, DeleteSeat. A seat is
//! a person's place on a council for a term; staff of the council's
//! community fill them.

use chrono::NaiveDate;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::deliberation::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Caller;
use crate::composition;
use crate::entity::seats::{self as rows, Column, Entity, Model};
use crate::{Deliberation, councils};

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

/// `councils/{council}/seats/{seat}`.
pub fn name(m: &Model) -> String {
    names::format_child(councils::COLLECTION, m.council_id, "seats", m.id)
}

/// Reads a seat name: (council, seat).
pub fn parse(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    cogov_kit::validate::read_child_id(field, value, councils::COLLECTION, "seats")
}

fn to_proto(m: &Model) -> Seat {
    let kind = SeatKind::try_from(m.kind).unwrap_or_default();
    Seat {
        name: name(m),
        person: names::format("persons", m.person_id),
        kind: m.kind,
        organization: m
            .organization_id
            .map(|o| names::format("organizations", o))
            .unwrap_or_default(),
        voting: composition::votes(kind),
        start_date: Some(convert::date(m.start_date)),
        end_date: m.end_date.map(convert::date),
        create_time: Some(convert::timestamp(m.create_time)),
        etag: etag::format(m.revision),
    }
}

struct Checked {
    person: Uuid,
    kind: SeatKind,
    organization: Option<Uuid>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
}

const FIELDS: Fields<Input<Seat, Checked>, rows::ActiveModel> = Fields::new(&[
    ("kind", |am, i| am.kind = Set(i.checked.kind as i32)),
    ("organization", |am, i| {
        am.organization_id = Set(i.checked.organization)
    }),
    ("start_date", |am, i| {
        am.start_date = Set(i.checked.start.expect("checked"))
    }),
    ("end_date", |am, i| am.end_date = Set(i.checked.end)),
]);

fn check(c: &mut Check, s: &Seat, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    let person = if mask.is_none() {
        c.name("seat.person", &s.person, "persons")
    } else {
        Uuid::nil()
    };
    let kind = if want("kind") {
        c.enumeration("seat.kind", s.kind, true)
    } else {
        SeatKind::Unspecified
    };
    let organization = if want("organization") {
        c.optional_name("seat.organization", &s.organization, "organizations")
    } else {
        None
    };
    let date = |c: &mut Check, field: &str, d: &Option<cogov_proto::common::Date>| match d {
        Some(d) => match convert::from_date(d) {
            Some(d) => Some(d),
            None => {
                c.add(field, "not a calendar date");
                None
            }
        },
        None => None,
    };
    let start = if want("start_date") {
        let d = date(c, "seat.start_date", &s.start_date);
        if s.start_date.is_none() {
            c.add("seat.start_date", "is required");
        }
        d
    } else {
        None
    };
    let end = if want("end_date") {
        date(c, "seat.end_date", &s.end_date)
    } else {
        None
    };
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        c.add("seat.end_date", "must not be before start_date");
    }
    Checked {
        person,
        kind,
        organization,
        start,
        end,
    }
}

/// Loads a seat of a council the caller sees.
async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    field: &str,
    value: &str,
) -> Result<(councils::Model, Model)> {
    let (council, id) = parse(field, value)?;
    let council = councils::visible(conn, caller, council).await?;
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if m.council_id == council.id => Ok((council, m)),
        _ => Err(caller.scope.missing("Seat", value)),
    }
}

/// Refuses a second seat of one kind for one person over overlapping terms.
async fn refuse_overlap<C: ConnectionTrait>(
    conn: &C,
    council: Uuid,
    person: Uuid,
    kind: SeatKind,
    (start, end): (NaiveDate, Option<NaiveDate>),
    except: Option<Uuid>,
) -> Result<()> {
    let mut q = Entity::find()
        .filter(Column::CouncilId.eq(council))
        .filter(Column::PersonId.eq(person))
        .filter(Column::Kind.eq(kind as i32))
        .filter(
            sea_orm::Condition::any()
                .add(Column::EndDate.is_null())
                .add(Column::EndDate.gte(start)),
        );
    if let Some(end) = end {
        q = q.filter(Column::StartDate.lte(end));
    }
    if let Some(except) = except {
        q = q.filter(Column::Id.ne(except));
    }
    if let Some(other) = q.one(conn).await? {
        return Err(Error::AlreadyExists {
            resource_type: "Seat",
            name: name(&other),
        });
    }
    Ok(())
}

/// GetSeat.
pub async fn get(svc: &Deliberation, caller: &Caller, req: GetSeatRequest) -> Result<Seat> {
    let (_, m) = visible(svc.ctx.db.read(), caller, "name", &req.name).await?;
    Ok(to_proto(&m))
}

/// ListSeats: of one council, or of every visible council (`councils/-`).
pub async fn list(
    svc: &Deliberation,
    caller: &Caller,
    req: ListSeatsRequest,
) -> Result<ListSeatsResponse> {
    let conn = svc.ctx.db.read();
    let base = if req.parent == "councils/-" {
        let mut q = Entity::find();
        if let Some(cond) = caller.council_condition(svc, Column::CouncilId).await? {
            q = q.filter(cond);
        }
        q
    } else {
        let council = councils::visible_named(conn, caller, "parent", &req.parent).await?;
        Entity::find().filter(Column::CouncilId.eq(council.id))
    };
    let today = svc.ctx.clock.today();
    let fields = [
        Field::column(
            "kind",
            Column::Kind,
            Kind::Enum(
                |s| SeatKind::from_str_name(s).map(|v| v as i32),
                "SEAT_KIND_",
            ),
        ),
        Field::column("person", Column::PersonId, Kind::Name("persons")),
        Field::column(
            "organization",
            Column::OrganizationId,
            Kind::Name("organizations"),
        ),
        Field::custom("active", move |op, value| {
            let active = Column::StartDate
                .lte(today)
                .and(Column::EndDate.is_null().or(Column::EndDate.gte(today)));
            match (op, value) {
                (Op::Eq | Op::Has, "true") | (Op::Ne, "false") => Ok(active),
                (Op::Eq | Op::Has, "false") | (Op::Ne, "true") => Ok(active.not()),
                _ => Err("`active` is `true` or `false`".into()),
            }
        }),
    ];
    let mut query = ListQuery::new("ListSeats", req.page_size, &req.page_token, &req.filter, "");
    query.parent = &req.parent;
    let spec = Spec::new(&fields, &[], Column::Id);
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListSeatsResponse {
        seats: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

async fn check_references(
    svc: &Deliberation,
    person: Option<Uuid>,
    organization: Option<Uuid>,
) -> Result<()> {
    if let Some(person) = person
        && svc.directory.person(person).await?.is_none()
    {
        return Err(Error::invalid("seat.person", "no such person"));
    }
    if let Some(org) = organization
        && svc.directory.organization(org).await?.is_none()
    {
        return Err(Error::invalid("seat.organization", "no such organisation"));
    }
    Ok(())
}

/// CreateSeat: staff of the council's community.
pub async fn create(
    svc: &Deliberation,
    caller: &Caller,
    principal: &Principal,
    req: CreateSeatRequest,
) -> Result<Seat> {
    let key = Key::new("CreateSeat", &req.request_id, principal, &req);
    let council_id = read_id("parent", &req.parent, councils::COLLECTION)?;
    let s = required("seat", req.seat)?;
    let mut c = Check::new();
    let checked = check(&mut c, &s, None);
    if checked.kind == SeatKind::PropertyManager && checked.organization.is_none() {
        c.add(
            "seat.organization",
            "a property manager's seat names the property firm",
        );
    }
    c.request_id(&req.request_id);
    c.finish()?;
    let council = councils::visible(svc.ctx.db.read(), caller, council_id).await?;
    caller
        .scope
        .require_staff(council.community_id, &req.parent)?;
    check_references(svc, Some(checked.person), checked.organization).await?;
    let start = checked.start.expect("checked");
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        refuse_overlap(
            txn,
            council.id,
            checked.person,
            checked.kind,
            (start, checked.end),
            None,
        )
        .await?;
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            council_id: Set(council.id),
            person_id: Set(checked.person),
            kind: Set(checked.kind as i32),
            organization_id: Set(checked.organization),
            start_date: Set(start),
            end_date: Set(checked.end),
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

/// UpdateSeat: staff; the person is fixed.
pub async fn update(svc: &Deliberation, caller: &Caller, req: UpdateSeatRequest) -> Result<Seat> {
    let s = required("seat", req.seat)?;
    // The name before the mask, so a wrong name is what the caller hears of.
    parse("seat.name", &s.name)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &s, Some(&mask));
    c.finish()?;
    check_references(svc, None, checked.organization).await?;
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "seat.name", &s.name).await?;
    caller.scope.require_staff(council.community_id, &s.name)?;
    let mut edit = VERSIONED.edit(row, &s.etag, &s.name, svc.ctx.clock.now())?;
    let row = edit.before.clone();
    edit.apply(&FIELDS, &mask, &Input { sent: s, checked });
    // The seat as it will be, whichever fields the mask moved.
    let after = &edit.changes;
    let kind = SeatKind::try_from(*after.kind.as_ref()).unwrap_or_default();
    let organization = *after.organization_id.as_ref();
    let (start, end) = (*after.start_date.as_ref(), *after.end_date.as_ref());
    if end.is_some_and(|e| e < start) {
        return Err(Error::invalid(
            "seat.end_date",
            "must not be before start_date",
        ));
    }
    if kind == SeatKind::PropertyManager && organization.is_none() {
        return Err(Error::invalid(
            "seat.organization",
            "a property manager's seat names the property firm",
        ));
    }
    refuse_overlap(
        &txn,
        council.id,
        row.person_id,
        kind,
        (start, end),
        Some(row.id),
    )
    .await?;
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteSeat: staff. Ending a term (UpdateSeat's end_date) keeps the
/// record; deleting is for mistakes.
pub async fn delete(svc: &Deliberation, caller: &Caller, req: DeleteSeatRequest) -> Result<()> {
    let txn = svc.ctx.db.begin_write().await?;
    let (council, row) = visible(&txn, caller, "name", &req.name).await?;
    caller
        .scope
        .require_staff(council.community_id, &req.name)?;
    etag::check(&req.etag, row.revision, &req.name)?;
    VERSIONED
        .delete::<Entity, _>(&txn, row.id, row.revision, &req.name)
        .await?;
    txn.commit().await?;
    Ok(())
}
