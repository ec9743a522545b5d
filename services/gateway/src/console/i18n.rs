//! The console's words in Chinese (the default) and English. Templates
//! hold no text of their own: every word comes from a catalog here, by key.
//! The language of a request is its `cogov_lang` cookie, set by the
//! switch in the page header; a middleware scopes it for the handlers.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

use http::HeaderMap;

use super::session;

/// The cookie that keeps the chosen language.
pub const COOKIE_NAME: &str = "cogov_lang";

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文, the default.
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag (also the cookie's value and the `lang` attribute).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language a tag names.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The request's language: its cookie, else Chinese.
    pub fn of(headers: &HeaderMap) -> Lang {
        session::cookie(headers, COOKIE_NAME)
            .and_then(Lang::from_tag)
            .unwrap_or(Lang::ZhCn)
    }

    /// Its catalog.
    pub fn catalog(self) -> &'static Catalog {
        &CATALOGS[self as usize]
    }
}

/// One language's messages.
#[derive(Debug)]
pub struct Catalog {
    lang: Lang,
    messages: HashMap<String, String>,
}

const SOURCES: [(Lang, &str); 2] = [
    (Lang::ZhCn, include_str!("messages/zh-CN.json")),
    (Lang::En, include_str!("messages/en.json")),
];

static CATALOGS: LazyLock<Vec<Catalog>> = LazyLock::new(|| load(&SOURCES));

/// Catalogs from flat JSON sources, one per language in [`Lang::ALL`]'s
/// order (the residents' app keeps its words apart from the console's).
pub fn load(sources: &[(Lang, &str)]) -> Vec<Catalog> {
    sources
        .iter()
        .map(|(lang, source)| Catalog {
            lang: *lang,
            messages: serde_json::from_str(source).expect("a catalog is flat JSON"),
        })
        .collect()
}

/// The language of the request being handled.
pub fn current_lang() -> Lang {
    CURRENT.try_with(|l| *l).unwrap_or(Lang::ZhCn)
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// Runs `f` with `lang` as the language of everything it renders.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// The language of the request being handled.
pub fn current() -> &'static Catalog {
    current_lang().catalog()
}

impl Catalog {
    /// Its language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message `key`; the key itself when missing (a test keeps every
    /// key used by the templates in both catalogs).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The message `key` with `{0}`, `{1}`, … replaced by `args`.
    pub fn fmt(&self, key: &str, args: &[&dyn Display]) -> String {
        let mut out = self.get(key).to_owned();
        for (i, arg) in args.iter().enumerate() {
            out = out.replace(&format!("{{{i}}}"), &arg.to_string());
        }
        out
    }

    /// The label of a protobuf enum value by its name (`ISSUE_STATE_CLOSED`),
    /// under `enum.`; the name when there is none.
    pub fn label(&self, enum_value_name: &str) -> String {
        self.messages
            .get(&format!("enum.{enum_value_name}"))
            .cloned()
            .unwrap_or_else(|| enum_value_name.to_owned())
    }

    /// Every key, for the tests.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// Every `get("…")` / `fmt("…")` key and every quoted `"area.key"`
    /// literal in the templates and code of `dirs` (under the crate).
    pub(crate) fn used_keys(dirs: &[&str]) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in dirs {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() && path.extension().is_some_and(|e| e != "json") {
                    files.push(path);
                }
            }
        }
        let mut keys = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for call in ["get(\"", "fmt(\"", "Failure::new(StatusCode::"] {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    let rest = rest.split_once('"').map_or(rest, |(_, r)| {
                        if call.starts_with("Failure") { r } else { rest }
                    });
                    let key: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                        .collect();
                    if key.contains('.') {
                        keys.insert(key);
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn both_catalogs_hold_the_same_keys() {
        let zh: BTreeSet<&str> = Lang::ZhCn.catalog().keys().collect();
        let en: BTreeSet<&str> = Lang::En.catalog().keys().collect();
        assert_eq!(
            zh.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&&str>::new()
        );
    }

    #[test]
    fn every_key_the_console_uses_is_translated() {
        let keys = used_keys(&["templates/console", "src/console", "src/console/pages"]);
        assert!(keys.len() > 100, "found only {} keys", keys.len());
        for lang in Lang::ALL {
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| !k.starts_with("x-") && !lang.catalog().messages.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{}: missing {missing:?}", lang.tag());
        }
    }

    #[test]
    fn every_state_the_console_shows_has_a_label() {
        use cogov_proto::deliberation::TopicState;
        use cogov_proto::gateway::{ApiKeyState, PartnerKind};
        use cogov_proto::issues::{IssueState, RejectReason, ReturnReason};
        let names: Vec<&str> = (1..=10)
            .filter_map(|v| IssueState::try_from(v).ok().map(|s| s.as_str_name()))
            .chain((1..=9).filter_map(|v| TopicState::try_from(v).ok().map(|s| s.as_str_name())))
            .chain((1..=6).filter_map(|v| RejectReason::try_from(v).ok().map(|s| s.as_str_name())))
            .chain((1..=4).filter_map(|v| ReturnReason::try_from(v).ok().map(|s| s.as_str_name())))
            .chain((1..=3).filter_map(|v| ApiKeyState::try_from(v).ok().map(|s| s.as_str_name())))
            .chain((1..=3).filter_map(|v| PartnerKind::try_from(v).ok().map(|s| s.as_str_name())))
            .collect();
        assert_eq!(names.len(), 35);
        for lang in Lang::ALL {
            for name in &names {
                assert_ne!(lang.catalog().label(name), *name, "{}: {name}", lang.tag());
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let t = Lang::En.catalog();
        assert_eq!(
            t.fmt("two_nos.caption", &[&56, &12]),
            "56 courtyards, 12 meeting two-nos"
        );
    }
}
