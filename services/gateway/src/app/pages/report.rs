//! Report a problem: the sub-item chosen by category (words and icons),
//! what and where, in one of the courtyards of the resident's community.
//! Before it is sent, the open reports of the same sub-item in the same
//! courtyard are shown ("same problem?"). Where the phone lets the page
//! have its position ("use my location", the app's one script), the report
//! carries it and the nearest courtyard is chosen. The form carries a request id
//! made when it was shown, so a retry — a double tap, a reload, a flaky
//! line — returns the first issue and makes no second one.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::common::{GeoPoint, Media, MediaRole};
use cogov_proto::issues::{FindSimilarIssuesRequest, Issue, ReportIssueRequest};
use cogov_proto::organizations::ListCourtyardsRequest;
use serde::Deserialize;

use super::{IssueCard, Taxonomy, category_icon, me, state_class};
use crate::app::view::{Failure, Frame, id_of, render};
use crate::app::{Resident, Shared};
use crate::media::photo::Refusal;
use crate::media::received;
use crate::media::{KeepError, Kept};

/// A category with its sub-items, for the form.
pub struct CategoryGroup {
    /// Its label.
    pub label: String,
    /// Its icon.
    pub icon: &'static str,
    /// `(subItems/…, label)`.
    pub sub_items: Vec<(String, String)>,
}

/// What the form holds, shown again after a refusal or on the "same
/// problem?" step.
#[derive(Deserialize, Default, Clone)]
pub struct ReportForm {
    #[serde(default)]
    sub_item: String,
    #[serde(default)]
    courtyard: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    address_text: String,
    /// Where the phone was, from "use my location" (decimal degrees).
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    request_id: String,
    /// `yes` once the resident saw the similar reports and still reports.
    #[serde(default)]
    confirmed: String,
    #[serde(default)]
    csrf: String,
    /// Photos kept already, carried through the "same problem?" step.
    #[serde(skip)]
    kept: Vec<String>,
}

/// A refused photo's reason, in the resident's words.
fn refusal_words(r: &Refusal) -> String {
    crate::app::words::current()
        .get(&format!("photo.{}", r.reason()))
        .to_owned()
}

/// How many photos a report may carry.
pub const MAX_PHOTOS: usize = 3;

impl ReportForm {
    /// Reads the multipart form: its fields, and its photos made safe and
    /// kept. A refused photo refuses the whole form, with its reason.
    async fn read(app: &Shared, mut multipart: Multipart) -> Result<(ReportForm, String), Failure> {
        // Past the body's bound (three photos' worth) the form is refused
        // whole, in words.
        let bad = |e: axum::extract::multipart::MultipartError| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                Failure::new(e.status(), "report.too_large").back_to("/app/report")
            } else {
                Failure::new(http::StatusCode::BAD_REQUEST, "error.invalid")
            }
        };
        let mut form = ReportForm::default();
        let mut refused = String::new();
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "photo" {
                let bytes = match received::photo(field).await.map_err(bad)? {
                    Ok(bytes) => bytes,
                    Err(r) => {
                        refused = refusal_words(&r);
                        continue;
                    }
                };
                if bytes.is_empty() {
                    // A file input left empty.
                    continue;
                }
                if form.kept.len() >= MAX_PHOTOS {
                    refused =
                        crate::app::words::current().fmt("report.too_many_photos", &[&MAX_PHOTOS]);
                    continue;
                }
                let Some(media) = app.gw.media.as_ref() else {
                    refused = crate::app::words::current()
                        .get("report.no_photos")
                        .to_owned();
                    continue;
                };
                match media.keep(bytes).await {
                    Ok(kept) => form.kept.push(kept.uri()),
                    Err(KeepError::Refused(r)) => refused = refusal_words(&r),
                    Err(KeepError::Store(e)) => return Err(e.into()),
                }
                continue;
            }
            let value = field.text().await.map_err(bad)?;
            match name.as_str() {
                "sub_item" => form.sub_item = value,
                "courtyard" => form.courtyard = value,
                "title" => form.title = value,
                "description" => form.description = value,
                "address_text" => form.address_text = value,
                "latitude" => form.latitude = value,
                "longitude" => form.longitude = value,
                "request_id" => form.request_id = value,
                "confirmed" => form.confirmed = value,
                "csrf" => form.csrf = value,
                // Only names of photos this gateway kept.
                "kept" if Kept::parse(&value).is_some() && form.kept.len() < MAX_PHOTOS => {
                    form.kept.push(value)
                }
                _ => {}
            }
        }
        Ok((form, refused))
    }

    /// The phone's position, if the form carries one. A half or unreadable
    /// position is refused (`Err`); its range is the issues service's to
    /// check.
    fn location(&self) -> Result<Option<GeoPoint>, ()> {
        let (lat, lng) = (self.latitude.trim(), self.longitude.trim());
        match (lat.is_empty(), lng.is_empty()) {
            (true, true) => Ok(None),
            (false, false) => {
                let latitude: f64 = lat.parse().map_err(|_| ())?;
                let longitude: f64 = lng.parse().map_err(|_| ())?;
                if latitude.is_finite() && longitude.is_finite() {
                    Ok(Some(GeoPoint {
                        latitude,
                        longitude,
                    }))
                } else {
                    Err(())
                }
            }
            _ => Err(()),
        }
    }
}

/// A courtyard on the form: where the nearest is found from.
pub struct CourtyardChoice {
    /// `courtyards/…`.
    pub name: String,
    /// Its name in words.
    pub label: String,
    /// Its position, as the script reads it (empty when unknown).
    pub latitude: String,
    /// Likewise.
    pub longitude: String,
}

#[derive(Template)]
#[template(path = "app/report.html")]
struct ReportPage {
    f: Frame,
    groups: Vec<CategoryGroup>,
    courtyards: Vec<CourtyardChoice>,
    form: ReportForm,
    error: String,
    photos_on: bool,
    photos_hint: String,
}

#[derive(Template)]
#[template(path = "app/similar.html")]
struct SimilarPage {
    f: Frame,
    similar: Vec<IssueCard>,
    form: ReportForm,
}

async fn report_page(
    app: &Shared,
    resident: &Resident,
    mut form: ReportForm,
    error: String,
) -> Result<Response, Failure> {
    let f = Frame::new(resident, "report");
    let t = f.t;
    let calls = &resident.calls;
    let person = me(calls, resident.person).await?;
    let (taxonomy, courtyards) = tokio::try_join!(Taxonomy::load(calls), async {
        calls
            .organizations()
            .list_courtyards(ListCourtyardsRequest {
                page_size: 1000,
                filter: format!("community = \"{}\"", person.community),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().courtyards)
            .map_err(Failure::from)
    })?;
    if form.courtyard.is_empty() {
        form.courtyard = person.courtyard.clone();
    }
    if form.request_id.is_empty() {
        form.request_id = uuid::Uuid::new_v4().to_string();
    }
    let groups = taxonomy
        .categories
        .iter()
        .map(|(category, label)| CategoryGroup {
            label: label.clone(),
            icon: category_icon(category),
            sub_items: taxonomy
                .sub_items
                .iter()
                .filter(|(_, c, _)| c == category)
                .map(|(n, _, l)| (n.clone(), l.clone()))
                .collect(),
        })
        .filter(|g| !g.sub_items.is_empty())
        .collect();
    let mut courtyards: Vec<CourtyardChoice> = courtyards
        .into_iter()
        .map(|c| {
            let (latitude, longitude) = c
                .location
                .map(|p| (p.latitude.to_string(), p.longitude.to_string()))
                .unwrap_or_default();
            CourtyardChoice {
                name: c.name,
                label: c.display_name,
                latitude,
                longitude,
            }
        })
        .collect();
    courtyards.sort_by(|a, b| a.label.cmp(&b.label));
    let status = if error.is_empty() {
        http::StatusCode::OK
    } else {
        http::StatusCode::BAD_REQUEST
    };
    let mut response = render(&ReportPage {
        f,
        groups,
        courtyards,
        form,
        error,
        photos_on: app.gw.media.is_some(),
        photos_hint: t.fmt("report.photos_hint", &[&MAX_PHOTOS]),
    });
    *response.status_mut() = status;
    Ok(response)
}

/// GET /app/report.
pub async fn form(State(app): State<Shared>, resident: Resident) -> Result<Response, Failure> {
    report_page(&app, &resident, ReportForm::default(), String::new()).await
}

/// POST /app/report: the photos kept, then the similar open reports, then
/// the report.
pub async fn submit(
    State(app): State<Shared>,
    resident: Resident,
    multipart: Multipart,
) -> Result<Response, Failure> {
    let (form, refused) = ReportForm::read(&app, multipart).await?;
    resident.check_form(&form.csrf)?;
    let t = crate::app::words::current();
    if !refused.is_empty() {
        return report_page(&app, &resident, form, refused).await;
    }
    let Ok(location) = form.location() else {
        return report_page(
            &app,
            &resident,
            form,
            t.get("report.bad_location").to_owned(),
        )
        .await;
    };
    if form.sub_item.is_empty() {
        return report_page(
            &app,
            &resident,
            form,
            t.get("report.choose_sub_item").to_owned(),
        )
        .await;
    }
    if form.confirmed != "yes" && !form.courtyard.is_empty() {
        let similar = resident
            .calls
            .issues()
            .find_similar_issues(FindSimilarIssuesRequest {
                courtyard: form.courtyard.clone(),
                sub_item: form.sub_item.clone(),
                location,
                max_results: 5,
            })
            .await
            .map(|r| r.into_inner().issues);
        match similar {
            Ok(similar) => {
                // Others' open reports: the resident's own are theirs to
                // follow already, and a retried submission finds its own
                // first attempt here, which must go on to ReportIssue and
                // its request id.
                let me = resident.person_name();
                let open: Vec<_> = similar
                    .iter()
                    .filter_map(|s| s.issue.as_ref())
                    .filter(|i| matches!(state_class(i.state), "new" | "moving"))
                    .filter(|i| i.reporter != me)
                    .collect();
                if !open.is_empty() {
                    let taxonomy = Taxonomy::load(&resident.calls).await?;
                    let f = Frame::new(&resident, "report");
                    let similar = open
                        .into_iter()
                        .map(|i| IssueCard::new(i, &taxonomy, f.t))
                        .collect();
                    return Ok(render(&SimilarPage { f, similar, form }));
                }
            }
            // A bad courtyard or sub-item: the report itself says what.
            Err(s) if s.code() == tonic::Code::InvalidArgument => {}
            Err(s) => return Err(s.into()),
        }
    }
    let reported = resident
        .calls
        .issues()
        .report_issue(ReportIssueRequest {
            issue: Some(Issue {
                courtyard: form.courtyard.clone(),
                sub_item: form.sub_item.clone(),
                title: form.title.trim().to_owned(),
                description: form.description.trim().to_owned(),
                address_text: form.address_text.trim().to_owned(),
                location,
                media: form
                    .kept
                    .iter()
                    .filter_map(|uri| Kept::parse(uri))
                    .map(|kept| Media {
                        uri: kept.uri(),
                        content_type: kept.content_type().to_owned(),
                        role: MediaRole::Before as i32,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            request_id: form.request_id.clone(),
        })
        .await;
    match reported {
        Ok(issue) => {
            let id = id_of(&issue.get_ref().name).to_owned();
            Ok(Redirect::to(&format!("/app/issues/{id}?reported=1")).into_response())
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let failure = Failure::from(status);
            let error = format!("{} {}", t.get("error.invalid"), failure.detail());
            report_page(&app, &resident, form, error).await
        }
        Err(status) => Err(status.into()),
    }
}
