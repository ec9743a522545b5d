//! Who may see and do what in the volunteers service (on top of
//! [`cogov_kit::scope::Scope`]):
//!
//! - staff see and manage the volunteers, teams and activities of their
//!   community (street admins: all);
//! - partners see activities they organise or co-organise or that are in
//!   their reach, and the volunteers of communities in their reach with
//!   personal data masked; they manage activities they organise;
//! - residents see published activities, their own volunteer record, sign
//!   themselves up, report their own hours and spend their own points; a
//!   team leader approves the hours of the team's activities.

use cogov_kit::Result;
use cogov_kit::scope::{Scope, nothing};
use sea_orm::sea_query::{Condition, IntoCondition, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::{activities, co_organizers, team_members, teams, volunteers};
use cogov_proto::volunteers::{ActivityState, TeamRole};

/// Whether the caller may see a volunteer.
pub fn sees_volunteer(scope: &Scope, v: &volunteers::Model) -> bool {
    match scope {
        Scope::Resident { person, .. } => v.person_id == *person,
        Scope::Partner { reach, .. } => reach.communities.contains(&v.community_id),
        staff => staff.staff_covers(v.community_id),
    }
}

/// The SQL form of [`sees_volunteer`].
pub fn volunteer_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Resident { person, .. } => volunteers::Column::PersonId.eq(*person).into_condition(),
        other => other.place_condition(volunteers::Column::CommunityId, None),
    }
}

/// Whether the caller may see an activity (`co_organizes`: the caller's
/// organisation co-organises it).
pub fn sees_activity(scope: &Scope, a: &activities::Model, co_organizes: bool) -> bool {
    match scope {
        Scope::Partner {
            organization,
            reach,
        } => {
            a.organizing_organization_id == Some(*organization)
                || co_organizes
                || reach.covers(Some(a.community_id), a.courtyard_id)
        }
        // Every published activity of the street: themed courtyards pair
        // communities 1+1 and invite each other's residents.
        Scope::Resident { .. } => a.state != ActivityState::Draft as i32,
        staff => staff.staff_covers(a.community_id),
    }
}

/// The SQL form of [`sees_activity`].
pub fn activity_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::Partner { organization, .. } => Condition::any()
            .add(activities::Column::OrganizingOrganizationId.eq(*organization))
            .add(
                activities::Column::Id.in_subquery(
                    Query::select()
                        .column(co_organizers::Column::ActivityId)
                        .from(co_organizers::Entity)
                        .and_where(co_organizers::Column::OrganizationId.eq(*organization))
                        .to_owned(),
                ),
            )
            .add(scope.place_condition(
                activities::Column::CommunityId,
                Some(activities::Column::CourtyardId),
            )),
        Scope::Resident { .. } => activities::Column::State
            .ne(ActivityState::Draft as i32)
            .into_condition(),
        staff => staff.place_condition(activities::Column::CommunityId, None),
    }
}

/// Whether the caller manages an activity: staff of its community, or the
/// partner that organises it.
pub fn manages_activity(scope: &Scope, a: &activities::Model) -> bool {
    match scope {
        Scope::Partner { organization, .. } => a.organizing_organization_id == Some(*organization),
        Scope::Resident { .. } => false,
        staff => staff.staff_covers(a.community_id),
    }
}

/// The volunteer record of a resident, if any.
pub async fn volunteer_of<C: ConnectionTrait>(
    conn: &C,
    person: Uuid,
) -> Result<Option<volunteers::Model>> {
    Ok(volunteers::Entity::find()
        .filter(volunteers::Column::PersonId.eq(person))
        .one(conn)
        .await?)
}

/// Whether `person` leads (or deputises in) `team`.
pub async fn leads_team<C: ConnectionTrait>(conn: &C, person: Uuid, team: Uuid) -> Result<bool> {
    let Some(v) = volunteer_of(conn, person).await? else {
        return Ok(false);
    };
    if teams::Entity::find_by_id(team)
        .one(conn)
        .await?
        .is_some_and(|t| t.leader_id == Some(v.id))
    {
        return Ok(true);
    }
    Ok(team_members::Entity::find()
        .filter(team_members::Column::TeamId.eq(team))
        .filter(team_members::Column::VolunteerId.eq(v.id))
        .filter(
            team_members::Column::Role.is_in([TeamRole::Leader as i32, TeamRole::Deputy as i32]),
        )
        .one(conn)
        .await?
        .is_some())
}

/// A condition matching nothing, for callers who see nothing.
pub fn none() -> Condition {
    nothing()
}
