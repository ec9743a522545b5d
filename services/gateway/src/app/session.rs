//! The app's sign-in lasts as a resident session (the same rows as the
//! gRPC sign-in's, so the resident and staff see and end it with the
//! others). The browser holds `cgw_<session>.<mac>` in an httpOnly cookie;
//! the mac covers the session's salt, so nothing more is stored, and the
//! session's end ends the cookie on the next page. The page never holds a
//! refresh token, so two tabs cannot race a renewal: a session that is
//! used slides its expiry forward (at most one write a day).

use chrono::{DateTime, Duration, Utc};
use cogov_kit::Result;
use http::HeaderMap;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Gateway;
use crate::console::session::over_https;
use crate::entity::resident_sessions::{Column, Entity, Model};
use crate::residents::sessions::REFRESH_LIFETIME;
use crate::residents::tokens::Keys;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "cogov_resident";
/// The cookie that carries a registration ticket between the code and
/// the registration form.
pub const TICKET_COOKIE: &str = "cogov_ticket";

/// How often a used session's expiry moves forward.
const SLIDE_EVERY: Duration = Duration::days(1);

/// The session cookie's value in a request.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    crate::console::session::cookie(headers, COOKIE_NAME)
}

/// The live session a cookie names, with its form token; `None` when the
/// cookie is not ours, or the session ended or lapsed.
pub async fn find(gw: &Gateway, cookie: &str) -> Result<Option<(Model, String)>> {
    let Some(id) = Keys::web_cookie_session(cookie) else {
        return Ok(None);
    };
    let now = gw.ctx.clock.now();
    if gw.residents.revocations().ended(id) {
        return Ok(None);
    }
    let Some(row) = Entity::find_by_id(id).one(gw.ctx.db.read()).await? else {
        return Ok(None);
    };
    let keys = gw.residents.keys(&gw.ctx.db).await?;
    if row.end_time.is_some()
        || row.expire_time <= now
        || !keys.web_cookie_issued(cookie, &row.salt)
    {
        return Ok(None);
    }
    if now - row.refresh_time >= SLIDE_EVERY {
        slide(gw, &row, now).await?;
    }
    let csrf = keys.web_form_token(row.id, &row.salt);
    Ok(Some((row, csrf)))
}

/// Moves a used session's expiry forward, as a renewal would.
async fn slide(gw: &Gateway, row: &Model, now: DateTime<Utc>) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::RefreshTime, Expr::value(now))
        .col_expr(Column::ExpireTime, Expr::value(now + REFRESH_LIFETIME))
        .filter(Column::Id.eq(row.id))
        .filter(Column::EndTime.is_null())
        .exec(gw.ctx.db.write())
        .await?;
    Ok(())
}

/// A `Set-Cookie` value scoped to the app: httpOnly always, `Secure` over
/// HTTPS. SameSite=Lax, so that a link from a text message or a chat opens
/// the app signed in; every change is a POST with the session's form token.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Duration) -> String {
    format!(
        "{name}={value}; Path=/app; Max-Age={}; HttpOnly; SameSite=Lax{}",
        std::cmp::max(max_age.num_seconds(), 0),
        if over_https(headers) { "; Secure" } else { "" }
    )
}
