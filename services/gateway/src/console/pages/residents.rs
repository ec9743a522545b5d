//! Residents waiting on staff: registrations to verify (a resident who
//! registered by phone may only report until then) and requests to erase a
//! person's data, to carry out or decline. Community staff see their
//! community's; street staff the whole street's.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::gateway::{
    CarryOutErasureRequest, DeclineErasureRequest, ListErasureRequestsRequest,
};
use cogov_proto::organizations::{GetPersonRequest, ListPersonsRequest, VerifyPersonRequest};
use http::StatusCode;
use serde::Deserialize;

use super::{Names, all, path_id};
use crate::console::view::{Failure, Frame, id_of, render, time};
use crate::console::{Shared, Staff};

const BACK: &str = "/console/residents";

#[derive(Template)]
#[template(path = "console/residents.html")]
struct ResidentsPage {
    f: Frame,
    registrations: Vec<Registration>,
    erasures: Vec<Erasure>,
}

struct Registration {
    id: String,
    display_name: String,
    community: String,
    courtyard: String,
    building: String,
    phone: String,
    registered: String,
    notice_version: String,
    etag: String,
}

struct Erasure {
    id: String,
    person: String,
    community: String,
    reason: String,
    asked: String,
}

/// GET /console/residents.
pub async fn page(State(_c): State<Shared>, staff: Staff) -> Result<Response, Failure> {
    let f = Frame::new(&staff, "residents");
    let calls = &staff.calls;
    let (names, persons, erasures) = tokio::try_join!(
        Names::load(calls),
        all(2000, |page_token| {
            let mut c = calls.organizations();
            async move {
                let r = c
                    .list_persons(ListPersonsRequest {
                        page_size: 500,
                        page_token,
                        filter: "verification = UNVERIFIED".into(),
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                Ok((r.persons, r.next_page_token))
            }
        }),
        all(2000, |page_token| {
            let mut c = calls.residents();
            async move {
                let r = c
                    .list_erasure_requests(ListErasureRequestsRequest {
                        page_size: 500,
                        page_token,
                        filter: "state = PENDING".into(),
                    })
                    .await?
                    .into_inner();
                Ok((r.erasure_requests, r.next_page_token))
            }
        }),
    )?;
    // Pending erasures are few: their persons' names one by one (a person
    // already gone shows by resource name).
    let who = futures_util::future::join_all(erasures.iter().map(|e| {
        let mut c = calls.organizations();
        let name = e.person.clone();
        async move {
            c.get_person(GetPersonRequest { name: name.clone() })
                .await
                .map_or(name, |p| p.into_inner().display_name)
        }
    }))
    .await;
    let view = ResidentsPage {
        registrations: persons
            .into_iter()
            .map(|p| Registration {
                id: id_of(&p.name).to_owned(),
                community: names.of(&p.community),
                courtyard: names.of(&p.courtyard),
                registered: time(p.consent_time.as_ref().or(p.create_time.as_ref())),
                display_name: p.display_name,
                building: p.building,
                phone: p.phone,
                notice_version: p.privacy_notice_version,
                etag: p.etag,
            })
            .collect(),
        erasures: erasures
            .into_iter()
            .zip(who)
            .map(|(e, person)| Erasure {
                id: id_of(&e.name).to_owned(),
                community: names.of(&e.community),
                asked: time(e.create_time.as_ref()),
                person,
                reason: e.reason,
            })
            .collect(),
        f,
    };
    Ok(render(&view))
}

/// The form that verifies a registration.
#[derive(Deserialize)]
pub struct Verify {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    etag: String,
}

/// POST /console/residents/{id}/verify.
pub async fn verify(
    State(_c): State<Shared>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<Verify>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    let id = path_id(&id)?;
    staff
        .calls
        .organizations()
        .verify_person(VerifyPersonRequest {
            name: format!("persons/{id}"),
            etag: form.etag,
        })
        .await
        .map_err(|s| Failure::from(s).back_to(BACK))?;
    Ok(Redirect::to(BACK).into_response())
}

/// The form that carries out or declines an erasure.
#[derive(Deserialize)]
pub struct Decide {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// POST /console/erasures/{id}/{carry-out|decline}.
pub async fn decide(
    State(_c): State<Shared>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Decide>,
) -> Result<Response, Failure> {
    staff.check_form(&form.csrf)?;
    let name = format!("erasureRequests/{}", path_id(&id)?);
    let mut residents = staff.calls.residents();
    let done = match action.as_str() {
        "carry-out" => residents
            .carry_out_erasure(CarryOutErasureRequest { name })
            .await
            .map(drop),
        "decline" => residents
            .decline_erasure(DeclineErasureRequest {
                name,
                reason: form.reason,
            })
            .await
            .map(drop),
        _ => return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    };
    done.map_err(|s| Failure::from(s).back_to(BACK))?;
    Ok(Redirect::to(BACK).into_response())
}
