//! Signing as the Standard Webhooks specification says, for everything the
//! gateway posts to other systems (partners' webhook endpoints, the
//! street's SMS gateway): `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{webhook-id}.{webhook-timestamp}.{body}">`, keyed by the bytes of a
//! `whsec_<base64>` secret, so a receiver can verify with any of that
//! scheme's libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The prefix of a secret's text.
const PREFIX: &str = "whsec_";
/// The shortest key accepted, in bytes.
const MIN_KEY: usize = 16;

/// A signing key.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// The key of `secret`: `whsec_<base64>`, or any other text used as
    /// the key as it is.
    pub fn from_secret(secret: &str) -> Result<SigningKey, String> {
        let key = match secret.strip_prefix(PREFIX) {
            Some(b64) => B64
                .decode(b64)
                .map_err(|_| "a whsec_ secret must be base64 after its prefix")?,
            None => secret.as_bytes().to_vec(),
        };
        if key.len() < MIN_KEY {
            return Err(format!("a signing secret must be at least {MIN_KEY} bytes"));
        }
        Ok(SigningKey(key))
    }

    /// A new random key of 32 bytes and its `whsec_` text.
    pub fn generate() -> (SigningKey, String) {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        let text = format!("{PREFIX}{}", B64.encode(key));
        (SigningKey(key.to_vec()), text)
    }

    /// The signature (`v1,<base64>`) of `body` sent as `id` at `timestamp`
    /// (Unix seconds).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header of `body` signed by each of `keys`
/// (during a rotation's overlap, the new key's and the old one's,
/// space-separated as the specification allows).
pub fn signature_header(keys: &[&SigningKey], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| k.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_specification_s_reference_implementations_do() {
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(SigningKey::from_secret("short").is_err());
        assert!(SigningKey::from_secret("whsec_not base64!").is_err());
    }

    #[test]
    fn a_generated_secret_reads_back_as_its_key_and_two_keys_sign_side_by_side() {
        let (key, text) = SigningKey::generate();
        assert!(text.starts_with("whsec_"));
        let again = SigningKey::from_secret(&text).unwrap();
        assert_eq!(key.sign("msg_1", 1, b"{}"), again.sign("msg_1", 1, b"{}"));
        let (other, _) = SigningKey::generate();
        let header = signature_header(&[&key, &other], "msg_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [key.sign("msg_1", 1, b"{}"), other.sign("msg_1", 1, b"{}")]
        );
        assert_ne!(parts[0], parts[1]);
    }
}
