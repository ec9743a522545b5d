//! Request validation that collects every bad field before failing, so a
//! client learns all its mistakes from one call (a `BadRequest` with one
//! field violation per field).
//!
//! Each check returns the parsed value, or a harmless default when the
//! value is bad; callers use the values only after [`Check::finish`]
//! succeeds.

use uuid::Uuid;

use cogov_proto::common::GeoPoint;

use crate::error::{Error, Result, Violation};
use crate::names;

/// The id of a resource name given in a request's `field`.
pub fn read_id(field: &str, name: &str, collection: &str) -> Result<Uuid> {
    if name.is_empty() {
        return Err(Error::invalid(
            field,
            format!("is required: a `{collection}/{{id}}` name"),
        ));
    }
    names::parse(collection, name).ok_or_else(|| {
        Error::invalid(
            field,
            format!("must be a `{collection}/{{id}}` name with a UUID id"),
        )
    })
}

/// The (parent, child) ids of a nested name `{parent}/{id}/{collection}/{id}`
/// given in a request's `field`.
pub fn read_child_id(
    field: &str,
    name: &str,
    parent: &str,
    collection: &str,
) -> Result<(Uuid, Uuid)> {
    let shape = format!("`{parent}/{{id}}/{collection}/{{id}}`");
    if name.is_empty() {
        return Err(Error::invalid(
            field,
            format!("is required: a {shape} name"),
        ));
    }
    names::parse_child(parent, collection, name)
        .ok_or_else(|| Error::invalid(field, format!("must be a {shape} name with UUID ids")))
}

/// The message a request must carry, or INVALID_ARGUMENT naming `field`.
pub fn required<T>(field: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}

/// Collects field violations.
#[derive(Debug, Default)]
pub struct Check {
    violations: Vec<Violation>,
}

impl Check {
    /// A new, empty check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(Violation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Whether a violation was recorded for `field`.
    pub fn failed(&self, field: &str) -> bool {
        self.violations.iter().any(|v| v.field == field)
    }

    /// Fails with every recorded violation, if any.
    pub fn finish(self) -> Result<()> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidArgument(self.violations))
        }
    }

    /// A single-line text of `min..=max` characters (no control characters).
    pub fn line(&mut self, field: &str, value: &str, min: usize, max: usize) {
        self.text_inner(field, value, min, max, false);
    }

    /// A multi-line text of `min..=max` characters (newlines and tabs allowed).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        self.text_inner(field, value, min, max, true);
    }

    fn text_inner(&mut self, field: &str, value: &str, min: usize, max: usize, multiline: bool) {
        let len = value.chars().count();
        if len < min {
            if min == 1 {
                self.add(field, "is required");
            } else {
                self.add(field, format!("must be at least {min} characters"));
            }
        } else if len > max {
            self.add(
                field,
                format!("must be at most {max} characters (got {len})"),
            );
        } else if value
            .chars()
            .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
        {
            self.add(field, "must not contain control characters");
        } else if min > 0 && value.trim().is_empty() {
            self.add(field, "must not be blank");
        }
    }

    /// A required resource name in `collection`.
    pub fn name(&mut self, field: &str, value: &str, collection: &str) -> Uuid {
        if value.is_empty() {
            self.add(field, format!("is required: a `{collection}/{{id}}` name"));
            return Uuid::nil();
        }
        self.optional_name(field, value, collection)
            .unwrap_or_default()
    }

    /// An optional resource name in `collection`: `None` when empty.
    pub fn optional_name(&mut self, field: &str, value: &str, collection: &str) -> Option<Uuid> {
        if value.is_empty() {
            return None;
        }
        match names::parse(collection, value) {
            Some(id) => Some(id),
            None => {
                self.add(
                    field,
                    format!("must be a `{collection}/{{id}}` name with a UUID id"),
                );
                Some(Uuid::nil())
            }
        }
    }

    /// An enum value that must be known; `required` also refuses 0
    /// (`*_UNSPECIFIED`).
    pub fn enumeration<E>(&mut self, field: &str, value: i32, required: bool) -> E
    where
        E: TryFrom<i32> + Default,
    {
        if required && value == 0 {
            self.add(field, "is required");
            return E::default();
        }
        match E::try_from(value) {
            Ok(e) => e,
            Err(_) => {
                self.add(field, format!("unknown value {value}"));
                E::default()
            }
        }
    }

    /// An integer in `min..=max`.
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.add(
                field,
                format!("must be between {min} and {max} (got {value})"),
            );
        }
    }

    /// A point on the earth: finite, latitude in [-90, 90], longitude in
    /// [-180, 180].
    pub fn location(&mut self, field: &str, p: &GeoPoint) {
        if !p.latitude.is_finite() || !(-90.0..=90.0).contains(&p.latitude) {
            self.add(format!("{field}.latitude"), "must be between -90 and 90");
        }
        if !p.longitude.is_finite() || !(-180.0..=180.0).contains(&p.longitude) {
            self.add(format!("{field}.longitude"), "must be between -180 and 180");
        }
    }

    /// An AIP-155 request id: empty, or a UUID.
    pub fn request_id(&mut self, value: &str) {
        if !value.is_empty() && Uuid::try_parse(value).is_err() {
            self.add("request_id", "must be a UUID");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_violation() {
        let mut c = Check::new();
        c.line("a", "", 1, 10);
        c.line("b", &"x".repeat(11), 1, 10);
        c.line("c", "two\nlines", 1, 10);
        c.text("d", "two\nlines", 1, 10);
        c.line("e", "   ", 1, 10);
        let Err(Error::InvalidArgument(v)) = c.finish() else {
            panic!("expected violations")
        };
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c", "e"]);
    }

    #[test]
    fn counts_characters_not_bytes() {
        let mut c = Check::new();
        c.line("zh", &"街".repeat(100), 1, 100);
        assert!(c.finish().is_ok());
    }

    #[test]
    fn names_and_enums() {
        let mut c = Check::new();
        let id = names::new_id();
        assert_eq!(c.name("ok", &names::format("streets", id), "streets"), id);
        c.name("missing", "", "streets");
        c.name("wrong", &names::format("communities", id), "streets");
        assert_eq!(c.optional_name("none", "", "streets"), None);
        let _: i32 = c.enumeration::<i32>("unspecified", 0, true);
        assert!(c.failed("missing") && c.failed("wrong") && c.failed("unspecified"));
        assert!(!c.failed("ok") && !c.failed("none"));
    }
}
