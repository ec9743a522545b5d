//! Residents' sessions: a short-lived access token and a rotating refresh
//! token bound to a row here. Renewing spends the refresh token; a spent
//! one presented again means it was copied, and ends the session (OAuth
//! 2.0 Security BCP, refresh token rotation). Ending a session — sign-out,
//! the resident from another device, staff — stops its access tokens on
//! the next call.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cogov_kit::ErrorReason;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::gateway::{ResidentSession, ResidentTokens, SessionEnd};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::tokens::{Access, Keys};
use crate::entity::resident_sessions::{self as rows, Column, Entity, Model};

/// How long an access token works.
pub const ACCESS_LIFETIME: Duration = Duration::minutes(15);
/// How long a refresh token works unless renewed before.
pub const REFRESH_LIFETIME: Duration = Duration::days(30);

/// `persons/{person}/sessions/{session}`.
pub fn name(person: Uuid, session: Uuid) -> String {
    names::format_child("persons", person, "sessions", session)
}

/// The person and session a session name names.
pub fn parse_name(name: &str) -> Option<(Uuid, Uuid)> {
    names::parse_child("persons", "sessions", name)
}

/// The session as a resident or staff member sees it.
pub fn to_proto(m: &Model, current: Option<Uuid>) -> ResidentSession {
    ResidentSession {
        name: name(m.person_id, m.id),
        device: m.device.clone(),
        peer: m.peer.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        refresh_time: Some(convert::timestamp(m.refresh_time)),
        expire_time: Some(convert::timestamp(m.expire_time)),
        end_time: m.end_time.map(convert::timestamp),
        end: m.end_reason,
        current: current == Some(m.id),
    }
}

/// Whole seconds: tokens carry seconds, so the row does too.
fn whole(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0).single().unwrap_or(t)
}

fn tokens(keys: &Keys, m: &Model, now: DateTime<Utc>) -> ResidentTokens {
    let access_expire = whole(now + ACCESS_LIFETIME);
    ResidentTokens {
        access_token: keys.access_token(&Access {
            session: m.id,
            person: m.person_id,
            expire: access_expire,
        }),
        access_expire_time: Some(convert::timestamp(access_expire)),
        refresh_token: keys.refresh_token(m.id, m.generation, &m.salt),
        refresh_expire_time: Some(convert::timestamp(m.expire_time)),
        session: Some(to_proto(m, Some(m.id))),
    }
}

/// What a new session records of where it came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// How the resident proved who they are: `phone`, …
    pub door: &'static str,
    /// What they said they sign in with.
    pub device: String,
    /// Their address.
    pub peer: String,
}

/// Opens a session for `person`.
pub async fn open<C: ConnectionTrait>(
    conn: &C,
    keys: &Keys,
    person: Uuid,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<ResidentTokens> {
    let now = whole(now);
    let row = rows::ActiveModel {
        id: Set(names::new_id()),
        person_id: Set(person),
        salt: Set(Uuid::new_v4().simple().to_string()),
        generation: Set(1),
        door: Set(origin.door.to_owned()),
        device: Set(origin.device),
        peer: Set(origin.peer),
        create_time: Set(now),
        refresh_time: Set(now),
        expire_time: Set(now + REFRESH_LIFETIME),
        end_time: Set(None),
        end_reason: Set(SessionEnd::Unspecified as i32),
    }
    .insert(conn)
    .await?;
    Ok(tokens(keys, &row, now))
}

fn refused(reason: ErrorReason, message: &str) -> Error {
    Error::Unauthenticated {
        reason,
        message: message.to_owned(),
    }
}

/// What a refresh came to.
#[derive(Debug)]
pub enum Renewal {
    /// New tokens; the presented refresh token is spent.
    Renewed(Box<ResidentTokens>),
    /// The token was spent already: the session is ended now, and the
    /// caller must be refused.
    Reused(Model),
}

/// Renews the tokens of the session `refresh_token` belongs to.
pub async fn refresh<C: ConnectionTrait>(
    conn: &C,
    keys: &Keys,
    refresh_token: &str,
    now: DateTime<Utc>,
) -> Result<Renewal> {
    let invalid = || {
        refused(
            ErrorReason::RefreshTokenInvalid,
            "the refresh token is not valid",
        )
    };
    let presented = Keys::parse_refresh(refresh_token).ok_or_else(invalid)?;
    let row = Entity::find_by_id(presented.session)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    if !keys.issued(&presented, &row.salt) || presented.generation > row.generation {
        return Err(invalid());
    }
    if row.end_time.is_some() {
        return Err(refused(
            ErrorReason::SessionEnded,
            "the session has ended; sign in again",
        ));
    }
    if row.expire_time <= now {
        return Err(refused(
            ErrorReason::SessionExpired,
            "the session lapsed; sign in again",
        ));
    }
    if presented.generation < row.generation {
        return Ok(Renewal::Reused(
            end(conn, row, SessionEnd::RefreshReused, now).await?,
        ));
    }
    let now = whole(now);
    // One renewal per generation, also when two race: the loser presented
    // a token the winner spent.
    let moved = Entity::update_many()
        .col_expr(Column::Generation, Expr::value(row.generation + 1))
        .col_expr(Column::RefreshTime, Expr::value(now))
        .col_expr(Column::ExpireTime, Expr::value(now + REFRESH_LIFETIME))
        .filter(Column::Id.eq(row.id))
        .filter(Column::Generation.eq(row.generation))
        .filter(Column::EndTime.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    let fresh = Entity::find_by_id(row.id)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    if moved == 0 {
        return Ok(Renewal::Reused(
            end(conn, fresh, SessionEnd::RefreshReused, now).await?,
        ));
    }
    Ok(Renewal::Renewed(Box::new(tokens(keys, &fresh, now))))
}

/// Ends a session (an ended one stays as it ended).
pub async fn end<C: ConnectionTrait>(
    conn: &C,
    row: Model,
    why: SessionEnd,
    now: DateTime<Utc>,
) -> Result<Model> {
    if row.end_time.is_some() {
        return Ok(row);
    }
    Entity::update_many()
        .col_expr(Column::EndTime, Expr::value(now))
        .col_expr(Column::EndReason, Expr::value(why as i32))
        .filter(Column::Id.eq(row.id))
        .filter(Column::EndTime.is_null())
        .exec(conn)
        .await?;
    Entity::find_by_id(row.id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal("an ended session vanished".into()))
}

/// Ends every open session of `person`; returns the sessions ended.
pub async fn end_all<C: ConnectionTrait>(
    conn: &C,
    person: Uuid,
    why: SessionEnd,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    let open: Vec<Model> = Entity::find()
        .filter(Column::PersonId.eq(person))
        .filter(Column::EndTime.is_null())
        .all(conn)
        .await?;
    let mut ended = Vec::with_capacity(open.len());
    for row in open {
        ended.push(end(conn, row, why, now).await?.id);
    }
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_round_trip() {
        let (p, s) = (Uuid::now_v7(), Uuid::now_v7());
        let n = name(p, s);
        assert_eq!(parse_name(&n), Some((p, s)));
        assert_eq!(parse_name("persons/x/sessions/y"), None);
        assert_eq!(parse_name(&format!("persons/{p}")), None);
    }
}
