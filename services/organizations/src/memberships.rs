//! Memberships: GetMembership, ListMemberships, CreateMembership,
//! UpdateMembership, DeleteMembership.

use chrono::NaiveDate;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::common::Date;
use cogov_proto::organizations::{
    CreateMembershipRequest, DeleteMembershipRequest, GetMembershipRequest, ListMembershipsRequest,
    ListMembershipsResponse, Membership, MembershipRole, UpdateMembershipRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, IntoCondition, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Scope;
use crate::entity::memberships::{self, Column, Entity, Model};
use crate::entity::{organizations as orgs, persons as people};
use crate::{Organizations, organizations, persons, read_id, required};

const COLLECTION: &str = "memberships";
const RESOURCE: &str = "Membership";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
const FIELDS: Fields<Input<Membership, Checked>, memberships::ActiveModel> = Fields::new(&[
    ("role", |am, i| am.role = Set(i.sent.role)),
    ("title", |am, i| am.title = Set(i.sent.title.clone())),
    ("start_date", |am, i| am.start_date = Set(i.checked.start)),
    ("end_date", |am, i| am.end_date = Set(i.checked.end)),
]);

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> Membership {
    Membership {
        name: name(m.id),
        person: names::format("persons", m.person_id),
        organization: names::format("organizations", m.organization_id),
        role: m.role,
        title: m.title.clone(),
        start_date: m.start_date.map(convert::date),
        end_date: m.end_date.map(convert::date),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// The communities a membership touches: its person's and its
/// organisation's.
async fn communities<C: ConnectionTrait>(
    conn: &C,
    m: &Model,
) -> Result<(Option<Uuid>, Option<Uuid>)> {
    let person = people::Entity::find_by_id(m.person_id)
        .one(conn)
        .await?
        .map(|p| p.community_id);
    let org = orgs::Entity::find_by_id(m.organization_id)
        .one(conn)
        .await?
        .and_then(|o| o.community_id);
    Ok((person, org))
}

async fn visible<C: ConnectionTrait>(conn: &C, scope: &Scope, m: &Model) -> Result<bool> {
    Ok(match scope {
        Scope::All => true,
        Scope::Community(c) => {
            let (person, org) = communities(conn, m).await?;
            person == Some(*c) || org == Some(*c)
        }
        Scope::Partner(reach) => m.organization_id == reach.organization,
        Scope::Resident(me) => m.person_id == *me,
    })
}

fn visible_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Community(c) => Condition::any()
            .add(
                Column::PersonId.in_subquery(
                    Query::select()
                        .column(people::Column::Id)
                        .from(people::Entity)
                        .and_where(people::Column::CommunityId.eq(*c))
                        .to_owned(),
                ),
            )
            .add(
                Column::OrganizationId.in_subquery(
                    Query::select()
                        .column(orgs::Column::Id)
                        .from(orgs::Entity)
                        .and_where(orgs::Column::CommunityId.eq(*c))
                        .to_owned(),
                ),
            ),
        Scope::Partner(reach) => Column::OrganizationId
            .eq(reach.organization)
            .into_condition(),
        Scope::Resident(me) => Column::PersonId.eq(*me).into_condition(),
    }
}

/// Fails unless the caller may change memberships of `org` for `person`.
async fn require_write<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    person: Uuid,
    org: Uuid,
) -> Result<()> {
    match scope {
        Scope::All => Ok(()),
        Scope::Community(c) => {
            let m = Model {
                id: Uuid::nil(),
                person_id: person,
                organization_id: org,
                role: 0,
                title: String::new(),
                start_date: None,
                end_date: None,
                revision: 0,
                create_time: Default::default(),
                update_time: Default::default(),
            };
            let (p, o) = communities(conn, &m).await?;
            if p == Some(*c) || o == Some(*c) {
                Ok(())
            } else {
                Err(Error::out_of_reach(
                    "a membership outside the caller's community",
                ))
            }
        }
        Scope::Partner(reach) if reach.organization == org => Ok(()),
        Scope::Partner(_) | Scope::Resident(_) => Err(Error::forbidden(
            "manage another organisation's memberships",
        )),
    }
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if visible(conn, scope, &m).await? => Ok(m),
        _ => Err(scope.missing(RESOURCE, &name(id))),
    }
}

fn check_date(c: &mut Check, field: &str, d: Option<&Date>) -> Option<NaiveDate> {
    let d = d?;
    let parsed = convert::from_date(d);
    if parsed.is_none() {
        c.add(field, "is not a valid calendar date");
    }
    parsed
}

struct Checked {
    person: Uuid,
    organization: Uuid,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
}

fn check(c: &mut Check, m: &Membership, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|k| k.has(f));
    let (person, organization) = if mask.is_none() {
        (
            c.name("membership.person", &m.person, "persons"),
            c.name("membership.organization", &m.organization, "organizations"),
        )
    } else {
        (Uuid::nil(), Uuid::nil())
    };
    if want("role") {
        let _: MembershipRole = c.enumeration("membership.role", m.role, true);
    }
    if want("title") {
        c.line("membership.title", &m.title, 0, 100);
    }
    let start = if want("start_date") {
        check_date(c, "membership.start_date", m.start_date.as_ref())
    } else {
        None
    };
    let end = if want("end_date") {
        check_date(c, "membership.end_date", m.end_date.as_ref())
    } else {
        None
    };
    Checked {
        person,
        organization,
        start,
        end,
    }
}

fn check_term(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<()> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(Error::invalid(
            "membership.end_date",
            "must not be before start_date",
        )),
        _ => Ok(()),
    }
}

fn active_filter(op: Op, value: &str) -> Result<SimpleExpr, String> {
    let wanted = match value {
        "true" => true,
        "false" => false,
        _ => return Err("expected true or false".into()),
    };
    let wanted = match op {
        Op::Eq | Op::Has => wanted,
        Op::Ne => !wanted,
        _ => return Err("only `=`, `!=` and `:` apply".into()),
    };
    let today = chrono::Utc::now().date_naive();
    let active = Condition::all()
        .add(
            Condition::any()
                .add(Column::StartDate.is_null())
                .add(Column::StartDate.lte(today)),
        )
        .add(
            Condition::any()
                .add(Column::EndDate.is_null())
                .add(Column::EndDate.gte(today)),
        );
    Ok(if wanted {
        active.into()
    } else {
        active.not().into()
    })
}

/// GetMembership.
pub async fn get(
    svc: &Organizations,
    scope: &Scope,
    req: GetMembershipRequest,
) -> Result<Membership> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&get_visible(svc.ctx.db.read(), scope, id).await?))
}

/// ListMemberships.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListMembershipsRequest,
) -> Result<ListMembershipsResponse> {
    let fields = [
        Field::column("person", Column::PersonId, Kind::Name("persons")),
        Field::column(
            "organization",
            Column::OrganizationId,
            Kind::Name("organizations"),
        ),
        Field::column(
            "role",
            Column::Role,
            Kind::Enum(
                |s| MembershipRole::from_str_name(s).map(|r| r as i32),
                "MEMBERSHIP_ROLE_",
            ),
        ),
        Field::custom("active", active_filter),
    ];
    let query = ListQuery::new(
        "ListMemberships",
        req.page_size,
        &req.page_token,
        &req.filter,
        &req.order_by,
    );
    let spec = Spec::new(&fields, &[], Column::Id);
    let base = Entity::find().filter(visible_condition(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListMembershipsResponse {
        memberships: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateMembership.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateMembershipRequest,
) -> Result<Membership> {
    if matches!(scope, Scope::Resident(_)) {
        return Err(Error::forbidden("manage memberships"));
    }
    let key = Key::new("CreateMembership", &req.request_id, principal, &req);
    let m = required("membership", req.membership)?;
    let mut c = Check::new();
    let checked = check(&mut c, &m, None);
    c.request_id(&req.request_id);
    c.finish()?;
    check_term(checked.start, checked.end)?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        persons::reference(txn, scope, "membership.person", checked.person).await?;
        organizations::reference(txn, scope, "membership.organization", checked.organization)
            .await?;
        require_write(txn, scope, checked.person, checked.organization).await?;
        let row = memberships::ActiveModel {
            id: Set(names::new_id()),
            person_id: Set(checked.person),
            organization_id: Set(checked.organization),
            role: Set(m.role),
            title: Set(m.title),
            start_date: Set(checked.start),
            end_date: Set(checked.end),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateMembership.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateMembershipRequest,
) -> Result<Membership> {
    let m = required("membership", req.membership)?;
    let id = read_id("membership.name", &m.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &m, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    require_write(&txn, scope, row.person_id, row.organization_id).await?;
    let mut edit = VERSIONED.edit(row, &m.etag, &name(id), svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &Input { sent: m, checked });
    // The term as it will be, whichever end the mask moved.
    check_term(
        *edit.changes.start_date.as_ref(),
        *edit.changes.end_date.as_ref(),
    )?;
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteMembership.
pub async fn delete(
    svc: &Organizations,
    scope: &Scope,
    req: DeleteMembershipRequest,
) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    require_write(&txn, scope, row.person_id, row.organization_id).await?;
    etag::check(&req.etag, row.revision, &name(id))?;
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}
