//! Staff tokens: JWTs with a pinned algorithm, issuer and audience and the
//! claims `sub`, `role` and (for community admins) `community`. Development
//! signs and verifies with a shared secret (HS256); production verifies
//! with configured public keys (EdDSA, ES256 or RS256) and signs nothing.

use cogov_kit::auth::Principal;
use cogov_kit::clock::Clock;
use cogov_kit::{Error, Result, names};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a staff token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Who: the staff member's account or username.
    pub sub: String,
    /// `street_admin` or `community_admin`.
    pub role: String,
    /// For a community admin: `communities/{id}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub community: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
}

/// Verifies (and in development issues) staff tokens.
#[derive(Clone)]
pub struct StaffTokens {
    validation: Validation,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
    clock: Clock,
}

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY: i64 = 30;

impl std::fmt::Debug for StaffTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffTokens")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl std::fmt::Display) -> Error {
    Error::Unauthenticated {
        reason: "TOKEN_INVALID",
        message: format!("staff token refused: {message}"),
    }
}

impl StaffTokens {
    fn with(
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        algorithm: Algorithm,
        issuer: &str,
        audience: &str,
        clock: Clock,
    ) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the service's clock (below), so that
        // every time decision of the gateway follows one clock.
        validation.validate_exp = false;
        Self {
            clock,
            validation,
            decoding,
            encoding,
            algorithm,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    /// Development: HS256 with a shared secret; can issue tokens.
    pub fn shared_secret(secret: &[u8], issuer: &str, audience: &str, clock: Clock) -> Self {
        Self::with(
            DecodingKey::from_secret(secret),
            Some(EncodingKey::from_secret(secret)),
            Algorithm::HS256,
            issuer,
            audience,
            clock,
        )
    }

    /// Production: verifies with a PEM public key for `algorithm` (EdDSA,
    /// ES256 or RS256); issues nothing.
    pub fn public_key(
        pem: &[u8],
        algorithm: Algorithm,
        issuer: &str,
        audience: &str,
        clock: Clock,
    ) -> std::result::Result<Self, String> {
        let decoding = match algorithm {
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem),
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
            other => return Err(format!("unsupported staff token algorithm {other:?}")),
        }
        .map_err(|e| format!("staff token public key: {e}"))?;
        Ok(Self::with(
            decoding, None, algorithm, issuer, audience, clock,
        ))
    }

    /// The principal a token carries.
    pub fn verify(&self, token: &str) -> Result<Principal> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(invalid)?;
        let c = data.claims;
        if c.exp + LEEWAY <= self.clock.now().timestamp() {
            return Err(Error::Unauthenticated {
                reason: "TOKEN_EXPIRED",
                message: "staff token expired; sign in again".into(),
            });
        }
        match c.role.as_str() {
            "street_admin" => Ok(Principal::StreetAdmin { subject: c.sub }),
            "community_admin" => {
                let community = names::parse("communities", &c.community)
                    .ok_or_else(|| invalid("a community admin's token names `communities/{id}`"))?;
                Ok(Principal::CommunityAdmin {
                    subject: c.sub,
                    community,
                })
            }
            other => Err(invalid(format!("unknown role {other:?}"))),
        }
    }

    /// Issues a token (development only) for `sub` in `role`, valid for
    /// `ttl_seconds` from now.
    pub fn issue(
        &self,
        sub: &str,
        role: &str,
        community: &str,
        ttl_seconds: i64,
    ) -> std::result::Result<String, String> {
        let now = self.clock.now().timestamp();
        let key = self
            .encoding
            .as_ref()
            .ok_or("this gateway verifies staff tokens but does not issue them")?;
        let claims = Claims {
            sub: sub.into(),
            role: role.into(),
            community: community.into(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_seconds,
            iat: now,
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn tokens(secret: &[u8], iss: &str, aud: &str) -> (StaffTokens, Clock) {
        let clock = Clock::manual(chrono::Utc::now());
        (
            StaffTokens::shared_secret(secret, iss, aud, clock.clone()),
            clock,
        )
    }

    #[test]
    fn verifies_what_it_issues_and_nothing_else() {
        let (t, clock) = tokens(b"dev secret", "cogov", "cogov-gateway");
        let admin = t.issue("alice", "street_admin", "", 600).unwrap();
        assert_eq!(
            t.verify(&admin).unwrap(),
            Principal::StreetAdmin {
                subject: "alice".into()
            }
        );
        let community = format!("communities/{}", uuid::Uuid::now_v7());
        let c = t.issue("bob", "community_admin", &community, 600).unwrap();
        assert!(matches!(
            t.verify(&c).unwrap(),
            Principal::CommunityAdmin { .. }
        ));

        // Expired, beyond the leeway.
        clock.advance(chrono::Duration::seconds(600 + LEEWAY));
        let err = t.verify(&admin).unwrap_err();
        assert_eq!(err.reason(), "TOKEN_EXPIRED");
        // Another audience or issuer.
        let (other, _) = tokens(b"dev secret", "cogov", "someone-else");
        let foreign = other.issue("alice", "street_admin", "", 600).unwrap();
        assert_eq!(t.verify(&foreign).unwrap_err().reason(), "TOKEN_INVALID");
        let (other, _) = tokens(b"dev secret", "evil", "cogov-gateway");
        let foreign = other.issue("alice", "street_admin", "", 600).unwrap();
        assert!(t.verify(&foreign).is_err());
        // Another key.
        let (other, _) = tokens(b"other secret", "cogov", "cogov-gateway");
        let forged = other.issue("alice", "street_admin", "", 600).unwrap();
        assert!(t.verify(&forged).is_err());
        // Unknown role; a community admin without a community.
        let (t, _) = tokens(b"dev secret", "cogov", "cogov-gateway");
        assert!(
            t.verify(&t.issue("x", "superuser", "", 600).unwrap())
                .is_err()
        );
        assert!(
            t.verify(&t.issue("x", "community_admin", "", 600).unwrap())
                .is_err()
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let (t, _) = tokens(b"dev secret", "cogov", "cogov-gateway");
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = b64.encode(
            format!(
                r#"{{"sub":"mallory","role":"street_admin","iss":"cogov","aud":"cogov-gateway","exp":{},"iat":{}}}"#,
                now() + 600,
                now()
            )
            .as_bytes(),
        );
        for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
            assert!(t.verify(&token).is_err(), "{token}");
        }
    }
}
