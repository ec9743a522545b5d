//! Page tokens (`cogov_kit::paging`): any text decodes or is refused
//! without a panic; a token this service issued decodes to its cursor; a
//! tampered or re-targeted token never decodes to another cursor.

#![no_main]

use chrono::{DateTime, Utc};
use cogov_kit::paging::{Cursor, MAX_TEXT_KEY, PageTokens, SortKey};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input {
    Text(String),
    Issued {
        key: Key,
        id: [u8; 16],
        fingerprint: Vec<u8>,
        other_fingerprint: Vec<u8>,
        edits: Vec<Edit>,
    },
}

#[derive(Arbitrary, Debug)]
enum Key {
    None,
    Text(String),
    Int(i64),
    Micros(i64),
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Replace(u16, u8),
    Remove(u16),
    Insert(u16, u8),
    Truncate(u16),
}

fn cursor(key: &Key, id: [u8; 16]) -> Option<Cursor> {
    let key = match key {
        Key::None => SortKey::None,
        // Lists sort by names and titles; keys beyond the documented
        // bound are not issued.
        Key::Text(s) if s.len() > MAX_TEXT_KEY => return None,
        Key::Text(s) => SortKey::Text(s.clone()),
        Key::Int(i) => SortKey::Int(*i),
        // Tokens keep microseconds.
        Key::Micros(m) => SortKey::Time(DateTime::<Utc>::from_timestamp_micros(*m)?),
    };
    Some(Cursor {
        key,
        id: uuid::Uuid::from_bytes(id),
    })
}

fuzz_target!(|input: Input| {
    let tokens = PageTokens::new(b"fuzzing secret");
    match input {
        Input::Text(text) => {
            let _ = tokens.decode(b"fingerprint", &text);
        }
        Input::Issued {
            key,
            id,
            fingerprint,
            other_fingerprint,
            edits,
        } => {
            let Some(cursor) = cursor(&key, id) else {
                return;
            };
            let token = tokens.encode(&fingerprint, &cursor);
            assert_eq!(
                tokens.decode(&fingerprint, &token).ok().flatten(),
                Some(cursor.clone())
            );
            if other_fingerprint != fingerprint {
                assert!(tokens.decode(&other_fingerprint, &token).is_err());
            }
            let mut bytes = token.clone().into_bytes();
            for edit in edits {
                let at = |i: u16| usize::from(i) % (bytes.len() + 1);
                match edit {
                    Edit::Replace(i, b) if !bytes.is_empty() => {
                        let i = usize::from(i) % bytes.len();
                        bytes[i] = b;
                    }
                    Edit::Remove(i) if !bytes.is_empty() => {
                        bytes.remove(usize::from(i) % bytes.len());
                    }
                    Edit::Insert(i, b) => bytes.insert(at(i), b),
                    Edit::Truncate(i) => bytes.truncate(at(i)),
                    _ => {}
                }
            }
            let Ok(edited) = String::from_utf8(bytes) else {
                return;
            };
            match tokens.decode(&fingerprint, &edited) {
                Ok(Some(decoded)) => {
                    assert_eq!(decoded, cursor, "{edited} decoded to another cursor")
                }
                Ok(None) => assert!(edited.is_empty()),
                Err(_) => {}
            }
        }
    }
});
