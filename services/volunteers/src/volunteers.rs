//! Volunteers: GetVolunteer, ListVolunteers, CreateVolunteer, UpdateVolunteer.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::privacy::mask_phone;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::team_members;
use crate::entity::volunteers::{self as rows, Column, Entity, Model};
use crate::{Volunteers, access, lists, read_id, required};

pub(crate) const COLLECTION: &str = "volunteers";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};
/// What an update checked of the volunteer sent.
struct Checked {
    skills: Vec<String>,
    talents: String,
    windows: Vec<lists::Window>,
    spans: Vec<lists::Span>,
    state: VolunteerState,
    community: Uuid,
}

const FIELDS: Fields<Input<Volunteer, Checked>, rows::ActiveModel> = Fields::new(&[
    ("skills", |am, i| {
        am.skills = Set(lists::to_json(&i.checked.skills))
    }),
    ("talents", |am, i| {
        am.talents = Set(i.checked.talents.clone())
    }),
    ("availability", |am, i| {
        am.availability = Set(lists::to_json(&i.checked.windows))
    }),
    ("unavailable", |am, i| {
        am.unavailable = Set(lists::to_json(&i.checked.spans))
    }),
    ("state", |am, i| am.state = Set(i.checked.state as i32)),
    ("phone", |am, i| am.phone = Set(i.sent.phone.clone())),
    ("community", |am, i| {
        am.community_id = Set(i.checked.community)
    }),
]);

pub(crate) fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

/// The proto of a volunteer as `scope` may see it.
pub fn to_proto(m: &Model, scope: &Scope) -> Volunteer {
    let masked = scope.masks();
    Volunteer {
        name: name(m.id),
        person: names::format("persons", m.person_id),
        display_name: m.display_name.clone(),
        community: names::format("communities", m.community_id),
        skills: lists::from_json(&m.skills),
        talents: lists::talents(&m.talents),
        availability: lists::windows(&m.availability),
        unavailable: lists::spans(&m.unavailable),
        state: m.state,
        phone: if masked {
            mask_phone(&m.phone)
        } else {
            m.phone.clone()
        },
        masked,
        approved_minutes: m.approved_minutes,
        points_balance: m.points_balance,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a volunteer the caller may see.
pub async fn get_visible<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    match Entity::find_by_id(id).one(conn).await? {
        Some(m) if access::sees_volunteer(scope, &m) => Ok(m),
        _ => Err(scope.missing("Volunteer", &name(id))),
    }
}

/// Loads a volunteer named in a request's `field`, which must exist.
pub async fn reference<C: ConnectionTrait>(conn: &C, field: &str, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::invalid(field, format!("{} does not exist", name(id))))
}

/// Whether the caller may change a volunteer: staff of the community, or
/// the volunteer themselves.
fn may_change(scope: &Scope, m: &Model) -> bool {
    match scope {
        Scope::Resident { person, .. } => *person == m.person_id,
        Scope::Partner { .. } => false,
        staff => staff.staff_covers(m.community_id),
    }
}

fn check_phone(c: &mut Check, phone: &str) {
    c.line("volunteer.phone", phone, 0, 32);
    if !phone
        .chars()
        .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | ' ' | '(' | ')'))
    {
        c.add(
            "volunteer.phone",
            "may hold only digits, spaces and + - ( )",
        );
    }
}

/// GetVolunteer.
pub async fn get(svc: &Volunteers, scope: &Scope, req: GetVolunteerRequest) -> Result<Volunteer> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(
        &get_visible(svc.ctx.db.read(), scope, id).await?,
        scope,
    ))
}

/// ListVolunteers.
pub async fn list(
    svc: &Volunteers,
    scope: &Scope,
    req: ListVolunteersRequest,
) -> Result<ListVolunteersResponse> {
    let fields = [
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| VolunteerState::from_str_name(s).map(|v| v as i32),
                "VOLUNTEER_STATE_",
            ),
        ),
        Field::custom("skills", |op, value| {
            if !matches!(op, Op::Has | Op::Eq)
                || value.is_empty()
                || !value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err("use `skills:tag` with a lower-case tag".into());
            }
            // Tags are stored as a JSON list of quoted strings.
            Ok(Column::Skills.like(format!("%\"{value}\"%")))
        }),
        Field::custom("team", |op, value| {
            let team = names::parse("teams", value).ok_or("expected a `teams/{id}` name")?;
            let members = Query::select()
                .column(team_members::Column::VolunteerId)
                .from(team_members::Entity)
                .and_where(team_members::Column::TeamId.eq(team))
                .to_owned();
            match op {
                Op::Eq | Op::Has => Ok(Column::Id.in_subquery(members)),
                Op::Ne => Ok(Column::Id.not_in_subquery(members)),
                _ => Err("only `=`, `!=` and `:` apply".into()),
            }
        }),
        Field::column("display_name", Column::DisplayName, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListVolunteers",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let spec = Spec::new(&fields, &[], Column::Id);
    let base = Entity::find().filter(access::volunteer_condition(scope));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListVolunteersResponse {
        volunteers: rows.iter().map(|m| to_proto(m, scope)).collect(),
        next_page_token,
    })
}

/// CreateVolunteer: staff register a person, or residents themselves.
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateVolunteerRequest,
) -> Result<Volunteer> {
    let key = Key::new("CreateVolunteer", &req.request_id, principal, &req);
    let v = required("volunteer", req.volunteer)?;
    let mut c = Check::new();
    let person = c.name("volunteer.person", &v.person, "persons");
    let skills = lists::check_skills(&mut c, "volunteer.skills", &v.skills);
    let talents = lists::talents_json(&mut c, &v.talents);
    let windows = lists::check_windows(&mut c, &v.availability);
    let spans = lists::check_spans(&mut c, &v.unavailable);
    let state: VolunteerState = c.enumeration("volunteer.state", v.state, false);
    check_phone(&mut c, &v.phone);
    c.request_id(&req.request_id);
    c.finish()?;
    scope.require_verified("volunteering")?;
    let who = svc.directory.person(person).await?.ok_or_else(|| {
        Error::invalid("volunteer.person", format!("{} does not exist", v.person))
    })?;
    match scope {
        Scope::Resident { person: me, .. } if *me == person => {}
        Scope::Resident { .. } | Scope::Partner { .. } => {
            return Err(Error::forbidden("register other people as volunteers"));
        }
        staff => staff.require_staff(who.community, &v.person)?,
    }
    let now = svc.ctx.clock.now();
    let state = if state == VolunteerState::Unspecified {
        VolunteerState::Active
    } else {
        state
    };
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        if access::volunteer_of(txn, person).await?.is_some() {
            return Err(Error::AlreadyExists {
                resource_type: "Volunteer",
                name: format!("the volunteer of {}", v.person),
            });
        }
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            person_id: Set(person),
            display_name: Set(who.display_name),
            community_id: Set(who.community),
            skills: Set(lists::to_json(&skills)),
            talents: Set(talents),
            availability: Set(lists::to_json(&windows)),
            unavailable: Set(lists::to_json(&spans)),
            state: Set(state as i32),
            phone: Set(v.phone),
            approved_minutes: Set(0),
            points_balance: Set(0),
            points_earned: Set(0),
            points_redeemed: Set(0),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row, scope))
    })
    .await
}

/// UpdateVolunteer.
pub async fn update(
    svc: &Volunteers,
    scope: &Scope,
    req: UpdateVolunteerRequest,
) -> Result<Volunteer> {
    let v = required("volunteer", req.volunteer)?;
    let id = read_id("volunteer.name", &v.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = Checked {
        skills: lists::check_skills(&mut c, "volunteer.skills", &v.skills),
        talents: lists::talents_json(&mut c, &v.talents),
        windows: lists::check_windows(&mut c, &v.availability),
        spans: lists::check_spans(&mut c, &v.unavailable),
        state: c.enumeration("volunteer.state", v.state, mask.has("state")),
        community: if mask.has("community") {
            c.name("volunteer.community", &v.community, "communities")
        } else {
            Uuid::nil()
        },
    };
    check_phone(&mut c, &v.phone);
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = get_visible(&txn, scope, id).await?;
    if !may_change(scope, &row) {
        return Err(Error::forbidden(format!("change {}", name(id))));
    }
    if mask.has("state") && !scope.is_staff() && checked.state == VolunteerState::Suspended {
        return Err(Error::forbidden("suspend volunteers; staff only"));
    }
    if mask.has("community")
        && !scope.staff_covers(checked.community)
        && !matches!(scope, Scope::Resident { .. })
    {
        return Err(Error::out_of_reach(&v.community));
    }
    let mut edit = VERSIONED.edit(row, &v.etag, &name(id), svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &Input { sent: v, checked });
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved, scope))
}
