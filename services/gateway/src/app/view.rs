//! What every app page shares: the frame (the tab bar, the language
//! switch, the form token) and the error page.

use askama::Template;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::Resident;
use super::words;
use crate::console::i18n::{Catalog, Lang};
pub use crate::console::view::{id_of, render, time, url_encode};

/// The frame of a signed-in page.
pub struct Frame {
    /// The words.
    pub t: &'static Catalog,
    /// The session's form token, for every form on the page.
    pub csrf: String,
    /// Which tab is current.
    pub nav: &'static str,
    /// The language switch: (tag, name, link).
    pub languages: Vec<(&'static str, String, String)>,
}

impl Frame {
    /// The frame for `resident` on the page under tab `nav`.
    pub fn new(resident: &Resident, nav: &'static str) -> Frame {
        let t = words::current();
        Frame {
            t,
            csrf: resident.csrf.clone(),
            nav,
            languages: languages(t, &resident.here),
        }
    }
}

impl Frame {
    /// The icon `name`'s markup.
    pub fn icon(&self, name: &str) -> &'static str {
        super::icons::icon(name)
    }
}

/// The other languages, each with the link that switches to it and comes
/// back to `here`.
pub fn languages(t: &Catalog, here: &str) -> Vec<(&'static str, String, String)> {
    Lang::ALL
        .into_iter()
        .filter(|l| *l != t.lang())
        .map(|l| {
            (
                l.tag(),
                t.get(&format!("language.{}", l.tag())).to_owned(),
                format!("/app/language/{}?back={}", l.tag(), url_encode(here)),
            )
        })
        .collect()
}

/// A page that could not be shown, or an action that failed: the console's
/// mapping of a status to words, on the app's own page.
#[derive(Debug)]
pub struct Failure(crate::console::view::Failure);

impl Failure {
    /// A failure with no detail.
    pub fn new(status: StatusCode, key: &'static str) -> Failure {
        Failure(crate::console::view::Failure::new(status, key))
    }

    /// What the service said, if anything.
    pub fn detail(&self) -> &str {
        self.0.detail()
    }

    /// Offers a way back to `path`.
    pub fn back_to(self, path: impl Into<String>) -> Failure {
        Failure(self.0.back_to(path))
    }
}

impl From<tonic::Status> for Failure {
    fn from(s: tonic::Status) -> Failure {
        Failure(s.into())
    }
}

impl From<cogov_kit::Error> for Failure {
    fn from(e: cogov_kit::Error) -> Failure {
        Failure(e.into())
    }
}

#[derive(Template)]
#[template(path = "app/error.html")]
struct ErrorPage<'a> {
    t: &'static Catalog,
    message: &'a str,
    detail: &'a str,
    back: &'a str,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let t = words::current();
        let page = ErrorPage {
            t,
            message: t.get(self.0.key()),
            detail: self.0.detail(),
            back: self.0.back().unwrap_or("/app/home"),
        };
        let mut response = render(&page);
        *response.status_mut() = self.0.status();
        response
    }
}

/// A 1–5 star rating as words a screen reader says and stars a person
/// sees.
pub fn stars(n: i32) -> String {
    let n = n.clamp(0, 5) as usize;
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}
