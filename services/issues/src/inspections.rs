//! Inspections: CreateInspection, GetInspection, ListInspections.

use cogov_kit::auth::Principal;
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::issues::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::inspections::{self as rows, Column, Entity, Model};
use crate::{Issues, media, read_code, read_id, required, two_nos};
use cogov_kit::scope::Scope;

const COLLECTION: &str = "inspections";

fn to_proto(m: &Model) -> Inspection {
    Inspection {
        name: names::format(COLLECTION, m.id),
        courtyard: names::format("courtyards", m.courtyard_id),
        community: names::format("communities", m.community_id),
        sub_item: format!("subItems/{}", m.sub_item_id),
        result: m.result,
        inspector: m.inspector.clone(),
        notes: m.notes.clone(),
        media: media::from_json(&m.media),
        inspect_time: Some(convert::timestamp(m.inspect_time)),
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

fn visible(scope: &Scope) -> sea_orm::sea_query::Condition {
    scope.place_condition(Column::CommunityId, Some(Column::CourtyardId))
}

/// CreateInspection: staff, or a partner in its reach (a property firm
/// inspecting the courtyards it serves).
pub async fn create(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: CreateInspectionRequest,
) -> Result<Inspection> {
    let key = Key::new("CreateInspection", &req.request_id, principal, &req);
    let i = required("inspection", req.inspection)?;
    let now = svc.ctx.clock.now();
    let mut c = Check::new();
    let courtyard = c.name("inspection.courtyard", &i.courtyard, "courtyards");
    let result: InspectionResult = c.enumeration("inspection.result", i.result, true);
    if !i.inspector.is_empty()
        && names::parse("persons", &i.inspector).is_none()
        && names::parse("organizations", &i.inspector).is_none()
    {
        c.add(
            "inspection.inspector",
            "must be a `persons/…` or `organizations/…` name",
        );
    }
    c.text("inspection.notes", &i.notes, 0, 4000);
    media::check(&mut c, "inspection.media", &i.media);
    let inspect_time = match i.inspect_time.as_ref().map(convert::from_timestamp) {
        None => now,
        Some(Some(t)) if t <= now => t,
        Some(Some(_)) => {
            c.add("inspection.inspect_time", "must not be in the future");
            now
        }
        Some(None) => {
            c.add("inspection.inspect_time", "out of range");
            now
        }
    };
    c.request_id(&req.request_id);
    c.finish()?;
    let code = read_code("inspection.sub_item", &i.sub_item, "subItems")?;
    if svc.sub_items.get(svc.ctx.db.read(), &code).await?.is_none() {
        return Err(Error::invalid(
            "inspection.sub_item",
            format!("{} does not exist", i.sub_item),
        ));
    }
    let place = svc.directory.courtyard(courtyard).await?.ok_or_else(|| {
        Error::invalid(
            "inspection.courtyard",
            format!("{} does not exist", i.courtyard),
        )
    })?;
    match scope {
        Scope::Partner { reach, .. } if reach.covers(Some(place.community), Some(courtyard)) => {}
        Scope::Partner { .. } => return Err(Error::out_of_reach(&i.courtyard)),
        other => other.require_staff(place.community, &i.courtyard)?,
    }
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            courtyard_id: Set(courtyard),
            community_id: Set(place.community),
            sub_item_id: Set(code),
            result: Set(result as i32),
            inspector: Set(i.inspector),
            notes: Set(i.notes),
            media: Set(media::to_json(&i.media)),
            inspect_time: Set(inspect_time),
            create_time: Set(now),
        }
        .insert(txn)
        .await?;
        let turn = two_nos::take_turn(txn, courtyard).await?;
        two_nos::recompute(txn, &turn, place.community, now).await?;
        Ok(to_proto(&row))
    })
    .await
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .filter(visible(scope))
        .one(conn)
        .await?
        .ok_or_else(|| scope.missing("Inspection", &names::format(COLLECTION, id)))
}

/// GetInspection.
pub async fn get(svc: &Issues, scope: &Scope, req: GetInspectionRequest) -> Result<Inspection> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&get_visible(svc.ctx.db.read(), scope, id).await?))
}

/// ListInspections, newest first.
pub async fn list(
    svc: &Issues,
    scope: &Scope,
    req: ListInspectionsRequest,
) -> Result<ListInspectionsResponse> {
    let fields = [
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::custom("sub_item", |op, value| {
            let code = value
                .strip_prefix("subItems/")
                .filter(|c| crate::valid_code(c))
                .ok_or("expected a `subItems/{code}` name")?;
            match op {
                Op::Eq | Op::Has => Ok(Column::SubItemId.eq(code)),
                Op::Ne => Ok(Column::SubItemId.ne(code)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column(
            "result",
            Column::Result,
            Kind::Enum(
                |s| InspectionResult::from_str_name(s).map(|v| v as i32),
                "INSPECTION_RESULT_",
            ),
        ),
        Field::column("inspect_time", Column::InspectTime, Kind::Timestamp),
    ];
    let query = ListQuery::new(
        "ListInspections",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let base = Entity::find().filter(visible(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListInspectionsResponse {
        inspections: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}
