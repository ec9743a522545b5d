//! Media lists: validated on input, stored as JSON text.

use cogov_kit::validate::Check;
use cogov_proto::common::{Media, MediaRole};
use serde::{Deserialize, Serialize};

/// At most this many media per issue, resolution or entry.
pub const MAX_MEDIA: usize = 20;

#[derive(Serialize, Deserialize)]
struct Stored {
    uri: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    content_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    caption: String,
    #[serde(default)]
    role: i32,
}

/// Checks a media list in `field`.
pub fn check(c: &mut Check, field: &str, media: &[Media]) {
    if media.len() > MAX_MEDIA {
        c.add(field, format!("at most {MAX_MEDIA} items"));
        return;
    }
    for (i, m) in media.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let scheme_ok = ["https://", "http://", "s3://", "oss://"]
            .iter()
            .any(|s| m.uri.starts_with(s))
            || kept_by_gateway(&m.uri);
        if !scheme_ok || m.uri.len() > 2000 || m.uri.chars().any(char::is_whitespace) {
            c.add(
                format!("{f}.uri"),
                "must be an http(s), s3 or oss URL of at most 2000 characters, or a photo \
                 the gateway kept (cogov-media:{id}.jpg)",
            );
        }
        c.line(&format!("{f}.content_type"), &m.content_type, 0, 100);
        c.line(&format!("{f}.caption"), &m.caption, 0, 200);
        let _: MediaRole = c.enumeration(&format!("{f}.role"), m.role, false);
    }
}

/// Whether `uri` names a photo the gateway kept: `cogov-media:{uuid}.jpg`
/// or `.png` (POST /media answers them).
fn kept_by_gateway(uri: &str) -> bool {
    uri.strip_prefix("cogov-media:")
        .and_then(|file| file.split_once('.'))
        .is_some_and(|(id, ext)| matches!(ext, "jpg" | "png") && uuid::Uuid::try_parse(id).is_ok())
}

/// The JSON text of a media list.
pub fn to_json(media: &[Media]) -> String {
    if media.is_empty() {
        return String::new();
    }
    let stored: Vec<Stored> = media
        .iter()
        .map(|m| Stored {
            uri: m.uri.clone(),
            content_type: m.content_type.clone(),
            caption: m.caption.clone(),
            role: m.role,
        })
        .collect();
    serde_json::to_string(&stored).expect("media serialise")
}

/// The media list of JSON text written by [`to_json`].
pub fn from_json(text: &str) -> Vec<Media> {
    if text.is_empty() {
        return Vec::new();
    }
    let stored: Vec<Stored> = serde_json::from_str(text).unwrap_or_default();
    stored
        .into_iter()
        .map(|s| Media {
            uri: s.uri,
            content_type: s.content_type,
            caption: s.caption,
            role: s.role,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks() {
        let media = vec![Media {
            uri: "https://img.example/1.jpg".into(),
            content_type: "image/jpeg".into(),
            caption: "楼道".into(),
            role: MediaRole::Before as i32,
        }];
        assert_eq!(from_json(&to_json(&media)), media);
        assert_eq!(to_json(&[]), "");
        let mut c = Check::new();
        check(&mut c, "issue.media", &media);
        check(
            &mut c,
            "bad",
            &[Media {
                uri: "javascript:alert(1)".into(),
                ..Default::default()
            }],
        );
        assert!(c.failed("bad[0].uri") && !c.failed("issue.media[0].uri"));
        let kept = |uri: &str| {
            let mut c = Check::new();
            check(
                &mut c,
                "m",
                &[Media {
                    uri: uri.into(),
                    ..Default::default()
                }],
            );
            !c.failed("m[0].uri")
        };
        assert!(kept("cogov-media:01a23f6b-1116-7731-9448-eab52f848cbe.jpg"));
        assert!(!kept(
            "cogov-media:01a23f6b-1116-7731-9448-eab52f848cbe.svg"
        ));
        assert!(!kept("cogov-media:../../etc/passwd.jpg"));
    }
}
