//! Communities: GetCommunity, ListCommunities, CreateCommunity,
//! UpdateCommunity, DeleteCommunity.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::Check;
use cogov_kit::{Result, convert, etag, names};
use cogov_proto::organizations::{
    Community, CreateCommunityRequest, DeleteCommunityRequest, GetCommunityRequest,
    ListCommunitiesRequest, ListCommunitiesResponse, UpdateCommunityRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::access::Scope;
use crate::entity::places::{self, Column, Entity, PlaceKind};
use crate::places as store;
use crate::streets::blank;
use crate::{Organizations, read_id, required};

const KIND: PlaceKind = PlaceKind::Community;
const FIELDS: Fields<Community, places::ActiveModel> = Fields::new(&[
    ("display_name", |am, s| {
        am.display_name = Set(s.display_name.clone())
    }),
    ("code", |am, s| am.code = Set(s.code.clone())),
    ("address", |am, s| am.address = Set(s.address.clone())),
]);

fn to_proto(m: &places::Model) -> Community {
    Community {
        name: m.name(),
        street: m
            .parent_id
            .map(|s| names::format("streets", s))
            .unwrap_or_default(),
        display_name: m.display_name.clone(),
        code: m.code.clone(),
        address: m.address.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn check(c: &mut Check, s: &Community, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("community.display_name", &s.display_name, 1, 100);
    }
    if want("code") {
        c.line("community.code", &s.code, 0, 32);
    }
    if want("address") {
        c.line("community.address", &s.address, 0, 200);
    }
}

/// GetCommunity.
pub async fn get(
    svc: &Organizations,
    scope: &Scope,
    req: GetCommunityRequest,
) -> Result<Community> {
    let id = read_id("name", &req.name, KIND.collection())?;
    Ok(to_proto(
        &store::get_visible(svc.ctx.db.read(), scope, KIND, id).await?,
    ))
}

/// ListCommunities.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListCommunitiesRequest,
) -> Result<ListCommunitiesResponse> {
    let fields = [
        Field::column("street", Column::StreetId, Kind::Name("streets")),
        Field::column("display_name", Column::DisplayName, Kind::Text),
        Field::column("code", Column::Code, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListCommunities",
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
    Ok(ListCommunitiesResponse {
        communities: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateCommunity.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateCommunityRequest,
) -> Result<Community> {
    scope.require_all("create communities")?;
    let key = Key::new("CreateCommunity", &req.request_id, principal, &req);
    let s = required("community", req.community)?;
    let mut c = Check::new();
    let street = c.name("community.street", &s.street, "streets");
    check(&mut c, &s, None);
    c.request_id(&req.request_id);
    c.finish()?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        store::reference(txn, scope, "community.street", PlaceKind::Street, street).await?;
        let mut row = blank(KIND, now);
        let id = *row.id.as_ref();
        row.parent_id = Set(Some(street));
        row.street_id = Set(Some(street));
        row.community_id = Set(Some(id));
        row.display_name = Set(s.display_name);
        row.code = Set(s.code);
        row.address = Set(s.address);
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateCommunity.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateCommunityRequest,
) -> Result<Community> {
    let s = required("community", req.community)?;
    let id = read_id("community.name", &s.name, KIND.collection())?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check(&mut c, &s, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_community_write(Some(id), &row.name())?;
    let mut edit = store::edit(row, &s.etag, svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &s);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteCommunity.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeleteCommunityRequest) -> Result<()> {
    let id = read_id("name", &req.name, KIND.collection())?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_all("delete communities")?;
    store::delete(&txn, &row, &req.etag).await?;
    txn.commit().await?;
    Ok(())
}
