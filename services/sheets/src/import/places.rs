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

/// The first word of a display name (the Chinese name of a bilingual
/// "牛街东里社区 Niujie Dongli"), as [`key`].
pub fn first_word_key(display_name: &str) -> String {
    key(display_name.split_whitespace().next().unwrap_or(""))
}

/// Whether `display_name` is what a roster's `text` names: the same
/// [`key`], or the same first word.
pub fn names(display_name: &str, text: &str) -> bool {
    let wanted = key(text);
    key(display_name) == wanted || first_word_key(display_name) == wanted
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

/// Every page of one listing with `filter`: the `items` of
/// `method(request)`, a thousand a page, from OrganizationsService unless
/// another service's client is named (`clients.volunteers`).
macro_rules! every {
    ($clients:ident, $method:ident, $request:ident, $items:ident, $filter:expr) => {
        $crate::import::places::every!($clients.organizations, $method, $request, $items, $filter)
    };
    ($clients:ident . $service:ident, $method:ident, $request:ident, $items:ident, $filter:expr) => {
        $crate::import::places::all(|page_token| {
            let mut c = $clients.$service.clone();
            let filter: String = $filter.to_owned();
            async move {
                // Some requests have no field beyond these three.
                #[allow(clippy::needless_update)]
                let r = c
                    .$method($request {
                        page_size: 1000,
                        page_token,
                        filter,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((r.$items, r.next_page_token))
            }
        })
    };
}
pub(crate) use every;

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
    let communities = every!(
        clients,
        list_communities,
        ListCommunitiesRequest,
        communities,
        String::new()
    )
    .await?;
    let wanted = key(which);
    let mut found: Vec<Community> = communities
        .iter()
        .filter(|c| wanted.is_empty() || names(&c.display_name, which))
        .cloned()
        .collect();
    if found.is_empty() && !wanted.is_empty() {
        // "牛街东里" for "牛街东里社区 Niujie Dongli": a name that only one
        // community's contains.
        found = communities
            .into_iter()
            .filter(|c| key(&c.display_name).contains(&wanted))
            .collect();
    }
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
        let courtyards = every!(
            clients,
            list_courtyards,
            ListCourtyardsRequest,
            courtyards,
            filter
        )
        .await?;
        let mut places = Places {
            community,
            ..Default::default()
        };
        for courtyard in courtyards {
            if buildings {
                let filter = format!("courtyard = \"{}\"", courtyard.name);
                let list = every!(
                    clients,
                    list_buildings,
                    ListBuildingsRequest,
                    buildings,
                    filter
                )
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
            let list = every!(
                clients,
                list_organizations,
                ListOrganizationsRequest,
                organizations,
                String::new()
            )
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

    /// The courtyard named `text` in the community, if one is; an error
    /// when several are.
    pub fn find_courtyard(&self, text: &str) -> Result<Option<&Courtyard>, String> {
        unique(
            self.courtyards.get(&key(text)),
            self.courtyards.values(),
            text,
            |c| &c.display_name,
        )
        .map_err(|()| {
            format!(
                "several courtyards in {} are named “{text}”: write the full name",
                self.community.display_name
            )
        })
    }

    /// The courtyard named `text` in the community.
    pub fn courtyard(&self, text: &str) -> Result<&Courtyard, String> {
        self.find_courtyard(text)?.ok_or_else(|| {
            format!(
                "no courtyard “{text}” in {}: import courtyards first",
                self.community.display_name
            )
        })
    }

    /// The building named `text` in `courtyard`, if one is; an error when
    /// several are.
    pub fn find_building(
        &self,
        courtyard: &Courtyard,
        text: &str,
    ) -> Result<Option<&Building>, String> {
        let inside = self
            .buildings
            .iter()
            .filter(|((c, _), _)| *c == courtyard.name)
            .map(|(_, b)| b);
        unique(
            self.buildings.get(&(courtyard.name.clone(), key(text))),
            inside,
            text,
            |b| &b.display_name,
        )
        .map_err(|()| {
            format!(
                "several buildings in {} are named “{text}”: write the full name",
                courtyard.display_name
            )
        })
    }

    /// The building named `text` in `courtyard`.
    pub fn building(&self, courtyard: &Courtyard, text: &str) -> Result<&Building, String> {
        self.find_building(courtyard, text)?.ok_or_else(|| {
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
        let several = || {
            format!(
                "several organisations are named “{text}”: write its resource name (organizations/…)"
            )
        };
        let exact = match self.organizations.get(&key(text)).map(Vec::as_slice) {
            Some([one]) => Some(one),
            Some([_, ..]) => return Err(several()),
            _ => None,
        };
        unique(exact, self.organizations.values().flatten(), text, |o| {
            &o.display_name
        })
        .map_err(|()| several())?
        .ok_or_else(|| format!("no organisation named “{text}” in your reach"))
    }
}

/// `exact`, or else the one of `all` whose first word is `text`, or none;
/// the error is several.
fn unique<'a, T>(
    exact: Option<&'a T>,
    all: impl Iterator<Item = &'a T>,
    text: &str,
    display_name: impl Fn(&T) -> &String,
) -> Result<Option<&'a T>, ()> {
    if exact.is_some() {
        return Ok(exact);
    }
    let wanted = key(text);
    let mut matching = all.filter(|t| first_word_key(display_name(t)) == wanted);
    match (matching.next(), matching.next()) {
        (one, None) => Ok(one),
        (Some(_), Some(_)) => Err(()),
        (None, Some(_)) => Ok(None),
    }
}
