//! The deliberation service over real gRPC on 127.0.0.1, next to a real
//! organizations service, against SQLite always and PostgreSQL when
//! `COGOV_TEST_DATABASE_URL` is set.

#![allow(clippy::cloned_ref_to_slice_refs)]

mod support;

mod anonymity;
mod authz;
mod bad_input;
mod councils;
mod meetings;
mod polls;
mod resolutions;
mod topics;
