//! Tables of any resource by its field names, through protobuf reflection,
//! so that a command names the columns people need and nothing else: enum
//! values short (`RESOLVED`), times on Beijing's clock, flags as `yes`, and
//! the resource names a row points to (courtyards, persons, councils…)
//! shown by their display names.

use std::sync::OnceLock;

use cogov_sheets::export::names::Names;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, ReflectMessage, Value};

use super::{Session, table, to_json};

/// The descriptors of every cogov message, decoded once.
fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(cogov_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled descriptor set decodes")
    })
}

/// `message` as a reflected message.
fn reflected<M: prost::Message + prost::Name>(message: &M) -> Result<DynamicMessage, String> {
    let full_name = M::full_name();
    let descriptor = pool()
        .get_message_by_name(&full_name)
        .ok_or_else(|| format!("no message {full_name}"))?;
    DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| e.to_string())
}

/// A column: its header and the field it shows.
pub type Column = (&'static str, &'static str);

/// Prints the `items` of a list response `response` as a table of
/// `columns`, or the response as JSON.
pub async fn print_list<M: prost::Message + prost::Name>(
    s: &Session,
    response: &M,
    items: &str,
    columns: &[Column],
) -> Result<(), String> {
    if s.json() {
        println!("{}", to_json(&M::full_name(), response)?);
        return Ok(());
    }
    let message = reflected(response)?;
    let list = message
        .get_field_by_name(items)
        .ok_or_else(|| format!("{} has no field {items}", M::full_name()))?;
    let mut names = Names::new(s.clients());
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let mut t = table(&headers);
    for item in list.as_list().unwrap_or_default() {
        let Some(item) = item.as_message() else {
            continue;
        };
        let mut row = Vec::with_capacity(columns.len());
        for (_, field) in columns {
            row.push(cell(item, field, &mut names).await);
        }
        t.add_row(row);
    }
    println!("{t}");
    Ok(())
}

/// Prints one resource: every field that is set, one a line, the names it
/// points to followed by their display names; or the resource as JSON.
pub async fn print_one<M: prost::Message + prost::Name>(
    s: &Session,
    resource: &M,
) -> Result<(), String> {
    if s.json() {
        println!("{}", to_json(&M::full_name(), resource)?);
        return Ok(());
    }
    let message = reflected(resource)?;
    let mut names = Names::new(s.clients());
    let mut t = table(&["FIELD", "VALUE"]);
    for (field, value) in message.fields() {
        let shown = text(&field.kind(), value);
        let shown = if field.name() != "name" && is_resource_name(&shown) {
            let display = names.of(&shown).await;
            if display == shown {
                shown
            } else {
                format!("{shown} ({display})")
            }
        } else {
            shown
        };
        if !shown.is_empty() {
            t.add_row(vec![field.name().to_owned(), shown]);
        }
    }
    println!("{t}");
    Ok(())
}

/// One field of `item` as a table shows it.
async fn cell(item: &DynamicMessage, field: &str, names: &mut Names) -> String {
    let Some(descriptor) = item.descriptor().get_field_by_name(field) else {
        return String::new();
    };
    let value = item.get_field(&descriptor);
    let shown = text(&descriptor.kind(), &value);
    if field != "name" && is_resource_name(&shown) {
        names.of(&shown).await
    } else {
        shown
    }
}

/// Whether `text` is one resource name (`courtyards/…`), not words.
fn is_resource_name(text: &str) -> bool {
    text.contains('/') && !text.contains(char::is_whitespace) && !text.contains("://")
}

/// A value in words.
fn text(kind: &Kind, value: &Value) -> String {
    match value {
        Value::Bool(b) => if *b { "yes" } else { "" }.to_owned(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => n.to_string(),
        Value::F64(n) => format!("{n:.3}"),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => format!("{} bytes", b.len()),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => e.get_value(*n).map_or(n.to_string(), |v| {
                // `ISSUE_STATE_RESOLVED` → `RESOLVED`: the enum's name is
                // its values' prefix (buf's style guide).
                let prefix = format!("{}_", screaming(e.name()));
                v.name()
                    .strip_prefix(&prefix)
                    .unwrap_or(v.name())
                    .to_owned()
            }),
            _ => n.to_string(),
        },
        Value::Message(m) => message_text(m),
        Value::List(items) => items
            .iter()
            .map(|v| text(kind, v))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Map(entries) => {
            let mut pairs: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}={}", map_key(k), text(&Kind::String, v)))
                .collect();
            pairs.sort();
            pairs.join(", ")
        }
    }
}

fn map_key(key: &prost_reflect::MapKey) -> String {
    match key {
        prost_reflect::MapKey::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Timestamps on Beijing's clock, dates as dates, anything else compact.
fn message_text(m: &DynamicMessage) -> String {
    let number = |field: &str| {
        m.get_field_by_name(field)
            .and_then(|v| v.as_i64().or_else(|| v.as_i32().map(i64::from)))
            .unwrap_or(0)
    };
    match m.descriptor().full_name() {
        "google.protobuf.Timestamp" => cogov_kit::convert::beijing_time(
            Some(&prost_types::Timestamp {
                seconds: number("seconds"),
                nanos: number("nanos") as i32,
            }),
            "%Y-%m-%d %H:%M",
        ),
        "cogov.common.v1.Date" => {
            format!(
                "{:04}-{:02}-{:02}",
                number("year"),
                number("month"),
                number("day")
            )
        }
        "google.protobuf.Duration" => format!("{} s", number("seconds")),
        _ => serde_json::to_string(m).unwrap_or_default(),
    }
}

/// `IssueState` → `ISSUE_STATE`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_times_and_flags_read_as_people_say_them() {
        let issue = cogov_proto::issues::Issue {
            state: cogov_proto::issues::IssueState::Resolved as i32,
            create_time: Some(prost_types::Timestamp {
                seconds: 1_764_806_400, // 2025-12-04 00:00 UTC
                nanos: 0,
            }),
            ..Default::default()
        };
        let m = reflected(&issue).unwrap();
        let shown = |field: &str| {
            let d = m.descriptor().get_field_by_name(field).unwrap();
            text(&d.kind(), &m.get_field(&d))
        };
        assert_eq!(shown("state"), "RESOLVED");
        assert_eq!(shown("create_time"), "2025-12-04 08:00");
        assert_eq!(shown("followed"), "");
        assert_eq!(screaming("ApiKeyState"), "API_KEY_STATE");
        assert!(is_resource_name("courtyards/0194"));
        assert!(!is_resource_name("1/2 done"));
        assert!(!is_resource_name("https://x.example/y"));
    }
}
