//! The app's words in Chinese (the default) and English, apart from the
//! console's: residents and staff speak of the same things differently.
//! The language is the request's, as the console's ([`i18n::scope`]).

use std::sync::LazyLock;

use crate::console::i18n::{self, Catalog, Lang};

const SOURCES: [(Lang, &str); 2] = [
    (Lang::ZhCn, include_str!("messages/zh-CN.json")),
    (Lang::En, include_str!("messages/en.json")),
];

static CATALOGS: LazyLock<Vec<Catalog>> = LazyLock::new(|| i18n::load(&SOURCES));

/// The app's words in `lang`.
pub fn catalog(lang: Lang) -> &'static Catalog {
    &CATALOGS[lang as usize]
}

/// The app's words in the language of the request being handled.
pub fn current() -> &'static Catalog {
    catalog(i18n::current_lang())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::console::i18n::tests::used_keys;

    #[test]
    fn both_catalogs_hold_the_same_keys() {
        let zh: BTreeSet<&str> = catalog(Lang::ZhCn).keys().collect();
        let en: BTreeSet<&str> = catalog(Lang::En).keys().collect();
        assert_eq!(
            zh.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&&str>::new()
        );
    }

    #[test]
    fn every_key_the_app_uses_is_translated() {
        let keys = used_keys(&["templates/app", "src/app", "src/app/pages"]);
        assert!(keys.len() > 60, "found only {} keys", keys.len());
        for lang in Lang::ALL {
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| !k.starts_with("x-") && catalog(lang).get(k) == k.as_str())
                .collect();
            assert!(missing.is_empty(), "{}: missing {missing:?}", lang.tag());
        }
    }

    #[test]
    fn every_state_a_resident_sees_has_a_label() {
        use cogov_proto::issues::IssueState;
        for lang in Lang::ALL {
            for v in 1..=10 {
                let name = IssueState::try_from(v).unwrap().as_str_name();
                assert_ne!(catalog(lang).label(name), name, "{}: {name}", lang.tag());
            }
        }
    }
}
