//! An organisation's reach: the courtyards and communities it may see and
//! act on, from its own place and the agreements in force. The gateway and
//! every service enforce partners' reach with what `ResolveReach` returns.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cogov_kit::{Result, convert, names};
use cogov_proto::organizations::{Reach as ReachProto, ResolveReachRequest};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::access::Scope;
use crate::entity::places::PlaceKind;
use crate::entity::{agreement_places, agreements, organizations, places};
use crate::{Organizations, read_id};

/// The places in an organisation's reach at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reach {
    /// The organisation.
    pub organization: Uuid,
    /// Communities wholly in reach.
    pub communities: BTreeSet<Uuid>,
    /// Every courtyard in reach, those of `communities` included.
    pub courtyards: BTreeSet<Uuid>,
    /// Communities in which something is in reach (to see the community
    /// record itself).
    pub touched_communities: BTreeSet<Uuid>,
    /// Agreements in force that gave the reach.
    pub agreements: Vec<Uuid>,
    /// When an agreement next starts or ends.
    pub expire_time: Option<DateTime<Utc>>,
}

impl Reach {
    /// Whether a row placed in `community` / `courtyard` is in reach.
    pub fn covers(&self, community: Option<Uuid>, courtyard: Option<Uuid>) -> bool {
        courtyard.is_some_and(|c| self.courtyards.contains(&c))
            || community.is_some_and(|c| self.communities.contains(&c))
    }
}

fn in_force(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(agreements::Column::StartTime.lte(at))
        .add(
            Condition::any()
                .add(agreements::Column::EndTime.is_null())
                .add(agreements::Column::EndTime.gt(at)),
        )
        .add(
            Condition::any()
                .add(agreements::Column::TerminateTime.is_null())
                .add(agreements::Column::TerminateTime.gt(at)),
        )
}

/// The reach of `organization` at `at`; `None` if it does not exist.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    organization: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<Reach>> {
    let Some(org) = organizations::Entity::find_by_id(organization)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let mut reach = Reach {
        organization,
        ..Reach::default()
    };

    // Its own place (an owners' committee's estate, say).
    if let Some(place_id) = org.place_id
        && let Some(place) = places::Entity::find_by_id(place_id).one(conn).await?
    {
        match place.place_kind() {
            PlaceKind::Community => {
                reach.communities.insert(place.id);
            }
            PlaceKind::Courtyard | PlaceKind::Building => {
                reach.courtyards.extend(place.courtyard_id);
                reach.touched_communities.extend(place.community_id);
            }
            PlaceKind::Street => {}
        }
    }

    let all = agreements::Entity::find()
        .filter(agreements::Column::OrganizationId.eq(organization))
        .all(conn)
        .await?;
    reach.expire_time = all
        .iter()
        .flat_map(|a| [Some(a.start_time), a.end_time, a.terminate_time])
        .flatten()
        .filter(|t| *t > at)
        .min();
    let active: Vec<Uuid> = agreements::Entity::find()
        .select_only()
        .column(agreements::Column::Id)
        .filter(agreements::Column::OrganizationId.eq(organization))
        .filter(in_force(at))
        .into_tuple()
        .all(conn)
        .await?;
    if !active.is_empty() {
        let granted = agreement_places::Entity::find()
            .filter(agreement_places::Column::AgreementId.is_in(active.clone()))
            .all(conn)
            .await?;
        for p in granted {
            if p.place_kind == PlaceKind::Community as i16 {
                reach.communities.insert(p.place_id);
            } else {
                reach.courtyards.insert(p.place_id);
                reach.touched_communities.insert(p.community_id);
            }
        }
    }
    reach.agreements = active;

    if !reach.communities.is_empty() {
        let inside: Vec<Uuid> = places::Entity::find()
            .select_only()
            .column(places::Column::Id)
            .filter(places::Column::Kind.eq(PlaceKind::Courtyard as i16))
            .filter(places::Column::CommunityId.is_in(reach.communities.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        reach.courtyards.extend(inside);
    }
    reach
        .touched_communities
        .extend(reach.communities.iter().copied());
    Ok(Some(reach))
}

/// ResolveReach.
pub async fn resolve_rpc(
    svc: &Organizations,
    scope: &Scope,
    req: ResolveReachRequest,
) -> Result<ReachProto> {
    let id = read_id("organization", &req.organization, "organizations")?;
    let at = match &req.at_time {
        Some(t) => convert::from_timestamp(t)
            .ok_or_else(|| cogov_kit::Error::invalid("at_time", "out of range"))?,
        None => svc.ctx.clock.now(),
    };
    if let Scope::Partner(own) = scope {
        if own.organization != id {
            return Err(cogov_kit::Error::out_of_reach(&req.organization));
        }
    } else if !scope.is_staff() {
        return Err(cogov_kit::Error::forbidden("resolve reach"));
    }
    let reach = resolve(svc.ctx.db.read(), id, at)
        .await?
        .ok_or_else(|| scope.missing("Organization", &req.organization))?;
    Ok(ReachProto {
        organization: req.organization,
        communities: reach
            .communities
            .iter()
            .map(|c| names::format("communities", *c))
            .collect(),
        courtyards: reach
            .courtyards
            .iter()
            .map(|c| names::format("courtyards", *c))
            .collect(),
        agreements: reach
            .agreements
            .iter()
            .map(|a| names::format("agreements", *a))
            .collect(),
        resolve_time: Some(convert::timestamp(at)),
        expire_time: convert::opt_timestamp(reach.expire_time),
    })
}
