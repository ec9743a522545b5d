//! What a caller may see, for the services that rely on the organizations
//! service for places and reach (issues, volunteers, deliberation).
//!
//! - Street admins and internal services see everything.
//! - Community admins see their community.
//! - Partners see the places in their reach (and what concerns them
//!   directly, which each service adds).
//! - Residents see what is theirs (each service says what), and their
//!   courtyard's public view; a building head also their courtyard. A
//!   resident who registered themselves and is not yet verified may report
//!   and follow their own issues, nothing that speaks for the community
//!   ([`Scope::require_verified`]).
//!
//! Out of scope is PERMISSION_DENIED whether or not the thing exists.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoCondition};
use uuid::Uuid;

use crate::auth::Principal;
use crate::directory::{Directory, Reach};
use crate::error::ErrorReason;
use crate::error::{Error, Result};

/// The caller's scope, resolved once per call.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Street admins and internal services.
    All,
    /// A community admin.
    Community(Uuid),
    /// A partner organisation and its reach now.
    Partner { organization: Uuid, reach: Reach },
    /// A resident: where they live (as the registry has it; none once the
    /// person is gone), whether staff verified them, and the courtyard
    /// they are building head of.
    Resident {
        person: Uuid,
        community: Option<Uuid>,
        courtyard: Option<Uuid>,
        verified: bool,
        head_of: Option<Uuid>,
    },
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
            Principal::Resident { person, .. } => {
                let found = directory.person(*person).await?;
                Scope::Resident {
                    person: *person,
                    community: found.as_ref().map(|p| p.community),
                    courtyard: found.as_ref().and_then(|p| p.courtyard),
                    verified: found.as_ref().is_some_and(|p| p.verified),
                    head_of: found
                        .as_ref()
                        .filter(|p| p.building_head)
                        .and_then(|p| p.courtyard),
                }
            }
        })
    }

    /// Staff of any kind.
    pub fn is_staff(&self) -> bool {
        matches!(self, Scope::All | Scope::Community(_))
    }

    /// Personal data is masked for partners.
    pub fn masks(&self) -> bool {
        matches!(self, Scope::Partner { .. })
    }

    /// The resident's home community and courtyard.
    pub fn home(&self) -> Option<(Option<Uuid>, Option<Uuid>)> {
        match self {
            Scope::Resident {
                community,
                courtyard,
                ..
            } => Some((*community, *courtyard)),
            _ => None,
        }
    }

    /// Fails for a resident whom community staff have not verified yet:
    /// co-signing, discussing, voting and signing up speak for the
    /// community, and need a verified person.
    pub fn require_verified(&self, what: &str) -> Result<()> {
        match self {
            Scope::Resident {
                person,
                verified: false,
                ..
            } => Err(Error::precondition(
                ErrorReason::ResidentUnverified,
                "VERIFICATION",
                crate::names::format("persons", *person),
                format!(
                    "{what} needs a verified resident; community staff have not verified this registration yet"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The partner organisation, if the caller is one.
    pub fn partner(&self) -> Option<Uuid> {
        match self {
            Scope::Partner { organization, .. } => Some(*organization),
            _ => None,
        }
    }

    /// The resident person, if the caller is one.
    pub fn resident(&self) -> Option<Uuid> {
        match self {
            Scope::Resident { person, .. } => Some(*person),
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

    /// Whether the caller's staff role covers a community.
    pub fn staff_covers(&self, community: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Community(c) => *c == community,
            _ => false,
        }
    }

    /// Whether a place is in the caller's view (staff scope or partner reach).
    pub fn place_visible(&self, community: Uuid, courtyard: Option<Uuid>) -> bool {
        match self {
            Scope::Partner { reach, .. } => reach.covers(Some(community), courtyard),
            Scope::Resident { .. } => false,
            staff => staff.staff_covers(community),
        }
    }

    /// A condition on rows placed by community and courtyard columns.
    pub fn place_condition<C: ColumnTrait>(&self, community: C, courtyard: Option<C>) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Community(c) => community.eq(*c).into_condition(),
            Scope::Partner { reach, .. } => {
                let mut any =
                    Condition::any().add(community.is_in(reach.communities.iter().copied()));
                if let Some(courtyard) = courtyard {
                    any = any.add(courtyard.is_in(reach.courtyards.iter().copied()));
                }
                any
            }
            Scope::Resident { .. } => nothing(),
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

/// A condition no row meets.
pub fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}
