//! The deliberation service: 1+4+N councils and their seats, topics with
//! co-signatures and discussion, meetings with a composite quorum, polls
//! with Loomio's methods, and resolutions whose action items get carried
//! out (议事成果落地).
//!
//! A module per RPC group: [`councils`] (with the composition check and
//! statistics), [`seats`], [`topics`], [`opinions`], [`meetings`],
//! [`attendance`] (sign-in and quorum), [`polls`], [`ballots`] (votes,
//! offline tallies, results), [`resolutions`], [`action_items`]. The pure
//! rules: [`composition`], [`lifecycle`], [`methods`], [`tally`]. [`access`]
//! says who may see and do what.

pub mod access;
pub mod action_items;
pub mod attendance;
pub mod ballots;
pub mod composition;
pub mod consumers;
pub mod councils;
pub mod entity;
pub mod events;
pub mod lifecycle;
pub mod meetings;
pub mod methods;
pub mod migration;
pub mod opinions;
pub mod polls;
pub mod resolutions;
pub mod seats;
pub mod service;
pub mod tally;
pub mod topics;

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::directory::Directory;
use cogov_kit::server::RoleServer;
use cogov_proto::deliberation::deliberation_service_server::DeliberationServiceServer;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub use migration::Migrator;

/// The role name, as in `cogov serve deliberation`.
pub const ROLE: &str = "deliberation";
/// The fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = "cogov.deliberation.v1.DeliberationService";
/// The default embedded database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/deliberation.db?mode=rwc";

/// The service's state.
#[derive(Debug, Clone)]
pub struct Deliberation {
    /// Database, page tokens, clock.
    pub ctx: Context,
    /// The organizations service, for persons, places and reach.
    pub directory: Directory,
}

impl Deliberation {
    /// The service.
    pub fn new(ctx: Context, directory: Directory) -> Self {
        Self { ctx, directory }
    }

    /// The gRPC server of this role, authenticating with `auth`.
    pub fn server(self, auth: Authenticator) -> RoleServer {
        let svc = DeliberationServiceServer::new(self).max_decoding_message_size(4 * 1024 * 1024);
        let svc = InterceptedService::new(svc, auth);
        RoleServer::new(ROLE, Routes::new(svc), vec![SERVICE_NAME])
    }
}
