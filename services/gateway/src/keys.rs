//! Partners' API keys: CreateApiKey, ListApiKeys, RevokeApiKey,
//! RotateApiKey, and verifying a key on every call.
//!
//! A key reads `cgk_{id}_{secret}`: the id finds the record, and the SHA-256
//! of the whole key is compared in constant time with the stored one. The
//! key itself is returned once, at creation, and never stored. Revocation
//! and expiry are read from the database on every call, so a revoked key
//! stops working on the very next one. Rotation issues a successor and
//! schedules the old key's revocation after an overlap.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery};
use cogov_kit::validate::{Check, read_id};
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::gateway::*;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::Gateway;
use crate::credentials::KEY_PREFIX;
use crate::entity::api_keys::{self as rows, Column, Entity, Model};
use crate::entity::partners;
use crate::partners as partner_rpcs;

/// How long a key lives when the request does not say.
const DEFAULT_LIFETIME_DAYS: i64 = 90;
/// The longest a key may live.
const MAX_LIFETIME_DAYS: i64 = 730;
/// The longest overlap of a rotation.
const MAX_OVERLAP_DAYS: i64 = 30;

fn name(m: &Model) -> String {
    names::format_child(partner_rpcs::COLLECTION, m.partner_id, "keys", m.id)
}

fn parse(field: &str, value: &str) -> Result<(Uuid, Uuid)> {
    cogov_kit::validate::read_child_id(field, value, partner_rpcs::COLLECTION, "keys")
}

/// Where a key stands at `now`.
pub fn state_at(m: &Model, now: DateTime<Utc>) -> ApiKeyState {
    if m.revoke_time.is_some_and(|t| t <= now) {
        ApiKeyState::Revoked
    } else if m.expire_time <= now {
        ApiKeyState::Expired
    } else {
        ApiKeyState::Active
    }
}

fn to_proto(m: &Model, now: DateTime<Utc>) -> ApiKey {
    ApiKey {
        name: name(m),
        display_name: m.display_name.clone(),
        prefix: m.prefix.clone(),
        expire_time: Some(convert::timestamp(m.expire_time)),
        revoke_time: convert::opt_timestamp(m.revoke_time),
        rotated_from: m
            .rotated_from
            .map(|r| {
                format!(
                    "{}/keys/{}",
                    partner_rpcs::name(m.partner_id),
                    r.as_hyphenated()
                )
            })
            .unwrap_or_default(),
        last_use_time: convert::opt_timestamp(m.last_use_time),
        state: state_at(m, now) as i32,
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

/// How a secret is kept: its SHA-256, in hex (keys and console sessions).
pub(crate) fn digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new key for `partner`: its record (unsaved) and the key, once.
fn mint(
    partner: &partners::Model,
    display_name: String,
    expire: DateTime<Utc>,
    rotated_from: Option<Uuid>,
    now: DateTime<Utc>,
) -> (rows::ActiveModel, String) {
    let id = names::new_id();
    let mut secret = [0u8; 32];
    secret[..16].copy_from_slice(Uuid::new_v4().as_bytes());
    secret[16..].copy_from_slice(Uuid::new_v4().as_bytes());
    let key = format!(
        "{KEY_PREFIX}{}_{}",
        id.simple(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let record = rows::ActiveModel {
        id: Set(id),
        partner_id: Set(partner.id),
        organization_id: Set(partner.organization_id),
        display_name: Set(display_name),
        prefix: Set(key[..KEY_PREFIX.len() + 8].to_owned()),
        secret_hash: Set(digest(&key)),
        expire_time: Set(expire),
        revoke_time: Set(None),
        rotated_from: Set(rotated_from),
        last_use_time: Set(None),
        create_time: Set(now),
    };
    (record, key)
}

/// Runs a key issue once per request id. The stored reply for retries has
/// the key blanked: the key is shown once and kept nowhere.
async fn issue_once(
    gw: &Gateway,
    key: &Key,
    now: DateTime<Utc>,
    body: impl AsyncFnOnce(&cogov_kit::write::Write) -> Result<CreateApiKeyResponse>,
) -> Result<CreateApiKeyResponse> {
    let blank = |out: &CreateApiKeyResponse| CreateApiKeyResponse {
        api_key: out.api_key.clone(),
        secret: String::new(),
    };
    idempotency::create_keeping(&gw.ctx.db, key, now, blank, body).await
}

fn unauthenticated(reason: ErrorReason, message: &str) -> Error {
    Error::Unauthenticated {
        reason,
        message: message.to_owned(),
    }
}

/// The partner principal of a key presented now, or why not.
pub async fn verify<C: ConnectionTrait>(
    conn: &C,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(Principal, partners::Model, Model)> {
    let invalid = || unauthenticated(ErrorReason::KeyInvalid, "the API key is not valid");
    let rest = key.strip_prefix(KEY_PREFIX).ok_or_else(invalid)?;
    let (id, _) = rest.split_once('_').ok_or_else(invalid)?;
    let id = Uuid::try_parse(id).map_err(|_| invalid())?;
    let record = Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    let presented = digest(key);
    if !bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())) {
        return Err(invalid());
    }
    match state_at(&record, now) {
        ApiKeyState::Revoked => {
            return Err(unauthenticated(
                ErrorReason::KeyRevoked,
                "the API key was revoked",
            ));
        }
        ApiKeyState::Expired => {
            return Err(unauthenticated(
                ErrorReason::KeyExpired,
                "the API key has expired",
            ));
        }
        _ => {}
    }
    let partner = partners::Entity::find_by_id(record.partner_id)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    if partner.state != PartnerState::Active as i32 {
        return Err(Error::PermissionDenied {
            reason: ErrorReason::PartnerSuspended,
            message: "the partner is suspended".into(),
        });
    }
    let principal = Principal::Partner {
        organization: partner.organization_id,
        key: name(&record),
    };
    Ok((principal, partner, record))
}

/// The partner an API key stands for, if the key is valid now; its last
/// use is recorded in the background, off the call's path, when the
/// minute it was last recorded in has passed.
pub async fn authenticate(
    db: &cogov_kit::db::Db,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(Principal, partners::Model)> {
    let (principal, partner, record) = verify(db.read(), key, now).await?;
    if !needs_touch(&record, now) {
        return Ok((principal, partner));
    }
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(e) = touch(db.write(), &record, now).await {
            tracing::warn!(error = %e, "recording a key's last use");
        }
    });
    Ok((principal, partner))
}

/// The minute `now` falls in.
fn minute_of(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::seconds(i64::from(chrono::Timelike::second(&now)))
}

/// Whether `key`'s recorded last use is older than this minute.
fn needs_touch(key: &Model, now: DateTime<Utc>) -> bool {
    key.last_use_time.is_none_or(|t| t < minute_of(now))
}

/// Records that a key was used, to the minute (one write a minute at most).
pub async fn touch<C: ConnectionTrait>(conn: &C, key: &Model, now: DateTime<Utc>) -> Result<()> {
    if !needs_touch(key, now) {
        return Ok(());
    }
    Entity::update_many()
        .col_expr(
            Column::LastUseTime,
            sea_orm::sea_query::Expr::value(minute_of(now)),
        )
        .filter(Column::Id.eq(key.id))
        .exec(conn)
        .await?;
    Ok(())
}

fn lifetime(
    c: &mut Check,
    requested: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    match requested.and_then(convert::from_timestamp) {
        Some(t) if t <= now => {
            c.add("api_key.expire_time", "must be in the future");
            t
        }
        Some(t) if t > now + Duration::days(MAX_LIFETIME_DAYS) => {
            c.add("api_key.expire_time", "at most two years ahead");
            t
        }
        Some(t) => t,
        None => now + Duration::days(DEFAULT_LIFETIME_DAYS),
    }
}

/// CreateApiKey: the key is in this response only.
pub async fn create(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: CreateApiKeyRequest,
) -> Result<CreateApiKeyResponse> {
    let key = Key::new("CreateApiKey", &req.request_id, principal, &req);
    let partner_id = read_id("parent", &req.parent, partner_rpcs::COLLECTION)?;
    let record = req.api_key.unwrap_or_default();
    let now = gw.ctx.clock.now();
    let mut c = Check::new();
    c.line("api_key.display_name", &record.display_name, 0, 100);
    let expire = lifetime(&mut c, record.expire_time.as_ref(), now);
    c.request_id(&req.request_id);
    c.finish()?;
    let partner = partner_rpcs::find(gw.ctx.db.read(), partner_id).await?;
    // A replay returns the record without the key: the key is shown once.
    issue_once(gw, &key, now, async move |txn| {
        let (row, secret) = mint(&partner, record.display_name, expire, None, now);
        let saved = row.insert(txn).await?;
        Ok(CreateApiKeyResponse {
            api_key: Some(to_proto(&saved, now)),
            secret,
        })
    })
    .await
}

/// ListApiKeys: newest first, never the keys themselves.
pub async fn list(
    gw: &Gateway,
    _caller: &Principal,
    req: ListApiKeysRequest,
) -> Result<ListApiKeysResponse> {
    let partner_id = read_id("parent", &req.parent, partner_rpcs::COLLECTION)?;
    let conn = gw.ctx.db.read();
    partner_rpcs::find(conn, partner_id).await?;
    let mut query = ListQuery::new("ListApiKeys", req.page_size, &req.page_token, "", "");
    query.parent = &req.parent;
    let base = Entity::find().filter(Column::PartnerId.eq(partner_id));
    let (rows, next_page_token) =
        listing::newest_first(&gw.ctx.tokens, &gw.ctx.db, query, base, Column::Id, |m| {
            m.id
        })
        .await?;
    let now = gw.ctx.clock.now();
    Ok(ListApiKeysResponse {
        api_keys: rows.iter().map(|m| to_proto(m, now)).collect(),
        next_page_token,
    })
}

async fn find_key<C: ConnectionTrait>(conn: &C, value: &str) -> Result<Model> {
    let (partner, id) = parse("name", value)?;
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|k| k.partner_id == partner)
        .ok_or_else(|| Error::NotFound {
            resource_type: "ApiKey",
            name: value.to_owned(),
        })
}

/// RevokeApiKey: effective on the very next call. Revoking again keeps the
/// first revocation time.
pub async fn revoke(gw: &Gateway, _caller: &Principal, req: RevokeApiKeyRequest) -> Result<ApiKey> {
    let txn = gw.ctx.db.begin_write().await?;
    let row = find_key(&txn, &req.name).await?;
    let now = gw.ctx.clock.now();
    let saved = if row.revoke_time.is_some_and(|t| t <= now) {
        row
    } else {
        let mut am: rows::ActiveModel = row.into();
        am.revoke_time = Set(Some(now));
        am.update(&txn).await?
    };
    txn.commit().await?;
    Ok(to_proto(&saved, now))
}

/// RotateApiKey: a successor with the old key's lifetime ahead of it; the
/// old key keeps working for the overlap.
pub async fn rotate(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: RotateApiKeyRequest,
) -> Result<CreateApiKeyResponse> {
    let key = Key::new("RotateApiKey", &req.request_id, principal, &req);
    let mut c = Check::new();
    let overlap = match &req.overlap {
        Some(d) if d.seconds < 0 || d.nanos < 0 || d.seconds > MAX_OVERLAP_DAYS * 86_400 => {
            c.add("overlap", "between 0 and 30 days");
            Duration::zero()
        }
        Some(d) => Duration::seconds(d.seconds),
        None => Duration::zero(),
    };
    c.request_id(&req.request_id);
    c.finish()?;
    let now = gw.ctx.clock.now();
    let old = find_key(gw.ctx.db.read(), &req.name).await?;
    if state_at(&old, now) != ApiKeyState::Active {
        return Err(Error::precondition(
            ErrorReason::KeyNotActive,
            "STATE",
            req.name.clone(),
            "only an active key is rotated",
        ));
    }
    let partner = partner_rpcs::find(gw.ctx.db.read(), old.partner_id).await?;
    issue_once(gw, &key, now, async move |txn| {
        let lifetime = (old.expire_time - old.create_time).max(Duration::days(1));
        let (row, secret) = mint(
            &partner,
            old.display_name.clone(),
            now + lifetime,
            Some(old.id),
            now,
        );
        let saved = row.insert(txn).await?;
        let ends = now + overlap;
        if old.revoke_time.is_none_or(|t| t > ends) {
            let mut am: rows::ActiveModel = old.into();
            am.revoke_time = Set(Some(ends));
            am.update(txn).await?;
        }
        Ok(CreateApiKeyResponse {
            api_key: Some(to_proto(&saved, now)),
            secret,
        })
    })
    .await
}
