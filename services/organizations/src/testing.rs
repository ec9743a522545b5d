//! For the tests of the services that call this one: the organizations
//! service on a loopback port, and a directory onto it.

use std::time::Duration;

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::clock::Clock;
use cogov_kit::db::{self, DbConfig};
use cogov_kit::directory::Directory;
use cogov_kit::events::{Bus, relay};
use cogov_kit::paging::PageTokens;
use cogov_kit::testing::{TestDb, TestServer};

use crate::{Migrator, Organizations};

/// The organizations service over `db`, and a directory onto it for the
/// service `role`, without reach caching (every call sees agreements as
/// they are).
pub async fn start(
    db: &TestDb,
    auth: &Authenticator,
    clock: &Clock,
    tokens: &PageTokens,
    role: &str,
) -> (TestServer, Directory) {
    start_inner(db, auth, clock, tokens, role, None).await
}

/// [`start`], with its event consumer and outbox relay on `bus`.
pub async fn start_on(
    db: &TestDb,
    auth: &Authenticator,
    clock: &Clock,
    tokens: &PageTokens,
    role: &str,
    bus: &Bus,
) -> (TestServer, Directory) {
    start_inner(db, auth, clock, tokens, role, Some(bus)).await
}

async fn start_inner(
    db: &TestDb,
    auth: &Authenticator,
    clock: &Clock,
    tokens: &PageTokens,
    role: &str,
    bus: Option<&Bus>,
) -> (TestServer, Directory) {
    let ctx = Context {
        db: db::connect::<Migrator>(&DbConfig::new(&db.url))
            .await
            .expect("organizations database"),
        tokens: tokens.clone(),
        clock: clock.clone(),
    };
    let svc = Organizations::new(ctx);
    if let Some(bus) = bus {
        crate::consumers::start(&svc, bus)
            .await
            .expect("organizations consumer");
        relay::spawn(svc.ctx.db.clone(), bus.clone(), clock.clone());
    }
    let server = TestServer::start(svc.server(auth.clone())).await;
    let directory = Directory::from_channel(
        server.channel.clone(),
        auth.clone(),
        role,
        clock.clone(),
        Duration::ZERO,
    );
    (server, directory)
}
