//! Residents at the gateway: sign-in by mobile number and one-time code,
//! registration of a number nobody has, sessions with rotating refresh
//! tokens, and the check of a resident's access token on every call.
//!
//! - [`codes`]: the one-time codes and their limits;
//! - [`sender`]: how a code reaches a phone (`log`, or a signed HTTP POST);
//! - [`tokens`]: access tokens, refresh tokens, registration tickets;
//! - [`sessions`]: opening, renewing and ending sessions;
//! - [`revocations`]: ended sessions, known to every replica within a
//!   second;
//! - [`inbox`]: the notices residents get from the services' events;
//! - [`privacy`]: a resident's export of their data, and erasure;
//! - [`assisted`]: staff acting for a resident at the service station;
//! - [`service`]: the RPCs of `cogov.gateway.v1.ResidentsService`.
//!
//! Another door (a WeChat mini-program's `code2Session` with its phone
//! check, an OIDC provider) is a module beside [`codes`] that proves a
//! number, then calls [`service::sign_in_with_phone`] as the phone door
//! does: who the number is, the session and the tokens are shared.

pub mod assisted;
pub mod codes;
pub mod inbox;
pub mod migration;
pub mod privacy;
pub mod privacy_notice;
pub mod revocations;
pub mod sender;
pub mod service;
pub mod sessions;
pub mod tokens;

use std::sync::Arc;

use cogov_kit::ErrorReason;
use cogov_kit::auth::Principal;
use cogov_kit::clock::Clock;
use cogov_kit::db::Db;
use cogov_kit::{Error, Result, names};
use tokio::sync::OnceCell;
use uuid::Uuid;

use revocations::Revocations;
use sender::CodeSender;
use tokens::Keys;

/// How residents sign in, as configured.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where codes go; sign-in by phone is off while it is `Disabled`.
    pub sender: CodeSender,
    /// The key of residents' tokens, when the operator sets one
    /// (`COGOV_RESIDENT_TOKEN_SECRET`); otherwise one made on first start
    /// and kept in the gateway's database.
    pub token_secret: Option<String>,
}

/// The residents' side of the gateway.
#[derive(Debug)]
pub struct Residents {
    config: Config,
    keys: OnceCell<Keys>,
    revocations: Arc<Revocations>,
    inbox: tokio::sync::watch::Sender<u64>,
}

/// A resident's verified access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedInResident {
    /// The person.
    pub person: Uuid,
    /// The session the token belongs to.
    pub session: Uuid,
}

impl Residents {
    /// Residents signing in as `config` says.
    pub fn new(config: Config) -> Residents {
        Residents {
            config,
            keys: OnceCell::new(),
            revocations: Arc::default(),
            inbox: tokio::sync::watch::channel(0).0,
        }
    }

    /// Wakes the inbox streams of this replica.
    pub fn inbox_grew(&self) {
        self.inbox.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Tells when an inbox may have grown.
    pub fn inbox_feed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inbox.subscribe()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The tokens' key (read or made on first use).
    pub async fn keys(&self, db: &Db) -> Result<&Keys> {
        self.keys
            .get_or_try_init(|| async {
                match &self.config.token_secret {
                    Some(secret) => Ok(Keys::from_secret(secret)),
                    None => Keys::load(db).await,
                }
            })
            .await
    }

    /// Ended sessions.
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.revocations
    }

    /// Starts what runs beside the calls: reading other replicas' ended
    /// sessions, and forgetting old codes.
    pub fn spawn_background(&self, db: Db, clock: Clock) {
        self.revocations.spawn_poller(db.clone(), clock.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = codes::prune(db.write(), clock.now()).await {
                    tracing::warn!(error = %e, "pruning sign-in codes");
                }
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        });
    }

    /// The resident an access token signs in, now.
    pub async fn verify(&self, db: &Db, clock: &Clock, token: &str) -> Result<SignedInResident> {
        let keys = self.keys(db).await?;
        let refused = |reason, message: &str| Error::Unauthenticated {
            reason,
            message: message.to_owned(),
        };
        let access = keys.read_access(token).ok_or_else(|| {
            refused(
                ErrorReason::AccessTokenInvalid,
                "the access token is not valid",
            )
        })?;
        if access.expire <= clock.now() {
            return Err(refused(
                ErrorReason::AccessTokenExpired,
                "the access token expired; renew it with the refresh token",
            ));
        }
        if self.revocations.ended(access.session) {
            return Err(refused(
                ErrorReason::SessionEnded,
                "the session has ended; sign in again",
            ));
        }
        Ok(SignedInResident {
            person: access.person,
            session: access.session,
        })
    }
}

impl SignedInResident {
    /// The principal the services see.
    pub fn principal(&self) -> Principal {
        Principal::resident(self.person)
    }
}

/// The resident's own person, named by `parent` (`persons/me` or their
/// name); anyone but a resident may not do `what`.
pub fn own_person(principal: &Principal, parent: &str, what: &str) -> Result<Uuid> {
    let Principal::Resident { person, .. } = principal else {
        return Err(Error::forbidden(what));
    };
    match names::parse("persons", parent) {
        _ if parent == "persons/me" => Ok(*person),
        Some(named) if named == *person => Ok(*person),
        Some(_) => Err(Error::out_of_reach(parent)),
        None => Err(Error::invalid(
            "parent",
            "expected `persons/me` or `persons/{id}`",
        )),
    }
}
