//! Streets: GetStreet, ListStreets, CreateStreet, UpdateStreet, DeleteStreet.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::Check;
use cogov_kit::{Result, convert, etag};
use cogov_proto::organizations::{
    CreateStreetRequest, DeleteStreetRequest, GetStreetRequest, ListStreetsRequest,
    ListStreetsResponse, Street, UpdateStreetRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::access::Scope;
use crate::entity::places::{self, Column, Entity, PlaceKind};
use crate::places as store;
use crate::{Organizations, read_id, required};

const KIND: PlaceKind = PlaceKind::Street;
const FIELDS: Fields<Street, places::ActiveModel> = Fields::new(&[
    ("display_name", |am, s| {
        am.display_name = Set(s.display_name.clone())
    }),
    ("code", |am, s| am.code = Set(s.code.clone())),
    ("district", |am, s| am.district = Set(s.district.clone())),
]);

fn to_proto(m: &places::Model) -> Street {
    Street {
        name: m.name(),
        display_name: m.display_name.clone(),
        code: m.code.clone(),
        district: m.district.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn check(c: &mut Check, s: &Street, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("street.display_name", &s.display_name, 1, 100);
    }
    if want("code") {
        c.line("street.code", &s.code, 0, 32);
    }
    if want("district") {
        c.line("street.district", &s.district, 0, 100);
    }
}

/// GetStreet.
pub async fn get(svc: &Organizations, scope: &Scope, req: GetStreetRequest) -> Result<Street> {
    let id = read_id("name", &req.name, KIND.collection())?;
    Ok(to_proto(
        &store::get_visible(svc.ctx.db.read(), scope, KIND, id).await?,
    ))
}

/// ListStreets.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListStreetsRequest,
) -> Result<ListStreetsResponse> {
    let fields = [
        Field::column("display_name", Column::DisplayName, Kind::Text),
        Field::column("code", Column::Code, Kind::Text),
        Field::column("district", Column::District, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListStreets",
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
    Ok(ListStreetsResponse {
        streets: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateStreet.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateStreetRequest,
) -> Result<Street> {
    scope.require_all("create streets")?;
    let key = Key::new("CreateStreet", &req.request_id, principal, &req);
    let s = required("street", req.street)?;
    let mut c = Check::new();
    check(&mut c, &s, None);
    c.request_id(&req.request_id);
    c.finish()?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let mut row = blank(KIND, now);
        row.street_id = Set(Some(*row.id.as_ref()));
        row.display_name = Set(s.display_name);
        row.code = Set(s.code);
        row.district = Set(s.district);
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateStreet.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateStreetRequest,
) -> Result<Street> {
    let s = required("street", req.street)?;
    let id = read_id("street.name", &s.name, KIND.collection())?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check(&mut c, &s, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_all("change streets")?;
    let mut edit = store::edit(row, &s.etag, svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &s);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteStreet.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeleteStreetRequest) -> Result<()> {
    let id = read_id("name", &req.name, KIND.collection())?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_all("delete streets")?;
    store::delete(&txn, &row, &req.etag).await?;
    txn.commit().await?;
    Ok(())
}

/// A new place row of `kind` with every column at its default.
pub(crate) fn blank(kind: PlaceKind, now: chrono::DateTime<chrono::Utc>) -> places::ActiveModel {
    places::ActiveModel {
        id: Set(cogov_kit::names::new_id()),
        kind: Set(kind as i16),
        parent_id: Set(None),
        street_id: Set(None),
        community_id: Set(None),
        courtyard_id: Set(None),
        display_name: Set(String::new()),
        code: Set(String::new()),
        district: Set(String::new()),
        address: Set(String::new()),
        courtyard_kind: Set(0),
        household_count: Set(0),
        floor_count: Set(0),
        latitude: Set(None),
        longitude: Set(None),
        theme: Set(String::new()),
        pairing_community_id: Set(None),
        pilot: Set(false),
        two_nos_met: Set(false),
        two_nos_last_met_time: Set(None),
        two_nos_update_time: Set(None),
        revision: Set(1),
        create_time: Set(now),
        update_time: Set(now),
    }
}
