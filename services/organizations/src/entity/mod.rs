//! The service's tables as sea-orm entities. Enum columns hold the
//! protobuf enum numbers, which the contracts keep stable.

pub mod agreement_places;
pub mod agreements;
pub mod memberships;
pub mod organizations;
pub mod persons;
pub mod places;
pub mod shared_resources;
pub mod talents;
