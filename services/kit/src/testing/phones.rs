//! The street's messaging system, as tests and the benchmark run it: a
//! real HTTP server on loopback that receives the gateway's signed POSTs,
//! refuses any whose Standard Webhooks signature does not verify, and
//! hands the codes and notices to the caller by number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

/// The receiver's signing secret, as an operator would configure it.
pub const SECRET: &str = "whsec_dGVzdHMnIG1lc3NhZ2luZyBzeXN0ZW0gc2VjcmV0";

#[derive(Default)]
struct Inbox {
    codes: Mutex<HashMap<String, Vec<String>>>,
    notices: Mutex<HashMap<String, Vec<String>>>,
    refused: Mutex<usize>,
    arrived: Notify,
}

/// The receiver.
#[derive(Clone)]
pub struct Phones {
    pub url: String,
    inbox: Arc<Inbox>,
}

fn verifies(headers: &HeaderMap, body: &[u8]) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return false;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(SECRET.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|s| s == expected)
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    if !verifies(&headers, &body) {
        *inbox.refused.lock().unwrap() += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let message: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let phone = message["phone"].as_str().unwrap().to_owned();
    let text = message["text"].as_str().unwrap().to_owned();
    match message["type"].as_str() {
        Some("sign_in_code") => {
            let code = message["code"].as_str().unwrap().to_owned();
            assert!(text.contains(&code));
            inbox
                .codes
                .lock()
                .unwrap()
                .entry(phone)
                .or_default()
                .push(code);
        }
        Some("notice") => inbox
            .notices
            .lock()
            .unwrap()
            .entry(phone)
            .or_default()
            .push(text),
        other => panic!("unknown message type {other:?}"),
    }
    inbox.arrived.notify_waiters();
    StatusCode::NO_CONTENT
}

impl Phones {
    /// Starts the receiver.
    pub async fn start() -> Phones {
        let inbox = Arc::new(Inbox::default());
        let app = axum::Router::new()
            .route("/sms", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Phones { url, inbox }
    }

    /// How many codes `phone` has received.
    pub fn count(&self, phone: &str) -> usize {
        self.inbox
            .codes
            .lock()
            .unwrap()
            .get(phone)
            .map_or(0, Vec::len)
    }

    /// The `n`th code (from 1) `phone` receives, waiting for it.
    pub async fn code(&self, phone: &str, n: usize) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.inbox.arrived.notified();
            if let Some(code) = self
                .inbox
                .codes
                .lock()
                .unwrap()
                .get(phone)
                .and_then(|c| c.get(n - 1))
            {
                return code.clone();
            }
            assert!(
                tokio::time::timeout_at(deadline, arrived).await.is_ok(),
                "{phone} received no code {n}"
            );
        }
    }

    /// The notices `phone` received, as texts.
    pub fn notices(&self, phone: &str) -> Vec<String> {
        self.inbox
            .notices
            .lock()
            .unwrap()
            .get(phone)
            .cloned()
            .unwrap_or_default()
    }

    /// POSTs whose signature did not verify.
    pub fn refused(&self) -> usize {
        *self.inbox.refused.lock().unwrap()
    }
}
