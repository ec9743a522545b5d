//! Update masks (AIP-134).

use std::collections::BTreeSet;

use prost_types::FieldMask;

use crate::error::{Error, Result};

/// The validated paths of an update mask.
#[derive(Debug, Clone)]
pub struct UpdateMask {
    paths: BTreeSet<String>,
}

impl UpdateMask {
    /// Validates `mask` against the resource's mutable fields. `*` means all
    /// of them. A missing or empty mask, an unknown path or an immutable
    /// path is refused, naming `update_mask`.
    pub fn new(mask: Option<&FieldMask>, mutable: &[&str]) -> Result<Self> {
        let Some(mask) = mask.filter(|m| !m.paths.is_empty()) else {
            return Err(Error::invalid(
                "update_mask",
                "is required: list the fields to update, or `*`",
            ));
        };
        let mut paths = BTreeSet::new();
        for path in &mask.paths {
            if path == "*" {
                if mask.paths.len() > 1 {
                    return Err(Error::invalid("update_mask", "`*` must be the only path"));
                }
                paths.extend(mutable.iter().map(|p| p.to_string()));
            } else if mutable.contains(&path.as_str()) {
                paths.insert(path.clone());
            } else {
                return Err(Error::invalid(
                    "update_mask",
                    format!(
                        "`{path}` is not a mutable field; mutable: {}",
                        mutable.join(", ")
                    ),
                ));
            }
        }
        Ok(Self { paths })
    }

    /// Whether `path` is to be updated.
    pub fn has(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> FieldMask {
        FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn validates_paths() {
        let mutable = ["display_name", "code"];
        let m = UpdateMask::new(Some(&mask(&["code"])), &mutable).unwrap();
        assert!(m.has("code") && !m.has("display_name"));
        let all = UpdateMask::new(Some(&mask(&["*"])), &mutable).unwrap();
        assert!(all.has("code") && all.has("display_name"));
        assert!(UpdateMask::new(Some(&mask(&["name"])), &mutable).is_err());
        assert!(UpdateMask::new(Some(&mask(&["*", "code"])), &mutable).is_err());
        assert!(UpdateMask::new(Some(&mask(&[])), &mutable).is_err());
        assert!(UpdateMask::new(None, &mutable).is_err());
    }
}
