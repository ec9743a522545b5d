//! POST /media: a signed-in caller (API key, staff token or resident
//! token, as for any call) sends one photo as the request body and gets
//! back the name to put in an issue's or a resolution's `media`:
//!
//! ```text
//! curl -H "authorization: Bearer $COGOV_FIRM_KEY" --data-binary @after.jpg \
//!      http://127.0.0.1:50050/media
//! {"uri":"cogov-media:01a2….jpg","content_type":"image/jpeg"}
//! ```
//!
//! A refused photo answers 400 with the reason (`PHOTO_NOT_AN_IMAGE`,
//! `PHOTO_HEIC`, …), or 413 `PHOTO_TOO_LARGE` past 10 MB (read to its end,
//! so the sender hears it), and keeps nothing.

use cogov_kit::ErrorReason;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::KeepError;
use crate::Gateway;
use crate::front::Front;

/// What the upload door needs.
#[derive(Clone)]
pub struct Door {
    /// The gateway (its photo store).
    pub gw: Gateway,
    /// Who the credential is.
    pub front: Arc<Front>,
}

fn json_answer(status: StatusCode, value: serde_json::Value) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn answer(status: StatusCode, reason: ErrorReason, message: &str) -> Response {
    json_answer(
        status,
        json!({"error": {"reason": reason.as_str_name(), "message": message}}),
    )
}

/// POST /media.
pub async fn upload(State(door): State<Door>, headers: HeaderMap, body: Body) -> Response {
    match door.front.caller(&headers).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return answer(
                StatusCode::UNAUTHORIZED,
                ErrorReason::CredentialsMissing,
                "send `authorization: Bearer <API key, staff token or resident access token>`",
            );
        }
        Err(e) => {
            let status = tonic::Status::from(e);
            return answer(
                StatusCode::UNAUTHORIZED,
                ErrorReason::Unauthenticated,
                status.message(),
            );
        }
    }
    let Some(media) = door.gw.media.as_ref() else {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorReason::MediaDisabled,
            "this gateway keeps no photos (COGOV_MEDIA_STORE is not set)",
        );
    };
    let body = match super::received::photo(body.into_data_stream()).await {
        Ok(Ok(body)) => body,
        Ok(Err(refused)) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                refused.reason_code(),
                &refused.to_string(),
            );
        }
        // Past the drain limit, or the sender went away.
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                ErrorReason::BodyUnreadable,
                &e.to_string(),
            );
        }
    };
    match media.keep(body).await {
        Ok(kept) => json_answer(
            StatusCode::CREATED,
            json!({"uri": kept.uri(), "content_type": kept.content_type()}),
        ),
        Err(KeepError::Refused(r)) => {
            answer(StatusCode::BAD_REQUEST, r.reason_code(), &r.to_string())
        }
        Err(KeepError::Store(e)) => {
            tracing::warn!(error = %e, "keeping an uploaded photo");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorReason::MediaUnavailable,
                "the photo store is unavailable; retry later",
            )
        }
    }
}
