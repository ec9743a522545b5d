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

/// What an update's setters read when the resource as sent is not enough:
/// it and the values checked from it (names resolved to ids, times parsed).
pub struct Input<R, C> {
    /// The resource as the caller sent it.
    pub sent: R,
    /// The values checked from it.
    pub checked: C,
}

/// A resource's mutable fields, each with how it is written: the one list
/// an update mask is checked against and applied from, so the two cannot
/// drift. `I` is what the setters read (the request's resource, or the
/// values checked from it), `A` what they write (an active model).
pub struct Fields<I: 'static, A: 'static> {
    entries: &'static [Field<I, A>],
}

/// A mask path and how it is written.
pub type Field<I, A> = (&'static str, fn(&mut A, &I));

impl<I, A> Fields<I, A> {
    /// The table: `(path, setter)` for every mutable field.
    pub const fn new(entries: &'static [Field<I, A>]) -> Self {
        Fields { entries }
    }

    /// The mutable paths, in the table's order.
    pub fn paths(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(path, _)| *path).collect()
    }

    /// Validates `mask` against the table (see [`UpdateMask::new`]).
    pub fn mask(&self, mask: Option<&FieldMask>) -> Result<UpdateMask> {
        UpdateMask::new(mask, &self.paths())
    }

    /// Writes every field `mask` names from `input` into `target`.
    pub fn apply(&self, mask: &UpdateMask, target: &mut A, input: &I) {
        for (path, set) in self.entries {
            if mask.has(path) {
                set(target, input);
            }
        }
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

    #[derive(Default, Debug, PartialEq)]
    struct Place {
        display_name: Option<String>,
        code: Option<String>,
    }

    const PLACE: Fields<(String, String), Place> = Fields::new(&[
        ("display_name", |p, i| p.display_name = Some(i.0.clone())),
        ("code", |p, i| p.code = Some(i.1.clone())),
    ]);

    #[test]
    fn a_table_checks_and_applies_the_same_paths() {
        assert_eq!(PLACE.paths(), ["display_name", "code"]);
        assert!(PLACE.mask(Some(&mask(&["name"]))).is_err());
        let input = ("Niujie".to_owned(), "NJ".to_owned());
        let only_code = PLACE.mask(Some(&mask(&["code"]))).unwrap();
        let mut place = Place::default();
        PLACE.apply(&only_code, &mut place, &input);
        assert_eq!(
            place,
            Place {
                display_name: None,
                code: Some("NJ".into())
            }
        );
        let all = PLACE.mask(Some(&mask(&["*"]))).unwrap();
        PLACE.apply(&all, &mut place, &input);
        assert_eq!(place.display_name.as_deref(), Some("Niujie"));
    }
}
