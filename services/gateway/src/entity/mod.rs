//! The gateway's own tables: partners, their keys (hashed), staff
//! accounts, their console sessions, the audit log, residents' sign-in
//! codes (hashed), sessions and inboxes, the gateway's own keys, and
//! partners' webhook endpoints and their deliveries.

pub mod api_keys;
pub mod audit_records;
pub mod console_sessions;
pub mod erasure_requests;
pub mod gateway_secrets;
pub mod partners;
pub mod resident_notices;
pub mod resident_sessions;
pub mod sign_in_codes;
pub mod staff_accounts;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
