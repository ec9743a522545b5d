//! Links to kept photos: `/media/{id}.{ext}?size=…&expires=…&sig=…`, signed
//! with the gateway's key and good for one to two hours. The gateway hands
//! them out only while answering someone who may see the issue (the app's
//! and the console's pages, Open311's `media_url`); whoever holds one may
//! fetch the photo until it lapses, as with a presigned S3 link. Expiry is
//! rounded to the hour so that a page shown twice links the same photo
//! twice, and the browser's cache serves the second.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Kept, Size};
use crate::Gateway;

/// The link to `kept`'s `size`, signed for an hour or two from `now`.
pub async fn link(gw: &Gateway, kept: Kept, size: Size) -> Option<String> {
    let keys = gw.residents.keys(&gw.ctx.db).await.ok()?;
    let expires = expiry(gw.ctx.clock.now());
    let file = format!("{}.{}", kept.id, kept.extension);
    let sig = keys.media_link(&file, size.word(), expires);
    Some(format!(
        "/media/{file}?size={}&expires={expires}&sig={sig}",
        size.word()
    ))
}

/// The links of an issue's kept photos: (thumbnail, full), in its order;
/// other media (outside links) are left out.
pub async fn links_of(gw: &Gateway, media: &[cogov_proto::common::Media]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in media {
        if let Some(kept) = Kept::parse(&m.uri)
            && let (Some(thumb), Some(full)) = (
                link(gw, kept, Size::Thumbnail).await,
                link(gw, kept, Size::Full).await,
            )
        {
            out.push((thumb, full));
        }
    }
    out
}

/// The end of the hour after next: links made within one hour agree.
fn expiry(now: DateTime<Utc>) -> i64 {
    (now.timestamp() / 3600 + 2) * 3600
}

/// A link's query.
#[derive(Deserialize)]
pub struct Signed {
    #[serde(default)]
    size: String,
    #[serde(default)]
    expires: i64,
    #[serde(default)]
    sig: String,
}

/// GET /media/{file}: the photo, when the link is ours and not lapsed.
pub async fn serve(
    State(gw): State<Gateway>,
    Path(file): Path<String>,
    Query(q): Query<Signed>,
) -> Response {
    let refuse = |status: StatusCode| status.into_response();
    let (Some(kept), Some(size), Some(media)) = (
        Kept::from_file(&file),
        Size::from_word(&q.size),
        gw.media.as_ref(),
    ) else {
        return refuse(StatusCode::NOT_FOUND);
    };
    let Ok(keys) = gw.residents.keys(&gw.ctx.db).await else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE);
    };
    let expected = keys.media_link(&file, size.word(), q.expires);
    let now = gw.ctx.clock.now().timestamp();
    if !bool::from(expected.as_bytes().ct_eq(q.sig.as_bytes())) || q.expires <= now {
        return refuse(StatusCode::FORBIDDEN);
    }
    let bytes = match media.get(kept, size).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return refuse(StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::warn!(error = %e, "serving a photo");
            return refuse(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let content_type = match size {
        Size::Full => kept.content_type(),
        Size::Thumbnail => "image/jpeg",
    };
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("private, max-age={}", q.expires - now)) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
