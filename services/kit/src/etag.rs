//! Etags (AIP-154) from a row's revision counter.

use crate::error::{Error, Result};

/// The etag of revision `revision`: a quoted string, opaque to clients.
pub fn format(revision: i64) -> String {
    format!("\"{revision}\"")
}

/// Fails with ABORTED when the caller sent an etag that is not the current
/// one. An empty etag means "whatever the current version is".
pub fn check(provided: &str, revision: i64, name: &str) -> Result<()> {
    if provided.is_empty() || provided == format(revision) {
        Ok(())
    } else {
        Err(Error::EtagMismatch {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_current_etag_or_none_passes() {
        assert!(super::check("", 3, "x").is_ok());
        assert!(super::check(&super::format(3), 3, "x").is_ok());
        assert!(super::check(&super::format(2), 3, "x").is_err());
        assert!(super::check("3", 3, "x").is_err());
    }
}
