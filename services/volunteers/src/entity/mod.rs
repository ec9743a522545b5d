//! The service's tables. Enum columns hold the protobuf enum numbers;
//! small lists (skills, availability windows) are JSON text.

pub mod activities;
pub mod badges;
pub mod co_organizers;
pub mod commendations;
pub mod completions;
pub mod courses;
pub mod points_entries;
pub mod policy;
pub mod service_records;
pub mod signups;
pub mod team_members;
pub mod teams;
pub mod volunteers;
