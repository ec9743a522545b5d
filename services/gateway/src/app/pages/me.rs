//! Me: who the registry says I am (and whether staff have verified me),
//! where I am signed in (ending any other session), a copy of all my data,
//! and asking for my data to be erased.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::gateway::*;
use cogov_proto::organizations::PersonVerification;
use http::{HeaderValue, header};
use serde::Deserialize;

use super::sign_in::TokenOnly;
use super::{me, path_id};
use crate::app::view::{Failure, Frame, render, time};
use crate::app::{Resident, Shared};
use crate::residents::sessions;

/// One of my sessions.
pub struct SessionLine {
    /// Its id.
    pub id: String,
    /// The device it signed in with.
    pub device: String,
    /// When it began.
    pub since: String,
    /// When it was last used or renewed.
    pub last: String,
    /// The one this page is shown in.
    pub current: bool,
}

/// One of my erasure requests.
pub struct ErasureLine {
    /// When I asked.
    pub asked: String,
    /// Where it stands, in words.
    pub state: String,
    /// Staff's reason, if they declined.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "app/me.html")]
struct MePage {
    f: Frame,
    display_name: String,
    phone: String,
    pending: bool,
    sessions: Vec<SessionLine>,
    erasures: Vec<ErasureLine>,
    erasure_pending: bool,
}

/// GET /app/me.
pub async fn page(State(_app): State<Shared>, resident: Resident) -> Result<Response, Failure> {
    let f = Frame::new(&resident, "me");
    let calls = &resident.calls;
    let (person, sessions, erasures) = tokio::try_join!(
        me(calls, resident.person),
        async {
            calls
                .residents()
                .list_resident_sessions(ListResidentSessionsRequest {
                    parent: resident.person_name(),
                    page_size: 50,
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().sessions)
                .map_err(Failure::from)
        },
        async {
            calls
                .residents()
                .list_erasure_requests(ListErasureRequestsRequest {
                    page_size: 10,
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().erasure_requests)
                .map_err(Failure::from)
        },
    )?;
    let t = f.t;
    let view = MePage {
        display_name: person.display_name.clone(),
        phone: person.phone.clone(),
        pending: person.verification == PersonVerification::Unverified as i32,
        sessions: sessions
            .iter()
            .map(|s| SessionLine {
                id: sessions::parse_name(&s.name)
                    .map(|(_, id)| id.to_string())
                    .unwrap_or_default(),
                device: s.device.clone(),
                since: time(s.create_time.as_ref()),
                last: time(s.refresh_time.as_ref()),
                current: s.current,
            })
            .collect(),
        erasure_pending: erasures
            .iter()
            .any(|e| e.state == ErasureState::Pending as i32),
        erasures: erasures
            .iter()
            .map(|e| ErasureLine {
                asked: time(e.create_time.as_ref()),
                state: t.label(
                    ErasureState::try_from(e.state)
                        .unwrap_or_default()
                        .as_str_name(),
                ),
                reason: e.decline_reason.clone(),
            })
            .collect(),
        f,
    };
    Ok(render(&view))
}

/// POST /app/me/sessions/{id}/end: ends another of my sessions.
pub async fn end_session(
    State(_app): State<Shared>,
    resident: Resident,
    Path(id): Path<String>,
    Form(form): Form<TokenOnly>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    resident
        .calls
        .residents()
        .end_resident_session(EndResidentSessionRequest {
            name: sessions::name(resident.person, id),
        })
        .await
        .map_err(|s| Failure::from(s).back_to("/app/me"))?;
    Ok(Redirect::to("/app/me").into_response())
}

/// POST /app/me/export: all my data, as one JSON file to keep.
pub async fn export(
    State(_app): State<Shared>,
    resident: Resident,
    Form(form): Form<TokenOnly>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    let export = resident
        .calls
        .residents()
        .export_my_data(ExportMyDataRequest {
            parent: resident.person_name(),
        })
        .await
        .map_err(|s| Failure::from(s).back_to("/app/me"))?
        .into_inner();
    let mut response = export.json.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"cogov-my-data.json\""),
    );
    Ok(response)
}

/// The erasure form.
#[derive(Deserialize)]
pub struct ErasureForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// POST /app/me/erasure: asks community staff to erase my data.
pub async fn request_erasure(
    State(_app): State<Shared>,
    resident: Resident,
    Form(form): Form<ErasureForm>,
) -> Result<Response, Failure> {
    resident.check_form(&form.csrf)?;
    resident
        .calls
        .residents()
        .request_erasure(RequestErasureRequest {
            parent: resident.person_name(),
            reason: form.reason.trim().to_owned(),
        })
        .await
        .map_err(|s| Failure::from(s).back_to("/app/me"))?;
    Ok(Redirect::to("/app/me").into_response())
}
