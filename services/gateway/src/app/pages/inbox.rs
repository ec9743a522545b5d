//! The inbox: what the services told the resident (a report moved on, a
//! poll opened for them, a place confirmed …), newest first, in the page's
//! language; marking them read.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::gateway::{ListNoticesRequest, MarkNoticesReadRequest};

use super::reports::Paging;
use super::sign_in::TokenOnly;
use crate::app::view::{Failure, Frame, render, time, url_encode};
use crate::app::{Resident, Shared};

/// One notice.
pub struct NoticeLine {
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// When.
    pub time: String,
    /// Not read yet.
    pub unread: bool,
    /// The app page of what it is about, if the app has one.
    pub link: String,
}

#[derive(Template)]
#[template(path = "app/inbox.html")]
struct InboxPage {
    f: Frame,
    notices: Vec<NoticeLine>,
    unread: i32,
    next_page: String,
}

/// The app's page for a notice's subject.
fn link(subject: &str) -> String {
    match subject.split_once('/') {
        Some(("issues", id)) if !id.contains('/') => format!("/app/issues/{id}"),
        _ => String::new(),
    }
}

/// GET /app/inbox.
pub async fn page(
    State(_app): State<Shared>,
    resident: Resident,
    Query(paging): Query<Paging>,
) -> Result<Response, Failure> {
    let f = Frame::new(&resident, "inbox");
    let page = resident
        .calls
        .residents()
        .list_notices(ListNoticesRequest {
            parent: resident.person_name(),
            page_size: 30,
            page_token: paging.page,
            unread_only: false,
            language: f.t.lang().tag().to_owned(),
        })
        .await?
        .into_inner();
    let next_page = if page.next_page_token.is_empty() {
        String::new()
    } else {
        format!("/app/inbox?page={}", url_encode(&page.next_page_token))
    };
    let view = InboxPage {
        notices: page
            .notices
            .iter()
            .map(|n| NoticeLine {
                title: n.title.clone(),
                body: n.body.clone(),
                time: time(n.create_time.as_ref()),
                unread: n.read_time.is_none(),
                link: link(&n.subject),
            })
            .collect(),
        unread: page.unread_count,
        next_page,
        f,
    };
    Ok(render(&view))
}

/// POST /app/inbox: marks every notice read.
pub async fn mark_read(
    State(_app): State<Shared>,
    resident: Resident,
    Form(form): Form<TokenOnly>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    resident
        .calls
        .residents()
        .mark_notices_read(MarkNoticesReadRequest {
            parent: resident.person_name(),
            names: Vec::new(),
            all: true,
        })
        .await?;
    Ok(Redirect::to("/app/inbox").into_response())
}
