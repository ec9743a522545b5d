//! Checking a staff member's password, with lock-out: after
//! [`MAX_FAILURES`] wrong passwords in a row the account refuses every
//! password for [`LOCKOUT`]. An unknown username costs the same hash as a
//! known one, so timing does not tell which usernames exist.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::{Error, Result};
use cogov_proto::common::StaffRole;
use sea_orm::ActiveValue::Set;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::Gateway;
use crate::entity::staff_accounts::{self as rows, Column, Entity, Model};

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILURES: i32 = 5;
/// How long a lock-out lasts.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// Why a sign-in failed. Deliberately coarse: a wrong password, an unknown
/// username and a disabled account look the same.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Username or password wrong.
    Wrong,
    /// Locked out until then (the account, for the audit log).
    Locked(DateTime<Utc>, Box<Model>),
}

/// A hash that no password matches, checked against for unknown usernames.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(super::session::random_token().as_bytes())
        .expect("hashing the decoy")
        .to_string()
});

async fn password_matches(hash: String, password: String) -> Result<bool> {
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| Error::Internal(format!("checking a password: {e}")))
}

/// The account, if `password` is its password and it may sign in now.
pub async fn check(
    gw: &Gateway,
    username: &str,
    password: &str,
) -> Result<std::result::Result<Model, Refusal>> {
    let now = gw.ctx.clock.now();
    let account = Entity::find()
        .filter(Column::Username.eq(username))
        .one(gw.ctx.db.read())
        .await?;
    let Some(account) = account else {
        password_matches(DECOY.clone(), password.to_owned()).await?;
        return Ok(Err(Refusal::Wrong));
    };
    if let Some(until) = account.locked_until.filter(|u| *u > now) {
        return Ok(Err(Refusal::Locked(until, Box::new(account))));
    }
    let matches = password_matches(account.password_hash.clone(), password.to_owned()).await?;
    if matches && !account.disabled {
        if account.failed_attempts != 0 || account.locked_until.is_some() {
            let mut am: rows::ActiveModel = account.clone().into();
            am.failed_attempts = Set(0);
            am.locked_until = Set(None);
            am.update(gw.ctx.db.write()).await?;
        }
        return Ok(Ok(account));
    }
    if matches {
        // Disabled: refused like a wrong password, without counting.
        return Ok(Err(Refusal::Wrong));
    }
    record_failure(gw, &account, now).await
}

/// Counts a wrong password; the one that reaches the limit locks the
/// account. The count is incremented in the database, so concurrent
/// guesses are all counted.
async fn record_failure(
    gw: &Gateway,
    account: &Model,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Model, Refusal>> {
    let txn = gw.ctx.db.begin_write().await?;
    Entity::update_many()
        .col_expr(
            Column::FailedAttempts,
            Expr::col(Column::FailedAttempts).add(1),
        )
        .filter(Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    let now_failed = Entity::find_by_id(account.id)
        .one(&txn)
        .await?
        .map_or(0, |a| a.failed_attempts);
    let refusal = if now_failed >= MAX_FAILURES {
        let until = now + LOCKOUT;
        Entity::update_many()
            .col_expr(Column::FailedAttempts, Expr::value(0))
            .col_expr(Column::LockedUntil, Expr::value(until))
            .filter(Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
        tracing::warn!(username = %account.username, "console account locked out");
        Refusal::Locked(until, Box::new(account.clone()))
    } else {
        Refusal::Wrong
    };
    txn.commit().await?;
    Ok(Err(refusal))
}

/// The principal an account acts as.
pub fn principal(account: &Model) -> Option<Principal> {
    let subject = account.username.clone();
    match StaffRole::try_from(account.role).ok()? {
        StaffRole::StreetAdmin => Some(Principal::StreetAdmin { subject }),
        StaffRole::CommunityAdmin => Some(Principal::CommunityAdmin {
            subject,
            community: account.community_id?,
        }),
        StaffRole::Unspecified => None,
    }
}
