//! Display names for the resource names in a list, each looked up once.

use std::collections::HashMap;

use cogov_proto::issues::GetSubItemRequest;
use cogov_proto::organizations::*;
use cogov_proto::{deliberation as del, volunteers as vol};

use crate::link::Clients;

/// A cache of display names.
pub struct Names {
    clients: Clients,
    known: HashMap<String, String>,
}

impl Names {
    /// An empty cache over `clients`.
    pub fn new(clients: Clients) -> Self {
        Names {
            clients,
            known: HashMap::new(),
        }
    }

    /// The display name (or title) of `name`: a place, organisation,
    /// person, sub-item, volunteer, team, activity, council, topic, meeting
    /// or poll; the name itself when it is none of those or out of the
    /// caller's reach.
    pub async fn of(&mut self, name: &str) -> String {
        if name.is_empty() {
            return String::new();
        }
        if let Some(known) = self.known.get(name) {
            return known.clone();
        }
        let found = self.look_up(name).await.unwrap_or_else(|| name.to_owned());
        self.known.insert(name.to_owned(), found.clone());
        found
    }

    async fn look_up(&self, name: &str) -> Option<String> {
        let mut o = self.clients.organizations.clone();
        let name = name.to_owned();
        let collection = name.split('/').next().unwrap_or("");
        let found = match collection {
            "communities" => o
                .get_community(GetCommunityRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "courtyards" => o
                .get_courtyard(GetCourtyardRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "buildings" => o
                .get_building(GetBuildingRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "organizations" => o
                .get_organization(GetOrganizationRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "persons" => o
                .get_person(GetPersonRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "subItems" => self
                .clients
                .issues
                .clone()
                .get_sub_item(GetSubItemRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "volunteers" => self
                .clients
                .volunteers
                .clone()
                .get_volunteer(vol::GetVolunteerRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "teams" => self
                .clients
                .volunteers
                .clone()
                .get_team(vol::GetTeamRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "activities" => self
                .clients
                .volunteers
                .clone()
                .get_activity(vol::GetActivityRequest { name })
                .await
                .map(|r| r.into_inner().title),
            "councils" => self
                .clients
                .deliberation
                .clone()
                .get_council(del::GetCouncilRequest { name })
                .await
                .map(|r| r.into_inner().display_name),
            "topics" => self
                .clients
                .deliberation
                .clone()
                .get_topic(del::GetTopicRequest { name })
                .await
                .map(|r| r.into_inner().title),
            "meetings" => self
                .clients
                .deliberation
                .clone()
                .get_meeting(del::GetMeetingRequest { name })
                .await
                .map(|r| r.into_inner().title),
            "polls" => self
                .clients
                .deliberation
                .clone()
                .get_poll(del::GetPollRequest { name })
                .await
                .map(|r| r.into_inner().title),
            _ => return None,
        };
        found.ok().filter(|d| !d.is_empty())
    }
}
