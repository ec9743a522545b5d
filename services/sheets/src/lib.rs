//! Spreadsheets in and out of cogov.
//!
//! - [`read`] turns an uploaded file (CSV in UTF-8 or GB18030, or XLSX) into
//!   a [`read::Sheet`] of text cells, within [`read::Limits`];
//! - [`import`] reads rosters (persons, courtyards, buildings, talents,
//!   shared resources) and creates or updates what they name through the
//!   gateway's public APIs, as the caller, keyed by natural keys so that
//!   importing the same file twice changes nothing; every refused row is
//!   reported with its row, column and reason;
//! - [`export`] pages through lists and statistics and writes them row by
//!   row to a [`write::Writer`] (CSV or XLSX), never holding a whole list;
//! - [`link`] is the one channel type both callers use: the CLI's gRPC
//!   connection and the console's in-process door.

pub mod export;
pub mod import;
pub mod link;
pub mod read;
pub mod write;

pub use link::Link;
