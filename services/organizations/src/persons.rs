//! Persons: GetPerson, ListPersons, CreatePerson, UpdatePerson,
//! DeletePerson, and the residents who register themselves by phone:
//! RegisterPerson (the gateway's, for a number nobody has) and VerifyPerson
//! (community staff). Phone and address are personal data, masked for
//! partners; a resident sees and changes only their own contact
//! preferences.

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::privacy::mask_phone;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::organizations::{
    ContactPreferences, CreatePersonRequest, DeletePersonRequest, ErasePersonRequest,
    GetPersonRequest, ListPersonsRequest, ListPersonsResponse, MembershipRole, Person,
    PersonVerification, RegisterPersonRequest, UpdatePersonRequest, VerifyPersonRequest,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, IntoCondition, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::{Scope, nothing};
use crate::entity::memberships;
use crate::entity::persons::{self, Column, Entity, Model};
use crate::entity::places::PlaceKind;
use crate::places as place_store;
use crate::{Organizations, events, organizations, read_id, required};

const COLLECTION: &str = "persons";
const RESOURCE: &str = "Person";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// A place moves a person as a whole: community, courtyard and building.
const FIELDS: Fields<Input<Person, Refs>, persons::ActiveModel> = Fields::new(&[
    ("display_name", |am, i| {
        am.display_name = Set(i.sent.display_name.clone())
    }),
    ("community", move_to),
    ("courtyard", move_to),
    ("building", move_to),
    ("phone", |am, i| {
        am.phone_e164 = Set(cogov_kit::phone::canonical_or_empty(&i.sent.phone));
        am.phone = Set(i.sent.phone.clone());
    }),
    ("address", |am, i| am.address = Set(i.sent.address.clone())),
    ("party_member", |am, i| {
        am.party_member = Set(i.sent.party_member)
    }),
    ("double_report_unit", |am, i| {
        am.double_report_unit_id = Set(i.checked.unit)
    }),
    ("building_head", |am, i| {
        am.building_head = Set(i.sent.building_head)
    }),
    ("backbone", |am, i| am.backbone = Set(i.sent.backbone)),
    ("contact_preferences", |am, i| {
        let prefs = i.sent.contact_preferences.unwrap_or_default();
        am.forward_notices = Set(prefs.forward_notices);
        am.daily_digest = Set(prefs.daily_digest);
    }),
]);

fn move_to(am: &mut persons::ActiveModel, i: &Input<Person, Refs>) {
    am.community_id = Set(i.checked.community);
    am.courtyard_id = Set(i.checked.courtyard);
    am.building_id = Set(i.checked.building);
}
/// What a resident may change of their own record.
const RESIDENT_MUTABLE: &[&str] = &["contact_preferences"];

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

pub(crate) fn to_proto(m: &Model, scope: &Scope) -> Person {
    let masked = scope.masks_personal_data();
    Person {
        name: name(m.id),
        display_name: m.display_name.clone(),
        community: names::format("communities", m.community_id),
        courtyard: m
            .courtyard_id
            .map(|c| names::format("courtyards", c))
            .unwrap_or_default(),
        building: m
            .building_id
            .map(|b| names::format("buildings", b))
            .unwrap_or_default(),
        phone: if masked {
            mask_phone(&m.phone)
        } else {
            m.phone.clone()
        },
        address: if masked {
            String::new()
        } else {
            m.address.clone()
        },
        party_member: m.party_member,
        double_report_unit: m
            .double_report_unit_id
            .map(|o| names::format("organizations", o))
            .unwrap_or_default(),
        building_head: m.building_head,
        backbone: m.backbone,
        masked,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
        verification: m.verification,
        privacy_notice_version: m.privacy_notice_version.clone(),
        consent_time: m.consent_time.map(convert::timestamp),
        contact_preferences: Some(ContactPreferences {
            forward_notices: m.forward_notices,
            daily_digest: m.daily_digest,
        }),
        verify_time: m.verify_time.map(convert::timestamp),
        phone_e164: if masked {
            mask_phone(&m.phone_e164)
        } else {
            m.phone_e164.clone()
        },
    }
}

pub(crate) fn visible(scope: &Scope, m: &Model) -> bool {
    match scope {
        Scope::Resident(me) => *me == m.id,
        other => other.sees(Some(m.community_id), m.courtyard_id),
    }
}

pub(crate) fn visible_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Resident(me) => Column::Id.eq(*me).into_condition(),
        Scope::Partner(reach) if reach.courtyards.is_empty() && reach.communities.is_empty() => {
            nothing()
        }
        other => other.condition(Column::CommunityId, Some(Column::CourtyardId)),
    }
}

/// Loads a person the caller may see.
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

/// Resolves a person named in a request's `field`.
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

fn check_phone(c: &mut Check, field: &str, phone: &str) {
    c.line(field, phone, 0, 32);
    if !phone
        .chars()
        .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | ' ' | '(' | ')'))
    {
        c.add(field, "may hold only digits, spaces and + - ( )");
    }
}

struct Refs {
    community: Uuid,
    courtyard: Option<Uuid>,
    building: Option<Uuid>,
    unit: Option<Uuid>,
}

fn check(c: &mut Check, p: &Person, mask: Option<&UpdateMask>) -> Refs {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("person.display_name", &p.display_name, 1, 100);
    }
    if want("phone") {
        check_phone(c, "person.phone", &p.phone);
    }
    if want("address") {
        c.line("person.address", &p.address, 0, 200);
    }
    // The place fields are checked together: each must sit inside the one
    // above it.
    let places = want("community") || want("courtyard") || want("building");
    Refs {
        community: if places {
            c.name("person.community", &p.community, "communities")
        } else {
            Uuid::nil()
        },
        courtyard: if places {
            c.optional_name("person.courtyard", &p.courtyard, "courtyards")
        } else {
            None
        },
        building: if places {
            c.optional_name("person.building", &p.building, "buildings")
        } else {
            None
        },
        unit: if want("double_report_unit") {
            c.optional_name(
                "person.double_report_unit",
                &p.double_report_unit,
                "organizations",
            )
        } else {
            None
        },
    }
}

/// Checks that courtyard and building sit inside the community.
async fn check_places<C: ConnectionTrait>(conn: &C, scope: &Scope, refs: &Refs) -> Result<()> {
    place_store::reference(
        conn,
        scope,
        "person.community",
        PlaceKind::Community,
        refs.community,
    )
    .await?;
    if let Some(courtyard) = refs.courtyard {
        let y = place_store::reference(
            conn,
            scope,
            "person.courtyard",
            PlaceKind::Courtyard,
            courtyard,
        )
        .await?;
        if y.community_id != Some(refs.community) {
            return Err(Error::invalid(
                "person.courtyard",
                "is not in person.community",
            ));
        }
    }
    if let Some(building) = refs.building {
        let b = place_store::reference(
            conn,
            scope,
            "person.building",
            PlaceKind::Building,
            building,
        )
        .await?;
        if refs.courtyard.is_none() || b.courtyard_id != refs.courtyard {
            return Err(Error::invalid(
                "person.building",
                "is not in person.courtyard",
            ));
        }
    }
    Ok(())
}

async fn check_unit<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    unit: Option<Uuid>,
    party_member: bool,
) -> Result<()> {
    if let Some(unit) = unit {
        if !party_member {
            return Err(Error::invalid(
                "person.double_report_unit",
                "only a party member reports to a work unit (双报到)",
            ));
        }
        organizations::reference(conn, scope, "person.double_report_unit", unit).await?;
    }
    Ok(())
}

fn role_filter(op: Op, value: &str) -> Result<SimpleExpr, String> {
    let role = MembershipRole::from_str_name(value)
        .or_else(|| {
            MembershipRole::from_str_name(&format!(
                "MEMBERSHIP_ROLE_{}",
                value.to_ascii_uppercase()
            ))
        })
        .filter(|r| *r != MembershipRole::Unspecified)
        .ok_or_else(|| format!("unknown role `{value}`"))?;
    holders(op, memberships::Column::Role.eq(role as i32))
}

/// `phone = "…"` in any spelling a person types: compared in E.164.
fn phone_filter(op: Op, value: &str) -> Result<SimpleExpr, String> {
    let e164 = cogov_kit::phone::normalize(value).map_err(|e| format!("expected {e}"))?;
    match op {
        Op::Eq => Ok(Column::PhoneE164.eq(e164)),
        Op::Ne => Ok(Column::PhoneE164.ne(e164)),
        _ => Err("only `=` and `!=` apply".into()),
    }
}

fn organization_filter(op: Op, value: &str) -> Result<SimpleExpr, String> {
    let org =
        names::parse("organizations", value).ok_or("expected an `organizations/{id}` name")?;
    holders(op, memberships::Column::OrganizationId.eq(org))
}

/// Persons holding a membership that meets `membership`.
fn holders(op: Op, membership: SimpleExpr) -> Result<SimpleExpr, String> {
    let sub = Query::select()
        .column(memberships::Column::PersonId)
        .from(memberships::Entity)
        .and_where(membership)
        .to_owned();
    match op {
        Op::Eq | Op::Has => Ok(Column::Id.in_subquery(sub)),
        Op::Ne => Ok(Column::Id.not_in_subquery(sub)),
        _ => Err("only `=`, `!=` and `:` apply".into()),
    }
}

/// GetPerson.
pub async fn get(svc: &Organizations, scope: &Scope, req: GetPersonRequest) -> Result<Person> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(
        &get_visible(svc.ctx.db.read(), scope, id).await?,
        scope,
    ))
}

/// ListPersons.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListPersonsRequest,
) -> Result<ListPersonsResponse> {
    let fields = [
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("courtyard", Column::CourtyardId, Kind::Name("courtyards")),
        Field::column("building", Column::BuildingId, Kind::Name("buildings")),
        Field::column("party_member", Column::PartyMember, Kind::Bool),
        Field::column(
            "double_report_unit",
            Column::DoubleReportUnitId,
            Kind::Name("organizations"),
        ),
        Field::column("building_head", Column::BuildingHead, Kind::Bool),
        Field::column("backbone", Column::Backbone, Kind::Bool),
        Field::column("display_name", Column::DisplayName, Kind::Text),
        Field::custom("role", role_filter),
        Field::custom("organization", organization_filter),
        Field::custom("phone", phone_filter),
        Field::column(
            "verification",
            Column::Verification,
            Kind::Enum(
                |s| PersonVerification::from_str_name(s).map(|v| v as i32),
                "PERSON_VERIFICATION_",
            ),
        ),
    ];
    let query = ListQuery::new(
        "ListPersons",
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
    Ok(ListPersonsResponse {
        persons: rows.iter().map(|m| to_proto(m, scope)).collect(),
        next_page_token,
    })
}

/// CreatePerson.
pub async fn create(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: CreatePersonRequest,
) -> Result<Person> {
    if !scope.is_staff() {
        return Err(Error::forbidden("register persons"));
    }
    let key = Key::new("CreatePerson", &req.request_id, principal, &req);
    let p = required("person", req.person)?;
    let mut c = Check::new();
    let refs = check(&mut c, &p, None);
    c.request_id(&req.request_id);
    c.finish()?;
    scope.require_community_write(Some(refs.community), &p.community)?;
    let prefs = p.contact_preferences.unwrap_or_default();

    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        check_places(txn, scope, &refs).await?;
        check_unit(txn, scope, refs.unit, p.party_member).await?;
        let row = persons::ActiveModel {
            id: Set(names::new_id()),
            display_name: Set(p.display_name),
            community_id: Set(refs.community),
            courtyard_id: Set(refs.courtyard),
            building_id: Set(refs.building),
            phone_e164: Set(cogov_kit::phone::canonical_or_empty(&p.phone)),
            phone: Set(p.phone),
            address: Set(p.address),
            party_member: Set(p.party_member),
            double_report_unit_id: Set(refs.unit),
            building_head: Set(p.building_head),
            backbone: Set(p.backbone),
            // Staff registered them: they know who this is.
            verification: Set(PersonVerification::Verified as i32),
            privacy_notice_version: Set(String::new()),
            consent_time: Set(None),
            verify_time: Set(Some(now)),
            forward_notices: Set(prefs.forward_notices),
            daily_digest: Set(prefs.daily_digest),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        };
        Ok(to_proto(&row.insert(txn).await?, scope))
    })
    .await
}

/// UpdatePerson.
pub async fn update(
    svc: &Organizations,
    scope: &Scope,
    req: UpdatePersonRequest,
) -> Result<Person> {
    let p = required("person", req.person)?;
    let id = read_id("person.name", &p.name, COLLECTION)?;
    let resident = matches!(scope, Scope::Resident(_));
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    if resident && let Some(path) = mask.paths().find(|p| !RESIDENT_MUTABLE.contains(p)) {
        return Err(Error::forbidden(format!(
            "change `{path}` of their record; a resident changes only {}",
            RESIDENT_MUTABLE.join(", ")
        )));
    }
    let mut c = Check::new();
    let refs = check(&mut c, &p, Some(&mask));
    c.finish()?;

    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    if !resident {
        scope.require_community_write(Some(row.community_id), &name(id))?;
    }
    let mut edit = VERSIONED.edit(row, &p.etag, &name(id), svc.ctx.clock.now())?;
    if mask.has("community") || mask.has("courtyard") || mask.has("building") {
        // Moving a person: the destination must be the caller's to change too.
        scope.require_community_write(Some(refs.community), &p.community)?;
        check_places(&txn, scope, &refs).await?;
    }
    edit.apply(
        &FIELDS,
        &mask,
        &Input {
            sent: p,
            checked: refs,
        },
    );
    if mask.has("party_member") || mask.has("double_report_unit") {
        let after = &edit.changes;
        let unit = *after.double_report_unit_id.as_ref();
        check_unit(&txn, scope, unit, *after.party_member.as_ref()).await?;
    }
    let saved = edit.save(&txn).await?;
    let person = to_proto(&saved, scope);
    events::person_changed(&txn, &person, svc.ctx.clock.now()).await?;
    txn.commit().await?;
    svc.ctx.db.outbox_committed();
    Ok(person)
}

/// DeletePerson.
pub async fn delete(svc: &Organizations, scope: &Scope, req: DeletePersonRequest) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_community_write(Some(row.community_id), &name(id))?;
    etag::check(&req.etag, row.revision, &name(id))?;
    if memberships::Entity::find()
        .filter(memberships::Column::PersonId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::precondition(
            ErrorReason::InUse,
            "IN_USE",
            name(id),
            "memberships still refer to the person; remove them first",
        ));
    }
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    events::person_changed(&txn, &to_proto(&row, scope), svc.ctx.clock.now()).await?;
    txn.commit().await?;
    svc.ctx.db.outbox_committed();
    Ok(())
}

/// RegisterPerson: a resident who signed in with a number nobody in the
/// registry has. Only the gateway (an internal service) calls it; the
/// person is unverified until community staff verify them.
pub async fn register(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: RegisterPersonRequest,
) -> Result<Person> {
    if !matches!(principal, Principal::Service { .. }) {
        return Err(Error::forbidden(
            "register residents; the gateway does, after they sign in",
        ));
    }
    let key = Key::new("RegisterPerson", &req.request_id, principal, &req);
    let p = required("person", req.person)?;
    let mut c = Check::new();
    c.line("person.display_name", &p.display_name, 1, 100);
    let phone = match cogov_kit::phone::normalize(&p.phone) {
        Ok(phone) => phone,
        Err(expected) => {
            c.add("person.phone", expected);
            String::new()
        }
    };
    let refs = Refs {
        community: c.name("person.community", &p.community, "communities"),
        courtyard: c.optional_name("person.courtyard", &p.courtyard, "courtyards"),
        building: c.optional_name("person.building", &p.building, "buildings"),
        unit: None,
    };
    c.line("privacy_notice_version", &req.privacy_notice_version, 1, 64);
    c.request_id(&req.request_id);
    c.finish()?;
    let prefs = p.contact_preferences.unwrap_or_default();
    let now = svc.ctx.clock.now();
    let person = idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        check_places(txn, scope, &refs).await?;
        if let Some(holder) = Entity::find()
            .filter(Column::PhoneE164.eq(&phone))
            .one(txn)
            .await?
        {
            return Err(Error::AlreadyExists {
                resource_type: RESOURCE,
                name: name(holder.id),
            });
        }
        let row = persons::ActiveModel {
            id: Set(names::new_id()),
            display_name: Set(p.display_name),
            community_id: Set(refs.community),
            courtyard_id: Set(refs.courtyard),
            building_id: Set(refs.building),
            phone: Set(phone.clone()),
            phone_e164: Set(phone),
            address: Set(String::new()),
            party_member: Set(false),
            double_report_unit_id: Set(None),
            building_head: Set(false),
            backbone: Set(false),
            verification: Set(PersonVerification::Unverified as i32),
            privacy_notice_version: Set(req.privacy_notice_version),
            consent_time: Set(Some(now)),
            verify_time: Set(None),
            forward_notices: Set(prefs.forward_notices),
            daily_digest: Set(prefs.daily_digest),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        let person = to_proto(&row, scope);
        events::person_registered(txn, &person, now).await?;
        Ok(person)
    })
    .await?;
    svc.ctx.db.outbox_committed();
    Ok(person)
}

/// VerifyPerson: community staff have checked who a self-registered
/// resident is.
pub async fn verify(
    svc: &Organizations,
    scope: &Scope,
    req: VerifyPersonRequest,
) -> Result<Person> {
    let id = read_id("name", &req.name, COLLECTION)?;
    if !scope.is_staff() {
        return Err(Error::forbidden("verify residents"));
    }
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    scope.require_community_write(Some(row.community_id), &name(id))?;
    let now = svc.ctx.clock.now();
    let mut edit = VERSIONED.edit(row.clone(), &req.etag, &name(id), now)?;
    if row.verification == PersonVerification::Verified as i32 {
        return Err(Error::illegal_transition(name(id), "VERIFIED", "verified"));
    }
    let am = &mut edit.changes;
    am.verification = Set(PersonVerification::Verified as i32);
    am.verify_time = Set(Some(now));
    let saved = edit.save(&txn).await?;
    let person = to_proto(&saved, scope);
    events::person_verified(&txn, &person, now).await?;
    cogov_kit::events::notices::tell(
        &txn,
        crate::ROLE,
        [id],
        cogov_kit::events::notices::Notice {
            kind: cogov_proto::common::NoticeKind::RegistrationVerified,
            subject: &person.name,
            // No name in an event: events outlive erasure in logs.
            title: "",
            detail: "",
        },
        now,
    )
    .await?;
    txn.commit().await?;
    svc.ctx.db.outbox_committed();
    Ok(person)
}

/// What an erased person's record shows instead of their name.
pub const ERASED_NAME: &str = "已注销居民";

/// ErasePerson: the person's name, numbers, address and contact
/// preferences go, and with them their talents' descriptions and any
/// remembered response that held them; memberships and the record itself
/// stay, so that counts keep. Every other service hears `PersonErased`.
/// Only the gateway calls it; a second call changes nothing.
pub async fn erase(
    svc: &Organizations,
    scope: &Scope,
    principal: &Principal,
    req: ErasePersonRequest,
) -> Result<Person> {
    if !matches!(principal, Principal::Service { .. }) {
        return Err(Error::forbidden(
            "erase persons; the gateway does, carrying out an erasure staff approved",
        ));
    }
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    let now = svc.ctx.clock.now();
    let personal = [
        row.display_name.clone(),
        row.phone.clone(),
        row.phone_e164.clone(),
        row.address.clone(),
    ];
    let mut edit = VERSIONED.edit(row.clone(), "", &name(id), now)?;
    let am = &mut edit.changes;
    am.display_name = Set(ERASED_NAME.into());
    am.phone = Set(String::new());
    am.phone_e164 = Set(String::new());
    am.address = Set(String::new());
    am.forward_notices = Set(false);
    am.daily_digest = Set(false);
    let saved = edit.save(&txn).await?;
    crate::entity::talents::Entity::update_many()
        .col_expr(
            crate::entity::talents::Column::Description,
            sea_orm::sea_query::Expr::value(""),
        )
        .filter(crate::entity::talents::Column::PersonId.eq(id))
        .exec(&txn)
        .await?;
    let needles: Vec<&str> = personal
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty() && *s != ERASED_NAME)
        .collect();
    idempotency::forget_containing(&txn, &needles).await?;
    events::person_erased(&txn, &name(id), now).await?;
    txn.commit().await?;
    svc.ctx.db.outbox_committed();
    Ok(to_proto(&saved, scope))
}
