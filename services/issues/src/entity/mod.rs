//! The service's tables. Enum columns hold the protobuf enum numbers;
//! media lists are JSON text (never queried, always read whole).

pub mod categories;
pub mod clusters;
pub mod day_counts;
pub mod followers;
pub mod inspections;
pub mod issues;
pub mod parties;
pub mod sub_items;
pub mod two_nos;
pub mod updates;
