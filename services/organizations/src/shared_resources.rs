//! Shared resources (资源清单): GetSharedResource, ListSharedResources,
//! CreateSharedResource, UpdateSharedResource, DeleteSharedResource.
//! Partners manage the resources their organisation offers in its reach.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::organizations::{
    CreateSharedResourceRequest, DeleteSharedResourceRequest, GetSharedResourceRequest,
    ListSharedResourcesRequest, ListSharedResourcesResponse, SharedResource, SharedResourceKind,
    UpdateSharedResourceRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Scope;
use crate::entity::places::PlaceKind;
use crate::entity::shared_resources::{self, Column, Entity, Model};
use crate::places as place_store;
use crate::{Organizations, organizations, read_id, required};

const COLLECTION: &str = "sharedResources";
const RESOURCE: &str = "SharedResource";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
const FIELDS: Fields<Input<SharedResource, Checked>, shared_resources::ActiveModel> =
    Fields::new(&[
        ("display_name", |am, i| {
            am.display_name = Set(i.sent.display_name.clone())
        }),
        ("kind", |am, i| am.kind = Set(i.sent.kind)),
        ("community", move_to),
        ("courtyard", move_to),
        ("description", |am, i| {
            am.description = Set(i.sent.description.clone())
        }),
        ("capacity", |am, i| am.capacity = Set(i.sent.capacity)),
        ("availability", |am, i| {
            am.availability = Set(i.sent.availability.clone())
        }),
        ("open", |am, i| am.open = Set(i.sent.open)),
    ]);

/// A resource moves as a whole: community and courtyard.
fn move_to(am: &mut shared_resources::ActiveModel, i: &Input<SharedResource, Checked>) {
    am.community_id = Set(i.checked.community);
    am.courtyard_id = Set(i.checked.courtyard);
}

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> SharedResource {
    SharedResource {
        name: name(m.id),
        display_name: m.display_name.clone(),
        kind: m.kind,
        owner: names::format("organizations", m.owner_id),
        community: names::format("communities", m.community_id),
        courtyard: m
            .courtyard_id
            .map(|c| names::format("courtyards", c))
            .unwrap_or_default(),
        description: m.description.clone(),
        capacity: m.capacity,
        availability: m.availability.clone(),
        open: m.open,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn visible(scope: &Scope, m: &Model) -> bool {
    match scope {
        Scope::Partner(reach) => {
            m.owner_id == reach.organization || reach.covers(Some(m.community_id), m.courtyard_id)
        }
        // The resource list is for residents to use.
        Scope::Resident(_) => true,
        other => other.sees(Some(m.community_id), m.courtyard_id),
    }
}

fn visible_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Partner(reach) => Condition::any()
            .add(Column::OwnerId.eq(reach.organization))
            .add(scope.condition(Column::CommunityId, Some(Column::CourtyardId))),
        Scope::Resident(_) => Condition::all(),
        other => other.condition(Column::CommunityId, Some(Column::CourtyardId)),
    }
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if visible(scope, &m) => Ok(m),
        _ => Err(scope.missing(RESOURCE, &name(id))),
    }
}

/// Fails unless the caller may offer a resource of `owner` at this place.
fn require_write(
    scope: &Scope,
    owner: Uuid,
    community: Uuid,
    courtyard: Option<Uuid>,
    what: &str,
) -> Result<()> {
    match scope {
        Scope::Partner(reach) if reach.organization == owner => {
            if reach.covers(Some(community), courtyard) {
                Ok(())
            } else {
                Err(Error::out_of_reach(what))
            }
        }
        Scope::Partner(_) | Scope::Resident(_) => {
            Err(Error::forbidden("offer another organisation's resources"))
        }
        staff => staff.require_community_write(Some(community), what),
    }
}

struct Checked {
    owner: Uuid,
    community: Uuid,
    courtyard: Option<Uuid>,
}

fn check(c: &mut Check, r: &SharedResource, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("shared_resource.display_name", &r.display_name, 1, 100);
    }
    if want("kind") {
        let _: SharedResourceKind = c.enumeration("shared_resource.kind", r.kind, true);
    }
    if want("description") {
        c.text("shared_resource.description", &r.description, 0, 2000);
    }
    if want("capacity") {
        c.range("shared_resource.capacity", r.capacity.into(), 0, 100_000);
    }
    if want("availability") {
        c.line("shared_resource.availability", &r.availability, 0, 200);
    }
    let places = want("community") || want("courtyard");
    Checked {
        owner: if mask.is_none() {
            c.name("shared_resource.owner", &r.owner, "organizations")
        } else {
            Uuid::nil()
        },
        community: if places {
            c.name("shared_resource.community", &r.community, "communities")
        } else {
            Uuid::nil()
        },
        courtyard: if places {
            c.optional_name("shared_resource.courtyard", &r.courtyard, "courtyards")
        } else {
            None
        },
    }
}

async fn check_places<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    community: Uuid,
    courtyard: Option<Uuid>,
) -> Result<()> {
    place_store::reference(
        conn,
        scope,
        "shared_resource.community",
        PlaceKind::Community,
        community,
    )
    .await?;
    if let Some(courtyard) = courtyard {
        let y = place_store::reference(
            conn,
            scope,
            "shared_resource.courtyard",
            PlaceKind::Courtyard,
            courtyard,
        )
        .await?;
        if y.community_id != Some(community) {
            return Err(Error::invalid(
                "shared_resource.courtyard",
                "is not in shared_resource.community",
            ));
        }
    }
    Ok(())
}

/// GetSharedResource.
pub async fn get(
    svc: &Organizations,
    scope: &Scope,
    req: GetSharedResourceRequest,
) -> Result<SharedResource> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&get_visible(svc.ctx.db.read(), scope, id).await?))
}

/// ListSharedResources.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListSharedResourcesRequest,
) -> Result<ListSharedResourcesResponse> {
    let fields = [
        Field::column(
            "kind",
            Column::Kind,
            Kind::Enum(
                |s| SharedResourceKind::from_str_name(s).map(|k| k as i32),
                "SHARED_RESOURCE_KIND_",
            ),
        ),
        Field::column("owner", Column::OwnerId, Kind::Name("organizations")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column("open", Column::Open, Kind::Bool),
    ];
    let query = ListQuery::new(
        "ListSharedResources",
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
    let base = Entity::find().filter(visible_condition(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Text(m.display_name.clone()), m.id)
        })
        .await?;
    Ok(ListSharedResourcesResponse {
        shared_resources: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateSharedResource.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateSharedResourceRequest,
) -> Result<SharedResource> {
    let key = Key::new("CreateSharedResource", &req.request_id, principal, &req);
    let r = required("shared_resource", req.shared_resource)?;
    let mut c = Check::new();
    let checked = check(&mut c, &r, None);
    c.request_id(&req.request_id);
    c.finish()?;
    require_write(
        scope,
        checked.owner,
        checked.community,
        checked.courtyard,
        &r.community,
    )?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        organizations::reference(txn, scope, "shared_resource.owner", checked.owner).await?;
        check_places(txn, scope, checked.community, checked.courtyard).await?;
        let row = shared_resources::ActiveModel {
            id: Set(names::new_id()),
            display_name: Set(r.display_name),
            kind: Set(r.kind),
            owner_id: Set(checked.owner),
            community_id: Set(checked.community),
            courtyard_id: Set(checked.courtyard),
            description: Set(r.description),
            capacity: Set(r.capacity),
            availability: Set(r.availability),
            open: Set(r.open),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateSharedResource.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateSharedResourceRequest,
) -> Result<SharedResource> {
    let r = required("shared_resource", req.shared_resource)?;
    let id = read_id("shared_resource.name", &r.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &r, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    require_write(
        scope,
        row.owner_id,
        row.community_id,
        row.courtyard_id,
        &name(id),
    )?;
    let mut edit = VERSIONED.edit(row, &r.etag, &name(id), svc.ctx.clock.now())?;
    if mask.has("community") || mask.has("courtyard") {
        require_write(
            scope,
            edit.before.owner_id,
            checked.community,
            checked.courtyard,
            &r.community,
        )?;
        check_places(&txn, scope, checked.community, checked.courtyard).await?;
    }
    edit.apply(&FIELDS, &mask, &Input { sent: r, checked });
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteSharedResource.
pub async fn delete(
    svc: &Organizations,
    scope: &Scope,
    req: DeleteSharedResourceRequest,
) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    require_write(
        scope,
        row.owner_id,
        row.community_id,
        row.courtyard_id,
        &name(id),
    )?;
    etag::check(&req.etag, row.revision, &name(id))?;
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}
