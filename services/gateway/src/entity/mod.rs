//! The gateway's own tables: partners, their keys (hashed), staff
//! accounts, their console sessions and the audit log.

pub mod api_keys;
pub mod audit_records;
pub mod console_sessions;
pub mod partners;
pub mod staff_accounts;
