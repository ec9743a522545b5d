//! `cogov audit`: the audit log, newest first (street admins).

use cogov_proto::common::principal::Kind;
use cogov_proto::gateway::gateway_service_client::GatewayServiceClient;
use cogov_proto::gateway::*;
use cogov_sheets::export::beijing;

use super::{Session, failed, retried, table};

/// `cogov audit`'s arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// AIP-160 filter on `method`, `target`, `principal`, e.g.
    /// `method = "/cogov.issues.v1.IssuesService/DispatchIssue"`.
    #[arg(long, default_value = "")]
    filter: String,
    /// At most this many (a page).
    #[arg(long, default_value_t = 50)]
    page_size: i32,
    /// Every page, not only the first.
    #[arg(long)]
    all: bool,
}

/// Who acted, in words.
pub fn who(p: Option<&cogov_proto::common::Principal>) -> String {
    match p.and_then(|p| p.kind.as_ref()) {
        Some(Kind::Staff(s)) if !s.display_name.is_empty() => s.display_name.clone(),
        Some(Kind::Staff(s)) => s.subject.clone(),
        Some(Kind::Partner(p)) => format!("{} ({})", p.organization, p.key),
        Some(Kind::Resident(r)) => r.person.clone(),
        Some(Kind::Service(s)) => s.service.clone(),
        None => String::new(),
    }
}

/// Runs `cogov audit`.
pub async fn run(s: &Session, args: Args) -> Result<(), String> {
    let (channel, bearer) = s.signed();
    let c = GatewayServiceClient::with_interceptor(channel, bearer);
    let mut out = ListAuditRecordsResponse::default();
    let mut page_token = String::new();
    loop {
        let request = ListAuditRecordsRequest {
            page_size: args.page_size,
            page_token,
            filter: args.filter.clone(),
        };
        let page = retried(|| {
            let mut c = c.clone();
            let request = request.clone();
            async move {
                c.list_audit_records(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .await
        .map_err(failed("reading the audit log"))?;
        out.audit_records.extend(page.audit_records);
        out.next_page_token = page.next_page_token;
        if !args.all || out.next_page_token.is_empty() {
            break;
        }
        page_token = std::mem::take(&mut out.next_page_token);
    }
    s.print("cogov.gateway.v1.ListAuditRecordsResponse", &out, || {
        let mut t = table(&["TIME", "WHO", "METHOD", "TARGET", "CODE"]);
        for r in &out.audit_records {
            t.add_row(vec![
                beijing(r.time),
                who(r.principal.as_ref()),
                r.method.rsplit('/').next().unwrap_or(&r.method).to_owned(),
                r.target.clone(),
                format!("{:?}", tonic::Code::from(r.code)),
            ]);
        }
        t
    })
}
