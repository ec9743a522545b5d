//! Courtyards: GetCourtyard, ListCourtyards, CreateCourtyard,
//! UpdateCourtyard, DeleteCourtyard.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::common::GeoPoint;
use cogov_proto::organizations::{
    Courtyard, CourtyardKind, CreateCourtyardRequest, DeleteCourtyardRequest, GetCourtyardRequest,
    ListCourtyardsRequest, ListCourtyardsResponse, TwoNosStatus, UpdateCourtyardRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Scope;
use crate::entity::places::{self, Column, Entity, PlaceKind};
use crate::places as store;
use crate::streets::blank;
use crate::{Organizations, read_id, required};

const KIND: PlaceKind = PlaceKind::Courtyard;

/// Setters read the courtyard sent and the community it pairs with.
const FIELDS: Fields<Input<Courtyard, Option<Uuid>>, places::ActiveModel> = Fields::new(&[
    ("display_name", |am, c| {
        am.display_name = Set(c.sent.display_name.clone())
    }),
    ("kind", |am, c| am.courtyard_kind = Set(c.sent.kind)),
    ("household_count", |am, c| {
        am.household_count = Set(c.sent.household_count)
    }),
    ("address", |am, c| am.address = Set(c.sent.address.clone())),
    ("location", |am, c| {
        am.latitude = Set(c.sent.location.as_ref().map(|p| p.latitude));
        am.longitude = Set(c.sent.location.as_ref().map(|p| p.longitude));
    }),
    ("theme", |am, c| am.theme = Set(c.sent.theme.clone())),
    ("pairing_community", |am, c| {
        am.pairing_community_id = Set(c.checked)
    }),
    ("pilot", |am, c| am.pilot = Set(c.sent.pilot)),
]);

fn to_proto(m: &places::Model) -> Courtyard {
    Courtyard {
        name: m.name(),
        community: m
            .parent_id
            .map(|c| names::format("communities", c))
            .unwrap_or_default(),
        display_name: m.display_name.clone(),
        kind: m.courtyard_kind,
        household_count: m.household_count,
        address: m.address.clone(),
        location: m
            .latitude
            .zip(m.longitude)
            .map(|(latitude, longitude)| GeoPoint {
                latitude,
                longitude,
            }),
        theme: m.theme.clone(),
        pairing_community: m
            .pairing_community_id
            .map(|c| names::format("communities", c))
            .unwrap_or_default(),
        pilot: m.pilot,
        two_nos: Some(TwoNosStatus {
            met: m.two_nos_met,
            last_met_time: convert::opt_timestamp(m.two_nos_last_met_time),
            update_time: convert::opt_timestamp(m.two_nos_update_time),
        }),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Validates the fields in `mask` (all on create); returns the pairing
/// community's id.
fn check(c: &mut Check, s: &Courtyard, mask: Option<&UpdateMask>) -> Option<Uuid> {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("courtyard.display_name", &s.display_name, 1, 100);
    }
    if want("kind") {
        let _: CourtyardKind = c.enumeration("courtyard.kind", s.kind, true);
    }
    if want("household_count") {
        c.range(
            "courtyard.household_count",
            s.household_count.into(),
            0,
            100_000,
        );
    }
    if want("address") {
        c.line("courtyard.address", &s.address, 0, 200);
    }
    if want("location")
        && let Some(p) = &s.location
    {
        c.location("courtyard.location", p);
    }
    if want("theme") {
        c.line("courtyard.theme", &s.theme, 0, 100);
    }
    if want("pairing_community") {
        c.optional_name(
            "courtyard.pairing_community",
            &s.pairing_community,
            "communities",
        )
    } else {
        None
    }
}

async fn check_pairing<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    pairing: Option<Uuid>,
    own_community: Uuid,
) -> Result<()> {
    if let Some(p) = pairing {
        if p == own_community {
            return Err(Error::invalid(
                "courtyard.pairing_community",
                "a 1+1 pairing lifts another community, not the courtyard's own",
            ));
        }
        store::reference(
            conn,
            scope,
            "courtyard.pairing_community",
            PlaceKind::Community,
            p,
        )
        .await?;
    }
    Ok(())
}

/// GetCourtyard.
pub async fn get(
    svc: &Organizations,
    scope: &Scope,
    req: GetCourtyardRequest,
) -> Result<Courtyard> {
    let id = read_id("name", &req.name, KIND.collection())?;
    Ok(to_proto(
        &store::get_visible(svc.ctx.db.read(), scope, KIND, id).await?,
    ))
}

/// ListCourtyards.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListCourtyardsRequest,
) -> Result<ListCourtyardsResponse> {
    let fields = [
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("street", Column::StreetId, Kind::Name("streets")),
        Field::column(
            "kind",
            Column::CourtyardKind,
            Kind::Enum(
                |s| CourtyardKind::from_str_name(s).map(|k| k as i32),
                "COURTYARD_KIND_",
            ),
        ),
        Field::column("display_name", Column::DisplayName, Kind::Text),
        Field::column("pilot", Column::Pilot, Kind::Bool),
        Field::column("theme", Column::Theme, Kind::Text),
        Field::column(
            "pairing_community",
            Column::PairingCommunityId,
            Kind::Name("communities"),
        ),
        Field::column("two_nos_met", Column::TwoNosMet, Kind::Bool),
    ];
    let query = ListQuery::new(
        "ListCourtyards",
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
    Ok(ListCourtyardsResponse {
        courtyards: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateCourtyard.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateCourtyardRequest,
) -> Result<Courtyard> {
    let key = Key::new("CreateCourtyard", &req.request_id, principal, &req);
    let s = required("courtyard", req.courtyard)?;
    let mut c = Check::new();
    let community = c.name("courtyard.community", &s.community, "communities");
    let pairing = check(&mut c, &s, None);
    c.request_id(&req.request_id);
    c.finish()?;
    scope.require_community_write(Some(community), &s.community)?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let parent = store::reference(
            txn,
            scope,
            "courtyard.community",
            PlaceKind::Community,
            community,
        )
        .await?;
        check_pairing(txn, scope, pairing, community).await?;
        let mut row = blank(KIND, now);
        let id = *row.id.as_ref();
        row.parent_id = Set(Some(community));
        row.street_id = Set(parent.street_id);
        row.community_id = Set(Some(community));
        row.courtyard_id = Set(Some(id));
        row.display_name = Set(s.display_name);
        row.courtyard_kind = Set(s.kind);
        row.household_count = Set(s.household_count);
        row.address = Set(s.address);
        row.latitude = Set(s.location.as_ref().map(|p| p.latitude));
        row.longitude = Set(s.location.as_ref().map(|p| p.longitude));
        row.theme = Set(s.theme);
        row.pairing_community_id = Set(pairing);
        row.pilot = Set(s.pilot);
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateCourtyard.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateCourtyardRequest,
) -> Result<Courtyard> {
    let s = required("courtyard", req.courtyard)?;
    let id = read_id("courtyard.name", &s.name, KIND.collection())?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let pairing = check(&mut c, &s, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_community_write(row.community_id, &row.name())?;
    let community = row.community_id.unwrap_or_default();
    let mut edit = store::edit(row, &s.etag, svc.ctx.clock.now())?;
    if mask.has("pairing_community") {
        check_pairing(&txn, scope, pairing, community).await?;
    }
    let input = Input {
        sent: s,
        checked: pairing,
    };
    edit.apply(&FIELDS, &mask, &input);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteCourtyard.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeleteCourtyardRequest) -> Result<()> {
    let id = read_id("name", &req.name, KIND.collection())?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = store::get_visible(&txn, scope, KIND, id).await?;
    scope.require_community_write(row.community_id, &row.name())?;
    store::delete(&txn, &row, &req.etag).await?;
    txn.commit().await?;
    Ok(())
}
