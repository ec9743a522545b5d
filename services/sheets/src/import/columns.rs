//! Which column is which: headers in Chinese or English, matched loosely
//! (case, spaces, `_`, `*` and a bracketed note such as "手机（必填）" do not
//! count), and the cell values people type for yes/no, numbers and kinds.

use std::collections::HashMap;

/// A column an import reads.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its key, as the code and the English template name it.
    pub key: &'static str,
    /// The headers that mean it, the first Chinese one used in templates.
    pub names: &'static [&'static str],
    /// A row without it is refused.
    pub required: bool,
}

/// The columns a report adds, ignored when the report is imported again.
pub const REPORT_COLUMNS: [&str; 3] = ["错误行 row", "错误列 column", "错误原因 reason"];

/// A header with case, spacing, punctuation and bracketed notes taken off.
pub fn normalized(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in header.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            ' ' | '\u{3000}' | '_' | '-' | '*' | '＊' | ':' | '：' => {}
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The file's columns, matched to an import's.
#[derive(Debug)]
pub struct Layout {
    index: HashMap<&'static str, usize>,
    /// Headers that name nothing this import reads.
    pub ignored: Vec<String>,
    headers: Vec<String>,
}

impl Layout {
    /// Matches `headers` to `columns`; the required ones missing are the error.
    pub fn new(headers: &[String], columns: &[Column]) -> Result<Layout, Vec<&'static str>> {
        let report: Vec<String> = REPORT_COLUMNS.iter().map(|h| normalized(h)).collect();
        let mut index = HashMap::new();
        let mut ignored = Vec::new();
        for (i, header) in headers.iter().enumerate() {
            let n = normalized(header);
            let found = columns.iter().find(|c| {
                normalized(c.key) == n || c.names.iter().any(|name| normalized(name) == n)
            });
            match found {
                Some(c) if !index.contains_key(c.key) => {
                    index.insert(c.key, i);
                }
                _ if report.contains(&n) || n.is_empty() => {}
                _ => ignored.push(header.clone()),
            }
        }
        let missing: Vec<&'static str> = columns
            .iter()
            .filter(|c| c.required && !index.contains_key(c.key))
            .map(|c| c.names.first().copied().unwrap_or(c.key))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(Layout {
            index,
            ignored,
            headers: headers.to_vec(),
        })
    }

    /// The cell of column `key` in `cells`, empty when the file lacks it.
    pub fn get<'a>(&self, cells: &'a [String], key: &str) -> &'a str {
        self.index
            .get(key)
            .and_then(|i| cells.get(*i))
            .map_or("", String::as_str)
    }

    /// Whether the file has column `key` (an absent column changes nothing).
    pub fn has(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// The file's header for column `key` (or the key).
    pub fn header(&self, key: &str) -> String {
        self.index
            .get(key)
            .map_or_else(|| key.to_owned(), |i| self.headers[*i].clone())
    }

    /// The file's header at position `i`.
    pub fn header_at(&self, i: usize) -> String {
        self.headers.get(i).cloned().unwrap_or_default()
    }
}

/// Problems with a display name: required, at most 100 characters, and
/// not starting as a spreadsheet formula would (a name never does, and one
/// that did would run when a list of it is opened).
pub fn display_name(text: &str) -> Option<String> {
    if text.is_empty() || text.chars().count() > 100 {
        Some("a name of 1 to 100 characters is required".into())
    } else if text.starts_with(['=', '+', '-', '@']) {
        Some("a name cannot start with =, +, - or @ (a spreadsheet formula)".into())
    } else {
        None
    }
}

/// Yes or no as people type it; empty is no.
pub fn yes_no(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "" | "否" | "不是" | "无" | "no" | "n" | "false" | "0" | "×" | "x" => Ok(false),
        "是" | "有" | "yes" | "y" | "true" | "1" | "√" | "✓" | "✔" => Ok(true),
        other => Err(format!("“{other}” is neither yes (是) nor no (否)")),
    }
}

/// A whole number in `min..=max`; empty is 0.
pub fn whole(text: &str, min: i32, max: i32) -> Result<i32, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(0);
    }
    let n: i32 = t
        .strip_suffix(".0")
        .unwrap_or(t)
        .parse()
        .map_err(|_| format!("“{t}” is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("{n} is outside {min} to {max}"));
    }
    Ok(n)
}

/// One of several kinds, by any of its words; empty is `default`.
pub fn one_of<T: Copy>(
    text: &str,
    kinds: &[(T, &[&str])],
    default: Option<T>,
) -> Result<T, String> {
    let n = normalized(text);
    if n.is_empty() {
        return default.ok_or_else(|| "is required".to_owned());
    }
    kinds
        .iter()
        .find(|(_, words)| words.iter().any(|w| normalized(w) == n))
        .map(|(kind, _)| *kind)
        .ok_or_else(|| {
            let words: Vec<&str> = kinds
                .iter()
                .filter_map(|(_, w)| w.first().copied())
                .collect();
            format!("“{text}” is not one of {}", words.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            key: "display_name",
            names: &["姓名", "name"],
            required: true,
        },
        Column {
            key: "phone",
            names: &["手机", "手机号", "phone"],
            required: true,
        },
        Column {
            key: "party_member",
            names: &["党员", "party member"],
            required: false,
        },
    ];

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn headers_match_in_either_language_and_loosely() {
        let layout = Layout::new(
            &headers(&[
                "*姓名",
                "手机号（必填）",
                "Party_Member",
                "备注",
                "错误原因 reason",
            ]),
            COLUMNS,
        )
        .unwrap();
        let cells = headers(&["张三", "138", "是", "x", "y"]);
        assert_eq!(layout.get(&cells, "display_name"), "张三");
        assert_eq!(layout.get(&cells, "phone"), "138");
        assert_eq!(layout.get(&cells, "party_member"), "是");
        assert_eq!(layout.ignored, ["备注"]);
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let err = Layout::new(&headers(&["name", "党员"]), COLUMNS).unwrap_err();
        assert_eq!(err, ["手机"]);
    }

    #[test]
    fn values_as_people_type_them() {
        assert_eq!(yes_no("是"), Ok(true));
        assert_eq!(yes_no(" Y "), Ok(true));
        assert_eq!(yes_no(""), Ok(false));
        assert!(yes_no("maybe").is_err());
        assert_eq!(whole("12", 0, 100), Ok(12));
        assert_eq!(whole("12.0", 0, 100), Ok(12));
        assert!(whole("101", 0, 100).is_err());
        assert!(whole("x", 0, 100).is_err());
        let kinds: &[(u8, &[&str])] = &[(1, &["小区", "estate"]), (2, &["平房", "bungalow"])];
        assert_eq!(one_of("平房", kinds, None), Ok(2));
        assert_eq!(one_of("Estate", kinds, None), Ok(1));
        assert_eq!(one_of("", kinds, Some(1)), Ok(1));
        assert!(
            one_of("castle", kinds, None)
                .unwrap_err()
                .contains("小区, 平房")
        );
    }
}
