//! The audit log: a record of every mutating call (who, what, target,
//! result, request id, peer, when, how long), written by one background
//! writer in batches so that calls never wait for it, and ListAuditRecords.
//!
//! The target and request id are read from the request message without
//! decoding it into its type: the first resource name (`kind/id…`) among
//! its top-level fields (or one level down, for creates) and a top-level
//! UUID string (AIP-155's request_id) unless `x-request-id` is set.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::db::Db;
use cogov_kit::filter::{Field, Kind};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::{Result, convert, names};
use cogov_proto::gateway::*;
use prost::Message;
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::Gateway;
use crate::entity::audit_records::{self as rows, Column, Entity, Model};

/// One call to record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Who; `None` for a caller without credentials (a failed sign-in).
    pub principal: Option<Principal>,
    /// The partner record, for partners.
    pub partner: Option<Uuid>,
    /// `/package.Service/Method`.
    pub method: String,
    /// The resource acted on, when the request names one.
    pub target: String,
    /// The gRPC status code.
    pub code: i32,
    /// The caller's request id.
    pub request_id: String,
    /// The caller's address.
    pub peer: String,
    /// When the call arrived.
    pub time: DateTime<Utc>,
    /// How long it took.
    pub duration: Duration,
}

/// Where calls drop their records.
#[derive(Debug, Clone)]
pub struct Sink(mpsc::Sender<Entry>);

impl Sink {
    /// Starts the writer on `db`.
    pub fn start(db: Db) -> Sink {
        let (tx, rx) = mpsc::channel(10_000);
        tokio::spawn(write(db, rx));
        Sink(tx)
    }

    /// Queues a record. A full queue (the database stalled for 10,000
    /// records) blocks the calls that write; nothing is dropped.
    pub async fn record(&self, entry: Entry) {
        if self.0.send(entry).await.is_err() {
            tracing::error!("audit writer stopped; record lost");
        }
    }

    /// Queues a record from where nothing can wait (a response body's
    /// end): at once while the queue has room, otherwise from a task that
    /// waits for it, so that nothing is dropped.
    pub fn queue(&self, entry: Entry) {
        match self.0.try_send(entry) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(entry)) => {
                let sink = self.clone();
                tokio::spawn(async move { sink.record(entry).await });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("audit writer stopped; record lost");
            }
        }
    }
}

/// The stored record of `e`.
pub(crate) fn row(e: Entry) -> rows::ActiveModel {
    rows::ActiveModel {
        id: Set(names::new_id()),
        subject: Set(e
            .principal
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), Principal::describe)),
        principal: Set(e
            .principal
            .as_ref()
            .map(|p| p.to_proto().encode_to_vec())
            .unwrap_or_default()),
        partner_id: Set(e.partner),
        method: Set(e.method),
        target: Set(e.target),
        code: Set(e.code),
        request_id: Set(e.request_id),
        peer: Set(e.peer),
        time: Set(e.time),
        duration_micros: Set(i64::try_from(e.duration.as_micros()).unwrap_or(i64::MAX)),
    }
}

async fn write(db: Db, mut rx: mpsc::Receiver<Entry>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 256).await > 0 {
        let models: Vec<rows::ActiveModel> = batch.drain(..).map(row).collect();
        // Retry until the database takes them: an audit log with holes is
        // worse than a slow one.
        let mut wait = Duration::from_millis(50);
        while let Err(e) = Entity::insert_many(models.clone())
            .exec_without_returning(db.write())
            .await
        {
            tracing::warn!(error = %e, "audit write failed; retrying");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }
}

fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The length-delimited top-level fields of a protobuf message, in order;
/// `None` if the bytes are not a well-formed message.
fn delimited(buf: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let key = varint(buf, &mut at)?;
        match key & 7 {
            0 => {
                varint(buf, &mut at)?;
            }
            1 => at = at.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(buf, &mut at)?).ok()?;
                let end = at.checked_add(len)?;
                out.push(buf.get(at..end)?);
                at = end;
            }
            5 => at = at.checked_add(4)?,
            _ => return None,
        }
    }
    (at == buf.len()).then_some(out)
}

/// Whether `s` reads as a resource name: `collection/id[/collection/id…]`.
fn resource_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() >= 2
        && parts.len().is_multiple_of(2)
        && parts.chunks(2).all(|p| {
            p[0].chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && p[0].chars().all(|c| c.is_ascii_alphanumeric())
                && !p[1].is_empty()
                && p[1].len() <= 64
                && p[1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

/// The target and request id of one gRPC request message.
pub fn scan(message: &[u8]) -> (String, String) {
    let Some(fields) = delimited(message) else {
        return (String::new(), String::new());
    };
    let strings: Vec<&str> = fields
        .iter()
        .filter_map(|f| std::str::from_utf8(f).ok())
        .collect();
    let request_id = strings
        .iter()
        .find(|s| s.len() == 36 && Uuid::try_parse(s).is_ok())
        .map(|s| (*s).to_owned())
        .unwrap_or_default();
    let target = strings
        .iter()
        .find(|s| resource_name(s))
        .map(|s| (*s).to_owned())
        .or_else(|| {
            fields
                .iter()
                .filter_map(|f| delimited(f))
                .flatten()
                .filter_map(|f| std::str::from_utf8(f).ok())
                .find(|s| resource_name(s))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (target, request_id)
}

/// The message of a gRPC request body: its first frame, unless compressed.
pub fn first_message(body: &[u8]) -> Option<&[u8]> {
    let (&flag, rest) = body.split_first()?;
    if flag != 0 || rest.len() < 4 {
        return None;
    }
    let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
    rest.get(4..4 + len)
}

fn to_proto(m: &Model) -> AuditRecord {
    AuditRecord {
        name: names::format("auditRecords", m.id),
        principal: (!m.principal.is_empty())
            .then(|| cogov_proto::common::Principal::decode(m.principal.as_slice()).ok())
            .flatten(),
        method: m.method.clone(),
        target: m.target.clone(),
        code: m.code,
        request_id: m.request_id.clone(),
        peer: m.peer.clone(),
        time: Some(convert::timestamp(m.time)),
        duration: Some(prost_types::Duration {
            seconds: m.duration_micros / 1_000_000,
            nanos: ((m.duration_micros % 1_000_000) * 1000) as i32,
        }),
    }
}

/// ListAuditRecords: newest first.
pub async fn list(
    gw: &Gateway,
    _caller: &Principal,
    req: ListAuditRecordsRequest,
) -> Result<ListAuditRecordsResponse> {
    let fields = [
        Field::column("method", Column::Method, Kind::Text),
        Field::column("target", Column::Target, Kind::Text),
        Field::column("code", Column::Code, Kind::Int),
        Field::column("partner", Column::PartnerId, Kind::Name("partners")),
        Field::column("subject", Column::Subject, Kind::Text),
        Field::column("time", Column::Time, Kind::Timestamp),
    ];
    let query = ListQuery::new(
        "ListAuditRecords",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let (rows, next_page_token) = listing::list(
        &gw.ctx.tokens,
        &gw.ctx.db,
        query,
        spec,
        Entity::find(),
        |m| (SortKey::None, m.id),
    )
    .await?;
    Ok(ListAuditRecordsResponse {
        audit_records: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

#[cfg(test)]
mod tests {
    use cogov_proto::issues::{Issue, ReportIssueRequest, ResolveIssueRequest};

    use super::*;

    #[test]
    fn finds_the_target_and_request_id() {
        let id = Uuid::now_v7();
        let resolve = ResolveIssueRequest {
            name: format!("issues/{id}"),
            note: "Fixed it / all good".into(),
            ..Default::default()
        };
        assert_eq!(scan(&resolve.encode_to_vec()).0, format!("issues/{id}"));
        let request_id = Uuid::new_v4().to_string();
        let report = ReportIssueRequest {
            issue: Some(Issue {
                title: "x".into(),
                courtyard: format!("courtyards/{id}"),
                ..Default::default()
            }),
            request_id: request_id.clone(),
        };
        let (target, rid) = scan(&report.encode_to_vec());
        assert_eq!(target, format!("courtyards/{id}"), "one level down");
        assert_eq!(rid, request_id);
        assert_eq!(scan(b"\xff\xff"), (String::new(), String::new()));
        assert!(resource_name("councils/x/seats/y"));
        assert!(!resource_name("a/b/c"));
        assert!(!resource_name("Fixed it / all good"));
        let mut framed = vec![0, 0, 0, 0, 3];
        framed.extend_from_slice(b"abc");
        assert_eq!(first_message(&framed), Some(&b"abc"[..]));
        assert_eq!(first_message(&[1, 0, 0, 0, 0]), None);
    }
}
