//! The gateway over real gRPC on 127.0.0.1, in front of the four real
//! services, with its own database on SQLite always and PostgreSQL when
//! `COGOV_TEST_DATABASE_URL` is set.

#![allow(clippy::cloned_ref_to_slice_refs)]

mod support;

mod app;
mod audit;
mod console;
mod events;
mod grpc_web;
mod keys;
mod matrix;
mod media;
mod names;
mod open311;
mod propagation;
mod rate_limits;
mod residents;
mod sheets;
mod staff_tokens;
mod tour;
mod webhooks;
