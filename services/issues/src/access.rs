//! Who may see and do what in the issues service.
//!
//! - Street admins and internal services: everything.
//! - Community admins: the issues, inspections and clusters of their
//!   community.
//! - Partners: issues in their reach, issues dispatched to them and issues
//!   they are summoned to; they report in their reach, and as assignee or
//!   summoned party return, start, resolve and check in. Reporter contact
//!   details are masked for them, and staff-only notes hidden.
//! - Residents: they report, see and confirm their own issues, and a
//!   building head confirms the issues of their courtyard.
//!
//! Out of scope is PERMISSION_DENIED whether or not the issue exists.

use cogov_kit::auth::Principal;
use cogov_kit::directory::{Directory, Reach};
use cogov_kit::{Error, Result};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoCondition, Query};
use uuid::Uuid;

use crate::entity::{issues, parties};

/// What the caller may see, resolved once per call.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Street admins and internal services.
    All,
    /// A community admin.
    Community(Uuid),
    /// A partner organisation and its reach now.
    Partner { organization: Uuid, reach: Reach },
    /// A resident; a building head also sees their courtyard's issues.
    Resident { person: Uuid, head_of: Option<Uuid> },
}

impl Scope {
    /// The scope of `principal` now.
    pub async fn of(principal: &Principal, directory: &Directory) -> Result<Scope> {
        Ok(match principal {
            Principal::StreetAdmin { .. } | Principal::Service { .. } => Scope::All,
            Principal::CommunityAdmin { community, .. } => Scope::Community(*community),
            Principal::Partner { organization, .. } => Scope::Partner {
                organization: *organization,
                reach: directory.reach(*organization).await?,
            },
            Principal::Resident { person } => {
                let head_of = directory
                    .person(*person)
                    .await?
                    .filter(|p| p.building_head)
                    .and_then(|p| p.courtyard);
                Scope::Resident {
                    person: *person,
                    head_of,
                }
            }
        })
    }

    /// Staff of any kind.
    pub fn is_staff(&self) -> bool {
        matches!(self, Scope::All | Scope::Community(_))
    }

    /// Reporter details are masked.
    pub fn masks(&self) -> bool {
        matches!(self, Scope::Partner { .. })
    }

    /// The partner organisation, if the caller is one.
    pub fn partner(&self) -> Option<Uuid> {
        match self {
            Scope::Partner { organization, .. } => Some(*organization),
            _ => None,
        }
    }

    /// The error for something missing or out of scope.
    pub fn missing(&self, resource_type: &'static str, name: &str) -> Error {
        match self {
            Scope::All => Error::NotFound {
                resource_type,
                name: name.to_owned(),
            },
            _ => Error::out_of_reach(name),
        }
    }

    /// Whether the caller's staff role covers a place.
    pub fn staff_covers(&self, community: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Community(c) => *c == community,
            _ => false,
        }
    }

    /// Whether a place is in the caller's view (staff scope or partner reach).
    pub fn place_visible(&self, community: Uuid, courtyard: Uuid) -> bool {
        match self {
            Scope::Partner { reach, .. } => reach.covers(Some(community), Some(courtyard)),
            Scope::Resident { .. } => false,
            staff => staff.staff_covers(community),
        }
    }

    /// A condition on rows placed by community and courtyard columns.
    pub fn place_condition<C: ColumnTrait>(&self, community: C, courtyard: C) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Community(c) => community.eq(*c).into_condition(),
            Scope::Partner { reach, .. } => Condition::any()
                .add(community.is_in(reach.communities.iter().copied()))
                .add(courtyard.is_in(reach.courtyards.iter().copied())),
            Scope::Resident { .. } => nothing(),
        }
    }

    /// Whether the caller may see an issue (`summoned`: the caller's
    /// organisation is a party to it).
    pub fn sees(&self, issue: &issues::Model, summoned: bool) -> bool {
        match self {
            Scope::Partner {
                organization,
                reach,
            } => {
                reach.covers(Some(issue.community_id), Some(issue.courtyard_id))
                    || issue.assignee_id == Some(*organization)
                    || summoned
            }
            Scope::Resident { person, head_of } => {
                issue.reporter_id == Some(*person) || *head_of == Some(issue.courtyard_id)
            }
            staff => staff.staff_covers(issue.community_id),
        }
    }

    /// The SQL form of [`Scope::sees`].
    pub fn issue_condition(&self) -> Condition {
        match self {
            Scope::Partner { organization, .. } => Condition::any()
                .add(self_place(self))
                .add(issues::Column::AssigneeId.eq(*organization))
                .add(
                    issues::Column::Id.in_subquery(
                        Query::select()
                            .column(parties::Column::IssueId)
                            .from(parties::Entity)
                            .and_where(parties::Column::OrganizationId.eq(*organization))
                            .to_owned(),
                    ),
                ),
            Scope::Resident { person, head_of } => {
                let mine = Condition::any().add(issues::Column::ReporterId.eq(*person));
                match head_of {
                    Some(courtyard) => mine.add(issues::Column::CourtyardId.eq(*courtyard)),
                    None => mine,
                }
            }
            staff => {
                staff.place_condition(issues::Column::CommunityId, issues::Column::CourtyardId)
            }
        }
    }

    /// Fails unless the caller is staff covering `community`.
    pub fn require_staff(&self, community: Uuid, name: &str) -> Result<()> {
        match self {
            s if s.staff_covers(community) => Ok(()),
            Scope::Community(_) => Err(Error::out_of_reach(name)),
            _ => Err(Error::forbidden(format!("do this to {name}; staff only"))),
        }
    }
}

fn self_place(scope: &Scope) -> Condition {
    scope.place_condition(issues::Column::CommunityId, issues::Column::CourtyardId)
}

/// A condition no row meets.
pub fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}
