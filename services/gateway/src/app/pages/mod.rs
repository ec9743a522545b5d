//! One module per app page, each with its handlers and the view it renders
//! from `templates/app/`.

pub mod activities;
pub mod assets;
pub mod council;
pub mod home;
pub mod inbox;
pub mod me;
pub mod report;
pub mod reports;
pub mod sign_in;

use std::collections::HashMap;

use cogov_proto::issues::{Issue, IssueState, ListCategoriesRequest, ListSubItemsRequest};
use cogov_proto::organizations::{GetPersonRequest, Person};
use http::StatusCode;
use uuid::Uuid;

use super::view::{Failure, id_of, time};
use super::words;
use crate::calls::Calls;
use crate::console::i18n::{Catalog, Lang};

/// The categories and sub-items issues are reported under, in the
/// request's language.
pub struct Taxonomy {
    /// `(categories/…, label)`, in their order.
    pub categories: Vec<(String, String)>,
    /// `(subItems/…, categories/…, label)`, active ones, in their order.
    pub sub_items: Vec<(String, String, String)>,
    labels: HashMap<String, String>,
}

impl Taxonomy {
    /// Reads it as the caller.
    pub async fn load(calls: &Calls) -> Result<Taxonomy, Failure> {
        let english = words::current().lang() == Lang::En;
        let label = |zh: String, en: String| if english && !en.is_empty() { en } else { zh };
        let (categories, sub_items) = tokio::try_join!(
            async {
                calls
                    .issues()
                    .list_categories(ListCategoriesRequest {
                        page_size: 1000,
                        ..Default::default()
                    })
                    .await
                    .map(|r| r.into_inner().categories)
            },
            async {
                calls
                    .issues()
                    .list_sub_items(ListSubItemsRequest {
                        page_size: 1000,
                        ..Default::default()
                    })
                    .await
                    .map(|r| r.into_inner().sub_items)
            },
        )?;
        let mut categories: Vec<_> = categories.into_iter().collect();
        categories.sort_by_key(|c| c.sort_order);
        let mut sub_items: Vec<_> = sub_items.into_iter().collect();
        sub_items.sort_by_key(|s| s.sort_order);
        let categories: Vec<(String, String)> = categories
            .into_iter()
            .map(|c| (c.name, label(c.display_name, c.english_name)))
            .collect();
        let sub_items: Vec<(String, String, String)> = sub_items
            .into_iter()
            .filter(|s| s.active)
            .map(|s| (s.name, s.category, label(s.display_name, s.english_name)))
            .collect();
        let labels = categories
            .iter()
            .map(|(n, l)| (n.clone(), l.clone()))
            .chain(sub_items.iter().map(|(n, _, l)| (n.clone(), l.clone())))
            .collect();
        Ok(Taxonomy {
            categories,
            sub_items,
            labels,
        })
    }

    /// The label of a category or sub-item, or its name.
    pub fn label(&self, name: &str) -> String {
        self.labels
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }
}

/// The icon of a category, beside its words.
pub fn category_icon(category: &str) -> &'static str {
    super::icons::icon(id_of(category))
}

/// The resident's own person record.
pub async fn me(calls: &Calls, person: Uuid) -> Result<Person, Failure> {
    Ok(calls
        .organizations()
        .get_person(GetPersonRequest {
            name: cogov_kit::names::format("persons", person),
        })
        .await?
        .into_inner())
}

/// An issue as a resident's list shows it.
pub struct IssueCard {
    /// Its id.
    pub id: String,
    /// Its title, or its sub-item.
    pub title: String,
    /// Its sub-item.
    pub sub_item: String,
    /// Its state, in words.
    pub state: String,
    /// Its state's name, for its badge's colour.
    pub state_class: &'static str,
    /// When it was reported.
    pub reported: String,
    /// Whether the resident follows it.
    pub followed: bool,
}

impl IssueCard {
    /// The card for `issue`.
    pub fn new(issue: &Issue, taxonomy: &Taxonomy, t: &Catalog) -> IssueCard {
        let sub_item = taxonomy.label(&issue.sub_item);
        IssueCard {
            id: id_of(&issue.name).to_owned(),
            followed: issue.followed,
            title: if issue.title.is_empty() {
                sub_item.clone()
            } else {
                issue.title.clone()
            },
            sub_item,
            state: state_label(t, issue.state),
            state_class: state_class(issue.state),
            reported: time(issue.create_time.as_ref()),
        }
    }
}

/// An issue state in words.
pub fn state_label(t: &Catalog, state: i32) -> String {
    t.label(
        IssueState::try_from(state)
            .unwrap_or_default()
            .as_str_name(),
    )
}

/// Where an issue stands, coarsely, for its badge: new, moving, done,
/// closed.
pub fn state_class(state: i32) -> &'static str {
    use IssueState::*;
    match IssueState::try_from(state).unwrap_or_default() {
        Reported | Reopened => "new",
        Acknowledged | Dispatched | Returned | InProgress => "moving",
        Resolved => "done",
        _ => "closed",
    }
}

/// A resource id from the path: a UUID, else 404 (ids go into filters).
pub fn path_id(id: &str) -> Result<Uuid, Failure> {
    Uuid::parse_str(id).map_err(|_| Failure::new(StatusCode::NOT_FOUND, "error.not_found"))
}
