//! Buildings: GetBuilding, ListBuildings, CreateBuilding, UpdateBuilding,
//! DeleteBuilding.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::Check;
use cogov_kit::{Result, convert, etag, names};
use cogov_proto::organizations::{
    Building, CreateBuildingRequest, DeleteBuildingRequest, GetBuildingRequest,
    ListBuildingsRequest, ListBuildingsResponse, UpdateBuildingRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::access::Scope;
use crate::entity::places::{self, Column, Entity, PlaceKind};
use crate::places as store;
use crate::streets::blank;
use crate::{Organizations, read_id, required};

const KIND: PlaceKind = PlaceKind::Building;
const FIELDS: Fields<Building, places::ActiveModel> = Fields::new(&[
    ("display_name", |am, s| {
        am.display_name = Set(s.display_name.clone())
    }),
    ("floor_count", |am, s| am.floor_count = Set(s.floor_count)),
    ("household_count", |am, s| {
        am.household_count = Set(s.household_count)
    }),
]);

fn to_proto(m: &places::Model) -> Building {
    Building {
        name: m.name(),
        courtyard: m
            .parent_id
            .map(|c| names::format("courtyards", c))
            .unwrap_or_default(),
        display_name: m.display_name.clone(),
        floor_count: m.floor_count,
        household_count: m.household_count,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn check(c: &mut Check, s: &Building, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("building.display_name", &s.display_name, 1, 100);
    }
    if want("floor_count") {
        c.range("building.floor_count", s.floor_count.into(), 0, 200);
    }
    if want("household_count") {
        c.range(
            "building.household_count",
            s.household_count.into(),
            0,
            10_000,
        );
    }
}

/// GetBuilding.
pub async fn get(svc: &Organizations, scope: &Scope, req: GetBuildingRequest) -> Result<Building> {
    let id = read_id("name", &req.name, KIND.collection())?;
    Ok(to_proto(
        &store::get_visible(svc.ctx.db.read(), scope, KIND, id).await?,
    ))
}

/// ListBuildings.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListBuildingsRequest,
) -> Result<ListBuildingsResponse> {
    let fields = [
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("display_name", Column::DisplayName, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListBuildings",
        req.page_size,
        &req.page_token,
        &req.filter,
        &req.order_by,
    );
    let spec = Spec::new(
        &fields,
        &[("display_name", Column::DisplayName)],
        Column::Id,
    );
    let base = Entity::find()
        .filter(Column::Kind.eq(KIND as i16))
        .filter(store::visible_condition(scope, KIND));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Text(m.display_name.clone()), m.id)
        })
        .await?;
    Ok(ListBuildingsResponse {
        buildings: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateBuilding.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateBuildingRequest,
) -> Result<Building> {
    let key = Key::new("CreateBuilding", &req.request_id, principal, &req);
    let s = required("building", req.building)?;
    let mut c = Check::new();
    let courtyard = c.name("building.courtyard", &s.courtyard, "courtyards");
    check(&mut c, &s, None);
    c.request_id(&req.request_id);
    c.finish()?;
    if !scope.is_staff() {
        return Err(cogov_kit::Error::forbidden("create buildings"));
    }

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let parent = store::reference(
            txn,
            scope,
            "building.courtyard",
            PlaceKind::Courtyard,
            courtyard,
        )
        .await?;
        scope.require_community_write(parent.community_id, &s.courtyard)?;
        let mut row = blank(KIND, now);
        row.parent_id = Set(Some(courtyard));
        row.street_id = Set(parent.street_id);
        row.community_id = Set(parent.community_id);
        row.courtyard_id = Set(Some(courtyard));
        row.display_name = Set(s.display_name);
        row.floor_count = Set(s.floor_count);
        row.household_count = Set(s.household_count);
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateBuilding.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateBuildingRequest,
) -> Result<Building> {
    let s = required("building", req.building)?;
    let id = read_id("building.name", &s.name, KIND.collection())?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check(&mut c, &s, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_community_write(row.community_id, &row.name())?;
    let mut edit = store::edit(row, &s.etag, svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &s);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteBuilding.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeleteBuildingRequest) -> Result<()> {
    let id = read_id("name", &req.name, KIND.collection())?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_community_write(row.community_id, &row.name())?;
    store::delete(&txn, &row, &req.etag).await?;
    txn.commit().await?;
    Ok(())
}
