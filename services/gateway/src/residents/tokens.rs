//! The residents' tokens. Each is an HMAC-SHA256 under one key of the
//! gateway's, with a label of its own per kind, so that one kind can never
//! pass for another:
//!
//! - access token, `cgr_<payload>.<mac>`: session, person and expiry, 15
//!   minutes; checked on every call without the database;
//! - refresh token, `cgrr_<session>.<generation>.<mac>`: the mac also
//!   covers the session's random salt, so the database row is what makes
//!   it live, and none is stored;
//! - registration ticket, `cgt_<payload>.<mac>`: a number proven by a
//!   code, for one registration;
//! - a sign-in code's hash: bound to its row and number, so a copied
//!   table cannot be searched for codes without the key;
//! - a link to a kept photo: its file, size and expiry;
//! - the residents' web app's cookie, `cgw_<session>.<mac>`, and its form
//!   token: both cover the session's salt, so the row makes them live
//!   and ending the session ends them.
//!
//! The key is made on first start and kept in the gateway's database, so
//! every replica shares it (`COGOV_RESIDENT_TOKEN_SECRET` overrides it).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, TimeZone, Utc};
use cogov_kit::Result;
use cogov_kit::db::Db;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use sea_orm::sea_query::OnConflict;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::entity::gateway_secrets::{self, Column, Entity};

/// The prefix of access tokens, which the door tells apart by it.
pub const ACCESS_PREFIX: &str = "cgr_";
const REFRESH_PREFIX: &str = "cgrr_";
const TICKET_PREFIX: &str = "cgt_";
const WEB_PREFIX: &str = "cgw_";
/// The row of `gateway_secrets` holding the key.
const SECRET_NAME: &str = "resident_tokens";

/// The key, and the tokens made with it.
#[derive(Clone)]
pub struct Keys {
    key: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

/// What an access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The session.
    pub session: Uuid,
    /// The resident.
    pub person: Uuid,
    /// When it stops working.
    pub expire: DateTime<Utc>,
}

/// What a registration ticket says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Its id: the registration's request id, so a ticket registers once.
    pub id: Uuid,
    /// The number proven, E.164.
    pub phone: String,
    /// When it stops working.
    pub expire: DateTime<Utc>,
}

/// A refresh token's parts, before its mac is checked against the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// The session.
    pub session: Uuid,
    /// The generation it was issued for.
    pub generation: i64,
    mac: Vec<u8>,
}

impl Keys {
    /// Keys from a configured secret (any length).
    pub fn from_secret(secret: &str) -> Keys {
        Keys {
            key: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// The key in `db`, made there first if no replica has yet.
    pub async fn load(db: &Db) -> Result<Keys> {
        let fresh = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        Entity::insert(gateway_secrets::ActiveModel {
            name: Set(SECRET_NAME.into()),
            value: Set(fresh),
            create_time: Set(Utc::now()),
        })
        .on_conflict(OnConflict::column(Column::Name).do_nothing().to_owned())
        .exec_without_returning(db.write())
        .await?;
        let row = Entity::find_by_id(SECRET_NAME.to_owned())
            .one(db.write())
            .await?
            .ok_or_else(|| cogov_kit::Error::Internal("the residents' key vanished".into()))?;
        Ok(Keys::from_secret(&row.value))
    }

    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(label);
        for part in parts {
            mac.update(&(part.len() as u32).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    fn signed(&self, prefix: &str, label: &[u8], payload: &[u8]) -> String {
        format!(
            "{prefix}{}.{}",
            B64.encode(payload),
            B64.encode(self.mac(label, &[payload]))
        )
    }

    fn open(&self, prefix: &str, label: &[u8], token: &str) -> Option<Vec<u8>> {
        let (payload, mac) = token.strip_prefix(prefix)?.split_once('.')?;
        let payload = B64.decode(payload).ok()?;
        let mac = B64.decode(mac).ok()?;
        bool::from(self.mac(label, &[&payload]).ct_eq(&mac)).then_some(payload)
    }

    /// An access token.
    pub fn access_token(&self, a: &Access) -> String {
        let mut payload = Vec::with_capacity(40);
        payload.extend_from_slice(a.session.as_bytes());
        payload.extend_from_slice(a.person.as_bytes());
        payload.extend_from_slice(&a.expire.timestamp().to_be_bytes());
        self.signed(ACCESS_PREFIX, b"access", &payload)
    }

    /// What an access token says, if this gateway made it (expiry is the
    /// caller's to check).
    pub fn read_access(&self, token: &str) -> Option<Access> {
        let payload = self.open(ACCESS_PREFIX, b"access", token)?;
        if payload.len() != 40 {
            return None;
        }
        Some(Access {
            session: Uuid::from_slice(&payload[..16]).ok()?,
            person: Uuid::from_slice(&payload[16..32]).ok()?,
            expire: seconds(&payload[32..40])?,
        })
    }

    /// The refresh token of `session`'s `generation`.
    pub fn refresh_token(&self, session: Uuid, generation: i64, salt: &str) -> String {
        let mac = self.refresh_mac(session, generation, salt);
        format!(
            "{REFRESH_PREFIX}{}.{generation}.{}",
            session.simple(),
            B64.encode(mac)
        )
    }

    fn refresh_mac(&self, session: Uuid, generation: i64, salt: &str) -> [u8; 32] {
        self.mac(
            b"refresh",
            &[
                session.as_bytes(),
                &generation.to_be_bytes(),
                salt.as_bytes(),
            ],
        )
    }

    /// A refresh token's parts, or `None` when it is not one.
    pub fn parse_refresh(token: &str) -> Option<Refresh> {
        let mut parts = token.strip_prefix(REFRESH_PREFIX)?.split('.');
        let session = Uuid::try_parse(parts.next()?).ok()?;
        let generation = parts.next()?.parse().ok()?;
        let mac = B64.decode(parts.next()?).ok()?;
        parts.next().is_none().then_some(Refresh {
            session,
            generation,
            mac,
        })
    }

    /// Whether this gateway issued `refresh` for a session with `salt`.
    pub fn issued(&self, refresh: &Refresh, salt: &str) -> bool {
        self.refresh_mac(refresh.session, refresh.generation, salt)
            .ct_eq(&refresh.mac)
            .into()
    }

    /// A registration ticket.
    pub fn ticket(&self, t: &Ticket) -> String {
        let mut payload = Vec::with_capacity(24 + t.phone.len());
        payload.extend_from_slice(t.id.as_bytes());
        payload.extend_from_slice(&t.expire.timestamp().to_be_bytes());
        payload.extend_from_slice(t.phone.as_bytes());
        self.signed(TICKET_PREFIX, b"ticket", &payload)
    }

    /// What a ticket says, if this gateway made it.
    pub fn read_ticket(&self, token: &str) -> Option<Ticket> {
        let payload = self.open(TICKET_PREFIX, b"ticket", token)?;
        if payload.len() < 24 {
            return None;
        }
        Some(Ticket {
            id: Uuid::from_slice(&payload[..16]).ok()?,
            expire: seconds(&payload[16..24])?,
            phone: String::from_utf8(payload[24..].to_vec()).ok()?,
        })
    }

    /// The web app's cookie for `session`.
    pub fn web_cookie(&self, session: Uuid, salt: &str) -> String {
        let mac = self.mac(b"web", &[session.as_bytes(), salt.as_bytes()]);
        format!("{WEB_PREFIX}{}.{}", session.simple(), B64.encode(mac))
    }

    /// The session a web cookie names, before its mac is checked against
    /// the row with [`Keys::web_cookie_issued`].
    pub fn web_cookie_session(cookie: &str) -> Option<Uuid> {
        let (session, _) = cookie.strip_prefix(WEB_PREFIX)?.split_once('.')?;
        Uuid::try_parse(session).ok()
    }

    /// Whether this gateway made `cookie` for a session with `salt`.
    pub fn web_cookie_issued(&self, cookie: &str, salt: &str) -> bool {
        let Some(session) = Keys::web_cookie_session(cookie) else {
            return false;
        };
        bool::from(
            self.web_cookie(session, salt)
                .as_bytes()
                .ct_eq(cookie.as_bytes()),
        )
    }

    /// The web app's form token (CSRF) of `session`.
    pub fn web_form_token(&self, session: Uuid, salt: &str) -> String {
        B64.encode(self.mac(b"web form", &[session.as_bytes(), salt.as_bytes()]))
    }

    /// The signature of a link to a kept photo's `size` that works until
    /// `expires` (seconds).
    pub fn media_link(&self, file: &str, size: &str, expires: i64) -> String {
        B64.encode(self.mac(
            b"media",
            &[file.as_bytes(), size.as_bytes(), &expires.to_be_bytes()],
        ))
    }

    /// A sign-in code's stored hash.
    pub fn code_hash(&self, row: Uuid, phone: &str, code: &str) -> String {
        B64.encode(self.mac(
            b"code",
            &[row.as_bytes(), phone.as_bytes(), code.as_bytes()],
        ))
    }
}

fn seconds(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let s = i64::from_be_bytes(bytes.try_into().ok()?);
    Utc.timestamp_opt(s, 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_opens_only_with_its_key_and_kind() {
        let keys = Keys::from_secret("one");
        let other = Keys::from_secret("two");
        let access = Access {
            session: Uuid::now_v7(),
            person: Uuid::now_v7(),
            expire: Utc.timestamp_opt(Utc::now().timestamp() + 900, 0).unwrap(),
        };
        let token = keys.access_token(&access);
        assert!(token.starts_with(ACCESS_PREFIX));
        assert_eq!(keys.read_access(&token), Some(access));
        assert_eq!(other.read_access(&token), None, "another key");
        // A changed payload under the old mac.
        let (payload, mac) = token
            .strip_prefix(ACCESS_PREFIX)
            .unwrap()
            .split_once('.')
            .unwrap();
        let mut bytes = B64.decode(payload).unwrap();
        bytes[20] ^= 1;
        let forged = format!("{ACCESS_PREFIX}{}.{mac}", B64.encode(&bytes));
        assert_eq!(keys.read_access(&forged), None, "another person");

        let ticket = Ticket {
            id: Uuid::new_v4(),
            phone: "+8613812345678".into(),
            expire: Utc.timestamp_opt(Utc::now().timestamp() + 900, 0).unwrap(),
        };
        let t = keys.ticket(&ticket);
        assert_eq!(keys.read_ticket(&t), Some(ticket));
        // A ticket is no access token, even with the prefix swapped.
        let swapped = t.replacen(TICKET_PREFIX, ACCESS_PREFIX, 1);
        assert_eq!(keys.read_access(&swapped), None);

        let session = Uuid::now_v7();
        let refresh = keys.refresh_token(session, 3, "salt");
        let parsed = Keys::parse_refresh(&refresh).unwrap();
        assert_eq!((parsed.session, parsed.generation), (session, 3));
        assert!(keys.issued(&parsed, "salt"));
        assert!(!keys.issued(&parsed, "another session's salt"));
        assert!(!other.issued(&parsed, "salt"));
        let later = Keys::parse_refresh(&refresh.replace(".3.", ".4.")).unwrap();
        assert!(
            !keys.issued(&later, "salt"),
            "a generation cannot be made up"
        );
        for junk in ["", "cgrr_", "cgrr_x.1.y", &format!("{refresh}.extra")] {
            assert_eq!(
                Keys::parse_refresh(junk).filter(|r| keys.issued(r, "salt")),
                None
            );
        }

        let row = Uuid::now_v7();
        assert_eq!(
            keys.code_hash(row, "+8613812345678", "123456"),
            keys.code_hash(row, "+8613812345678", "123456")
        );
        assert_ne!(
            keys.code_hash(row, "+8613812345678", "123456"),
            keys.code_hash(row, "+8613812345679", "123456")
        );
    }

    #[test]
    fn a_web_cookie_lives_with_its_session_salt() {
        let keys = Keys::from_secret("one");
        let session = Uuid::now_v7();
        let cookie = keys.web_cookie(session, "salt");
        assert_eq!(Keys::web_cookie_session(&cookie), Some(session));
        assert!(keys.web_cookie_issued(&cookie, "salt"));
        assert!(!keys.web_cookie_issued(&cookie, "another salt"));
        assert!(!Keys::from_secret("two").web_cookie_issued(&cookie, "salt"));
        let other = cookie.replace(
            &session.simple().to_string(),
            &Uuid::now_v7().simple().to_string(),
        );
        assert!(!keys.web_cookie_issued(&other, "salt"), "another session");
        for junk in ["", "cgw_", "cgw_x.y", "cgr_abc.def"] {
            assert!(!keys.web_cookie_issued(junk, "salt"));
        }
        assert_ne!(
            keys.web_form_token(session, "salt"),
            keys.web_form_token(session, "salt2")
        );
    }
}
