//! Console sessions: a random value in an httpOnly, SameSite=Strict cookie,
//! kept server-side only as its SHA-256 beside the staff account and the
//! session's form token. Sessions end at their expiry or at sign-out, and
//! with the account (disabling it ends them at the next page).

use chrono::{DateTime, Duration, Utc};
use cogov_kit::Result;
use cogov_kit::schema::*;
use http::HeaderMap;
use http::header::COOKIE;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::Gateway;
use crate::entity::console_sessions::{self as rows, Column, Entity, Model};
use crate::entity::staff_accounts;
use crate::keys::digest;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "cogov_session";
/// How long a session lasts: a working day.
pub const LIFETIME: Duration = Duration::hours(8);

/// A fresh unguessable value (244 random bits from the OS), URL-safe.
pub fn random_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn same_token(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

/// Opens a session for `account`; returns the cookie's value (shown once)
/// and the stored session. The account's expired sessions go.
pub async fn open(gw: &Gateway, account: Uuid) -> Result<(String, Model)> {
    let now = gw.ctx.clock.now();
    Entity::delete_many()
        .filter(Column::AccountId.eq(account))
        .filter(Column::ExpireTime.lte(now))
        .exec(gw.ctx.db.write())
        .await?;
    let token = random_token();
    let row = rows::ActiveModel {
        id: Set(cogov_kit::names::new_id()),
        token_hash: Set(digest(&token)),
        account_id: Set(account),
        csrf_token: Set(random_token()),
        create_time: Set(now),
        expire_time: Set(now + LIFETIME),
    }
    .insert(gw.ctx.db.write())
    .await?;
    Ok((token, row))
}

/// The live session the cookie value names, with its account; `None` when
/// unknown, expired, or the account is gone or disabled.
pub async fn find(gw: &Gateway, token: &str) -> Result<Option<(Model, staff_accounts::Model)>> {
    let now = gw.ctx.clock.now();
    let Some(session) = Entity::find()
        .filter(Column::TokenHash.eq(digest(token)))
        .one(gw.ctx.db.read())
        .await?
    else {
        return Ok(None);
    };
    if session.expire_time <= now {
        return Ok(None);
    }
    let account = staff_accounts::Entity::find_by_id(session.account_id)
        .one(gw.ctx.db.read())
        .await?;
    Ok(account
        .filter(|a| !a.disabled)
        .map(|account| (session, account)))
}

/// Ends the session the cookie value names.
pub async fn close(gw: &Gateway, token: &str) -> Result<()> {
    Entity::delete_many()
        .filter(Column::TokenHash.eq(digest(token)))
        .exec(gw.ctx.db.write())
        .await?;
    Ok(())
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value scoped to the console: httpOnly and SameSite=Strict
/// always, `Secure` when the browser came over HTTPS (so that a plain-HTTP
/// demo on localhost still signs in).
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/console; Max-Age={}; HttpOnly; SameSite=Strict{}",
        std::cmp::max(max_age.num_seconds(), 0),
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the browser reached us over HTTPS (directly or, as deployed,
/// through the ingress, which sets `x-forwarded-proto`).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The session's remaining life, for the cookie's Max-Age.
pub fn remaining(session: &Model, now: DateTime<Utc>) -> Duration {
    session.expire_time - now
}

/// Creates `console_sessions`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_gateway_console_sessions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> std::result::Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("console_sessions")
                .col(id())
                .col(text("token_hash").unique_key())
                .col(uuid("account_id"))
                .col(text("csrf_token"))
                .col(time("create_time"))
                .col(time("expire_time"))
                .foreign_key(&mut fk(
                    "console_sessions",
                    "account_id",
                    "staff_accounts",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "console_sessions",
            "account",
            &["account_id", "expire_time"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> std::result::Result<(), DbErr> {
        m.drop_table(Table::drop().table("console_sessions").to_owned())
            .await
    }
}
