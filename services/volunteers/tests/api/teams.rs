//! Teams: member counts read the same in GetTeam and ListTeams, and follow
//! members joining and leaving.

use cogov_proto::volunteers::*;

use crate::both;
use crate::support::*;

both!(a_team_counts_its_members_in_get_and_list);

async fn a_team_counts_its_members_in_get_and_list(env: Env) {
    let w = World::build(&env, 3).await;
    let mut c = env.admin();
    let counts = async |c: &mut Client| {
        let got = c
            .get_team(GetTeamRequest {
                name: w.team_a.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .member_count;
        let listed = c
            .list_teams(ListTeamsRequest {
                page_size: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .teams;
        let in_list = listed
            .iter()
            .find(|t| t.name == w.team_a)
            .expect("team A listed")
            .member_count;
        // Every other team is empty: the counts are not shared across teams.
        assert!(
            listed
                .iter()
                .filter(|t| t.name != w.team_a)
                .all(|t| t.member_count == 0)
        );
        (got, in_list)
    };
    let (before, _) = counts(&mut c).await;
    c.create_team(CreateTeamRequest {
        team: Some(Team {
            display_name: "empty".into(),
            community: w.community_a.clone(),
            ..Default::default()
        }),
        request_id: String::new(),
    })
    .await
    .unwrap();
    let mut joined = Vec::new();
    for v in &w.volunteers_a[1..3] {
        joined.push(
            c.create_team_member(CreateTeamMemberRequest {
                parent: w.team_a.clone(),
                member: Some(TeamMember {
                    volunteer: v.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner(),
        );
    }
    assert_eq!(counts(&mut c).await, (before + 2, before + 2));
    c.delete_team_member(DeleteTeamMemberRequest {
        name: joined[0].name.clone(),
        etag: joined[0].etag.clone(),
    })
    .await
    .unwrap();
    assert_eq!(counts(&mut c).await, (before + 1, before + 1));
}
