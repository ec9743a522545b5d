//! Staff tokens: JWTs with a pinned algorithm, issuer and audience and the
//! claims `sub`, `role` and (for community admins) `community`. Development
//! signs and verifies with a shared secret (HS256); production verifies
//! with configured public keys (EdDSA, ES256 or RS256) and signs nothing.
//! A token that verified once is remembered, so that a staff member's next
//! calls cost a lookup rather than a signature check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::clock::Clock;
use cogov_kit::{Error, Result, names};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a staff token says. Every field has a default, so that a token
/// lacking a claim is refused for its claims (the validation's required
/// claims, the role check), not as unreadable.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Claims {
    /// Who: the staff member's account or username.
    pub sub: String,
    /// `street_admin` or `community_admin`.
    pub role: String,
    /// For a community admin: `communities/{id}`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub community: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before, seconds since the epoch, when the issuer sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
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
    verified: Arc<Mutex<HashMap<Box<str>, Verified>>>,
}

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY: i64 = 30;

/// At most this many verified tokens are remembered: every staff member
/// signed in at once fits, and the memory stays small (a token is a few
/// hundred bytes).
const MAX_REMEMBERED: usize = 10_000;

/// What a token that verified says, for its next calls. Its signature,
/// issuer, audience and claims do not change, so they are not checked
/// again; its time window is, on every call.
#[derive(Debug, Clone)]
struct Verified {
    principal: Principal,
    exp: i64,
    nbf: Option<i64>,
}

impl std::fmt::Debug for StaffTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffTokens")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Why a staff token was refused, in words a caller can act on. The JWT
/// library's own account (which names the library and the algorithms this
/// gateway accepts) goes to the log, never to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a JWT this gateway can read: bad base64, JSON or shape.
    Malformed,
    /// The signature does not verify with this gateway's key, or the token
    /// is signed with another algorithm (`none` among them).
    BadSignature,
    /// Past its `exp`, beyond the tolerated skew.
    Expired,
    /// Its `nbf` is still to come.
    NotYetValid,
    /// Another `iss` than the one this gateway trusts.
    WrongIssuer,
    /// Another `aud`: the token is meant for another service.
    WrongAudience,
    /// A required claim (`sub`, `role`, `exp`, `iss`, `aud`, a community
    /// admin's `community`) is missing or is not a staff member's.
    BadClaims,
}

impl Refusal {
    /// The stable `ErrorInfo.reason`.
    pub fn reason(self) -> ErrorReason {
        match self {
            Refusal::Malformed => ErrorReason::TokenMalformed,
            Refusal::BadSignature => ErrorReason::TokenSignatureInvalid,
            Refusal::Expired => ErrorReason::TokenExpired,
            Refusal::NotYetValid => ErrorReason::TokenNotYetValid,
            Refusal::WrongIssuer => ErrorReason::TokenWrongIssuer,
            Refusal::WrongAudience => ErrorReason::TokenWrongAudience,
            Refusal::BadClaims => ErrorReason::TokenClaimsInvalid,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => "staff token refused: it is malformed (not a signed JWT)",
            Refusal::BadSignature => "staff token refused: its signature is not valid",
            Refusal::Expired => "staff token expired; sign in again",
            Refusal::NotYetValid => "staff token refused: it is not valid yet",
            Refusal::WrongIssuer => "staff token refused: it was issued by someone else",
            Refusal::WrongAudience => "staff token refused: it is meant for another audience",
            Refusal::BadClaims => {
                "staff token refused: its claims do not describe a staff member (sub, role, community)"
            }
        }
    }

    fn from_library(error: &jsonwebtoken::errors::Error) -> Refusal {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => Refusal::BadSignature,
            ErrorKind::ExpiredSignature => Refusal::Expired,
            ErrorKind::ImmatureSignature => Refusal::NotYetValid,
            ErrorKind::InvalidIssuer => Refusal::WrongIssuer,
            ErrorKind::InvalidAudience => Refusal::WrongAudience,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidClaimFormat(_)
            | ErrorKind::InvalidSubject => Refusal::BadClaims,
            // Bad shape, base64, UTF-8 or JSON (an unknown `alg` among it);
            // key and provider errors cannot come from a caller's token.
            _ => Refusal::Malformed,
        }
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        Error::Unauthenticated {
            reason: refusal.reason(),
            message: refusal.message().into(),
        }
    }
}

/// Logs the detail behind a refusal and turns it into the caller's error.
fn refuse(refusal: Refusal, detail: &dyn std::fmt::Display) -> Error {
    tracing::info!(reason = refusal.reason().as_str_name(), %detail, "staff token refused");
    refusal.into()
}

/// Refuses a token outside its time window, by the service's clock.
fn in_time(exp: i64, nbf: Option<i64>, now: i64) -> Result<()> {
    if exp + LEEWAY <= now {
        return Err(refuse(
            Refusal::Expired,
            &format_args!("exp {exp} is before {now}"),
        ));
    }
    if let Some(nbf) = nbf.filter(|nbf| *nbf > now + LEEWAY) {
        return Err(refuse(
            Refusal::NotYetValid,
            &format_args!("nbf {nbf} is after {now}"),
        ));
    }
    Ok(())
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
        // Expiry and not-before are checked against the service's clock
        // (below), so that every time decision of the gateway follows one
        // clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            clock,
            validation,
            decoding,
            encoding,
            algorithm,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            verified: Arc::default(),
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

    /// The principal a token carries. A token already verified is looked
    /// up by its whole text, so only the very same bytes are spared the
    /// signature check (a public-key one in production); its expiry is
    /// checked every time.
    pub fn verify(&self, token: &str) -> Result<Principal> {
        let now = self.clock.now().timestamp();
        let remembered = self.remembered().get(token).cloned();
        if let Some(verified) = remembered {
            in_time(verified.exp, verified.nbf, now)?;
            return Ok(verified.principal);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| refuse(Refusal::from_library(&e), &e))?;
        let c = data.claims;
        in_time(c.exp, c.nbf, now)?;
        let principal = match c.role.as_str() {
            "street_admin" => Principal::StreetAdmin { subject: c.sub },
            "community_admin" => {
                let community = names::parse("communities", &c.community).ok_or_else(|| {
                    refuse(
                        Refusal::BadClaims,
                        &format_args!("community {:?} is not `communities/{{id}}`", c.community),
                    )
                })?;
                Principal::CommunityAdmin {
                    subject: c.sub,
                    community,
                }
            }
            other => {
                return Err(refuse(
                    Refusal::BadClaims,
                    &format_args!("unknown role {other:?}"),
                ));
            }
        };
        self.remember(
            token,
            Verified {
                principal: principal.clone(),
                exp: c.exp,
                nbf: c.nbf,
            },
            now,
        );
        Ok(principal)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Verified>> {
        // The map holds no invariant a panicking holder could break.
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers a verified token; when full, forgets the expired ones, and
    /// all of them if none has expired.
    fn remember(&self, token: &str, verified: Verified, now: i64) {
        let mut remembered = self.remembered();
        if remembered.len() >= MAX_REMEMBERED {
            remembered.retain(|_, v| v.exp + LEEWAY > now);
            if remembered.len() >= MAX_REMEMBERED {
                remembered.clear();
            }
        }
        remembered.insert(token.into(), verified);
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
            nbf: None,
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

    /// The refusal's reason, after checking that its message tells nothing
    /// of the library or of the algorithms accepted.
    fn refused(t: &StaffTokens, token: &str) -> &'static str {
        let err = t.verify(token).unwrap_err();
        let message = err.to_string();
        for leak in [
            "JSON",
            "Base64",
            "base64",
            "HS256",
            "variant",
            "Invalid",
            "jsonwebtoken",
        ] {
            assert!(!message.contains(leak), "{message:?} mentions {leak}");
        }
        err.reason()
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
        assert_eq!(refused(&t, &admin), "TOKEN_EXPIRED");
        // Another audience or issuer.
        let (other, _) = tokens(b"dev secret", "cogov", "someone-else");
        let foreign = other.issue("alice", "street_admin", "", 600).unwrap();
        let (t, _) = tokens(b"dev secret", "cogov", "cogov-gateway");
        assert_eq!(refused(&t, &foreign), "TOKEN_WRONG_AUDIENCE");
        let (other, _) = tokens(b"dev secret", "evil", "cogov-gateway");
        let foreign = other.issue("alice", "street_admin", "", 600).unwrap();
        assert_eq!(refused(&t, &foreign), "TOKEN_WRONG_ISSUER");
        // Another key.
        let (other, _) = tokens(b"other secret", "cogov", "cogov-gateway");
        let forged = other.issue("alice", "street_admin", "", 600).unwrap();
        assert_eq!(refused(&t, &forged), "TOKEN_SIGNATURE_INVALID");
        // Unknown role; a community admin without a community.
        assert_eq!(
            refused(&t, &t.issue("x", "superuser", "", 600).unwrap()),
            "TOKEN_CLAIMS_INVALID"
        );
        assert_eq!(
            refused(&t, &t.issue("x", "community_admin", "", 600).unwrap()),
            "TOKEN_CLAIMS_INVALID"
        );
    }

    #[test]
    fn a_verified_token_is_remembered_only_as_itself_and_only_while_it_lasts() {
        let (t, clock) = tokens(b"dev secret", "cogov", "cogov-gateway");
        let admin = t.issue("alice", "street_admin", "", 600).unwrap();
        let principal = t.verify(&admin).unwrap();
        assert!(t.remembered().contains_key(admin.as_str()));
        assert_eq!(t.verify(&admin).unwrap(), principal);

        // The same header and claims under another signature are not the
        // token that verified.
        let (signed_part, signature) = admin.rsplit_once('.').unwrap();
        let mut other = signature.chars();
        let first = other.next().unwrap();
        let forged = format!(
            "{signed_part}.{}{}",
            if first == 'A' { 'B' } else { 'A' },
            other.as_str()
        );
        assert_eq!(refused(&t, &forged), "TOKEN_SIGNATURE_INVALID");

        // Remembered, it still expires.
        clock.advance(chrono::Duration::seconds(600 + LEEWAY));
        assert_eq!(refused(&t, &admin), "TOKEN_EXPIRED");

        // However many staff members sign in, the memory stays bounded.
        for i in 0..MAX_REMEMBERED + 10 {
            let token = t
                .issue(&format!("staff {i}"), "street_admin", "", 600)
                .unwrap();
            t.verify(&token).unwrap();
        }
        let remembered = t.remembered();
        assert!(remembered.len() <= MAX_REMEMBERED, "{}", remembered.len());
        assert!(!remembered.contains_key(admin.as_str()));
    }

    fn signed(secret: &[u8], algorithm: Algorithm, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(algorithm),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn says_in_plain_words_what_was_wrong() {
        let (t, _) = tokens(b"dev secret", "cogov", "cogov-gateway");
        let claims = serde_json::json!({
            "sub": "m", "role": "street_admin", "iss": "cogov", "aud": "cogov-gateway",
            "exp": now() + 600, "iat": now(),
        });
        assert!(
            t.verify(&signed(b"dev secret", Algorithm::HS256, &claims))
                .is_ok()
        );
        for garbage in ["", "abc", "a.b.c", "eyJ.eyJ.x", "x".repeat(5000).as_str()] {
            assert_eq!(refused(&t, garbage), "TOKEN_MALFORMED", "{garbage:?}");
        }
        // The right secret but another algorithm than the pinned one.
        assert_eq!(
            refused(&t, &signed(b"dev secret", Algorithm::HS384, &claims)),
            "TOKEN_SIGNATURE_INVALID"
        );
        // Tampered claims under the original signature.
        let good = signed(b"dev secret", Algorithm::HS256, &claims);
        let parts: Vec<&str> = good.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut raised = claims.clone();
        raised["sub"] = "mallory".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(raised.to_string()),
            parts[2]
        );
        assert_eq!(refused(&t, &tampered), "TOKEN_SIGNATURE_INVALID");
        // Claims missing, or not yet valid.
        for missing in ["sub", "exp", "role"] {
            let mut without = claims.clone();
            without.as_object_mut().unwrap().remove(missing);
            assert_eq!(
                refused(&t, &signed(b"dev secret", Algorithm::HS256, &without)),
                "TOKEN_CLAIMS_INVALID",
                "without {missing}"
            );
        }
        let mut later = claims.clone();
        later["nbf"] = (now() + 3600).into();
        assert_eq!(
            refused(&t, &signed(b"dev secret", Algorithm::HS256, &later)),
            "TOKEN_NOT_YET_VALID"
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
            assert_eq!(refused(&t, &token), "TOKEN_MALFORMED", "{token}");
        }
    }
}
