//! The issues service: problems reported in courtyards, dispatched to the
//! organisations that fix them, resolved, confirmed and measured.
//!
//! Each RPC group has a module named after what it serves: [`taxonomy`]
//! (categories and sub-items), [`issues`] (report, read, edit, similar),
//! [`transitions`] (the lifecycle, with [`lifecycle`] as the pure state
//! machine), [`timeline`], [`clusters`], [`inspections`], [`two_nos`] and
//! [`statistics`]. [`access`] says who may see and do what.

pub mod access;
pub mod clusters;
pub mod consumers;
pub mod entity;
pub mod events;
pub mod follows;
pub mod inspections;
pub mod issues;
pub mod lifecycle;
pub mod media;
pub mod migration;
pub mod service;
pub mod statistics;
pub mod taxonomy;
pub mod taxonomy_cache;
pub mod taxonomy_seed;
pub mod timeline;
pub mod transitions;
pub mod turns;
pub mod two_nos;

use cogov_kit::auth::Authenticator;
use cogov_kit::directory::Directory;
use cogov_kit::server::RoleServer;
use cogov_kit::{Context, Error, Result};
use cogov_proto::issues::ScoreWeights;
use cogov_proto::issues::issues_service_server::IssuesServiceServer;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub use migration::Migrator;
use taxonomy_cache::SubItemCache;

/// The role name, as in `cogov serve issues`.
pub const ROLE: &str = "issues";
/// The fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = "cogov.issues.v1.IssuesService";
/// The default embedded database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/issues.db?mode=rwc";

/// Rules an operator may tune.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A resolved issue nobody confirms closes by itself after this many days.
    pub auto_close_days: i64,
    /// This many reports of one sub-item in one courtyard ...
    pub cluster_threshold: u64,
    /// ... within this many days make a recurring cluster.
    pub cluster_window_days: i64,
    /// Default weights of the composite score.
    pub weights: ScoreWeights,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            auto_close_days: 7,
            cluster_threshold: 3,
            cluster_window_days: 30,
            weights: ScoreWeights {
                response: 0.3,
                resolution: 0.3,
                satisfaction: 0.2,
                returns: 0.1,
                reopens: 0.1,
            },
        }
    }
}

/// The service's state.
#[derive(Debug, Clone)]
pub struct Issues {
    /// Database, page tokens, clock.
    pub ctx: Context,
    /// The organizations service, for places, persons and reach.
    pub directory: Directory,
    /// Tunable rules.
    pub settings: Settings,
    /// The sub-items the write paths look up.
    pub sub_items: SubItemCache,
}

impl Issues {
    /// The service.
    pub fn new(ctx: Context, directory: Directory, settings: Settings) -> Self {
        Self {
            ctx,
            directory,
            settings,
            sub_items: SubItemCache::default(),
        }
    }

    /// The gRPC server of this role, authenticating with `auth`.
    pub fn server(self, auth: Authenticator) -> RoleServer {
        let svc = IssuesServiceServer::new(self).max_decoding_message_size(4 * 1024 * 1024);
        let svc = InterceptedService::new(svc, auth);
        RoleServer::new(ROLE, Routes::new(svc), vec![SERVICE_NAME])
    }
}

pub(crate) use cogov_kit::validate::{read_id, required};

/// The code of a taxonomy name such as `subItems/chaotic_parking`.
pub(crate) fn read_code(field: &str, name: &str, collection: &str) -> Result<String> {
    name.strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
        .filter(|code| valid_code(code))
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid(field, format!("must be a `{collection}/{{code}}` name")))
}

/// 2 to 40 characters of a-z, 0-9 and `_`, starting with a letter.
pub(crate) fn valid_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
