//! Who may see and do what in the deliberation service.
//!
//! - Staff see and manage the councils of their community (street admins:
//!   all).
//! - A council's secretary manages it like staff: schedules topics, runs
//!   meetings, opens polls, enters show-of-hands tallies, records
//!   resolutions.
//! - Residents see the councils of their courtyard (or, for a community
//!   council, their community) and those where they hold a seat; there
//!   they propose and co-sign topics, speak, and vote when eligible.
//! - Partners see the councils in their reach and those where they hold a
//!   seat (a property manager's seat names the firm); they propose topics
//!   and report progress on the action items they own.
//!
//! Out of sight is PERMISSION_DENIED whether or not the thing exists.

use cogov_kit::auth::Principal;
use cogov_kit::scope::Scope;
use cogov_kit::{Error, Result};
use cogov_proto::deliberation::SeatKind;
use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::Deliberation;
use crate::entity::{councils, seats};

/// The caller, resolved once per call.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Staff, partner or resident scope.
    pub scope: Scope,
    /// Who, in words, for audit fields (`street-admin:alice`, …).
    pub label: String,
    /// A resident's home: community and courtyard.
    pub home: Option<(Uuid, Option<Uuid>)>,
    /// Seats in force the caller holds (as a person, or as the partner
    /// organisation the seat represents): council and kind.
    pub seats: Vec<(Uuid, SeatKind)>,
}

impl Caller {
    /// Resolves `principal` now.
    pub async fn of(svc: &Deliberation, principal: &Principal) -> Result<Caller> {
        let scope = Scope::of(principal, &svc.directory).await?;
        let today = svc.ctx.clock.today();
        let in_force = Condition::all()
            .add(seats::Column::StartDate.lte(today))
            .add(
                Condition::any()
                    .add(seats::Column::EndDate.is_null())
                    .add(seats::Column::EndDate.gte(today)),
            );
        let held = match &scope {
            Scope::Resident { person, .. } => Some(seats::Column::PersonId.eq(*person)),
            Scope::Partner { organization, .. } => {
                Some(seats::Column::OrganizationId.eq(*organization))
            }
            _ => None,
        };
        let seats = match held {
            Some(held) => seats::Entity::find()
                .select_only()
                .column(seats::Column::CouncilId)
                .column(seats::Column::Kind)
                .filter(in_force)
                .filter(held)
                .into_tuple::<(Uuid, i32)>()
                .all(svc.ctx.db.read())
                .await?
                .into_iter()
                .map(|(c, k)| (c, SeatKind::try_from(k).unwrap_or_default()))
                .collect(),
            None => Vec::new(),
        };
        let home = match &scope {
            Scope::Resident { person, .. } => svc
                .directory
                .person(*person)
                .await?
                .map(|p| (p.community, p.courtyard)),
            _ => None,
        };
        Ok(Caller {
            scope,
            label: principal.describe(),
            home,
            seats,
        })
    }

    /// The resident person, if the caller is one.
    pub fn person(&self) -> Option<Uuid> {
        self.scope.resident()
    }

    /// The partner organisation, if the caller is one.
    pub fn partner(&self) -> Option<Uuid> {
        self.scope.partner()
    }

    /// Holds a seat in force on the council.
    pub fn member(&self, council: Uuid) -> bool {
        self.seats.iter().any(|(c, _)| *c == council)
    }

    /// Lives where the council sits.
    pub fn resides(&self, council: &councils::Model) -> bool {
        match (self.home, council.courtyard_id) {
            (Some((_, Some(home))), Some(courtyard)) => home == courtyard,
            (Some((community, _)), None) => community == council.community_id,
            _ => false,
        }
    }

    /// Whether the caller may see the council and what is in it.
    pub fn sees(&self, council: &councils::Model) -> bool {
        match &self.scope {
            Scope::Resident { .. } => self.resides(council) || self.member(council.id),
            Scope::Partner { reach, .. } => {
                reach.covers(Some(council.community_id), council.courtyard_id)
                    || self.member(council.id)
            }
            staff => staff.staff_covers(council.community_id),
        }
    }

    /// Whether the caller runs the council: staff of its community, or its
    /// secretary.
    pub fn manages(&self, council: &councils::Model) -> bool {
        self.scope.staff_covers(council.community_id)
            || self
                .seats
                .iter()
                .any(|(c, k)| *c == council.id && *k == SeatKind::Secretary)
    }

    /// Fails unless the caller manages the council.
    pub fn require_manager(&self, council: &councils::Model, what: &str) -> Result<()> {
        if self.manages(council) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "{what}; the council's secretary or staff only"
            )))
        }
    }

    /// A condition on a `council_id` column selecting the councils the
    /// caller sees; `None` when it sees every council.
    pub async fn council_condition<C: ColumnTrait>(
        &self,
        svc: &Deliberation,
        council_column: C,
    ) -> Result<Option<Condition>> {
        if matches!(self.scope, Scope::All) {
            return Ok(None);
        }
        let visible: Vec<Uuid> = councils::Entity::find()
            .filter(self.councils_condition())
            .select_only()
            .column(councils::Column::Id)
            .into_tuple()
            .all(svc.ctx.db.read())
            .await?;
        Ok(Some(council_column.is_in(visible).into_condition()))
    }

    /// A condition on the councils table selecting what the caller sees.
    pub fn councils_condition(&self) -> Condition {
        use councils::Column;
        let member = Column::Id.is_in(self.seats.iter().map(|(c, _)| *c));
        match &self.scope {
            Scope::Resident { .. } => {
                let mut any = Condition::any().add(member);
                match self.home {
                    Some((community, Some(courtyard))) => {
                        any = any.add(Column::CourtyardId.eq(courtyard)).add(
                            Condition::all()
                                .add(Column::CourtyardId.is_null())
                                .add(Column::CommunityId.eq(community)),
                        );
                    }
                    Some((community, None)) => {
                        any = any.add(
                            Condition::all()
                                .add(Column::CourtyardId.is_null())
                                .add(Column::CommunityId.eq(community)),
                        );
                    }
                    None => {}
                }
                any
            }
            Scope::Partner { .. } => Condition::any()
                .add(
                    self.scope
                        .place_condition(Column::CommunityId, Some(Column::CourtyardId)),
                )
                .add(member),
            Scope::All => Condition::all(),
            Scope::Community(c) => Column::CommunityId.eq(*c).into_condition(),
        }
    }
}
