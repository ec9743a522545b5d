//! Activities: the street's coming ones, one with the resident's place in
//! it (confirmed, or where on the waitlist), signing up and cancelling, and
//! the resident's own hours and points. Signing up is as the resident's
//! volunteer record, which they make themselves once verified.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::volunteers::*;
use serde::Deserialize;

use super::path_id;
use super::reports::Paging;
use crate::app::view::{Failure, Frame, id_of, render, time, url_encode};
use crate::app::{Resident, Shared};
use crate::console::i18n::Catalog;

/// The resident's volunteer record, if they have made one.
async fn my_volunteer(resident: &Resident) -> Result<Option<Volunteer>, Failure> {
    Ok(resident
        .calls
        .volunteers()
        .list_volunteers(ListVolunteersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await?
        .into_inner()
        .volunteers
        .into_iter()
        .next())
}

/// An activity in the list.
pub struct ActivityCard {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When.
    pub when: String,
    /// Places: confirmed of capacity.
    pub places: String,
    /// No confirmed place left.
    pub full: bool,
}

fn places(t: &Catalog, a: &Activity) -> String {
    t.fmt("activities.places", &[&a.confirmed_count, &a.capacity])
}

fn card(t: &Catalog, a: &Activity) -> ActivityCard {
    ActivityCard {
        id: id_of(&a.name).to_owned(),
        title: a.title.clone(),
        when: format!(
            "{} – {}",
            time(a.start_time.as_ref()),
            time(a.end_time.as_ref())
        ),
        places: places(t, a),
        full: a.confirmed_count >= a.capacity,
    }
}

#[derive(Template)]
#[template(path = "app/activities.html")]
struct ActivitiesPage {
    f: Frame,
    activities: Vec<ActivityCard>,
    volunteer: Option<(String, String)>,
    next_page: String,
}

/// GET /app/activities: the coming activities, soonest first, and my hours.
pub async fn list(
    State(_app): State<Shared>,
    resident: Resident,
    Query(paging): Query<Paging>,
) -> Result<Response, Failure> {
    let f = Frame::new(&resident, "activities");
    let t = f.t;
    let (volunteer, page) = tokio::try_join!(my_volunteer(&resident), async {
        resident
            .calls
            .volunteers()
            .list_activities(ListActivitiesRequest {
                page_size: 20,
                page_token: paging.page.clone(),
                filter: format!("state = {}", ActivityState::Published.as_str_name()),
                order_by: "start_time".into(),
            })
            .await
            .map(|r| r.into_inner())
            .map_err(Failure::from)
    })?;
    let next_page = if page.next_page_token.is_empty() {
        String::new()
    } else {
        format!("/app/activities?page={}", url_encode(&page.next_page_token))
    };
    let view = ActivitiesPage {
        activities: page.activities.iter().map(|a| card(t, a)).collect(),
        volunteer: volunteer.map(|v| {
            (
                format!("{:.1}", v.approved_minutes as f64 / 60.0),
                v.points_balance.to_string(),
            )
        }),
        next_page,
        f,
    };
    Ok(render(&view))
}

#[derive(Template)]
#[template(path = "app/activity.html")]
struct ActivityPage {
    f: Frame,
    id: String,
    title: String,
    description: String,
    when: String,
    places: String,
    waitlist: String,
    open: bool,
    is_volunteer: bool,
    /// My sign-up: (its id, its etag, state in words, waitlist position).
    signup: Option<(String, String, String, i32)>,
    request_id: String,
}

/// GET /app/activities/{id}.
pub async fn page(
    State(_app): State<Shared>,
    resident: Resident,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id = path_id(&id)?;
    let f = Frame::new(&resident, "activities");
    let t = f.t;
    let name = cogov_kit::names::format("activities", id);
    let (activity, volunteer) = tokio::try_join!(
        async {
            resident
                .calls
                .volunteers()
                .get_activity(GetActivityRequest { name: name.clone() })
                .await
                .map(|r| r.into_inner())
                .map_err(Failure::from)
        },
        my_volunteer(&resident),
    )?;
    let signup = match &volunteer {
        Some(v) => resident
            .calls
            .volunteers()
            .list_signups(ListSignupsRequest {
                parent: name.clone(),
                page_size: 10,
                filter: format!(
                    "volunteer = \"{}\" AND state != {}",
                    v.name,
                    SignupState::Cancelled.as_str_name()
                ),
                ..Default::default()
            })
            .await?
            .into_inner()
            .signups
            .into_iter()
            .next(),
        None => None,
    };
    let view = ActivityPage {
        id: id.to_string(),
        title: activity.title.clone(),
        description: activity.description.clone(),
        when: card(t, &activity).when,
        places: places(t, &activity),
        waitlist: t.fmt(
            "activities.waitlist",
            &[&activity.waitlist_count, &activity.waitlist_capacity],
        ),
        open: activity.state == ActivityState::Published as i32,
        is_volunteer: volunteer.is_some(),
        signup: signup.map(|s| {
            (
                id_of(&s.name).to_owned(),
                s.etag.clone(),
                t.label(
                    SignupState::try_from(s.state)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
                s.waitlist_position,
            )
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
        f,
    };
    Ok(render(&view))
}

/// A step on an activity.
#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    signup: String,
    #[serde(default)]
    etag: String,
}

/// POST /app/activities/{id}/{signup|cancel}.
pub async fn act(
    State(_app): State<Shared>,
    resident: Resident,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActForm>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    let back = format!("/app/activities/{id}");
    let activity = cogov_kit::names::format("activities", id);
    let mut volunteers = resident.calls.volunteers();
    let done = match action.as_str() {
        "signup" => {
            let volunteer = my_volunteer(&resident)
                .await?
                .ok_or_else(|| Failure::new(http::StatusCode::CONFLICT, "error.conflict"))?;
            volunteers
                .create_signup(CreateSignupRequest {
                    parent: activity,
                    signup: Some(Signup {
                        volunteer: volunteer.name,
                        ..Default::default()
                    }),
                    request_id: form.request_id,
                })
                .await
                .map(|_| ())
        }
        "cancel" => {
            let signup = path_id(&form.signup)?;
            volunteers
                .cancel_signup(CancelSignupRequest {
                    name: format!("{activity}/signups/{signup}"),
                    etag: form.etag,
                })
                .await
                .map(|_| ())
        }
        _ => {
            return Err(Failure::new(http::StatusCode::NOT_FOUND, "error.not_found"));
        }
    };
    done.map_err(|s| Failure::from(s).back_to(back.clone()))?;
    Ok(Redirect::to(&back).into_response())
}

/// POST /app/volunteer: the resident becomes a volunteer (verified
/// residents only; the service says so otherwise).
pub async fn become_volunteer(
    State(_app): State<Shared>,
    resident: Resident,
    Form(form): Form<super::sign_in::TokenOnly>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    // One volunteer per person: a second tap finds the first (ALREADY_EXISTS).
    let made = resident
        .calls
        .volunteers()
        .create_volunteer(CreateVolunteerRequest {
            volunteer: Some(Volunteer {
                person: resident.person_name(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await;
    match made {
        Ok(_) => {}
        Err(s) if s.code() == tonic::Code::AlreadyExists => {}
        Err(s) => return Err(Failure::from(s).back_to("/app/activities")),
    }
    Ok(Redirect::to("/app/activities").into_response())
}
