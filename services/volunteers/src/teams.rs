//! Teams and their members: GetTeam, ListTeams, CreateTeam, UpdateTeam,
//! DeleteTeam, CreateTeamMember, ListTeamMembers, UpdateTeamMember,
//! DeleteTeamMember. Teams are a public directory; staff of the team's
//! community manage them, and a team's leader manages its members.

use std::collections::HashMap;

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, Input, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::entity::team_members::{self as members};
use crate::entity::teams::{self as rows, Column, Entity, Model};
use crate::{Volunteers, access, read_id, required, volunteers};

const COLLECTION: &str = "teams";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn member_name(m: &members::Model) -> String {
    names::format_child(COLLECTION, m.team_id, "members", m.id)
}

/// Renders teams with their member counts, read in one query for the page.
async fn render_many<C: ConnectionTrait>(conn: &C, rows: &[Model]) -> Result<Vec<Team>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let counts: HashMap<Uuid, i64> = members::Entity::find()
        .select_only()
        .column(members::Column::TeamId)
        .column_as(members::Column::Id.count(), "members")
        .filter(members::Column::TeamId.is_in(ids))
        .group_by(members::Column::TeamId)
        .into_tuple::<(Uuid, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .iter()
        .map(|m| to_proto(m, counts.get(&m.id).copied().unwrap_or(0)))
        .collect())
}

async fn render<C: ConnectionTrait>(conn: &C, m: &Model) -> Result<Team> {
    let mut one = render_many(conn, std::slice::from_ref(m)).await?;
    Ok(one.pop().expect("one row rendered"))
}

fn to_proto(m: &Model, member_count: i64) -> Team {
    Team {
        name: name(m.id),
        display_name: m.display_name.clone(),
        community: names::format("communities", m.community_id),
        brand: m.brand,
        leader: m.leader_id.map(volunteers::name).unwrap_or_default(),
        description: m.description.clone(),
        organization: m
            .organization_id
            .map(|o| names::format("organizations", o))
            .unwrap_or_default(),
        member_count: member_count as i32,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn member_proto(m: &members::Model) -> TeamMember {
    TeamMember {
        name: member_name(m),
        volunteer: volunteers::name(m.volunteer_id),
        role: m.role,
        join_time: Some(convert::timestamp(m.join_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a team, which every caller may see.
pub async fn find<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| scope.missing("Team", &name(id)))
}

/// Whether the caller manages the team's members: staff, or its leader.
async fn manages_members<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    team: &Model,
) -> Result<bool> {
    Ok(match scope {
        Scope::Resident { person, .. } => access::leads_team(conn, *person, team.id).await?,
        Scope::Partner { .. } => false,
        staff => staff.staff_covers(team.community_id),
    })
}

struct Checked {
    community: Uuid,
    leader: Option<Uuid>,
    organization: Option<Uuid>,
}

const FIELDS: Fields<Input<Team, Checked>, rows::ActiveModel> = Fields::new(&[
    ("display_name", |am, i| {
        am.display_name = Set(i.sent.display_name.clone())
    }),
    ("brand", |am, i| am.brand = Set(i.sent.brand)),
    ("leader", |am, i| am.leader_id = Set(i.checked.leader)),
    ("description", |am, i| {
        am.description = Set(i.sent.description.clone())
    }),
    ("organization", |am, i| {
        am.organization_id = Set(i.checked.organization)
    }),
]);

const MEMBER_FIELDS: Fields<TeamMember, members::ActiveModel> =
    Fields::new(&[("role", |am, m| am.role = Set(m.role))]);
/// Members keep no update time.
const MEMBER_VERSIONS: Versioned<members::Column> = Versioned {
    id: members::Column::Id,
    revision: members::Column::Revision,
    update_time: None,
};

fn check(c: &mut Check, t: &Team, mask: Option<&UpdateMask>) -> Checked {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("team.display_name", &t.display_name, 1, 100);
    }
    if want("description") {
        c.text("team.description", &t.description, 0, 4000);
    }
    Checked {
        community: if mask.is_none() {
            c.name("team.community", &t.community, "communities")
        } else {
            Uuid::nil()
        },
        leader: if want("leader") {
            c.optional_name("team.leader", &t.leader, "volunteers")
        } else {
            None
        },
        organization: if want("organization") {
            c.optional_name("team.organization", &t.organization, "organizations")
        } else {
            None
        },
    }
}

/// GetTeam.
pub async fn get(svc: &Volunteers, scope: &Scope, req: GetTeamRequest) -> Result<Team> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let conn = svc.ctx.db.read();
    render(conn, &find(conn, scope, id).await?).await
}

/// ListTeams.
pub async fn list(
    svc: &Volunteers,
    _scope: &Scope,
    req: ListTeamsRequest,
) -> Result<ListTeamsResponse> {
    let fields = [
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
        Field::column("brand", Column::Brand, Kind::Bool),
    ];
    let query = ListQuery::new("ListTeams", req.page_size, &req.page_token, &req.filter, "");
    let spec = Spec::new(&fields, &[], Column::Id);
    let conn = svc.ctx.db.read();
    let (rows, next_page_token) = listing::list(
        &svc.ctx.tokens,
        &svc.ctx.db,
        query,
        spec,
        Entity::find(),
        |m| (SortKey::None, m.id),
    )
    .await?;
    let teams = render_many(conn, &rows).await?;
    Ok(ListTeamsResponse {
        teams,
        next_page_token,
    })
}

/// CreateTeam.
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateTeamRequest,
) -> Result<Team> {
    let key = Key::new("CreateTeam", &req.request_id, principal, &req);
    let t = required("team", req.team)?;
    let mut c = Check::new();
    let checked = check(&mut c, &t, None);
    c.request_id(&req.request_id);
    c.finish()?;
    scope.require_staff(checked.community, &t.community)?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        if let Some(leader) = checked.leader {
            volunteers::reference(txn, "team.leader", leader).await?;
        }
        let id = names::new_id();
        let row = rows::ActiveModel {
            id: Set(id),
            display_name: Set(t.display_name),
            community_id: Set(checked.community),
            brand: Set(t.brand),
            leader_id: Set(checked.leader),
            description: Set(t.description),
            organization_id: Set(checked.organization),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        if let Some(leader) = checked.leader {
            add_member(txn, id, leader, TeamRole::Leader, now).await?;
        }
        render(txn, &row).await
    })
    .await
}

async fn add_member<C: ConnectionTrait>(
    conn: &C,
    team: Uuid,
    volunteer: Uuid,
    role: TeamRole,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<members::Model> {
    if members::Entity::find()
        .filter(members::Column::TeamId.eq(team))
        .filter(members::Column::VolunteerId.eq(volunteer))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(Error::AlreadyExists {
            resource_type: "TeamMember",
            name: format!("{} in {}", volunteers::name(volunteer), name(team)),
        });
    }
    Ok(members::ActiveModel {
        id: Set(names::new_id()),
        team_id: Set(team),
        volunteer_id: Set(volunteer),
        role: Set(role as i32),
        revision: Set(1),
        join_time: Set(now),
    }
    .insert(conn)
    .await?)
}

/// UpdateTeam.
pub async fn update(svc: &Volunteers, scope: &Scope, req: UpdateTeamRequest) -> Result<Team> {
    let t = required("team", req.team)?;
    let id = read_id("team.name", &t.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let checked = check(&mut c, &t, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = find(&txn, scope, id).await?;
    scope.require_staff(row.community_id, &name(id))?;
    let mut edit = VERSIONED.edit(row, &t.etag, &name(id), svc.ctx.clock.now())?;
    if mask.has("leader")
        && let Some(leader) = checked.leader
    {
        volunteers::reference(&txn, "team.leader", leader).await?;
        let member = members::Entity::find()
            .filter(members::Column::TeamId.eq(id))
            .filter(members::Column::VolunteerId.eq(leader))
            .one(&txn)
            .await?;
        if member.is_none() {
            add_member(&txn, id, leader, TeamRole::Leader, svc.ctx.clock.now()).await?;
        }
    }
    edit.apply(&FIELDS, &mask, &Input { sent: t, checked });
    let saved = edit.save(&txn).await?;
    let out = render(&txn, &saved).await?;
    txn.commit().await?;
    Ok(out)
}

/// DeleteTeam: only a team without members.
pub async fn delete(svc: &Volunteers, scope: &Scope, req: DeleteTeamRequest) -> Result<()> {
    let id = read_id("name", &req.name, COLLECTION)?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = find(&txn, scope, id).await?;
    scope.require_staff(row.community_id, &name(id))?;
    etag::check(&req.etag, row.revision, &name(id))?;
    if members::Entity::find()
        .filter(members::Column::TeamId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::precondition(
            ErrorReason::HasMembers,
            "HAS_CHILDREN",
            name(id),
            "remove its members first",
        ));
    }
    VERSIONED
        .delete::<Entity, _>(&txn, id, row.revision, &name(id))
        .await?;
    txn.commit().await?;
    Ok(())
}

fn parse_member(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    cogov_kit::validate::read_child_id(field, value, COLLECTION, "members")
}

/// CreateTeamMember.
pub async fn create_member(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateTeamMemberRequest,
) -> Result<TeamMember> {
    let key = Key::new("CreateTeamMember", &req.request_id, principal, &req);
    let team = read_id("parent", &req.parent, COLLECTION)?;
    let m = required("member", req.member)?;
    let mut c = Check::new();
    let volunteer = c.name("member.volunteer", &m.volunteer, "volunteers");
    let role: TeamRole = c.enumeration("member.role", m.role, false);
    c.request_id(&req.request_id);
    c.finish()?;
    let role = if role == TeamRole::Unspecified {
        TeamRole::Member
    } else {
        role
    };
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let t = find(txn, scope, team).await?;
        if !manages_members(txn, scope, &t).await? {
            return Err(Error::forbidden(format!(
                "manage the members of {}",
                name(team)
            )));
        }
        volunteers::reference(txn, "member.volunteer", volunteer).await?;
        Ok(member_proto(
            &add_member(txn, team, volunteer, role, now).await?,
        ))
    })
    .await
}

/// ListTeamMembers.
pub async fn list_members(
    svc: &Volunteers,
    scope: &Scope,
    req: ListTeamMembersRequest,
) -> Result<ListTeamMembersResponse> {
    let team = read_id("parent", &req.parent, COLLECTION)?;
    let conn = svc.ctx.db.read();
    find(conn, scope, team).await?;
    let query = ListQuery {
        parent: &req.parent,
        ..ListQuery::new("ListTeamMembers", req.page_size, &req.page_token, "", "")
    };
    let spec = Spec::new(&[], &[], members::Column::Id);
    let base = members::Entity::find().filter(members::Column::TeamId.eq(team));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListTeamMembersResponse {
        members: rows.iter().map(member_proto).collect(),
        next_page_token,
    })
}

async fn load_member<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    field: &str,
    value: &str,
) -> Result<(Model, members::Model)> {
    let (team, member) = parse_member(field, value)?;
    let t = find(conn, scope, team).await?;
    let m = members::Entity::find_by_id(member)
        .filter(members::Column::TeamId.eq(team))
        .one(conn)
        .await?
        .ok_or_else(|| scope.missing("TeamMember", value))?;
    if !manages_members(conn, scope, &t).await? {
        return Err(Error::forbidden(format!(
            "manage the members of {}",
            name(team)
        )));
    }
    Ok((t, m))
}

/// UpdateTeamMember.
pub async fn update_member(
    svc: &Volunteers,
    scope: &Scope,
    req: UpdateTeamMemberRequest,
) -> Result<TeamMember> {
    let m = required("member", req.member)?;
    // The name before the mask, so a wrong name is what the caller hears of.
    parse_member("member.name", &m.name)?;
    let mask = MEMBER_FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    let _: TeamRole = c.enumeration("member.role", m.role, mask.has("role"));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let (_, row) = load_member(&txn, scope, "member.name", &m.name).await?;
    let mut edit = MEMBER_VERSIONS.edit(row, &m.etag, &m.name, svc.ctx.clock.now())?;
    edit.apply(&MEMBER_FIELDS, &mask, &m);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(member_proto(&saved))
}

/// DeleteTeamMember.
pub async fn delete_member(
    svc: &Volunteers,
    scope: &Scope,
    req: DeleteTeamMemberRequest,
) -> Result<()> {
    let txn = svc.ctx.db.begin_write().await?;
    let (team, row) = load_member(&txn, scope, "name", &req.name).await?;
    etag::check(&req.etag, row.revision, &req.name)?;
    if team.leader_id == Some(row.volunteer_id) {
        return Err(Error::precondition(
            ErrorReason::Leader,
            "ROLE",
            &req.name,
            "name another leader first",
        ));
    }
    members::Entity::delete_by_id(row.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
