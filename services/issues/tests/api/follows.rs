//! Residents follow issues they may see but did not report: the issue
//! says so to them (and to nobody else), ListIssues finds them with
//! `followed = true`, following twice is one follow, and an issue out of
//! their reach cannot be followed.

use cogov_proto::issues::*;
use tonic::Code;

use crate::both;
use crate::support::*;

both!(residents_follow_what_they_may_see);

async fn residents_follow_what_they_may_see(env: Env) {
    let w = World::build(&env).await;
    let mut admin = env.admin();
    let neighbours = admin
        .report_issue(report(&w.a1, "noise"))
        .await
        .unwrap()
        .into_inner();
    let elsewhere = admin
        .report_issue(report(&w.b1, "noise"))
        .await
        .unwrap()
        .into_inner();
    let mut me = env.client(resident(&w.resident_a1));
    let followed_by_me = async |me: &mut Client| {
        me.list_issues(ListIssuesRequest {
            filter: "followed = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues
        .into_iter()
        .map(|i| i.name)
        .collect::<Vec<_>>()
    };
    assert!(followed_by_me(&mut me).await.is_empty());

    let answer = me
        .follow_issue(FollowIssueRequest {
            name: neighbours.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.followed);
    assert_eq!(answer.etag, neighbours.etag, "a follow is not an edit");
    // Twice is once.
    me.follow_issue(FollowIssueRequest {
        name: neighbours.name.clone(),
    })
    .await
    .unwrap();
    assert_eq!(followed_by_me(&mut me).await, vec![neighbours.name.clone()]);
    let seen = me
        .get_issue(GetIssueRequest {
            name: neighbours.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(seen.followed);
    // Only to the follower.
    let staff_view = admin
        .get_issue(GetIssueRequest {
            name: neighbours.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!staff_view.followed);
    let not_following = admin
        .list_issues(ListIssuesRequest {
            filter: "followed = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .issues;
    assert!(not_following.is_empty(), "staff follow nothing");

    // Out of sight: out of reach, as any other call on it.
    let refused = me
        .follow_issue(FollowIssueRequest {
            name: elsewhere.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let refused = me
        .follow_issue(FollowIssueRequest {
            name: "issues/not-an-id".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");

    // Unfollowing, twice, is no error.
    for _ in 0..2 {
        let answer = me
            .unfollow_issue(UnfollowIssueRequest {
                name: neighbours.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!answer.followed);
    }
    assert!(followed_by_me(&mut me).await.is_empty());
}
