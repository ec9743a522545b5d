//! Small lists kept in one text column as JSON (tags, id lists, options):
//! they are read and written whole, never queried inside.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON text of a list; empty text for an empty list.
pub fn to_json<T: Serialize>(items: &[T]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        serde_json::to_string(items).expect("list serialises")
    }
}

/// The list in JSON text written by [`to_json`].
pub fn from_json<T: DeserializeOwned>(text: &str) -> Vec<T> {
    if text.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(text).unwrap_or_default()
    }
}
