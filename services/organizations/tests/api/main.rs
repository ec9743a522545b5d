//! The organizations service over real gRPC on 127.0.0.1, against SQLite
//! always and PostgreSQL when `COGOV_TEST_DATABASE_URL` is set. One test
//! binary; a module per resource, named after it.

// Comparing with `[x.clone()]` reads better in assertions than slice::from_ref.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod support;

mod agreements;
mod authz;
mod bad_input;
mod buildings;
mod communities;
mod courtyards;
mod hierarchy;
mod idempotency;
mod memberships;
mod organizations;
mod paging;
mod persons;
mod reach;
mod server;
mod shared_resources;
mod streets;
mod talents;
