//! What an import looks names up in: the community it imports into, its
//! courtyards and their buildings, and the organisations the caller sees,
//! each by the display name people write in a roster.

use std::collections::HashMap;
use std::future::Future;

use cogov_proto::organizations::*;
use tonic::Status;

use crate::link::Clients;

/// A display name as rosters spell it: case and spaces do not count.
pub fn key(display_name: &str) -> String {
    display_name
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every page of a list, gathered.
pub async fn all<T, F, Fut>(mut page: F) -> Result<Vec<T>, Status>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        if next.is_empty() {
            return Ok(out);
        }
        token = next;
    }
}

/// The community named by `which` (`communities/{id}` or its display name),
/// or the only one the caller sees when `which` is empty.
pub async fn community(clients: &Clients, which: &str) -> Result<Community, Status> {
    if which.starts_with("communities/") {
        let mut c = clients.organizations.clone();
        return Ok(c
            .get_community(GetCommunityRequest {
                name: which.to_owned(),
            })
            .await?
            .into_inner());
    }
    let communities = all(|page_token| {
        let mut c = clients.organizations.clone();
        async move {
            let r = c
                .list_communities(ListCommunitiesRequest {
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            Ok((r.communities, r.next_page_token))
        }
    })
    .await?;
    let wanted = key(which);
    let found: Vec<Community> = communities
        .into_iter()
        .filter(|c| wanted.is_empty() || key(&c.display_name) == wanted)
        .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        0 if wanted.is_empty() => Err(Status::failed_precondition(
            "you see no community to import into",
        )),
        0 => Err(Status::not_found(format!(
            "no community named “{which}” in your reach"
        ))),
        _ if wanted.is_empty() => Err(Status::invalid_argument(
            "you see several communities: name one with --community",
        )),
        _ => Err(Status::invalid_argument(format!(
            "several communities are named “{which}”: give its resource name"
        ))),
    }
}

/// A community's places and the organisations in reach, by display name.
#[derive(Debug, Default)]
pub struct Places {
    /// The community imported into.
    pub community: Community,
    /// Its courtyards by [`key`].
    pub courtyards: HashMap<String, Courtyard>,
    /// Their buildings by (courtyard name, [`key`]).
    pub buildings: HashMap<(String, String), Building>,
    /// Organisations the caller sees, by [`key`] (several may share one).
    pub organizations: HashMap<String, Vec<Organization>>,
}

impl Places {
    /// Loads `community`'s courtyards, their buildings when `buildings`,
    /// and the organisations when `organizations`.
    pub async fn load(
        clients: &Clients,
        community: Community,
        buildings: bool,
        organizations: bool,
    ) -> Result<Places, Status> {
        let filter = format!("community = \"{}\"", community.name);
        let courtyards = all(|page_token| {
            let mut c = clients.organizations.clone();
            let filter = filter.clone();
            async move {
                let r = c
                    .list_courtyards(ListCourtyardsRequest {
                        page_size: 1000,
                        page_token,
                        filter,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((r.courtyards, r.next_page_token))
            }
        })
        .await?;
        let mut places = Places {
            community,
            ..Default::default()
        };
        for courtyard in courtyards {
            if buildings {
                let filter = format!("courtyard = \"{}\"", courtyard.name);
                let list = all(|page_token| {
                    let mut c = clients.organizations.clone();
                    let filter = filter.clone();
                    async move {
                        let r = c
                            .list_buildings(ListBuildingsRequest {
                                page_size: 1000,
                                page_token,
                                filter,
                                ..Default::default()
                            })
                            .await?
                            .into_inner();
                        Ok((r.buildings, r.next_page_token))
                    }
                })
                .await?;
                for b in list {
                    places
                        .buildings
                        .insert((courtyard.name.clone(), key(&b.display_name)), b);
                }
            }
            places
                .courtyards
                .insert(key(&courtyard.display_name), courtyard);
        }
        if organizations {
            let list = all(|page_token| {
                let mut c = clients.organizations.clone();
                async move {
                    let r = c
                        .list_organizations(ListOrganizationsRequest {
                            page_size: 1000,
                            page_token,
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    Ok((r.organizations, r.next_page_token))
                }
            })
            .await?;
            for o in list {
                places
                    .organizations
                    .entry(key(&o.display_name))
                    .or_default()
                    .push(o);
            }
        }
        Ok(places)
    }

    /// The courtyard named `text` in the community.
    pub fn courtyard(&self, text: &str) -> Result<&Courtyard, String> {
        self.courtyards.get(&key(text)).ok_or_else(|| {
            format!(
                "no courtyard “{text}” in {}: import courtyards first",
                self.community.display_name
            )
        })
    }

    /// The building named `text` in `courtyard`.
    pub fn building(&self, courtyard: &Courtyard, text: &str) -> Result<&Building, String> {
        self.buildings
            .get(&(courtyard.name.clone(), key(text)))
            .ok_or_else(|| {
                format!(
                    "no building “{text}” in {}: import buildings first",
                    courtyard.display_name
                )
            })
    }

    /// The organisation named `text` (its display or resource name).
    pub fn organization(&self, text: &str) -> Result<&Organization, String> {
        if text.starts_with("organizations/") {
            return self
                .organizations
                .values()
                .flatten()
                .find(|o| o.name == text)
                .ok_or_else(|| format!("no organisation {text} in your reach"));
        }
        match self.organizations.get(&key(text)).map(Vec::as_slice) {
            Some([one]) => Ok(one),
            Some([_, ..]) => Err(format!(
                "several organisations are named “{text}”: write its resource name (organizations/…)"
            )),
            _ => Err(format!("no organisation named “{text}” in your reach")),
        }
    }
}
