//! The demo's residents who sign in by phone, found at every start of
//! `cogov up`: in the community whose council has a poll open (Niujie
//! Dongli when none has), a building head with a seat on the council, a
//! volunteer, and a resident who is neither.

use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
use cogov_proto::deliberation::{
    GetTopicRequest, ListCouncilsRequest, ListPollsRequest, ListSeatsRequest, PollState,
};
use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
use cogov_proto::organizations::{GetPersonRequest, ListCommunitiesRequest, ListPersonsRequest};
use cogov_proto::volunteers::ListVolunteersRequest;
use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
use tonic::transport::Channel;

use super::err;
use super::partners::Bearer;

/// A resident the banner names.
#[derive(Debug, Clone)]
pub struct DemoResident {
    /// Who they are, in words.
    pub label: &'static str,
    /// Their name.
    pub display_name: String,
    /// The number they sign in with.
    pub phone: String,
}

/// The three demo residents (fewer if the data lacks one).
pub async fn resident_logins(gateway: Channel, token: &str) -> Result<Vec<DemoResident>, String> {
    let bearer = Bearer(token.to_owned());
    let mut orgs = OrganizationsServiceClient::with_interceptor(gateway.clone(), bearer.clone());
    let mut councils = DeliberationServiceClient::with_interceptor(gateway.clone(), bearer.clone());
    let mut volunteers = VolunteersServiceClient::with_interceptor(gateway, bearer);
    let dongli = orgs
        .list_communities(ListCommunitiesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .map_err(err("listing communities"))?
        .into_inner()
        .communities
        .into_iter()
        .find(|c| c.display_name.starts_with(super::COMMUNITIES[0].0))
        .map(|c| c.name)
        .ok_or("the demo has no Niujie Dongli community")?;

    let all = councils
        .list_councils(ListCouncilsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .map_err(err("listing councils"))?
        .into_inner()
        .councils;
    let open_poll = councils
        .list_polls(ListPollsRequest {
            page_size: 1,
            filter: format!("state = {}", PollState::Open.as_str_name()),
            ..Default::default()
        })
        .await
        .map_err(err("listing polls"))?
        .into_inner()
        .polls
        .into_iter()
        .next();
    let voting_council = match open_poll {
        Some(poll) => Some(
            councils
                .get_topic(GetTopicRequest { name: poll.topic })
                .await
                .map_err(err("reading a topic"))?
                .into_inner()
                .council,
        ),
        None => None,
    };
    let council = all
        .iter()
        .find(|c| Some(&c.name) == voting_council.as_ref())
        .or_else(|| all.iter().find(|c| c.place == dongli));
    // The council's community (a courtyard's council counts as none here).
    let community = council
        .map(|c| c.place.clone())
        .filter(|p| p.starts_with("communities/"))
        .unwrap_or(dongli);
    let council = council.map(|c| c.name.clone());
    let head = match council {
        Some(council) => councils
            .list_seats(ListSeatsRequest {
                parent: council,
                page_size: 10,
                filter: "kind = SEAT_KIND_BUILDING_HEAD".into(),
                ..Default::default()
            })
            .await
            .map_err(err("listing seats"))?
            .into_inner()
            .seats
            .into_iter()
            .next()
            .map(|s| s.person),
        None => None,
    };
    let volunteer_persons: Vec<String> = volunteers
        .list_volunteers(ListVolunteersRequest {
            page_size: 1000,
            filter: format!("community = {community:?}"),
            ..Default::default()
        })
        .await
        .map_err(err("listing volunteers"))?
        .into_inner()
        .volunteers
        .into_iter()
        .map(|v| v.person)
        .collect();
    let volunteer = volunteer_persons
        .iter()
        .find(|p| Some(*p) != head.as_ref())
        .cloned();
    let plain = orgs
        .list_persons(ListPersonsRequest {
            page_size: 200,
            filter: format!(
                "community = {community:?} AND building_head = false AND party_member = false AND backbone = false"
            ),
            ..Default::default()
        })
        .await
        .map_err(err("listing persons"))?
        .into_inner()
        .persons
        .into_iter()
        .find(|p| !volunteer_persons.contains(&p.name) && !p.phone_e164.is_empty())
        .map(|p| p.name);

    let mut out = Vec::new();
    for (label, person) in [
        ("building head, on the council", head),
        ("volunteer", volunteer),
        ("resident", plain),
    ] {
        let Some(name) = person else { continue };
        let p = orgs
            .get_person(GetPersonRequest { name })
            .await
            .map_err(err("reading a demo resident"))?
            .into_inner();
        if !p.phone_e164.is_empty() {
            out.push(DemoResident {
                label,
                display_name: p.display_name,
                phone: p.phone,
            });
        }
    }
    Ok(out)
}
