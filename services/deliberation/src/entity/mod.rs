//! The service's tables. Enum columns hold the protobuf enum numbers; small
//! lists (seat kinds, options, choices) are JSON text.

pub mod action_items;
pub mod attendances;
pub mod ballot_audit;
pub mod ballots;
pub mod councils;
pub mod meetings;
pub mod offline_tallies;
pub mod opinions;
pub mod poll_voters;
pub mod polls;
pub mod resolutions;
pub mod seats;
pub mod supports;
pub mod topics;
