//! The organizations service: the street's places (streets, communities,
//! courtyards, buildings), organisations, persons, memberships, agreements,
//! shared resources and talents, and the reach that agreements give
//! partners.
//!
//! Each resource has a module named after it holding its RPC handlers,
//! validation and storage; [`service`] maps the gRPC trait onto them, and
//! [`access`] says who may see and touch what.

pub mod access;
pub mod agreements;
pub mod buildings;
pub mod communities;
pub mod consumers;
pub mod courtyards;
pub mod entity;
pub mod events;
pub mod hierarchy;
pub mod memberships;
pub mod migration;
pub mod organizations;
pub mod persons;
pub mod places;
pub mod reach;
pub mod service;
pub mod shared_resources;
pub mod streets;
pub mod talents;
#[cfg(feature = "testing")]
pub mod testing;

use cogov_kit::Context;
use cogov_kit::auth::Authenticator;
use cogov_kit::server::RoleServer;
use cogov_proto::organizations::organizations_service_server::OrganizationsServiceServer;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub use migration::Migrator;

/// The role name, as in `cogov serve organizations`.
pub const ROLE: &str = "organizations";
/// The fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = "cogov.organizations.v1.OrganizationsService";
/// The default embedded database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/organizations.db?mode=rwc";

/// The service's state: what the kit gives every service.
#[derive(Debug, Clone)]
pub struct Organizations {
    /// Database, page tokens, clock.
    pub ctx: Context,
}

impl Organizations {
    /// The service over `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// The gRPC server of this role, authenticating with `auth`.
    pub fn server(self, auth: Authenticator) -> RoleServer {
        let svc = OrganizationsServiceServer::new(self).max_decoding_message_size(4 * 1024 * 1024);
        let svc = InterceptedService::new(svc, auth);
        RoleServer::new(ROLE, Routes::new(svc), vec![SERVICE_NAME])
    }
}

pub(crate) use cogov_kit::validate::{read_id, required};
