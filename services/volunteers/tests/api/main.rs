//! The volunteers service over real gRPC on 127.0.0.1, next to a real
//! organizations service, against SQLite always and PostgreSQL when
//! `COGOV_TEST_DATABASE_URL` is set.

#![allow(clippy::cloned_ref_to_slice_refs)]

mod support;

mod activities;
mod authz;
mod bad_input;
mod capacity_model;
mod hours;
mod matching;
mod signups;
mod teams;
mod timebank;
mod training;
