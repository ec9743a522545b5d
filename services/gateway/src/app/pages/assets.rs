//! The app's one static file, its stylesheet, built into the binary. No
//! script: every page works with plain forms.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

const STYLESHEET: &[u8] = include_bytes!("../../../assets/app/app.css");

/// GET /app/assets/{file}.
pub async fn file(Path(name): Path<String>) -> Response {
    if name != "app.css" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut response = STYLESHEET.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
