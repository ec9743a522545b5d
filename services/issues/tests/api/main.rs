//! The issues service over real gRPC on 127.0.0.1, next to a real
//! organizations service, against SQLite always and PostgreSQL when
//! `COGOV_TEST_DATABASE_URL` is set. A module per area of the API.

#![allow(clippy::cloned_ref_to_slice_refs)]

mod support;

mod authz;
mod bad_input;
mod clusters;
mod follows;
mod idempotency;
mod joint_dispatch;
mod lifecycle;
mod lifecycle_model;
mod masking;
mod similar;
mod sla;
mod statistics;
mod taxonomy;
mod two_nos;
