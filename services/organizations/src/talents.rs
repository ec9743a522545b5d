//! Talents (达人清单): GetTalent, ListTalents, CreateTalent, UpdateTalent,
//! DeleteTalent.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::organizations::{
    CreateTalentRequest, DeleteTalentRequest, GetTalentRequest, ListTalentsRequest,
    ListTalentsResponse, Talent, TalentCategory, UpdateTalentRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Scope;
use crate::entity::talents::{self, Column, Entity, Model};
use crate::{Organizations, persons, read_id, required};

const COLLECTION: &str = "talents";
const RESOURCE: &str = "Talent";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
const FIELDS: Fields<Talent, talents::ActiveModel> = Fields::new(&[
    ("category", |am, t| am.category = Set(t.category)),
    ("description", |am, t| {
        am.description = Set(t.description.clone())
    }),
    ("available", |am, t| am.available = Set(t.available)),
]);

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> Talent {
    Talent {
        name: name(m.id),
        person: names::format("persons", m.person_id),
        community: names::format("communities", m.community_id),
        category: m.category,
        description: m.description.clone(),
        available: m.available,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Talents are offered to the community: residents see the list; partners
/// see those of communities wholly in their reach.
fn visible(scope: &Scope, m: &Model) -> bool {
    match scope {
        Scope::Resident(_) => true,
        other => other.sees(Some(m.community_id), None),
    }
}

fn visible_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Resident(_) => Condition::all(),
        other => other.condition(Column::CommunityId, None),
    }
}

async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if visible(scope, &m) => Ok(m),
        _ => Err(scope.missing(RESOURCE, &name(id))),
    }
}

fn check(c: &mut Check, t: &Talent, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("category") {
        let _: TalentCategory = c.enumeration("talent.category", t.category, true);
    }
    if want("description") {
        c.text("talent.description", &t.description, 1, 2000);
    }
}

/// GetTalent.
pub async fn get(svc: &Organizations, scope: &Scope, req: GetTalentRequest) -> Result<Talent> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&get_visible(svc.ctx.db.read(), scope, id).await?))
}

/// ListTalents.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListTalentsRequest,
) -> Result<ListTalentsResponse> {
    let fields = [
        Field::column("person", Column::PersonId, Kind::Name("persons")),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column(
            "category",
            Column::Category,
            Kind::Enum(
                |s| TalentCategory::from_str_name(s).map(|k| k as i32),
                "TALENT_CATEGORY_",
            ),
        ),
        Field::column("available", Column::Available, Kind::Bool),
    ];
    let query = ListQuery::new(
        "ListTalents",
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
    Ok(ListTalentsResponse {
        talents: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateTalent.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreateTalentRequest,
) -> Result<Talent> {
    if !scope.is_staff() {
        return Err(Error::forbidden("record talents"));
    }
    let key = Key::new("CreateTalent", &req.request_id, principal, &req);
    let t = required("talent", req.talent)?;
    let mut c = Check::new();
    let person = c.name("talent.person", &t.person, "persons");
    check(&mut c, &t, None);
    c.request_id(&req.request_id);
    c.finish()?;

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let who = persons::reference(txn, scope, "talent.person", person).await?;
        scope.require_community_write(Some(who.community_id), &t.person)?;
        let row = talents::ActiveModel {
            id: Set(names::new_id()),
            person_id: Set(person),
            community_id: Set(who.community_id),
            category: Set(t.category),
            description: Set(t.description),
            available: Set(t.available),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(to_proto(&row.insert(txn).await?))
    })
    .await
}

/// UpdateTalent.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdateTalentRequest,
) -> Result<Talent> {
    let t = required("talent", req.talent)?;
    let id = read_id("talent.name", &t.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check(&mut c, &t, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_community_write(Some(row.community_id), &name(id))?;
    let mut edit = VERSIONED.edit(row, &t.etag, &name(id), svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &t);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// DeleteTalent.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeleteTalentRequest) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_community_write(Some(row.community_id), &name(id))?;
    etag::check(&req.etag, row.revision, &name(id))?;
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}
