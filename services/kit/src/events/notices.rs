//! Telling residents: a service appends a `cogov.common.v1.ResidentNotice`
//! in the transaction of the change, and the gateway turns it into a
//! notice in each person's inbox. The event concerns no place, so it never
//! reaches a partner's stream.

use chrono::{DateTime, Utc};
use cogov_proto::common::{NoticeKind, ResidentNotice};
use uuid::Uuid;

use super::outbox::{self, NewEvent};
use crate::{Result, names};

/// The longest `detail` a notice carries.
pub const DETAIL_CHARS: usize = 500;

/// What to tell (see `cogov.common.v1.ResidentNotice`).
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    /// What happened.
    pub kind: NoticeKind,
    /// What it is about, as a resource name.
    pub subject: &'a str,
    /// The subject's title.
    pub title: &'a str,
    /// The kind's detail (a state, an answer, a time), or empty.
    pub detail: &'a str,
}

/// Appends a notice for `persons` (nothing when there is nobody to tell).
pub async fn tell<C: crate::write::Defers>(
    conn: &C,
    source: &str,
    persons: impl IntoIterator<Item = Uuid>,
    notice: Notice<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let persons: Vec<String> = persons
        .into_iter()
        .map(|p| names::format("persons", p))
        .collect();
    if persons.is_empty() {
        return Ok(());
    }
    let payload = ResidentNotice {
        persons,
        kind: notice.kind as i32,
        subject: notice.subject.to_owned(),
        subject_title: notice.title.chars().take(200).collect(),
        detail: notice.detail.chars().take(DETAIL_CHARS).collect(),
    };
    outbox::append(
        conn,
        source,
        NewEvent::of(&payload, notice.subject.to_owned()),
        now,
    )
    .await?;
    Ok(())
}
