//! request_id on creates (AIP-155): retries return the first result and
//! create nothing new, also when the retries race.

use cogov_proto::organizations::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(
    a_retry_returns_the_first_result,
    concurrent_retries_create_one_resource,
    request_ids_are_forgotten_after_the_retention
);

fn courtyard(community: &str, name: &str, request_id: &str) -> CreateCourtyardRequest {
    CreateCourtyardRequest {
        courtyard: Some(Courtyard {
            community: community.into(),
            display_name: name.into(),
            kind: CourtyardKind::Estate as i32,
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

async fn count(c: &mut Client, community: &str) -> usize {
    c.list_courtyards(ListCourtyardsRequest {
        filter: format!("community = {community}"),
        page_size: 1000,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .courtyards
    .len()
}

async fn a_retry_returns_the_first_result(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let id = request_id();
    let first = c
        .create_courtyard(courtyard(&w.community_b, "b2", &id))
        .await
        .unwrap()
        .into_inner();
    env.clock.advance(chrono::Duration::seconds(1));
    let again = c
        .create_courtyard(courtyard(&w.community_b, "b2", &id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    assert_eq!(count(&mut c, &w.community_b).await, 2);

    assert_status(
        c.create_courtyard(courtyard(&w.community_b, "b3", &id))
            .await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    // The same id from another caller is another caller's request.
    assert_status(
        env.client(community_admin(&w.community_b))
            .create_courtyard(courtyard(&w.community_b, "b2", &id))
            .await,
        Code::InvalidArgument,
        "REQUEST_ID_REUSED",
    );
    assert_bad_field(
        c.create_courtyard(courtyard(&w.community_b, "b4", "retry-1"))
            .await,
        "request_id",
    );
    assert_eq!(count(&mut c, &w.community_b).await, 2);
}

async fn concurrent_retries_create_one_resource(env: Env) {
    let w = World::build(&env).await;
    let id = request_id();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut c = env.admin();
        let req = CreatePersonRequest {
            person: Some(Person {
                display_name: "Racer".into(),
                community: w.community_a.clone(),
                ..Default::default()
            }),
            request_id: id.clone(),
        };
        tasks.push(tokio::spawn(async move {
            c.create_person(req).await.map(|r| r.into_inner())
        }));
    }
    let mut names = Vec::new();
    for t in tasks {
        names.push(t.await.unwrap().expect("every retry succeeds").name);
    }
    names.dedup();
    assert_eq!(names.len(), 1, "one person, returned to every racer");
    let racers = env
        .admin()
        .list_persons(ListPersonsRequest {
            filter: "display_name = \"Racer\"".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(racers.persons.len(), 1);
}

async fn request_ids_are_forgotten_after_the_retention(env: Env) {
    let w = World::build(&env).await;
    let mut c = env.admin();
    let id = request_id();
    let first = c
        .create_courtyard(courtyard(&w.community_b, "b2", &id))
        .await
        .unwrap()
        .into_inner();
    let pruned = cogov_kit::idempotency::prune(
        env.ctx.db.write(),
        env.clock.now() - cogov_kit::idempotency::RETENTION,
    )
    .await
    .unwrap();
    assert_eq!(pruned, 0, "a fresh claim is kept");
    env.clock
        .advance(cogov_kit::idempotency::RETENTION + chrono::Duration::seconds(1));
    let pruned = cogov_kit::idempotency::prune(
        env.ctx.db.write(),
        env.clock.now() - cogov_kit::idempotency::RETENTION,
    )
    .await
    .unwrap();
    assert!(pruned >= 1);
    let later = c
        .create_courtyard(courtyard(&w.community_b, "b2", &id))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        first.name, later.name,
        "a forgotten request id is a new request"
    );
}
