//! Reading a caller's credentials: `authorization: Bearer …` carries API
//! keys, staff tokens and residents' access tokens alike; `x-api-key`
//! carries keys too. Keys are told apart by their `cgk_` prefix, residents'
//! tokens by `cgr_`; anything else is a staff token.

use cogov_kit::ErrorReason;
use cogov_kit::{Error, Result};
use http::HeaderMap;

/// What a caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// A partner's API key.
    ApiKey(&'a str),
    /// A staff member's signed token (JWT).
    Token(&'a str),
    /// A signed-in resident's access token.
    ResidentToken(&'a str),
}

/// The key prefix.
pub const KEY_PREFIX: &str = "cgk_";

fn unauthenticated(reason: ErrorReason, message: &str) -> Error {
    Error::Unauthenticated {
        reason,
        message: message.to_owned(),
    }
}

/// The caller's credential; `None` when it presented none.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<Credential<'_>>> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| {
            unauthenticated(
                ErrorReason::CredentialsMalformed,
                "authorization is not text",
            )
        })?;
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
            return Err(unauthenticated(
                ErrorReason::CredentialsMalformed,
                "authorization must be `Bearer <key or token>`",
            ));
        }
        let credential = rest.trim();
        return Ok(Some(if credential.starts_with(KEY_PREFIX) {
            Credential::ApiKey(credential)
        } else if credential.starts_with(crate::residents::tokens::ACCESS_PREFIX) {
            Credential::ResidentToken(credential)
        } else {
            Credential::Token(credential)
        }));
    }
    if let Some(value) = headers.get("x-api-key") {
        let key = value.to_str().map_err(|_| {
            unauthenticated(ErrorReason::CredentialsMalformed, "x-api-key is not text")
        })?;
        return Ok(Some(Credential::ApiKey(key.trim())));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer_keys_tokens_and_x_api_key() {
        assert_eq!(
            from_headers(&headers(&[("authorization", "Bearer cgk_abc")])).unwrap(),
            Some(Credential::ApiKey("cgk_abc"))
        );
        assert_eq!(
            from_headers(&headers(&[("authorization", "bearer eyJ.x.y")])).unwrap(),
            Some(Credential::Token("eyJ.x.y"))
        );
        assert_eq!(
            from_headers(&headers(&[("x-api-key", "cgk_k")])).unwrap(),
            Some(Credential::ApiKey("cgk_k"))
        );
        assert_eq!(from_headers(&HeaderMap::new()).unwrap(), None);
        assert!(from_headers(&headers(&[("authorization", "Basic dXNlcg==")])).is_err());
        assert!(from_headers(&headers(&[("authorization", "Bearer ")])).is_err());
    }
}
