//! Storage shared by the four kinds of place (one `places` table).

use cogov_kit::ErrorReason;
use cogov_kit::{Error, Result, etag, names};
use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use chrono::{DateTime, Utc};
use cogov_kit::store::{Edit, Versioned};

use crate::access::{Scope, nothing};
use crate::entity::places::{Column, Entity, Model, PlaceKind};

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

/// Loads a place of `kind`; `None` if there is none.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    kind: PlaceKind,
    id: Uuid,
) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id)
        .filter(Column::Kind.eq(kind as i16))
        .one(conn)
        .await?)
}

/// Whether the caller may see the place. Places are the street's directory:
/// staff and residents see them all; partners see the courtyards (and their
/// buildings) in reach, and the communities those are in.
pub fn visible(scope: &Scope, place: &Model) -> bool {
    match scope {
        Scope::All | Scope::Community(_) | Scope::Resident(_) => true,
        Scope::Partner(reach) => match place.place_kind() {
            PlaceKind::Street => true,
            PlaceKind::Community => reach.touched_communities.contains(&place.id),
            PlaceKind::Courtyard | PlaceKind::Building => place
                .courtyard_id
                .is_some_and(|c| reach.courtyards.contains(&c)),
        },
    }
}

/// The SQL form of [`visible`] for places of `kind`.
pub fn visible_condition(scope: &Scope, kind: PlaceKind) -> Condition {
    match scope {
        Scope::All | Scope::Community(_) | Scope::Resident(_) => Condition::all(),
        Scope::Partner(reach) => match kind {
            PlaceKind::Street => Condition::all(),
            PlaceKind::Community => Column::Id
                .is_in(reach.touched_communities.iter().copied())
                .into_condition(),
            PlaceKind::Courtyard | PlaceKind::Building => {
                if reach.courtyards.is_empty() {
                    nothing()
                } else {
                    Column::CourtyardId
                        .is_in(reach.courtyards.iter().copied())
                        .into_condition()
                }
            }
        },
    }
}

/// Loads a place the caller may see, or the error for a missing one.
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    kind: PlaceKind,
    id: Uuid,
) -> Result<Model> {
    let name = names::format(kind.collection(), id);
    match find(conn, kind, id).await? {
        Some(p) if visible(scope, &p) => Ok(p),
        _ => Err(scope.missing(kind.resource_type(), &name)),
    }
}

/// Resolves a reference in a request (`field` names it for errors): the
/// place must exist and be visible to the caller.
pub async fn reference<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    field: &str,
    kind: PlaceKind,
    id: Uuid,
) -> Result<Model> {
    match find(conn, kind, id).await? {
        Some(p) if visible(scope, &p) => Ok(p),
        Some(_) => Err(Error::out_of_reach(names::format(kind.collection(), id))),
        None => Err(Error::invalid(
            field,
            format!("{} does not exist", names::format(kind.collection(), id)),
        )),
    }
}

/// Deletes a place after checking its etag and that nothing hangs on it.
pub async fn delete<C: ConnectionTrait>(
    conn: &C,
    place: &Model,
    provided_etag: &str,
) -> Result<()> {
    let name = place.name();
    etag::check(provided_etag, place.revision, &name)?;
    let children: Option<Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::ParentId.eq(place.id))
        .into_tuple()
        .one(conn)
        .await?;
    if children.is_some() {
        return Err(Error::precondition(
            ErrorReason::HasChildren,
            "HAS_CHILDREN",
            &name,
            "delete or move the places inside it first",
        ));
    }
    for (table, column) in [
        ("persons", "community_id"),
        ("persons", "courtyard_id"),
        ("persons", "building_id"),
        ("organizations", "place_id"),
        ("shared_resources", "community_id"),
        ("shared_resources", "courtyard_id"),
        ("agreement_places", "place_id"),
    ] {
        if referenced(conn, table, column, place.id).await? {
            return Err(Error::precondition(
                ErrorReason::InUse,
                "IN_USE",
                &name,
                format!("{table} still refer to it"),
            ));
        }
    }
    VERSIONED
        .delete::<Entity, _>(conn, place.id, place.revision, &name)
        .await
}

async fn referenced<C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    column: &'static str,
    id: Uuid,
) -> Result<bool> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let query = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new(column)).eq(id))
        .limit(1)
        .to_owned();
    Ok(conn.query_one(&query).await?.is_some())
}

/// Begins a change to a place read in the write it will be saved in.
pub fn edit(row: Model, provided_etag: &str, now: DateTime<Utc>) -> Result<Edit<Entity>> {
    let name = row.name();
    VERSIONED.edit(row, provided_etag, &name, now)
}
