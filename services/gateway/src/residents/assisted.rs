//! Staff acting for a resident at the community service station (a
//! resident without a phone, or who cannot use one), as CONSUL's
//! management module does.
//!
//! A staff member's call that carries `x-cogov-for-resident:
//! persons/{id}` becomes that resident's call: the resident's rules and
//! reach apply in every service (a staff member can do for them only what
//! they could do themselves), and the principal names the staff member too,
//! so the audit log, the issue timeline and a ballot's recorder all say
//! "staff member X for resident Y". Community staff act for the persons of
//! their community, street staff for anyone in the street; partners and
//! residents cannot act for anyone.

use cogov_kit::auth::{Assistant, Principal};
use cogov_kit::{Error, Result, names};
use http::HeaderMap;

use crate::Gateway;

/// The request header naming the resident a staff member acts for.
pub const HEADER: &str = "x-cogov-for-resident";

/// The resident a call asks to act for, if it asks.
pub fn requested(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(HEADER)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").trim())
}

/// The principal of `staff` acting for the resident `person` names.
pub async fn act_for(gw: &Gateway, staff: &Principal, person: &str) -> Result<Principal> {
    let Some(assistant) = Assistant::of(staff) else {
        return Err(Error::forbidden(
            "act for a resident; only street and community staff do, at the service station",
        ));
    };
    let id = names::parse("persons", person)
        .ok_or_else(|| Error::invalid(HEADER, "expected `persons/{id}`"))?;
    let found = gw.directory.person(id).await?;
    let in_reach = match (&found, assistant.community) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(p), Some(community)) => p.community == community,
    };
    if !in_reach {
        return Err(Error::out_of_reach(names::format("persons", id)));
    }
    Ok(Principal::Resident {
        person: id,
        assisted_by: Some(assistant),
    })
}
