//! What every console page shares: the frame around it (who is signed in,
//! the navigation, the language switch, the form token), the error page,
//! formatting of times and rates, and server-rendered SVG bar charts.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use tonic::Code;

use super::Staff;
use super::i18n::{self, Catalog, Lang};

/// The frame of a signed-in page.
pub struct Frame {
    /// The words.
    pub t: &'static Catalog,
    /// The staff member's display name.
    pub user: String,
    /// Their role, in words.
    pub role: String,
    /// The session's form token, for every form on the page.
    pub csrf: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    /// Whether the street-only entries (partners, audit) show.
    pub street: bool,
    /// The language switch: (tag, name, link).
    pub languages: Vec<(&'static str, String, String)>,
}

impl Frame {
    /// The frame for `staff` on the page under `nav`.
    pub fn new(staff: &Staff, nav: &'static str) -> Frame {
        let t = i18n::current();
        Frame {
            t,
            user: staff.account.display_name.clone(),
            role: t
                .get(if staff.street() {
                    "role.street_admin"
                } else {
                    "role.community_admin"
                })
                .to_owned(),
            csrf: staff.session.csrf_token.clone(),
            nav,
            street: staff.street(),
            languages: languages(t, &staff.here),
        }
    }
}

/// The other languages, each with the link that switches to it and comes
/// back to `here`.
pub fn languages(t: &Catalog, here: &str) -> Vec<(&'static str, String, String)> {
    Lang::ALL
        .into_iter()
        .filter(|l| *l != t.lang())
        .map(|l| {
            let back = url_encode(here);
            (
                l.tag(),
                t.get(&format!("language.{}", l.tag())).to_owned(),
                format!("/console/language/{}?back={back}", l.tag()),
            )
        })
        .collect()
}

/// Where a language switch may send the browser back to: `back` when it is
/// a path under `prefix` (never another site: no `//`, no backslash), else
/// `fallback`.
pub fn way_back(back: String, prefix: &str, fallback: &str) -> String {
    if back.starts_with(prefix) && !back.contains("//") && !back.contains('\\') {
        back
    } else {
        fallback.to_owned()
    }
}

/// `s` percent-encoded for a query value (`/` kept, as paths read better).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Renders a template as the answer.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => Failure::internal(format!("rendering a page: {e}")).into_response(),
    }
}

/// A page that could not be shown, or an action that failed: the status,
/// a message key, and the detail the service gave.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    key: &'static str,
    detail: String,
    back: Option<String>,
}

impl Failure {
    /// A failure with no detail.
    pub fn new(status: StatusCode, key: &'static str) -> Failure {
        Failure {
            status,
            key,
            detail: String::new(),
            back: None,
        }
    }

    /// An unexpected fault.
    pub fn internal(detail: String) -> Failure {
        tracing::error!(%detail, "console fault");
        Failure {
            detail: String::new(),
            ..Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
        }
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message's catalog key.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// What the service said, if anything.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Where the page offers to go back to, if set.
    pub fn back(&self) -> Option<&str> {
        self.back.as_deref()
    }

    /// Offers a way back to `path`.
    pub fn back_to(mut self, path: impl Into<String>) -> Failure {
        self.back = Some(path.into());
        self
    }
}

impl From<tonic::Status> for Failure {
    fn from(s: tonic::Status) -> Failure {
        let (status, key) = match s.code() {
            Code::PermissionDenied => (StatusCode::FORBIDDEN, "error.forbidden"),
            Code::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
            Code::InvalidArgument | Code::OutOfRange => (StatusCode::BAD_REQUEST, "error.invalid"),
            Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => {
                (StatusCode::CONFLICT, "error.conflict")
            }
            Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "error.forbidden"),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "error.busy"),
            _ => (StatusCode::BAD_GATEWAY, "error.unavailable"),
        };
        let mut detail = s.message().to_owned();
        let details = tonic_types::StatusExt::get_error_details(&s);
        if let Some(bad) = details.bad_request() {
            for v in &bad.field_violations {
                detail.push_str(&format!("; {}: {}", v.field, v.description));
            }
        }
        Failure {
            status,
            key,
            detail,
            back: None,
        }
    }
}

impl From<cogov_kit::Error> for Failure {
    fn from(e: cogov_kit::Error) -> Failure {
        match e {
            cogov_kit::Error::Internal(detail) => Failure::internal(detail),
            other => tonic::Status::from(other).into(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    t: &'static Catalog,
    message: &'a str,
    detail: &'a str,
    back: &'a str,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let t = i18n::current();
        let page = ErrorPage {
            t,
            message: t.get(self.key),
            detail: &self.detail,
            back: self.back.as_deref().unwrap_or("/console/dashboard"),
        };
        let mut response = render(&page);
        *response.status_mut() = self.status;
        response
    }
}

/// Beijing time, in which the street works.
/// A time as `2026-11-27 14:05` in Beijing time; empty when unset.
pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    cogov_kit::convert::beijing_time(ts, "%Y-%m-%d %H:%M")
}

/// A rate 0..1 as a percentage with one decimal.
pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The id at the end of a resource name.
pub fn id_of(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or_default()
}

/// One bar: its label, its length as a share of the longest (0..1), and
/// the figure printed beside it.
pub struct Bar {
    /// What the bar is for.
    pub label: String,
    /// Its length, 0 to 1.
    pub share: f64,
    /// The figure shown.
    pub figure: String,
}

/// A horizontal bar chart as inline SVG, with the figures as text so that
/// it reads without colour and copies as numbers.
pub struct BarChart {
    /// The chart's accessible title.
    pub title: String,
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
}

/// A bar placed on the chart.
struct Placed<'a> {
    bar: &'a Bar,
    y: u32,
    length: u32,
}

#[derive(Template)]
#[template(path = "console/bar_chart.svg", escape = "html")]
struct ChartSvg<'a> {
    title: &'a str,
    width: u32,
    height: u32,
    left: u32,
    bars: Vec<Placed<'a>>,
}

impl BarChart {
    /// Row height in SVG units.
    const ROW: u32 = 22;
    /// Where bars start (labels sit left of it).
    const LEFT: u32 = 180;
    /// The longest bar.
    const WIDTH: f64 = 220.0;
    /// The whole chart's width: labels, the longest bar, its figure.
    const VIEW_WIDTH: u32 = 460;

    /// The chart's markup.
    pub fn svg(&self) -> String {
        let svg = ChartSvg {
            title: &self.title,
            width: Self::VIEW_WIDTH,
            height: Self::ROW * self.bars.len().max(1) as u32 + 4,
            left: Self::LEFT,
            bars: self
                .bars
                .iter()
                .enumerate()
                .map(|(i, bar)| Placed {
                    bar,
                    y: i as u32 * Self::ROW,
                    length: (bar.share.clamp(0.0, 1.0) * Self::WIDTH).round() as u32,
                })
                .collect(),
        };
        svg.render().unwrap_or_default()
    }
}
