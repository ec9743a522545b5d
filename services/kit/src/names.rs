//! Resource names (AIP-122): `{collection}/{uuid}`, UUIDv7 ids.

use uuid::Uuid;

/// A new resource id: UUIDv7, so ids sort by creation time.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// `courtyards/0190…`.
pub fn format(collection: &str, id: Uuid) -> String {
    format!("{collection}/{}", id.as_hyphenated())
}

/// The id in `name` if it is `{collection}/{uuid}` in canonical lower-case
/// hyphenated form; anything else is `None`.
pub fn parse(collection: &str, name: &str) -> Option<Uuid> {
    let id = name.strip_prefix(collection)?.strip_prefix('/')?;
    if id.len() != 36 || id.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Uuid::try_parse(id).ok()
}

/// The collection of a name: `courtyards` for `courtyards/…`.
pub fn collection(name: &str) -> Option<&str> {
    name.split_once('/').map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let id = new_id();
        assert_eq!(parse("streets", &format("streets", id)), Some(id));
    }

    #[test]
    fn refuses_other_shapes() {
        let id = new_id();
        assert_eq!(parse("streets", &format("communities", id)), None);
        assert_eq!(parse("streets", &format!("streets/{}", id.simple())), None);
        assert_eq!(
            parse(
                "streets",
                &format!("streets/{}", id.to_string().to_uppercase())
            ),
            None
        );
        assert_eq!(parse("streets", &format!("streets/{id}/x")), None);
        assert_eq!(parse("streets", "streets/"), None);
        assert_eq!(parse("streets", "streetsx/1"), None);
        assert_eq!(parse("streets", ""), None);
    }
}
