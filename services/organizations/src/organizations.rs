//! Organisations: GetOrganization, ListOrganizations, CreateOrganization,
//! UpdateOrganization, DeleteOrganization.

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
    CreateOrganizationRequest, DeleteOrganizationRequest, GetOrganizationRequest,
    ListOrganizationsRequest, ListOrganizationsResponse, Organization, OrganizationKind,
    UpdateOrganizationRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::access::{Scope, public_kind, public_kinds};
use crate::entity::organizations::{Column, Entity, Model};
use crate::entity::places::PlaceKind;
use crate::entity::{agreements, memberships, organizations, persons, shared_resources};
use crate::places as place_store;
use crate::{Organizations, read_id, required};

const COLLECTION: &str = "organizations";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
const RESOURCE: &str = "Organization";
const FIELDS: Fields<Input<Organization, Checked>, organizations::ActiveModel> = Fields::new(&[
    ("display_name", |am, i| {
        am.display_name = Set(i.sent.display_name.clone())
    }),
    ("parent", |am, i| am.parent_id = Set(i.checked.parent)),
    ("place", |am, i| {
        am.place_id = Set(i.checked.place.map(|(_, id)| id));
        am.place_kind = Set(i.checked.place.map(|(k, _)| k as i16));
        am.community_id = Set(i.checked.community);
    }),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("credit_code", |am, i| {
        am.credit_code = Set(i.sent.credit_code.clone())
    }),
    ("phone", |am, i| am.phone = Set(i.sent.phone.clone())),
    ("address", |am, i| am.address = Set(i.sent.address.clone())),
]);
/// What a partner may change of its own record.
const PARTNER_MUTABLE: &[&str] = &["description", "phone", "address"];
/// Deeper hierarchies are refused (and cycles can never form).
const MAX_DEPTH: usize = 32;

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> Organization {
    Organization {
        name: name(m.id),
        display_name: m.display_name.clone(),
        kind: m.kind,
        parent: m.parent_id.map(name).unwrap_or_default(),
        place: m
            .place_id
            .zip(m.place_kind.and_then(PlaceKind::from_i16))
            .map(|(id, kind)| names::format(kind.collection(), id))
            .unwrap_or_default(),
        description: m.description.clone(),
        credit_code: m.credit_code.clone(),
        phone: m.phone.clone(),
        address: m.address.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Whether the caller may see the organisation: everyone sees the
/// directory, except that partners see only their own record, the street's
/// public bodies and the organisations of communities in their reach.
pub(crate) fn visible(scope: &Scope, m: &Model) -> bool {
    match scope {
        Scope::Partner(reach) => {
            m.id == reach.organization
                || public_kind(m.kind)
                || m.community_id
                    .is_some_and(|c| reach.touched_communities.contains(&c))
        }
        _ => true,
    }
}

fn visible_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Partner(reach) => Condition::any()
            .add(Column::Id.eq(reach.organization))
            .add(Column::Kind.is_in(public_kinds()))
            .add(Column::CommunityId.is_in(reach.touched_communities.iter().copied())),
        _ => Condition::all(),
    }
}

/// Loads an organisation the caller may see.
pub(crate) async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if visible(scope, &m) => Ok(m),
        _ => Err(scope.missing(RESOURCE, &name(id))),
    }
}

/// Resolves an organisation named in a request's `field`.
pub(crate) async fn reference<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    field: &str,
    id: Uuid,
) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if visible(scope, &m) => Ok(m),
        Some(_) => Err(Error::out_of_reach(name(id))),
        None => Err(Error::invalid(
            field,
            format!("{} does not exist", name(id)),
        )),
    }
}

/// Parses a `place` reference: any of the four place collections.
fn parse_place(c: &mut Check, field: &str, value: &str) -> Option<(PlaceKind, Uuid)> {
    if value.is_empty() {
        return None;
    }
    let kind = names::collection(value).and_then(PlaceKind::from_collection);
    match kind.and_then(|k| names::parse(k.collection(), value).map(|id| (k, id))) {
        Some(p) => Some(p),
        None => {
            c.add(
                field,
                "must be a `streets/…`, `communities/…`, `courtyards/…` or `buildings/…` name",
            );
            None
        }
    }
}

struct Checked {
    parent: Option<Uuid>,
    place: Option<(PlaceKind, Uuid)>,
    /// The place's community, looked up in the write.
    community: Option<Uuid>,
}

fn check(c: &mut Check, o: &Organization, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("organization.display_name", &o.display_name, 1, 100);
    }
    if mask.is_none() {
        let _: OrganizationKind = c.enumeration("organization.kind", o.kind, true);
    }
    if want("description") {
        c.text("organization.description", &o.description, 0, 2000);
    }
    if want("credit_code")
        && !o.credit_code.is_empty()
        && (o.credit_code.len() != 18
            || !o
                .credit_code
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()))
    {
        c.add(
            "organization.credit_code",
            "must be 18 digits or capital letters",
        );
    }
    if want("phone") {
        c.line("organization.phone", &o.phone, 0, 32);
    }
    if want("address") {
        c.line("organization.address", &o.address, 0, 200);
    }
    Checked {
        parent: if want("parent") {
            c.optional_name("organization.parent", &o.parent, COLLECTION)
        } else {
            None
        },
        place: if want("place") {
            parse_place(c, "organization.place", &o.place)
        } else {
            None
        },
        community: None,
    }
}

/// The community of a place (none for a street).
async fn place_community<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    place: Option<(PlaceKind, Uuid)>,
) -> Result<Option<Uuid>> {
    match place {
        Some((kind, id)) => Ok(
            place_store::reference(conn, scope, "organization.place", kind, id)
                .await?
                .community_id,
        ),
        None => Ok(None),
    }
}

/// Fails if making `parent` the parent of `id` would form a cycle or a
/// hierarchy deeper than [`MAX_DEPTH`].
async fn check_parent<C: ConnectionTrait>(conn: &C, id: Option<Uuid>, parent: Uuid) -> Result<()> {
    let mut cursor = Some(parent);
    let mut depth = 0;
    while let Some(current) = cursor {
        if Some(current) == id {
            return Err(Error::invalid(
                "organization.parent",
                "would make the organisation its own ancestor (a cycle)",
            ));
        }
        depth += 1;
        if depth > MAX_DEPTH {
            return Err(Error::invalid(
                "organization.parent",
                format!("hierarchies are at most {MAX_DEPTH} levels deep"),
            ));
        }
        let row: Option<Option<Uuid>> = Entity::find_by_id(current)
            .select_only()
            .column(Column::ParentId)
            .into_tuple()
            .one(conn)
            .await?;
        match row {
            Some(next) => cursor = next,
            None if current == parent => {
                return Err(Error::invalid(
                    "organization.parent",
                    format!("{} does not exist", name(parent)),
                ));
            }
            None => cursor = None,
        }
    }
    Ok(())
}

/// GetOrganization.
pub async fn get(
    svc: &Organizations,
    scope: &Scope,
    req: GetOrganizationRequest,
) -> Result<Organization> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&get_visible(svc.ctx.db.read(), scope, id).await?))
}

/// ListOrganizations.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListOrganizationsRequest,
) -> Result<ListOrganizationsResponse> {
    let fields = [
        Field::column(
            "kind",
            Column::Kind,
            Kind::Enum(
                |s| OrganizationKind::from_str_name(s).map(|k| k as i32),
                "ORGANIZATION_KIND_",
            ),
        ),
        Field::column("parent", Column::ParentId, Kind::Name(COLLECTION)),
        Field::custom("place", |op, value| {
            let id = names::collection(value)
                .and_then(PlaceKind::from_collection)
                .and_then(|k| names::parse(k.collection(), value))
                .ok_or("expected a place name such as `communities/{id}`")?;
            match op {
                Op::Eq | Op::Has => Ok(Column::PlaceId.eq(id)),
                Op::Ne => Ok(Column::PlaceId.ne(id)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("display_name", Column::DisplayName, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListOrganizations",
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
    Ok(ListOrganizationsResponse {
        organizations: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateOrganization.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateOrganizationRequest,
) -> Result<Organization> {
    if !scope.is_staff() {
        return Err(Error::forbidden("create organisations"));
    }
    let key = Key::new("CreateOrganization", &req.request_id, principal, &req);
    let o = required("organization", req.organization)?;
    let mut c = Check::new();
    let checked = check(&mut c, &o, None);
    c.request_id(&req.request_id);
    c.finish()?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let community = place_community(txn, scope, checked.place).await?;
        scope
            .require_community_write(community, "an organisation outside the caller's community")?;
        if let Some(parent) = checked.parent {
            reference(txn, scope, "organization.parent", parent).await?;
            check_parent(txn, None, parent).await?;
        }
        let row = organizations::ActiveModel {
            id: Set(names::new_id()),
            display_name: Set(o.display_name),
            kind: Set(o.kind),
            parent_id: Set(checked.parent),
            place_id: Set(checked.place.map(|(_, id)| id)),
            place_kind: Set(checked.place.map(|(k, _)| k as i16)),
            community_id: Set(community),
            description: Set(o.description),
            credit_code: Set(o.credit_code),
            phone: Set(o.phone),
            address: Set(o.address),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateOrganization.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateOrganizationRequest,
) -> Result<Organization> {
    let o = required("organization", req.organization)?;
    let id = read_id("organization.name", &o.name, COLLECTION)?;
    let own_record = matches!(scope, Scope::Partner(r) if r.organization == id);
    let mask = if own_record {
        UpdateMask::new(req.update_mask.as_ref(), PARTNER_MUTABLE)?
    } else {
        FIELDS.mask(req.update_mask.as_ref())?
    };
    let mut c = Check::new();
    let mut checked = check(&mut c, &o, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    if !own_record {
        scope.require_community_write(row.community_id, &name(id))?;
    }
    let mut edit = VERSIONED.edit(row, &o.etag, &name(id), svc.ctx.clock.now())?;
    if mask.has("place") {
        checked.community = place_community(&txn, scope, checked.place).await?;
        scope.require_community_write(checked.community, &o.place)?;
    }
    if mask.has("parent")
        && let Some(parent) = checked.parent
    {
        reference(&txn, scope, "organization.parent", parent).await?;
        check_parent(&txn, Some(id), parent).await?;
    }
    edit.apply(&FIELDS, &mask, &Input { sent: o, checked });
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteOrganization.
pub async fn delete(
    svc: &Organizations,
    scope: &Scope,
    req: DeleteOrganizationRequest,
) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_community_write(row.community_id, &name(id))?;
    etag::check(&req.etag, row.revision, &name(id))?;
    let in_use = |what: &str| {
        Error::precondition(
            ErrorReason::InUse,
            "IN_USE",
            name(id),
            format!("{what} still refer to it; remove them first"),
        )
    };
    if Entity::find()
        .filter(Column::ParentId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::precondition(
            ErrorReason::HasChildren,
            "HAS_CHILDREN",
            name(id),
            "move or delete its child organisations first",
        ));
    }
    if memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(in_use("memberships"));
    }
    if agreements::Entity::find()
        .filter(agreements::Column::OrganizationId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(in_use("agreements"));
    }
    if shared_resources::Entity::find()
        .filter(shared_resources::Column::OwnerId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(in_use("shared resources"));
    }
    if persons::Entity::find()
        .filter(persons::Column::DoubleReportUnitId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(in_use("double-report members"));
    }
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}
