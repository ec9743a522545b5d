//! Agreements: GetAgreement, ListAgreements, CreateAgreement,
//! UpdateAgreement, TerminateAgreement, DeleteAgreement. They define
//! partners' reach, so only street admins change them.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::organizations::{
    Agreement, AgreementKind, AgreementState, CreateAgreementRequest, DeleteAgreementRequest,
    GetAgreementRequest, ListAgreementsRequest, ListAgreementsResponse, OrganizationKind,
    TerminateAgreementRequest, UpdateAgreementRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, IntoCondition, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::access::{Scope, nothing};
use crate::entity::agreement_places;
use crate::entity::agreements::{self, Column, Entity, Model};
use crate::entity::places::PlaceKind;
use crate::places as place_store;
use crate::{Organizations, events, organizations, read_id, required};

const COLLECTION: &str = "agreements";
const RESOURCE: &str = "Agreement";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// Setters read the agreement sent and its checked start and end.
const FIELDS: Fields<Input<Agreement, Window>, agreements::ActiveModel> = Fields::new(&[
    ("title", |am, i| am.title = Set(i.sent.title.clone())),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    // The places are rows of their own, written by `write_places`.
    ("courtyards", |_, _| {}),
    ("communities", |_, _| {}),
    ("start_time", |am, i| {
        am.start_time = Set(i.checked.0.expect("checked"))
    }),
    ("end_time", |am, i| am.end_time = Set(i.checked.1)),
]);
/// An agreement's start and end as checked.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
const MAX_PLACES: usize = 500;

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn state(m: &Model, now: DateTime<Utc>) -> AgreementState {
    if m.terminate_time.is_some_and(|t| t <= now) {
        AgreementState::Terminated
    } else if m.start_time > now {
        AgreementState::Pending
    } else if m.end_time.is_some_and(|t| t <= now) {
        AgreementState::Expired
    } else {
        AgreementState::Active
    }
}

fn to_proto(m: &Model, places: &[agreement_places::Model], now: DateTime<Utc>) -> Agreement {
    let named = |kind: PlaceKind| {
        places
            .iter()
            .filter(|p| p.place_kind == kind as i16)
            .map(|p| names::format(kind.collection(), p.place_id))
            .collect()
    };
    Agreement {
        name: name(m.id),
        kind: m.kind,
        organization: names::format("organizations", m.organization_id),
        courtyards: named(PlaceKind::Courtyard),
        communities: named(PlaceKind::Community),
        title: m.title.clone(),
        description: m.description.clone(),
        start_time: Some(convert::timestamp(m.start_time)),
        end_time: convert::opt_timestamp(m.end_time),
        terminate_time: convert::opt_timestamp(m.terminate_time),
        state: state(m, now) as i32,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
        terminate_reason: m.terminate_reason.clone(),
    }
}

async fn places_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<agreement_places::Model>>> {
    let mut out: HashMap<Uuid, Vec<agreement_places::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = agreement_places::Entity::find()
        .filter(agreement_places::Column::AgreementId.is_in(ids.iter().copied()))
        .order_by_asc(agreement_places::Column::Position)
        .all(conn)
        .await?;
    for row in rows {
        out.entry(row.agreement_id).or_default().push(row);
    }
    Ok(out)
}

async fn render<C: ConnectionTrait>(conn: &C, m: &Model, now: DateTime<Utc>) -> Result<Agreement> {
    let places = places_of(conn, &[m.id]).await?;
    Ok(to_proto(
        m,
        places.get(&m.id).map_or(&[][..], Vec::as_slice),
        now,
    ))
}

fn touching(community: Uuid) -> SimpleExpr {
    Column::Id.in_subquery(
        Query::select()
            .column(agreement_places::Column::AgreementId)
            .from(agreement_places::Entity)
            .and_where(agreement_places::Column::CommunityId.eq(community))
            .to_owned(),
    )
}

fn visible_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Community(c) => touching(*c).into_condition(),
        Scope::Partner(reach) => Column::OrganizationId
            .eq(reach.organization)
            .into_condition(),
        Scope::Resident(_) => nothing(),
    }
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id)
        .filter(visible_condition(scope))
        .one(conn)
        .await?
    {
        Some(m) => Ok(m),
        None => Err(scope.missing(RESOURCE, &name(id))),
    }
}

/// The checked places of a request: the kind they must be and their ids.
fn check_places(c: &mut Check, kind: AgreementKind, a: &Agreement) -> Vec<Uuid> {
    let (wanted, wanted_field, other, other_field, collection) = match kind {
        AgreementKind::Service => (
            &a.courtyards,
            "agreement.courtyards",
            &a.communities,
            "agreement.communities",
            "courtyards",
        ),
        _ => (
            &a.communities,
            "agreement.communities",
            &a.courtyards,
            "agreement.courtyards",
            "communities",
        ),
    };
    if !other.is_empty() {
        c.add(other_field, "must be empty for this kind of agreement");
    }
    if wanted.is_empty() {
        c.add(wanted_field, "needs at least one place");
    }
    if wanted.len() > MAX_PLACES {
        c.add(wanted_field, format!("at most {MAX_PLACES} places"));
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for (i, place) in wanted.iter().enumerate() {
        let field = format!("{wanted_field}[{i}]");
        if let Some(id) = c.optional_name(&field, place, collection) {
            if !seen.insert(id) {
                c.add(field, "is listed twice");
            }
            ids.push(id);
        }
    }
    ids
}

fn check_window(
    c: &mut Check,
    a: &Agreement,
    mask: Option<&UpdateMask>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    let start = if want("start_time") {
        match a.start_time.as_ref().map(convert::from_timestamp) {
            Some(Some(t)) => Some(t),
            Some(None) => {
                c.add("agreement.start_time", "out of range");
                None
            }
            None => {
                c.add("agreement.start_time", "is required");
                None
            }
        }
    } else {
        None
    };
    let end = if want("end_time") {
        match a.end_time.as_ref().map(convert::from_timestamp) {
            Some(Some(t)) => Some(t),
            Some(None) => {
                c.add("agreement.end_time", "out of range");
                None
            }
            None => None,
        }
    } else {
        None
    };
    (start, end)
}

async fn write_places<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    agreement: Uuid,
    kind: AgreementKind,
    ids: &[Uuid],
) -> Result<()> {
    let (place_kind, field) = match kind {
        AgreementKind::Service => (PlaceKind::Courtyard, "agreement.courtyards"),
        _ => (PlaceKind::Community, "agreement.communities"),
    };
    agreement_places::Entity::delete_many()
        .filter(agreement_places::Column::AgreementId.eq(agreement))
        .exec(conn)
        .await?;
    let mut rows = Vec::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        let place = place_store::reference(
            conn,
            scope,
            &format!("{field}[{position}]"),
            place_kind,
            *id,
        )
        .await?;
        rows.push(agreement_places::ActiveModel {
            agreement_id: Set(agreement),
            place_id: Set(*id),
            place_kind: Set(place_kind as i16),
            community_id: Set(place.community_id.unwrap_or(*id)),
            position: Set(position as i32),
        });
    }
    if !rows.is_empty() {
        agreement_places::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn place_filter(
    column: agreement_places::Column,
    collection: &'static str,
) -> impl Fn(Op, &str) -> Result<SimpleExpr, String> {
    move |op, value| {
        let id = names::parse(collection, value)
            .ok_or_else(|| format!("expected a `{collection}/{{id}}` name"))?;
        let sub = Query::select()
            .column(agreement_places::Column::AgreementId)
            .from(agreement_places::Entity)
            .and_where(column.eq(id))
            .to_owned();
        match op {
            Op::Eq | Op::Has => Ok(Column::Id.in_subquery(sub)),
            Op::Ne => Ok(Column::Id.not_in_subquery(sub)),
            _ => Err("only `=`, `!=` and `:` apply".into()),
        }
    }
}

fn state_filter(op: Op, value: &str) -> Result<SimpleExpr, String> {
    let state = AgreementState::from_str_name(value)
        .or_else(|| {
            AgreementState::from_str_name(&format!(
                "AGREEMENT_STATE_{}",
                value.to_ascii_uppercase()
            ))
        })
        .filter(|s| *s != AgreementState::Unspecified)
        .ok_or_else(|| format!("unknown state `{value}`"))?;
    let now = Utc::now();
    let not_terminated = Condition::any()
        .add(Column::TerminateTime.is_null())
        .add(Column::TerminateTime.gt(now));
    let cond = match state {
        AgreementState::Terminated => Column::TerminateTime.lte(now).into_condition(),
        AgreementState::Pending => Condition::all()
            .add(not_terminated)
            .add(Column::StartTime.gt(now)),
        AgreementState::Expired => Condition::all()
            .add(not_terminated)
            .add(Column::StartTime.lte(now))
            .add(Column::EndTime.lte(now)),
        _ => Condition::all()
            .add(not_terminated)
            .add(Column::StartTime.lte(now))
            .add(
                Condition::any()
                    .add(Column::EndTime.is_null())
                    .add(Column::EndTime.gt(now)),
            ),
    };
    match op {
        Op::Eq | Op::Has => Ok(cond.into()),
        Op::Ne => Ok(cond.not().into()),
        _ => Err("only `=`, `!=` and `:` apply".into()),
    }
}

/// GetAgreement.
pub async fn get(
    svc: &Organizations,
    scope: &Scope,
    req: GetAgreementRequest,
) -> Result<Agreement> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let conn = svc.ctx.db.read();
    render(
        conn,
        &get_visible(conn, scope, id).await?,
        svc.ctx.clock.now(),
    )
    .await
}

/// ListAgreements.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListAgreementsRequest,
) -> Result<ListAgreementsResponse> {
    let fields = [
        Field::column(
            "kind",
            Column::Kind,
            Kind::Enum(
                |s| AgreementKind::from_str_name(s).map(|k| k as i32),
                "AGREEMENT_KIND_",
            ),
        ),
        Field::column(
            "organization",
            Column::OrganizationId,
            Kind::Name("organizations"),
        ),
        Field::custom("courtyard", |op, v| {
            place_filter(agreement_places::Column::PlaceId, "courtyards")(op, v)
        }),
        Field::custom("community", |op, v| {
            place_filter(agreement_places::Column::CommunityId, "communities")(op, v)
        }),
        Field::custom("state", state_filter),
    ];
    let conn = svc.ctx.db.read();
    let query = ListQuery::new(
        "ListAgreements",
        req.page_size,
        &req.page_token,
        &req.filter,
        &req.order_by,
    );
    let spec = Spec::new(&fields, &[("title", Column::Title)], Column::Id);
    let base = Entity::find().filter(visible_condition(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Text(m.title.clone()), m.id)
        })
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let places = places_of(conn, &ids).await?;
    let now = svc.ctx.clock.now();
    Ok(ListAgreementsResponse {
        agreements: rows
            .iter()
            .map(|m| to_proto(m, places.get(&m.id).map_or(&[][..], Vec::as_slice), now))
            .collect(),
        next_page_token,
    })
}

/// CreateAgreement.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateAgreementRequest,
) -> Result<Agreement> {
    scope.require_all("record agreements")?;
    let key = Key::new("CreateAgreement", &req.request_id, principal, &req);
    let a = required("agreement", req.agreement)?;
    let mut c = Check::new();
    let kind: AgreementKind = c.enumeration("agreement.kind", a.kind, true);
    let org = c.name("agreement.organization", &a.organization, "organizations");
    c.line("agreement.title", &a.title, 1, 200);
    c.text("agreement.description", &a.description, 0, 4000);
    let ids = if c.failed("agreement.kind") {
        Vec::new()
    } else {
        check_places(&mut c, kind, &a)
    };
    let (start, end) = check_window(&mut c, &a, None);
    c.request_id(&req.request_id);
    c.finish()?;
    let start = start.expect("checked");
    if end.is_some_and(|e| e <= start) {
        return Err(Error::invalid(
            "agreement.end_time",
            "must be after start_time",
        ));
    }

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let partner = organizations::reference(txn, scope, "agreement.organization", org).await?;
        if kind == AgreementKind::Service && partner.kind != OrganizationKind::PropertyFirm as i32 {
            return Err(Error::invalid(
                "agreement.organization",
                "a service agreement is made with a property firm",
            ));
        }
        let id = names::new_id();
        agreements::ActiveModel {
            id: Set(id),
            kind: Set(a.kind),
            organization_id: Set(org),
            title: Set(a.title),
            description: Set(a.description),
            start_time: Set(start),
            end_time: Set(end),
            terminate_time: Set(None),
            terminate_reason: Set(String::new()),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        write_places(txn, scope, id, kind, &ids).await?;
        let row = get_visible(txn, scope, id).await?;
        let out = render(txn, &row, now).await?;
        events::agreement_changed(txn, &out, now).await?;
        Ok(out)
    })
    .await
}

/// UpdateAgreement.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateAgreementRequest,
) -> Result<Agreement> {
    scope.require_all("change agreements")?;
    let a = required("agreement", req.agreement)?;
    let id = read_id("agreement.name", &a.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    if mask.has("title") {
        c.line("agreement.title", &a.title, 1, 200);
    }
    if mask.has("description") {
        c.text("agreement.description", &a.description, 0, 4000);
    }
    let window = check_window(&mut c, &a, Some(&mask));
    c.finish()?;

    let now = svc.ctx.clock.now();
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    let kind = AgreementKind::try_from(row.kind).unwrap_or(AgreementKind::Unspecified);
    let mut edit = VERSIONED.edit(row, &a.etag, &name(id), now)?;
    if edit.before.terminate_time.is_some() {
        return Err(Error::precondition(
            ErrorReason::AgreementTerminated,
            "STATE",
            name(id),
            "a terminated agreement cannot change; record a new one",
        ));
    }
    if mask.has("courtyards") || mask.has("communities") {
        let mut c = Check::new();
        let ids = check_places(&mut c, kind, &a);
        c.finish()?;
        write_places(&txn, scope, id, kind, &ids).await?;
    }
    edit.apply(
        &FIELDS,
        &mask,
        &Input {
            sent: a,
            checked: window,
        },
    );
    let (start, end) = (
        edit.changes.start_time.as_ref(),
        edit.changes.end_time.as_ref(),
    );
    if end.is_some_and(|e| e <= *start) {
        return Err(Error::invalid(
            "agreement.end_time",
            "must be after start_time",
        ));
    }
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved, now).await?;
    events::agreement_changed(&txn, &out, now).await?;
    txn.commit().await?;
    Ok(out)
}

/// TerminateAgreement.
pub async fn terminate(
    svc: &Organizations,
    scope: &Scope,
    req: TerminateAgreementRequest,
) -> Result<Agreement> {
    scope.require_all("terminate agreements")?;
    let id = read_id("name", &req.name, COLLECTION)?;
    let mut c = Check::new();
    c.text("reason", &req.reason, 0, 500);
    c.finish()?;
    let now = svc.ctx.clock.now();
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    let mut edit = VERSIONED.edit(row.clone(), &req.etag, &name(id), now)?;
    match state(&row, now) {
        AgreementState::Terminated => {
            return Err(Error::illegal_transition(
                name(id),
                "TERMINATED",
                "terminated",
            ));
        }
        AgreementState::Expired => {
            return Err(Error::illegal_transition(name(id), "EXPIRED", "terminated"));
        }
        _ => {}
    }
    let am = &mut edit.changes;
    am.terminate_time = Set(Some(now));
    am.terminate_reason = Set(req.reason);
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved, now).await?;
    events::agreement_changed(&txn, &out, now).await?;
    txn.commit().await?;
    Ok(out)
}

/// DeleteAgreement.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeleteAgreementRequest) -> Result<()> {
    scope.require_all("delete agreements")?;
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    etag::check(&req.etag, row.revision, &name(id))?;
    let gone = render(&txn, &row, svc.ctx.clock.now()).await?;
    events::agreement_changed(&txn, &gone, svc.ctx.clock.now()).await?;
    agreement_places::Entity::delete_many()
        .filter(agreement_places::Column::AgreementId.eq(id))
        .exec(&txn)
        .await?;
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}
