//! One module per console page, each with its handlers and the view it
//! renders from `templates/console/`.

pub mod assets;
pub mod audit;
pub mod courtyard;
pub mod dashboard;
pub mod issues;
pub mod partners;
pub mod residents;
pub mod sign_in;
pub mod spreadsheets;

use std::collections::HashMap;

use cogov_proto::issues::ListSubItemsRequest;
use cogov_proto::organizations::{
    ListCommunitiesRequest, ListCourtyardsRequest, ListOrganizationsRequest,
};
use http::StatusCode;
use uuid::Uuid;

use super::view::Failure;
use crate::calls::Calls;
pub use crate::paging::every_page as all;

/// Display names of the places, organisations and sub-items the caller can
/// see, by resource name.
#[derive(Default)]
pub struct Names(HashMap<String, String>);

/// Every `(name, display_name)` of one organizations-service listing.
macro_rules! display_names {
    ($calls:expr, $method:ident, $request:ident, $items:ident) => {
        all(5000, |page_token| {
            let mut c = $calls.organizations();
            async move {
                let r = c
                    .$method($request {
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((
                    r.$items
                        .into_iter()
                        .map(|x| (x.name, x.display_name))
                        .collect(),
                    r.next_page_token,
                ))
            }
        })
    };
}

impl Names {
    /// Loads communities, courtyards, organisations and sub-items.
    pub async fn load(calls: &Calls) -> Result<Names, tonic::Status> {
        let (communities, courtyards, organizations, sub_items) = tokio::try_join!(
            display_names!(calls, list_communities, ListCommunitiesRequest, communities),
            display_names!(calls, list_courtyards, ListCourtyardsRequest, courtyards),
            display_names!(
                calls,
                list_organizations,
                ListOrganizationsRequest,
                organizations
            ),
            all(1000, |page_token| {
                let mut c = calls.issues();
                async move {
                    let r = c
                        .list_sub_items(ListSubItemsRequest {
                            page_size: 1000,
                            page_token,
                            filter: String::new(),
                        })
                        .await?
                        .into_inner();
                    let english = super::i18n::current().lang() == super::i18n::Lang::En;
                    Ok((
                        r.sub_items
                            .into_iter()
                            .map(|x| {
                                let label = if english && !x.english_name.is_empty() {
                                    x.english_name
                                } else {
                                    x.display_name
                                };
                                (x.name, label)
                            })
                            .collect(),
                        r.next_page_token,
                    ))
                }
            }),
        )?;
        let map: HashMap<String, String> = communities
            .into_iter()
            .chain(courtyards)
            .chain(organizations)
            .chain(sub_items)
            .collect();
        Ok(Names(map))
    }

    /// The display name of `name`, or `name` itself.
    pub fn of(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_else(|| name.to_owned())
    }

    /// The `(name, display name)` pairs of one collection, sorted by name.
    pub fn collection(&self, collection: &str) -> Vec<(String, String)> {
        let prefix = format!("{collection}/");
        let mut out: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }
}

/// A resource id from the path: a UUID, else 404 (ids go into filters).
pub fn path_id(id: &str) -> Result<Uuid, Failure> {
    Uuid::parse_str(id).map_err(|_| Failure::new(StatusCode::NOT_FOUND, "error.not_found"))
}
