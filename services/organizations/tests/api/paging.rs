//! Keyset paging across every list: page sizes, tokens bound to their
//! query, stability under concurrent inserts.

use std::collections::HashSet;

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    pages_cover_everything_once_under_concurrent_inserts,
    page_tokens_are_tamper_evident
);

async fn add_courtyards(c: &mut Client, community: &str, n: usize, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..n {
        names.push(
            c.create_courtyard(CreateCourtyardRequest {
                courtyard: Some(Courtyard {
                    community: community.into(),
                    display_name: format!("{prefix} {i:02}"),
                    kind: CourtyardKind::Estate as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .name,
        );
    }
    names
}

async fn pages_cover_everything_once_under_concurrent_inserts(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let mut expected: Vec<String> = add_courtyards(&mut c, &w.community_a, 23, "yard").await;
    expected.extend([w.a1.clone(), w.a2.clone()]);
    let filter = format!("community = {}", w.community_a);

    for order_by in ["", "display_name", "display_name desc", "create_time desc"] {
        let mut seen = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = c
                .list_courtyards(ListCourtyardsRequest {
                    page_size: 10,
                    page_token: token.clone(),
                    filter: filter.clone(),
                    order_by: order_by.into(),
                })
                .await
                .unwrap()
                .into_inner();
            assert!(page.courtyards.len() <= 10);
            pages += 1;
            seen.extend(
                page.courtyards
                    .into_iter()
                    .map(|y| (y.name, y.display_name)),
            );
            if pages == 1 {
                // Writers keep inserting while the reader pages; rows that
                // existed when paging began are all seen, exactly once.
                add_courtyards(&mut c, &w.community_a, 2, &format!("late {order_by}")).await;
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let names: Vec<&String> = seen.iter().map(|(n, _)| n).collect();
        let unique: HashSet<&String> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "no row twice ({order_by:?})");
        for e in &expected {
            assert!(unique.contains(e), "{e} missing ({order_by:?})");
        }
        let keys: Vec<&String> = seen.iter().map(|(_, d)| d).collect();
        match order_by {
            "display_name" => assert!(keys.windows(2).all(|p| p[0] <= p[1])),
            "display_name desc" => assert!(keys.windows(2).all(|p| p[0] >= p[1])),
            _ => {}
        }
        if order_by == "create_time desc" {
            assert!(names.windows(2).all(|p| p[0] > p[1]), "newest first");
        }
    }
}

async fn page_tokens_are_tamper_evident(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let first = c
        .list_courtyards(ListCourtyardsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = first.next_page_token;
    assert!(!token.is_empty());

    // Another filter, another order, another list: refused.
    assert_status(
        c.list_courtyards(ListCourtyardsRequest {
            page_size: 1,
            page_token: token.clone(),
            filter: "pilot = true".into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "INVALID_PAGE_TOKEN",
    );
    assert_status(
        c.list_courtyards(ListCourtyardsRequest {
            page_size: 1,
            page_token: token.clone(),
            order_by: "display_name".into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "INVALID_PAGE_TOKEN",
    );
    assert_status(
        c.list_persons(ListPersonsRequest {
            page_token: token.clone(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "INVALID_PAGE_TOKEN",
    );
    // Forged and corrupted tokens.
    let mut bytes = token.clone().into_bytes();
    bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
    for forged in [
        String::from_utf8(bytes).unwrap(),
        "not-a-token".into(),
        "A".repeat(5000),
        "%%%".into(),
    ] {
        let status = assert_status(
            c.list_courtyards(ListCourtyardsRequest {
                page_size: 1,
                page_token: forged,
                ..Default::default()
            })
            .await,
            Code::InvalidArgument,
            "INVALID_PAGE_TOKEN",
        );
        use tonic_types::StatusExt;
        assert_eq!(
            status
                .get_error_details()
                .bad_request()
                .unwrap()
                .field_violations[0]
                .field,
            "page_token"
        );
    }
    // The genuine token works.
    let second = c
        .list_courtyards(ListCourtyardsRequest {
            page_size: 1,
            page_token: token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.courtyards, first.courtyards);

    assert_bad_field(
        c.list_courtyards(ListCourtyardsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await,
        "page_size",
    );
    let capped = c
        .list_courtyards(ListCourtyardsRequest {
            page_size: 1_000_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(capped.courtyards.len(), 3);
    assert!(capped.next_page_token.is_empty());
    let _ = w;
}
