//! How a sign-in code (and, when a resident asks for it, a notice) reaches
//! a phone. No SMS vendor's SDK: the street's SMS gateway or messaging
//! system receives a signed JSON POST, signed as Standard Webhooks signs
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
//! HMAC-SHA256 of id.timestamp.body>`), so its receiver can use any of that
//! scheme's libraries. In development the code goes to the log.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::standard_webhooks::SigningKey;

/// Attempts per message before it is given up (the resident can ask again).
const ATTEMPTS: u32 = 3;
/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where codes go, as configured (`COGOV_SIGN_IN_SENDER`).
#[derive(Debug, Clone, Default)]
pub enum CodeSender {
    /// Sign-in by phone is off: nothing can deliver a code.
    #[default]
    Disabled,
    /// Development: the code is written to the log.
    Log,
    /// A signed JSON POST to the street's messaging system.
    Http(HttpSender),
}

/// What is sent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// A one-time sign-in code.
    SignInCode {
        /// E.164.
        phone: String,
        /// The digits.
        code: String,
        /// When it stops working.
        expire_time: DateTime<Utc>,
        /// The text to send, in Chinese.
        text: String,
    },
    /// A notice of the resident's inbox, or a digest of them, sent on.
    Notice {
        /// E.164.
        phone: String,
        /// The text to send.
        text: String,
    },
}

impl Message {
    /// A notice's message.
    pub fn notice(phone: &str, text: &str) -> Message {
        Message::Notice {
            phone: phone.to_owned(),
            text: text.to_owned(),
        }
    }

    /// A code's message.
    pub fn code(phone: &str, code: &str, expire_time: DateTime<Utc>) -> Message {
        Message::SignInCode {
            phone: phone.to_owned(),
            code: code.to_owned(),
            expire_time,
            text: format!("【牛街共治】您的登录验证码是 {code}，5 分钟内有效。请勿告诉他人。"),
        }
    }
}

impl CodeSender {
    /// Whether codes can be delivered at all.
    pub fn enabled(&self) -> bool {
        !matches!(self, CodeSender::Disabled)
    }

    /// Delivers `message` in the background: the caller's answer never
    /// waits for the messaging system, and says nothing of how it went.
    pub fn send(&self, message: Message) {
        match self {
            CodeSender::Disabled => {}
            CodeSender::Log => match &message {
                Message::SignInCode { phone, code, .. } => tracing::info!(
                    phone = %cogov_kit::privacy::mask_phone(phone),
                    code = %code,
                    "sign-in code (COGOV_SIGN_IN_SENDER=log: development only)"
                ),
                Message::Notice { phone, text } => tracing::info!(
                    phone = %cogov_kit::privacy::mask_phone(phone),
                    %text,
                    "notice sent on"
                ),
            },
            CodeSender::Http(http) => {
                let http = http.clone();
                tokio::spawn(async move { http.deliver(&message).await });
            }
        }
    }
}

/// Posts messages to one URL, signed with one secret.
#[derive(Clone)]
pub struct HttpSender {
    url: String,
    key: SigningKey,
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSender")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpSender {
    /// A sender to `url` with `secret`: Standard Webhooks' `whsec_<base64>`,
    /// or any other text used as the key as it is.
    pub fn new(url: &str, secret: &str) -> Result<HttpSender, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("sign-in sender URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("the sign-in sender URL must be http:// or https://".into());
        }
        let key =
            SigningKey::from_secret(secret).map_err(|e| format!("the sign-in sender's {e}"))?;
        crate::outbound_tls();
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("sign-in sender: {e}"))?;
        Ok(HttpSender {
            url: url.to_owned(),
            key,
            client,
        })
    }

    /// Posts `message`, retrying timeouts, connection errors, 429 and 5xx
    /// with a growing pause; the same `webhook-id` on every attempt, so
    /// the receiver can drop a repeat.
    pub async fn deliver(&self, message: &Message) -> bool {
        let body = serde_json::to_vec(message).expect("messages serialize");
        let id = format!("msg_{}", Uuid::now_v7().simple());
        let mut pause = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let timestamp = Utc::now().timestamp();
            let sent = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", self.key.sign(&id, timestamp, &body))
                .body(body.clone())
                .send()
                .await;
            let retry = match &sent {
                Ok(r) if r.status().is_success() => return true,
                Ok(r) => r.status().as_u16() == 429 || r.status().is_server_error(),
                Err(_) => true,
            };
            let outcome = match &sent {
                Ok(r) => r.status().to_string(),
                Err(e) => e.to_string(),
            };
            tracing::warn!(attempt, %outcome, url = %self.url, "sign-in sender refused");
            if !retry || attempt == ATTEMPTS {
                break;
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_post_or_sign_with() {
        assert!(HttpSender::new("https://example.com/sms", "0123456789abcdef").is_ok());
        assert!(HttpSender::new("ftp://x", "0123456789abcdef").is_err());
        assert!(HttpSender::new("https://x", "short").is_err());
    }
}
