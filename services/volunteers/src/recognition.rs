//! Recognition: CreateCommendation, ListCommendations, ListBadges (badges
//! are awarded when approved hours pass the policy's thresholds).

use cogov_kit::auth::Principal;
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{badges, commendations, teams};
use crate::{Volunteers, read_id, required, volunteers};

fn to_proto(m: &commendations::Model) -> Commendation {
    Commendation {
        name: names::format("commendations", m.id),
        recipient: m.recipient.clone(),
        title: m.title.clone(),
        citation: m.citation.clone(),
        issuer: m.issuer.clone(),
        award_time: Some(convert::timestamp(m.award_time)),
    }
}

/// CreateCommendation: staff commend a volunteer or team of their community.
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateCommendationRequest,
) -> Result<Commendation> {
    if !scope.is_staff() {
        return Err(Error::forbidden("commend; staff only"));
    }
    let key = Key::new("CreateCommendation", &req.request_id, principal, &req);
    let m = required("commendation", req.commendation)?;
    let mut c = Check::new();
    c.line("commendation.title", &m.title, 1, 200);
    c.text("commendation.citation", &m.citation, 0, 2000);
    c.optional_name("commendation.issuer", &m.issuer, "organizations");
    let volunteer = cogov_kit::names::parse("volunteers", &m.recipient);
    let team = cogov_kit::names::parse("teams", &m.recipient);
    if volunteer.is_none() && team.is_none() {
        c.add(
            "commendation.recipient",
            "must be a `volunteers/…` or `teams/…` name",
        );
    }
    c.request_id(&req.request_id);
    c.finish()?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let community = match (volunteer, team) {
            (Some(v), _) => {
                volunteers::reference(txn, "commendation.recipient", v)
                    .await?
                    .community_id
            }
            (_, Some(t)) => {
                teams::Entity::find_by_id(t)
                    .one(txn)
                    .await?
                    .ok_or_else(|| {
                        Error::invalid(
                            "commendation.recipient",
                            format!("{} does not exist", m.recipient),
                        )
                    })?
                    .community_id
            }
            _ => unreachable!("checked above"),
        };
        scope.require_staff(community, &m.recipient)?;
        let row = commendations::ActiveModel {
            id: Set(names::new_id()),
            recipient: Set(m.recipient),
            community_id: Set(Some(community)),
            title: Set(m.title),
            citation: Set(m.citation),
            issuer: Set(m.issuer),
            award_time: Set(m
                .award_time
                .as_ref()
                .and_then(convert::from_timestamp)
                .unwrap_or(now)),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row))
    })
    .await
}

/// ListCommendations, newest first: public honours.
pub async fn list(
    svc: &Volunteers,
    _scope: &Scope,
    req: ListCommendationsRequest,
) -> Result<ListCommendationsResponse> {
    let fields = [
        Field::column("recipient", commendations::Column::Recipient, Kind::Text),
        Field::column("issuer", commendations::Column::Issuer, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListCommendations",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], commendations::Column::Id);
    spec.newest_first = true;
    let (rows, next_page_token) = listing::list(
        &svc.ctx.tokens,
        &svc.ctx.db,
        query,
        spec,
        commendations::Entity::find(),
        |m| (SortKey::None, m.id),
    )
    .await?;
    Ok(ListCommendationsResponse {
        commendations: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// ListBadges of a volunteer the caller may see.
pub async fn list_badges(
    svc: &Volunteers,
    scope: &Scope,
    req: ListBadgesRequest,
) -> Result<ListBadgesResponse> {
    let id = read_id("parent", &req.parent, volunteers::COLLECTION)?;
    let conn = svc.ctx.db.read();
    volunteers::get_visible(conn, scope, id).await?;
    let query = ListQuery {
        parent: &req.parent,
        ..ListQuery::new("ListBadges", req.page_size, &req.page_token, "", "hours")
    };
    let spec = Spec::new(&[], &[("hours", badges::Column::Hours)], badges::Column::Id);
    let base = badges::Entity::find().filter(badges::Column::VolunteerId.eq(id));
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::Int(m.hours.into()), m.id)
        })
        .await?;
    Ok(ListBadgesResponse {
        badges: rows
            .iter()
            .map(|b| Badge {
                name: format!(
                    "{}/badges/{}",
                    volunteers::name(b.volunteer_id),
                    b.id.as_hyphenated()
                ),
                hours: b.hours,
                award_time: Some(convert::timestamp(b.award_time)),
            })
            .collect(),
        next_page_token,
    })
}
