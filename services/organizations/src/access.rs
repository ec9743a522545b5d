//! Who may see and touch what in this service.
//!
//! - Street admins (and internal services) see and change everything.
//! - Community admins see the street's places and organisations, and the
//!   persons, memberships, agreements, resources and talents of their
//!   community; they change what is in their community.
//! - Partners see what is in their reach (personal data masked), the
//!   public bodies of the street, and their own records; they change only
//!   their own organisation's public details, memberships and resources.
//! - Residents see the directory of places and organisations and their own
//!   person record.
//!
//! A resource out of scope is reported as PERMISSION_DENIED whether or not
//! it exists, so that scope never reveals existence (AIP-211); callers who
//! see everything get NOT_FOUND.

use cogov_kit::auth::Principal;
use cogov_kit::clock::Clock;
use cogov_kit::{Error, Result};
use cogov_proto::organizations::OrganizationKind;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoCondition};
use sea_orm::{ColumnTrait, ConnectionTrait};
use uuid::Uuid;

use crate::reach::{self, Reach};

/// What the caller may see, resolved once per call.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Street admins and internal services.
    All,
    /// A community admin.
    Community(Uuid),
    /// A partner organisation, with its reach now.
    Partner(Reach),
    /// A resident.
    Resident(Uuid),
}

impl Scope {
    /// The scope of `principal` now.
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        principal: &Principal,
        clock: &Clock,
    ) -> Result<Scope> {
        Ok(match principal {
            Principal::StreetAdmin { .. } | Principal::Service { .. } => Scope::All,
            Principal::CommunityAdmin { community, .. } => Scope::Community(*community),
            Principal::Partner { organization, .. } => {
                // An organisation that no longer exists has an empty reach.
                let reach = reach::resolve(conn, *organization, clock.now())
                    .await?
                    .unwrap_or(Reach {
                        organization: *organization,
                        ..Reach::default()
                    });
                Scope::Partner(reach)
            }
            Principal::Resident { person, .. } => Scope::Resident(*person),
        })
    }

    /// Staff of any kind.
    pub fn is_staff(&self) -> bool {
        matches!(self, Scope::All | Scope::Community(_))
    }

    /// The error for a resource that is missing or out of scope.
    pub fn missing(&self, resource_type: &'static str, name: &str) -> Error {
        match self {
            Scope::All => Error::NotFound {
                resource_type,
                name: name.to_owned(),
            },
            _ => Error::out_of_reach(name),
        }
    }

    /// Fails unless the caller is a street admin.
    pub fn require_all(&self, action: &str) -> Result<()> {
        match self {
            Scope::All => Ok(()),
            _ => Err(Error::forbidden(action)),
        }
    }

    /// Whether personal data is masked for the caller.
    pub fn masks_personal_data(&self) -> bool {
        matches!(self, Scope::Partner(_))
    }

    /// Whether a row placed in `community` / `courtyard` is visible.
    /// `public` rows (street-level directory entries) are visible to all.
    pub fn sees(&self, community: Option<Uuid>, courtyard: Option<Uuid>) -> bool {
        match self {
            Scope::All => true,
            Scope::Community(c) => community == Some(*c),
            Scope::Partner(reach) => reach.covers(community, courtyard),
            Scope::Resident(_) => false,
        }
    }

    /// Whether the caller may change a row placed in `community`.
    pub fn writes_community(&self, community: Option<Uuid>) -> bool {
        match self {
            Scope::All => true,
            Scope::Community(c) => community == Some(*c),
            Scope::Partner(_) | Scope::Resident(_) => false,
        }
    }

    /// Fails unless the caller may change a row placed in `community`.
    pub fn require_community_write(&self, community: Option<Uuid>, name: &str) -> Result<()> {
        if self.writes_community(community) {
            Ok(())
        } else if self.is_staff() {
            Err(Error::out_of_reach(name))
        } else {
            Err(Error::forbidden(format!("change {name}")))
        }
    }

    /// A SQL condition selecting rows visible to the caller, for rows placed
    /// by a community column and an optional courtyard column.
    pub fn condition<C: ColumnTrait>(&self, community: C, courtyard: Option<C>) -> Condition {
        match self {
            Scope::All => Condition::all(),
            Scope::Community(c) => community.eq(*c).into_condition(),
            Scope::Partner(reach) => {
                let mut any =
                    Condition::any().add(community.is_in(reach.communities.iter().copied()));
                if let Some(courtyard) = courtyard {
                    any = any.add(courtyard.is_in(reach.courtyards.iter().copied()));
                }
                any
            }
            Scope::Resident(_) => nothing(),
        }
    }
}

/// A condition no row meets.
pub fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Organisations every caller may see: the street's public bodies.
pub fn public_kind(kind: i32) -> bool {
    matches!(
        OrganizationKind::try_from(kind),
        Ok(OrganizationKind::StreetPartyCommittee
            | OrganizationKind::StreetOffice
            | OrganizationKind::Department
            | OrganizationKind::ExpertGroup)
    )
}

/// The public kinds as numbers, for SQL.
pub fn public_kinds() -> [i32; 4] {
    [
        OrganizationKind::StreetPartyCommittee as i32,
        OrganizationKind::StreetOffice as i32,
        OrganizationKind::Department as i32,
        OrganizationKind::ExpertGroup as i32,
    ]
}
