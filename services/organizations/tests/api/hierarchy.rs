//! ListDescendants.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(descendants_of_places, descendants_of_organisations);

async fn all_nodes(
    c: &mut Client,
    root: &str,
    max_depth: i32,
    page_size: i32,
) -> Vec<HierarchyNode> {
    let mut nodes = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_descendants(ListDescendantsRequest {
                root: root.into(),
                max_depth,
                page_size,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        nodes.extend(page.nodes);
        if page.next_page_token.is_empty() {
            return nodes;
        }
        token = page.next_page_token;
    }
}

async fn descendants_of_places(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let children = all_nodes(&mut c, &w.street, 1, 0).await;
    let names: Vec<_> = children.iter().map(|n| n.name.clone()).collect();
    assert_eq!(names, [w.community_a.clone(), w.community_b.clone()]);
    assert!(
        children
            .iter()
            .all(|n| n.depth == 1 && n.parent == w.street)
    );

    let everything = all_nodes(&mut c, &w.street, 0, 2).await;
    let summary: Vec<_> = everything
        .iter()
        .map(|n| (n.depth, n.name.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, w.community_a.clone()),
            (1, w.community_b.clone()),
            (2, w.a1.clone()),
            (2, w.a2.clone()),
            (2, w.b1.clone()),
            (3, w.building_a1.clone()),
        ],
        "breadth first, across pages of two"
    );
    let under_a = all_nodes(&mut c, &w.community_a, 0, 0).await;
    assert_eq!(under_a.len(), 3);
    assert_eq!(under_a[2].parent, w.a1);

    // Firm A sees only its part of the tree.
    let mut firm = env.client(partner(&w.firm_a));
    let seen: Vec<_> = all_nodes(&mut firm, &w.street, 0, 0)
        .await
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(
        seen,
        [w.community_a.clone(), w.a1.clone(), w.building_a1.clone()]
    );
    assert_status(
        firm.list_descendants(ListDescendantsRequest {
            root: w.community_b.clone(),
            ..Default::default()
        })
        .await,
        Code::PermissionDenied,
        "OUT_OF_REACH",
    );
    assert_bad_field(
        c.list_descendants(ListDescendantsRequest {
            root: w.building_a1.clone(),
            ..Default::default()
        })
        .await,
        "root",
    );
    assert_bad_field(
        c.list_descendants(ListDescendantsRequest {
            root: w.street.clone(),
            max_depth: 17,
            ..Default::default()
        })
        .await,
        "max_depth",
    );
}

async fn descendants_of_organisations(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let org = |name: &'static str, parent: String| {
        let mut c = c.clone();
        async move {
            c.create_organization(CreateOrganizationRequest {
                organization: Some(Organization {
                    display_name: name.into(),
                    kind: OrganizationKind::PartyGroup as i32,
                    parent,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        }
    };
    let root = org("root", String::new()).await;
    let child1 = org("child 1", root.clone()).await;
    let child2 = org("child 2", root.clone()).await;
    let grandchild = org("grandchild", child1.clone()).await;
    let nodes = all_nodes(&mut c, &root, 0, 1).await;
    let summary: Vec<_> = nodes
        .iter()
        .map(|n| (n.depth, n.name.clone(), n.parent.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, child1.clone(), root.clone()),
            (1, child2.clone(), root.clone()),
            (2, grandchild.clone(), child1.clone()),
        ]
    );
    assert_eq!(all_nodes(&mut c, &root, 1, 0).await.len(), 2);
    let _ = w;
}
