//! The volunteers service: volunteers and their skills, teams, training
//! and certifications, themed activities with sign-ups that never
//! overbook, attendance and service hours, the time bank, recognition and
//! matching.
//!
//! A module per RPC group: [`volunteers`], [`teams`], [`training`],
//! [`activities`], [`signups`], [`hours`] (service records and the hours
//! statistics), [`timebank`], [`recognition`], [`matching`],
//! [`reminders`] (the day before an activity); [`access`]
//! says who may see and do what.

pub mod access;
pub mod activities;
pub mod consumers;
pub mod entity;
pub mod hours;
pub mod lists;
pub mod matching;
pub mod migration;
pub mod recognition;
pub mod reminders;
pub mod service;
pub mod signups;
pub mod teams;
pub mod timebank;
pub mod training;
pub mod volunteers;

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::directory::Directory;
use cogov_kit::server::RoleServer;
use cogov_proto::volunteers::volunteers_service_server::VolunteersServiceServer;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub use migration::Migrator;

pub(crate) use cogov_kit::validate::{read_id, required};

/// The role name, as in `cogov serve volunteers`.
pub const ROLE: &str = "volunteers";
/// The fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = "cogov.volunteers.v1.VolunteersService";
/// The default embedded database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/volunteers.db?mode=rwc";

/// The service's state.
#[derive(Debug, Clone)]
pub struct Volunteers {
    /// Database, page tokens, clock.
    pub ctx: Context,
    /// The organizations service, for persons, places and reach.
    pub directory: Directory,
}

impl Volunteers {
    /// The service.
    pub fn new(ctx: Context, directory: Directory) -> Self {
        Self { ctx, directory }
    }

    /// The gRPC server of this role, authenticating with `auth`.
    pub fn server(self, auth: Authenticator) -> RoleServer {
        let svc = VolunteersServiceServer::new(self).max_decoding_message_size(4 * 1024 * 1024);
        let svc = InterceptedService::new(svc, auth);
        RoleServer::new(ROLE, Routes::new(svc), vec![SERVICE_NAME])
    }
}
