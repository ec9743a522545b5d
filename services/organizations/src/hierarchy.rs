//! ListDescendants: the places under a place, or the organisations under
//! an organisation, breadth first.

use cogov_kit::ErrorReason;
use cogov_kit::listing::{Page, Sort};
use cogov_kit::paging::{self, Cursor, SortKey};
use cogov_kit::{Error, Result, names};
use cogov_proto::organizations::{HierarchyNode, ListDescendantsRequest, ListDescendantsResponse};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::access::Scope;
use crate::entity::organizations as orgs;
use crate::entity::places::{self, PlaceKind};
use crate::places as place_store;
use crate::{Organizations, organizations};

const MAX_DEPTH: i32 = 16;
/// An organisation walk stops here; org trees are a few hundred nodes.
const MAX_NODES: usize = 10_000;

/// ListDescendants.
pub async fn list(
    svc: &Organizations,
    scope: &Scope,
    req: ListDescendantsRequest,
) -> Result<ListDescendantsResponse> {
    if !(0..=MAX_DEPTH).contains(&req.max_depth) {
        return Err(Error::invalid(
            "max_depth",
            format!("must be between 0 and {MAX_DEPTH}"),
        ));
    }
    let max_depth = if req.max_depth == 0 {
        MAX_DEPTH
    } else {
        req.max_depth
    };
    let query = ["ListDescendants", req.root.as_str(), &max_depth.to_string()];
    let collection = names::collection(&req.root).unwrap_or_default();
    if collection == "organizations" {
        let id = crate::read_id("root", &req.root, "organizations")?;
        return organizations_under(svc, scope, id, max_depth, &query, &req).await;
    }
    let kind = PlaceKind::from_collection(collection)
        .filter(|k| *k != PlaceKind::Building)
        .ok_or_else(|| {
            Error::invalid(
                "root",
                "must be a `streets/…`, `communities/…`, `courtyards/…` or `organizations/…` name",
            )
        })?;
    let id = crate::read_id("root", &req.root, kind.collection())?;
    places_under(svc, scope, kind, id, max_depth, &query, &req).await
}

async fn places_under(
    svc: &Organizations,
    scope: &Scope,
    kind: PlaceKind,
    id: Uuid,
    max_depth: i32,
    query: &[&str],
    req: &ListDescendantsRequest,
) -> Result<ListDescendantsResponse> {
    let conn = svc.ctx.db.read();
    place_store::get_visible(conn, scope, kind, id).await?;
    let sort = Sort {
        column: Some(places::Column::Kind),
        desc: false,
    };
    let page = Page::new(&svc.ctx.tokens, query, req.page_size, &req.page_token, sort)?;
    let under = match kind {
        PlaceKind::Street => places::Column::StreetId.eq(id),
        PlaceKind::Community => places::Column::CommunityId.eq(id),
        _ => places::Column::CourtyardId.eq(id),
    };
    let deepest = (kind as i16 + max_depth as i16).min(PlaceKind::Building as i16);
    // Partners see only part of the tree, and each level has its own rule.
    let mut levels = Condition::any();
    for level in (kind as i16 + 1)..=deepest {
        let level_kind = PlaceKind::from_i16(level).expect("a place level");
        levels = levels.add(
            Condition::all()
                .add(places::Column::Kind.eq(level))
                .add(place_store::visible_condition(scope, level_kind)),
        );
    }
    let select = places::Entity::find()
        .filter(under)
        .filter(places::Column::Id.ne(id))
        .filter(levels);
    let (found, next_page_token) = page
        .fetch(&svc.ctx.db, select, places::Column::Id, |m| {
            (SortKey::Int(m.kind.into()), m.id)
        })
        .await?;
    let nodes = found
        .iter()
        .map(|m| {
            let parent_kind =
                PlaceKind::from_i16(m.kind - 1).expect("places under a root have parents");
            HierarchyNode {
                name: m.name(),
                display_name: m.display_name.clone(),
                parent: m
                    .parent_id
                    .map(|p| names::format(parent_kind.collection(), p))
                    .unwrap_or_default(),
                depth: i32::from(m.kind - kind as i16),
            }
        })
        .collect();
    Ok(ListDescendantsResponse {
        nodes,
        next_page_token,
    })
}

async fn organizations_under(
    svc: &Organizations,
    scope: &Scope,
    root: Uuid,
    max_depth: i32,
    query: &[&str],
    req: &ListDescendantsRequest,
) -> Result<ListDescendantsResponse> {
    let conn = svc.ctx.db.read();
    organizations::get_visible(conn, scope, root).await?;
    let size = paging::page_size(req.page_size)? as usize;
    let fingerprint = paging::fingerprint(query);
    let after = svc.ctx.tokens.decode(&fingerprint, &req.page_token)?;
    let after = match after {
        None => None,
        Some(Cursor {
            key: SortKey::Int(depth),
            id,
        }) => Some((depth as i32, id)),
        Some(_) => return Err(Error::InvalidPageToken("issued for a different query")),
    };

    // Breadth first, one query per level; ids ascend within a level.
    let mut found: Vec<(i32, orgs::Model)> = Vec::new();
    let mut frontier = vec![root];
    let mut depth = 0;
    while !frontier.is_empty() && depth < max_depth {
        depth += 1;
        let level = walk_level(conn, &frontier).await?;
        frontier = level.iter().map(|m| m.id).collect();
        found.extend(level.into_iter().map(|m| (depth, m)));
        if found.len() > MAX_NODES {
            return Err(Error::precondition(
                ErrorReason::HierarchyTooLarge,
                "SIZE",
                names::format("organizations", root),
                format!("more than {MAX_NODES} descendants; narrow max_depth"),
            ));
        }
    }
    let visible: Vec<&(i32, orgs::Model)> = found
        .iter()
        .filter(|(d, m)| {
            organizations::visible(scope, m) && after.is_none_or(|(ad, aid)| (*d, m.id) > (ad, aid))
        })
        .collect();
    let more = visible.len() > size;
    let page: Vec<&(i32, orgs::Model)> = visible.into_iter().take(size).collect();
    let next_page_token = match (more, page.last()) {
        (true, Some((d, m))) => svc.ctx.tokens.encode(
            &fingerprint,
            &Cursor {
                key: SortKey::Int((*d).into()),
                id: m.id,
            },
        ),
        _ => String::new(),
    };
    Ok(ListDescendantsResponse {
        nodes: page
            .into_iter()
            .map(|(d, m)| HierarchyNode {
                name: names::format("organizations", m.id),
                display_name: m.display_name.clone(),
                parent: m
                    .parent_id
                    .map(|p| names::format("organizations", p))
                    .unwrap_or_default(),
                depth: *d,
            })
            .collect(),
        next_page_token,
    })
}

async fn walk_level<C: ConnectionTrait>(conn: &C, parents: &[Uuid]) -> Result<Vec<orgs::Model>> {
    let mut level = Vec::new();
    for chunk in parents.chunks(500) {
        level.extend(
            orgs::Entity::find()
                .filter(orgs::Column::ParentId.is_in(chunk.iter().copied()))
                .order_by_asc(orgs::Column::Id)
                .limit(MAX_NODES as u64 + 1)
                .all(conn)
                .await?,
        );
    }
    level.sort_by_key(|m| m.id);
    Ok(level)
}
