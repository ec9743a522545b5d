//! Open311's two wire formats. Every answer is built once as JSON; XML is
//! written from the same value, with each array becoming repeated elements
//! named as GeoReport v2 names them (`<services><service>…`).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;

/// The format a path asks for with its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.xml`
    Xml,
}

impl Format {
    /// Splits `requests.json` into `requests` and JSON; `None` for any
    /// other extension.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        let format = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        (!stem.is_empty()).then_some((stem, format))
    }
}

/// The element that wraps each item of an array named `array` (GeoReport
/// v2's names), and the root element of a top-level array of `root`.
fn item_name(array: &str) -> &'static str {
    match array {
        "services" => "service",
        "service_requests" => "request",
        "attributes" => "attribute",
        "values" => "value",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        _ => "item",
    }
}

/// An answer: `value` as JSON, or as XML under `root` (the element that
/// wraps a top-level array, or a top-level object).
pub fn respond(format: Format, status: StatusCode, root: &str, value: &Value) -> Response {
    let (content_type, body) = match format {
        Format::Json => ("application/json; charset=utf-8", value.to_string()),
        Format::Xml => ("text/xml; charset=utf-8", to_xml(root, value)),
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `value` as an XML document whose root element is `root`.
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut w = Writer::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    element(&mut w, root, value);
    String::from_utf8(w.into_inner()).expect("the writer writes UTF-8")
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, value: &Value) {
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    match value {
        Value::Object(fields) => {
            for (key, v) in fields {
                element(w, key, v);
            }
        }
        Value::Array(items) => {
            let item = item_name(name);
            for v in items {
                element(w, item, v);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            let _ = w.write_event(Event::Text(BytesText::new(s)));
        }
        other => {
            let _ = w.write_event(Event::Text(BytesText::new(&other.to_string())));
        }
    }
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

/// An Open311 error: its HTTP status and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    /// The HTTP status, also the error's `code`.
    pub status: StatusCode,
    /// What went wrong.
    pub description: String,
}

impl Open311Error {
    /// An error with `status`.
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
        }
    }

    /// 400: the request is wrong.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    /// 404: no such thing.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    /// The error in `format`: `[{"code": 400, "description": "…"}]`.
    pub fn respond(&self, format: Format) -> Response {
        let value = serde_json::json!([{
            "code": self.status.as_u16(),
            "description": self.description,
        }]);
        respond(format, self.status, "errors", &value)
    }
}

/// What a service's refusal means over HTTP; field violations name their
/// fields in the description.
impl From<tonic::Status> for Open311Error {
    fn from(status: tonic::Status) -> Self {
        use tonic::Code;
        use tonic_types::StatusExt;
        let http = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut description = status.message().to_owned();
        if let Some(bad) = status.get_details_bad_request() {
            let fields: Vec<String> = bad
                .field_violations
                .iter()
                .map(|v| format!("{}: {}", v.field, v.description))
                .collect();
            if !fields.is_empty() {
                description = fields.join("; ");
            }
        }
        Open311Error::new(http, description)
    }
}

impl From<cogov_kit::Error> for Open311Error {
    fn from(e: cogov_kit::Error) -> Self {
        tonic::Status::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_choose_the_format() {
        assert_eq!(
            Format::split("requests.json"),
            Some(("requests", Format::Json))
        );
        assert_eq!(Format::split("abc.xml"), Some(("abc", Format::Xml)));
        assert_eq!(Format::split("requests.csv"), None);
        assert_eq!(Format::split("requests"), None);
        assert_eq!(Format::split(".json"), None);
    }

    #[test]
    fn arrays_become_repeated_elements_and_text_is_escaped() {
        let value = serde_json::json!([
            {"service_code": "a<b", "metadata": true, "keywords": null},
            {"service_code": "c&d", "attributes": [{"values": [{"key": "k"}]}]},
        ]);
        assert_eq!(
            to_xml("services", &value),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services>\
             <service><keywords></keywords><metadata>true</metadata><service_code>a&lt;b</service_code></service>\
             <service><attributes><attribute><values><value><key>k</key></value></values></attribute></attributes><service_code>c&amp;d</service_code></service>\
             </services>"
        );
    }

    #[test]
    fn errors_follow_the_open311_shape() {
        let e = Open311Error::bad_request("service_code: is required");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let status: tonic::Status = cogov_kit::Error::invalid("issue.sub_item", "unknown").into();
        let e = Open311Error::from(status);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.description, "issue.sub_item: unknown");
        let e = Open311Error::from(tonic::Status::permission_denied("no"));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
    }
}
