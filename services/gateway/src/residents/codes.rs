//! One-time sign-in codes: six digits, five minutes, one use, five tries,
//! kept only as a keyed hash. Limits: one code per number a minute, ten a
//! day, and [`PER_ADDRESS_PER_HOUR`] per address. They are counted in the
//! database, so every replica of the gateway counts the same codes.

use chrono::{DateTime, Duration, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::{Error, Result, names};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::tokens::Keys;
use crate::entity::sign_in_codes::{self as rows, Column, Entity};

/// Each number's last sending: the gate of [`RESEND_AFTER`].
pub const NUMBERS: &str = "sign_in_numbers";

/// Digits in a code.
pub const LENGTH: usize = 6;
/// How long a code works.
pub const LIFETIME: Duration = Duration::minutes(5);
/// Wrong codes a code survives.
pub const MAX_TRIES: i32 = 5;
/// Between two codes for one number.
pub const RESEND_AFTER: Duration = Duration::seconds(60);
/// Codes for one number in 24 hours.
pub const PER_NUMBER_PER_DAY: u64 = 10;
/// Codes asked from one address in an hour (a community service station
/// signs many residents in from one address).
pub const PER_ADDRESS_PER_HOUR: u64 = 30;

/// A fresh code: uniform over the 10^6 values (from 122 random bits of
/// the operating system's generator, so the modulo's bias is nil).
fn fresh_code() -> String {
    let n = Uuid::new_v4().as_u128() % 1_000_000;
    format!("{n:06}")
}

fn too_many(retry_after: Duration) -> Error {
    Error::ResourceExhausted {
        retry_after: retry_after.to_std().unwrap_or_default(),
    }
}

/// Issues a code for `phone` asked from `peer`, or says when to ask again.
/// Returns the code (to send) and its expiry.
pub async fn issue<C: ConnectionTrait>(
    conn: &C,
    keys: &Keys,
    phone: &str,
    peer: &str,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>)> {
    if !take_turn(conn, phone, now).await? {
        let last = Entity::find()
            .filter(Column::Phone.eq(phone))
            .order_by_desc(Column::CreateTime)
            .one(conn)
            .await?
            .map_or(now, |l| l.create_time);
        return Err(too_many(
            (last + RESEND_AFTER - now).max(Duration::seconds(1)),
        ));
    }
    let today = Entity::find()
        .filter(Column::Phone.eq(phone))
        .filter(Column::CreateTime.gt(now - Duration::days(1)))
        .count(conn)
        .await?;
    if today >= PER_NUMBER_PER_DAY {
        return Err(too_many(Duration::hours(1)));
    }
    if !peer.is_empty() {
        let from_peer = Entity::find()
            .filter(Column::Peer.eq(peer))
            .filter(Column::CreateTime.gt(now - Duration::hours(1)))
            .count(conn)
            .await?;
        if from_peer >= PER_ADDRESS_PER_HOUR {
            return Err(too_many(Duration::minutes(10)));
        }
    }
    let id = names::new_id();
    let code = fresh_code();
    let expire = now + LIFETIME;
    rows::ActiveModel {
        id: Set(id),
        phone: Set(phone.to_owned()),
        code_hash: Set(keys.code_hash(id, phone, &code)),
        attempts: Set(0),
        peer: Set(peer.to_owned()),
        create_time: Set(now),
        expire_time: Set(expire),
        consume_time: Set(None),
    }
    .insert(conn)
    .await?;
    Ok((code, expire))
}

/// Moves the number's last sending to `now` unless it was within
/// [`RESEND_AFTER`]: one statement, so that two requests racing for the
/// same number cannot both have a code.
async fn take_turn<C: ConnectionTrait>(conn: &C, phone: &str, now: DateTime<Utc>) -> Result<bool> {
    let statement = Query::insert()
        .into_table(NUMBERS)
        .columns(["phone", "last_send_time"])
        .values_panic([phone.into(), now.into()])
        .on_conflict(
            OnConflict::column("phone")
                .update_column("last_send_time")
                .action_and_where(Expr::col((NUMBERS, "last_send_time")).lte(now - RESEND_AFTER))
                .to_owned(),
        )
        .to_owned();
    Ok(conn.execute(&statement).await?.rows_affected() == 1)
}

/// Why a code did not sign anyone in.
fn refused(reason: ErrorReason, message: &str) -> Error {
    Error::Unauthenticated {
        reason,
        message: message.to_owned(),
    }
}

/// Spends the live code of `phone` if `code` is it. A wrong code uses up
/// one of the code's tries; a right one works once, also when two
/// requests race with it.
pub async fn consume<C: ConnectionTrait>(
    conn: &C,
    keys: &Keys,
    phone: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(row) = Entity::find()
        .filter(Column::Phone.eq(phone))
        .order_by_desc(Column::CreateTime)
        .one(conn)
        .await?
    else {
        return Err(refused(
            ErrorReason::CodeInvalid,
            "the code is not valid; ask for a new one",
        ));
    };
    if row.consume_time.is_some() {
        return Err(refused(
            ErrorReason::CodeUsed,
            "the code was already used; ask for a new one",
        ));
    }
    if row.expire_time <= now {
        return Err(refused(
            ErrorReason::CodeExpired,
            "the code expired; ask for a new one",
        ));
    }
    // Count the try first, atomically, so that concurrent guesses all count.
    let counted = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(row.id))
        .filter(Column::Attempts.lt(MAX_TRIES))
        .exec(conn)
        .await?
        .rows_affected;
    if counted == 0 {
        return Err(refused(
            ErrorReason::CodeTriesExhausted,
            "too many wrong codes; ask for a new one",
        ));
    }
    let expected = keys.code_hash(row.id, phone, code);
    if !bool::from(expected.as_bytes().ct_eq(row.code_hash.as_bytes())) {
        return Err(refused(ErrorReason::CodeInvalid, "the code is not valid"));
    }
    let spent = Entity::update_many()
        .col_expr(Column::ConsumeTime, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .filter(Column::ConsumeTime.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    if spent == 0 {
        return Err(refused(
            ErrorReason::CodeUsed,
            "the code was already used; ask for a new one",
        ));
    }
    Ok(())
}

/// Forgets codes older than a day (the limits look back no further).
pub async fn prune<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<u64> {
    let cutoff = now - Duration::days(1);
    conn.execute(
        Query::delete()
            .from_table(NUMBERS)
            .and_where(Expr::col("last_send_time").lt(cutoff)),
    )
    .await?;
    Ok(Entity::delete_many()
        .filter(Column::CreateTime.lt(cutoff))
        .exec(conn)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let c = super::fresh_code();
            assert_eq!(c.len(), super::LENGTH);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
