//! The app's static files, built into the binary: its stylesheet, and the
//! one small script (the report form's "use my location"), which only
//! adds to a form that works without it.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

const STYLESHEET: &[u8] = include_bytes!("../../../assets/app/app.css");
const LOCATE: &[u8] = include_bytes!("../../../assets/app/locate.js");

/// GET /app/assets/{file}.
pub async fn file(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "app.css" => (STYLESHEET, "text/css; charset=utf-8"),
        "locate.js" => (LOCATE, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
