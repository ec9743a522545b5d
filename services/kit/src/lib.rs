//! What every cogov service shares: configuration, telemetry, the database,
//! the server bootstrap, errors and their mapping to gRPC statuses, the
//! caller's principal, paging, filtering, idempotency, etags and update
//! masks.

pub mod auth;
mod checkpoints;
pub mod clock;
pub mod config;
pub mod convert;
pub mod db;
pub mod directory;
pub mod error;
pub mod etag;
pub mod events;
pub mod fieldmask;
pub mod filter;
mod group_commit;
pub mod grpc_web;
pub mod hot_rows;
pub mod idempotency;
pub mod json;
pub mod lease;
pub mod listing;
pub mod metrics;
pub mod names;
pub mod paging;
pub mod phone;
pub mod privacy;
pub mod rpcs;
pub mod runtime;
pub mod schema;
pub mod scope;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod validate;
pub mod write;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, ErrorReason, Result};
pub use group_commit::GroupCommits;

/// What a service's handlers need from the kit.
#[derive(Debug, Clone)]
pub struct Context {
    /// The service's database.
    pub db: db::Db,
    /// Signs page tokens.
    pub tokens: paging::PageTokens,
    /// The time source.
    pub clock: clock::Clock,
}
