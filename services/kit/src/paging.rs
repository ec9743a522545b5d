//! List paging (AIP-158): page sizes, and opaque, tamper-evident keyset page
//! tokens.
//!
//! A token holds the sort key and id of the last row of a page, and an
//! HMAC over those bytes and the query's fingerprint (method, parent, filter,
//! order). A forged, corrupted or foreign token, or one replayed with
//! a different query, is refused with INVALID_ARGUMENT.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::{Error, Result};

/// Results per page when the request says 0.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// The most results per page; larger requests are capped (AIP-158).
pub const MAX_PAGE_SIZE: u64 = 1000;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;

/// The effective page size of a request's `page_size`.
pub fn page_size(requested: i32) -> Result<u64> {
    match requested {
        n if n < 0 => Err(Error::invalid("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as u64).min(MAX_PAGE_SIZE)),
    }
}

/// The sort key of the last row of a page.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// Sorted by id alone (creation order, since ids are UUIDv7).
    None,
    /// Sorted by a text column.
    Text(String),
    /// Sorted by an integer column (counts, depths).
    Int(i64),
    /// Sorted by a timestamp column.
    Time(chrono::DateTime<chrono::Utc>),
}

/// Where the next page starts: after (sort key, id).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// The last row's sort key.
    pub key: SortKey,
    /// The last row's id (the tie-breaker).
    pub id: Uuid,
}

/// The longest token decoded: room for any sort key this service issues
/// one for (up to [`MAX_TEXT_KEY`] bytes of text), and a bound on the work
/// garbage can cause.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The longest text sort key a token round-trips. Lists sort by names and
/// titles of at most a few hundred bytes.
pub const MAX_TEXT_KEY: usize = 8 * 1024;

/// Signs and verifies page tokens with the service's secret.
#[derive(Clone)]
pub struct PageTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(..)")
    }
}

impl PageTokens {
    /// Tokens signed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    fn mac(&self, fingerprint: &[u8], payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(&(fingerprint.len() as u64).to_be_bytes());
        mac.update(fingerprint);
        mac.update(payload);
        mac
    }

    /// The token for the page after `cursor`, bound to `fingerprint`.
    pub fn encode(&self, fingerprint: &[u8], cursor: &Cursor) -> String {
        let mut payload = Vec::with_capacity(64);
        payload.push(VERSION);
        payload.extend_from_slice(cursor.id.as_bytes());
        match &cursor.key {
            SortKey::None => payload.push(0),
            SortKey::Text(s) => {
                payload.push(1);
                payload.extend_from_slice(s.as_bytes());
            }
            SortKey::Int(i) => {
                payload.push(2);
                payload.extend_from_slice(&i.to_be_bytes());
            }
            SortKey::Time(t) => {
                payload.push(3);
                payload.extend_from_slice(&t.timestamp_micros().to_be_bytes());
            }
        }
        let tag = self.mac(fingerprint, &payload).finalize().into_bytes();
        payload.extend_from_slice(&tag[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(payload)
    }

    /// The cursor in `token`, or `None` for an empty token (the first page).
    pub fn decode(&self, fingerprint: &[u8], token: &str) -> Result<Option<Cursor>> {
        if token.is_empty() {
            return Ok(None);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::InvalidPageToken("too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| Error::InvalidPageToken("not a token issued by this service"))?;
        if bytes.len() < 1 + 16 + 1 + MAC_LEN {
            return Err(Error::InvalidPageToken("truncated"));
        }
        let (payload, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        self.mac(fingerprint, payload)
            .verify_truncated_left(tag)
            .map_err(|_| Error::InvalidPageToken("forged, or issued for a different query"))?;
        if payload[0] != VERSION {
            return Err(Error::InvalidPageToken("unknown version"));
        }
        let id =
            Uuid::from_slice(&payload[1..17]).map_err(|_| Error::InvalidPageToken("corrupted"))?;
        let rest = &payload[18..];
        let key = match payload[17] {
            0 if rest.is_empty() => SortKey::None,
            1 => SortKey::Text(
                String::from_utf8(rest.to_vec())
                    .map_err(|_| Error::InvalidPageToken("corrupted"))?,
            ),
            2 => SortKey::Int(i64::from_be_bytes(
                rest.try_into()
                    .map_err(|_| Error::InvalidPageToken("corrupted"))?,
            )),
            3 => SortKey::Time(
                chrono::DateTime::from_timestamp_micros(i64::from_be_bytes(
                    rest.try_into()
                        .map_err(|_| Error::InvalidPageToken("corrupted"))?,
                ))
                .ok_or(Error::InvalidPageToken("corrupted"))?,
            ),
            _ => return Err(Error::InvalidPageToken("corrupted")),
        };
        Ok(Some(Cursor { key, id }))
    }
}

/// Builds a query fingerprint from its parts (method, filter, order, …).
pub fn fingerprint(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PageTokens {
        PageTokens::new(b"test secret")
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7).unwrap(), 7);
        assert_eq!(page_size(5000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn round_trips_every_key_kind() {
        let fp = fingerprint(&["ListStreets", ""]);
        for key in [
            SortKey::None,
            SortKey::Text("牛街 Niujie".into()),
            SortKey::Int(-42),
        ] {
            let cursor = Cursor {
                key,
                id: Uuid::now_v7(),
            };
            let token = tokens().encode(&fp, &cursor);
            assert_eq!(tokens().decode(&fp, &token).unwrap(), Some(cursor));
        }
        assert_eq!(tokens().decode(&fp, "").unwrap(), None);
    }

    #[test]
    fn the_longest_text_key_round_trips() {
        let tokens = PageTokens::new(b"secret");
        let cursor = Cursor {
            key: SortKey::Text("名".repeat(MAX_TEXT_KEY / 3)),
            id: Uuid::nil(),
        };
        let token = tokens.encode(b"fp", &cursor);
        assert_eq!(tokens.decode(b"fp", &token).unwrap(), Some(cursor));
    }

    #[test]
    fn refuses_tampering_and_other_queries() {
        let fp = fingerprint(&["ListStreets", ""]);
        let cursor = Cursor {
            key: SortKey::Text("a".into()),
            id: Uuid::now_v7(),
        };
        let token = tokens().encode(&fp, &cursor);
        let other = fingerprint(&["ListStreets", "code = \"1\""]);
        assert!(tokens().decode(&other, &token).is_err(), "another filter");
        assert!(
            PageTokens::new(b"other").decode(&fp, &token).is_err(),
            "another secret"
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[5] ^= 1;
        assert!(
            tokens()
                .decode(&fp, &URL_SAFE_NO_PAD.encode(bytes))
                .is_err(),
            "flipped bit"
        );
        for junk in ["x", "!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(tokens().decode(&fp, junk).is_err(), "{junk}");
        }
    }
}
