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
    canonical(name.strip_prefix(collection)?.strip_prefix('/')?)
}

/// `councils/0190…/seats/0190…`: a resource under a parent (AIP-122).
pub fn format_child(parent: &str, parent_id: Uuid, collection: &str, id: Uuid) -> String {
    format!(
        "{parent}/{}/{collection}/{}",
        parent_id.as_hyphenated(),
        id.as_hyphenated()
    )
}

/// The (parent, child) ids in `{parent}/{uuid}/{collection}/{uuid}`, both
/// canonical as in [`parse`]; anything else is `None`. The one reader of
/// nested names, so a child id is held to the same form as a top-level one.
pub fn parse_child(parent: &str, collection: &str, name: &str) -> Option<(Uuid, Uuid)> {
    let rest = name.strip_prefix(parent)?.strip_prefix('/')?;
    let (parent_id, rest) = rest.split_at_checked(36)?;
    let id = rest
        .strip_prefix('/')?
        .strip_prefix(collection)?
        .strip_prefix('/')?;
    Some((canonical(parent_id)?, canonical(id)?))
}

/// A UUID written the one way names write it: 36 characters, hyphenated,
/// lower case.
fn canonical(id: &str) -> Option<Uuid> {
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

    #[test]
    fn nested_names_round_trip_and_hold_the_child_to_the_canonical_form() {
        let (p, c) = (new_id(), new_id());
        let name = format_child("councils", p, "seats", c);
        assert_eq!(parse_child("councils", "seats", &name), Some((p, c)));
        let refused = [
            format!("councils/{p}/seats/{}", c.to_string().to_uppercase()),
            format!("councils/{p}/seats/{}", c.simple()),
            format!("councils/{p}/seats/{{{c}}}"),
            format!("councils/{p}/seats/urn:uuid:{c}"),
            format!("councils/{}/seats/{c}", p.to_string().to_uppercase()),
            format!("councils/{p}/seats/{c}/x"),
            format!("councils/{p}/members/{c}"),
            format!("topics/{p}/seats/{c}"),
            format!("councils/{p}/seats/"),
            format!("councils/{p}"),
            format!("councils/{p}seats/{c}"),
            "councils/é/seats/x".to_owned(),
            String::new(),
        ];
        for name in refused {
            assert_eq!(parse_child("councils", "seats", &name), None, "{name}");
        }
    }
}
