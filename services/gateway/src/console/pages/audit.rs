//! The audit log: every mutating call, newest first, filterable by method
//! and target, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cogov_proto::gateway::ListAuditRecordsRequest;
use serde::Deserialize;

use crate::console::view::{Failure, Frame, render, time};
use crate::console::{Shared, Staff};

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    f: Frame,
    records: Vec<AuditRow>,
    method: String,
    target: String,
    next_page: String,
}

struct AuditRow {
    time: String,
    who: String,
    method: String,
    target: String,
    code: i32,
    peer: String,
}

/// The log's filters.
#[derive(Deserialize, Default)]
pub struct AuditFilter {
    #[serde(default)]
    method: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    page: String,
}

/// A filter value as an AIP-160 string literal.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// GET /console/audit.
pub async fn page(
    State(_c): State<Shared>,
    staff: Staff,
    Query(q): Query<AuditFilter>,
) -> Result<Response, Failure> {
    let f = Frame::new(&staff, "audit");
    let mut terms = Vec::new();
    if !q.method.trim().is_empty() {
        terms.push(format!("method = {}", quoted(q.method.trim())));
    }
    if !q.target.trim().is_empty() {
        terms.push(format!("target = {}", quoted(q.target.trim())));
    }
    let page = staff
        .calls
        .gateway()
        .list_audit_records(ListAuditRecordsRequest {
            page_size: 50,
            page_token: q.page.clone(),
            filter: terms.join(" AND "),
        })
        .await
        .map_err(|s| Failure::from(s).back_to("/console/audit"))?
        .into_inner();
    let next_page = if page.next_page_token.is_empty() {
        String::new()
    } else {
        page.next_page_token
    };
    let view = AuditPage {
        records: page
            .audit_records
            .iter()
            .map(|r| AuditRow {
                time: time(r.time.as_ref()),
                who: r.principal.as_ref().map(describe).unwrap_or_default(),
                method: r.method.rsplit('/').next().unwrap_or_default().to_owned(),
                target: r.target.clone(),
                code: r.code,
                peer: r.peer.clone(),
            })
            .collect(),
        method: q.method,
        target: q.target,
        next_page,
        f,
    };
    Ok(render(&view))
}

fn describe(p: &cogov_proto::common::Principal) -> String {
    cogov_kit::auth::Principal::from_proto(p)
        .map(|p| p.describe())
        .unwrap_or_default()
}
