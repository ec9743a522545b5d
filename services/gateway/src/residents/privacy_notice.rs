//! The privacy notice residents consent to when they register. Changing
//! the text means a new version: the registration records which one a
//! resident consented to.

use cogov_proto::gateway::PrivacyNotice;

/// The current version.
pub const VERSION: &str = "2026-12-01";

/// The notice in `language` (`en`, or Chinese for anything else).
pub fn notice(language: &str) -> PrivacyNotice {
    let (language, text) = if language.eq_ignore_ascii_case("en") {
        ("en", include_str!("privacy_notice/en.md"))
    } else {
        ("zh-CN", include_str!("privacy_notice/zh-CN.md"))
    };
    PrivacyNotice {
        version: VERSION.into(),
        language: language.into(),
        text: text.into(),
    }
}
